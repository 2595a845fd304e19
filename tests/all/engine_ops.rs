//! hitogata's own operations (`hitogata::model::ops`) against burn's: the convolutions' values
//! and gradients in the input and the weight, at the DCGAN's layer shapes, odd batch sizes and
//! two widths, on the CPU (batch-folded GEMMs) and on wgpu; leaky ReLU's on the CPU, zeros
//! included, and tanh's.

use burn::tensor::module::{conv_transpose2d, conv2d};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{Device, Tensor};
use hitogata::model::ops;

use crate::common;

/// (transposed, channels in, channels out, input side, stride, padding): every DCGAN layer.
fn layers(width: usize) -> Vec<(bool, usize, usize, usize, usize, usize)> {
    let w = width;
    vec![
        (true, 40, 8 * w, 1, 1, 0),
        (true, 8 * w, 4 * w, 4, 2, 1),
        (true, 2 * w, w, 16, 2, 1),
        (true, w, 3, 32, 2, 1),
        (false, 3, w, 64, 2, 1),
        (false, w, 2 * w, 32, 2, 1),
        (false, 8 * w, 1, 4, 1, 0),
    ]
}

/// A tensor of values uniform in [-scale, scale) from `seed`, independent of the device's
/// random stream (which tests running beside this one draw from too).
fn uniform(shape: [usize; 4], scale: f32, seed: u64, device: &Device) -> Tensor<4> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let values: Vec<f32> = (0..shape.iter().product::<usize>())
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            scale * ((state >> 40) as f32 / (1u64 << 23) as f32 - 1.0)
        })
        .collect();
    Tensor::from_data(burn::tensor::TensorData::new(values, shape), device)
}

/// The largest difference between `a` and `b`, relative to `b`'s largest magnitude.
fn relative_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-12);
    let worst = a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
    worst / scale
}

/// Output, input gradient and weight gradient of one layer, by hitogata's op or burn's.
fn run(
    device: &Device,
    (transposed, cin, cout, side, s, p): (bool, usize, usize, usize, usize, usize),
    batch: usize,
    ours: bool,
) -> [Vec<f32>; 3] {
    let tracked = device.clone().autodiff();
    let x = uniform([batch, cin, side, side], 1.0, 1, device);
    let weight_shape = if transposed {
        [cin, cout, 4, 4]
    } else {
        [cout, cin, 4, 4]
    };
    let w = uniform(weight_shape, 0.1, 2, device);
    let x = Tensor::<4>::from_data(x.into_data(), &tracked).require_grad();
    let w = Tensor::<4>::from_data(w.into_data(), &tracked).require_grad();
    let y = match (transposed, ours) {
        (true, true) => ops::conv_transpose2d(x.clone(), w.clone(), s, p),
        (false, true) => ops::conv2d(x.clone(), w.clone(), s, p),
        (true, false) => {
            let options = ConvTransposeOptions::new([s, s], [p, p], [0, 0], [1, 1], 1);
            conv_transpose2d(x.clone(), w.clone(), None, options)
        }
        (false, false) => conv2d(
            x.clone(),
            w.clone(),
            None,
            ConvOptions::new([s, s], [p, p], [1, 1], 1),
        ),
    };
    // A weighted sum, so that every output position's gradient differs.
    let dims = y.dims();
    let weights = uniform(dims, 1.0, 3, &tracked);
    let grads = (y.clone() * weights).sum().backward();
    let dx = x.grad(&grads).expect("x has a gradient");
    let dw = w.grad(&grads).expect("the weight has a gradient");
    [
        common::values(y.inner()),
        common::values(dx),
        common::values(dw),
    ]
}

fn same_as_burns(device: &Device, what: &str, widths: &[usize], batches: &[usize]) {
    for &width in widths {
        for layer in layers(width) {
            for &batch in batches {
                let ours = run(device, layer, batch, true);
                let burns = run(device, layer, batch, false);
                for (name, (a, b)) in ["output", "input gradient", "weight gradient"]
                    .iter()
                    .zip(ours.iter().zip(&burns))
                {
                    let diff = relative_difference(a, b);
                    assert!(
                        diff <= 1e-4,
                        "{what}, {layer:?}, width {width}, batch {batch}: {name} differs by {diff:e}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_cpu_convolutions_match_burns_values_and_gradients() {
    same_as_burns(&common::cpu().device, "cpu", &[4, 8], &[1, 3]);
    // At the real width the large layers go through the batch in chunks of 16 images: 17
    // leaves a chunk of one.
    same_as_burns(&common::cpu().device, "cpu, chunked", &[64], &[17]);
}

#[test]
fn the_wgpu_convolutions_match_burns_values_and_gradients() {
    if let Some(device) = common::wgpu() {
        // Mesa's software adapter is slow: one width, one odd batch.
        same_as_burns(&device.device, "wgpu", &[4], &[3]);
    }
}

#[test]
fn the_cpu_leaky_relu_matches_burns_value_and_gradient() {
    let device = common::cpu().device;
    let tracked = device.clone().autodiff();
    // Odd sizes, and exact zeros where the two sides of the kink meet.
    let x = uniform([3, 5, 7, 9], 1.0, 4, &device);
    let x = x.clone().mask_fill(x.abs().lower_elem(0.1), 0.0);
    let upstream = uniform([3, 5, 7, 9], 1.0, 5, &device);
    let run = |ours: bool| {
        let x = Tensor::<4>::from_data(x.clone().into_data(), &tracked).require_grad();
        let up = Tensor::<4>::from_data(upstream.clone().into_data(), &tracked);
        let y = match ours {
            true => ops::leaky_relu(x.clone(), 0.2),
            false => burn::tensor::activation::leaky_relu(x.clone(), 0.2),
        };
        let grads = (y.clone() * up).sum().backward();
        (
            common::values(y.inner()),
            common::values(x.grad(&grads).unwrap()),
        )
    };
    let (ours, burns) = (run(true), run(false));
    assert_eq!(ours.0, burns.0, "values");
    assert_eq!(ours.1, burns.1, "gradients");
    assert!(ours.0.contains(&0.0), "the test holds zeros");
}

#[test]
fn the_cpu_tanh_matches_burns_value_and_gradient() {
    let device = common::cpu().device;
    let tracked = device.clone().autodiff();
    // Odd sizes, values through tanh's curve and its flat tails.
    let x = uniform([3, 5, 7, 9], 6.0, 6, &device);
    let upstream = uniform([3, 5, 7, 9], 1.0, 7, &device);
    let run = |ours: bool| {
        let x = Tensor::<4>::from_data(x.clone().into_data(), &tracked).require_grad();
        let up = Tensor::<4>::from_data(upstream.clone().into_data(), &tracked);
        let y = match ours {
            true => ops::tanh(x.clone()),
            false => burn::tensor::activation::tanh(x.clone()),
        };
        let grads = (y.clone() * up).sum().backward();
        (
            common::values(y.inner()),
            common::values(x.grad(&grads).unwrap()),
        )
    };
    let (ours, burns) = (run(true), run(false));
    for (what, a, b) in [
        ("values", &ours.0, &burns.0),
        ("gradients", &ours.1, &burns.1),
    ] {
        let worst = a
            .iter()
            .zip(b)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst < 1e-6, "{what} differ by {worst}");
        assert_ne!(a, b, "{what}: ours is not burn's own tanh");
    }
}

#[test]
fn the_cpu_batch_norm_matches_burns_values_gradients_and_running_statistics() {
    use burn::module::Param;
    use burn::nn::BatchNormConfig;
    let device = common::cpu().device;
    let tracked = device.clone().autodiff();
    for (batch, channels, side) in [(3, 8, 4), (5, 16, 8), (1, 4, 32)] {
        let shape = [batch, channels, side, side];
        // Not centred, not unit: the statistics matter.
        let x = uniform(shape, 2.0, 7, &device).add_scalar(0.5);
        let upstream = uniform(shape, 1.0, 8, &device);
        let vector = |seed, offset: f32| {
            uniform([1, 1, 1, channels], 0.5, seed, &device)
                .reshape([channels])
                .add_scalar(offset)
        };
        let (gamma, beta) = (vector(9, 1.0), vector(10, 0.0));
        let run = |ours: bool| {
            let mut bn = BatchNormConfig::new(channels).init(&tracked);
            bn.gamma = Param::from_tensor(Tensor::from_data(gamma.clone().into_data(), &tracked));
            bn.beta = Param::from_tensor(Tensor::from_data(beta.clone().into_data(), &tracked));
            let x = Tensor::<4>::from_data(x.clone().into_data(), &tracked).require_grad();
            let up = Tensor::<4>::from_data(upstream.clone().into_data(), &tracked);
            let y = match ours {
                true => ops::batch_norm(&bn, x.clone()),
                false => bn.forward(x.clone()),
            };
            let grads = (y.clone() * up).sum().backward();
            let flat = |t: Tensor<1>| t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
            [
                common::values(y.inner()),
                common::values(x.grad(&grads).unwrap()),
                flat(bn.gamma.grad(&grads).unwrap()),
                flat(bn.beta.grad(&grads).unwrap()),
                flat(bn.running_mean.value()),
                flat(bn.running_var.value()),
            ]
        };
        let (ours, burns) = (run(true), run(false));
        let names = ["output", "x gradient", "gamma gradient", "beta gradient"];
        for (name, (a, b)) in names.iter().zip(ours.iter().zip(&burns)) {
            let diff = relative_difference(a, b);
            assert!(diff < 1e-4, "{shape:?}: {name} differs by {diff:e}");
        }
        for (name, (a, b)) in ["running mean", "running variance"]
            .iter()
            .zip(ours[4..].iter().zip(&burns[4..]))
        {
            let worst = a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
            assert!(worst < 1e-6, "{shape:?}: {name} differs by {worst:e}");
        }
    }
}

//! hitogata's own convolutions (`hitogata::model::conv`) against burn's: the same values and
//! the same gradients in the input and the weight, at the DCGAN's layer shapes, odd batch
//! sizes and two widths, on the CPU (batch-folded GEMMs) and on wgpu.

use burn::tensor::module::{conv_transpose2d, conv2d};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{Device, Distribution, Tensor};
use hitogata::model::conv;

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
    device.seed(7);
    let x = Tensor::<4>::random(
        [batch, cin, side, side],
        Distribution::Normal(0.0, 1.0),
        device,
    );
    let weight_shape = if transposed {
        [cin, cout, 4, 4]
    } else {
        [cout, cin, 4, 4]
    };
    let w = Tensor::<4>::random(weight_shape, Distribution::Normal(0.0, 0.1), device);
    let x = Tensor::<4>::from_data(x.into_data(), &tracked).require_grad();
    let w = Tensor::<4>::from_data(w.into_data(), &tracked).require_grad();
    let y = match (transposed, ours) {
        (true, true) => conv::conv_transpose2d(x.clone(), w.clone(), s, p),
        (false, true) => conv::conv2d(x.clone(), w.clone(), s, p),
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
    let weights = Tensor::<4>::from_data(
        Tensor::<4>::random(dims, Distribution::Normal(0.0, 1.0), device).into_data(),
        &tracked,
    );
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
}

#[test]
fn the_wgpu_convolutions_match_burns_values_and_gradients() {
    if let Some(device) = common::wgpu() {
        // Mesa's software adapter is slow: one width, one odd batch.
        same_as_burns(&device.device, "wgpu", &[4], &[3]);
    }
}

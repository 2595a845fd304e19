//! `hitogata bench --profile`: where a WGAN iteration's time goes. Each convolution of the
//! generator and the critic at the training shapes, forward and with both its gradients, as the
//! model runs it (`hitogata::model::ops`) and through burn's own ops, timed in burn's profiling
//! windows (device time on a GPU; wall-clock between syncs on the CPU), then a whole iteration
//! the same way, so the convolutions' share of it shows.
//! benches/pytorch/bench.py --profile prints the same table for PyTorch.

use std::time::Instant;

use burn::tensor::module::{conv_transpose2d, conv2d};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{Device, Distribution, ProfileOptions, Tensor};
use hitogata::device::ComputeDevice;
use hitogata::model::ModelConfig;

/// One convolution of the DCGAN pair, 4×4 kernels throughout.
struct Layer {
    name: &'static str,
    /// A transposed convolution (the generator's) or a plain one (the critic's).
    transposed: bool,
    channels_in: usize,
    channels_out: usize,
    /// Height and width of its input.
    size_in: usize,
    stride: usize,
    padding: usize,
}

impl Layer {
    fn size_out(&self) -> usize {
        if self.transposed {
            (self.size_in - 1) * self.stride + 4 - 2 * self.padding
        } else {
            (self.size_in + 2 * self.padding - 4) / self.stride + 1
        }
    }

    /// Multiply-adds ×2 of the forward pass for `batch` images; each gradient costs the same.
    fn forward_flops(&self, batch: usize) -> f64 {
        // A transposed convolution scatters every input pixel; a convolution gathers for every
        // output pixel.
        let pixels = if self.transposed {
            self.size_in
        } else {
            self.size_out()
        };
        2.0 * (batch * pixels * pixels * self.channels_in * self.channels_out * 16) as f64
    }
}

/// The generator's and the critic's convolutions for `config`, in the order they run.
fn layers(config: &ModelConfig) -> Vec<Layer> {
    let (g, d) = (config.ngf, config.ndf);
    let layer = |name, transposed, channels_in, channels_out, size_in, stride, padding| Layer {
        name,
        transposed,
        channels_in,
        channels_out,
        size_in,
        stride,
        padding,
    };
    vec![
        layer("G1", true, config.latent_dim, 8 * g, 1, 1, 0),
        layer("G2", true, 8 * g, 4 * g, 4, 2, 1),
        layer("G3", true, 4 * g, 2 * g, 8, 2, 1),
        layer("G4", true, 2 * g, g, 16, 2, 1),
        layer("G5", true, g, 3, 32, 2, 1),
        layer("D1", false, 3, d, 64, 2, 1),
        layer("D2", false, d, 2 * d, 32, 2, 1),
        layer("D3", false, 2 * d, 4 * d, 16, 2, 1),
        layer("D4", false, 4 * d, 8 * d, 8, 2, 1),
        layer("D5", false, 8 * d, 1, 4, 1, 0),
    ]
}

/// The layer's output for `input` and `weight`: as the model computes it, or through burn's op.
fn apply(layer: &Layer, input: Tensor<4>, weight: Tensor<4>, burns: bool) -> Tensor<4> {
    let (s, p) = (layer.stride, layer.padding);
    if !burns {
        return match layer.transposed {
            true => hitogata::model::ops::conv_transpose2d(input, weight, s, p),
            false => hitogata::model::ops::conv2d(input, weight, s, p),
        };
    }
    if layer.transposed {
        let options = ConvTransposeOptions::new([s, s], [p, p], [0, 0], [1, 1], 1);
        conv_transpose2d(input, weight, None, options)
    } else {
        conv2d(
            input,
            weight,
            None,
            ConvOptions::new([s, s], [p, p], [1, 1], 1),
        )
    }
}

/// Milliseconds of device time `work` takes (median of `runs`, after one warm-up). The window
/// flushes, so work a backend holds back to batch falls inside it.
fn device_ms<O: Send + 'static>(
    device: &Device,
    runs: usize,
    mut work: impl FnMut() -> O + Send,
) -> anyhow::Result<f64> {
    let mut samples = Vec::new();
    for run in 0..=runs.max(1) {
        let (_, duration) = device.profile_with(ProfileOptions::default().flush(), &mut work)?;
        let ticks = pollster::block_on(duration.resolve())
            .ok_or_else(|| anyhow::anyhow!("the profiling window recorded no work"))?;
        if run > 0 {
            samples.push(ticks.duration().as_secs_f64() * 1e3);
        }
    }
    samples.sort_by(f64::total_cmp);
    Ok(samples[samples.len() / 2])
}

/// Prints the per-layer table for one device and width, and returns the time the convolutions
/// take in one WGAN iteration, in milliseconds, as [`ConvTimes::per_iteration`] counts them.
pub fn layer_table(
    device: &ComputeDevice,
    config: &ModelConfig,
    batch: usize,
    runs: usize,
) -> anyhow::Result<ConvTimes> {
    let plain = device.device.clone();
    let tracked = plain.clone().autodiff();
    let mut times = ConvTimes::default();
    for layer in layers(config) {
        let shape_in = [batch, layer.channels_in, layer.size_in, layer.size_in];
        let shape_weight = if layer.transposed {
            [layer.channels_in, layer.channels_out, 4, 4]
        } else {
            [layer.channels_out, layer.channels_in, 4, 4]
        };
        let normal = Distribution::Normal(0.0, 0.02);
        let input = Tensor::<4>::random(shape_in, normal, &plain);
        let weight = Tensor::<4>::random(shape_weight, normal, &plain);
        let input_t = Tensor::<4>::random(shape_in, normal, &tracked).require_grad();
        let weight_t = Tensor::<4>::random(shape_weight, normal, &tracked).require_grad();
        // [hitogata's, burn's] forward, and with both gradients.
        let mut forward = [0.0; 2];
        let mut backward = [0.0; 2];
        for (k, burns) in [false, true].into_iter().enumerate() {
            forward[k] = device_ms(&plain, runs, || {
                apply(&layer, input.clone(), weight.clone(), burns)
            })?;
            let with_gradients = device_ms(&tracked, runs, || {
                let grads = apply(&layer, input_t.clone(), weight_t.clone(), burns)
                    .sum()
                    .backward();
                (input_t.grad(&grads), weight_t.grad(&grads))
            })?;
            backward[k] = (with_gradients - forward[k]).max(1e-6);
        }
        let flops = layer.forward_flops(batch);
        println!(
            "| {} | {}×{}² → {}×{}² | {:.3} | {:.3} | {:.0} | {:.3} | {:.3} | {:.0} |",
            layer.name,
            layer.channels_in,
            layer.size_in,
            layer.channels_out,
            layer.size_out(),
            forward[0],
            forward[1],
            flops / forward[0] / 1e6,
            backward[0],
            backward[1],
            2.0 * flops / backward[0] / 1e6,
        );
        let (forward, backward) = (forward[0], backward[0]);
        if layer.transposed {
            times.generator_forward += forward;
            times.generator_backward += backward;
        } else {
            times.critic_forward += forward;
            times.critic_backward += backward;
        }
    }
    Ok(times)
}

/// The convolutions' device time, summed over a network's layers, in milliseconds.
#[derive(Default)]
pub struct ConvTimes {
    generator_forward: f64,
    generator_backward: f64,
    critic_forward: f64,
    critic_backward: f64,
}

impl ConvTimes {
    /// Milliseconds of convolution in one WGAN iteration of `n_critic` critic steps: each draws
    /// a fake batch and runs the critic forward and back on it and on a real one; the generator
    /// step runs both networks forward and back (the critic's weight gradient is not needed
    /// there, so this slightly overcounts).
    pub fn per_iteration(&self, n_critic: usize) -> f64 {
        let critic_pass = self.critic_forward + self.critic_backward;
        n_critic as f64 * (self.generator_forward + 2.0 * critic_pass)
            + (self.generator_forward + self.generator_backward + critic_pass)
    }
}

/// Device and wall-clock milliseconds of one training iteration (medians of `runs`).
pub fn iteration_ms(
    device: &ComputeDevice,
    session: &mut hitogata::train::TrainingSession,
    runs: usize,
) -> anyhow::Result<(f64, f64)> {
    let mut walls = Vec::new();
    let device_time = device_ms(&device.device, runs, || {
        let t = Instant::now();
        let result = session.step().map(|_| ());
        walls.push(t.elapsed().as_secs_f64() * 1e3);
        result
    })?;
    walls.sort_by(f64::total_cmp);
    Ok((device_time, walls[walls.len() / 2]))
}

/// The table's header, printed once per device and width.
pub fn print_header(device: &ComputeDevice, ngf: usize, batch: usize) {
    println!();
    println!("{}, ngf {ngf}, batch {batch}:", device.description);
    println!();
    println!(
        "| layer | input → output | forward (ms) | burn's (ms) | forward GFLOP/s | both gradients (ms) | burn's (ms) | gradients GFLOP/s |"
    );
    println!("|---|---|---|---|---|---|---|---|");
}

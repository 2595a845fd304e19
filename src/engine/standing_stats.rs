//! "Standing statistics" (Brock et al. 2019, BigGAN, appendix C.1): recompute a generator's
//! BatchNorm running statistics from its own activations. The weight average (EMA) blends the
//! raw generator's running statistics along with its weights, but those describe the raw
//! weights' activations, not the average's; the average's own means and variances, measured
//! over many latent vectors, are what inference should normalise with.

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};

use crate::engine::latent::sample_batch;
use crate::engine::model::Generator;

/// BatchNorm's default momentum, restored afterwards so training could go on as before.
const DEFAULT_MOMENTUM: f64 = 0.1;

/// Returns `generator` (inference mode, on `device`) with running statistics that are the
/// exact mean over `batches` training-mode passes of `batch_size` latent vectors drawn from
/// `seed`: pass `k` gets momentum `1/(k+1)`, a cumulative average. The weights are unchanged.
pub fn recompute_batch_norm_statistics(
    generator: &Generator,
    batches: usize,
    batch_size: usize,
    seed: u64,
    device: &Device,
) -> Generator {
    let autodiff = device.clone().autodiff();
    // A deep copy: clones share running statistics, and the caller's must stay as they are.
    let mut g = generator.clone().fork(&autodiff).train();
    let latent_dim = g.latent_dim();
    for k in 0..batches {
        g.set_batch_norm_momentum(1.0 / (k as f64 + 1.0));
        let z: Vec<f32> = sample_batch(seed.wrapping_add(k as u64), batch_size, latent_dim)
            .into_iter()
            .flat_map(|l| l.0)
            .collect();
        let z = Tensor::<2>::from_data(TensorData::new(z, [batch_size, latent_dim]), &autodiff);
        // Untracked: only the statistics are wanted, no graph.
        let _ = g.clone().no_grad().forward(z).into_data();
    }
    g.set_batch_norm_momentum(DEFAULT_MOMENTUM);
    g.valid().to_device(device)
}

//! The critic in the editor: D(G(z)) for pictures, its gradient in z, "nudge towards real"
//! (gradient ascent of D(G(z)) in z), and fitting a critic to a frozen generator so that a
//! generator-only export can ship one.

use std::sync::Arc;

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use crate::engine::draw::inference::latents_tensor;
use crate::engine::files::checkpoint::{self, CheckpointError};
use crate::engine::files::data::{Dataset, PictureShape};
use crate::engine::model::host_values;
use crate::engine::model::latent::{Latent, sample_batch};
use crate::engine::model::{Critic, Generator, ModelConfig};
use crate::engine::train::config::{Algorithm, TrainConfig};
use crate::engine::train::session::{TrainError, TrainingSession};

/// The file a checkpoint's critic lives in.
pub const CRITIC_FILE: &str = checkpoint::CRITIC_FILE;

/// Loads the critic beside a generator (a run directory, full checkpoint, or an export that
/// ships one); `Ok(None)` when there is none.
pub fn critic_beside(
    path: &std::path::Path,
    device: &Device,
) -> Result<Option<Critic>, CheckpointError> {
    let dir = checkpoint::resolve_checkpoint_dir(path)?;
    if !dir.join(CRITIC_FILE).exists() {
        return Ok(None);
    }
    let config: ModelConfig = checkpoint::read_model_config(&dir)?;
    checkpoint::load_critic(&dir, &config, device).map(|c| Some(c.valid()))
}

/// D(G(z)) for each latent vector: the critic's raw score (DCGAN: a logit; higher looks more
/// real to it).
pub fn scores(
    generator: &Generator,
    critic: &Critic,
    latents: &[Latent],
    device: &Device,
) -> Vec<f32> {
    if latents.is_empty() {
        return Vec::new();
    }
    host_values(critic.forward(generator.forward(latents_tensor(latents, device))))
}

/// The critic's scores for generator output `[n, channels, side, side]` (see
/// [`Drawer::draw_with_output`](crate::engine::draw::inference::Drawer::draw_with_output)).
pub fn score_output(critic: &Critic, output: Tensor<4>) -> Vec<f32> {
    host_values(critic.forward(output))
}

/// D(G(z)) and its gradient in z (both networks in inference mode).
pub fn gradient(
    generator: &Generator,
    critic: &Critic,
    z: &Latent,
    device: &Device,
) -> (f32, Vec<f32>) {
    let ad = device.clone().autodiff();
    // `valid()` keeps BatchNorm on its running statistics and the weights untracked; only z is.
    let (g, d) = (generator.valid().fork(&ad), critic.valid().fork(&ad));
    let input = latents_tensor(std::slice::from_ref(z), &ad).require_grad();
    let score = d.forward(g.forward(input.clone())).sum();
    let grads = score.backward();
    let grad = input
        .grad(&grads)
        .map(host_values)
        .unwrap_or_else(|| vec![0.0; z.dim()]);
    (score.into_scalar::<f32>(), grad)
}

/// "Nudge towards real": `steps` steps of normalised gradient ascent of D(G(z)) in z, each
/// moving z by `size`. Returns the new z and the score before and after each step.
pub fn nudge(
    generator: &Generator,
    critic: &Critic,
    z: &Latent,
    steps: usize,
    size: f32,
    device: &Device,
) -> (Latent, Vec<f32>) {
    let mut z = z.clone();
    let mut trace = Vec::with_capacity(steps + 1);
    for _ in 0..steps {
        let (score, grad) = gradient(generator, critic, &z, device);
        trace.push(score);
        let norm = grad.iter().map(|g| g * g).sum::<f32>().sqrt();
        if !(norm.is_finite() && norm > 0.0) {
            break;
        }
        z = Latent(
            z.0.iter()
                .zip(&grad)
                .map(|(x, g)| x + size * g / norm)
                .collect(),
        );
    }
    trace.push(scores(generator, critic, std::slice::from_ref(&z), device)[0]);
    (z, trace)
}

/// How well a critic tells real from generated on pictures it was not trained on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Separation {
    /// Share of held-out real pictures scored above 0 and fresh generated ones below.
    pub accuracy: f32,
    /// Mean score of the real ones minus that of the generated ones.
    pub gap: f32,
}

/// Measures `critic` on `real` pictures and as many fresh generated ones (seeded).
pub fn separation(
    generator: &Generator,
    critic: &Critic,
    real: &Dataset,
    seed: u64,
    device: &Device,
) -> Separation {
    // Pictures read for another model meet this one at its size and channels.
    let real = &real.to_shape(PictureShape {
        side: generator.image_size(),
        channels: generator.channels(),
    });
    let n = real.len;
    let indices: Vec<usize> = (0..n).collect();
    let mut real_scores = Vec::new();
    for chunk in indices.chunks(64) {
        let batch = real.batch(chunk, &vec![false; chunk.len()], device);
        real_scores.extend(host_values(critic.forward(batch)));
    }
    let fakes = sample_batch(seed, n, generator.latent_dim());
    let mut fake_scores = Vec::new();
    for chunk in fakes.chunks(64) {
        fake_scores.extend(scores(generator, critic, chunk, device));
    }
    let right = real_scores.iter().filter(|s| **s > 0.0).count()
        + fake_scores.iter().filter(|s| **s < 0.0).count();
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len().max(1) as f32;
    Separation {
        accuracy: right as f32 / (2 * n).max(1) as f32,
        gap: mean(&real_scores) - mean(&fake_scores),
    }
}

/// Trains a new DCGAN critic (the shape `model.ron` in `generator_dir` names) against the
/// frozen generator there, with `updates` critic-only updates on `data`, full-resolution
/// pictures, seeded. `progress` hears each update's loss.
pub fn fit_critic(
    generator_dir: &std::path::Path,
    data: Arc<Dataset>,
    updates: u64,
    seed: u64,
    device: &Device,
    mut progress: impl FnMut(u64, f32),
) -> Result<Critic, TrainError> {
    let dir = checkpoint::resolve_checkpoint_dir(generator_dir)?;
    let model: ModelConfig = checkpoint::read_model_config(&dir)?;
    let mut config = TrainConfig::for_algorithm(Algorithm::Dcgan);
    config.model.ndf = model.ndf;
    config.model.critic_batch_norm = model.critic_batch_norm;
    config.seed = seed;
    let mut session = TrainingSession::from_generator(config, generator_dir, data, device)?;
    for done in 1..=updates {
        let (loss, _) = session.warm_up_critic()?;
        progress(done, loss);
    }
    Ok(session.critic())
}

/// Pictures `from..to` of a dataset as a dataset of their own (for a held-out split).
pub fn subset(data: &Dataset, range: std::ops::Range<usize>) -> Dataset {
    let per = data.shape.bytes();
    Dataset {
        pixels: data.pixels[range.start * per..range.end * per].to_vec(),
        len: range.len(),
        sources: data
            .sources
            .get(range)
            .map(<[_]>::to_vec)
            .unwrap_or_default(),
        skipped: Vec::new(),
        shape: data.shape,
    }
}

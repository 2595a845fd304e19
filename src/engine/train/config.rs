//! Training hyperparameters, with the papers' defaults. Serialized as RON in checkpoints.

use serde::{Deserialize, Serialize};

use crate::engine::model::ModelConfig;
use crate::engine::train::augment::{AdaptiveAugment, Augment, CriticView};
use crate::engine::train::optim::OptimizerConfig;

/// GAN objective.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Algorithm {
    /// Wasserstein GAN with weight clipping (Arjovsky et al. 2017): RMSProp 5e-5, clip 0.01,
    /// 5 critic steps per generator step, no BatchNorm in the critic.
    #[default]
    Wgan,
    /// DCGAN (Radford et al. 2015): non-saturating BCE loss, Adam 2e-4 β1 0.5, BatchNorm in the
    /// discriminator.
    Dcgan,
}

/// Everything that decides a training run. Two runs with the same config and seed on the CPU
/// produce the same numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Objective.
    pub algorithm: Algorithm,
    /// Network shapes.
    pub model: ModelConfig,
    /// Images per batch.
    pub batch_size: usize,
    /// Critic updates per generator update.
    pub n_critic: usize,
    /// WGAN weight clipping bound (critic parameters stay in ±clip).
    pub clip: f32,
    /// WGAN paper's warm-up: 100 critic steps for the first 25 generator steps and every 500th.
    pub warmup_schedule: bool,
    /// Generator optimizer.
    pub optimizer_g: OptimizerConfig,
    /// Critic optimizer.
    pub optimizer_c: OptimizerConfig,
    /// Random horizontal flips of real images.
    pub hflip: bool,
    /// Seed for weights, batches and noise.
    pub seed: u64,
    /// How many fixed latent vectors the sample grid shows.
    pub sample_count: usize,
    /// Decay of the generator's weight average used for samples and exports (0: off, use the
    /// raw weights). Absent in configs written before it existed: off.
    #[serde(default)]
    pub ema_decay: f32,
    /// Differentiable augmentation of the critic's inputs (off in configs written before it
    /// existed).
    #[serde(default)]
    pub augment: Augment,
    /// Augment only a share of the images, steered by the critic's overfitting (absent: every
    /// image, as before it existed).
    #[serde(default)]
    pub adaptive_augment: Option<AdaptiveAugment>,
    /// The trained generator this run started from (see `TrainingSession::from_generator`);
    /// absent: random weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_generator: Option<std::path::PathBuf>,
    /// Weight of the detail anchor (runs from a trained generator only): the generator's loss
    /// also counts the mean squared difference between the fine detail (each image minus its
    /// 4×4 block averages) of its pictures and the initial generator's for the same latent
    /// vectors. A lowpass critic cannot see that detail, so without the anchor it drifts.
    /// Absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_anchor: Option<f32>,
    /// What the critic sees of every picture (absent in configs written before it existed:
    /// the full picture).
    #[serde(default)]
    pub critic_view: CriticView,
}

impl TrainConfig {
    /// The defaults for an algorithm.
    pub fn for_algorithm(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Wgan => Self {
                algorithm,
                model: ModelConfig::new(),
                batch_size: 64,
                n_critic: 5,
                clip: 0.01,
                warmup_schedule: false,
                optimizer_g: OptimizerConfig::wgan_rmsprop(),
                optimizer_c: OptimizerConfig::wgan_rmsprop(),
                hflip: true,
                seed: 0,
                sample_count: 64,
                ema_decay: 0.999,
                augment: Augment::default(),
                adaptive_augment: None,
                initial_generator: None,
                detail_anchor: None,
                critic_view: CriticView::Full,
            },
            Algorithm::Dcgan => Self {
                algorithm,
                model: ModelConfig::new().with_critic_batch_norm(true),
                batch_size: 64,
                n_critic: 1,
                clip: 0.0,
                warmup_schedule: false,
                optimizer_g: OptimizerConfig::dcgan_adam(),
                optimizer_c: OptimizerConfig::dcgan_adam(),
                hflip: true,
                seed: 0,
                sample_count: 64,
                ema_decay: 0.999,
                augment: Augment::default(),
                adaptive_augment: None,
                initial_generator: None,
                detail_anchor: None,
                critic_view: CriticView::Full,
            },
        }
    }

    /// Takes over a trained generator's shapes (latent size, width, upsampling, output scale,
    /// picture size and channels, BatchNorm, extra layers) for a run that starts from it
    /// (`TrainingSession::from_generator`); the critic keeps its width and BatchNorm and
    /// judges the generator's pictures.
    pub fn with_generator_shapes(mut self, generator: &ModelConfig) -> Self {
        self.model.latent_dim = generator.latent_dim;
        self.model.ngf = generator.ngf;
        self.model.upsampling = generator.upsampling;
        self.model.output_scale = generator.output_scale;
        self.model.image_size = generator.image_size;
        self.model.channels = generator.channels;
        self.model.generator_batch_norm = generator.generator_batch_norm;
        self.model.extra_layers = generator.extra_layers;
        self
    }

    /// Critic updates for the generator step numbered `g_step` (0-based).
    pub fn critic_steps_at(&self, g_step: u64) -> usize {
        if self.algorithm == Algorithm::Wgan
            && self.warmup_schedule
            && (g_step < 25 || g_step.is_multiple_of(500))
        {
            100
        } else {
            self.n_critic.max(1)
        }
    }

    /// Whether the run compares with its initial generator (the detail anchor), so keeps a
    /// copy of it.
    pub fn anchored(&self) -> bool {
        self.detail_anchor.is_some()
    }

    /// Checks values that would otherwise fail deep inside a step.
    pub fn validate(&self) -> Result<(), String> {
        if self.batch_size == 0 {
            return Err("batch_size must be at least 1".into());
        }
        self.model.check()?;
        for lr in [self.optimizer_g.lr(), self.optimizer_c.lr()] {
            if !(lr > 0.0 && lr.is_finite()) {
                return Err("a learning rate must be positive".into());
            }
        }
        if !(0.0..1.0).contains(&self.ema_decay) {
            return Err("ema_decay must be in [0, 1)".into());
        }
        self.augment.validate()?;
        self.critic_view.validate()?;
        if let Some(weight) = self.detail_anchor
            && !(weight >= 0.0 && weight.is_finite())
        {
            return Err(format!(
                "the detail anchor weight must be finite and at least 0, not {weight}"
            ));
        }
        if let Some(adaptive) = &self.adaptive_augment {
            adaptive.validate()?;
        }
        if self.algorithm == Algorithm::Wgan && !(self.clip > 0.0 && self.clip.is_finite()) {
            return Err("WGAN needs a positive, finite clip value".into());
        }
        Ok(())
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self::for_algorithm(Algorithm::Wgan)
    }
}

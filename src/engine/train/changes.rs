//! What a run may change once started (on resume, or right after a new run is built): its
//! schedule and objective, and a fresh critic — never the generator's shape or weights. The
//! CLI's flags and the Training tab both fill one [`RunChanges`]; [`TrainingSession::apply`] is
//! the one place that carries it out.

use burn::module::Module;

use crate::engine::model::seeded_init;
use crate::engine::train::augment::{AdaptiveAugment, Augment, CriticView};
use crate::engine::train::config::TrainConfig;
use crate::engine::train::ema::GeneratorEma;
use crate::engine::train::optim::Optimizer;
use crate::engine::train::session::{TrainError, TrainingSession};
use crate::engine::train::streams::{Stream, step_seed};

/// Changes applied to a session; `None` keeps the run's. In a recipe file, the fields given.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RunChanges {
    /// Learning rate of both optimizers (the critic's unless `critic_lr` is set); their
    /// moments are kept, so lowering it late in a run anneals it.
    pub lr: Option<f64>,
    /// Learning rate of the critic alone: a slower critic is the usual answer to a
    /// discriminator that keeps winning.
    pub critic_lr: Option<f64>,
    /// Decay of the generator weight average (0: off; starts one on a run without).
    pub ema_decay: Option<f32>,
    /// Images per batch (a GPU fits wider batches, which steady the critic's estimate).
    pub batch_size: Option<usize>,
    /// Augmentation of the critic's inputs (a policy that names no colour strength keeps the
    /// run's).
    pub augment: Option<Augment>,
    /// Strength of the colour augmentation (see [`Augment::color_strength`]), applied after
    /// `augment`.
    pub color_strength: Option<f32>,
    /// Adaptive augmentation on (`Some(Some(..))`) or off (`Some(None)`).
    pub adaptive_augment: Option<Option<AdaptiveAugment>>,
    /// Share of the critic's images augmented (applied after `adaptive_augment`): fixed, or
    /// where an adaptive share starts.
    pub augment_share: Option<f32>,
    /// What the critic sees of every picture.
    pub critic_view: Option<CriticView>,
    /// The generator's output scale (its weights stay).
    pub output_scale: Option<f32>,
    /// Weight of the detail anchor of a run that started from a trained generator with one.
    pub detail_anchor: Option<f32>,
    /// Start the critic afresh (weights and optimizer), e.g. for a critic whose loss sits at
    /// chance; `critic_ndf` and `critic_batch_norm` shape the new one.
    pub reset_critic: bool,
    /// Width of the fresh critic.
    pub critic_ndf: Option<usize>,
    /// BatchNorm in the fresh critic.
    pub critic_batch_norm: Option<bool>,
}

impl RunChanges {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The same changes without the critic reset: for reopening a run whose checkpoint
    /// already holds the fresh critic.
    pub fn without_reset(&self) -> Self {
        Self {
            reset_critic: false,
            critic_ndf: None,
            critic_batch_norm: None,
            ..self.clone()
        }
    }
}

impl TrainingSession {
    /// Applies `changes`. Everything is checked before anything changes, so on an error the
    /// session is as it was.
    pub fn apply(&mut self, changes: &RunChanges) -> Result<(), TrainError> {
        let config = self.config.changed(changes).map_err(TrainError::Config)?;
        if let Some(share) = changes.augment_share
            && !(0.0..=1.0).contains(&share)
        {
            return Err(TrainError::Config(format!(
                "the augmented share must be in [0, 1], not {share}"
            )));
        }
        if changes.detail_anchor.is_some() && self.anchor.is_none() {
            return Err(TrainError::Config(
                "this run has no detail anchor: start one from a trained generator with one".into(),
            ));
        }
        // Adaptive augmentation switched off: every image is augmented again.
        if changes.adaptive_augment == Some(None) && self.config.adaptive_augment.is_some() {
            self.augment_share = 1.0;
        }
        if let Some(share) = changes.augment_share {
            self.augment_share = share;
        }
        self.optim_g.config = Some(config.optimizer_g.clone());
        self.optim_c.config = Some(config.optimizer_c.clone());
        let scale = config.model.output_scale();
        self.generator.set_output_scale(scale);
        // The anchor's pictures are compared with the generator's: the same scale for both.
        if let Some(anchor) = &mut self.anchor {
            anchor.set_output_scale(scale);
        }
        self.set_average(config.ema_decay);
        if let Some(ema) = &mut self.ema {
            ema.model_mut().set_output_scale(scale);
        }
        self.config = config;
        if changes.reset_critic {
            let critic = self.config.model.init_critic(&self.device);
            let seed = step_seed(!self.config.seed, self.step, Stream::FreshCritic);
            self.critic = seeded_init(critic, seed);
            self.optim_c = Optimizer::new(self.config.optimizer_c.clone());
        }
        Ok(())
    }

    /// Turns the generator's weight average on (continuing it if it runs) or off (`0`). A run
    /// without an average starts one at the current weights.
    fn set_average(&mut self, decay: f32) {
        if decay == 0.0 {
            self.ema = None;
        } else if let Some(ema) = &mut self.ema {
            ema.decay = decay;
        } else {
            let plain = self.device.clone().without_autodiff();
            let current = self.generator.valid();
            self.ema = Some(GeneratorEma::new(
                decay,
                &current,
                &self.config.model,
                &plain,
            ));
        }
    }
}

impl TrainConfig {
    /// This configuration with `changes` (all but the augmented share, which is a run's
    /// state), checked.
    pub fn changed(&self, changes: &RunChanges) -> Result<TrainConfig, String> {
        let mut config = self.clone();
        if let Some(decay) = changes.ema_decay {
            config.ema_decay = decay;
        }
        if let Some(lr) = changes.lr {
            config.optimizer_g = config.optimizer_g.with_lr(lr);
        }
        if let Some(lr) = changes.critic_lr.or(changes.lr) {
            config.optimizer_c = config.optimizer_c.with_lr(lr);
        }
        if let Some(batch_size) = changes.batch_size {
            config.batch_size = batch_size;
        }
        if let Some(augment) = changes.augment {
            let color_strength = augment.color_strength.or(config.augment.color_strength);
            config.augment = Augment {
                color_strength,
                ..augment
            };
        }
        if let Some(strength) = changes.color_strength {
            config.augment = config.augment.with_color_strength(strength)?;
        }
        if let Some(adaptive) = changes.adaptive_augment {
            config.adaptive_augment = adaptive;
        }
        if let Some(view) = changes.critic_view {
            config.critic_view = view;
        }
        if let Some(scale) = changes.output_scale {
            config.model = config.model.with_checked_output_scale(scale)?;
        }
        if let Some(weight) = changes.detail_anchor {
            config.detail_anchor = Some(weight);
        }
        if changes.reset_critic {
            if let Some(ndf) = changes.critic_ndf {
                config.model.ndf = ndf;
            }
            if let Some(batch_norm) = changes.critic_batch_norm {
                config.model.critic_batch_norm = batch_norm;
            }
        } else if changes.critic_ndf.is_some() || changes.critic_batch_norm.is_some() {
            return Err(
                "the critic's width and BatchNorm shape a fresh critic: reset it too".into(),
            );
        }
        config.validate()?;
        Ok(config)
    }
}

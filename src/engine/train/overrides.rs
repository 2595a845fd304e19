//! What a resumed run may change: its schedule and objective, and a fresh critic — never the
//! generator's shape or weights. The CLI's flags and the Training tab both fill one of these.

use crate::engine::train::augment::{AdaptiveAugment, Augment};
use crate::engine::train::session::{TrainError, TrainingSession};

/// Changes applied to a session right after it is resumed; `None` keeps the checkpoint's.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResumeOverrides {
    /// Learning rate of both optimizers (the critic's unless `critic_lr` is set).
    pub lr: Option<f64>,
    /// Learning rate of the critic alone.
    pub critic_lr: Option<f64>,
    /// Learning rate of the generator's latent mapping (a run that has one).
    pub mapping_lr: Option<f64>,
    /// Decay of the generator weight average (0: off; starts one on a run without).
    pub ema_decay: Option<f32>,
    /// Images per batch.
    pub batch_size: Option<usize>,
    /// Augmentation of the critic's inputs.
    pub augment: Option<Augment>,
    /// Strength of the colour augmentation (see [`Augment::color_strength`]), applied after
    /// `augment`.
    pub color_strength: Option<f32>,
    /// Adaptive augmentation on (`Some(Some(..))`) or off (`Some(None)`).
    pub adaptive_augment: Option<Option<AdaptiveAugment>>,
    /// Share of the critic's images augmented (applied after `adaptive_augment`).
    pub augment_share: Option<f32>,
    /// Real and generated images through the critic as one batch (see
    /// [`crate::engine::train::TrainConfig::joint_critic_batch`]).
    pub joint_critic_batch: Option<bool>,
    /// The generator's output scale (its weights stay).
    pub output_scale: Option<f32>,
    /// Weight of the detail anchor of a run that has one.
    pub detail_anchor: Option<f32>,
    /// Weight of the layout anchor of a run that has an anchor.
    pub layout_anchor: Option<f32>,
    /// Weight of the layout term (see [`crate::engine::train::TrainConfig::layout_sw`]).
    pub layout_sw: Option<f32>,
    /// Start the critic afresh (see [`TrainingSession::reset_critic`]).
    pub reset_critic: bool,
    /// Width of the fresh critic.
    pub critic_ndf: Option<usize>,
    /// BatchNorm in the fresh critic.
    pub critic_batch_norm: Option<bool>,
}

impl ResumeOverrides {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Applies the changes; on an error (a bad rate or scale) the session may be partly
    /// changed, so callers drop it rather than train it.
    pub fn apply(&self, session: &mut TrainingSession) -> Result<(), TrainError> {
        if let Some(decay) = self.ema_decay {
            session.set_ema_decay(decay)?;
        }
        if self.lr.is_some() || self.critic_lr.is_some() {
            let generator = self.lr.unwrap_or(session.config().optimizer_g.lr());
            let critic = self
                .critic_lr
                .or(self.lr)
                .unwrap_or(session.config().optimizer_c.lr());
            session.set_learning_rates(generator, critic)?;
        }
        if let Some(lr) = self.mapping_lr {
            session.set_mapping_lr(lr)?;
        }
        if let Some(batch_size) = self.batch_size {
            session.set_batch_size(batch_size)?;
        }
        if let Some(augment) = self.augment {
            session.set_augment(augment)?;
        }
        if let Some(strength) = self.color_strength {
            session.set_color_strength(strength)?;
        }
        if let Some(adaptive) = self.adaptive_augment {
            session.set_adaptive_augment(adaptive)?;
        }
        if let Some(share) = self.augment_share {
            session.set_augment_share(share)?;
        }
        if let Some(joint) = self.joint_critic_batch {
            session.set_joint_critic_batch(joint);
        }
        if let Some(scale) = self.output_scale {
            session.set_output_scale(scale)?;
        }
        if let Some(weight) = self.detail_anchor {
            session.set_detail_anchor(weight)?;
        }
        if let Some(weight) = self.layout_anchor {
            session.set_layout_anchor(weight)?;
        }
        if let Some(weight) = self.layout_sw {
            session.set_layout_sw(weight)?;
        }
        if self.reset_critic {
            session.reset_critic(self.critic_ndf, self.critic_batch_norm)?;
        }
        Ok(())
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

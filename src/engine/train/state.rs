//! What a training run measures and saves: one step's metrics, and the progress written to a
//! checkpoint's state.ron. Plain data, so that the readers of old checkpoints need no session.

use serde::{Deserialize, Serialize};

use crate::engine::train::config::TrainConfig;

/// What one step measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Generator steps done after this one.
    pub step: u64,
    /// Critic loss of the last critic update (WGAN: E[D(fake)] − E[D(real)]).
    pub critic_loss: f32,
    /// E[D(real)] − E[D(fake)] on the last critic batch: WGAN's estimate of the distance.
    pub wasserstein: f32,
    /// Generator loss.
    pub generator_loss: f32,
    /// Generated images processed per second (critic and generator passes).
    pub images_per_sec: f32,
    /// Wall time of this step in seconds.
    pub seconds: f32,
    /// Share of the critic's images augmented in this step, with adaptive augmentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub augment_share: Option<f32>,
}

/// Saved training progress (state.ron).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainState {
    /// Generator steps done.
    pub step: u64,
    /// The run's configuration.
    pub config: TrainConfig,
    /// Updates applied by each optimizer (Adam's bias correction needs them).
    pub optimizer_steps: (u64, u64),
    /// Every step's metrics.
    pub history: Vec<Metrics>,
    /// Total training wall time in seconds.
    pub elapsed_seconds: f64,
    /// Images in the dataset it was trained on.
    pub dataset_len: usize,
    /// Updates folded into the generator's weight average (0 in older checkpoints).
    #[serde(default)]
    pub ema_updates: u64,
    /// Share of the critic's images augmented next (adaptive augmentation; absent: all).
    #[serde(default)]
    pub augment_share: Option<f32>,
}

//! Why training could not go on.

use crate::engine::files::checkpoint_files::CheckpointError;

/// Training could not go on.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A loss became NaN, infinite or exploded: the weights are garbage and must not be saved.
    #[error(
        "training diverged at step {step}: {what} is {value}; the last checkpoint on disk is intact — lower the learning rate or resume from it"
    )]
    Diverged {
        /// Step at which it happened.
        step: u64,
        /// Which quantity.
        what: &'static str,
        /// Its value.
        value: f32,
    },
    /// The configuration is unusable.
    #[error("invalid training configuration: {0}")]
    Config(String),
    /// A checkpoint problem.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The checkpoint was made for other shapes or another algorithm.
    #[error("the checkpoint does not fit this run: {0}")]
    Mismatch(String),
    /// The compute device failed.
    #[error("device error: {0}")]
    Device(String),
}

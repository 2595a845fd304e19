//! The files a checkpoint directory holds, and what can go wrong reading or writing them:
//! shared by the checkpoint format (`checkpoint`) and the readers of older versions
//! (`migrate`), which sit below it.

use std::path::{Path, PathBuf};

/// File names inside a checkpoint directory.
pub const MODEL_FILE: &str = "model.ron";
/// Generator weights.
pub const GENERATOR_FILE: &str = "generator.safetensors";
/// Critic weights.
pub const CRITIC_FILE: &str = "critic.safetensors";
/// Averaged generator weights in a training checkpoint (what inference uses when present).
pub const GENERATOR_EMA_FILE: &str = "generator_ema.safetensors";
/// Generator optimizer state.
pub const OPTIM_G_FILE: &str = "optimizer_g.safetensors";
/// Critic optimizer state.
pub const OPTIM_C_FILE: &str = "optimizer_c.safetensors";
/// Training state.
pub const STATE_FILE: &str = "state.ron";
/// The initial generator a detail-anchored run compares with (see `TrainConfig::detail_anchor`).
pub const ANCHOR_FILE: &str = "anchor.safetensors";
/// Name of the live checkpoint inside a run directory.
pub const RUN_CHECKPOINT_DIR: &str = "checkpoint";

/// What went wrong reading or writing a checkpoint. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Not a checkpoint directory.
    #[error(
        "{path} is not a checkpoint: expected a directory holding {MODEL_FILE} and {GENERATOR_FILE} (or a run directory with a '{RUN_CHECKPOINT_DIR}' folder)"
    )]
    NotACheckpoint {
        /// Where we looked.
        path: PathBuf,
    },
    /// A file is missing.
    #[error("{path}: missing")]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// I/O failure.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A RON file does not parse.
    #[error("{path}: malformed: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Parser message.
        message: String,
    },
    /// Weights cannot be read or do not fit the model.
    #[error("{path}: {message}")]
    Weights {
        /// The file.
        path: PathBuf,
        /// What was expected and what was found.
        message: String,
    },
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

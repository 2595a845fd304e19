//! The files a checkpoint directory holds, what can go wrong reading or writing them, and the
//! two writes every producer of checkpoints shares (RON files, weights from bytes): used by
//! the checkpoint format (`checkpoint`), the readers of older versions (`migrate`) and the
//! PyTorch importer, which sit below it.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::{HalfPrecisionAdapter, ModuleSnapshot, SafetensorsStore};
use serde::Serialize;

use crate::engine::files::atomic::write_atomic;

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
    /// A PyTorch checkpoint hitogata cannot open.
    #[error("{path}: {message}")]
    Pytorch {
        /// The file.
        path: PathBuf,
        /// What was found, and what was expected.
        message: String,
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

/// Writes a value as RON, atomically: pretty for two levels, deeper values on one line each
/// (a training history's rows: 27k of them took 6.2 MB pretty, 4.0 MB so).
pub fn write_ron<T: Serialize>(path: &Path, value: &T) -> Result<(), CheckpointError> {
    let pretty = ron::ser::PrettyConfig::default().depth_limit(2);
    let text =
        ron::ser::to_string_pretty(value, pretty).map_err(|e| CheckpointError::Malformed {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    write_atomic(path, text.as_bytes()).map_err(io_err(path))
}

/// Loads weights from a safetensors file's bytes (named `path` in errors) into the module
/// `build` makes, which must have exactly the file's shapes and tensor names.
pub fn load_weights_from_bytes<M: Module + ModuleSnapshot>(
    build: impl FnOnce() -> M,
    bytes: Vec<u8>,
    path: &Path,
) -> Result<M, CheckpointError> {
    let weights_err = |message: String| CheckpointError::Weights {
        path: path.to_path_buf(),
        message,
    };
    let half = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| weights_err(format!("not a valid safetensors file: {e}")))?
        .tensors()
        .iter()
        .any(|(_, t)| t.dtype() == safetensors::Dtype::F16);
    let mut module = build();
    let mut store = SafetensorsStore::from_bytes(Some(bytes));
    if half {
        // A compact export: convolution weights in f16 (BatchNorm stays f32), widened on load.
        store = store.with_from_adapter(HalfPrecisionAdapter::new());
    }
    let result = module
        .load_from(&mut store)
        .map_err(|e| weights_err(format!("cannot load: {e}")))?;
    let mut problems: Vec<String> = result.errors.iter().map(|e| e.to_string()).collect();
    if !result.missing.is_empty() {
        let names: Vec<_> = result.missing.iter().map(|(p, _)| p.as_str()).collect();
        problems.push(format!(
            "expected tensors not found in the file: {}",
            names.join(", ")
        ));
    }
    if !result.unused.is_empty() {
        problems.push(format!(
            "found tensors this model does not have: {}",
            result.unused.join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(module)
    } else {
        Err(weights_err(format!(
            "does not fit the model in {MODEL_FILE}: {}",
            problems.join("; ")
        )))
    }
}

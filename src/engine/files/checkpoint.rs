//! Checkpoints are directories:
//!
//! ```text
//! model.ron               ModelConfig (shapes)
//! generator.safetensors   generator weights (BatchNorm running statistics included)
//! critic.safetensors      critic weights            } training checkpoints only:
//! optimizer_g.safetensors optimizer moments by path } enough to resume exactly
//! optimizer_c.safetensors                           }
//! state.ron               step, configs, metric history
//! ```
//!
//! A generator export holds the first two only; the explorer and `generate` need no more.
//! Directories are replaced atomically (see [`crate::engine::files::atomic`]).

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::{HalfPrecisionAdapter, ModuleSnapshot, SafetensorsStore};
use burn::tensor::Device;
use serde::de::DeserializeOwned;

use crate::engine::files::atomic::old_dir;
use crate::engine::files::bounded_read::FileKind;
use crate::engine::files::pytorch;
use crate::engine::model::{Critic, Generator, ModelConfig};

use crate::engine::files::checkpoint_files::io_err;
pub use crate::engine::files::checkpoint_files::*;

/// Reads a RON file of `kind` (which bounds its size).
pub fn read_ron<T: DeserializeOwned>(path: &Path, kind: FileKind) -> Result<T, CheckpointError> {
    if !path.exists() {
        return Err(CheckpointError::Missing {
            path: path.to_path_buf(),
        });
    }
    let text = crate::engine::files::bounded_read::read_text(path, kind).map_err(io_err(path))?;
    ron::from_str(&text).map_err(|e| CheckpointError::Malformed {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Saves a module's weights to a safetensors file (the caller makes it atomic).
pub fn save_weights<M: Module + ModuleSnapshot>(
    module: &M,
    path: &Path,
) -> Result<(), CheckpointError> {
    let mut store = SafetensorsStore::from_file(path).overwrite(true);
    module
        .save_into(&mut store)
        .map_err(|e| CheckpointError::Weights {
            path: path.to_path_buf(),
            message: format!("cannot save: {e}"),
        })
}

/// Saves a module's weights with convolution weights in f16 (BatchNorm statistics stay f32),
/// atomically; [`load_weights`] reads them back transparently.
pub fn save_weights_f16<M: Module + ModuleSnapshot>(
    module: &M,
    path: &Path,
) -> Result<(), CheckpointError> {
    let tmp = path.with_extension("safetensors.tmp");
    let mut store = SafetensorsStore::from_file(&tmp)
        .overwrite(true)
        .with_to_adapter(HalfPrecisionAdapter::new());
    module
        .save_into(&mut store)
        .map_err(|e| CheckpointError::Weights {
            path: path.to_path_buf(),
            message: format!("cannot save: {e}"),
        })?;
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

/// Loads weights into `module`, which must have exactly the file's shapes and tensor names.
///
/// The module is built (by `build`) only when the file holds a fair share of the `needed`
/// numbers (see [`ModelConfig::generator_weights_at_least`]): a model.ron describing a huge
/// model next to a small file is refused before gigabytes are allocated.
pub fn load_weights<M: Module + ModuleSnapshot>(
    build: impl FnOnce() -> M,
    needed: u64,
    path: &Path,
) -> Result<M, CheckpointError> {
    if !path.exists() {
        return Err(CheckpointError::Missing {
            path: path.to_path_buf(),
        });
    }
    let weights_err = |message: String| CheckpointError::Weights {
        path: path.to_path_buf(),
        message,
    };
    // Validate the header ourselves first: a truncated or garbage file must be an error, and
    // the store memory-maps files without checking their length.
    let bytes = crate::engine::files::bounded_read::read_bytes(path, FileKind::weights(needed))
        .map_err(io_err(path))?;
    let held: u64 = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| weights_err(format!("not a valid safetensors file: {e}")))?
        .tensors()
        .iter()
        .map(|(_, t)| t.shape().iter().map(|&n| n as u64).product::<u64>())
        .sum();
    // Far too few numbers: refuse before building. (Near misses are built and then compared
    // tensor by tensor, which names what is expected and what was found.)
    if needed > held.saturating_mul(4).saturating_add(1 << 20) {
        return Err(weights_err(format!(
            "holds {held} numbers; the model described beside it needs at least {needed}"
        )));
    }
    load_weights_from_bytes(build, bytes, path)
}

/// Finds the checkpoint directory for a user-given path: the directory itself, a run
/// directory's live checkpoint, or its previous version left by an interrupted save.
/// A PyTorch generator (`.pth`) resolves to its import (see [`pytorch::imported_checkpoint`]).
pub fn resolve_checkpoint_dir(path: &Path) -> Result<PathBuf, CheckpointError> {
    if pytorch::is_pytorch_file(path) && !path.is_dir() {
        return pytorch::imported_checkpoint(path);
    }
    if path.join(MODEL_FILE).exists() {
        return Ok(path.to_path_buf());
    }
    let live = path.join(RUN_CHECKPOINT_DIR);
    if live.join(MODEL_FILE).exists() {
        return Ok(live);
    }
    let old = old_dir(&live);
    if old.join(MODEL_FILE).exists() {
        return Ok(old);
    }
    Err(CheckpointError::NotACheckpoint {
        path: path.to_path_buf(),
    })
}

/// A generator ready for inference, with its shapes.
pub struct LoadedGenerator {
    /// Shapes.
    pub config: ModelConfig,
    /// The network (inference mode).
    pub generator: Generator,
    /// Directory it came from.
    pub dir: PathBuf,
}

/// The model shapes of a checkpoint, run directory or export, checked for sanity.
pub fn read_model_config(path: &Path) -> Result<ModelConfig, CheckpointError> {
    let dir = resolve_checkpoint_dir(path)?;
    let config = crate::engine::files::migrate::read_model_file(&dir.join(MODEL_FILE))?;
    check_config(&config, &dir.join(MODEL_FILE))?;
    Ok(config)
}

/// The generator weights to draw with (or start from) in a resolved checkpoint directory: a
/// training checkpoint's averaged weights draw better pictures than its raw ones.
pub fn best_generator_file(dir: &Path) -> PathBuf {
    let ema = dir.join(GENERATOR_EMA_FILE);
    if ema.exists() {
        ema
    } else {
        dir.join(GENERATOR_FILE)
    }
}

/// Loads the generator of a checkpoint (or export) onto `device` for inference.
pub fn load_generator(path: &Path, device: &Device) -> Result<LoadedGenerator, CheckpointError> {
    let dir = resolve_checkpoint_dir(path)?;
    let config = read_model_config(&dir)?;
    let generator = load_weights(
        || config.init_generator(device),
        config.generator_weights_at_least(),
        &best_generator_file(&dir),
    )?;
    Ok(LoadedGenerator {
        config,
        generator: generator.valid(),
        dir,
    })
}

/// Rejects configs that would make absurd or panicking models.
pub fn check_config(config: &ModelConfig, path: &Path) -> Result<(), CheckpointError> {
    let bad = |what: &str| CheckpointError::Malformed {
        path: path.to_path_buf(),
        message: what.to_string(),
    };
    config.check().map_err(|m| bad(&m))
}

/// Loads a critic saved next to a generator.
pub fn load_critic(
    dir: &Path,
    config: &ModelConfig,
    device: &Device,
) -> Result<Critic, CheckpointError> {
    load_weights(
        || config.init_critic(device),
        config.critic_weights_at_least(),
        &dir.join(CRITIC_FILE),
    )
}

/// Writes a generator-only export (model.ron + generator.safetensors) into `dir`, atomically.
pub fn export_generator(
    config: &ModelConfig,
    generator: &Generator,
    dir: &Path,
) -> Result<(), CheckpointError> {
    write_export(config, generator, dir, false)
}

/// Like [`export_generator`], with convolution weights stored as f16 (half the size; BatchNorm
/// statistics stay f32). Loads transparently.
pub fn export_generator_f16(
    config: &ModelConfig,
    generator: &Generator,
    dir: &Path,
) -> Result<(), CheckpointError> {
    write_export(config, generator, dir, true)
}

fn write_export(
    config: &ModelConfig,
    generator: &Generator,
    dir: &Path,
    half: bool,
) -> Result<(), CheckpointError> {
    crate::engine::files::atomic::replace_dir_atomic(dir, |tmp| {
        let wrap = |e: CheckpointError| std::io::Error::other(e.to_string());
        write_ron(&tmp.join(MODEL_FILE), config).map_err(wrap)?;
        let path = tmp.join(GENERATOR_FILE);
        let mut store = SafetensorsStore::from_file(&path).overwrite(true);
        if half {
            store = store.with_to_adapter(HalfPrecisionAdapter::new());
        }
        generator
            .save_into(&mut store)
            .map_err(|e| std::io::Error::other(format!("{}: cannot save: {e}", path.display())))
    })
    .map_err(io_err(dir))
}

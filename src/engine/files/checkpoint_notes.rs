//! What the debugger learns about each checkpoint and keeps beside the bookmarks
//! (`checkpoint-notes.ron`): its named directions and its mean per-dimension sensitivity, keyed
//! by the checkpoint's content hash (so a checkpoint moved elsewhere keeps its notes, and one
//! retrained in place gets new ones). Saved atomically; a malformed file is moved aside, like
//! the bookmarks, never overwritten.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::analysis::directions::Direction;
use crate::engine::files::bounded_read::{FileKind, read_bytes};
use crate::engine::files::checkpoint::{
    CheckpointError, MODEL_FILE, best_generator_file, read_ron, write_ron,
};
use crate::engine::model::ModelConfig;

/// Notes on one checkpoint.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Notes {
    /// Directions kept (discovered, attribute or renamed ones), in order.
    #[serde(default)]
    pub directions: Vec<Direction>,
    /// Mean absolute pixel change per unit step of each latent dimension over random z.
    #[serde(default)]
    pub mean_sensitivity: Option<Vec<f32>>,
}

/// The file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct NotesFile {
    /// (content hash, notes), one per checkpoint.
    checkpoints: Vec<(String, Notes)>,
}

/// The notes of every checkpoint seen.
pub struct NotesStore {
    path: PathBuf,
    file: NotesFile,
    writer: Option<crate::engine::files::atomic::BackgroundWriter>,
}

/// The SHA-256 of a loaded checkpoint's shapes and the weights it draws with, as hex, read
/// again from `dir` (a resolved checkpoint directory, as [`LoadedGenerator`] holds it) with
/// the limits `config`'s shapes give.
///
/// [`LoadedGenerator`]: crate::engine::files::checkpoint::LoadedGenerator
pub fn content_hash(dir: &Path, config: &ModelConfig) -> Result<String, CheckpointError> {
    let weights = FileKind::weights(config.generator_weights_at_least());
    let mut hasher = Sha256::new();
    for (file, kind) in [
        (dir.join(MODEL_FILE), FileKind::MODEL),
        (best_generator_file(dir), weights),
    ] {
        let bytes = read_bytes(&file, kind).map_err(|source| CheckpointError::Io {
            path: file.clone(),
            source,
        })?;
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

impl NotesStore {
    /// Opens the store at `path` (empty if missing). A file that cannot be read is moved
    /// aside; the second value says where, and why.
    pub fn open(path: &Path) -> (Self, Option<String>) {
        let mut store = Self {
            path: path.to_path_buf(),
            file: NotesFile::default(),
            writer: None,
        };
        if !path.exists() {
            return (store, None);
        }
        match read_ron::<NotesFile>(path, FileKind::NOTES) {
            Ok(file) => {
                store.file = file;
                (store, None)
            }
            Err(e) => match crate::engine::files::atomic::move_aside(path) {
                Ok(aside) => (store, Some(format!("{e}; kept as {}", aside.display()))),
                Err(_) => {
                    // Never write over a file that could not be moved.
                    store.path = path.with_extension("ron.new");
                    (store, Some(e.to_string()))
                }
            },
        }
    }

    /// The notes of the checkpoint with this hash (empty if none).
    pub fn get(&self, hash: &str) -> Notes {
        self.file
            .checkpoints
            .iter()
            .find(|(h, _)| h == hash)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    }

    /// Saves from now on happen on a background thread (for a UI); failures are reported by
    /// [`take_write_error`](Self::take_write_error).
    pub fn with_background_writes(mut self) -> Self {
        self.writer = Some(crate::engine::files::atomic::BackgroundWriter::spawn());
        self
    }

    /// A failed background save, if any.
    pub fn take_write_error(&self) -> Option<String> {
        self.writer.as_ref().and_then(|w| w.take_error())
    }

    /// Replaces the notes of a checkpoint and saves, atomically.
    pub fn set(&mut self, hash: &str, notes: Notes) -> Result<(), CheckpointError> {
        match self.file.checkpoints.iter_mut().find(|(h, _)| h == hash) {
            Some((_, n)) => *n = notes,
            None => self.file.checkpoints.push((hash.to_string(), notes)),
        }
        match &self.writer {
            Some(writer) => {
                let text =
                    ron::ser::to_string_pretty(&self.file, Default::default()).map_err(|e| {
                        CheckpointError::Malformed {
                            path: self.path.clone(),
                            message: e.to_string(),
                        }
                    })?;
                writer.write(self.path.clone(), text.into_bytes());
                Ok(())
            }
            None => write_ron(&self.path, &self.file),
        }
    }
}

//! "This face through training": one latent vector drawn by every generator a run kept under
//! `snapshots/`, how much the picture changes from one snapshot to the next (a jump means the
//! run was unstable there; a flat line from some step on, with poor pictures, means it stopped
//! learning), and the strip as an animated GIF.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use image::RgbImage;

use crate::engine::draw::inference::Drawer;
use crate::engine::files::checkpoint::load_generator;
use crate::engine::files::render::{mean_abs_difference, save_gif, upscale};
use crate::engine::model::latent::Latent;

/// Why a run's snapshots cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The folder holds no snapshot.
    #[error(
        "no snapshots in {0} (a run keeps them under snapshots/ when trained with --snapshot-every N, or the Training tab's \"snapshot every\")"
    )]
    None(PathBuf),
    /// The folder cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// No snapshot could be loaded.
    #[error("none of the snapshots in {path} could be loaded: {first}")]
    NoneLoaded {
        /// The folder.
        path: PathBuf,
        /// The first snapshot's error.
        first: String,
    },
}

/// One snapshot of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The training step it was kept at.
    pub step: u64,
    /// Its generator export.
    pub dir: PathBuf,
}

/// The snapshots of a run (`run` is the run folder or its `snapshots/` folder), oldest first.
/// Entries not named `step-N` are ignored.
pub fn list_snapshots(run: &Path) -> Result<Vec<Snapshot>, SnapshotError> {
    let folder = if run.file_name().is_some_and(|n| n == "snapshots") {
        run.to_path_buf()
    } else {
        run.join("snapshots")
    };
    if !folder.is_dir() {
        return Err(SnapshotError::None(run.to_path_buf()));
    }
    let entries = std::fs::read_dir(&folder).map_err(|source| SnapshotError::Read {
        path: folder.clone(),
        source,
    })?;
    let mut snapshots: Vec<Snapshot> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| {
            let name = e.file_name();
            let step = name.to_str()?.strip_prefix("step-")?.parse().ok()?;
            Some(Snapshot {
                step,
                dir: e.path(),
            })
        })
        .collect();
    if snapshots.is_empty() {
        return Err(SnapshotError::None(run.to_path_buf()));
    }
    snapshots.sort_by_key(|s| s.step);
    Ok(snapshots)
}

/// A run's snapshots, loaded: draws any latent vector through all of them.
pub struct Timeline {
    /// The step of each loaded snapshot, oldest first.
    pub steps: Vec<u64>,
    /// Snapshots that could not be loaded (or whose latent size differs from the first's):
    /// step and why.
    pub skipped: Vec<(u64, String)>,
    drawers: Vec<Drawer>,
    latent_dim: usize,
}

impl Timeline {
    /// Loads every snapshot of `run` (see [`list_snapshots`]). A broken snapshot is skipped
    /// and listed; none loading is an error.
    pub fn load(run: &Path, device: &Device) -> Result<Self, SnapshotError> {
        let mut steps = Vec::new();
        let mut skipped = Vec::new();
        let mut drawers = Vec::new();
        let mut latent_dim = None;
        for snapshot in list_snapshots(run)? {
            match load_generator(&snapshot.dir, device) {
                Ok(loaded)
                    if *latent_dim.get_or_insert(loaded.config.latent_dim)
                        != loaded.config.latent_dim =>
                {
                    skipped.push((
                        snapshot.step,
                        format!("its latent vector has {} numbers", loaded.config.latent_dim),
                    ));
                }
                Ok(loaded) => {
                    steps.push(snapshot.step);
                    drawers.push(Drawer::new(&loaded.generator, device));
                }
                Err(e) => skipped.push((snapshot.step, e.to_string())),
            }
        }
        let Some(latent_dim) = latent_dim.filter(|_| !drawers.is_empty()) else {
            return Err(SnapshotError::NoneLoaded {
                path: run.to_path_buf(),
                first: skipped.first().map(|s| s.1.clone()).unwrap_or_default(),
            });
        };
        Ok(Self {
            steps,
            skipped,
            drawers,
            latent_dim,
        })
    }

    /// One checkpoint (a run, a full checkpoint or an export) as a one-picture line-up, for
    /// comparing a second checkpoint with the explorer's; its step is the training step its
    /// state file records (0 for an export).
    pub fn single(
        path: &Path,
        device: &Device,
    ) -> Result<Self, crate::engine::files::checkpoint::CheckpointError> {
        let loaded = load_generator(path, device)?;
        use crate::engine::files::checkpoint::{RUN_CHECKPOINT_DIR, STATE_FILE};
        let step = [
            path.join(RUN_CHECKPOINT_DIR).join(STATE_FILE),
            path.join(STATE_FILE),
        ]
        .iter()
        .find_map(|f| crate::engine::files::migrate::read_train_state(f).ok())
        .map(|state| state.step)
        .unwrap_or(0);
        Ok(Self {
            steps: vec![step],
            skipped: Vec::new(),
            latent_dim: loaded.config.latent_dim,
            drawers: vec![Drawer::new(&loaded.generator, device)],
        })
    }

    /// Size of the latent vector the snapshots take.
    pub fn latent_dim(&self) -> usize {
        self.latent_dim
    }

    /// `z` (as drawn, ψ applied) drawn by each snapshot, oldest first.
    pub fn draw(&self, z: &Latent) -> Vec<RgbImage> {
        self.draw_all(std::slice::from_ref(z))
            .into_iter()
            .flatten()
            .collect()
    }

    /// Each of `latents` (as drawn) drawn by each snapshot: one list per snapshot, oldest
    /// first. Vectors of the wrong size are drawn as nothing.
    pub fn draw_all(&self, latents: &[Latent]) -> Vec<Vec<RgbImage>> {
        let fitting: Vec<Latent> = latents
            .iter()
            .filter(|z| z.dim() == self.latent_dim)
            .cloned()
            .collect();
        self.drawers.iter().map(|d| d.draw(&fitting)).collect()
    }
}

/// How much the picture changes from each frame to the next: the mean absolute difference of
/// the pixel values (0–255). One number fewer than frames.
pub fn picture_changes(frames: &[RgbImage]) -> Vec<f32> {
    frames
        .windows(2)
        .map(|pair| mean_abs_difference(&pair[0], &pair[1]))
        .collect()
}

/// Milliseconds each snapshot shows in a GIF of a face through training.
pub const GIF_FRAME_MS: u32 = 250;

/// Writes `frames` as a looping GIF, each picture enlarged `scale` times (nearest pixel),
/// atomically (see [`crate::engine::files::render::save_gif`]).
pub fn save_timeline_gif(frames: &[RgbImage], scale: u32, path: &Path) -> std::io::Result<()> {
    let enlarged: Vec<RgbImage> = frames.iter().map(|f| upscale(f, scale.max(1))).collect();
    save_gif(&enlarged, GIF_FRAME_MS, path)
}

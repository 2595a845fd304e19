//! A run directory: `checkpoint/` (full, resumable), `generator/` (export), `samples/`
//! (fixed-z grids by step) and optionally `snapshots/` (a generator export per step kept, since
//! GAN quality is not monotone: a later checkpoint can be worse than an earlier one). Shared by the CLI and the app's training worker.

use std::path::PathBuf;

use image::RgbImage;

use crate::engine::files::checkpoint::{
    CheckpointError, RUN_CHECKPOINT_DIR, STATE_FILE, resolve_checkpoint_dir,
};
use crate::engine::files::picture_state::{PictureState, save_png_with_state};
use crate::engine::files::render::grid;
use crate::engine::train::config::TrainConfig;
use crate::engine::train::session::{TrainError, TrainingSession};

/// Paths of a run.
#[derive(Clone, Debug)]
pub struct RunDir {
    /// The run directory.
    pub root: PathBuf,
}

impl RunDir {
    /// A run rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The live checkpoint.
    pub fn checkpoint(&self) -> PathBuf {
        self.root.join(RUN_CHECKPOINT_DIR)
    }

    /// The generator export.
    pub fn generator(&self) -> PathBuf {
        self.root.join("generator")
    }

    /// Generator export kept for a step.
    pub fn snapshot(&self, step: u64) -> PathBuf {
        self.root.join("snapshots").join(format!("step-{step:06}"))
    }

    /// Sample grid for a step.
    pub fn sample_path(&self, step: u64) -> PathBuf {
        self.root
            .join("samples")
            .join(format!("step-{step:06}.png"))
    }

    /// Whether a checkpoint exists (or survives from an interrupted save).
    pub fn has_checkpoint(&self) -> bool {
        resolve_checkpoint_dir(&self.root).is_ok()
    }

    /// The step and configuration of the run's checkpoint, read from its state file (to show
    /// a run's settings before resuming it).
    pub fn checkpoint_config(&self) -> Result<(u64, TrainConfig), CheckpointError> {
        let state =
            crate::engine::files::migrate::read_train_state(&self.checkpoint().join(STATE_FILE))?;
        Ok((state.step, state.config))
    }

    /// Writes the session's fixed-z sample grid for its current step (the PNG remembers its
    /// latent vectors); returns the pictures.
    pub fn save_samples(&self, session: &TrainingSession) -> std::io::Result<Vec<RgbImage>> {
        let images = session.sample_images();
        let state = PictureState {
            latents: session.sample_latents(),
            psi: 1.0,
            checkpoint: Some(self.generator().display().to_string()),
            checkpoint_hash: None,
            parent: None,
        };
        save_png_with_state(
            &sample_grid(&images),
            &state,
            &self.sample_path(session.step_count()),
        )?;
        Ok(images)
    }

    /// Keeps the session's current generator (the weight average when on) under `snapshots/`.
    pub fn save_snapshot(&self, session: &TrainingSession) -> Result<PathBuf, TrainError> {
        let dir = self.snapshot(session.step_count());
        session.export_generator(&dir)?;
        Ok(dir)
    }

    /// Saves the full checkpoint and the generator export.
    pub fn save(&self, session: &TrainingSession) -> Result<(), TrainError> {
        session.save_checkpoint(&self.checkpoint())?;
        session.export_generator(&self.generator())?;
        Ok(())
    }
}

/// The pictures of a sample grid laid out square.
pub fn sample_grid(images: &[RgbImage]) -> RgbImage {
    let cols = (images.len() as f32).sqrt().ceil() as usize;
    grid(images, cols, 2)
}

//! One description of a training run, whether it comes from the CLI's flags or the Training
//! tab's form, and the one place that turns it into a [`TrainingSession`].

use std::path::PathBuf;
use std::sync::Arc;

use burn::tensor::Device;

use crate::engine::device::DeviceChoice;
use crate::engine::files::checkpoint;
use crate::engine::files::data::{Dataset, PictureShape, SquareMode};
use crate::engine::train::changes::RunChanges;
use crate::engine::train::config::TrainConfig;
use crate::engine::train::session::{TrainError, TrainingSession};

/// How a run starts.
#[derive(Clone, Debug, PartialEq)]
pub enum RunStart {
    /// A new run from random weights.
    New(TrainConfig),
    /// A new run whose generator starts from a trained one (a checkpoint, run directory or
    /// export): its shapes replace the config's, the critic is new.
    FromGenerator {
        /// Everything else about the run.
        config: TrainConfig,
        /// The generator to start from.
        generator: PathBuf,
    },
    /// Continue the run directory's checkpoint, with its configuration.
    Resume,
}

/// A run: how it starts, and what it changes right after (rates, augmentation, a fresh
/// critic, the output scale...).
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// How it starts.
    pub start: RunStart,
    /// Applied to the session once built.
    pub changes: RunChanges,
}

impl RunSpec {
    /// A new run from random weights.
    pub fn new(config: TrainConfig) -> Self {
        Self {
            start: RunStart::New(config),
            changes: RunChanges::default(),
        }
    }

    /// A new run from a trained generator.
    pub fn from_generator(config: TrainConfig, generator: impl Into<PathBuf>) -> Self {
        Self {
            start: RunStart::FromGenerator {
                config,
                generator: generator.into(),
            },
            changes: RunChanges::default(),
        }
    }

    /// Continue a run, with these changes.
    pub fn resume(changes: RunChanges) -> Self {
        Self {
            start: RunStart::Resume,
            changes,
        }
    }

    /// The same run with these changes applied after it is built.
    pub fn with_changes(self, changes: RunChanges) -> Self {
        Self { changes, ..self }
    }

    /// Whether it continues an existing checkpoint.
    pub fn resumes(&self) -> bool {
        self.start == RunStart::Resume
    }

    /// The pictures the run trains on: its model's size and channels (read from the generator
    /// it starts from, or from the run directory when resuming), so that the data folder is
    /// read at that size rather than resized twice.
    pub fn picture_shape(&self, run: &std::path::Path) -> Result<PictureShape, TrainError> {
        let model = match &self.start {
            RunStart::New(config) => config.model.clone(),
            RunStart::FromGenerator { generator, .. } => {
                checkpoint::read_model_config(&checkpoint::resolve_checkpoint_dir(generator)?)?
            }
            RunStart::Resume => {
                checkpoint::read_model_config(&checkpoint::resolve_checkpoint_dir(run)?)?
            }
        };
        Ok(PictureShape::of(&model))
    }

    /// Builds the session: `run` is the run directory (read when resuming).
    pub fn build(
        &self,
        run: &std::path::Path,
        data: Arc<Dataset>,
        device: &Device,
    ) -> Result<TrainingSession, TrainError> {
        let mut session = match &self.start {
            RunStart::New(config) => TrainingSession::new(config.clone(), data, device)?,
            RunStart::FromGenerator { config, generator } => {
                TrainingSession::from_generator(config.clone(), generator, data, device)?
            }
            RunStart::Resume => TrainingSession::resume(run, data, device)?,
        };
        session.apply(&self.changes)?;
        Ok(session)
    }
}

/// What happens when a step diverges (a loss NaN, infinite or exploding): the weights are
/// garbage either way and are never saved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DivergencePolicy {
    /// Stop the run with an error; the last checkpoint on disk stays as it was.
    #[default]
    Stop,
    /// Go back to the last checkpoint (or the run's start) and pause, so that the user can
    /// change something (a lower rate) before going on.
    RollBackAndPause,
}

/// Everything the runner needs: the data, where the run lives, how it starts, and its cadence.
#[derive(Clone, Debug)]
pub struct TrainJob {
    /// Image folder.
    pub data: PathBuf,
    /// How non-square pictures become square.
    pub square: SquareMode,
    /// Run directory.
    pub run: PathBuf,
    /// How the run starts and what it changes.
    pub spec: RunSpec,
    /// Device.
    pub device: DeviceChoice,
    /// Sample grid every N steps (0: only the one written at the end).
    pub sample_every: u64,
    /// Checkpoint every N steps (0: only on demand and at the end).
    pub checkpoint_every: u64,
    /// Keep a generator export under `snapshots/` every N steps (0: never), to pick the best
    /// one afterwards with `hitogata eval`: GAN quality is not monotone.
    pub snapshot_every: u64,
    /// Stop (and save) once the run has done this many steps in total, if set.
    pub max_steps: Option<u64>,
    /// Critic-only updates before the first generator step (see
    /// [`TrainingSession::warm_up_critic`]): for a new critic steering a trained generator.
    pub critic_warmup: u64,
    /// What a diverged step does.
    pub on_divergence: DivergencePolicy,
}

impl TrainJob {
    /// A job with the usual cadence: samples every 100 steps, a checkpoint every 500, CPU or
    /// GPU as found, no step limit, and a diverged step stops the run.
    pub fn new(data: impl Into<PathBuf>, run: impl Into<PathBuf>, spec: RunSpec) -> Self {
        Self {
            data: data.into(),
            square: SquareMode::Pad,
            run: run.into(),
            spec,
            device: DeviceChoice::Auto,
            sample_every: 100,
            checkpoint_every: 500,
            snapshot_every: 0,
            max_steps: None,
            critic_warmup: 0,
            on_divergence: DivergencePolicy::Stop,
        }
    }
}

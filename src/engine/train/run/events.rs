//! What a running training run reports, and what it can be told, as typed values. The CLI
//! renders the events as a progress bar and log lines, the app as its grid and curves.

use std::path::PathBuf;

use image::RgbImage;

use crate::engine::files::data::Skipped;
use crate::engine::train::config::TrainConfig;
use crate::engine::train::run::collapse::CollapseWarning;
use crate::engine::train::state::Metrics;

/// Commands to a running run, checked between steps.
#[derive(Clone, Debug, PartialEq)]
pub enum TrainCommand {
    /// Hold after the current step.
    Pause,
    /// Go on.
    Resume,
    /// Save a checkpoint after the current step.
    SaveNow,
    /// Change the sample interval.
    SampleEvery(u64),
    /// End the run, saving a checkpoint (and a last sample grid) first if asked.
    Stop {
        /// Save before stopping.
        save: bool,
    },
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopCause {
    /// It reached its step limit.
    Finished,
    /// It was asked to stop.
    Asked,
}

/// What a run reports.
// `Started` (with the whole configuration) is sent once per run; the others are small.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum TrainEvent {
    /// The dataset loaded.
    DataLoaded {
        /// Usable images.
        images: usize,
        /// Files that could not be read.
        skipped: Vec<Skipped>,
        /// A few real pictures.
        preview: Vec<RgbImage>,
        /// Seconds it took.
        seconds: f32,
    },
    /// The session is built; training is about to begin.
    Started {
        /// Step it starts from (non-zero when resuming).
        step: u64,
        /// Device description.
        device: String,
        /// The configuration in effect.
        config: TrainConfig,
        /// Metrics so far (when resuming).
        history: Vec<Metrics>,
        /// Share of the critic's images augmented next.
        augment_share: f32,
    },
    /// One critic-only warm-up update done (see [`crate::engine::train::TrainJob::critic_warmup`]).
    CriticWarmUp {
        /// Updates done.
        done: u64,
        /// Updates asked for.
        total: u64,
        /// Its critic loss.
        critic_loss: f32,
        /// E[D(real)] − E[D(generated)].
        gap: f32,
    },
    /// One step done.
    Progress(Metrics),
    /// The discriminator has been winning for a while: the run is likely collapsing. Training
    /// goes on (the user decides); sent once until the run recovers.
    CollapseSuspected(CollapseWarning),
    /// The discriminator's loss has come back up after a [`TrainEvent::CollapseSuspected`]:
    /// the warning no longer applies.
    CollapseCleared {
        /// The step at which it was noticed.
        step: u64,
    },
    /// A fixed-z sample grid, also written under `samples/`.
    Samples {
        /// Step it shows.
        step: u64,
        /// One picture per fixed latent.
        images: Vec<RgbImage>,
    },
    /// A checkpoint (and the generator export) was written.
    Checkpoint {
        /// Step saved.
        step: u64,
        /// Run directory.
        run: PathBuf,
    },
    /// A generator export was kept under `snapshots/`.
    Snapshot {
        /// Step kept.
        step: u64,
        /// Its directory.
        dir: PathBuf,
    },
    /// The run is paused (by request, or because it diverged: then `reason` says why and the
    /// weights were rolled back to the last checkpoint).
    Paused {
        /// Step it holds at.
        step: u64,
        /// Why, if not asked for.
        reason: Option<String>,
    },
    /// Going again after a pause.
    Resumed,
    /// The run could not start or go on (sent by the app's worker; the CLI gets an error).
    Failed(String),
    /// The run ended.
    Stopped {
        /// Last step.
        step: u64,
        /// Whether a checkpoint was written at the end.
        saved: bool,
        /// Why.
        cause: StopCause,
    },
}

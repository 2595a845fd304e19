//! What a run has shown so far: its step, curves, sample grids and notices, updated from the
//! runner's events.

use std::path::PathBuf;
use std::time::Instant;

use image::RgbImage;

use crate::app::textures::upload;
use crate::engine::train::run::collapse::CollapseWarning;
use crate::engine::train::run::run_dir::sample_grid;
use crate::engine::train::{Metrics, RunDir, TrainEvent};

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// Nothing running.
    Idle,
    /// Loading data / building models.
    Starting,
    /// Stepping.
    Running,
    /// Held.
    Paused,
    /// Waiting for the final save before the window closes.
    Closing,
}

/// Most grids kept for the timeline; older ones are thinned out, never the newest.
pub const TIMELINE_LIMIT: usize = 240;

/// The live view of a run.
pub struct LiveRun {
    /// Where the run stands.
    pub state: RunState,
    /// Steps done.
    pub step: u64,
    /// Metrics of every step.
    pub history: Vec<Metrics>,
    /// Sample grids along the run: (step, grid).
    pub timeline: Vec<(u64, RgbImage)>,
    /// Timeline position shown; None follows the newest.
    pub timeline_pick: Option<usize>,
    /// Texture of the grid on screen.
    pub grid_texture: Option<egui::TextureHandle>,
    /// Sample grids received.
    pub samples_received: u64,
    /// Last step saved.
    pub last_checkpoint: Option<u64>,
    /// Device the run uses.
    pub device_name: Option<String>,
    /// Critic warm-up progress: (done, total, critic loss), until the first step.
    pub warmup_progress: Option<(u64, u64, f32)>,
    /// Why the run could not start or go on.
    pub error: Option<String>,
    /// Why it paused by itself (divergence), or other notes.
    pub notice: Option<String>,
    /// The run looks like it is collapsing (DCGAN: the discriminator keeps winning).
    pub collapse_warning: Option<CollapseWarning>,
    /// Steps per second, measured over a few seconds.
    pub steps_per_sec: f32,
    rate_window: Option<(Instant, u64)>,
    shown: Option<(usize, usize)>,
    /// Open the generator in the explorer once the next checkpoint is written.
    pub open_after_save: bool,
}

impl Default for LiveRun {
    fn default() -> Self {
        Self {
            state: RunState::Idle,
            step: 0,
            history: Vec::new(),
            timeline: Vec::new(),
            timeline_pick: None,
            grid_texture: None,
            samples_received: 0,
            last_checkpoint: None,
            device_name: None,
            warmup_progress: None,
            error: None,
            notice: None,
            collapse_warning: None,
            steps_per_sec: 0.0,
            rate_window: None,
            shown: None,
            open_after_save: false,
        }
    }
}

/// What the tab does after an event, beyond showing it.
pub enum AfterEvent {
    /// Nothing more.
    Nothing,
    /// The preview of the data the run loaded.
    Preview(
        Vec<RgbImage>,
        usize,
        Vec<crate::engine::files::data::Skipped>,
    ),
    /// The run's settings, to show in the form.
    Settings(Box<crate::engine::train::TrainConfig>),
    /// Open this generator in the explorer.
    Open(PathBuf),
    /// The run folder's checkpoint changed.
    Saved,
}

impl LiveRun {
    /// A new run starting: everything from the last one goes.
    pub fn starting(&mut self) {
        *self = Self {
            state: RunState::Starting,
            samples_received: self.samples_received,
            ..Self::default()
        };
    }

    /// Shows one event.
    pub fn on_event(&mut self, event: TrainEvent) -> AfterEvent {
        match event {
            TrainEvent::DataLoaded {
                images,
                skipped,
                preview,
                ..
            } => return AfterEvent::Preview(preview, images, skipped),
            TrainEvent::Started {
                step,
                device,
                config,
                history,
                ..
            } => {
                self.state = RunState::Running;
                self.step = step;
                self.device_name = Some(device);
                self.history = history;
                self.rate_window = Some((Instant::now(), step));
                return AfterEvent::Settings(Box::new(config));
            }
            TrainEvent::CriticWarmUp {
                done,
                total,
                critic_loss,
                ..
            } => self.warmup_progress = Some((done, total, critic_loss)),
            TrainEvent::Progress(m) => self.progress(m),
            TrainEvent::CollapseSuspected(warning) => self.collapse_warning = Some(warning),
            TrainEvent::CollapseCleared { step } => {
                if let Some(w) = self.collapse_warning.take() {
                    self.notice = Some(format!(
                        "Recovered at step {step}: the discriminator's loss is back up (the collapse warning of step {} no longer applies)",
                        w.step
                    ));
                }
            }
            TrainEvent::Samples { step, images } => {
                self.samples_received += 1;
                self.push_timeline(step, sample_grid(&images));
            }
            TrainEvent::Checkpoint { step, run } => {
                self.last_checkpoint = Some(step);
                if std::mem::take(&mut self.open_after_save) {
                    return AfterEvent::Open(RunDir::new(run).generator());
                }
                return AfterEvent::Saved;
            }
            TrainEvent::Snapshot { .. } => {}
            TrainEvent::Paused { step, reason } => {
                self.state = RunState::Paused;
                self.step = step;
                if let Some(r) = reason {
                    self.history.retain(|m| m.step <= step);
                    self.notice = Some(r);
                }
            }
            TrainEvent::Resumed => {
                self.state = RunState::Running;
                self.notice = None;
                self.rate_window = Some((Instant::now(), self.step));
            }
            TrainEvent::Failed(message) => {
                self.error = Some(message);
                if self.state == RunState::Starting {
                    self.state = RunState::Idle;
                }
            }
            TrainEvent::Stopped { step, saved, .. } => {
                self.step = step;
                if self.state != RunState::Closing {
                    self.state = RunState::Idle;
                }
                self.notice = Some(format!(
                    "Stopped at step {step}{}",
                    if saved { "; checkpoint saved" } else { "" }
                ));
                if saved {
                    self.last_checkpoint = Some(step);
                    return AfterEvent::Saved;
                }
            }
        }
        AfterEvent::Nothing
    }

    fn progress(&mut self, m: Metrics) {
        self.warmup_progress = None;
        self.step = m.step;
        self.history.push(m);
        if let Some((t0, s0)) = self.rate_window {
            let dt = t0.elapsed().as_secs_f32();
            if dt > 2.0 {
                self.steps_per_sec = (m.step - s0) as f32 / dt;
                self.rate_window = Some((Instant::now(), m.step));
            }
        }
    }

    fn push_timeline(&mut self, step: u64, grid: RgbImage) {
        if self.timeline.len() >= TIMELINE_LIMIT {
            // Drop every other old grid, keeping the first and the newest half intact.
            let keep: Vec<_> = self
                .timeline
                .drain(..)
                .enumerate()
                .filter(|(i, _)| i % 2 == 0 || *i >= TIMELINE_LIMIT / 2)
                .map(|(_, g)| g)
                .collect();
            self.timeline = keep;
            self.timeline_pick = None;
        }
        self.timeline.push((step, grid));
    }

    /// Uploads the grid on screen (the picked timeline entry, else the newest) when it changed.
    pub fn update_texture(&mut self, ctx: &egui::Context) {
        if self.timeline.is_empty() {
            return;
        }
        let index = self
            .timeline_pick
            .unwrap_or(self.timeline.len() - 1)
            .min(self.timeline.len() - 1);
        let key = (index, self.timeline.len());
        if self.shown != Some(key) {
            upload(
                ctx,
                &mut self.grid_texture,
                "training-grid",
                &self.timeline[index].1,
                false,
            );
            self.shown = Some(key);
        }
    }
}

//! The Training tab: pick data and settings, start/pause/resume/stop a run on its own thread,
//! watch a fixed-z sample grid form, scrub its timeline, follow the curves. The panels draw
//! and return [`TrainingAction`]s; the app applies them after layout.

mod controls;
mod curves;
mod folders;
mod form;
mod form_ui;
mod live;
mod progress;

use std::path::{Path, PathBuf};

use image::RgbImage;

pub use form::{RunForm, RunMode};
pub use live::RunState;

use crate::app::FileEvent;
use crate::app::command::{Commands, dialog};
use crate::app::textures::upload_all;
use crate::app::training::folders::Folders;
use crate::app::training::live::{AfterEvent, LiveRun};
use crate::engine::files::data::Skipped;
use crate::engine::files::render::save_gif;
use crate::engine::train::run::collapse::CollapseWarning;
use crate::engine::train::{Metrics, TrainCommand, TrainWorker};

/// What the tab asks the app to do.
#[derive(Clone, Debug, PartialEq)]
pub enum TrainingAction {
    /// Start a run with the form's settings.
    Start,
    /// Send a command to the running run.
    Command(TrainCommand),
    /// Save, then open the run's generator in the explorer.
    OpenInExplorer,
    /// Pick the dataset folder in a dialog.
    BrowseData,
    /// Save the timeline as an animated GIF (a dialog asks where).
    ExportTimeline,
}

/// The Training tab's state.
#[derive(Default)]
pub struct TrainingTab {
    form: RunForm,
    folders: Folders,
    live: LiveRun,
    smoothing: Smoothing,
    worker: Option<TrainWorker>,
    /// Where the remote server's token is kept (a file only its owner can read).
    token_file: Option<PathBuf>,
    /// Ask whether to save before closing.
    pub confirm_close: bool,
}

/// The curves' smoothing, 0.9 to start with.
struct Smoothing(f32);

impl Default for Smoothing {
    fn default() -> Self {
        Self(0.9)
    }
}

impl TrainingTab {
    /// Where the run stands.
    pub fn state(&self) -> RunState {
        self.live.state
    }

    /// Steps done.
    pub fn step(&self) -> u64 {
        self.live.step
    }

    /// Metrics of every step shown.
    pub fn history(&self) -> &[Metrics] {
        &self.live.history
    }

    /// The step of the last checkpoint written.
    pub fn last_checkpoint(&self) -> Option<u64> {
        self.live.last_checkpoint
    }

    /// Why the run could not start or go on.
    pub fn error(&self) -> Option<&str> {
        self.live.error.as_deref()
    }

    /// A note (a rollback, a recovery, a stop).
    pub fn notice(&self) -> Option<&str> {
        self.live.notice.as_deref()
    }

    /// The collapse warning on screen.
    pub fn collapse_warning(&self) -> Option<&CollapseWarning> {
        self.live.collapse_warning.as_ref()
    }

    /// Critic warm-up progress (done, total, loss).
    pub fn warmup_progress(&self) -> Option<(u64, u64, f32)> {
        self.live.warmup_progress
    }

    /// Images found in the dataset folder and files skipped.
    pub fn data_info(&self) -> Option<&(usize, Vec<Skipped>)> {
        self.folders.data_info.as_ref()
    }

    /// Pictures of the dataset shown.
    pub fn preview_count(&self) -> usize {
        self.folders.preview.len()
    }

    /// The run folder's checkpoint note, while resuming.
    pub fn resume_note(&self) -> Option<&str> {
        self.folders.resume_note.as_deref()
    }

    /// Sample grids received, and the timeline's length.
    pub fn samples(&self) -> (u64, usize) {
        (self.live.samples_received, self.live.timeline.len())
    }

    /// Whether a grid is on screen.
    pub fn shows_grid(&self) -> bool {
        self.live.grid_texture.is_some()
    }

    /// The form as it stands (what Start would run).
    pub fn form(&self) -> &RunForm {
        &self.form
    }

    /// Whether a run is active (starting, running or paused).
    pub fn active(&self) -> bool {
        self.worker.is_some() && self.live.state != RunState::Idle
    }

    /// True while the worker is inside a training step.
    pub fn in_step(&self) -> bool {
        self.worker.as_ref().is_some_and(|w| w.in_step())
    }

    /// Sets the dataset folder (from the folder dialog).
    pub fn set_data_dir(&mut self, dir: &Path) {
        self.form.data_dir = dir.display().to_string();
    }

    /// The remote server remembered from last time: its address, and the file its token is
    /// kept in (read now: a few bytes, at start-up).
    pub fn remember_remote(&mut self, address: Option<String>, token_file: PathBuf) {
        if let Some(address) = address {
            self.form.remote_address = address;
        }
        let read = crate::engine::files::bounded_read::read_text(
            &token_file,
            crate::engine::files::bounded_read::FileKind::TOKEN,
        );
        if let Ok(token) = read {
            self.form.remote_token = token.trim().to_string();
        }
        self.token_file = Some(token_file);
    }

    /// The remote server's address to remember (never the token).
    pub fn remote_address(&self) -> Option<String> {
        let address = self.form.remote_address.trim();
        (!address.is_empty()).then(|| address.to_string())
    }

    /// Starts a run with the form's settings; `explorer` is the explorer's generator.
    pub fn start(&mut self, ctx: &egui::Context, explorer: Option<&Path>) {
        if self.active() {
            return;
        }
        match self.form.job(explorer) {
            Ok(job) => {
                if let (crate::engine::device::DeviceChoice::Remote(target), Some(file)) =
                    (&job.device, &self.token_file)
                    && let Some(token) = target.token.clone()
                {
                    let file = file.clone();
                    std::thread::spawn(move || {
                        let _ = crate::engine::files::atomic::write_private_atomic(
                            &file,
                            token.as_bytes(),
                        );
                    });
                }
                self.live.starting();
                let ctx = ctx.clone();
                self.worker = Some(TrainWorker::start(
                    job,
                    Box::new(move || ctx.request_repaint()),
                ));
            }
            Err(e) => self.live.error = Some(e),
        }
    }

    /// Sends a command to the run.
    pub fn command(&mut self, command: TrainCommand) {
        if let Some(w) = &self.worker {
            w.send(command);
        }
    }

    /// Handles the worker's events; returns a generator to open in the explorer, if asked.
    pub(crate) fn poll(&mut self, ctx: &egui::Context) -> Option<PathBuf> {
        let mut open = None;
        let worker = self.worker.as_ref()?;
        let events: Vec<_> = std::iter::from_fn(|| worker.try_recv()).collect();
        for event in events {
            match self.live.on_event(event) {
                AfterEvent::Nothing => {}
                AfterEvent::Preview(preview, images, skipped) => {
                    self.folders.data_info = Some((images, skipped));
                    self.folders.preview = upload_all(ctx, "preview", &preview);
                }
                AfterEvent::Settings(config) => {
                    self.form.detail_anchor = config.detail_anchor.unwrap_or(0.0);
                    self.form.config = *config;
                }
                AfterEvent::Open(generator) => {
                    self.folders.run_folder_changed();
                    open = Some(generator);
                }
                AfterEvent::Saved => self.folders.run_folder_changed(),
            }
        }
        if self.live.state == RunState::Idle && self.worker.as_ref().is_some_and(|w| w.finished()) {
            self.worker = None;
        }
        self.live.update_texture(ctx);
        open
    }

    /// Whether the run has finished its closing save.
    pub fn closed(&self) -> bool {
        self.live.state == RunState::Closing && self.worker.as_ref().is_none_or(|w| w.finished())
    }

    /// Begins closing: stop, saving if asked.
    pub fn close(&mut self, save: bool) {
        self.command(TrainCommand::Stop { save });
        self.live.state = RunState::Closing;
    }

    /// The window may close now: the run has ended.
    pub fn closing_done(&mut self) {
        self.live.state = RunState::Idle;
    }

    /// Draws the tab; returns what the app should do.
    pub fn show(&mut self, ui: &mut egui::Ui, explorer: Option<&Path>) -> Vec<TrainingAction> {
        let active = self.active();
        let mut actions = form_ui::basic(&mut self.form, &mut self.folders, explorer, active, ui);
        actions.extend(controls::show(&self.live, &mut self.form.sample_every, ui));
        form_ui::advanced(&mut self.form, active, ui);
        progress::messages(&self.live, &self.folders, ui);
        ui.separator();
        progress::status(&self.live, self.form.target_steps, ui);
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| actions.extend(progress::grid(&mut self.live, ui)));
            ui.vertical(|ui| curves::show(&self.live.history, &mut self.smoothing.0, ui));
        });
        actions
    }

    /// The timeline's grids, for a GIF.
    fn timeline_frames(&self) -> Vec<RgbImage> {
        self.live.timeline.iter().map(|(_, g)| g.clone()).collect()
    }
}

impl TrainingTab {
    /// Carries out what the tab asked for; what needs the app (a dialog) comes back.
    /// `explorer` is the generator the explorer has loaded, to fine-tune.
    #[must_use]
    pub(crate) fn apply(
        &mut self,
        ctx: &egui::Context,
        action: TrainingAction,
        explorer: Option<&Path>,
    ) -> Commands {
        match action {
            TrainingAction::Start => self.start(ctx, explorer),
            TrainingAction::Command(c) => self.command(c),
            TrainingAction::OpenInExplorer => {
                self.live.open_after_save = true;
                self.command(TrainCommand::SaveNow);
            }
            TrainingAction::BrowseData => {
                return vec![dialog(|| {
                    rfd::FileDialog::new()
                        .pick_folder()
                        .map(FileEvent::TrainingData)
                })];
            }
            TrainingAction::ExportTimeline => {
                let frames = self.timeline_frames();
                return vec![dialog(move || {
                    let path = rfd::FileDialog::new()
                        .add_filter("GIF", &["gif"])
                        .set_file_name("timeline.gif")
                        .save_file()?;
                    Some(FileEvent::Message(match save_gif(&frames, 200, &path) {
                        Ok(()) => format!("Saved {}", path.display()),
                        Err(e) => format!("Cannot save {}: {e}", path.display()),
                    }))
                })];
            }
        }
        Commands::new()
    }
}

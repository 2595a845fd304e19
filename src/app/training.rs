//! The training tab: pick data and hyperparameters, start/pause/resume/stop a run on its own
//! thread, watch a fixed-z sample grid form, scrub its timeline, follow the curves.

use std::path::PathBuf;
use std::time::Instant;

use egui_plot::{Legend, Line, Plot};
use image::RgbImage;

use crate::app::folder_read::FolderRead;
use crate::app::textures::{upload, upload_all};
use crate::app::{FileEvent, HitogataApp, spawn_dialog};
use crate::engine::data::Skipped;
use crate::engine::device::DeviceChoice;
use crate::engine::model::{
    DEFAULT_PALETTE_WIDTH, MAX_MAPPING_WIDTH, MAX_PALETTE_COLORS, OUTPUT_SCALE_RANGE, Upsampling,
};
use crate::engine::render::save_gif;
use crate::engine::train::run_dir::sample_grid;
use crate::engine::train::{
    AdaptiveAugment, Algorithm, Augment, CollapseWarning, Metrics, ResumeOverrides, RunDir,
    TrainCommand, TrainConfig, TrainEvent, TrainJob, TrainWorker,
};

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

/// Points drawn per curve at most.
const PLOT_POINTS: usize = 4000;

/// Most grids kept for the timeline; older ones are thinned out, never the newest.
pub const TIMELINE_LIMIT: usize = 240;

/// Training tab state.
pub struct TrainingTab {
    /// Image folder.
    pub data_dir: String,
    /// Run directory.
    pub run_dir: String,
    /// Hyperparameters for a new run.
    pub config: TrainConfig,
    /// Device for the run.
    pub device: DeviceChoice,
    /// Continue the run folder's checkpoint.
    pub resume: bool,
    /// When resuming: apply the rates, average, augmentation and output scale shown here
    /// instead of keeping the checkpoint's.
    pub apply_on_resume: bool,
    /// When resuming: start the critic afresh (at the width shown).
    pub reset_critic: bool,
    /// A new run starts from the explorer's generator (fine-tuning it) instead of random
    /// weights.
    pub from_explorer: bool,
    /// The generator the explorer shows (set by the app each frame).
    pub explorer_checkpoint: Option<PathBuf>,
    /// Critic-only updates before a new critic steers a trained generator (with
    /// `from_explorer` or `reset_critic`).
    pub critic_warmup: u64,
    /// With `from_explorer`: weight of the detail anchor (0: none), which holds the fine
    /// detail near the explorer's generator while a lowpass critic moves the colours.
    pub detail_anchor: f32,
    /// With `from_explorer`: weight of the layout anchor (0: none), which holds the colour
    /// layout near the explorer's generator while a highpass critic moves the detail.
    pub layout_anchor: f32,
    /// With `from_explorer`: widen the explorer's generator to this ngf first (0: keep its
    /// width): the same pictures, more capacity.
    pub widen_ngf: usize,
    /// A new run's generator ends with an output palette of the data's this many most frequent
    /// colours (0: none; with `from_explorer`, the generator's own).
    pub palette_size: usize,
    /// Reach of that palette's pull, in 0–255 levels.
    pub palette_width: f32,
    /// Critic warm-up progress: (done, total, critic loss), until the first step.
    pub warmup_progress: Option<(u64, u64, f32)>,
    /// Sample grid interval.
    pub sample_every: u64,
    /// Checkpoint interval.
    pub checkpoint_every: u64,
    /// Stop at this total step count (0: run until stopped).
    pub target_steps: u64,
    /// Where the run stands.
    pub state: RunState,
    /// Images loaded and files skipped.
    pub data_info: Option<(usize, Vec<Skipped>)>,
    /// Real pictures from the dataset.
    pub preview: Vec<egui::TextureHandle>,
    /// Why the run could not start or go on.
    pub error: Option<String>,
    /// Why the chosen dataset folder cannot be used (found before starting).
    pub scan_error: Option<String>,
    /// Why it paused by itself (divergence), or other notes.
    pub notice: Option<String>,
    /// The run looks like it is collapsing (DCGAN: the discriminator keeps winning).
    pub collapse_warning: Option<CollapseWarning>,
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
    /// Exponential smoothing of the curves (0 = raw).
    pub smoothing: f32,
    /// Ask whether to save before closing.
    pub confirm_close: bool,
    worker: Option<TrainWorker>,
    scan: FolderRead<ScanResult>,
    /// What the run folder's checkpoint holds, shown while "resume" is ticked.
    pub resume_note: Option<String>,
    run_read: FolderRead<RunConfigResult>,
    shown: Option<(usize, usize)>,
    rate_window: Option<(Instant, u64)>,
    steps_per_sec: f32,
    open_after_save: bool,
}

impl Default for TrainingTab {
    fn default() -> Self {
        let mut config = TrainConfig::default();
        config.model = config.model.with_ngf(32).with_ndf(32);
        Self {
            data_dir: shipped_dataset("faces").display().to_string(),
            run_dir: "runs/faces".into(),
            config,
            device: DeviceChoice::Auto,
            resume: false,
            apply_on_resume: false,
            reset_critic: false,
            from_explorer: false,
            explorer_checkpoint: None,
            critic_warmup: 100,
            detail_anchor: 0.0,
            layout_anchor: 0.0,
            widen_ngf: 0,
            palette_size: 0,
            palette_width: DEFAULT_PALETTE_WIDTH,
            warmup_progress: None,
            sample_every: 50,
            checkpoint_every: 500,
            target_steps: 0,
            state: RunState::Idle,
            data_info: None,
            preview: Vec::new(),
            error: None,
            scan_error: None,
            notice: None,
            collapse_warning: None,
            step: 0,
            history: Vec::new(),
            timeline: Vec::new(),
            timeline_pick: None,
            grid_texture: None,
            samples_received: 0,
            last_checkpoint: None,
            device_name: None,
            smoothing: 0.9,
            confirm_close: false,
            worker: None,
            scan: FolderRead::default(),
            resume_note: None,
            run_read: FolderRead::default(),
            shown: None,
            rate_window: None,
            steps_per_sec: 0.0,
            open_after_save: false,
        }
    }
}

/// A dataset shipped in assets/datasets.
pub fn shipped_dataset(name: &str) -> PathBuf {
    let local = PathBuf::from("assets/datasets").join(name);
    if local.exists() {
        local
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("assets/datasets")
            .join(name)
    }
}

/// What a look at a dataset folder found: images, skipped files and a few pictures, or why
/// it cannot be used.
type ScanResult = Result<(usize, Vec<Skipped>, Vec<RgbImage>), String>;
/// A run folder's checkpoint: its step and settings, or why there is none.
type RunConfigResult = Result<(u64, TrainConfig), String>;

impl TrainingTab {
    /// While "resume" is ticked, reads the run folder's checkpoint settings on a thread and
    /// shows them in the fields, so that what is shown is what the run will keep (or, with
    /// "with these settings", the starting point for changes).
    pub(crate) fn read_run_config(&mut self, ctx: &egui::Context, typing: bool) {
        if let Some(result) = self.run_read.finished(&self.run_dir)
            && self.resume
            && !self.active()
        {
            match result {
                Ok((step, config)) => {
                    if let Some(weight) = config.detail_anchor {
                        self.detail_anchor = weight;
                    }
                    if let Some(weight) = config.layout_anchor {
                        self.layout_anchor = weight;
                    }
                    self.config = config;
                    self.resume_note = Some(format!("the checkpoint's settings (step {step})"));
                }
                Err(e) => self.resume_note = Some(format!("nothing to resume: {e}")),
            }
        }
        if !self.resume {
            self.run_read.forget();
            self.resume_note = None;
            return;
        }
        if typing || self.active() {
            return;
        }
        self.run_read.start(&self.run_dir, ctx, |dir| {
            RunDir::new(dir)
                .checkpoint_config()
                .map_err(|e| e.to_string())
        });
    }

    /// Looks at the dataset folder on a background thread when it changed (and the user is not
    /// typing in it), so counts, skipped files and a preview show before a run starts.
    pub(crate) fn scan_dataset(&mut self, ctx: &egui::Context, typing: bool) {
        if let Some(result) = self.scan.finished(&self.data_dir) {
            match result {
                Ok((n, skipped, preview)) => {
                    self.data_info = Some((n, skipped));
                    self.preview = upload_all(ctx, "preview", &preview);
                    self.scan_error = None;
                }
                Err(e) => {
                    self.data_info = None;
                    self.preview.clear();
                    self.scan_error = Some(e);
                }
            }
        }
        if typing {
            return;
        }
        self.scan.start(&self.data_dir, ctx, |path| {
            crate::engine::data::Dataset::load_folder(&path, crate::engine::data::SquareMode::Pad)
                .map(|d| {
                    let n = d.len.min(16);
                    let preview = (0..n).map(|i| d.image(i * d.len / n)).collect();
                    (d.len, d.skipped, preview)
                })
                .map_err(|e| e.to_string())
        });
    }

    /// Whether a run is active (starting, running or paused).
    pub fn active(&self) -> bool {
        self.worker.is_some() && self.state != RunState::Idle
    }

    /// True while the worker is inside a training step.
    pub fn in_step(&self) -> bool {
        self.worker.as_ref().is_some_and(|w| w.in_step())
    }

    /// What a resumed run takes from the tab's fields.
    pub fn resume_overrides(&self) -> ResumeOverrides {
        let mut overrides = ResumeOverrides::default();
        if self.apply_on_resume {
            overrides.lr = Some(self.config.optimizer_g.lr());
            overrides.critic_lr = Some(self.config.optimizer_c.lr());
            overrides.ema_decay = Some(self.config.ema_decay);
            overrides.batch_size = Some(self.config.batch_size);
            overrides.augment = Some(self.config.augment);
            overrides.adaptive_augment = Some(self.config.adaptive_augment);
            overrides.output_scale = Some(self.config.model.output_scale());
            if self.config.model.latent_mapping.is_some() {
                overrides.mapping_lr = self.config.mapping_lr;
            }
            overrides.layout_sw = self.config.layout_sw;
        }
        if self.resumed_anchor_applies() {
            // Each anchor the run has, or one switched on now (both use its initial generator).
            overrides.detail_anchor = (self.config.detail_anchor.is_some()
                || self.detail_anchor > 0.0)
                .then_some(self.detail_anchor);
            overrides.layout_anchor = (self.config.layout_anchor.is_some()
                || self.layout_anchor > 0.0)
                .then_some(self.layout_anchor);
        }
        if self.reset_critic {
            overrides.reset_critic = true;
            overrides.critic_ndf = Some(self.config.model.ndf);
        }
        overrides
    }

    /// Whether the anchor fields change the resumed run's (which has an anchor, so keeps its
    /// initial generator).
    fn resumed_anchor_applies(&self) -> bool {
        self.resume && self.apply_on_resume && self.config.anchored()
    }

    /// The generator a new run starts from, if it is not random.
    pub fn initial_generator(&self) -> Option<PathBuf> {
        (self.from_explorer && !self.resume)
            .then(|| self.explorer_checkpoint.clone())
            .flatten()
    }

    /// Whether the run gets a new critic next to a trained generator (then it warms up first).
    fn fresh_critic_for_trained_generator(&self) -> bool {
        if self.resume {
            self.reset_critic
        } else {
            self.initial_generator().is_some()
        }
    }

    /// Starts a run with the current settings.
    pub fn start(&mut self, ctx: &egui::Context) {
        if self.active() {
            return;
        }
        // The fields may still hold the last run's anchors: only a run from a trained
        // generator has one to anchor to.
        let mut config = self.config.clone();
        let anchor =
            |weight: f32| (self.initial_generator().is_some() && weight > 0.0).then_some(weight);
        config.detail_anchor = anchor(self.detail_anchor);
        config.layout_anchor = anchor(self.layout_anchor);
        // Likewise the last run's palette: a new one is made from the data when asked for.
        if self.initial_generator().is_none() {
            config.model.output_palette = None;
        }
        if config.model.latent_mapping.is_none() {
            config.mapping_lr = None;
        }
        config.layout_sw = config.layout_sw.filter(|&weight| weight > 0.0);
        let job = TrainJob {
            init_generator: self.initial_generator(),
            widen_ngf: (self.initial_generator().is_some() && self.widen_ngf > 0)
                .then_some(self.widen_ngf),
            palette: (self.palette_size > 0).then_some((self.palette_size, self.palette_width)),
            critic_warmup: if self.fresh_critic_for_trained_generator() {
                self.critic_warmup
            } else {
                0
            },
            data: PathBuf::from(self.data_dir.trim()),
            run: PathBuf::from(self.run_dir.trim()),
            config,
            resume: self.resume,
            overrides: self.resume_overrides(),
            device: self.device,
            sample_every: self.sample_every,
            checkpoint_every: self.checkpoint_every,
            max_steps: (self.target_steps > 0).then_some(self.target_steps),
        };
        self.error = None;
        self.notice = None;
        self.collapse_warning = None;
        self.history.clear();
        self.timeline.clear();
        self.timeline_pick = None;
        self.shown = None;
        self.step = 0;
        self.last_checkpoint = None;
        self.warmup_progress = None;
        self.state = RunState::Starting;
        let ctx = ctx.clone();
        self.worker = Some(TrainWorker::start(
            job,
            Box::new(move || ctx.request_repaint()),
        ));
    }

    /// Sends a command to the run.
    pub fn command(&mut self, command: TrainCommand) {
        if let Some(w) = &self.worker {
            w.send(command);
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

    /// Handles the worker's events; returns a checkpoint to open in the explorer, if asked.
    pub(crate) fn poll(&mut self, ctx: &egui::Context) -> Option<PathBuf> {
        let mut open = None;
        let Some(worker) = &self.worker else {
            return None;
        };
        let mut events = Vec::new();
        while let Some(e) = worker.try_recv() {
            events.push(e);
        }
        for event in events {
            match event {
                TrainEvent::DataLoaded {
                    images,
                    skipped,
                    preview,
                } => {
                    self.data_info = Some((images, skipped));
                    self.preview = upload_all(ctx, "preview", &preview);
                }
                TrainEvent::Started {
                    step,
                    device,
                    config,
                    history,
                } => {
                    self.state = RunState::Running;
                    self.step = step;
                    self.device_name = Some(device);
                    if let Some(palette) = &config.model.output_palette {
                        self.palette_size = palette.colors.len();
                        self.palette_width = palette.width;
                    } else {
                        self.palette_size = 0;
                    }
                    self.config = config;
                    self.history = history;
                    self.rate_window = Some((Instant::now(), step));
                }
                TrainEvent::CriticWarmUp {
                    done,
                    total,
                    critic_loss,
                } => self.warmup_progress = Some((done, total, critic_loss)),
                TrainEvent::Progress(m) => {
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
                        open = Some(RunDir::new(run).generator());
                    }
                }
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
                TrainEvent::Stopped { step, saved } => {
                    self.step = step;
                    if saved {
                        self.last_checkpoint = Some(step);
                        // The folder's checkpoint changed: "resume" reads it again.
                        self.run_read.forget();
                    }
                    self.state = if self.state == RunState::Closing {
                        RunState::Closing
                    } else {
                        RunState::Idle
                    };
                    self.notice = Some(format!(
                        "Stopped at step {step}{}",
                        if saved { "; checkpoint saved" } else { "" }
                    ));
                }
            }
        }
        if self.state == RunState::Idle && self.worker.as_ref().is_some_and(|w| w.finished()) {
            self.worker = None;
        }
        // The grid on screen: the picked timeline entry, else the newest.
        if !self.timeline.is_empty() {
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
        open
    }

    /// Whether the run has finished its closing save.
    pub fn closed(&self) -> bool {
        self.state == RunState::Closing && self.worker.as_ref().is_none_or(|w| w.finished())
    }

    /// Begins closing: stop, saving if asked.
    pub fn close(&mut self, save: bool) {
        self.command(TrainCommand::Stop { save });
        self.state = RunState::Closing;
    }
}

fn smoothed(values: impl Iterator<Item = (f64, f64)>, alpha: f64) -> Vec<[f64; 2]> {
    let mut s = None;
    values
        .map(|(x, y)| {
            let v = match s {
                None => y,
                Some(prev) => alpha * prev + (1.0 - alpha) * y,
            };
            s = Some(v);
            [x, v]
        })
        .collect()
}

/// A learning-rate field; true when the user changed it.
fn lr_field(ui: &mut egui::Ui, lr: &mut f64, prefix: &str, hover: &str) -> bool {
    ui.add(
        egui::DragValue::new(lr)
            .speed(1e-5)
            .range(1e-7..=1e-1)
            .prefix(prefix),
    )
    .on_hover_text(hover)
    .changed()
}

/// A "0 is none" number field's text.
fn zero_is(none: &'static str) -> impl Fn(f64, std::ops::RangeInclusive<usize>) -> String {
    move |n, _| {
        if n == 0.0 {
            none.into()
        } else {
            format!("{n}")
        }
    }
}

/// The generator's optional parts: the latent mapping in front, the output palette behind.
fn generator_extras(tab: &mut TrainingTab, ui: &mut egui::Ui) {
    let mut mapping = tab.config.model.latent_mapping.unwrap_or(0);
    if ui
        .add(
            egui::DragValue::new(&mut mapping)
                .range(0..=MAX_MAPPING_WIDTH)
                .speed(4.0)
                .custom_formatter(zero_is("none"))
                .prefix("latent mapping "),
        )
        .on_hover_text(
            "z + MLP(z) in front of the generator, two hidden layers this wide (none: 0), so it can squeeze the latent regions that draw blends between the data's discrete looks; added to a trained generator as the identity",
        )
        .changed()
    {
        tab.config.model.latent_mapping = (mapping > 0).then_some(mapping);
    }
    ui.add(
        egui::DragValue::new(&mut tab.palette_size)
            .range(0..=MAX_PALETTE_COLORS)
            .custom_formatter(zero_is(if tab.from_explorer { "keep" } else { "none" }))
            .prefix("palette "),
    )
    .on_hover_text(
        "End the generator with an output palette of the data's this many most frequent colours: pixels near one are pulled onto it, so flat areas come out flat",
    );
    if tab.palette_size > 0 {
        ui.add(
            egui::DragValue::new(&mut tab.palette_width)
                .range(0.5..=64.0)
                .speed(0.1)
                .max_decimals(1)
                .prefix("palette width "),
        )
        .on_hover_text("Reach of the palette's pull, in 0–255 levels");
    }
}

fn settings(
    tab: &mut TrainingTab,
    app_files: &std::sync::mpsc::Sender<FileEvent>,
    ui: &mut egui::Ui,
) {
    let idle = !tab.active();
    ui.add_enabled_ui(idle, |ui| {
        egui::Grid::new("train-settings")
            .num_columns(2)
            .show(ui, |ui| {
                ui.label("Dataset");
                ui.horizontal(|ui| {
                    let field = ui
                        .add(egui::TextEdit::singleline(&mut tab.data_dir).desired_width(260.0))
                        .on_hover_text("Folder of images, searched recursively");
                    tab.scan_dataset(ui.ctx(), field.has_focus());
                    if ui.button("Browse...").clicked() {
                        spawn_dialog(app_files.clone(), || {
                            rfd::FileDialog::new()
                                .pick_folder()
                                .map(FileEvent::TrainingData)
                        });
                    }
                    for name in ["faces", "people"] {
                        if ui
                            .button(name)
                            .on_hover_text("A dataset shipped with hitogata")
                            .clicked()
                        {
                            tab.data_dir = shipped_dataset(name).display().to_string();
                            tab.run_dir = format!("runs/{name}");
                        }
                    }
                });
                ui.end_row();
                ui.label("Run folder");
                ui.horizontal(|ui| {
                    let field = ui
                        .add(egui::TextEdit::singleline(&mut tab.run_dir).desired_width(260.0))
                        .on_hover_text(
                            "Checkpoints, the generator export and sample grids go here",
                        );
                    ui.checkbox(&mut tab.resume, "resume")
                        .on_hover_text("Continue the checkpoint in the run folder");
                    tab.read_run_config(ui.ctx(), field.has_focus());
                    if tab.resume {
                        ui.checkbox(&mut tab.apply_on_resume, "with these settings")
                            .on_hover_text(
                                "Apply the batch size, learning rates, average, augment and output scale below to the resumed run (otherwise it keeps the checkpoint's; its model shape always stays)",
                            );
                        ui.checkbox(&mut tab.reset_critic, "fresh critic").on_hover_text(
                            "Start the critic afresh at the ndf below, keeping the generator: for a discriminator whose loss sits at chance",
                        );
                        if let Some(note) = &tab.resume_note {
                            ui.weak(note);
                        }
                    } else if let Some(dir) = &tab.explorer_checkpoint {
                        ui.checkbox(&mut tab.from_explorer, "from the explorer's generator")
                            .on_hover_text(format!(
                                "Start from {} instead of random weights (fine-tuning it, perhaps on other pictures), with a new critic; its ngf, z, upsampling and output scale replace the fields below",
                                dir.display()
                            ));
                    }
                    if tab.fresh_critic_for_trained_generator() {
                        ui.add(
                            egui::DragValue::new(&mut tab.critic_warmup)
                                .range(0..=100_000)
                                .prefix("critic warm-up "),
                        )
                        .on_hover_text(
                            "Critic-only updates first, the generator held still, so the new critic tells real from generated before it steers a trained generator",
                        );
                    }
                    if tab.initial_generator().is_some() || tab.resumed_anchor_applies() {
                        ui.add(
                            egui::DragValue::new(&mut tab.detail_anchor)
                                .range(0.0..=100_000.0)
                                .speed(10.0)
                                .prefix("detail anchor "),
                        )
                        .on_hover_text(
                            "Pull the fine detail (each picture minus its 4×4 block averages) towards the starting generator with this weight (0: off); for a lowpass critic, which cannot see that detail. 1000 held it for 1,250 steps",
                        );
                        ui.add(
                            egui::DragValue::new(&mut tab.layout_anchor)
                                .range(0.0..=100_000.0)
                                .speed(10.0)
                                .prefix("layout anchor "),
                        )
                        .on_hover_text(
                            "Pull the colour layout (each picture's 4×4 block averages) towards the starting generator with this weight (0: off); for a highpass critic, which cannot see the layout",
                        );
                    }
                    if tab.initial_generator().is_some() {
                        ui.add(
                            egui::DragValue::new(&mut tab.widen_ngf)
                                .range(0..=512)
                                .custom_formatter(zero_is("keep"))
                                .prefix("widen to ngf "),
                        )
                        .on_hover_text(
                            "Widen the explorer's generator to this width first (keep: its own): it draws the same pictures, with more feature maps for training to use (Net2WiderNet)",
                        );
                    }
                });
                ui.end_row();
                ui.label("Algorithm");
                ui.horizontal(|ui| {
                    let before = tab.config.algorithm;
                    egui::ComboBox::from_id_salt("algo")
                        .selected_text(format!("{:?}", tab.config.algorithm).to_lowercase())
                        .show_ui(ui, |ui| {
                            ui.selectable_value(&mut tab.config.algorithm, Algorithm::Wgan, "wgan");
                            ui.selectable_value(
                                &mut tab.config.algorithm,
                                Algorithm::Dcgan,
                                "dcgan",
                            );
                        })
                        .response
                        .on_hover_text("wgan: weight clipping, RMSProp; dcgan: BCE, Adam");
                    if tab.config.algorithm != before {
                        // Switching algorithm brings its defaults, keeping sizes and seed.
                        let mut fresh = TrainConfig::for_algorithm(tab.config.algorithm);
                        fresh.model.ngf = tab.config.model.ngf;
                        fresh.model.ndf = tab.config.model.ndf;
                        fresh.model.latent_dim = tab.config.model.latent_dim;
                        fresh.model.upsampling = tab.config.model.upsampling;
                        fresh.model.output_scale = tab.config.model.output_scale;
                        fresh.model.output_palette = tab.config.model.output_palette.clone();
                        fresh.model.latent_mapping = tab.config.model.latent_mapping;
                        fresh.seed = tab.config.seed;
                        fresh.augment = tab.config.augment;
                        tab.config = fresh;
                    }
                    ui.label("device");
                    egui::ComboBox::from_id_salt("train-device")
                        .selected_text(tab.device.to_string())
                        .show_ui(ui, |ui| {
                            ui.selectable_value(&mut tab.device, DeviceChoice::Auto, "auto");
                            ui.selectable_value(&mut tab.device, DeviceChoice::Wgpu, "wgpu");
                            ui.selectable_value(&mut tab.device, DeviceChoice::Cpu, "cpu");
                        });
                });
                ui.end_row();
                ui.label("Model");
                ui.horizontal(|ui| {
                    ui.add(
                        egui::DragValue::new(&mut tab.config.model.ngf)
                            .range(1..=512)
                            .prefix("ngf "),
                    )
                    .on_hover_text("Generator width");
                    ui.add(
                        egui::DragValue::new(&mut tab.config.model.ndf)
                            .range(1..=512)
                            .prefix("ndf "),
                    )
                    .on_hover_text("Critic width");
                    ui.add(
                        egui::DragValue::new(&mut tab.config.model.latent_dim)
                            .range(1..=512)
                            .prefix("z "),
                    )
                    .on_hover_text("Latent size");
                    let mut upsampling = tab.config.model.upsampling();
                    let name = |u| match u {
                        Upsampling::Transposed => "transposed conv",
                        Upsampling::Resize => "resize-conv",
                    };
                    egui::ComboBox::from_label("upsampling")
                        .selected_text(name(upsampling))
                        .show_ui(ui, |ui| {
                            for u in [Upsampling::Transposed, Upsampling::Resize] {
                                ui.selectable_value(&mut upsampling, u, name(u));
                            }
                        })
                        .response
                        .on_hover_text(
                            "How the generator doubles its resolution: DCGAN's transposed convolutions, or nearest-neighbour resize then a convolution (no checkerboard speckle, slower)",
                        );
                    if upsampling != tab.config.model.upsampling() {
                        tab.config.model.upsampling = Some(upsampling);
                    }
                    let mut scale = tab.config.model.output_scale();
                    if ui
                        .add(
                            egui::DragValue::new(&mut scale)
                                .speed(0.01)
                                .range(OUTPUT_SCALE_RANGE)
                                .max_decimals(2)
                                .prefix("output scale "),
                        )
                        .on_hover_text(
                            "The generator draws clamp(scale · tanh): above 1, the pure white of flat illustrations' backgrounds becomes reachable",
                        )
                        .changed()
                        && let Ok(model) =
                            tab.config.model.clone().with_checked_output_scale(scale)
                    {
                        tab.config.model = model;
                    }
                });
                ui.end_row();
                ui.label("");
                ui.horizontal(|ui| generator_extras(tab, ui));
                ui.end_row();
                ui.label("Optimisation");
                ui.horizontal(|ui| {
                    ui.add(
                        egui::DragValue::new(&mut tab.config.batch_size)
                            .range(1..=1024)
                            .prefix("batch "),
                    )
                    .on_hover_text("Images per batch");
                    ui.add(
                        egui::DragValue::new(&mut tab.config.n_critic)
                            .range(1..=100)
                            .prefix("n_critic "),
                    )
                    .on_hover_text("Critic updates per generator update");
                    ui.add(
                        egui::DragValue::new(&mut tab.config.ema_decay)
                            .speed(1e-4)
                            .range(0.0..=0.9999)
                            .max_decimals(4)
                            .prefix("average "),
                    )
                    .on_hover_text(
                        "Decay of the generator weight average that samples and exports use (0: off)",
                    );
                    // The critic's rate follows the generator's until it is set apart.
                    let mut lr = tab.config.optimizer_g.lr();
                    let mut critic_lr = tab.config.optimizer_c.lr();
                    let together = lr == critic_lr;
                    if lr_field(
                        ui,
                        &mut lr,
                        "lr ",
                        "Learning rate of the generator (and of the critic while they are equal)",
                    ) {
                        tab.config.optimizer_g = tab.config.optimizer_g.clone().with_lr(lr);
                        if together {
                            tab.config.optimizer_c = tab.config.optimizer_c.clone().with_lr(lr);
                        }
                    }
                    if lr_field(
                        ui,
                        &mut critic_lr,
                        "critic lr ",
                        "Learning rate of the critic alone: a slower critic helps when the discriminator keeps winning",
                    ) {
                        tab.config.optimizer_c = tab.config.optimizer_c.clone().with_lr(critic_lr);
                    }
                    if tab.config.model.latent_mapping.is_some() {
                        let mut mapping_lr = tab.config.mapping_lr.unwrap_or(lr);
                        if lr_field(
                            ui,
                            &mut mapping_lr,
                            "mapping lr ",
                            "Learning rate of the latent mapping alone (it starts as the generator's); a mapping added to a trained generator moves little at a fine-tuning rate",
                        ) {
                            tab.config.mapping_lr = Some(mapping_lr);
                        }
                    }
                    let mut layout = tab.config.layout_sw.unwrap_or(0.0);
                    if ui
                        .add(
                            egui::DragValue::new(&mut layout)
                                .range(0.0..=100_000.0)
                                .speed(1.0)
                                .prefix("layout term "),
                        )
                        .on_hover_text(
                            "Weight of the sliced Wasserstein distance between the generated and real colour layouts (4×4 block averages), region by region, in the generator's loss (0: off): a direct pull on how often each coarse look appears where it does",
                        )
                        .changed()
                    {
                        // 0 stays a value once set, so that a resumed run can switch it off.
                        tab.config.layout_sw =
                            (layout > 0.0 || tab.config.layout_sw.is_some()).then_some(layout);
                    }
                    let policy = tab.config.augment;
                    let mut augment = policy.color || policy.translation || policy.cutout;
                    if ui
                        .checkbox(&mut augment, "augment")
                        .on_hover_text(
                            "DiffAugment: the critic sees real and generated images with the same random colour, shift and cut-out, so it cannot memorise a small dataset",
                        )
                        .changed()
                    {
                        // The lowpass and highpass views are separate boxes and stay as they are.
                        let ops = if augment { Augment::ALL } else { Augment::default() };
                        tab.config.augment = Augment {
                            color_strength: policy.color_strength,
                            lowpass: policy.lowpass,
                            lowpass_block: policy.lowpass_block,
                            highpass: policy.highpass,
                            ..ops
                        };
                    }
                    let mut lowpass = policy.lowpass;
                    if ui
                        .checkbox(&mut lowpass, "lowpass")
                        .on_hover_text(
                            "The critic sees 4×4 block averages only: it judges the coarse colour layout, not the detail. For fine-tuning a trained generator's colours (with an initial generator and a new critic)",
                        )
                        .changed()
                    {
                        tab.config.augment.lowpass = lowpass;
                        tab.config.augment.lowpass_block = None;
                        // One view or the other: both would leave the critic nothing.
                        tab.config.augment.highpass &= !lowpass;
                    }
                    let mut highpass = tab.config.augment.highpass;
                    if ui
                        .checkbox(&mut highpass, "highpass")
                        .on_hover_text(
                            "The critic sees each picture minus its 4×4 block averages: it judges edges and texture, not the colour layout. For fine-tuning a trained generator's detail (with a layout anchor)",
                        )
                        .changed()
                    {
                        tab.config.augment.highpass = highpass;
                        tab.config.augment.lowpass &= !highpass;
                    }
                    if tab.config.augment.lowpass {
                        let block = tab.config.augment.lowpass_block;
                        let name = |block: Option<usize>| match block {
                            Some(2) => "2×2",
                            _ => "4×4",
                        };
                        egui::ComboBox::new("lowpass-block", "blocks")
                            .selected_text(name(block))
                            .show_ui(ui, |ui| {
                                let view = &mut tab.config.augment.lowpass_block;
                                ui.selectable_value(view, None, name(None))
                                    .on_hover_text("The 16 px layout (eval's coarsest level)");
                                ui.selectable_value(view, Some(2), name(Some(2)))
                                    .on_hover_text("The 32 px layout: for a generator whose 16 px layout is settled");
                            })
                            .response
                            .on_hover_text("What the lowpass critic averages over");
                    }
                    if tab.config.augment.is_off() {
                        tab.config.adaptive_augment = None;
                    }
                    if !tab.config.augment.is_off() {
                        let mut adaptive = tab.config.adaptive_augment.is_some();
                        if ui
                            .checkbox(&mut adaptive, "adaptive")
                            .on_hover_text(
                                "ADA: augment only a share of the images, raised while the critic is too sure of real images (E[sign D(real)] above 0.6) and lowered otherwise",
                            )
                            .changed()
                        {
                            tab.config.adaptive_augment = adaptive.then(|| {
                                AdaptiveAugment::with_target(AdaptiveAugment::DEFAULT_TARGET)
                            });
                        }
                    }
                    if tab.config.algorithm == Algorithm::Wgan {
                        ui.add(
                            egui::DragValue::new(&mut tab.config.clip)
                                .speed(1e-3)
                                .range(1e-4..=1.0)
                                .prefix("clip "),
                        )
                        .on_hover_text("Critic weights stay within ±clip");
                        ui.checkbox(&mut tab.config.warmup_schedule, "warm-up")
                            .on_hover_text(
                                "The WGAN paper's 100 critic steps early on and every 500th step",
                            );
                    }
                });
                ui.end_row();
                ui.label("Run");
                ui.horizontal(|ui| {
                    ui.add(egui::DragValue::new(&mut tab.config.seed).prefix("seed "))
                        .on_hover_text("Same seed, same run (on the CPU)");
                    ui.add(
                        egui::DragValue::new(&mut tab.checkpoint_every).prefix("checkpoint every "),
                    )
                    .on_hover_text("Steps between checkpoints (0: only on demand)");
                    ui.add(egui::DragValue::new(&mut tab.target_steps).prefix("stop at "))
                        .on_hover_text("Total steps to stop at (0: never)");
                });
                ui.end_row();
            });
    });
}

/// Draws the training tab.
pub fn show(app: &mut HitogataApp, ui: &mut egui::Ui) {
    let files = app.file_sender();
    let tab = &mut app.training;
    tab.explorer_checkpoint = app.checkpoint_dir.clone();
    settings(tab, &files, ui);
    ui.horizontal(|ui| {
        match tab.state {
            RunState::Idle => {
                if ui
                    .button("Start")
                    .on_hover_text("Start (or resume) training on its own thread")
                    .clicked()
                {
                    tab.start(ui.ctx());
                }
            }
            RunState::Starting => {
                ui.spinner();
                ui.label("loading data and models...");
            }
            RunState::Running => {
                if ui.button("Pause").clicked() {
                    tab.command(TrainCommand::Pause);
                }
            }
            RunState::Paused => {
                if ui.button("Resume").clicked() {
                    tab.command(TrainCommand::Resume);
                }
            }
            RunState::Closing => {
                ui.spinner();
                ui.label("saving before closing...");
            }
        }
        if tab.active() {
            if ui
                .button("Stop")
                .on_hover_text("Save a checkpoint and end the run")
                .clicked()
            {
                tab.command(TrainCommand::Stop { save: true });
            }
            if ui
                .button("Save now")
                .on_hover_text("Write a checkpoint after the current step")
                .clicked()
            {
                tab.command(TrainCommand::SaveNow);
            }
            if ui
                .button("Open in explorer")
                .on_hover_text("Save, then load this generator in the explorer tab")
                .clicked()
            {
                tab.open_after_save = true;
                tab.command(TrainCommand::SaveNow);
            }
        }
        ui.label("samples every");
        if ui
            .add(egui::DragValue::new(&mut tab.sample_every).range(1..=100_000))
            .changed()
        {
            let n = tab.sample_every;
            tab.command(TrainCommand::SampleEvery(n));
        }
    });
    if let Some(e) = tab.error.as_ref().or(tab.scan_error.as_ref()) {
        ui.colored_label(egui::Color32::from_rgb(200, 40, 40), e);
    }
    if let Some(n) = &tab.notice {
        ui.colored_label(egui::Color32::from_rgb(210, 120, 0), n);
    }
    if let Some((done, total, loss)) = tab.warmup_progress {
        ui.label(format!(
            "critic warm-up: {done} / {total} updates, critic loss {loss:.3}"
        ));
    }
    if let Some(w) = &tab.collapse_warning {
        ui.colored_label(
            egui::Color32::from_rgb(210, 120, 0),
            format!("Possible collapse at {w}"),
        );
    }
    if let Some((n, skipped)) = &tab.data_info {
        let text = if skipped.is_empty() {
            format!("{n} images loaded")
        } else {
            format!(
                "{n} images loaded, {} skipped{}",
                skipped.len(),
                crate::engine::data::summarize_skipped(skipped, 3)
            )
        };
        ui.label(text);
    }
    ui.horizontal(|ui| {
        for tex in tab.preview.iter().take(16) {
            ui.add(egui::Image::new(tex).fit_to_exact_size(egui::vec2(32.0, 32.0)));
        }
    });
    ui.separator();
    let last = tab.history.last().copied();
    ui.horizontal(|ui| {
        ui.label(format!("step {}", tab.step));
        if let Some(m) = last {
            ui.label(format!(
                "| {:.2} steps/s | {:.0} img/s",
                tab.steps_per_sec, m.images_per_sec
            ));
            if let Some(share) = m.augment_share {
                ui.label(format!("| augmented {:.0} %", 100.0 * share));
            }
        }
        let elapsed: f32 = tab.history.iter().map(|m| m.seconds).sum();
        ui.label(format!("| elapsed {:.0} s", elapsed));
        if tab.target_steps > tab.step && tab.steps_per_sec > 0.0 {
            ui.label(format!(
                "| ETA {:.0} s",
                (tab.target_steps - tab.step) as f32 / tab.steps_per_sec
            ));
        }
        if let Some(s) = tab.last_checkpoint {
            ui.label(format!("| saved at step {s}"));
        }
        if let Some(d) = &tab.device_name {
            ui.label(format!("| {d}"));
        }
    });
    ui.horizontal_top(|ui| {
        ui.vertical(|ui| {
            if let Some(tex) = &tab.grid_texture {
                ui.add(egui::Image::new(tex).fit_to_exact_size(egui::vec2(420.0, 420.0)));
            } else {
                ui.allocate_ui(egui::vec2(420.0, 420.0), |ui| {
                    ui.label("The sample grid appears here.")
                });
            }
            if !tab.timeline.is_empty() {
                let n = tab.timeline.len();
                let mut index = tab.timeline_pick.unwrap_or(n - 1);
                let label = format!("step {}", tab.timeline[index.min(n - 1)].0);
                if ui
                    .add(egui::Slider::new(&mut index, 0..=n - 1).text(label))
                    .on_hover_text("Scrub through the grids taken along the run")
                    .changed()
                {
                    tab.timeline_pick = if index == n - 1 { None } else { Some(index) };
                }
                if ui.button("Export timeline GIF...").clicked() {
                    let frames: Vec<RgbImage> =
                        tab.timeline.iter().map(|(_, g)| g.clone()).collect();
                    spawn_dialog(files.clone(), move || {
                        let path = rfd::FileDialog::new()
                            .add_filter("GIF", &["gif"])
                            .set_file_name("timeline.gif")
                            .save_file()?;
                        Some(FileEvent::Message(match save_gif(&frames, 200, &path) {
                            Ok(()) => format!("Saved {}", path.display()),
                            Err(e) => format!("Cannot save {}: {e}", path.display()),
                        }))
                    });
                }
            }
        });
        ui.vertical(|ui| {
            ui.add(egui::Slider::new(&mut tab.smoothing, 0.0..=0.99).text("smoothing"))
                .on_hover_text("Exponential smoothing of the curves; raw values are drawn faintly");
            let alpha = tab.smoothing as f64;
            let series = |f: fn(&Metrics) -> f32| {
                tab.history
                    .iter()
                    .map(move |m| (m.step as f64, f(m) as f64))
            };
            Plot::new("losses")
                .height(360.0)
                .legend(Legend::default())
                .show(ui, |plot| {
                    type Curve = (&'static str, fn(&Metrics) -> f32);
                    let curves: [Curve; 3] = [
                        ("critic loss", |m| m.critic_loss),
                        ("Wasserstein estimate", |m| m.wasserstein),
                        ("generator loss", |m| m.generator_loss),
                    ];
                    // Long runs: draw at most ~4,000 points per curve (smoothing still sees all).
                    let stride = (tab.history.len() / PLOT_POINTS).max(1);
                    for (name, f) in curves {
                        let raw: Vec<[f64; 2]> =
                            series(f).step_by(stride).map(|(x, y)| [x, y]).collect();
                        if alpha > 0.0 {
                            let smooth: Vec<[f64; 2]> = smoothed(series(f), alpha)
                                .into_iter()
                                .step_by(stride)
                                .collect();
                            plot.line(Line::new(format!("{name} (raw)"), raw).width(0.5));
                            plot.line(Line::new(name.to_string(), smooth));
                        } else {
                            plot.line(Line::new(name.to_string(), raw));
                        }
                    }
                });
        });
    });
}

//! Checkpoints side by side: the picture on screen (and the bookmarks) drawn by a second
//! checkpoint beside the first, or "this face through training": the picture drawn by every
//! snapshot a run kept, with how much it changes from one snapshot to the next, savable as a
//! GIF. The generators live on their own worker thread.

use std::path::{Path, PathBuf};

use egui_plot::{Line, Plot, PlotPoints};
use image::RgbImage;

use crate::app::command::{Command, Commands, dialog};
use crate::app::textures::upload_all;
use crate::app::{BookmarksPanel, Current, FileEvent};
use crate::engine::device::DeviceChoice;
use crate::engine::draw::snapshots::{picture_changes, save_timeline_gif};
use crate::engine::model::latent::Latent;
use crate::engine::workers::compare_worker::{CompareEvent, CompareSource, CompareWorker};

/// What the panel compares with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CompareMode {
    /// A second checkpoint (A/B).
    #[default]
    Checkpoint,
    /// The snapshots of a run.
    Training,
}

/// What the worker loaded.
#[derive(Clone, Debug)]
pub struct Compared {
    /// What was asked for.
    pub source: CompareSource,
    /// Training step of each generator.
    pub steps: Vec<u64>,
    /// Snapshots skipped, and why.
    pub skipped: Vec<(u64, String)>,
    /// Size of the latent vector they take.
    pub latent_dim: usize,
}

/// The panel's state.
#[derive(Default)]
pub struct ComparePanel {
    /// A/B or through training.
    pub mode: CompareMode,
    /// The second checkpoint's folder.
    pub checkpoint: String,
    /// The run whose snapshots are shown.
    pub run: String,
    /// What is loaded.
    pub loaded: Option<Compared>,
    /// Why the last load failed.
    pub error: Option<String>,
    /// A load is under way.
    pub loading: bool,
    /// The latent vectors last drawn, and their pictures: one list per generator.
    pub drawn: Option<(Vec<Latent>, Vec<Vec<RgbImage>>)>,
    /// How much the picture changes between consecutive snapshots.
    pub changes: Vec<f32>,
    textures: Vec<Vec<egui::TextureHandle>>,
    requested: Option<Vec<Latent>>,
    worker: Option<CompareWorker>,
    /// Whether the run field was filled in from the checkpoint (once).
    guessed_run: bool,
}

impl ComparePanel {
    fn load(&mut self, ctx: &egui::Context, device: DeviceChoice) {
        let source = match self.mode {
            CompareMode::Checkpoint => CompareSource::Checkpoint(self.checkpoint.trim().into()),
            CompareMode::Training => CompareSource::Snapshots(self.run.trim().into()),
        };
        let worker = self.worker.get_or_insert_with(|| {
            let ctx = ctx.clone();
            CompareWorker::spawn(device, Box::new(move || ctx.request_repaint()))
        });
        worker.load(source);
        self.loading = true;
        self.error = None;
    }

    /// Takes what the worker finished.
    pub(crate) fn poll(&mut self, ctx: &egui::Context) {
        let Some(worker) = &self.worker else { return };
        while let Some(event) = worker.try_recv() {
            match event {
                CompareEvent::Loaded {
                    source,
                    steps,
                    skipped,
                    latent_dim,
                } => {
                    self.loading = false;
                    self.loaded = Some(Compared {
                        source,
                        steps,
                        skipped,
                        latent_dim,
                    });
                    self.drawn = None;
                    self.textures.clear();
                    self.requested = None;
                }
                CompareEvent::LoadFailed { message, .. } => {
                    self.loading = false;
                    self.error = Some(message);
                }
                CompareEvent::Drawn {
                    latents, pictures, ..
                } => {
                    self.textures = pictures
                        .iter()
                        .map(|list| upload_all(ctx, "compare", list))
                        .collect();
                    let firsts: Vec<RgbImage> =
                        pictures.iter().filter_map(|l| l.first().cloned()).collect();
                    self.changes = picture_changes(&firsts);
                    self.drawn = Some((latents, pictures));
                }
            }
        }
    }

    /// Asks for `latents` unless they were the last asked for.
    fn want(&mut self, latents: Vec<Latent>) {
        if self.requested.as_ref() == Some(&latents) {
            return;
        }
        if let Some(worker) = &self.worker {
            worker.draw(latents.clone());
            self.requested = Some(latents);
        }
    }
}

/// A run folder with snapshots that `checkpoint` belongs to, if any.
fn run_with_snapshots(checkpoint: &Path) -> Option<PathBuf> {
    checkpoint
        .ancestors()
        .take(3)
        .find(|dir| dir.join("snapshots").is_dir())
        .map(Path::to_path_buf)
}

impl ComparePanel {
    /// Draws the panel (folded at first) under the picture: `shown` is the picture on screen,
    /// `bookmarks` the bookmarks drawn by both checkpoints.
    #[must_use]
    pub(crate) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        current: &Current,
        shown: Option<&egui::TextureHandle>,
        bookmarks: &BookmarksPanel,
    ) -> Commands {
        egui::CollapsingHeader::new("Side by side")
            .default_open(false)
            .show(ui, |ui| self.body(ui, current, shown, bookmarks))
            .body_returned
            .unwrap_or_default()
    }

    fn body(
        &mut self,
        ui: &mut egui::Ui,
        current: &Current,
        shown: Option<&egui::TextureHandle>,
        bookmarks: &BookmarksPanel,
    ) -> Commands {
        let mut commands = Commands::new();
        if !self.guessed_run {
            self.guessed_run = true;
            if let Some(run) = current
                .checkpoint_dir
                .as_deref()
                .and_then(run_with_snapshots)
            {
                self.run = run.display().to_string();
            }
        }
        ui.horizontal(|ui| {
            ui.selectable_value(
                &mut self.mode,
                CompareMode::Checkpoint,
                "Another checkpoint",
            )
            .on_hover_text("The same z and bookmarks drawn by a second checkpoint");
            ui.selectable_value(&mut self.mode, CompareMode::Training, "Through training")
                .on_hover_text("The same z drawn by every snapshot a run kept");
        });
        let device = current.device_choice.clone();
        let browse = ui.horizontal(|ui| source_row(self, device, ui)).inner;
        if browse {
            let mode = self.mode;
            commands.push(dialog(move || {
                rfd::FileDialog::new()
                    .pick_folder()
                    .map(|dir| FileEvent::CompareFolder(mode, dir))
            }));
        }
        if self.loading {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("loading...");
            });
        }
        if let Some(e) = &self.error {
            ui.colored_label(egui::Color32::from_rgb(200, 40, 40), e);
        }
        let Some(loaded) = self.loaded.clone() else {
            return commands;
        };
        let z = current.effective_z();
        if z.dim() != loaded.latent_dim {
            ui.colored_label(
                egui::Color32::from_rgb(200, 40, 40),
                format!(
                    "{} takes latent vectors of {} numbers; this z has {}.",
                    loaded.source.path().display(),
                    loaded.latent_dim,
                    z.dim()
                ),
            );
            return commands;
        }
        match loaded.source {
            CompareSource::Checkpoint(_) => {
                let a = current.checkpoint_dir.as_deref();
                self.checkpoints_ab(ui, z, &loaded, (a, shown), bookmarks);
            }
            CompareSource::Snapshots(_) => commands.extend(self.through_training(ui, z, &loaded)),
        }
        commands
    }

    /// A folder picked in the panel's dialog.
    pub(crate) fn folder_picked(&mut self, mode: CompareMode, dir: &Path) {
        let text = dir.display().to_string();
        self.mode = mode;
        match mode {
            CompareMode::Checkpoint => self.checkpoint = text,
            CompareMode::Training => self.run = text,
        }
    }
}

/// The folder field, its picker button and Compare; whether the picker was asked for.
fn source_row(panel: &mut ComparePanel, device: DeviceChoice, ui: &mut egui::Ui) -> bool {
    let (label, field, hint) = match panel.mode {
        CompareMode::Checkpoint => (
            "Second checkpoint",
            &mut panel.checkpoint,
            "A run, a checkpoint or an export",
        ),
        CompareMode::Training => (
            "Run folder",
            &mut panel.run,
            "A run trained with snapshots (--snapshot-every N)",
        ),
    };
    let name = ui.label(label);
    ui.add(egui::TextEdit::singleline(field).desired_width(140.0))
        .labelled_by(name.id)
        .on_hover_text(hint);
    let browse = ui.button("…").on_hover_text("Pick the folder").clicked();
    if ui
        .add_enabled(!panel.loading, egui::Button::new("Compare"))
        .clicked()
    {
        panel.load(ui.ctx(), device);
    }
    browse
}

/// Size of the pictures in the comparison.
const SIDE: f32 = 96.0;
/// Bookmarks compared at most.
const BOOKMARKS_SHOWN: usize = 12;

impl ComparePanel {
    /// A's picture (the checkpoint `a` and the picture `shown`) beside B's, then the bookmarks.
    fn checkpoints_ab(
        &mut self,
        ui: &mut egui::Ui,
        z: Latent,
        loaded: &Compared,
        (a, shown): (Option<&Path>, Option<&egui::TextureHandle>),
        panel: &BookmarksPanel,
    ) {
        let bookmarks: Vec<(u64, String, Latent)> = panel
            .store
            .all()
            .iter()
            .filter(|b| b.z.dim() == loaded.latent_dim)
            .take(BOOKMARKS_SHOWN)
            .map(|b| (b.id, b.name.clone(), b.z.clone()))
            .collect();
        let mut latents = vec![z];
        latents.extend(bookmarks.iter().map(|b| b.2.clone()));
        self.want(latents);
        let b_name = loaded
            .source
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let a_name = a
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let b_pictures = self.textures.first();
        egui::Grid::new("ab").spacing([6.0, 4.0]).show(ui, |ui| {
            ui.label(format!("A: {a_name}"));
            ui.label(format!("B: {b_name} (step {})", loaded.steps[0]));
            ui.end_row();
            match shown {
                Some(tex) => {
                    ui.add(egui::Image::new(tex).fit_to_exact_size(egui::vec2(SIDE, SIDE)))
                }
                None => ui.spinner(),
            };
            match b_pictures.and_then(|t| t.first()) {
                Some(tex) => ui.add(
                    egui::Image::new(tex)
                        .fit_to_exact_size(egui::vec2(SIDE, SIDE))
                        .alt_text("B's picture"),
                ),
                None => ui.spinner(),
            };
            ui.end_row();
        });
        if bookmarks.is_empty() {
            return;
        }
        ui.label("Bookmarks: A above, B below");
        let thumb = egui::vec2(SIDE / 2.0, SIDE / 2.0);
        egui::ScrollArea::horizontal()
            .id_salt("ab-bookmarks")
            .show(ui, |ui| {
                egui::Grid::new("ab-bookmarks-grid")
                    .spacing([2.0, 2.0])
                    .show(ui, |ui| {
                        for (id, name, _) in &bookmarks {
                            match panel.thumbnails.get(id) {
                                Some(tex) => ui
                                    .add(egui::Image::new(tex).fit_to_exact_size(thumb))
                                    .on_hover_text(name),
                                None => ui.spinner(),
                            };
                        }
                        ui.end_row();
                        for (k, (_, name, _)) in bookmarks.iter().enumerate() {
                            match b_pictures.and_then(|t| t.get(k + 1)) {
                                Some(tex) => ui
                                    .add(egui::Image::new(tex).fit_to_exact_size(thumb))
                                    .on_hover_text(format!("{name}, drawn by B")),
                                None => ui.spinner(),
                            };
                        }
                        ui.end_row();
                    });
            });
    }

    /// The picture drawn by every snapshot, the changes between them, and Save GIF.
    fn through_training(
        &mut self,
        ui: &mut egui::Ui,
        z: Latent,
        loaded: &Compared,
    ) -> Option<Command> {
        self.want(vec![z]);
        let panel = &*self;
        ui.weak(format!(
            "{} snapshots, steps {}–{}{}",
            loaded.steps.len(),
            loaded.steps[0],
            loaded.steps[loaded.steps.len() - 1],
            if loaded.skipped.is_empty() {
                String::new()
            } else {
                format!("; {} could not be read", loaded.skipped.len())
            }
        ))
        .on_hover_text(
            loaded
                .skipped
                .iter()
                .map(|(step, why)| format!("step {step}: {why}"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
        if panel.textures.len() != loaded.steps.len() {
            ui.spinner();
            return None;
        }
        let thumb = egui::vec2(SIDE * 0.6, SIDE * 0.6);
        egui::ScrollArea::horizontal()
            .id_salt("through-training")
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    for (tex, step) in panel.textures.iter().zip(&loaded.steps) {
                        if let Some(tex) = tex.first() {
                            ui.vertical(|ui| {
                                ui.add(egui::Image::new(tex).fit_to_exact_size(thumb));
                                ui.small(format!("{step}"));
                            });
                        }
                    }
                });
            });
        if !panel.changes.is_empty() {
            let points: PlotPoints = loaded.steps[1..]
                .iter()
                .zip(&panel.changes)
                .map(|(s, c)| [*s as f64, *c as f64])
                .collect();
            ui.label("Change from the snapshot before (mean |Δpixel|, 0–255)")
            .on_hover_text("A spike: the run was unstable there. Flat near zero with poor pictures: it stopped learning.");
            Plot::new("changes")
                .height(90.0)
                .allow_scroll(false)
                .allow_drag(false)
                .show(ui, |plot| plot.line(Line::new("change", points)));
        }
        if ui.button("Save GIF…").clicked()
            && let Some((_, pictures)) = &panel.drawn
        {
            let frames: Vec<RgbImage> =
                pictures.iter().filter_map(|l| l.first().cloned()).collect();
            return Some(dialog(move || {
                let path = rfd::FileDialog::new()
                    .add_filter("GIF", &["gif"])
                    .set_file_name("through-training.gif")
                    .save_file()?;
                Some(FileEvent::Message(
                    match save_timeline_gif(&frames, 4, &path) {
                        Ok(()) => format!("Saved {}", path.display()),
                        Err(e) => format!("Cannot save {}: {e}", path.display()),
                    },
                ))
            }));
        }
        None
    }
}

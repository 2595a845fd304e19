//! The desktop app: an eframe App that holds the state and draws one panel per file. It talks
//! to the generator only through [`InferenceWorker`] messages, so no frame waits on the model.

mod bookmarks;
mod chrome;
mod compare_panel;
mod critic_panel;
mod dimensions;
mod events;
mod explorer;
mod folder_read;
mod interpolation;
mod jitter;
mod layers_panel;
mod nearest_panel;
mod textures;
mod training;

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};

use serde::{Deserialize, Serialize};

use crate::engine::bookmarks::{BookmarkFile, BookmarkStore};
use crate::engine::checkpoint_notes::NotesStore;
use crate::engine::device::DeviceChoice;
use crate::engine::history::History;
use crate::engine::latent::{DEFAULT_LATENT_DIM, Latent};
use crate::engine::model::ModelConfig;
use crate::engine::picture_state::{PictureState, read_state};
use crate::engine::worker::{InferenceWorker, StripRequest};

pub use bookmarks::BookmarksPanel;
pub use compare_panel::{CompareMode, ComparePanel, Compared};
pub use critic_panel::CriticPanel;
pub use dimensions::{DimensionsView, STRIP_STEPS, Sort};
pub use explorer::Explorer;
pub use interpolation::InterpolationPanel;
pub use jitter::JitterPanel;
pub use layers_panel::LayersPanel;
pub use nearest_panel::NearestPanel;
pub use training::{RunForm, RunMode, RunState, TrainingAction, TrainingTab};

/// The app's tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    /// Sliders, bookmarks, jitter.
    Explorer,
    /// Live training.
    Training,
}

/// How the app is started.
#[derive(Clone, Debug, Default)]
pub struct AppOptions {
    /// Checkpoint to open (else the last one used, else the shipped default).
    pub checkpoint: Option<PathBuf>,
    /// Bookmarks file (else the platform's data directory).
    pub bookmarks_path: Option<PathBuf>,
    /// Where the generator runs.
    pub device: DeviceChoice,
    /// Ignore saved app state (tests).
    pub fresh: bool,
}

/// The shipped default checkpoint: `checkpoints/faces` beside the working directory, else in
/// the source tree this binary was built from.
pub fn default_checkpoint() -> PathBuf {
    let local = PathBuf::from("checkpoints/faces");
    if local.exists() {
        local
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("checkpoints/faces")
    }
}

/// Where bookmarks live by default.
pub fn default_bookmarks_path() -> PathBuf {
    directories::ProjectDirs::from("org", "hitogata", "hitogata")
        .map(|d| d.data_dir().join("bookmarks.ron"))
        .unwrap_or_else(|| PathBuf::from("hitogata-bookmarks.ron"))
}

/// What the app remembers between runs (eframe storage).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Persisted {
    z: Option<Latent>,
    seed: u64,
    psi: Option<f32>,
    zoom: Option<f32>,
    smooth: bool,
    checkpoint: Option<PathBuf>,
    /// The Training tab's remote server (its token is kept in a private file, not here).
    remote_address: Option<String>,
}

const STORAGE_KEY: &str = "hitogata";

/// Results of background file work (dialogs, exports).
pub(crate) enum FileEvent {
    OpenCheckpoint(PathBuf),
    Message(String),
    /// A bookmarks file read on the dialog's thread, to merge into the store.
    ImportBookmarks(PathBuf, Result<BookmarkFile, String>),
    TrainingData(PathBuf),
    /// A picture's remembered state, read off the UI thread.
    Picture(PathBuf, Result<PictureState, String>),
    /// A folder picked for the side-by-side panel.
    CompareFolder(CompareMode, PathBuf),
}

/// Runs a blocking file dialog off the UI thread and sends what it yields.
pub(crate) fn spawn_dialog(
    tx: Sender<FileEvent>,
    pick: impl FnOnce() -> Option<FileEvent> + Send + 'static,
) {
    std::thread::spawn(move || {
        if let Some(event) = pick() {
            let _ = tx.send(event);
        }
    });
}

/// Which request a batch answer belongs to.
pub(crate) const TAG_THUMBNAILS: u64 = 1 << 62;

/// The whole application state.
pub struct HitogataApp {
    /// Tab shown.
    pub tab: Tab,
    /// The training tab.
    pub training: TrainingTab,
    /// The explorer (sliders and the big image).
    pub explorer: Explorer,
    /// Bookmarks.
    pub bookmarks: BookmarksPanel,
    /// Jittered children.
    pub jitter: JitterPanel,
    /// The critic in the editor.
    pub critic: CriticPanel,
    /// The nearest training pictures.
    pub nearest: NearestPanel,
    /// The layer viewer.
    pub layers: LayersPanel,
    /// Checkpoints side by side.
    pub compare: ComparePanel,
    /// Between faces: interpolation between two vectors.
    pub interpolation: InterpolationPanel,
    /// The Dimensions view (strips, sensitivity, directions).
    pub dimensions: DimensionsView,
    notes: NotesStore,
    /// Undo/redo of latent edits.
    pub history: History,
    /// The model's shapes once loaded.
    pub model: Option<ModelConfig>,
    /// Checkpoint in use.
    pub checkpoint_dir: Option<PathBuf>,
    /// Compute device, once known.
    pub device: Option<String>,
    /// Last error or notice for the status bar.
    pub status: Option<String>,
    /// A checkpoint problem to show prominently.
    pub load_error: Option<String>,
    worker: InferenceWorker,
    device_choice: DeviceChoice,
    file_tx: Sender<FileEvent>,
    file_rx: Receiver<FileEvent>,
    next_tag: u64,
}

impl HitogataApp {
    /// Builds the app; starts the inference worker and asks it to load the checkpoint.
    pub fn new(cc: &eframe::CreationContext<'_>, options: AppOptions) -> Self {
        let persisted: Persisted = if options.fresh {
            Persisted::default()
        } else {
            cc.storage
                .and_then(|s| eframe::get_value(s, STORAGE_KEY))
                .unwrap_or_default()
        };
        let ctx = cc.egui_ctx.clone();
        let worker = InferenceWorker::spawn(
            options.device.clone(),
            Box::new(move || ctx.request_repaint()),
        );
        let checkpoint = options
            .checkpoint
            .clone()
            .or(persisted.checkpoint.clone().filter(|p| p.exists()))
            .unwrap_or_else(default_checkpoint);
        worker.load(checkpoint.clone());

        let bookmarks_path = options
            .bookmarks_path
            .clone()
            .unwrap_or_else(default_bookmarks_path);
        let report = BookmarkStore::open(&bookmarks_path);
        // Each checkpoint's directions and sensitivities, beside the bookmarks.
        let (notes, notes_warning) =
            NotesStore::open(&bookmarks_path.with_file_name("checkpoint-notes.ron"));
        let bookmark_warning = report.recovered.as_ref().map(|(err, aside)| {
            format!("Bookmarks could not be read ({err}); the file was kept as {} and a new, empty set started.", aside.display())
        });
        // A first start shows a person from the prior, not the (atypical) zero vector.
        let z = persisted
            .z
            .unwrap_or_else(|| Latent::from_seed(persisted.seed, DEFAULT_LATENT_DIM));
        let mut explorer = Explorer::new(z, persisted.seed);
        explorer.psi = persisted.psi.unwrap_or(1.0);
        explorer.zoom = persisted.zoom.unwrap_or(5.0);
        explorer.smooth = persisted.smooth;
        let (file_tx, file_rx) = channel();
        let mut training = TrainingTab::default();
        training.remember_remote(
            persisted.remote_address.clone(),
            bookmarks_path.with_file_name("remote-token"),
        );
        Self {
            tab: Tab::Explorer,
            training,
            explorer,
            bookmarks: BookmarksPanel::new(report.store.with_background_writes(), bookmark_warning),
            jitter: JitterPanel::default(),
            interpolation: InterpolationPanel::default(),
            critic: CriticPanel::default(),
            nearest: NearestPanel::default(),
            layers: LayersPanel::default(),
            compare: ComparePanel::default(),
            dimensions: DimensionsView::with_warning(
                notes_warning.map(|w| {
                    format!("Checkpoint notes could not be read ({w}); a new file started.")
                }),
            ),
            notes: notes.with_background_writes(),
            history: History::default(),
            model: None,
            checkpoint_dir: Some(checkpoint),
            device: None,
            status: None,
            load_error: None,
            worker,
            device_choice: options.device,
            file_tx,
            file_rx,
            next_tag: 0,
        }
    }

    /// The device the user asked for (other workers start on it too).
    pub fn device_choice(&self) -> DeviceChoice {
        self.device_choice.clone()
    }

    /// A fresh tag for a batch request.
    pub(crate) fn tag(&mut self) -> u64 {
        self.next_tag += 1;
        self.next_tag
    }

    /// Changes the current vector, remembering the old one for undo, and renders it.
    pub fn set_z(&mut self, z: Latent) {
        if z != self.explorer.z {
            self.history.record(self.explorer.z.clone());
            self.explorer.z = z;
            self.request_main();
        }
    }

    /// Undo the last latent edit.
    pub fn undo(&mut self) {
        if let Some(z) = self.history.undo(&self.explorer.z) {
            self.explorer.z = z;
            self.request_main();
        }
    }

    /// Redo.
    pub fn redo(&mut self) {
        if let Some(z) = self.history.redo(&self.explorer.z) {
            self.explorer.z = z;
            self.request_main();
        }
    }

    /// Asks the worker for the main image of the current (truncated) vector.
    pub fn request_main(&mut self) {
        let generation = self.explorer.next_generation();
        self.worker
            .render_main(generation, self.explorer.effective_z());
    }

    /// What a PNG of these latent vectors (drawn at ψ `psi`) should remember.
    pub(crate) fn picture_state(&self, latents: Vec<Latent>, psi: f32) -> PictureState {
        PictureState {
            latents,
            psi,
            checkpoint: self
                .checkpoint_dir
                .as_ref()
                .map(|p| p.display().to_string()),
            checkpoint_hash: self.dimensions.hash.clone(),
            parent: None,
        }
    }

    /// Reads a PNG's remembered state off the UI thread; it is restored when it arrives.
    pub fn open_picture(&self, path: PathBuf) {
        self.dialog(move || {
            let state = read_state(&path).map_err(|e| e.to_string());
            Some(FileEvent::Picture(path, state))
        });
    }

    /// Restores what a picture shows (its first latent vector and ψ), undoably.
    fn restore_picture(&mut self, path: &std::path::Path, state: Result<PictureState, String>) {
        let state = match state {
            Ok(s) => s,
            Err(e) => {
                self.status = Some(e);
                return;
            }
        };
        let z = state.latents[0].clone();
        if z.dim() != self.explorer.z.dim() {
            self.status = Some(format!(
                "{} shows a latent vector of {} entries; this generator takes {}",
                path.display(),
                z.dim(),
                self.explorer.z.dim()
            ));
            return;
        }
        self.explorer.psi = state.psi;
        self.set_z(z);
        self.request_main();
        let other =
            state.checkpoint_hash.is_some() && state.checkpoint_hash != self.dimensions.hash;
        self.status = Some(if other {
            format!(
                "Restored z from {}; it was drawn by another checkpoint ({}), shown here with this one",
                path.display(),
                state.checkpoint.as_deref().unwrap_or("unknown")
            )
        } else {
            format!("Restored z from {}", path.display())
        });
    }

    /// Asks the worker for preview strips (the newest request wins).
    pub(crate) fn worker_strips(&self, request: StripRequest) {
        self.worker.render_strips(request);
    }

    /// Asks the worker for the critic's view of `z` (as drawn).
    pub(crate) fn worker_critique(&self, z: Latent) {
        self.worker.critique(z);
    }

    /// Asks the worker for a generator layer at `z` (as drawn).
    pub(crate) fn worker_layer(&self, z: Latent, layer: usize, per_channel: bool) {
        self.worker.layer(z, layer, per_channel);
    }

    /// Asks the worker to nudge `z` (as drawn) towards real.
    pub(crate) fn worker_nudge(&self, z: Latent, steps: usize, size: f32) {
        self.worker.nudge(z, steps, size);
    }

    /// Asks the worker to analyse the generator (directions, mean sensitivity).
    pub(crate) fn worker_analyse(&self, hash: String) {
        self.worker.analyse(hash);
    }

    /// Renames direction `k` of the current checkpoint and saves its notes.
    pub(crate) fn rename_direction(&mut self, k: usize, name: String) {
        if let Some(d) = self.dimensions.notes.directions.get_mut(k) {
            d.name = name;
            self.save_notes();
        }
    }

    pub(crate) fn save_notes(&mut self) {
        if let Some(hash) = &self.dimensions.hash
            && let Err(e) = self.notes.set(hash, self.dimensions.notes.clone())
        {
            self.status = Some(e.to_string());
        }
    }

    /// Asks the worker to render a batch.
    pub(crate) fn request_batch(&mut self, tag: u64, latents: Vec<Latent>) {
        self.worker.render_batch(tag, latents);
    }

    /// Opens another checkpoint (in the background).
    pub fn open_checkpoint(&mut self, path: PathBuf) {
        self.status = Some(format!("Opening {}...", path.display()));
        self.worker.load(path);
    }

    pub(crate) fn file_sender(&self) -> Sender<FileEvent> {
        self.file_tx.clone()
    }

    /// Runs `pick` (a blocking rfd dialog and what follows it) on its own thread; what it
    /// returns arrives through [`poll`](Self::poll).
    pub(crate) fn dialog(&self, pick: impl FnOnce() -> Option<FileEvent> + Send + 'static) {
        spawn_dialog(self.file_sender(), pick);
    }
}

impl eframe::App for HitogataApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.poll(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.shortcuts(ui);
        self.dropped_pictures(ui);
        self.closing(ui);
        egui::Panel::top("menu").show(ui, |ui| self.menu(ui));
        egui::Panel::bottom("status").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label(
                    self.device
                        .as_deref()
                        .unwrap_or("starting the generator..."),
                );
                if let Some(dir) = &self.checkpoint_dir {
                    ui.separator();
                    ui.label(format!("checkpoint: {}", dir.display()));
                }
                if let Some(s) = &self.status {
                    ui.separator();
                    ui.label(s);
                }
            });
        });
        if self.tab == Tab::Training {
            egui::CentralPanel::default().show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("training")
                    .show(ui, |ui| training::show(self, ui));
            });
            return;
        }
        egui::Panel::right("bookmarks")
            .default_size(260.0)
            .show(ui, |ui| {
                bookmarks::show(self, ui);
            });
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(err) = self.load_error.clone() {
                ui.colored_label(egui::Color32::from_rgb(200, 40, 40), err);
                if ui.button("Open another checkpoint...").clicked() {
                    self.dialog(|| {
                        rfd::FileDialog::new()
                            .pick_folder()
                            .map(FileEvent::OpenCheckpoint)
                    });
                }
                ui.separator();
            }
            explorer::show(self, ui);
        });
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        let persisted = Persisted {
            z: Some(self.explorer.z.clone()),
            seed: self.explorer.seed,
            psi: Some(self.explorer.psi),
            zoom: Some(self.explorer.zoom),
            smooth: self.explorer.smooth,
            checkpoint: self.checkpoint_dir.clone(),
            remote_address: self.training.remote_address(),
        };
        eframe::set_value(storage, STORAGE_KEY, &persisted);
    }
}

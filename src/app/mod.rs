//! The desktop app: an eframe App that holds the state and draws one panel per file. It talks
//! to the generator only through [`InferenceWorker`] messages, so no frame waits on the model.

mod apply;
mod background;
mod chrome;
mod command;
mod events;
mod folder_read;
mod history;
mod layout;
mod panels;
mod textures;
mod training;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::engine::device::DeviceChoice;
use crate::engine::files::bookmarks::{BookmarkFile, BookmarkStore};
use crate::engine::files::checkpoint_notes::NotesStore;
use crate::engine::files::picture_state::{PictureState, read_state};
use crate::engine::model::ModelConfig;
use crate::engine::model::latent::{DEFAULT_LATENT_DIM, Latent};
use crate::engine::workers::inference_worker::InferenceWorker;

use background::Background;
use command::{Command, Commands, DialogWork, Drag};

pub use command::Current;
pub use history::History;
pub use panels::bookmarks::BookmarksPanel;
pub use panels::compare::{CompareMode, ComparePanel, Compared};
pub use panels::critic::CriticPanel;
pub use panels::dimensions::{DimensionsView, STRIP_STEPS, Sort};
pub use panels::explorer::Explorer;
pub use panels::interpolation::InterpolationPanel;
pub use panels::jitter::JitterPanel;
pub use panels::layers::LayersPanel;
pub use panels::nearest::NearestPanel;
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

/// The whole application: the panels, each owning its state, and what they share. Panels
/// return [`Command`]s, applied in [`apply`](Self::apply) after layout.
pub struct HitogataApp {
    tab: Tab,
    current: Current,
    training: TrainingTab,
    explorer: Explorer,
    bookmarks: BookmarksPanel,
    jitter: JitterPanel,
    critic: CriticPanel,
    nearest: NearestPanel,
    layers: LayersPanel,
    compare: ComparePanel,
    interpolation: InterpolationPanel,
    dimensions: DimensionsView,
    notes: NotesStore,
    /// Compute device, once known.
    device: Option<String>,
    /// Last error or notice for the status bar.
    status: Option<String>,
    /// A checkpoint problem to show prominently.
    load_error: Option<String>,
    worker: InferenceWorker,
    /// For starting background work that asks for a repaint when done.
    ctx: egui::Context,
    /// File dialogs and file threads still running.
    file_work: Vec<Background<Option<FileEvent>>>,
    next_batch: u64,
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
        let mut explorer = Explorer::new(persisted.seed);
        explorer.zoom = persisted.zoom.unwrap_or(5.0);
        explorer.smooth = persisted.smooth;
        let mut training = TrainingTab::default();
        training.remember_remote(
            persisted.remote_address.clone(),
            bookmarks_path.with_file_name("remote-token"),
        );
        Self {
            tab: Tab::Explorer,
            current: Current {
                z,
                psi: persisted.psi.unwrap_or(1.0),
                model: None,
                checkpoint_dir: Some(checkpoint),
                checkpoint_hash: None,
                device_choice: options.device,
                history: History::default(),
            },
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
            device: None,
            status: None,
            load_error: None,
            worker,
            ctx: cc.egui_ctx.clone(),
            file_work: Vec::new(),
            next_batch: 0,
        }
    }

    /// What every panel reads: z, ψ, the model and the checkpoint.
    pub fn current(&self) -> &Current {
        &self.current
    }

    /// The tab shown.
    pub fn tab(&self) -> Tab {
        self.tab
    }

    /// Shows another tab.
    pub fn select_tab(&mut self, tab: Tab) {
        self.tab = tab;
    }

    /// The Training tab.
    pub fn training(&self) -> &TrainingTab {
        &self.training
    }

    /// The explorer (picture, seed, zoom).
    pub fn explorer(&self) -> &Explorer {
        &self.explorer
    }

    /// The bookmarks panel.
    pub fn bookmarks(&self) -> &BookmarksPanel {
        &self.bookmarks
    }

    /// The jitter panel.
    pub fn jitter(&self) -> &JitterPanel {
        &self.jitter
    }

    /// The critic panel.
    pub fn critic(&self) -> &CriticPanel {
        &self.critic
    }

    /// The nearest training pictures.
    pub fn nearest(&self) -> &NearestPanel {
        &self.nearest
    }

    /// The layer viewer.
    pub fn layers(&self) -> &LayersPanel {
        &self.layers
    }

    /// Checkpoints side by side.
    pub fn compare(&self) -> &ComparePanel {
        &self.compare
    }

    /// Between faces.
    pub fn interpolation(&self) -> &InterpolationPanel {
        &self.interpolation
    }

    /// The Dimensions view.
    pub fn dimensions(&self) -> &DimensionsView {
        &self.dimensions
    }

    /// The model's shapes once loaded.
    pub fn model(&self) -> Option<&ModelConfig> {
        self.current.model.as_ref()
    }

    /// The compute device, once the worker has started it.
    pub fn device(&self) -> Option<&str> {
        self.device.as_deref()
    }

    /// The status bar's line.
    pub fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }

    /// Clears the status bar's line.
    pub fn clear_status(&mut self) {
        self.status = None;
    }

    /// Why the checkpoint could not be opened, if it could not.
    pub fn load_error(&self) -> Option<&str> {
        self.load_error.as_deref()
    }

    /// The explorer, to change how it shows the picture or what Random rolls next.
    pub fn explorer_mut(&mut self) -> &mut Explorer {
        &mut self.explorer
    }

    /// The bookmarks panel, to fill in its fields.
    pub fn bookmarks_mut(&mut self) -> &mut BookmarksPanel {
        &mut self.bookmarks
    }

    /// The jitter panel, to change its settings.
    pub fn jitter_mut(&mut self) -> &mut JitterPanel {
        &mut self.jitter
    }

    /// The Training tab, to command its run.
    pub fn training_mut(&mut self) -> &mut TrainingTab {
        &mut self.training
    }

    /// Hides what differs between runs of the same session (the checkpoint's path, the
    /// status line, timings) and names the device `device`: for screenshots that compare.
    pub fn hide_run_details(&mut self, device: &str) {
        self.current.checkpoint_dir = None;
        self.status = None;
        self.explorer.last_latency_ms = None;
        self.device = Some(device.into());
    }

    /// Changes the current vector, remembering the old one for undo, and renders it.
    pub fn set_z(&mut self, z: Latent) {
        self.edit_z(z, Drag::No);
    }

    /// Jitters around `z` (from bookmark `bookmark`, if any), as the panel's buttons do.
    pub fn jitter_around(&mut self, bookmark: Option<u64>, z: Latent) {
        self.apply(vec![Command::JitterAround(bookmark, z)]);
    }

    /// The one place z changes by an edit: a drag is one undo step (taken when it starts,
    /// even if its first frame moves nothing), anything else one step per change.
    fn edit_z(&mut self, z: Latent, drag: Drag) {
        if drag == Drag::Started {
            self.current.history.record(self.current.z.clone());
        }
        if z == self.current.z {
            return;
        }
        if drag == Drag::No {
            self.current.history.record(self.current.z.clone());
        }
        self.current.z = z;
        self.request_main();
    }

    /// Undo the last latent edit.
    pub fn undo(&mut self) {
        if let Some(z) = self.current.history.undo(&self.current.z) {
            self.current.z = z;
            self.request_main();
        }
    }

    /// Redo.
    pub fn redo(&mut self) {
        if let Some(z) = self.current.history.redo(&self.current.z) {
            self.current.z = z;
            self.request_main();
        }
    }

    /// Asks the worker for the main image of the current (truncated) vector.
    fn request_main(&mut self) {
        let generation = self.explorer.next_generation();
        self.worker
            .render_main(generation, self.current.effective_z());
    }

    /// Reads a PNG's remembered state off the UI thread; it is restored when it arrives.
    pub fn open_picture(&mut self, path: PathBuf) {
        self.start_file_work(Box::new(move || {
            let state = read_state(&path).map_err(|e| e.to_string());
            Some(FileEvent::Picture(path, state))
        }));
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
        if z.dim() != self.current.z.dim() {
            self.status = Some(format!(
                "{} shows a latent vector of {} entries; this generator takes {}",
                path.display(),
                z.dim(),
                self.current.z.dim()
            ));
            return;
        }
        self.current.psi = state.psi;
        self.set_z(z);
        self.request_main();
        let other = state.checkpoint_hash.is_some()
            && state.checkpoint_hash != self.current.checkpoint_hash;
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

    fn save_notes(&mut self) {
        if let Some(hash) = &self.dimensions.hash
            && let Err(e) = self.notes.set(hash, self.dimensions.notes.clone())
        {
            self.status = Some(e.to_string());
        }
    }

    /// A number for a batch request, to tell the newest answer from older ones.
    fn batch_number(&mut self) -> u64 {
        self.next_batch += 1;
        self.next_batch
    }

    /// Opens another checkpoint (in the background).
    pub fn open_checkpoint(&mut self, path: PathBuf) {
        self.status = Some(format!("Opening {}...", path.display()));
        self.worker.load(path);
    }

    /// Runs `work` (a blocking dialog and what follows it) on its own thread; what it returns
    /// arrives through [`poll`](Self::poll).
    fn start_file_work(&mut self, work: DialogWork) {
        self.file_work.push(Background::spawn(&self.ctx, work));
    }

    /// Applies what the panels asked for this frame, in order.
    fn apply(&mut self, commands: Commands) {
        for command in commands {
            self.apply_one(command);
        }
        self.request_batches();
    }
}

impl eframe::App for HitogataApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.poll(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.shortcuts(ui);
        self.dropped_files(ui);
        self.closing(ui);
        egui::Panel::top("menu").show(ui, |ui| self.menu(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        let commands = if self.tab == Tab::Training {
            egui::CentralPanel::default()
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .id_salt("training")
                        .show(ui, |ui| self.training_tab(ui))
                        .inner
                })
                .inner
        } else {
            self.explorer_tab(ui)
        };
        self.apply(commands);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        let persisted = Persisted {
            z: Some(self.current.z.clone()),
            seed: self.explorer.seed,
            psi: Some(self.current.psi),
            zoom: Some(self.explorer.zoom),
            smooth: self.explorer.smooth,
            checkpoint: self.current.checkpoint_dir.clone(),
            remote_address: self.training.remote_address(),
        };
        eframe::set_value(storage, STORAGE_KEY, &persisted);
    }
}

//! What the workers and file threads send back, handed to the panels each frame: every
//! worker is polled here, whether or not its panel is open.

use std::path::PathBuf;
use std::task::Poll;

use crate::app::panels::dimensions;
use crate::app::{FileEvent, History, HitogataApp, Tab};
use crate::engine::files::pytorch::ImportedFrom;
use crate::engine::model::ModelConfig;
use crate::engine::model::latent::Latent;
use crate::engine::workers::inference_worker::{BatchFor, InferenceEvent};

impl HitogataApp {
    /// Handles everything the workers and file threads sent since the last frame.
    pub fn poll(&mut self, ctx: &egui::Context) {
        while let Some(event) = self.worker.try_recv() {
            self.on_inference(ctx, event);
        }
        self.compare.poll(ctx);
        self.nearest.poll(ctx);
        if let Some(e) = self
            .bookmarks
            .store
            .take_write_error()
            .or_else(|| self.notes.take_write_error())
        {
            self.status = Some(e);
        }
        if let Some(generator) = self.training.poll(ctx) {
            self.open_checkpoint(generator);
            self.tab = Tab::Explorer;
        }
        let mut finished = Vec::new();
        self.file_work.retain(|work| match work.poll() {
            Poll::Ready(event) => {
                finished.extend(event.flatten());
                false
            }
            Poll::Pending => true,
        });
        for event in finished {
            self.on_file(event);
        }
    }

    /// Hands an inference worker's event to the panel that asked for it.
    fn on_inference(&mut self, ctx: &egui::Context, event: InferenceEvent) {
        match event {
            InferenceEvent::DeviceReady(d) => self.device = Some(d),
            InferenceEvent::Loaded {
                config,
                dir,
                hash,
                critic,
                imported,
            } => self.on_loaded(config, dir, hash, critic, imported),
            InferenceEvent::LoadFailed { path, message } => {
                self.load_error = Some(format!("Cannot open {}: {message}", path.display()));
            }
            InferenceEvent::Main {
                generation,
                image,
                millis,
            } => {
                self.explorer.receive(ctx, generation, image, millis);
            }
            InferenceEvent::Strips(part) => self.dimensions.receive(ctx, part),
            InferenceEvent::Analysis {
                hash,
                sefa,
                pca,
                mean_sensitivity,
                ..
            } => {
                if self.dimensions.hash.as_deref() == Some(hash.as_str()) {
                    self.dimensions.analysing = false;
                    let notes = &mut self.dimensions.notes;
                    notes.mean_sensitivity = Some(mean_sensitivity);
                    dimensions::merge_directions(notes, sefa.into_iter().chain(pca).collect());
                    self.save_notes();
                }
            }
            InferenceEvent::Critique { z, score, gradient } => {
                self.critic.receive(z, score, gradient)
            }
            InferenceEvent::Layer { view, dead_mostly } => {
                self.layers.receive(ctx, view, dead_mostly)
            }
            InferenceEvent::Nudged { from, to, trace } => {
                if let Some(command) = self.critic.nudged(&self.current, from, to, trace) {
                    self.apply(vec![command]);
                }
            }
            InferenceEvent::Batch {
                tag,
                images,
                scores,
            } => match tag {
                BatchFor::Thumbnails(_) => self.bookmarks.receive(ctx, tag, &images),
                BatchFor::Jitter(_) => self.jitter.receive(ctx, tag, images, scores),
                BatchFor::Interpolation(_) => self.interpolation.receive(ctx, tag, &images),
            },
        }
    }

    /// A checkpoint loaded: everything drawn with the previous one is drawn again.
    fn on_loaded(
        &mut self,
        config: ModelConfig,
        dir: PathBuf,
        hash: Option<String>,
        critic: Result<bool, String>,
        imported: Option<ImportedFrom>,
    ) {
        self.critic.loaded(critic);
        let notes = hash
            .as_deref()
            .map(|h| self.notes.get(h))
            .unwrap_or_default();
        let unknown = notes.mean_sensitivity.is_none();
        self.dimensions.loaded(hash.clone(), notes);
        self.current.checkpoint_hash = hash.clone();
        // A checkpoint seen for the first time is analysed once, in the background.
        if let (Some(h), true) = (hash, unknown) {
            self.dimensions.analysing = true;
            self.worker.analyse(h);
        }
        if self.current.z.dim() != config.latent_dim {
            self.current.z = Latent::from_seed(self.explorer.seed, config.latent_dim);
            self.current.history = History::default();
        }
        self.status = Some(match &imported {
            Some(from) => loaded_from_pytorch(&config, from),
            None => format!("Loaded {}", dir.display()),
        });
        self.load_error = None;
        // A PyTorch file is remembered, shown and bookmarked as itself, not as its import in
        // the cache (every path that reads a checkpoint opens a .pth).
        self.current.checkpoint_dir = Some(imported.map_or(dir, |from| from.generator));
        self.current.model = Some(config);
        self.request_main();
        self.bookmarks.invalidate_thumbnails();
        self.jitter.invalidate();
        self.interpolation.invalidate();
    }

    /// A file dialog's or a file thread's answer.
    fn on_file(&mut self, event: FileEvent) {
        match event {
            FileEvent::OpenCheckpoint(path) => self.open_checkpoint(path),
            FileEvent::Message(m) => self.status = Some(m),
            FileEvent::TrainingData(dir) => self.training.set_data_dir(&dir),
            FileEvent::CompareFolder(mode, dir) => self.compare.folder_picked(mode, &dir),
            FileEvent::Picture(path, state) => self.restore_picture(&path, state),
            FileEvent::ImportBookmarks(path, read) => {
                match read.and_then(|f| self.bookmarks.store.merge(f).map_err(|e| e.to_string())) {
                    Ok(n) => {
                        self.status =
                            Some(format!("Imported {n} bookmarks from {}", path.display()));
                        self.bookmarks.invalidate_thumbnails();
                    }
                    Err(e) => self.status = Some(e),
                }
            }
        }
    }
}

/// The status line for a model opened from PyTorch files: what it is and where its critic is.
fn loaded_from_pytorch(config: &ModelConfig, from: &ImportedFrom) -> String {
    let size = config.image_size();
    let colour = if config.channels() == 1 {
        "grey"
    } else {
        "colour"
    };
    let critic = match (&from.critic, &from.critic_refused) {
        (Some(path), _) => format!("; its critic from {}", path.display()),
        (None, Some(why)) => format!("; the netD beside it was left out: {why}"),
        (None, None) => "; no critic (put its netD file beside it)".into(),
    };
    format!(
        "Opened {} (PyTorch): z of {}, {size}×{size} {colour}{critic}",
        from.generator.display(),
        config.latent_dim
    )
}

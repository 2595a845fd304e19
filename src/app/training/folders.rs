//! Looks at the chosen folders on background threads before a run starts: the dataset (how
//! many pictures, which files are unreadable, a preview) and the run folder's checkpoint
//! (its settings, shown while resuming).

use image::RgbImage;

use crate::app::folder_read::FolderRead;
use crate::app::textures::upload_all;
use crate::app::training::form::RunForm;
use crate::engine::files::data::{Dataset, Skipped, SquareMode};
use crate::engine::train::{RunDir, TrainConfig};

/// What a look at a dataset folder found: images, skipped files and a few pictures, or why
/// it cannot be used.
type ScanResult = Result<(usize, Vec<Skipped>, Vec<RgbImage>), String>;
/// A run folder's checkpoint: its step and settings, or why there is none.
type RunConfigResult = Result<(u64, TrainConfig), String>;

/// The folders' state as last seen.
#[derive(Default)]
pub struct Folders {
    scan: FolderRead<ScanResult>,
    run_read: FolderRead<RunConfigResult>,
    /// Images found and files skipped.
    pub data_info: Option<(usize, Vec<Skipped>)>,
    /// A few of its pictures.
    pub preview: Vec<egui::TextureHandle>,
    /// Why the dataset folder cannot be used.
    pub scan_error: Option<String>,
    /// What the run folder's checkpoint holds, shown while resuming.
    pub resume_note: Option<String>,
}

impl Folders {
    /// Looks at the dataset folder when it changed (and the user is not typing in it).
    pub fn scan_dataset(&mut self, form: &RunForm, ctx: &egui::Context, typing: bool) {
        if let Some(result) = self.scan.finished(&form.data_dir) {
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
        self.scan.start(&form.data_dir, ctx, |path| {
            Dataset::load_folder(&path, SquareMode::Pad)
                .map(|d| {
                    let n = d.len.min(16);
                    let preview = (0..n).map(|i| d.image(i * d.len / n)).collect();
                    (d.len, d.skipped, preview)
                })
                .map_err(|e| e.to_string())
        });
    }

    /// While resuming, reads the run folder's checkpoint settings and puts them in the form,
    /// so that what is shown is what the run keeps (or starts its changes from).
    pub fn read_run_config(
        &mut self,
        form: &mut RunForm,
        ctx: &egui::Context,
        typing: bool,
        active: bool,
    ) {
        if let Some(result) = self.run_read.finished(&form.run_dir)
            && form.mode.resumes()
            && !active
        {
            match result {
                Ok((step, config)) => {
                    form.detail_anchor = config.detail_anchor.unwrap_or(0.0);
                    form.config = config;
                    self.resume_note = Some(format!("the checkpoint's settings (step {step})"));
                }
                Err(e) => self.resume_note = Some(format!("nothing to resume: {e}")),
            }
        }
        if !form.mode.resumes() {
            self.run_read.forget();
            self.resume_note = None;
            return;
        }
        if typing || active {
            return;
        }
        self.run_read.start(&form.run_dir, ctx, |dir| {
            RunDir::new(dir)
                .checkpoint_config()
                .map_err(|e| e.to_string())
        });
    }

    /// The run folder's checkpoint changed: read it again.
    pub fn run_folder_changed(&mut self) {
        self.run_read.forget();
    }
}

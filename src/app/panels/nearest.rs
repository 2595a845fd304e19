//! The training pictures nearest to the picture on screen (from a chosen folder), with their
//! distances and a warning when the picture is closer to one than real pictures come to each
//! other: is the generator copying its data here?

use std::sync::Arc;
use std::task::Poll;

use image::RgbImage;

use crate::app::background::Background;
use crate::app::textures::upload_all;
use crate::engine::analysis::nearest::{NearestImages, Neighbour};

/// How many neighbours are shown.
pub const NEIGHBOURS: usize = 5;

/// The panel's state.
pub struct NearestPanel {
    /// The training pictures' folder.
    pub folder: String,
    /// The folder, ready for queries.
    pub index: Option<Arc<NearestImages>>,
    /// Why the folder could not be used.
    pub error: Option<String>,
    /// The neighbours of the picture last asked about.
    pub found: Vec<Neighbour>,
    /// The picture (by the explorer's count of pictures shown) they belong to.
    pub found_for: u64,
    textures: Vec<egui::TextureHandle>,
    loading: Option<Background<Result<NearestImages, String>>>,
    query: Option<Background<(u64, Vec<Neighbour>)>>,
    asked_for: u64,
}

impl Default for NearestPanel {
    fn default() -> Self {
        Self {
            folder: crate::app::training::RunForm::default().data_dir,
            index: None,
            error: None,
            found: Vec::new(),
            found_for: 0,
            textures: Vec::new(),
            loading: None,
            query: None,
            asked_for: 0,
        }
    }
}

impl NearestPanel {
    /// Loads the folder on a thread, to compare in grey or colour.
    fn load(&mut self, ctx: &egui::Context, grey: bool) {
        let folder = std::path::PathBuf::from(self.folder.trim());
        self.loading = Some(Background::spawn(ctx, move || {
            NearestImages::build(&folder, grey).map_err(|e| e.to_string())
        }));
        self.index = None;
        self.error = None;
        self.found.clear();
        self.textures.clear();
    }

    /// Takes what the threads have finished.
    pub(crate) fn poll(&mut self, ctx: &egui::Context) {
        if let Some(Poll::Ready(result)) = self.loading.as_ref().map(Background::poll) {
            self.loading = None;
            match result {
                Some(Ok(index)) => self.index = Some(Arc::new(index)),
                Some(Err(e)) => self.error = Some(e),
                None => self.error = Some("reading the folder failed".into()),
            }
        }
        if let Some(Poll::Ready(answer)) = self.query.as_ref().map(Background::poll) {
            self.query = None;
            let Some((shown, found)) = answer else {
                return;
            };
            if let Some(index) = &self.index {
                let pictures: Vec<_> = found
                    .iter()
                    .map(|n| index.images[n.index].clone())
                    .collect();
                self.textures = upload_all(ctx, "nearest", &pictures);
            }
            self.found = found;
            self.found_for = shown;
        }
    }
}

impl NearestPanel {
    /// Draws the panel (folded at first) under the picture: `picture` is the one on screen and
    /// its number; `grey` whether the model draws grey (the folder is compared in grey then).
    pub(crate) fn ui(&mut self, ui: &mut egui::Ui, picture: Option<(u64, &RgbImage)>, grey: bool) {
        // A model of the other kind opened: the loaded folder is compared its way.
        if self.index.as_ref().is_some_and(|i| i.grey != grey) && self.loading.is_none() {
            self.load(ui.ctx(), grey);
        }
        egui::CollapsingHeader::new("Nearest training images")
        .default_open(false)
        .show(ui, |ui| {
            let panel = self;
            ui.horizontal(|ui| {
                let name = ui.label("Training folder");
                ui.add(egui::TextEdit::singleline(&mut panel.folder).desired_width(150.0))
                    .labelled_by(name.id)
                    .on_hover_text("The pictures the generator was trained on");
                if ui
                    .add_enabled(panel.loading.is_none(), egui::Button::new("Load"))
                    .clicked()
                {
                    panel.load(ui.ctx(), grey);
                }
            });
            if panel.loading.is_some() {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("reading the folder...");
                });
            }
            if let Some(e) = &panel.error {
                ui.colored_label(egui::Color32::from_rgb(200, 40, 40), e);
            }
            let Some(index) = panel.index.clone() else {
                return;
            };
            // A new picture on screen: ask again, off the UI thread.
            if let Some((shown, picture)) = picture
                && panel.asked_for != shown
                && panel.query.is_none()
            {
                panel.asked_for = shown;
                let picture = picture.clone();
                panel.query = Some(Background::spawn(ui.ctx(), move || {
                    (shown, index.nearest(&picture, NEIGHBOURS))
                }));
            }
            ui.horizontal(|ui| {
                for (tex, n) in panel.textures.iter().zip(&panel.found) {
                    ui.vertical(|ui| {
                        ui.add(egui::Image::new(tex).fit_to_exact_size(egui::vec2(48.0, 48.0)));
                        ui.small(format!("{:.1}", n.distance))
                            .on_hover_text("RMS pixel distance (0-255) at 32x32");
                    });
                }
            });
            if let (Some(first), Some(index)) = (panel.found.first(), &panel.index) {
                if index.memorised(first.distance) {
                    ui.colored_label(
                        egui::Color32::from_rgb(210, 120, 0),
                        format!(
                            "Closer to a training picture ({:.1}) than real pictures come to each other ({:.1}): possibly copied",
                            first.distance, index.real_min
                        ),
                    );
                } else {
                    ui.weak(format!(
                        "Real pictures come no closer than {:.1} to each other",
                        index.real_min
                    ));
                }
            }
        });
    }
}

//! The explorer: one slider per latent dimension and the live picture.

use std::time::Instant;

use image::RgbImage;

use crate::app::command::{Command, Commands, Drag, dialog, slider_edit};
use crate::app::textures::upload;
use crate::app::{Current, FileEvent};
use crate::engine::files::picture_state::save_png_with_state;
use crate::engine::files::render::upscale;
use crate::engine::model::latent::Latent;

/// Slider range: ±3 standard deviations of the prior.
pub const SLIDER_RANGE: f32 = 3.0;

/// Explorer state: the picture and how it is shown (z and ψ are the app's [`Current`]).
pub struct Explorer {
    /// Seed shown next to Random; typing one reproduces its vector.
    pub seed: u64,
    /// Picture scale on screen.
    pub zoom: f32,
    /// Smooth (linear) rather than nearest-neighbour scaling.
    pub smooth: bool,
    /// The latest picture, for export.
    pub image: Option<RgbImage>,
    /// Its texture.
    pub texture: Option<egui::TextureHandle>,
    /// How many pictures have been shown (a test can watch this change).
    pub images_shown: u64,
    /// Latency of the last picture: request to upload, in milliseconds.
    pub last_latency_ms: Option<f32>,
    /// Generator time of the last picture, in milliseconds.
    pub last_inference_ms: Option<f32>,
    generation: u64,
    shown_generation: u64,
    requested_at: Option<(u64, Instant)>,
}

impl Explorer {
    /// A new explorer whose Random button goes on from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            zoom: 6.0,
            smooth: false,
            image: None,
            texture: None,
            images_shown: 0,
            last_latency_ms: None,
            last_inference_ms: None,
            generation: 0,
            shown_generation: 0,
            requested_at: None,
        }
    }

    /// The picture on screen and its number (by [`images_shown`](Self::images_shown)).
    pub fn shown_picture(&self) -> Option<(u64, &RgbImage)> {
        self.image.as_ref().map(|i| (self.images_shown, i))
    }

    pub(crate) fn next_generation(&mut self) -> u64 {
        self.generation += 1;
        if self.requested_at.is_none() {
            self.requested_at = Some((self.generation, Instant::now()));
        }
        self.generation
    }

    pub(crate) fn receive(
        &mut self,
        ctx: &egui::Context,
        generation: u64,
        image: RgbImage,
        millis: f32,
    ) {
        // Older answers can arrive after newer requests; never step back in time.
        if generation <= self.shown_generation {
            return;
        }
        self.shown_generation = generation;
        upload(ctx, &mut self.texture, "explorer", &image, self.smooth);
        self.image = Some(image);
        self.images_shown += 1;
        self.last_inference_ms = Some(millis);
        if let Some((_, at)) = self.requested_at.take() {
            self.last_latency_ms = Some(at.elapsed().as_secs_f32() * 1e3);
        }
        if generation < self.generation {
            self.requested_at = Some((self.generation, Instant::now()));
        }
    }
}

fn export_png(image: &RgbImage, current: &Current, scale: u32) -> Command {
    let image = image.clone();
    let state = current.picture_state(vec![current.z.clone()], current.psi);
    dialog(move || {
        let path = rfd::FileDialog::new()
            .add_filter("PNG", &["png"])
            .set_file_name(format!("hitogata-{scale}x.png"))
            .save_file()?;
        let written = save_png_with_state(&upscale(&image, scale), &state, &path);
        Some(FileEvent::Message(match written {
            Ok(()) => format!("Saved {}", path.display()),
            Err(e) => format!("Cannot save {}: {e}", path.display()),
        }))
    })
}

impl Explorer {
    /// The rows above the picture: z's controls, the view's, |z|, export.
    #[must_use]
    pub(crate) fn controls(&mut self, ui: &mut egui::Ui, current: &Current) -> Commands {
        let mut commands = Commands::new();
        ui.horizontal(|ui| self.latent_controls(ui, current, &mut commands));
        ui.horizontal(|ui| self.view_controls(ui, current, &mut commands));
        norm_line(&current.z, ui);
        ui.horizontal(|ui| self.export_controls(ui, current, &mut commands));
        commands
    }

    /// Random, seed, reset, undo and redo.
    fn latent_controls(&mut self, ui: &mut egui::Ui, current: &Current, commands: &mut Commands) {
        let dim = current.z.dim();
        if ui
            .button("Random")
            .on_hover_text("New z ~ N(0, I) from the next seed")
            .clicked()
        {
            self.seed = self.seed.wrapping_add(1);
            commands.push(Command::EditZ(Latent::from_seed(self.seed, dim), Drag::No));
        }
        ui.label("seed");
        let seed = ui
            .add(egui::DragValue::new(&mut self.seed))
            .on_hover_text("Type a seed to reproduce its vector");
        if seed.changed() {
            commands.push(Command::EditZ(Latent::from_seed(self.seed, dim), Drag::No));
        }
        if ui
            .button("Reset")
            .on_hover_text("z = 0, the prior's mean")
            .clicked()
        {
            commands.push(Command::EditZ(Latent::zeros(dim), Drag::No));
        }
        if ui
            .add_enabled(current.can_undo(), egui::Button::new("Undo"))
            .on_hover_text("Ctrl+Z")
            .clicked()
        {
            commands.push(Command::Undo);
        }
        if ui
            .add_enabled(current.can_redo(), egui::Button::new("Redo"))
            .on_hover_text("Ctrl+Shift+Z")
            .clicked()
        {
            commands.push(Command::Redo);
        }
    }

    /// Truncation, zoom and smoothing.
    fn view_controls(&mut self, ui: &mut egui::Ui, current: &Current, commands: &mut Commands) {
        let mut psi = current.psi;
        let slider = ui
            .add(egui::Slider::new(&mut psi, 0.0..=1.5).text("truncation ψ"))
            .on_hover_text(
                "Scale z toward the mean: lower ψ gives more typical, less varied people",
            );
        if slider.changed() {
            commands.push(Command::SetPsi(psi));
        }
        ui.add(egui::Slider::new(&mut self.zoom, 1.0..=10.0).text("zoom"))
            .on_hover_text("Size of the picture on screen");
        if ui
            .checkbox(&mut self.smooth, "smooth")
            .on_hover_text("Linear instead of nearest-neighbour scaling")
            .changed()
            && let Some(img) = &self.image
        {
            upload(ui.ctx(), &mut self.texture, "explorer", img, self.smooth);
        }
    }

    /// Saving the picture, copying z, and the latency.
    fn export_controls(&self, ui: &mut egui::Ui, current: &Current, commands: &mut Commands) {
        for scale in [1, 4, 8] {
            let button = egui::Button::new(format!("Save PNG {scale}x"));
            if ui.add_enabled(self.image.is_some(), button).clicked()
                && let Some(image) = &self.image
            {
                commands.push(export_png(image, current, scale));
            }
        }
        if ui
            .button("Copy z")
            .on_hover_text("Copy z to the clipboard as RON")
            .clicked()
            && let Ok(text) = ron::to_string(&current.z)
        {
            ui.ctx().copy_text(text);
            commands.push(Command::Status("Copied z to the clipboard".into()));
        }
        if let (Some(lat), Some(inf)) = (self.last_latency_ms, self.last_inference_ms) {
            ui.label(format!(
                "slider-to-pixels {lat:.1} ms (generator {inf:.1} ms)"
            ));
        }
    }

    /// The picture, `side` points square; its response once there is one (the layer viewer
    /// follows the pointer over it).
    pub(crate) fn picture(&self, ui: &mut egui::Ui, side: f32) -> Option<egui::Response> {
        match &self.texture {
            Some(tex) => Some(
                ui.add(
                    egui::Image::new(tex)
                        .fit_to_exact_size(egui::vec2(side, side))
                        .alt_text("the picture")
                        .sense(egui::Sense::hover()),
                ),
            ),
            None => {
                ui.allocate_ui(egui::vec2(side, side), |ui| {
                    ui.label("waiting for the generator...")
                });
                None
            }
        }
    }
}

/// |z| against the prior's, with a warning when z is atypical.
fn norm_line(z: &Latent, ui: &mut egui::Ui) {
    let dim = z.dim();
    let norm = z.norm();
    let zscore = z.norm_z_score();
    let text = format!(
        "|z| = {norm:.2}  (prior ~ sqrt({dim}) = {:.2})",
        (dim as f32).sqrt()
    );
    if zscore.abs() > 3.0 {
        ui.colored_label(
            egui::Color32::from_rgb(210, 120, 0),
            format!("{text} - atypical for N(0, I): expect odd pictures"),
        );
    } else {
        ui.label(text);
    }
}

/// One plain slider per latent dimension.
#[must_use]
pub(crate) fn sliders(ui: &mut egui::Ui, current: &Current) -> Commands {
    let z = &current.z;
    let mut commands = Commands::new();
    egui::ScrollArea::vertical()
        .id_salt("sliders")
        .auto_shrink([true, false])
        .show(ui, |ui| {
            egui::Grid::new("latent-sliders")
                .num_columns(2)
                .show(ui, |ui| {
                    for i in 0..z.dim() {
                        let mut v = z.0[i];
                        let r = ui
                            .add(
                                egui::Slider::new(&mut v, -SLIDER_RANGE..=SLIDER_RANGE)
                                    .text(format!("z{i}")),
                            )
                            .on_hover_text(format!("Latent dimension {i}; drag or type a value"));
                        commands.extend(slider_edit(&r, z, || {
                            let mut moved = z.clone();
                            moved.0[i] = v;
                            moved
                        }));
                        if i % 2 == 1 {
                            ui.end_row();
                        }
                    }
                });
        });
    commands
}

//! The explorer: one slider per latent dimension and the live picture.

use std::time::Instant;

use image::RgbImage;

use crate::app::textures::upload;
use crate::app::{FileEvent, HitogataApp};
use crate::engine::latent::Latent;
use crate::engine::picture_state::save_png_with_state;
use crate::engine::render::upscale;

/// Slider range: ±3 standard deviations of the prior.
pub const SLIDER_RANGE: f32 = 3.0;

/// Explorer state.
pub struct Explorer {
    /// The vector the sliders edit.
    pub z: Latent,
    /// Seed shown next to Random; typing one reproduces its vector.
    pub seed: u64,
    /// Truncation ψ: the picture shows G(ψ·z).
    pub psi: f32,
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
    /// A new explorer at `z`.
    pub fn new(z: Latent, seed: u64) -> Self {
        Self {
            z,
            seed,
            psi: 1.0,
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

    /// The vector the generator sees.
    pub fn effective_z(&self) -> Latent {
        self.z.truncated(self.psi)
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

fn export_png(app: &HitogataApp, scale: u32) {
    let Some(image) = app.explorer.image.clone() else {
        return;
    };
    let state = app.picture_state(vec![app.explorer.z.clone()], app.explorer.psi);
    app.dialog(move || {
        let path = rfd::FileDialog::new()
            .add_filter("PNG", &["png"])
            .set_file_name(format!("hitogata-{scale}x.png"))
            .save_file()?;
        let written = save_png_with_state(&upscale(&image, scale), &state, &path);
        Some(FileEvent::Message(match written {
            Ok(()) => format!("Saved {}", path.display()),
            Err(e) => format!("Cannot save {}: {e}", path.display()),
        }))
    });
}

/// Draws the explorer.
pub fn show(app: &mut HitogataApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| latent_controls(app, ui));
    ui.horizontal(|ui| view_controls(app, ui));
    norm_line(app, ui);
    ui.horizontal(|ui| export_controls(app, ui));
    ui.separator();
    columns(app, ui);
}

/// Random, seed, reset, undo and redo.
fn latent_controls(app: &mut HitogataApp, ui: &mut egui::Ui) {
    if ui
        .button("Random")
        .on_hover_text("New z ~ N(0, I) from the next seed")
        .clicked()
    {
        app.explorer.seed = app.explorer.seed.wrapping_add(1);
        let z = Latent::from_seed(app.explorer.seed, app.explorer.z.dim());
        app.set_z(z);
    }
    ui.label("seed");
    let seed = ui
        .add(egui::DragValue::new(&mut app.explorer.seed))
        .on_hover_text("Type a seed to reproduce its vector");
    if seed.changed() {
        let z = Latent::from_seed(app.explorer.seed, app.explorer.z.dim());
        app.set_z(z);
    }
    if ui
        .button("Reset")
        .on_hover_text("z = 0, the prior's mean")
        .clicked()
    {
        let z = Latent::zeros(app.explorer.z.dim());
        app.set_z(z);
    }
    if ui
        .add_enabled(app.history.can_undo(), egui::Button::new("Undo"))
        .on_hover_text("Ctrl+Z")
        .clicked()
    {
        app.undo();
    }
    if ui
        .add_enabled(app.history.can_redo(), egui::Button::new("Redo"))
        .on_hover_text("Ctrl+Shift+Z")
        .clicked()
    {
        app.redo();
    }
}

/// Truncation, zoom and smoothing.
fn view_controls(app: &mut HitogataApp, ui: &mut egui::Ui) {
    let psi = ui
        .add(egui::Slider::new(&mut app.explorer.psi, 0.0..=1.5).text("truncation ψ"))
        .on_hover_text("Scale z toward the mean: lower ψ gives more typical, less varied people");
    if psi.changed() {
        app.request_main();
    }
    ui.add(egui::Slider::new(&mut app.explorer.zoom, 1.0..=10.0).text("zoom"))
        .on_hover_text("Size of the picture on screen");
    if ui
        .checkbox(&mut app.explorer.smooth, "smooth")
        .on_hover_text("Linear instead of nearest-neighbour scaling")
        .changed()
        && let Some(img) = app.explorer.image.clone()
    {
        upload(
            ui.ctx(),
            &mut app.explorer.texture,
            "explorer",
            &img,
            app.explorer.smooth,
        );
    }
}

/// |z| against the prior's, with a warning when z is atypical.
fn norm_line(app: &mut HitogataApp, ui: &mut egui::Ui) {
    let dim = app.explorer.z.dim();
    let norm = app.explorer.z.norm();
    let zscore = app.explorer.z.norm_z_score();
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

/// Saving the picture, copying z, and the latency.
fn export_controls(app: &mut HitogataApp, ui: &mut egui::Ui) {
    for scale in [1, 4, 8] {
        if ui
            .add_enabled(
                app.explorer.image.is_some(),
                egui::Button::new(format!("Save PNG {scale}x")),
            )
            .clicked()
        {
            export_png(app, scale);
        }
    }
    if ui
        .button("Copy z")
        .on_hover_text("Copy z to the clipboard as RON")
        .clicked()
        && let Ok(text) = ron::to_string(&app.explorer.z)
    {
        ui.ctx().copy_text(text);
        app.status = Some("Copied z to the clipboard".into());
    }
    if let (Some(lat), Some(inf)) = (app.explorer.last_latency_ms, app.explorer.last_inference_ms) {
        ui.label(format!(
            "slider-to-pixels {lat:.1} ms (generator {inf:.1} ms)"
        ));
    }
}

/// The picture with its panels, beside the sliders or the Dimensions view.
fn columns(app: &mut HitogataApp, ui: &mut egui::Ui) {
    let side = 64.0 * app.explorer.zoom;
    // The picture column is as wide as the picture or the jitter grid, whichever is wider.
    let column = side.max(app.jitter.side as f32 * 88.0);
    ui.horizontal_top(|ui| {
        ui.vertical(|ui| {
            ui.set_width(column);
            egui::ScrollArea::vertical()
                .id_salt("picture-column")
                .show(ui, |ui| {
                    match &app.explorer.texture {
                        Some(tex) => {
                            let response = ui.add(
                                egui::Image::new(tex)
                                    .fit_to_exact_size(egui::vec2(side, side))
                                    .alt_text("the picture")
                                    .sense(egui::Sense::hover()),
                            );
                            crate::app::layers_panel::track_pointer(app, &response);
                        }
                        None => {
                            ui.allocate_ui(egui::vec2(side, side), |ui| {
                                ui.label("waiting for the generator...")
                            });
                        }
                    }
                    crate::app::critic_panel::show(app, ui);
                    crate::app::nearest_panel::show(app, ui);
                    crate::app::layers_panel::show(app, ui);
                    crate::app::compare_panel::show(app, ui);
                    ui.separator();
                    crate::app::jitter::show(app, ui);
                    ui.separator();
                    crate::app::interpolation::show(app, ui);
                });
        });
        ui.separator();
        ui.vertical(|ui| {
            ui.horizontal(|ui| {
                ui.selectable_value(&mut app.dimensions.shown, false, "Sliders")
                    .on_hover_text("One plain slider per latent dimension");
                ui.selectable_value(&mut app.dimensions.shown, true, "Dimensions")
                    .on_hover_text(
                        "Each dimension and discovered direction with a strip of pictures along it and how much it changes the picture",
                    );
            });
            if app.dimensions.shown {
                crate::app::dimensions::show(app, ui);
            } else {
                sliders(app, ui);
            }
        });
    });
}

fn sliders(app: &mut HitogataApp, ui: &mut egui::Ui) {
    let dim = app.explorer.z.dim();
    egui::ScrollArea::vertical()
        .id_salt("sliders")
        .auto_shrink([true, false])
        .show(ui, |ui| {
            let mut changed = None;
            egui::Grid::new("latent-sliders")
                .num_columns(2)
                .show(ui, |ui| {
                    for i in 0..dim {
                        let mut v = app.explorer.z.0[i];
                        let r = ui
                            .add(
                                egui::Slider::new(&mut v, -SLIDER_RANGE..=SLIDER_RANGE)
                                    .text(format!("z{i}")),
                            )
                            .on_hover_text(format!("Latent dimension {i}; drag or type a value"));
                        if r.drag_started() {
                            // One undo step per drag, not one per frame of it.
                            app.history.record(app.explorer.z.clone());
                        }
                        if r.changed() {
                            changed = Some((i, v, r.dragged()));
                        }
                        if i % 2 == 1 {
                            ui.end_row();
                        }
                    }
                });
            if let Some((i, v, dragging)) = changed {
                let mut z = app.explorer.z.clone();
                z.0[i] = v;
                if dragging {
                    app.explorer.z = z;
                    app.request_main();
                } else {
                    app.set_z(z);
                }
            }
        });
}

//! Between faces: a strip of frames from one latent vector to another (two bookmarks, or the
//! current z and a bookmark), linear or spherical, a slider to scrub it, "adopt this frame"
//! (undoable), and the strip saved as a PNG or an animated GIF.

use image::RgbImage;

use crate::app::textures::upload_all;
use crate::app::{FileEvent, HitogataApp};
use crate::engine::directions::interpolate;
use crate::engine::latent::Latent;
use crate::engine::picture_state::save_png_with_state;
use crate::engine::render::{grid, save_gif};

/// The panel's state.
pub struct InterpolationPanel {
    /// Where it starts: a name and a vector.
    pub from: Option<(String, Latent)>,
    /// Where it ends.
    pub to: Option<(String, Latent)>,
    /// Frames, both ends included.
    pub frames: usize,
    /// Along the great circle (slerp) rather than the straight line.
    pub spherical: bool,
    /// The frame the slider shows.
    pub position: usize,
    /// The frames' vectors and pictures, once drawn.
    pub latents: Vec<Latent>,
    /// Their pictures.
    pub images: Vec<RgbImage>,
    textures: Vec<egui::TextureHandle>,
    pending_tag: Option<u64>,
    stale: bool,
}

impl Default for InterpolationPanel {
    fn default() -> Self {
        Self {
            from: None,
            to: None,
            frames: 8,
            spherical: true,
            position: 0,
            latents: Vec::new(),
            images: Vec::new(),
            textures: Vec::new(),
            pending_tag: None,
            stale: false,
        }
    }
}

impl InterpolationPanel {
    /// Starts from this (name, vector).
    pub fn set_from(&mut self, from: (String, Latent)) {
        self.from = Some(from);
        self.stale = true;
    }

    /// Ends at this (name, vector).
    pub fn set_to(&mut self, to: (String, Latent)) {
        self.to = Some(to);
        self.stale = true;
    }

    /// The frames must be drawn again (another checkpoint).
    pub fn invalidate(&mut self) {
        self.stale = self.from.is_some() && self.to.is_some();
    }

    /// The pictures for request `tag`; false if they were not this panel's.
    pub(crate) fn receive(&mut self, ctx: &egui::Context, tag: u64, images: &[RgbImage]) -> bool {
        if self.pending_tag != Some(tag) {
            return false;
        }
        self.pending_tag = None;
        self.textures = upload_all(ctx, "frame", images);
        self.images = images.to_vec();
        true
    }
}

fn save_strip(app: &HitogataApp) {
    let strip = grid(&app.interpolation.images, app.interpolation.images.len(), 2);
    let state = app.picture_state(app.interpolation.latents.clone(), 1.0);
    app.dialog(move || {
        let path = rfd::FileDialog::new()
            .add_filter("PNG", &["png"])
            .set_file_name("between.png")
            .save_file()?;
        let written = save_png_with_state(&strip, &state, &path);
        Some(FileEvent::Message(match written {
            Ok(()) => format!("Saved {}", path.display()),
            Err(e) => format!("Cannot save {}: {e}", path.display()),
        }))
    });
}

fn save_animation(app: &HitogataApp) {
    // There and back, so that the loop does not jump.
    let mut frames = app.interpolation.images.clone();
    frames.extend(app.interpolation.images.iter().rev().skip(1).cloned());
    app.dialog(move || {
        let path = rfd::FileDialog::new()
            .add_filter("GIF", &["gif"])
            .set_file_name("between.gif")
            .save_file()?;
        Some(FileEvent::Message(match save_gif(&frames, 120, &path) {
            Ok(()) => format!("Saved {}", path.display()),
            Err(e) => format!("Cannot save {}: {e}", path.display()),
        }))
    });
}

/// Draws the panel (under the jitter grid).
pub fn show(app: &mut HitogataApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| ends(app, ui));
    let panel = &mut app.interpolation;
    let (Some((from, a)), Some((to, b))) = (panel.from.clone(), panel.to.clone()) else {
        ui.label("Choose two ends: a bookmark's From and To buttons, or the current z.");
        return;
    };
    ui.label(format!("{from} to {to}"));
    let mut changed = false;
    ui.horizontal(|ui| {
        changed |= ui
            .add(egui::Slider::new(&mut panel.frames, 3..=16).text("frames"))
            .changed();
        changed |= ui
            .checkbox(&mut panel.spherical, "spherical")
            .on_hover_text(
                "Along the great circle (slerp), keeping |z| typical; off: a straight line",
            )
            .changed();
    });
    if (changed || panel.stale) && a.dim() == b.dim() && app.model.is_some() {
        let panel = &mut app.interpolation;
        panel.stale = false;
        panel.latents = interpolate(&a, &b, panel.frames, panel.spherical);
        panel.position = panel.position.min(panel.frames - 1);
        panel.textures.clear();
        panel.images.clear();
        let tag = app.tag();
        app.interpolation.pending_tag = Some(tag);
        let latents = app.interpolation.latents.clone();
        app.request_batch(tag, latents);
    }
    let panel = &mut app.interpolation;
    if panel.textures.is_empty() {
        return;
    }
    frames(panel, ui);
    actions(app, ui);
}

/// The title and the buttons that make the current z an end.
fn ends(app: &mut HitogataApp, ui: &mut egui::Ui) {
    ui.strong("Between faces");
    if ui
        .button("Start at current z")
        .on_hover_text("Start at the picture above (a bookmark's From and To buttons set the ends)")
        .clicked()
    {
        let z = app.explorer.z.clone();
        app.interpolation.set_from(("current z".into(), z));
    }
    if ui
        .button("End at current z")
        .on_hover_text("End at the picture above")
        .clicked()
    {
        let z = app.explorer.z.clone();
        app.interpolation.set_to(("current z".into(), z));
    }
}

/// The frames (the current one larger; a click picks one) and the scrubbing slider.
fn frames(panel: &mut InterpolationPanel, ui: &mut egui::Ui) {
    ui.horizontal_wrapped(|ui| {
        for (i, tex) in panel.textures.iter().enumerate() {
            let size = if i == panel.position { 40.0 } else { 32.0 };
            if ui
                .add(
                    egui::Image::new(tex)
                        .fit_to_exact_size(egui::vec2(size, size))
                        .sense(egui::Sense::click()),
                )
                .on_hover_text(format!("Frame {}", i + 1))
                .clicked()
            {
                panel.position = i;
            }
        }
    });
    let last = panel.textures.len() - 1;
    ui.add(egui::Slider::new(&mut panel.position, 0..=last).text("frame"))
        .on_hover_text("Scrub from one end to the other");
}

/// Adopt the frame, save the strip or the animation.
fn actions(app: &mut HitogataApp, ui: &mut egui::Ui) {
    let mut adopt = false;
    ui.horizontal(|ui| {
        adopt = ui
            .button("Adopt this frame")
            .on_hover_text("Make this frame the current z (undoable)")
            .clicked();
        if ui.button("Save strip PNG...").clicked() {
            save_strip(app);
        }
        if ui.button("Save GIF...").clicked() {
            save_animation(app);
        }
    });
    if adopt && let Some(z) = app.interpolation.latents.get(app.interpolation.position) {
        let z = z.clone();
        app.set_z(z);
    }
}

//! Between faces: a strip of frames from one latent vector to another (two bookmarks, or the
//! current z and a bookmark), linear or spherical, a slider to scrub it, "adopt this frame"
//! (undoable), and the strip saved as a PNG or an animated GIF.

use image::RgbImage;

use crate::app::command::{Command, Commands, Drag, dialog};
use crate::app::textures::upload_all;
use crate::app::{Current, FileEvent};
use crate::engine::analysis::directions::interpolate;
use crate::engine::files::picture_state::save_png_with_state;
use crate::engine::files::render::{grid, save_gif};
use crate::engine::model::latent::Latent;
use crate::engine::workers::inference_worker::BatchFor;

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
    pending_tag: Option<BatchFor>,
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

    /// The frames to draw, when they are stale and both ends are set (with a model loaded).
    pub(crate) fn wanted(&mut self, loaded: bool) -> Option<Vec<Latent>> {
        let (Some((_, a)), Some((_, b))) = (&self.from, &self.to) else {
            return None;
        };
        if !self.stale || !loaded || a.dim() != b.dim() {
            return None;
        }
        self.stale = false;
        self.latents = interpolate(a, b, self.frames, self.spherical);
        self.position = self.position.min(self.frames - 1);
        self.textures.clear();
        self.images.clear();
        Some(self.latents.clone())
    }

    /// The frames were asked for under `tag`.
    pub(crate) fn requested(&mut self, tag: BatchFor) {
        self.pending_tag = Some(tag);
    }

    /// The pictures for request `tag` (older requests' are dropped).
    pub(crate) fn receive(&mut self, ctx: &egui::Context, tag: BatchFor, images: &[RgbImage]) {
        if self.pending_tag != Some(tag) {
            return;
        }
        self.pending_tag = None;
        self.textures = upload_all(ctx, "frame", images);
        self.images = images.to_vec();
    }
}

fn save_strip(panel: &InterpolationPanel, current: &Current) -> Command {
    let strip = grid(&panel.images, panel.images.len(), 2);
    let state = current.picture_state(panel.latents.clone(), 1.0);
    dialog(move || {
        let path = rfd::FileDialog::new()
            .add_filter("PNG", &["png"])
            .set_file_name("between.png")
            .save_file()?;
        let written = save_png_with_state(&strip, &state, &path);
        Some(FileEvent::Message(match written {
            Ok(()) => format!("Saved {}", path.display()),
            Err(e) => format!("Cannot save {}: {e}", path.display()),
        }))
    })
}

fn save_animation(panel: &InterpolationPanel) -> Command {
    // There and back, so that the loop does not jump.
    let mut frames = panel.images.clone();
    frames.extend(panel.images.iter().rev().skip(1).cloned());
    dialog(move || {
        let path = rfd::FileDialog::new()
            .add_filter("GIF", &["gif"])
            .set_file_name("between.gif")
            .save_file()?;
        Some(FileEvent::Message(match save_gif(&frames, 120, &path) {
            Ok(()) => format!("Saved {}", path.display()),
            Err(e) => format!("Cannot save {}: {e}", path.display()),
        }))
    })
}

impl InterpolationPanel {
    /// Draws the panel (under the jitter grid).
    #[must_use]
    pub(crate) fn ui(&mut self, ui: &mut egui::Ui, current: &Current) -> Commands {
        let mut commands = Commands::new();
        ui.horizontal(|ui| ends(ui, current, &mut commands));
        let (Some((from, _)), Some((to, _))) = (&self.from, &self.to) else {
            ui.label("Choose two ends: a bookmark's From and To buttons, or the current z.");
            return commands;
        };
        ui.label(format!("{from} to {to}"));
        ui.horizontal(|ui| {
            let frames = ui.add(egui::Slider::new(&mut self.frames, 3..=16).text("frames"));
            let spherical = ui.checkbox(&mut self.spherical, "spherical").on_hover_text(
                "Along the great circle (slerp), keeping |z| typical; off: a straight line",
            );
            if frames.changed() || spherical.changed() {
                self.stale = true;
            }
        });
        if self.textures.is_empty() {
            return commands;
        }
        frames(self, ui);
        commands.extend(self.actions(ui, current));
        commands
    }

    /// Adopt the frame, save the strip or the animation.
    fn actions(&self, ui: &mut egui::Ui, current: &Current) -> Commands {
        let mut commands = Commands::new();
        ui.horizontal(|ui| {
            if ui
                .button("Adopt this frame")
                .on_hover_text("Make this frame the current z (undoable)")
                .clicked()
                && let Some(z) = self.latents.get(self.position)
            {
                commands.push(Command::EditZ(z.clone(), Drag::No));
            }
            if ui.button("Save strip PNG...").clicked() {
                commands.push(save_strip(self, current));
            }
            if ui.button("Save GIF...").clicked() {
                commands.push(save_animation(self));
            }
        });
        commands
    }
}

/// The title and the buttons that make the current z an end.
fn ends(ui: &mut egui::Ui, current: &Current, commands: &mut Commands) {
    ui.strong("Between faces");
    if ui
        .button("Start at current z")
        .on_hover_text("Start at the picture above (a bookmark's From and To buttons set the ends)")
        .clicked()
    {
        commands.push(Command::InterpolationEnd(
            true,
            "current z".into(),
            current.z.clone(),
        ));
    }
    if ui
        .button("End at current z")
        .on_hover_text("End at the picture above")
        .clicked()
    {
        commands.push(Command::InterpolationEnd(
            false,
            "current z".into(),
            current.z.clone(),
        ));
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

//! The layer viewer: one generator layer's channels for the picture on screen, as grey
//! pictures (normalised per channel or per layer), their statistics, dead channels flagged,
//! and one channel shown large.

use crate::app::Current;
use crate::app::command::{Command, Commands};
use crate::app::textures::upload_all;
use crate::engine::analysis::layers::{LayerView, layer_names};
use crate::engine::model::latent::Latent;

/// The panel's state.
#[derive(Default)]
pub struct LayersPanel {
    /// Which layer (an index into [`layer_names`]).
    pub layer: usize,
    /// Normalise each channel's picture to its own range (else to the layer's).
    pub per_channel: bool,
    /// The layer as last drawn.
    pub view: Option<LayerView>,
    /// Channels zero for most z.
    pub dead_mostly: Vec<bool>,
    /// The channel shown large.
    pub selected: Option<usize>,
    /// Where the pointer is over the picture (0..1 from its top-left corner), if it is.
    pub pointer: Option<egui::Pos2>,
    /// Whether the panel was open when last drawn (the picture's hover uses it).
    pub open: bool,
    textures: Vec<egui::TextureHandle>,
    requested: Option<(Latent, usize, bool)>,
}

impl LayersPanel {
    /// A layer arrived from the worker.
    pub(crate) fn receive(&mut self, ctx: &egui::Context, view: LayerView, dead_mostly: Vec<bool>) {
        let pictures: Vec<_> = view.channels.iter().map(|c| c.picture.clone()).collect();
        self.textures = upload_all(ctx, "channel", &pictures);
        self.view = Some(view);
        self.dead_mostly = dead_mostly;
    }

    /// The channels most active under the pointer, when the panel is open and the pointer
    /// is on the picture.
    pub fn under_pointer(&self) -> Vec<(usize, f32)> {
        match (&self.view, self.pointer) {
            (Some(view), Some(p)) if self.open => view.most_active_at(p.x, p.y, HOVER_CHANNELS),
            _ => Vec::new(),
        }
    }
}

/// Channels listed for the point under the pointer.
pub const HOVER_CHANNELS: usize = 5;

impl LayersPanel {
    /// Notes where the pointer is over the explorer's picture (`response` is the picture's).
    pub(crate) fn track_pointer(&mut self, response: &egui::Response) {
        let rect = response.rect;
        self.pointer = response
            .hover_pos()
            .filter(|_| rect.width() > 0.0 && rect.height() > 0.0)
            .map(|p| {
                egui::pos2(
                    (p.x - rect.left()) / rect.width(),
                    (p.y - rect.top()) / rect.height(),
                )
            });
        let active = self.under_pointer();
        if !active.is_empty() {
            response.clone().on_hover_text(active_text(&active));
        }
    }

    /// Draws the panel (folded at first) under the picture.
    #[must_use]
    pub(crate) fn ui(&mut self, ui: &mut egui::Ui, current: &Current) -> Commands {
        self.open = false;
        egui::CollapsingHeader::new("Layers")
            .default_open(false)
            .show(ui, |ui| body(self, ui, current))
            .body_returned
            .unwrap_or_default()
    }
}

fn active_text(active: &[(usize, f32)]) -> String {
    let list: Vec<String> = active
        .iter()
        .map(|(k, v)| format!("{k} ({v:.2})"))
        .collect();
    format!("most active channels here: {}", list.join(", "))
}

/// The open panel: the layer choice, its channels, and the one picked.
fn body(panel: &mut LayersPanel, ui: &mut egui::Ui, current: &Current) -> Commands {
    let mut commands = Commands::new();
    panel.open = true;
    let names = current.model.as_ref().map(layer_names).unwrap_or_default();
    panel.layer = panel.layer.min(names.len().saturating_sub(1));
    ui.horizontal(|ui| {
        egui::ComboBox::new("layer", "layer")
            .selected_text(names.get(panel.layer).map_or("", String::as_str))
            .show_ui(ui, |ui| {
                for (i, name) in names.iter().enumerate() {
                    ui.selectable_value(&mut panel.layer, i, name);
                }
            });
        ui.checkbox(&mut panel.per_channel, "per channel")
            .on_hover_text("Scale each channel to its own range (otherwise to the layer's)");
    });
    let key = (current.effective_z(), panel.layer, panel.per_channel);
    if panel.requested.as_ref() != Some(&key) {
        panel.requested = Some(key.clone());
        panel.selected = None;
        commands.push(Command::Layer {
            z: key.0,
            layer: key.1,
            per_channel: key.2,
        });
    }
    let Some(view) = &panel.view else {
        ui.spinner();
        return commands;
    };
    let dead_here = view.channels.iter().filter(|c| c.dead_here).count();
    let dead_mostly = panel.dead_mostly.iter().filter(|d| **d).count();
    ui.weak(format!(
        "{} channels of {}x{}; zero here: {dead_here}; zero for most z: {dead_mostly}",
        view.channels.len(),
        view.side,
        view.side
    ));
    let active = panel.under_pointer();
    if active.is_empty() {
        ui.weak("Point at the picture to see which channels are most active there.");
    } else {
        ui.label(active_text(&active));
    }
    if let Some(k) = channel_grid(panel, view, &active, ui) {
        panel.selected = Some(k);
    }
    if let Some(k) = panel.selected.filter(|&k| k < panel.textures.len()) {
        let c = &view.channels[k];
        ui.horizontal(|ui| {
            ui.add(
                egui::Image::new(&panel.textures[k]).fit_to_exact_size(egui::vec2(160.0, 160.0)),
            );
            ui.label(format!(
                "channel {k}\nmean {:.3}\nstd {:.3}\nmax {:.3}",
                c.mean, c.std, c.max
            ));
        });
    }
    commands
}

/// Every channel as a small picture, outlined when active under the pointer (blue), zero for
/// most z (red) or zero here (orange); the one clicked.
fn channel_grid(
    panel: &LayersPanel,
    view: &LayerView,
    active: &[(usize, f32)],
    ui: &mut egui::Ui,
) -> Option<usize> {
    let size = if view.side >= 32 { 40.0 } else { 24.0 };
    let mut pick = None;
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing = egui::vec2(2.0, 2.0);
        for (k, tex) in panel.textures.iter().enumerate() {
            let channel = &view.channels[k];
            let mostly = panel.dead_mostly.get(k).copied().unwrap_or(false);
            let response = ui.add(
                egui::Image::new(tex)
                    .fit_to_exact_size(egui::vec2(size, size))
                    .sense(egui::Sense::click()),
            );
            let outline = if active.iter().any(|(a, _)| *a == k) {
                Some((2.0, egui::Color32::from_rgb(60, 140, 255)))
            } else if mostly {
                Some((1.0, egui::Color32::from_rgb(200, 40, 40)))
            } else if channel.dead_here {
                Some((1.0, egui::Color32::from_rgb(210, 120, 0)))
            } else {
                None
            };
            if let Some((width, color)) = outline {
                ui.painter().rect_stroke(
                    response.rect,
                    0.0,
                    egui::Stroke::new(width, color),
                    egui::StrokeKind::Inside,
                );
            }
            let state = if mostly {
                " (zero for most z)"
            } else if channel.dead_here {
                " (zero here)"
            } else {
                ""
            };
            let hover = format!(
                "channel {k}: mean {:.3}, std {:.3}, max {:.3}{state}",
                channel.mean, channel.std, channel.max
            );
            if response.on_hover_text(hover).clicked() {
                pick = Some(k);
            }
        }
    });
    pick
}

//! Jitter: a grid of children z + ε, ε ~ N(0, σ²I), around the current vector or a bookmark.
//! Click a child to adopt it (undoable), or bookmark it (remembering its parent).

use image::RgbImage;

use crate::app::command::{Command, Commands, Drag};
use crate::app::textures::upload_all;
use crate::app::{Current, DimensionsView};
use crate::engine::model::latent::Latent;
use crate::engine::workers::inference_worker::BatchFor;

/// Jitter panel state.
pub struct JitterPanel {
    /// Noise scale.
    pub sigma: f32,
    /// Grid side (3 → 3×3).
    pub side: usize,
    /// Seed of the current children.
    pub seed: u64,
    /// Move only along the first this many directions of the Dimensions view (0: along every
    /// latent dimension), so that a child varies, say, the hair and keeps the face.
    pub along: usize,
    /// The parent vector and the bookmark it came from, if any.
    pub source: Option<(Option<u64>, Latent)>,
    /// The children.
    pub children: Vec<Latent>,
    /// Their textures (filled when the worker answers).
    pub textures: Vec<egui::TextureHandle>,
    /// The critic's score of each, when the checkpoint has a critic.
    pub scores: Vec<f32>,
    /// Show the children the critic finds most real first.
    pub sort_by_critic: bool,
    pending_tag: Option<BatchFor>,
    stale: bool,
}

impl Default for JitterPanel {
    fn default() -> Self {
        Self {
            sigma: 0.5,
            side: 4,
            seed: 1,
            along: 0,
            source: None,
            children: Vec::new(),
            textures: Vec::new(),
            scores: Vec::new(),
            sort_by_critic: false,
            pending_tag: None,
            stale: false,
        }
    }
}

impl JitterPanel {
    /// Jitter around `z` (from bookmark `bookmark`, if any).
    pub fn set_source(&mut self, bookmark: Option<u64>, z: Latent) {
        self.source = Some((bookmark, z));
        self.stale = true;
    }

    /// The children must be recomputed and re-rendered.
    pub fn invalidate(&mut self) {
        if self.source.is_some() {
            self.stale = true;
        }
    }

    /// Whether the children are stale and can be drawn (a model is loaded).
    pub(crate) fn wants_drawing(&self, loaded: bool) -> bool {
        self.stale && loaded
    }

    /// Recomputes the children from source, σ, grid size, seed and the directions to move
    /// along (all of `directions` used: the caller picks them); returns them.
    pub fn regenerate(&mut self, directions: &[Vec<f32>]) -> Vec<Latent> {
        self.stale = false;
        if let Some((_, parent)) = &self.source {
            let count = self.side * self.side;
            self.children = parent.jitter_along(self.sigma, directions, count, self.seed);
        }
        self.textures.clear();
        self.children.clone()
    }

    /// The children were asked for under `tag`.
    pub(crate) fn requested(&mut self, tag: BatchFor) {
        self.pending_tag = Some(tag);
    }

    pub(crate) fn receive(
        &mut self,
        ctx: &egui::Context,
        tag: BatchFor,
        images: Vec<RgbImage>,
        scores: Option<Vec<f32>>,
    ) {
        if self.pending_tag != Some(tag) {
            return;
        }
        self.pending_tag = None;
        self.textures = upload_all(ctx, "child", &images);
        self.scores = scores.unwrap_or_default();
    }

    /// The children's display order: as drawn, or the critic's favourites first.
    pub fn order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.textures.len()).collect();
        if self.sort_by_critic && self.scores.len() == order.len() {
            order.sort_by(|&a, &b| self.scores[b].total_cmp(&self.scores[a]));
        }
        order
    }
}

impl JitterPanel {
    /// Draws the jitter controls and the grid of children; `dimensions` holds the directions
    /// they may vary along.
    #[must_use]
    pub(crate) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        current: &Current,
        dimensions: &DimensionsView,
    ) -> Commands {
        let mut commands = Commands::new();
        let changed = self.controls(ui, current, dimensions, &mut commands);
        if changed && self.source.is_some() {
            self.stale = true;
        }
        if self.source.is_none() {
            ui.label(
                "Choose 'From current z', or a bookmark's Jitter button, to see similar people.",
            );
            return commands;
        }
        if !self.scores.is_empty() {
            ui.checkbox(&mut self.sort_by_critic, "sort by critic")
                .on_hover_text("The children the critic finds most real first");
        }
        let (adopt, bookmark) = children(self, ui);
        if let Some(i) = adopt {
            commands.push(Command::EditZ(self.children[i].clone(), Drag::No));
        }
        if let Some(i) = bookmark {
            commands.push(Command::AddBookmark {
                name: format!("child {i} (seed {})", self.seed),
                z: self.children[i].clone(),
                parent: self.source.as_ref().and_then(|(b, _)| *b),
            });
        }
        commands
    }

    /// The source, seed, σ, grid size and directions; whether any of them changed.
    fn controls(
        &mut self,
        ui: &mut egui::Ui,
        current: &Current,
        dimensions: &DimensionsView,
        commands: &mut Commands,
    ) -> bool {
        let mut changed = false;
        ui.horizontal(|ui| {
            ui.strong("Jitter");
            if ui
                .button("From current z")
                .on_hover_text("Make children around the picture above")
                .clicked()
            {
                commands.push(Command::JitterAround(None, current.z.clone()));
            }
            if ui
                .button("Re-roll")
                .on_hover_text("A new batch of children")
                .clicked()
            {
                self.seed = self.seed.wrapping_add(1);
                changed = true;
            }
            ui.label("seed");
            changed |= ui
                .add(egui::DragValue::new(&mut self.seed))
                .on_hover_text("Same seed, same children")
                .changed();
        });
        ui.horizontal(|ui| {
            changed |= ui
                .add(
                    egui::Slider::new(&mut self.sigma, 0.05..=2.0)
                        .text("σ")
                        .max_decimals(2),
                )
                .on_hover_text("Spread of the children around the parent")
                .changed();
            changed |= ui
                .add(egui::Slider::new(&mut self.side, 3..=6).text("grid"))
                .on_hover_text("Children per side")
                .changed();
        });
        let available = dimensions.direction_count(current.z.dim());
        self.along = self.along.min(available);
        let chosen = dimensions.vary.len();
        if chosen > 0 {
            ui.label(format!(
                "along the {chosen} rows ticked in the Dimensions view"
            ));
        }
        ui.add_enabled_ui(available > 0 && chosen == 0, |ui| {
            changed |= ui
                .add(
                    egui::DragValue::new(&mut self.along)
                        .range(0..=available)
                        .custom_formatter(|n, _| {
                            if n == 0.0 {
                                "every dimension".into()
                            } else {
                                format!("first {n} directions")
                            }
                        })
                        .prefix("along "),
                )
                .on_hover_text(
                    "Vary only along the Dimensions view's first directions (SeFa's strongest first), to change, say, the hair and keep the face",
                )
                .changed();
        });
        changed
    }
}

/// The grid of children; which one was clicked to adopt, and which to bookmark.
fn children(panel: &JitterPanel, ui: &mut egui::Ui) -> (Option<usize>, Option<usize>) {
    let mut adopt = None;
    let mut bookmark = None;
    let order = panel.order();
    egui::Grid::new("children")
        .spacing([4.0, 4.0])
        .show(ui, |ui| {
            for (shown, &i) in order.iter().enumerate() {
                let tex = &panel.textures[i];
                ui.vertical(|ui| {
                    if ui
                        .add(
                            egui::Image::new(tex)
                                .fit_to_exact_size(egui::vec2(84.0, 84.0))
                                .sense(egui::Sense::click()),
                        )
                        .on_hover_text("Adopt this child as the current z")
                        .clicked()
                    {
                        adopt = Some(i);
                    }
                    if let Some(score) = panel.scores.get(i) {
                        ui.small(format!("D {score:+.2}"))
                            .on_hover_text("The critic's score: higher looks more real to it");
                    }
                    // Never wrapped: "Bookmark 10" on two lines breaks the grid's rhythm.
                    let button = egui::Button::new(format!("Bookmark {i}"))
                        .small()
                        .wrap_mode(egui::TextWrapMode::Extend);
                    if ui
                        .add(button)
                        .on_hover_text("Bookmark this child")
                        .clicked()
                    {
                        bookmark = Some(i);
                    }
                });
                if (shown + 1) % panel.side == 0 {
                    ui.end_row();
                }
            }
        });
    (adopt, bookmark)
}

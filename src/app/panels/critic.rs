//! The critic in the editor: D(G(z)) of the current picture, how it would change along each
//! latent dimension (∂D/∂zᵢ), and "Nudge towards real" — a few steps of gradient ascent of
//! D(G(z)) in z, undone in one step.

use crate::app::Current;
use crate::app::command::{Command, Commands, Drag};
use crate::engine::model::latent::Latent;

/// The panel's state.
pub struct CriticPanel {
    /// Whether the checkpoint has a critic, or why its critic could not be read.
    pub available: Result<bool, String>,
    /// D(G(z)) of the latest critiqued vector, and that vector (as drawn).
    pub score: Option<(Latent, f32)>,
    /// ∂D/∂z there.
    pub gradient: Vec<f32>,
    /// Nudge steps.
    pub steps: usize,
    /// Length of each step in z.
    pub size: f32,
    /// The last nudge: how far z moved, and the score before and after.
    pub last_nudge: Option<(f32, f32, f32)>,
    /// A nudge is running.
    pub nudging: bool,
    requested: Option<Latent>,
}

impl Default for CriticPanel {
    fn default() -> Self {
        Self {
            available: Ok(false),
            score: None,
            gradient: Vec::new(),
            steps: 5,
            size: 0.2,
            last_nudge: None,
            nudging: false,
            requested: None,
        }
    }
}

impl CriticPanel {
    /// A checkpoint loaded, with or without a critic.
    pub fn loaded(&mut self, critic: Result<bool, String>) {
        *self = Self {
            available: critic,
            steps: self.steps,
            size: self.size,
            ..Self::default()
        };
    }

    /// The critic's view of `z` arrived.
    pub fn receive(&mut self, z: Latent, score: f32, gradient: Vec<f32>) {
        self.score = Some((z, score));
        self.gradient = gradient;
    }
}

/// A small vertical bar per latent dimension: up (green) where raising zᵢ raises D, down
/// (red) where it lowers it.
fn gradient_bars(ui: &mut egui::Ui, gradient: &[f32]) {
    let largest = gradient.iter().fold(0f32, |m, g| m.max(g.abs()));
    let (rect, response) = ui.allocate_exact_size(
        egui::vec2(4.0 * gradient.len() as f32, 24.0),
        egui::Sense::hover(),
    );
    let painter = ui.painter();
    painter.rect_filled(rect, 1.0, egui::Color32::from_gray(40));
    let mid = rect.center().y;
    for (i, g) in gradient.iter().enumerate() {
        let share = if largest > 0.0 { g / largest } else { 0.0 };
        let x = rect.left() + 4.0 * i as f32;
        let top = mid - share.max(0.0) * rect.height() / 2.0;
        let bottom = mid - share.min(0.0) * rect.height() / 2.0;
        let color = if *g >= 0.0 {
            egui::Color32::from_rgb(90, 190, 90)
        } else {
            egui::Color32::from_rgb(210, 80, 80)
        };
        painter.rect_filled(
            egui::Rect::from_min_max(egui::pos2(x, top), egui::pos2(x + 3.0, bottom)),
            0.0,
            color,
        );
    }
    response.on_hover_text(
        "How the critic's score changes as each latent dimension rises (z0 at the left): green up, red down",
    );
}

impl CriticPanel {
    /// Draws the panel (under the picture).
    #[must_use]
    pub(crate) fn ui(&mut self, ui: &mut egui::Ui, current: &Current) -> Commands {
        let mut commands = Commands::new();
        match &self.available {
            Err(e) => {
                ui.colored_label(egui::Color32::from_rgb(210, 120, 0), format!("Critic: {e}"));
                return commands;
            }
            Ok(false) => {
                ui.weak("No critic with this checkpoint (a run directory has one; `hitogata critic` makes one for an export).");
                return commands;
            }
            Ok(true) => {}
        }
        let drawn = current.effective_z();
        if self.requested.as_ref() != Some(&drawn) {
            self.requested = Some(drawn.clone());
            commands.push(Command::Critique(drawn.clone()));
        }
        ui.horizontal(|ui| {
            match &self.score {
                Some((_, score)) => ui
                    .label(format!("critic D(G(z)) = {score:+.2}"))
                    .on_hover_text(
                        "The critic's score of this picture: higher looks more real to it",
                    ),
                None => ui.label("critic D(G(z)) = ..."),
            };
            if !self.gradient.is_empty() {
                gradient_bars(ui, &self.gradient);
            }
        });
        let mut nudge = false;
        ui.horizontal(|ui| {
            ui.add(
                egui::DragValue::new(&mut self.steps)
                    .range(1..=50)
                    .prefix("steps "),
            )
            .on_hover_text("Gradient steps of one nudge");
            ui.add(
                egui::DragValue::new(&mut self.size)
                    .range(0.01..=1.0)
                    .speed(0.01)
                    .prefix("step "),
            )
            .on_hover_text("How far z moves in each step");
            nudge = ui
                .add_enabled(!self.nudging, egui::Button::new("Nudge towards real"))
                .on_hover_text(
                    "Move z a little where the critic finds the picture more real (one undo step)",
                )
                .clicked();
            if self.nudging {
                ui.spinner();
            }
        });
        if let Some((moved, before, after)) = self.last_nudge {
            ui.weak(format!(
                "moved |dz| = {moved:.2}; score {before:+.2} to {after:+.2}"
            ));
        }
        if nudge {
            self.nudging = true;
            commands.push(Command::Nudge {
                z: drawn,
                steps: self.steps,
                size: self.size,
            });
        }
        commands
    }

    /// A nudge finished: adopt its end (undoable) if z has not changed meanwhile.
    #[must_use]
    pub(crate) fn nudged(
        &mut self,
        current: &Current,
        from: Latent,
        to: Latent,
        trace: Vec<f32>,
    ) -> Option<Command> {
        self.nudging = false;
        if from != current.effective_z() || current.psi == 0.0 {
            return None;
        }
        let moved = from
            .0
            .iter()
            .zip(&to.0)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f32>()
            .sqrt();
        let (before, after) = (
            trace.first().copied().unwrap_or(f32::NAN),
            trace.last().copied().unwrap_or(f32::NAN),
        );
        self.last_nudge = Some((moved, before, after));
        // The picture shows G(ψz): carry the move back into z.
        let psi = current.psi;
        Some(Command::EditZ(
            Latent(to.0.iter().map(|x| x / psi).collect()),
            Drag::No,
        ))
    }
}

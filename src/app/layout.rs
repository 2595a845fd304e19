//! Where the panels go on screen: the status bar, the Explorer tab's columns (the picture with
//! its panels beside the sliders or the Dimensions view) and the Training tab. Each panel draws
//! from what it owns and [`Current`](super::Current); what they ask for comes back as commands.

use super::command::{Commands, dialog};
use super::*;

impl HitogataApp {
    pub(super) fn status_bar(&self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.label(
                self.device
                    .as_deref()
                    .unwrap_or("starting the generator..."),
            );
            if let Some(dir) = &self.current.checkpoint_dir {
                ui.separator();
                ui.label(format!("checkpoint: {}", dir.display()));
            }
            if let Some(s) = &self.status {
                ui.separator();
                ui.label(s);
            }
        });
    }

    pub(super) fn training_tab(&mut self, ui: &mut egui::Ui) -> Commands {
        // The generator the explorer has loaded (a failed load leaves none to fine-tune).
        let explorer = self
            .current
            .model
            .as_ref()
            .and(self.current.checkpoint_dir.clone());
        let actions = self.training.show(ui, explorer.as_deref());
        let mut commands = Commands::new();
        for action in actions {
            commands.extend(self.training.apply(ui.ctx(), action, explorer.as_deref()));
        }
        commands
    }

    pub(super) fn explorer_tab(&mut self, ui: &mut egui::Ui) -> Commands {
        let mut commands = Commands::new();
        egui::Panel::right("bookmarks")
            .default_size(260.0)
            .show(ui, |ui| {
                commands.extend(self.bookmarks.ui(ui, &self.current));
            });
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(err) = &self.load_error {
                ui.colored_label(egui::Color32::from_rgb(200, 40, 40), err);
                if ui.button("Open another checkpoint...").clicked() {
                    commands.push(dialog(|| {
                        rfd::FileDialog::new()
                            .pick_folder()
                            .map(FileEvent::OpenCheckpoint)
                    }));
                }
                ui.separator();
            }
            commands.extend(self.explorer.controls(ui, &self.current));
            ui.separator();
            self.columns(ui, &mut commands);
        });
        commands
    }

    /// The picture with its panels, beside the sliders or the Dimensions view.
    fn columns(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        let side = 64.0 * self.explorer.zoom;
        // The picture column is as wide as the picture or the jitter grid, whichever is wider.
        let column = side.max(self.jitter.side as f32 * 88.0);
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(column);
                egui::ScrollArea::vertical()
                    .id_salt("picture-column")
                    .show(ui, |ui| self.picture_column(ui, side, commands));
            });
            ui.separator();
            ui.vertical(|ui| {
                ui.horizontal(|ui| {
                    ui.selectable_value(&mut self.dimensions.shown, false, "Sliders")
                        .on_hover_text("One plain slider per latent dimension");
                    ui.selectable_value(&mut self.dimensions.shown, true, "Dimensions")
                        .on_hover_text(
                            "Each dimension and discovered direction with a strip of pictures along it and how much it changes the picture",
                        );
                });
                if self.dimensions.shown {
                    let store = &self.bookmarks.store;
                    commands.extend(self.dimensions.ui(ui, &self.current, store));
                } else {
                    commands.extend(panels::explorer::sliders(ui, &self.current));
                }
            });
        });
    }

    fn picture_column(&mut self, ui: &mut egui::Ui, side: f32, commands: &mut Commands) {
        if let Some(response) = self.explorer.picture(ui, side) {
            self.layers.track_pointer(&response);
        }
        let current = &self.current;
        commands.extend(self.critic.ui(ui, current));
        let picture = self.explorer.shown_picture();
        let grey = current.model.as_ref().is_some_and(|m| m.channels() == 1);
        self.nearest.ui(ui, picture, grey);
        commands.extend(self.layers.ui(ui, current));
        let shown = self.explorer.texture.as_ref();
        commands.extend(self.compare.ui(ui, current, shown, &self.bookmarks));
        ui.separator();
        commands.extend(self.jitter.ui(ui, current, &self.dimensions));
        ui.separator();
        commands.extend(self.interpolation.ui(ui, current));
    }
}

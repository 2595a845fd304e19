//! The window's menu bar, its close-confirmation dialog, dropped pictures and keyboard shortcuts:
//! the app-wide chrome around the panels.

use super::*;

impl HitogataApp {
    pub(super) fn menu(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui
                    .button("Open checkpoint...")
                    .on_hover_text("Load a generator from a checkpoint, export or run directory")
                    .clicked()
                {
                    self.start_file_work(Box::new(|| {
                        let dir = rfd::FileDialog::new()
                            .set_title("Open checkpoint")
                            .pick_folder();
                        dir.map(FileEvent::OpenCheckpoint)
                    }));
                }
                if ui
                    .button("Open PyTorch model...")
                    .on_hover_text(
                        "A DCGAN or WGAN generator saved by PyTorch (netG….pth); the netD file \
                         beside it opens as its critic (or drop the file on the window)",
                    )
                    .clicked()
                {
                    self.start_file_work(Box::new(|| {
                        let path = rfd::FileDialog::new()
                            .set_title("Open a PyTorch generator")
                            .add_filter("PyTorch", &["pth", "pt"])
                            .pick_file()?;
                        Some(FileEvent::OpenCheckpoint(path))
                    }));
                }
                if ui
                    .button("Open picture...")
                    .on_hover_text(
                        "Restore the z a PNG written by hitogata shows (or drop one on the window)",
                    )
                    .clicked()
                {
                    self.start_file_work(Box::new(|| {
                        let path = rfd::FileDialog::new()
                            .add_filter("PNG", &["png"])
                            .pick_file()?;
                        let state = read_state(&path).map_err(|e| e.to_string());
                        Some(FileEvent::Picture(path, state))
                    }));
                }
                if ui.button("Import bookmarks...").clicked() {
                    self.start_file_work(Box::new(|| {
                        let path = rfd::FileDialog::new()
                            .add_filter("RON", &["ron"])
                            .pick_file()?;
                        let read = BookmarkFile::read(&path).map_err(|e| e.to_string());
                        Some(FileEvent::ImportBookmarks(path, read))
                    }));
                }
                if ui.button("Export bookmarks...").clicked() {
                    let contents = self.bookmarks.store.contents().clone();
                    self.start_file_work(Box::new(move || {
                        let path = rfd::FileDialog::new()
                            .add_filter("RON", &["ron"])
                            .set_file_name("bookmarks.ron")
                            .save_file()?;
                        Some(FileEvent::Message(match contents.write(&path) {
                            Ok(()) => format!("Exported bookmarks to {}", path.display()),
                            Err(e) => e.to_string(),
                        }))
                    }));
                }
                if ui.button("Quit").clicked() {
                    ui.send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            ui.separator();
            ui.selectable_value(&mut self.tab, Tab::Explorer, "Explorer");
            ui.selectable_value(&mut self.tab, Tab::Training, "Training");
            ui.separator();
            ui.menu_button("Edit", |ui| {
                if ui
                    .add_enabled(self.current.can_undo(), egui::Button::new("Undo  (Ctrl+Z)"))
                    .clicked()
                {
                    self.undo();
                }
                if ui
                    .add_enabled(
                        self.current.can_redo(),
                        egui::Button::new("Redo  (Ctrl+Shift+Z)"),
                    )
                    .clicked()
                {
                    self.redo();
                }
            });
        });
    }

    /// Closing the window during training asks whether to save; nothing is lost either way
    /// (without saving, the last checkpoint on disk stays as it was).
    pub(super) fn closing(&mut self, ui: &mut egui::Ui) {
        let requested = ui.ctx().input(|i| i.viewport().close_requested());
        if requested && self.training.active() && self.training.state() != RunState::Closing {
            ui.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.training.confirm_close = true;
        }
        if self.training.closed() {
            self.training.closing_done();
            ui.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        if !self.training.confirm_close {
            return;
        }
        let modal = egui::Modal::new(egui::Id::unique("confirm-close")).show(ui.ctx(), |ui| {
            ui.heading("Training is running");
            ui.label("Save a checkpoint before closing?");
            ui.horizontal(|ui| {
                if ui.button("Save and close").clicked() {
                    self.training.close(true);
                    self.training.confirm_close = false;
                }
                if ui
                    .button("Close without saving")
                    .on_hover_text("The last checkpoint on disk stays as it is")
                    .clicked()
                {
                    self.training.close(false);
                    self.training.confirm_close = false;
                }
                if ui.button("Cancel").clicked() {
                    self.training.confirm_close = false;
                }
            });
        });
        if modal.should_close() {
            self.training.confirm_close = false;
        }
    }

    /// A PNG dropped on the window restores what it shows; anything else (a PyTorch file, a
    /// checkpoint folder) opens as the model, the worker saying what it is not.
    pub(super) fn dropped_files(&mut self, ui: &egui::Ui) {
        let dropped: Vec<PathBuf> = ui.ctx().input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        for path in dropped {
            let png = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("png"));
            if png {
                self.open_picture(path);
            } else {
                self.open_checkpoint(path);
            }
        }
    }

    pub(super) fn shortcuts(&mut self, ui: &mut egui::Ui) {
        // A focused text field keeps Ctrl+Z for its own text.
        if ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        let redo = egui::KeyboardShortcut::new(
            egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
            egui::Key::Z,
        );
        let undo = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::Z);
        // Redo first: its shortcut contains undo's.
        if ui.input_mut(|i| i.consume_shortcut(&redo)) {
            self.redo();
        }
        if ui.input_mut(|i| i.consume_shortcut(&undo)) {
            self.undo();
        }
    }
}

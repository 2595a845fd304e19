//! The bookmark panel: save the current vector, thumbnails, load, rename, delete with undo.

use std::collections::HashMap;

use image::RgbImage;

use crate::app::Current;
use crate::app::command::{Command, Commands, Drag};
use crate::app::textures::upload;
use crate::engine::files::bookmarks::{Bookmark, BookmarkStore, parse_tags};
use crate::engine::model::latent::Latent;
use crate::engine::workers::inference_worker::BatchFor;

/// How the list is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortOrder {
    /// Oldest first.
    Created,
    /// Alphabetical.
    Name,
}

/// Bookmark panel state.
pub struct BookmarksPanel {
    /// The persisted bookmarks.
    pub store: BookmarkStore,
    /// Name for the next bookmark.
    pub new_name: String,
    /// Show only names containing this.
    pub filter: String,
    /// Order.
    pub sort: SortOrder,
    /// Thumbnails by bookmark id.
    pub thumbnails: HashMap<u64, egui::TextureHandle>,
    /// The last deletion, for undo.
    pub last_deleted: Option<(usize, Bookmark)>,
    /// Bookmark being renamed: (id, name, note).
    pub editing: Option<(u64, String, String, String)>,
    /// A problem with the bookmarks file, shown until dismissed.
    pub warning: Option<String>,
    /// The thumbnails asked for: under which tag, and for which bookmarks.
    pending: Option<(BatchFor, Vec<u64>)>,
    /// Bookmarks whose thumbnails were asked for last, until the tag is known.
    asking: Vec<u64>,
    stale: bool,
}

impl BookmarksPanel {
    /// A panel over `store`.
    pub fn new(store: BookmarkStore, warning: Option<String>) -> Self {
        Self {
            store,
            new_name: String::new(),
            filter: String::new(),
            sort: SortOrder::Created,
            thumbnails: HashMap::new(),
            last_deleted: None,
            editing: None,
            warning,
            pending: None,
            asking: Vec::new(),
            stale: true,
        }
    }

    /// Thumbnails must be re-rendered (new checkpoint, imported bookmarks).
    pub fn invalidate_thumbnails(&mut self) {
        self.thumbnails.clear();
        self.stale = true;
    }

    /// Takes the thumbnails asked for under `tag` (older requests' are dropped).
    pub(crate) fn receive(&mut self, ctx: &egui::Context, tag: BatchFor, images: &[RgbImage]) {
        match &self.pending {
            Some((t, ids)) if *t == tag => {
                for (id, img) in ids.iter().zip(images) {
                    let mut slot = None;
                    upload(ctx, &mut slot, &format!("bookmark-{id}"), img, false);
                    if let Some(handle) = slot {
                        self.thumbnails.insert(*id, handle);
                    }
                }
                self.pending = None;
            }
            _ => {}
        }
    }

    /// The vectors of the thumbnails missing, when they are stale (for a model of
    /// `latent_dim`, once one is loaded) and none are being drawn.
    pub(crate) fn wanted(&mut self, latent_dim: Option<usize>) -> Option<Vec<Latent>> {
        let dim = latent_dim?;
        if !self.stale || self.pending.is_some() {
            return None;
        }
        self.stale = false;
        let missing: Vec<&Bookmark> = (self.store.all().iter())
            .filter(|b| !self.thumbnails.contains_key(&b.id) && b.z.dim() == dim)
            .collect();
        if missing.is_empty() {
            return None;
        }
        self.asking = missing.iter().map(|b| b.id).collect();
        Some(missing.iter().map(|b| b.z.clone()).collect())
    }

    /// The thumbnails [`wanted`](Self::wanted) returned were asked for under `tag`.
    pub(crate) fn requested(&mut self, tag: BatchFor) {
        self.pending = Some((tag, std::mem::take(&mut self.asking)));
    }

    /// Bookmarks `z` under `name` (a default name if blank), saving at once; the status line.
    pub(crate) fn add(
        &mut self,
        name: String,
        z: Latent,
        checkpoint: Option<&std::path::Path>,
        parent: Option<u64>,
    ) -> String {
        let name = if name.trim().is_empty() {
            format!("person {}", self.store.all().len() + 1)
        } else {
            name.trim().to_string()
        };
        let checkpoint = checkpoint.map(|p| p.display().to_string());
        match self.store.add(name.clone(), z, checkpoint, parent) {
            Ok(_) => {
                self.stale = true;
                format!("Bookmarked '{name}'")
            }
            Err(e) => format!("Cannot save bookmarks: {e}"),
        }
    }

    /// Bookmarks to list, filtered and sorted.
    pub fn visible(&self) -> Vec<Bookmark> {
        let needle = self.filter.to_lowercase();
        let mut list: Vec<Bookmark> = self
            .store
            .all()
            .iter()
            .filter(|b| needle.is_empty() || b.name.to_lowercase().contains(&needle))
            .cloned()
            .collect();
        if self.sort == SortOrder::Name {
            list.sort_by_key(|b| b.name.to_lowercase());
        }
        list
    }
}

/// What a click in a bookmark's row asks for (applied after the list is drawn).
enum RowAction {
    Load(Latent),
    Delete(u64),
    Jitter(u64, Latent),
    InterpolateFrom(String, Latent),
    InterpolateTo(String, Latent),
}

impl BookmarksPanel {
    /// Draws the bookmark panel.
    #[must_use]
    pub(crate) fn ui(&mut self, ui: &mut egui::Ui, current: &Current) -> Commands {
        let mut commands = Commands::new();
        ui.heading("Bookmarks");
        if let Some(warning) = self.warning.clone() {
            ui.colored_label(egui::Color32::from_rgb(210, 120, 0), warning);
            if ui.button("Dismiss").clicked() {
                self.warning = None;
            }
        }
        ui.horizontal(|ui| {
            ui.add(
                egui::TextEdit::singleline(&mut self.new_name)
                    .hint_text("name")
                    .desired_width(120.0),
            );
            if ui
                .button("Bookmark")
                .on_hover_text("Save the current z with this name")
                .clicked()
            {
                commands.push(Command::AddBookmark {
                    name: std::mem::take(&mut self.new_name),
                    z: current.z.clone(),
                    parent: None,
                });
            }
        });
        ui.horizontal(|ui| {
            ui.add(
                egui::TextEdit::singleline(&mut self.filter)
                    .hint_text("filter")
                    .desired_width(100.0),
            )
            .on_hover_text("Show bookmarks whose name contains this");
            ui.selectable_value(&mut self.sort, SortOrder::Created, "by time");
            ui.selectable_value(&mut self.sort, SortOrder::Name, "by name");
        });
        if let Some((_, b)) = &self.last_deleted {
            let label = format!("Undo delete of '{}'", b.name);
            if ui.button(label).clicked()
                && let Some((pos, b)) = self.last_deleted.take()
            {
                if let Err(e) = self.store.restore(pos, b) {
                    commands.push(Command::Status(e.to_string()));
                }
                self.stale = true;
            }
        }
        ui.separator();
        let mut actions = Vec::new();
        egui::ScrollArea::vertical()
            .id_salt("bookmark-list")
            .show(ui, |ui| {
                for b in self.visible() {
                    ui.horizontal(|ui| actions.extend(row(self, ui, &b, &mut commands)));
                }
            });
        for action in actions {
            commands.extend(self.apply(action));
        }
        commands
    }

    fn apply(&mut self, action: RowAction) -> Option<Command> {
        match action {
            RowAction::Load(z) => return Some(Command::EditZ(z, Drag::No)),
            RowAction::Delete(id) => {
                self.thumbnails.remove(&id);
                match self.store.remove(id) {
                    Ok(removed) => self.last_deleted = removed,
                    Err(e) => return Some(Command::Status(e.to_string())),
                }
            }
            RowAction::Jitter(id, z) => return Some(Command::JitterAround(Some(id), z)),
            RowAction::InterpolateFrom(name, z) => {
                return Some(Command::InterpolationEnd(true, name, z));
            }
            RowAction::InterpolateTo(name, z) => {
                return Some(Command::InterpolationEnd(false, name, z));
            }
        }
        None
    }
}

/// One bookmark: its thumbnail, then its fields being edited or its details and buttons.
fn row(
    panel: &mut BookmarksPanel,
    ui: &mut egui::Ui,
    b: &Bookmark,
    commands: &mut Commands,
) -> Option<RowAction> {
    let clicked = match panel.thumbnails.get(&b.id) {
        Some(tex) => ui
            .add(
                egui::Image::new(tex)
                    .fit_to_exact_size(egui::vec2(48.0, 48.0))
                    .sense(egui::Sense::click()),
            )
            .on_hover_text("Load this vector")
            .clicked(),
        None => ui
            .add_sized([48.0, 48.0], egui::Button::new("..."))
            .clicked(),
    };
    let action = ui
        .vertical(|ui| {
            if matches!(&panel.editing, Some((id, ..)) if *id == b.id) {
                commands.extend(edit_fields(panel, ui));
                None
            } else {
                details(panel, ui, b)
            }
        })
        .inner;
    action.or(clicked.then(|| RowAction::Load(b.z.clone())))
}

/// The name, note and tags of the bookmark being edited, and Save.
fn edit_fields(panel: &mut BookmarksPanel, ui: &mut egui::Ui) -> Option<Command> {
    let Some((_, name, note, tags)) = &mut panel.editing else {
        return None;
    };
    ui.text_edit_singleline(name);
    ui.text_edit_singleline(note);
    ui.add(egui::TextEdit::singleline(tags).hint_text("tags, comma-separated"))
        .on_hover_text(
            "Group faces by tags; two tags make an attribute direction in the Dimensions view",
        );
    if ui.button("Save").clicked()
        && let Some((id, name, note, tags)) = panel.editing.take()
    {
        let saved = (panel.store.edit(id, name, note))
            .and_then(|()| panel.store.set_tags(id, parse_tags(&tags)));
        if let Err(e) = saved {
            return Some(Command::Status(e.to_string()));
        }
    }
    None
}

/// A bookmark's name (a link that loads it), note, tags, parent, and its buttons.
fn details(panel: &mut BookmarksPanel, ui: &mut egui::Ui, b: &Bookmark) -> Option<RowAction> {
    let mut action = None;
    if ui.link(&b.name).on_hover_text("Load this vector").clicked() {
        action = Some(RowAction::Load(b.z.clone()));
    }
    if !b.note.is_empty() {
        ui.small(&b.note);
    }
    if !b.tags.is_empty() {
        ui.small(format!("tags: {}", b.tags.join(", ")));
    }
    if let Some(parent) = b.parent.and_then(|p| panel.store.get(p)) {
        ui.small(format!("child of {}", parent.name));
    }
    ui.horizontal(|ui| {
        if ui
            .small_button("Rename")
            .on_hover_text("Rename / note")
            .clicked()
        {
            panel.editing = Some((b.id, b.name.clone(), b.note.clone(), b.tags.join(", ")));
        }
        let buttons = [
            ("Delete", "Delete (undoable)", RowAction::Delete(b.id)),
            (
                "Jitter",
                "Jitter around this bookmark",
                RowAction::Jitter(b.id, b.z.clone()),
            ),
            (
                "From",
                "Interpolate from this bookmark",
                RowAction::InterpolateFrom(b.name.clone(), b.z.clone()),
            ),
            (
                "To",
                "Interpolate to this bookmark",
                RowAction::InterpolateTo(b.name.clone(), b.z.clone()),
            ),
        ];
        for (label, hover, clicked) in buttons {
            if ui.small_button(label).on_hover_text(hover).clicked() {
                action = Some(clicked);
            }
        }
    });
    action
}

//! The bookmark panel: save the current vector, thumbnails, load, rename, delete with undo.

use std::collections::HashMap;

use image::RgbImage;

use crate::app::textures::upload;
use crate::app::{HitogataApp, TAG_THUMBNAILS};
use crate::engine::bookmarks::{Bookmark, BookmarkStore, parse_tags};
use crate::engine::latent::Latent;

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
    pending: Option<(u64, Vec<u64>)>,
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
            stale: true,
        }
    }

    /// Thumbnails must be re-rendered (new checkpoint, imported bookmarks).
    pub fn invalidate_thumbnails(&mut self) {
        self.thumbnails.clear();
        self.stale = true;
    }

    /// Takes a batch answer if it is ours.
    pub(crate) fn receive(&mut self, ctx: &egui::Context, tag: u64, images: &[RgbImage]) -> bool {
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
                true
            }
            _ => false,
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

fn request_thumbnails(app: &mut HitogataApp) {
    let Some(model) = &app.model else { return };
    if app.bookmarks.pending.is_some() {
        return;
    }
    let missing: Vec<&Bookmark> = app
        .bookmarks
        .store
        .all()
        .iter()
        .filter(|b| !app.bookmarks.thumbnails.contains_key(&b.id) && b.z.dim() == model.latent_dim)
        .collect();
    app.bookmarks.stale = false;
    if missing.is_empty() {
        return;
    }
    let ids = missing.iter().map(|b| b.id).collect();
    let latents = missing.iter().map(|b| b.z.clone()).collect();
    let tag = TAG_THUMBNAILS | app.tag();
    app.bookmarks.pending = Some((tag, ids));
    app.request_batch(tag, latents);
}

/// Bookmarks the current vector (or `z` with a parent), saving at once.
pub fn add_bookmark(
    app: &mut HitogataApp,
    name: String,
    z: crate::engine::latent::Latent,
    parent: Option<u64>,
) {
    let name = if name.trim().is_empty() {
        format!("person {}", app.bookmarks.store.all().len() + 1)
    } else {
        name.trim().to_string()
    };
    let checkpoint = app.checkpoint_dir.as_ref().map(|p| p.display().to_string());
    match app.bookmarks.store.add(name.clone(), z, checkpoint, parent) {
        Ok(_) => {
            app.status = Some(format!("Bookmarked '{name}'"));
            app.bookmarks.stale = true;
        }
        Err(e) => app.status = Some(format!("Cannot save bookmarks: {e}")),
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

/// Draws the bookmark panel.
pub fn show(app: &mut HitogataApp, ui: &mut egui::Ui) {
    if app.bookmarks.stale {
        request_thumbnails(app);
    }
    ui.heading("Bookmarks");
    if let Some(warning) = app.bookmarks.warning.clone() {
        ui.colored_label(egui::Color32::from_rgb(210, 120, 0), warning);
        if ui.button("Dismiss").clicked() {
            app.bookmarks.warning = None;
        }
    }
    ui.horizontal(|ui| new_bookmark(app, ui));
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(&mut app.bookmarks.filter)
                .hint_text("filter")
                .desired_width(100.0),
        )
        .on_hover_text("Show bookmarks whose name contains this");
        ui.selectable_value(&mut app.bookmarks.sort, SortOrder::Created, "by time");
        ui.selectable_value(&mut app.bookmarks.sort, SortOrder::Name, "by name");
    });
    if let Some((_, b)) = &app.bookmarks.last_deleted {
        let label = format!("Undo delete of '{}'", b.name);
        if ui.button(label).clicked()
            && let Some((pos, b)) = app.bookmarks.last_deleted.take()
        {
            if let Err(e) = app.bookmarks.store.restore(pos, b) {
                app.status = Some(e.to_string());
            }
            app.bookmarks.stale = true;
        }
    }
    ui.separator();
    let mut actions = Vec::new();
    egui::ScrollArea::vertical()
        .id_salt("bookmark-list")
        .show(ui, |ui| {
            for b in app.bookmarks.visible() {
                ui.horizontal(|ui| actions.extend(row(app, ui, &b)));
            }
        });
    for action in actions {
        apply(app, action);
    }
}

/// The name field and the Bookmark button.
fn new_bookmark(app: &mut HitogataApp, ui: &mut egui::Ui) {
    ui.add(
        egui::TextEdit::singleline(&mut app.bookmarks.new_name)
            .hint_text("name")
            .desired_width(120.0),
    );
    if ui
        .button("Bookmark")
        .on_hover_text("Save the current z with this name")
        .clicked()
    {
        let name = std::mem::take(&mut app.bookmarks.new_name);
        let z = app.explorer.z.clone();
        add_bookmark(app, name, z, None);
    }
}

/// One bookmark: its thumbnail, then its fields being edited or its details and buttons.
fn row(app: &mut HitogataApp, ui: &mut egui::Ui, b: &Bookmark) -> Option<RowAction> {
    let clicked = match app.bookmarks.thumbnails.get(&b.id) {
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
            if matches!(&app.bookmarks.editing, Some((id, ..)) if *id == b.id) {
                edit_fields(app, ui);
                None
            } else {
                details(app, ui, b)
            }
        })
        .inner;
    action.or(clicked.then(|| RowAction::Load(b.z.clone())))
}

/// The name, note and tags of the bookmark being edited, and Save.
fn edit_fields(app: &mut HitogataApp, ui: &mut egui::Ui) {
    let Some((_, name, note, tags)) = &mut app.bookmarks.editing else {
        return;
    };
    ui.text_edit_singleline(name);
    ui.text_edit_singleline(note);
    ui.add(egui::TextEdit::singleline(tags).hint_text("tags, comma-separated"))
        .on_hover_text(
            "Group faces by tags; two tags make an attribute direction in the Dimensions view",
        );
    if ui.button("Save").clicked()
        && let Some((id, name, note, tags)) = app.bookmarks.editing.take()
    {
        let saved = app
            .bookmarks
            .store
            .edit(id, name, note)
            .and_then(|()| app.bookmarks.store.set_tags(id, parse_tags(&tags)));
        if let Err(e) = saved {
            app.status = Some(e.to_string());
        }
    }
}

/// A bookmark's name (a link that loads it), note, tags, parent, and its buttons.
fn details(app: &mut HitogataApp, ui: &mut egui::Ui, b: &Bookmark) -> Option<RowAction> {
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
    if let Some(parent) = b.parent.and_then(|p| app.bookmarks.store.get(p)) {
        ui.small(format!("child of {}", parent.name));
    }
    ui.horizontal(|ui| {
        if ui
            .small_button("Rename")
            .on_hover_text("Rename / note")
            .clicked()
        {
            app.bookmarks.editing = Some((b.id, b.name.clone(), b.note.clone(), b.tags.join(", ")));
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

fn apply(app: &mut HitogataApp, action: RowAction) {
    match action {
        RowAction::Load(z) => app.set_z(z),
        RowAction::Delete(id) => {
            match app.bookmarks.store.remove(id) {
                Ok(removed) => app.bookmarks.last_deleted = removed,
                Err(e) => app.status = Some(e.to_string()),
            }
            app.bookmarks.thumbnails.remove(&id);
        }
        RowAction::Jitter(id, z) => app.jitter.set_source(Some(id), z),
        RowAction::InterpolateFrom(name, z) => app.interpolation.set_from((name, z)),
        RowAction::InterpolateTo(name, z) => app.interpolation.set_to((name, z)),
    }
}

//! The Dimensions view's toolbar: the rows' order, finding directions, the strips' timing, and
//! attribute directions made from tagged bookmarks.

use crate::app::command::{Command, Commands};
use crate::app::panels::dimensions::{DimensionsView, Sort};
use crate::engine::analysis::directions::attribute;
use crate::engine::files::bookmarks::BookmarkStore;
use crate::engine::model::latent::Latent;

/// The view's toolbar: sort order, analysis, timing.
pub(super) fn toolbar(
    view: &mut DimensionsView,
    ui: &mut egui::Ui,
    dim: usize,
    store: &BookmarkStore,
    commands: &mut Commands,
) {
    let mut analyse = None;
    ui.horizontal(|ui| {
        egui::ComboBox::new("dimension-sort", "sort")
            .selected_text(match view.sort {
                Sort::Index => "index",
                Sort::Here => "effect here",
                Sort::Average => "average effect",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut view.sort, Sort::Index, "index");
                ui.selectable_value(&mut view.sort, Sort::Here, "effect here");
                ui.selectable_value(&mut view.sort, Sort::Average, "average effect");
            })
            .response
            .on_hover_text("Order the rows by index or by how much each changes the picture");
        if view.analysing {
            ui.spinner();
            ui.label("finding directions...");
        } else if ui
            .button("Find directions")
            .on_hover_text(
                "SeFa and PCA directions of this checkpoint and each dimension's average effect (seconds; kept with the checkpoint)",
            )
            .clicked()
            && let Some(hash) = view.hash.clone()
        {
            view.analysing = true;
            analyse = Some(hash);
        }
        if let Some(ms) = view.strip_millis {
            ui.weak(format!("strips {ms:.0} ms"));
        }
    });
    if let Some(hash) = analyse {
        commands.push(Command::Analyse(hash));
    }
    attribute_builder(view, ui, dim, store, commands);
}

/// Tag A against tag B (or every other bookmark): mean(A) − mean(B) as a new direction row.
fn attribute_builder(
    view: &mut DimensionsView,
    ui: &mut egui::Ui,
    dim: usize,
    store: &BookmarkStore,
    commands: &mut Commands,
) {
    let tags = store.tags();
    if tags.is_empty() {
        return;
    }
    if !tags.contains(&view.tag) {
        view.tag = tags[0].clone();
    }
    let mut add = false;
    ui.horizontal(|ui| {
        egui::ComboBox::new("attribute-tag", "vs")
            .selected_text(view.tag.clone())
            .show_ui(ui, |ui| {
                for t in &tags {
                    ui.selectable_value(&mut view.tag, t.clone(), t);
                }
            })
            .response
            .on_hover_text("The bookmarks tagged with this...");
        egui::ComboBox::new("attribute-versus", "")
            .selected_text(view.versus.clone().unwrap_or("all others".into()))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut view.versus, None, "all others");
                for t in &tags {
                    ui.selectable_value(&mut view.versus, Some(t.clone()), t);
                }
            })
            .response
            .on_hover_text("...against these");
        add = ui
            .button("Add attribute direction")
            .on_hover_text("mean(tagged) − mean(the others) as a new row; its score says how well the groups separate along it")
            .clicked();
    });
    if !add {
        return;
    }
    let (tag, versus) = (view.tag.clone(), view.versus.clone());
    let all = store.all();
    let usable = || all.iter().filter(|b| b.z.dim() == dim);
    let a: Vec<Latent> = usable()
        .filter(|b| b.tags.contains(&tag))
        .map(|b| b.z.clone())
        .collect();
    let b: Vec<Latent> = usable()
        .filter(|b| match &versus {
            Some(v) => b.tags.contains(v) && !b.tags.contains(&tag),
            None => !b.tags.contains(&tag),
        })
        .map(|b| b.z.clone())
        .collect();
    let name = format!("{tag} vs {}", versus.as_deref().unwrap_or("others"));
    match attribute(&name, &a, &b) {
        Some(d) => {
            let notes = &mut view.notes;
            notes.directions.retain(|kept| kept.name != name);
            notes.directions.push(d);
            commands.push(Command::SaveNotes);
        }
        None => commands.push(Command::Status(format!(
            "{name}: needs bookmarks of this model in both groups ({} and {})",
            a.len(),
            b.len()
        ))),
    }
}

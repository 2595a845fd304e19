//! The Dimensions view: beside every latent dimension and discovered direction, a strip of
//! pictures along it at the current z, how much it changes the picture here and on average,
//! and a slider that moves z along it. Strips are drawn by the inference worker in one batch
//! (the newest request wins); clicking a picture of a strip adopts it (undoable).

use crate::app::Current;
use crate::app::command::{Command, Commands, Drag, slider_edit};
use crate::app::textures::upload;
use crate::engine::analysis::directions::{Direction, axis, dead, strip_values};
use crate::engine::files::bookmarks::BookmarkStore;
use crate::engine::files::checkpoint_notes::Notes;
use crate::engine::model::latent::Latent;
use crate::engine::workers::inference_worker::{StripPart, StripRequest};

/// Pictures per strip.
pub const STRIP_STEPS: usize = 7;
/// A strip's coordinate runs from −this to +this.
pub const STRIP_RANGE: f32 = 2.0;
/// Side of a strip picture on screen, in points.
const STRIP_PICTURE: f32 = 28.0;

/// How the rows are ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    /// Dimensions in order, then the directions.
    #[default]
    Index,
    /// By how much each changes the picture at the current z.
    Here,
    /// By how much each changes pictures on average (over random z).
    Average,
}

/// One row: a latent dimension or a direction.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Shown name.
    pub name: String,
    /// Unit vector.
    pub vector: Vec<f32>,
    /// For a direction, its index in the checkpoint's notes.
    pub direction: Option<usize>,
}

/// The view's state.
#[derive(Default)]
pub struct DimensionsView {
    /// Shown instead of the plain sliders.
    pub shown: bool,
    /// Row order.
    pub sort: Sort,
    /// The checkpoint's notes (directions, mean sensitivity), once known.
    pub notes: Notes,
    /// The checkpoint's content hash the notes belong to.
    pub hash: Option<String>,
    /// Sensitivity of each row at the z the strips were drawn for.
    pub here: Vec<f32>,
    /// Strips received, and the generator time of the last one.
    pub strips_received: u64,
    /// Generator time of the last strips, in milliseconds.
    pub strip_millis: Option<f32>,
    /// An analysis (directions, mean sensitivity) is running.
    pub analysing: bool,
    /// Why the notes file could not be read (it was kept aside).
    pub warning: Option<String>,
    /// The tag whose bookmarks an attribute direction points to.
    pub tag: String,
    /// The tag it points from (`None`: every other bookmark).
    pub versus: Option<String>,
    /// Rows (by their index in [`rows`](Self::rows)) that jitter varies; none: the jitter
    /// panel's own choice.
    pub vary: std::collections::BTreeSet<usize>,
    /// Each row's strip pictures, by row index.
    textures: std::collections::HashMap<usize, Vec<Option<egui::TextureHandle>>>,
    /// Rows on screen in the last frame, in display order: their strips are drawn first.
    on_screen: Vec<usize>,
    /// Rows of the newest request still to arrive among those that were on screen, and
    /// when it was sent.
    on_screen_pending: std::collections::BTreeSet<usize>,
    requested_at: Option<std::time::Instant>,
    /// From a change to the strips on screen being drawn, in milliseconds (UI side).
    pub on_screen_millis: Option<f32>,
    requested: Option<(Latent, f32, usize)>,
    generation: u64,
    shown_generation: u64,
}

impl DimensionsView {
    /// A view that starts by saying why the notes file could not be read.
    pub fn with_warning(warning: Option<String>) -> Self {
        Self {
            warning,
            ..Self::default()
        }
    }

    /// The rows for a latent size: every dimension, then every direction.
    pub fn rows(&self, dim: usize) -> Vec<Row> {
        let axes = (0..dim).map(|i| Row {
            name: format!("z{i}"),
            vector: axis(dim, i),
            direction: None,
        });
        let directions = self
            .notes
            .directions
            .iter()
            .enumerate()
            .filter(|(_, d)| d.vector.len() == dim)
            .map(|(k, d)| Row {
                name: d.name.clone(),
                vector: d.vector.clone(),
                direction: Some(k),
            });
        axes.chain(directions).collect()
    }

    /// A newly loaded checkpoint: its notes, or none yet.
    pub fn loaded(&mut self, hash: Option<String>, notes: Notes) {
        self.hash = hash;
        self.notes = notes;
        self.requested = None;
        self.here.clear();
        self.textures.clear();
        self.vary.clear();
    }

    /// Asks for strips when z, ψ or the rows changed since the last request: every row, the
    /// ones on screen first (the worker answers in parts, in that order).
    pub(crate) fn request(
        &mut self,
        app_z: &Latent,
        psi: f32,
        rows: &[Row],
    ) -> Option<StripRequest> {
        let key = (app_z.clone(), psi, rows.len());
        if self.requested.as_ref() == Some(&key) {
            return None;
        }
        self.requested = Some(key);
        self.generation += 1;
        let on_screen: Vec<usize> = self
            .on_screen
            .iter()
            .copied()
            .filter(|&i| i < rows.len())
            .collect();
        let rest = self
            .order(rows)
            .into_iter()
            .filter(|i| !on_screen.contains(i));
        let order: Vec<usize> = on_screen.iter().copied().chain(rest).collect();
        self.on_screen_pending = on_screen.into_iter().collect();
        self.requested_at = Some(std::time::Instant::now());
        Some(StripRequest {
            generation: self.generation,
            z: app_z.clone(),
            directions: order.iter().map(|&i| rows[i].vector.clone()).collect(),
            rows: order,
            values: strip_values(STRIP_STEPS, STRIP_RANGE),
            psi,
        })
    }

    /// A part of the strips from the worker: the pictures and effects of `rows`. Parts of
    /// requests older than the newest one answered are dropped.
    pub(crate) fn receive(&mut self, ctx: &egui::Context, part: StripPart) {
        if part.generation < self.shown_generation {
            return;
        }
        self.shown_generation = part.generation;
        for (k, &row) in part.rows.iter().enumerate() {
            let slots = self
                .textures
                .entry(row)
                .or_insert_with(|| vec![None; STRIP_STEPS]);
            let pictures = part.images.iter().skip(k * STRIP_STEPS).take(STRIP_STEPS);
            for (j, img) in pictures.enumerate() {
                upload(ctx, &mut slots[j], &format!("strip-{row}-{j}"), img, false);
            }
            if self.here.len() <= row {
                self.here.resize(row + 1, 0.0);
            }
            self.here[row] = part.effect.get(k).copied().unwrap_or(0.0);
            self.on_screen_pending.remove(&row);
        }
        if self.on_screen_pending.is_empty()
            && let Some(at) = self.requested_at.take()
        {
            self.on_screen_millis = Some(at.elapsed().as_secs_f32() * 1e3);
        }
        if part.done {
            self.strip_millis = Some(part.millis);
            self.strips_received += 1;
        }
    }

    /// The strip pictures received for row `row` (none until they arrive).
    pub fn strip(&self, row: usize) -> Vec<&egui::TextureHandle> {
        self.textures
            .get(&row)
            .map(|slots| slots.iter().flatten().collect())
            .unwrap_or_default()
    }

    /// Rows with strip pictures.
    pub fn strip_count(&self) -> usize {
        self.textures.len()
    }

    /// The checkpoint's directions for vectors of `dim` numbers.
    pub fn direction_count(&self, dim: usize) -> usize {
        (self.notes.directions.iter())
            .filter(|d| d.vector.len() == dim)
            .count()
    }

    /// What jitter varies along: the ticked rows, else the first `along` directions (none:
    /// every dimension).
    pub(crate) fn jitter_directions(&self, dim: usize, along: usize) -> Vec<Vec<f32>> {
        let rows = self.rows(dim);
        if self.vary.is_empty() {
            (rows[dim..].iter().take(along))
                .map(|r| r.vector.clone())
                .collect()
        } else {
            (self.vary.iter())
                .filter_map(|&i| rows.get(i).map(|r| r.vector.clone()))
                .collect()
        }
    }

    /// The rows' order under the current sort.
    fn order(&self, rows: &[Row]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..rows.len()).collect();
        let key = |i: usize| -> f32 {
            match self.sort {
                Sort::Index => 0.0,
                Sort::Here => self.here.get(i).copied().unwrap_or(0.0),
                Sort::Average => self
                    .notes
                    .mean_sensitivity
                    .as_ref()
                    .and_then(|m| m.get(i).copied())
                    .unwrap_or(0.0),
            }
        };
        if self.sort != Sort::Index {
            order.sort_by(|&a, &b| key(b).total_cmp(&key(a)));
        }
        order
    }
}

/// A horizontal bar of `value` against `largest`.
fn bar(ui: &mut egui::Ui, value: f32, largest: f32, color: egui::Color32, hover: String) {
    let (rect, response) = ui.allocate_exact_size(egui::vec2(50.0, 8.0), egui::Sense::hover());
    let share = if largest > 0.0 {
        (value / largest).clamp(0.0, 1.0)
    } else {
        0.0
    };
    ui.painter()
        .rect_filled(rect, 1.0, egui::Color32::from_gray(60));
    let mut filled = rect;
    filled.set_width(rect.width() * share);
    ui.painter().rect_filled(filled, 1.0, color);
    response.on_hover_text(hover);
}

/// What the rows ask for, applied once they are drawn.
#[derive(Default)]
struct RowChanges {
    /// A new z, and where a drag stands.
    edit: Option<Command>,
    /// A direction renamed: its index and new name.
    rename: Option<(usize, String)>,
    /// A row whose "vary" box was toggled.
    toggled: Option<usize>,
    /// The rows on screen.
    seen: Vec<usize>,
}

/// The sensitivity bars' scales, and which rows count as dead.
struct Effects {
    here_max: f32,
    mean: Vec<f32>,
    mean_max: f32,
    here_dead: Vec<bool>,
    mean_dead: Vec<bool>,
}

impl Effects {
    fn of(view: &DimensionsView) -> Self {
        let mean = view.notes.mean_sensitivity.clone().unwrap_or_default();
        Self {
            here_max: view.here.iter().copied().fold(0f32, f32::max),
            mean_max: mean.iter().copied().fold(0f32, f32::max),
            here_dead: dead(&view.here),
            mean_dead: dead(&mean),
            mean,
        }
    }

    /// Dead by the average over many z, or by the effect here until that is known.
    fn is_dead(&self, i: usize) -> bool {
        self.mean_dead.get(i).copied().unwrap_or(false)
            || (self.mean.is_empty() && self.here_dead.get(i).copied().unwrap_or(false))
    }
}

impl DimensionsView {
    /// Draws the toolbar and the rows; `store` holds the bookmarks whose tags make attribute
    /// directions.
    #[must_use]
    pub(crate) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        current: &Current,
        store: &BookmarkStore,
    ) -> Commands {
        let mut commands = Commands::new();
        if let Some(w) = &self.warning {
            ui.colored_label(egui::Color32::from_rgb(210, 120, 0), w);
        }
        let dim = current.z.dim();
        super::dimensions_toolbar::toolbar(self, ui, dim, store, &mut commands);
        let rows = self.rows(dim);
        if let Some(request) = self.request(&current.z, current.psi, &rows) {
            commands.push(Command::Strips(request));
        }
        let effects = Effects::of(self);
        let mut changes = RowChanges::default();
        egui::ScrollArea::vertical()
            .id_salt("dimensions")
            .auto_shrink([true, false])
            .show(ui, |ui| {
                egui::Grid::new("dimension-rows")
                    .num_columns(4)
                    .show(ui, |ui| {
                        for i in self.order(&rows) {
                            draw_row(ui, self, &current.z, (i, &rows[i]), &effects, &mut changes);
                            ui.end_row();
                        }
                    });
            });
        commands.extend(self.apply(changes));
        commands
    }

    fn apply(&mut self, changes: RowChanges) -> Commands {
        let mut commands = Commands::new();
        // Next time, the rows on screen are drawn first.
        self.on_screen = changes.seen;
        if let Some((k, name)) = changes.rename
            && let Some(d) = self.notes.directions.get_mut(k)
        {
            d.name = name;
            commands.push(Command::SaveNotes);
        }
        if let Some(i) = changes.toggled {
            if !self.vary.remove(&i) {
                self.vary.insert(i);
            }
            commands.push(Command::RedrawJitter);
        }
        commands.extend(changes.edit);
        commands
    }
}

/// One row: its name, a slider for z's position along it, its effect bars and its strip.
fn draw_row(
    ui: &mut egui::Ui,
    view: &DimensionsView,
    z: &Latent,
    (i, row): (usize, &Row),
    effects: &Effects,
    changes: &mut RowChanges,
) {
    let along: f32 = z.0.iter().zip(&row.vector).map(|(a, b)| a * b).sum();
    let moved_to = |value: f32| {
        Latent(
            z.0.iter()
                .zip(&row.vector)
                .map(|(x, d)| x + (value - along) * d)
                .collect(),
        )
    };
    let name_label = ui
        .horizontal(|ui| row_name(ui, view, row, effects.is_dead(i), changes))
        .inner;
    let mut v = along;
    let r = ui
        .add(egui::Slider::new(&mut v, -3.0..=3.0).show_value(true))
        .labelled_by(name_label.id);
    let visible = ui.is_rect_visible(r.rect);
    if visible {
        changes.seen.push(i);
    }
    if let Some(edit) = slider_edit(&r, z, || moved_to(v)) {
        changes.edit = Some(edit);
    }
    ui.horizontal(|ui| row_effects(ui, view, (i, row), effects, changes));
    if !visible {
        // Scrolled away: the strip's room without its seven buttons, so that hundreds of
        // rows (a 512-dimension z) cost little per frame.
        let button = egui::vec2(STRIP_PICTURE, STRIP_PICTURE) + 2.0 * ui.spacing().button_padding;
        let gap = ui.spacing().item_spacing.x;
        let steps = STRIP_STEPS as f32;
        ui.allocate_space(egui::vec2(steps * button.x + (steps - 1.0) * gap, button.y));
        return;
    }
    ui.horizontal(|ui| {
        let values = strip_values(STRIP_STEPS, STRIP_RANGE);
        for (tex, value) in view.strip(i).into_iter().zip(values) {
            let image =
                egui::Image::new(tex).fit_to_exact_size(egui::vec2(STRIP_PICTURE, STRIP_PICTURE));
            let label = format!("{} = {value:+.1}", row.name);
            let button = ui.add(egui::Button::image(image));
            // Named for screen readers (and tests): the row and the value.
            button.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
            if button
                .on_hover_text(format!("Set {} to {value:+.1}", row.name))
                .clicked()
            {
                changes.edit = Some(Command::EditZ(moved_to(value), Drag::No));
            }
        }
    });
}

/// A row's name: a direction's editable name (numbered "d1", "d2"...), or a dimension's,
/// greyed when it is dead.
fn row_name(
    ui: &mut egui::Ui,
    view: &DimensionsView,
    row: &Row,
    is_dead: bool,
    changes: &mut RowChanges,
) -> egui::Response {
    match row.direction {
        Some(k) => {
            let number = ui.weak(format!("d{}", k + 1));
            let mut name = row.name.clone();
            let field = ui
                .add(egui::TextEdit::singleline(&mut name).desired_width(70.0))
                .labelled_by(number.id)
                .on_hover_text(format!(
                    "Name this direction (kept with the checkpoint); score {:.3}",
                    view.notes.directions[k].score
                ));
            if field.changed() {
                changes.rename = Some((k, name));
            }
            number
        }
        None if is_dead => ui
            .weak(format!("{} (dead)", row.name))
            .on_hover_text("Changes the picture by less than 1 % of the strongest dimension"),
        None => ui.label(&row.name),
    }
}

/// A row's "vary" box and its effect bars (here, and on average).
fn row_effects(
    ui: &mut egui::Ui,
    view: &DimensionsView,
    (i, row): (usize, &Row),
    effects: &Effects,
    changes: &mut RowChanges,
) {
    let mut vary = view.vary.contains(&i);
    let check = ui.checkbox(&mut vary, "");
    let label = format!("vary {}", row.name);
    check.widget_info(|| egui::WidgetInfo::selected(egui::Role::CheckBox, true, vary, &label));
    if check
        .on_hover_text("Jitter varies the ticked rows only")
        .changed()
    {
        changes.toggled = Some(i);
    }
    let here = view.here.get(i).copied().unwrap_or(0.0);
    bar(
        ui,
        here,
        effects.here_max,
        egui::Color32::from_rgb(90, 160, 230),
        format!("Effect here: {here:.1} levels per unit"),
    );
    if let Some(&m) = effects.mean.get(i) {
        bar(
            ui,
            m,
            effects.mean_max,
            egui::Color32::from_rgb(230, 160, 60),
            format!("Average effect: {m:.1} levels per unit"),
        );
    }
}

/// The directions the checkpoint's analysis found, kept in its notes: its earlier ones stay
/// (renamed ones included), new discoveries are added once.
pub fn merge_directions(notes: &mut Notes, found: Vec<Direction>) {
    for d in found {
        if !notes.directions.iter().any(|kept| kept.vector == d.vector) {
            notes.directions.push(d);
        }
    }
}

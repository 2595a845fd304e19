//! The run's messages, its status line, and the sample grid with its timeline.

use crate::app::training::TrainingAction;
use crate::app::training::folders::Folders;
use crate::app::training::live::LiveRun;

const RED: egui::Color32 = egui::Color32::from_rgb(200, 40, 40);
const ORANGE: egui::Color32 = egui::Color32::from_rgb(210, 120, 0);

/// Errors, notices, warnings, the data found, and a preview of it.
pub fn messages(live: &LiveRun, folders: &Folders, ui: &mut egui::Ui) {
    if let Some(e) = live.error.as_ref().or(folders.scan_error.as_ref()) {
        ui.colored_label(RED, e);
    }
    if let Some(n) = &live.notice {
        ui.colored_label(ORANGE, n);
    }
    if let Some((done, total, loss)) = live.warmup_progress {
        ui.label(format!(
            "critic warm-up: {done} / {total} updates, critic loss {loss:.3}"
        ));
    }
    if let Some(w) = &live.collapse_warning {
        ui.colored_label(ORANGE, format!("Possible collapse at {w}"));
    }
    if let Some((n, skipped)) = &folders.data_info {
        let text = if skipped.is_empty() {
            format!("{n} images loaded")
        } else {
            format!(
                "{n} images loaded, {} skipped{}",
                skipped.len(),
                crate::engine::files::data::summarize_skipped(skipped, 3)
            )
        };
        ui.label(text);
    }
    ui.horizontal(|ui| {
        for tex in folders.preview.iter().take(16) {
            ui.add(egui::Image::new(tex).fit_to_exact_size(egui::vec2(32.0, 32.0)));
        }
    });
}

/// Step, speed, time, ETA, last save, device.
pub fn status(live: &LiveRun, target_steps: u64, ui: &mut egui::Ui) {
    let last = live.history.last().copied();
    ui.horizontal(|ui| {
        ui.label(format!("step {}", live.step));
        if let Some(m) = last {
            ui.label(format!(
                "| {:.2} steps/s | {:.0} img/s",
                live.steps_per_sec, m.images_per_sec
            ));
            if let Some(share) = m.augment_share {
                ui.label(format!("| augmented {:.0} %", 100.0 * share));
            }
        }
        // Nothing has elapsed before the first step (and an empty f32 sum is -0).
        if !live.history.is_empty() {
            let elapsed: f32 = live.history.iter().map(|m| m.seconds).sum();
            ui.label(format!("| elapsed {elapsed:.0} s"));
        }
        if target_steps > live.step && live.steps_per_sec > 0.0 {
            ui.label(format!(
                "| ETA {:.0} s",
                (target_steps - live.step) as f32 / live.steps_per_sec
            ));
        }
        if let Some(s) = live.last_checkpoint {
            ui.label(format!("| saved at step {s}"));
        }
        if let Some(d) = &live.device_name {
            ui.label(format!("| {d}"));
        }
    });
}

/// The sample grid, the timeline slider under it, and its GIF export.
pub fn grid(live: &mut LiveRun, ui: &mut egui::Ui) -> Vec<TrainingAction> {
    let mut actions = Vec::new();
    if let Some(tex) = &live.grid_texture {
        ui.add(egui::Image::new(tex).fit_to_exact_size(egui::vec2(420.0, 420.0)));
    } else {
        ui.allocate_ui(egui::vec2(420.0, 420.0), |ui| {
            ui.label("The sample grid appears here.")
        });
    }
    if live.timeline.is_empty() {
        return actions;
    }
    let n = live.timeline.len();
    let mut index = live.timeline_pick.unwrap_or(n - 1).min(n - 1);
    let label = format!("step {}", live.timeline[index].0);
    if ui
        .add(egui::Slider::new(&mut index, 0..=n - 1).text(label))
        .on_hover_text("Scrub through the grids taken along the run")
        .changed()
    {
        live.timeline_pick = if index == n - 1 { None } else { Some(index) };
    }
    if ui.button("Export timeline GIF...").clicked() {
        actions.push(TrainingAction::ExportTimeline);
    }
    actions
}

//! Start, pause, resume, stop, save and open: the run's buttons, as actions.

use crate::app::training::TrainingAction;
use crate::app::training::live::{LiveRun, RunState};
use crate::engine::train::{CONNECTION_LOST, TrainCommand};

/// The buttons for where the run stands, and the sample interval (changeable while running).
pub fn show(live: &LiveRun, sample_every: &mut u64, ui: &mut egui::Ui) -> Vec<TrainingAction> {
    let mut actions = Vec::new();
    let command = |c| TrainingAction::Command(c);
    ui.horizontal(|ui| {
        match live.state {
            RunState::Idle => {
                if ui
                    .button("Start")
                    .on_hover_text("Start (or resume) training on its own thread")
                    .clicked()
                {
                    actions.push(TrainingAction::Start);
                }
            }
            RunState::Starting => {
                ui.spinner();
                ui.label("loading data and models...");
            }
            RunState::Running => {
                if ui.button("Pause").clicked() {
                    actions.push(command(TrainCommand::Pause));
                }
            }
            RunState::Paused => {
                let lost = live
                    .notice
                    .as_deref()
                    .is_some_and(|n| n.starts_with(CONNECTION_LOST));
                let label = if lost {
                    "Reconnect and resume"
                } else {
                    "Resume"
                };
                if ui.button(label).clicked() {
                    actions.push(command(TrainCommand::Resume));
                }
            }
            RunState::Closing => {
                ui.spinner();
                ui.label("saving before closing...");
            }
        }
        let active = !matches!(live.state, RunState::Idle | RunState::Closing);
        if active {
            if ui
                .button("Stop")
                .on_hover_text("Save a checkpoint and end the run")
                .clicked()
            {
                actions.push(command(TrainCommand::Stop { save: true }));
            }
            if ui
                .button("Save now")
                .on_hover_text("Write a checkpoint after the current step")
                .clicked()
            {
                actions.push(command(TrainCommand::SaveNow));
            }
            if ui
                .button("Open in explorer")
                .on_hover_text("Save, then load this generator in the explorer tab")
                .clicked()
            {
                actions.push(TrainingAction::OpenInExplorer);
            }
        }
        if ui
            .add(
                egui::DragValue::new(sample_every)
                    .range(1..=100_000)
                    .prefix("samples every "),
            )
            .on_hover_text("Steps between sample grids")
            .changed()
        {
            actions.push(command(TrainCommand::SampleEvery(*sample_every)));
        }
    });
    actions
}

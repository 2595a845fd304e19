//! egui_kittest drives the Training tab of the real app through its widgets: tiny runs on the
//! CPU device.

use crate::common;

use std::path::Path;
use std::time::Duration;

use common::ui::{AppHarness, advanced, choose, set_number, tiny_model, type_into, wait_until};
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use hitogata::app::{RunMode, RunState, Tab};
use hitogata::train::{AdaptiveAugment, Augment, CriticView, TrainingSession};

fn harness_on(checkpoint: &Path, dir: &Path) -> AppHarness {
    let size = egui::vec2(1280.0, 1000.0);
    let mut h = common::ui::app_harness(checkpoint, &dir.join("bookmarks.ron"), size);
    h.state_mut().select_tab(Tab::Training);
    h.step();
    h
}

fn harness(dir: &Path) -> AppHarness {
    harness_on(&dir.join("no-checkpoint-here"), dir)
}

/// Picks how the run starts.
fn mode(h: &mut AppHarness, mode: RunMode) {
    choose(h, "mode", mode.label());
    assert_eq!(h.state().training().form().mode, mode);
}

/// Points the tab at `data` and `run`, on the CPU, with a tiny model, samples every 2 steps
/// and no periodic checkpoints.
fn setup(h: &mut AppHarness, data: &Path, run: &Path) {
    type_into(h, "Dataset", data.to_str().unwrap());
    type_into(h, "Run folder", run.to_str().unwrap());
    choose(h, "device", "cpu");
    tiny_model(h, 0.0);
}

/// Starts the set-up run, waits for `steps` steps, stops it and waits for its checkpoint.
fn train_and_stop(h: &mut AppHarness, steps: u64) {
    h.get_by_label("Start").click();
    wait_until(h, "the steps", move |a| a.training().step() >= steps);
    h.get_by_label("Stop").click();
    wait_until(h, "the stop", |a| {
        a.training().state() == RunState::Idle && a.training().last_checkpoint().is_some()
    });
}

/// Waits until the run folder's checkpoint settings are in the form.
fn wait_for_the_checkpoint(h: &mut AppHarness) {
    wait_until(h, "the checkpoint's settings", |a| {
        a.training()
            .resume_note()
            .is_some_and(|n| n.starts_with("the checkpoint's settings"))
    });
    h.run_steps(2);
}

/// A temporary folder with `images` disc pictures in `data/`, and the app on the Training tab
/// set up for a tiny CPU run into `run/`. Returns (folder, harness, run directory).
fn tiny_run(images: u32) -> (tempfile::TempDir, AppHarness, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    common::write_disc_folder(&data, images);
    let run = tmp.path().join("run");
    let mut h = harness(tmp.path());
    setup(&mut h, &data, &run);
    (tmp, h, run)
}

#[test]
fn a_first_time_user_sees_the_basics_and_advanced_folded_away() {
    let tmp = tempfile::tempdir().unwrap();
    let mut h = harness(tmp.path());
    for label in ["Dataset", "Run folder"] {
        h.get_by_role_and_label(Role::TextInput, label);
    }
    for combo in ["mode", "algorithm", "device"] {
        h.get_by_role_and_label(Role::ComboBox, combo);
    }
    h.get_by_label("Start");
    h.get_by_label("Advanced");
    // The recipe the README recommends for a first run on a CPU, and no time before a step.
    let config = &h.state().training().form().config;
    assert_eq!(config.algorithm, hitogata::train::Algorithm::Dcgan);
    assert_eq!((config.model.ngf, config.model.ndf), (32, 32));
    assert!(h.query_by_label_contains("elapsed").is_none());
    assert!(h.query_by_label_contains("step 0").is_some());
    for folded in ["ngf", "batch", "augment", "critic warm-up", "detail anchor"] {
        assert!(
            h.query_by_label(folded).is_none(),
            "{folded} is folded away"
        );
    }
    advanced(&mut h);
    for label in ["ngf", "batch", "augment", "critic warm-up", "detail anchor"] {
        h.get_by_label(label);
    }
}

#[test]
fn a_tiny_run_trains_pauses_stops_and_resumes() {
    let (_tmp, mut h, run) = tiny_run(10);

    h.get_by_label("Start").click();
    wait_until(&mut h, "three steps", |a| a.training().step() >= 3);
    assert_eq!(h.state().training().data_info().map(|d| d.0), Some(10));
    assert!(h.state().training().preview_count() > 0);
    wait_until(&mut h, "a sample grid", |a| {
        a.training().samples().0 >= 2 && a.training().shows_grid()
    });
    assert!(
        h.state().training().history().len() >= 3,
        "the plot has points"
    );

    h.get_by_label("Pause").click();
    wait_until(&mut h, "the pause", |a| {
        a.training().state() == RunState::Paused
    });
    let paused_at = h.state().training().step();
    for _ in 0..60 {
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        h.state().training().step(),
        paused_at,
        "no steps while paused"
    );
    h.get_by_label("Resume").click();
    wait_until(&mut h, "more steps", move |a| {
        a.training().step() > paused_at + 1
    });

    h.get_by_label("Stop").click();
    wait_until(&mut h, "the stop", |a| {
        a.training().state() == RunState::Idle && a.training().last_checkpoint().is_some()
    });
    let saved = h.state().training().last_checkpoint().unwrap();
    assert!(run.join("checkpoint/state.ron").exists());
    assert_eq!(common::saved_state(&run).step, saved);

    mode(&mut h, RunMode::Resume);
    wait_for_the_checkpoint(&mut h);
    h.get_by_label("Start").click();
    wait_until(&mut h, "a step after resuming", move |a| {
        a.training()
            .history()
            .last()
            .is_some_and(|m| m.step == saved + 1)
    });
    assert_eq!(h.state().training().history().len() as u64, saved + 1);
    h.get_by_label("Stop").click();
    wait_until(&mut h, "the second stop", |a| {
        a.training().state() == RunState::Idle
    });
}

#[test]
fn an_empty_folder_shows_an_error_and_does_not_start() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let mut h = harness(tmp.path());
    setup(&mut h, &empty, &tmp.path().join("run"));
    h.get_by_label("Start").click();
    wait_until(&mut h, "the error", |a| a.training().error().is_some());
    let msg = h.state().training().error().unwrap().to_string();
    assert!(msg.contains("no usable image"), "{msg}");
    wait_until(&mut h, "idle", |a| a.training().state() == RunState::Idle);
    assert_eq!(h.state().training().step(), 0);
    h.get_by_label("Start"); // the button is back
    assert!(!tmp.path().join("run").exists(), "nothing written");
}

#[test]
fn the_ui_keeps_drawing_frames_while_a_step_runs() {
    let (_tmp, mut h, _run) = tiny_run(16);
    // A heavier model, so one step lasts many frames.
    for (label, value) in [
        ("ngf", 32.0),
        ("ndf", 32.0),
        ("batch", 32.0),
        ("n_critic", 5.0),
    ] {
        set_number(&mut h, label, value);
    }
    h.get_by_label("Start").click();
    wait_until(&mut h, "a step in progress", |a| a.training().in_step());
    // Structural, not a wall-clock threshold: frames complete while the worker is busy.
    let mut frames_during_one_step = 0;
    while h.state().training().in_step() && frames_during_one_step < 5 {
        h.step();
        frames_during_one_step += 1;
    }
    assert!(
        frames_during_one_step >= 5,
        "only {frames_during_one_step} frames while a step ran"
    );
    h.get_by_label("Stop").click();
    wait_until(&mut h, "the stop", |a| {
        a.training().state() == RunState::Idle
    });
}

fn close_window(h: &mut AppHarness) {
    h.input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
    h.step();
}

fn commands(h: &AppHarness) -> Vec<egui::ViewportCommand> {
    h.output()
        .viewport_output
        .get(&egui::ViewportId::ROOT)
        .map(|v| v.commands.clone())
        .unwrap_or_default()
}

#[test]
fn closing_during_training_asks_and_saves() {
    let (_tmp, mut h, run) = tiny_run(8);
    h.get_by_label("Start").click();
    wait_until(&mut h, "a step", |a| a.training().step() >= 1);

    close_window(&mut h);
    assert!(
        commands(&h).contains(&egui::ViewportCommand::CancelClose),
        "the close is held back"
    );
    assert!(h.state().training().confirm_close);
    h.step();
    h.get_by_label("Save and close").click_accesskit();
    let mut closed = false;
    for _ in 0..4000 {
        h.step();
        if commands(&h).contains(&egui::ViewportCommand::Close) {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(closed, "the window closes once the checkpoint is saved");
    assert!(run.join("checkpoint/state.ron").exists());
}

#[test]
fn choosing_a_folder_shows_its_images_before_starting() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    common::write_disc_folder(&data, 12);
    std::fs::write(data.join("broken.png"), b"not a png").unwrap();
    let mut h = harness(tmp.path());
    setup(&mut h, &data, &tmp.path().join("run"));
    wait_until(&mut h, "the scan", |a| {
        a.training().data_info().is_some_and(|d| d.0 == 12)
    });
    let (n, skipped) = h.state().training().data_info().cloned().unwrap();
    assert_eq!((n, skipped.len()), (12, 1));
    assert_eq!(h.state().training().preview_count(), 12);
    assert_eq!(
        h.state().training().state(),
        RunState::Idle,
        "nothing started"
    );

    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    type_into(&mut h, "Dataset", empty.to_str().unwrap());
    wait_until(&mut h, "the scan error", |_| true);
    let mut seen = false;
    for _ in 0..2000 {
        h.step();
        if h.query_by_label_contains("no usable image").is_some() {
            seen = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(seen, "the folder's problem is on screen");
}

#[test]
fn the_average_field_sets_the_runs_weight_average() {
    let (_tmp, mut h, run) = tiny_run(8);
    set_number(&mut h, "average", 0.95);
    assert_eq!(h.state().training().form().config.ema_decay, 0.95);

    train_and_stop(&mut h, 2);
    let state = common::saved_state(&run);
    assert_eq!(state.config.ema_decay, 0.95);
    assert!(
        state.ema_updates >= 2,
        "the average was kept from the first step"
    );
    assert!(run.join("checkpoint/generator_ema.safetensors").exists());
}

#[test]
fn a_collapsing_run_shows_a_warning() {
    let (_tmp, mut h, _run) = tiny_run(16);
    // A DCGAN whose discriminator learns fast while the generator hardly learns.
    choose(&mut h, "algorithm", "dcgan");
    set_number(&mut h, "lr", 1e-7);
    set_number(&mut h, "critic lr", 2e-3);
    set_number(&mut h, "samples every", 500.0);
    let expected = common::winning_discriminator_config();
    let form = &h.state().training().form().config;
    assert_eq!(form.optimizer_g, expected.optimizer_g);
    assert_eq!(form.optimizer_c, expected.optimizer_c);
    h.get_by_label("Start").click();
    wait_until(&mut h, "the collapse warning", |a| {
        a.training().collapse_warning().is_some()
    });
    h.step();
    // Panics unless the warning is on screen.
    h.get_by_label_contains("Possible collapse at step");
    h.get_by_label("Stop").click();
    wait_until(&mut h, "the stop", |a| {
        a.training().state() == RunState::Idle
    });
}

#[test]
fn the_learning_rate_fields_set_both_rates_until_the_critics_is_set_apart() {
    let (_tmp, mut h, _run) = tiny_run(4);
    choose(&mut h, "algorithm", "dcgan");
    let rates = |h: &AppHarness| {
        let c = &h.state().training().form().config;
        (c.optimizer_g.lr(), c.optimizer_c.lr())
    };
    set_number(&mut h, "lr", 1e-4);
    assert_eq!(rates(&h), (1e-4, 1e-4));
    set_number(&mut h, "critic lr", 2e-5);
    assert_eq!(rates(&h), (1e-4, 2e-5));
    set_number(&mut h, "lr", 3e-4);
    assert_eq!(rates(&h), (3e-4, 2e-5), "the critic's own rate is kept");
}

#[test]
fn the_upsampling_choice_reaches_the_runs_model() {
    let (_tmp, mut h, run) = tiny_run(8);
    choose(&mut h, "upsampling", "resize-conv");
    train_and_stop(&mut h, 1);
    let model = common::saved_state(&run).config.model;
    assert_eq!(model.upsampling(), hitogata::model::Upsampling::Resize);
}

#[test]
fn the_augment_box_and_the_critics_view_reach_the_runs_config() {
    let (_tmp, mut h, run) = tiny_run(8);
    assert!(
        h.state().training().form().config.augment.is_off(),
        "off by default"
    );
    assert!(
        h.query_by_label("adaptive").is_none(),
        "only with augmentation"
    );
    h.get_by_label("augment").click();
    h.run_steps(2);
    h.get_by_label("adaptive").click();
    h.run_steps(2);
    choose(&mut h, "critic sees", "lowpass 2x2");
    train_and_stop(&mut h, 1);
    let state = common::saved_state(&run);
    assert_eq!(state.config.augment, Augment::ALL);
    assert_eq!(
        state.config.adaptive_augment.map(|a| a.target),
        Some(AdaptiveAugment::DEFAULT_TARGET)
    );
    assert_eq!(state.config.critic_view, CriticView::Lowpass(2));
    assert!(state.history.iter().all(|m| m.augment_share.is_some()));
    // The share on screen (a new run starts with none augmented).
    assert!(
        h.query_by_label_contains("| augmented ").is_some(),
        "the share is shown"
    );
    // Unticking augment drops the adaptive box and the setting.
    h.get_by_label("augment").click();
    h.run_steps(2);
    assert!(h.query_by_label("adaptive").is_none());
    assert!(
        h.state()
            .training()
            .form()
            .config
            .adaptive_augment
            .is_none()
    );
}

/// A tiny DCGAN run saved by the engine (as `hitogata train` would) in `run`, with `config`.
fn saved_run(run: &Path, config: hitogata::train::TrainConfig) {
    let dev = common::cpu();
    let mut s = TrainingSession::new(config, common::disc_dataset(8), &dev.device).unwrap();
    s.step().unwrap();
    hitogata::train::RunDir::new(run).save(&s).unwrap();
}

#[test]
fn the_augment_box_keeps_a_resumed_runs_colour_strength() {
    let (_tmp, mut h, run) = tiny_run(8);
    let softer = Augment::ALL.with_color_strength(0.5).unwrap();
    let mut config = common::tiny_dcgan_config();
    config.augment = softer;
    saved_run(&run, config);
    mode(&mut h, RunMode::ResumeWithChanges);
    wait_for_the_checkpoint(&mut h);
    assert_eq!(h.state().training().form().config.augment, softer);
    h.get_by_label("augment").click();
    h.run_steps(2);
    assert!(h.state().training().form().config.augment.is_off());
    h.get_by_label("augment").click();
    h.run_steps(2);
    assert_eq!(
        h.state().training().form().config.augment,
        softer,
        "ticked again: the same strength"
    );
}

#[test]
fn a_recovered_run_loses_its_collapse_warning() {
    let (_tmp, mut h, run) = tiny_run(8);
    common::collapsed_history_run(&run);
    mode(&mut h, RunMode::Resume);
    wait_for_the_checkpoint(&mut h);
    set_number(&mut h, "stop at", 500.0);
    h.get_by_label("Start").click();
    wait_until(&mut h, "the warning from the history", |a| {
        a.training().collapse_warning().is_some()
    });
    wait_until(&mut h, "the recovery", |a| {
        a.training().collapse_warning().is_none()
    });
    h.step();
    h.get_by_label_contains("Recovered at step");
    assert!(h.query_by_label_contains("Possible collapse").is_none());
    h.get_by_label("Stop").click();
    wait_until(&mut h, "the stop", |a| {
        a.training().state() == RunState::Idle
    });
}

#[test]
fn the_output_scale_field_reaches_the_runs_model() {
    let (_tmp, mut h, run) = tiny_run(8);
    set_number(&mut h, "output scale", 1.25);
    assert_eq!(
        h.state().training().form().config.model.output_scale,
        Some(1.25)
    );
    train_and_stop(&mut h, 1);
    let model = hitogata::checkpoint::read_model_config(&run.join("checkpoint")).unwrap();
    assert_eq!(model.output_scale, Some(1.25));
}

#[test]
fn resume_with_changes_takes_the_tabs_settings_and_a_fresh_critic() {
    let (_tmp, mut h, run) = tiny_run(8);
    train_and_stop(&mut h, 1);
    assert!(
        h.query_by_label("fresh critic").is_none(),
        "only when resuming with changes"
    );
    mode(&mut h, RunMode::Resume);
    wait_for_the_checkpoint(&mut h);
    assert!(h.query_by_label("fresh critic").is_none());
    mode(&mut h, RunMode::ResumeWithChanges);
    wait_for_the_checkpoint(&mut h);
    h.get_by_label("fresh critic").click();
    h.get_by_label("augment").click();
    h.run_steps(2);
    set_number(&mut h, "batch", 3.0);
    set_number(&mut h, "critic warm-up", 0.0);
    let critic = std::fs::read(run.join("checkpoint/critic.safetensors")).unwrap();
    // Stop at the step it is at: the checkpoint is saved at once, without training, so the
    // critic on disk changes only through the reset.
    let at = h.state().training().step() as f64;
    set_number(&mut h, "stop at", at);
    h.get_by_label("Start").click();
    h.run_steps(1);
    wait_until(&mut h, "the immediate stop", |a| {
        a.training().state() == RunState::Idle && a.training().notice().is_some()
    });
    let state = common::saved_state(&run);
    assert_eq!(state.config.augment, Augment::ALL);
    assert_eq!(state.config.batch_size, 3);
    assert_eq!(
        state.config.adaptive_augment, None,
        "the tab's: not adaptive"
    );
    assert_ne!(
        std::fs::read(run.join("checkpoint/critic.safetensors")).unwrap(),
        critic
    );
}

#[test]
fn choosing_resume_shows_the_checkpoints_settings() {
    let (tmp, mut h, _run) = tiny_run(8);
    h.get_by_label("augment").click();
    h.run_steps(2);
    train_and_stop(&mut h, 1);
    let step = h.state().training().step();
    // The tab's fields drift away from the run's...
    h.get_by_label("augment").click();
    set_number(&mut h, "lr", 0.01);
    assert!(h.state().training().form().config.augment.is_off());
    // ...and resuming brings the checkpoint's back, read off the UI thread.
    mode(&mut h, RunMode::Resume);
    wait_for_the_checkpoint(&mut h);
    h.get_by_label(&format!("the checkpoint's settings (step {step})"));
    assert_eq!(h.state().training().form().config.augment, Augment::ALL);
    assert_ne!(h.state().training().form().config.optimizer_g.lr(), 0.01);

    // After the resumed run stops, the note follows the new checkpoint.
    train_and_stop(&mut h, step + 1);
    let later = h.state().training().step();
    assert!(later > step);
    let note = format!("the checkpoint's settings (step {later})");
    wait_until(&mut h, "the new checkpoint's settings", move |a| {
        a.training().resume_note() == Some(note.as_str())
    });

    // A folder without a checkpoint says so, and a resumed run cannot start there.
    type_into(
        &mut h,
        "Run folder",
        tmp.path().join("empty").to_str().unwrap(),
    );
    wait_until(&mut h, "the missing checkpoint", |a| {
        a.training()
            .resume_note()
            .is_some_and(|n| n.starts_with("nothing to resume"))
    });
    h.get_by_label("Start").click();
    wait_until(&mut h, "the refusal", |a| {
        a.training()
            .error()
            .is_some_and(|e| e.contains("nothing to resume"))
    });
    // A new run forgets the note.
    mode(&mut h, RunMode::New);
    assert!(h.state().training().resume_note().is_none());
}

/// A temporary folder with 8 disc pictures in `data/` and a trained tiny generator (z 8, ngf 4)
/// exported to `generator/`, which the explorer opens; the app on the Training tab set up for a
/// tiny CPU run into `run/`. Returns (folder, harness, run directory, export).
fn explorer_generator_run() -> (
    tempfile::TempDir,
    AppHarness,
    std::path::PathBuf,
    std::path::PathBuf,
) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    common::write_disc_folder(&data, 8);
    let run = tmp.path().join("run");
    let export = tmp.path().join("generator");
    common::trained_tiny_export(&export);
    let mut h = harness_on(&export, tmp.path());
    setup(&mut h, &data, &run);
    (tmp, h, run, export)
}

#[test]
fn a_fine_tune_of_the_explorers_generator_warms_its_critic_up_and_can_be_anchored() {
    let (tmp, mut h, run, export) = explorer_generator_run();
    set_number(&mut h, "ngf", 6.0);
    mode(&mut h, RunMode::FineTune);
    // Long enough to be seen on screen: updates of a tiny critic take milliseconds.
    set_number(&mut h, "critic warm-up", 100_000.0);
    set_number(&mut h, "detail anchor", 1000.0);
    choose(&mut h, "critic sees", "lowpass 4x4");
    h.get_by_label("Start").click();
    wait_until(&mut h, "the warm-up", |a| {
        a.training().warmup_progress().is_some()
    });
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("critic warm-up: ").is_some(),
        "its progress is on screen"
    );
    // The run took over the generator's shapes.
    assert_eq!(h.state().training().form().config.model.ngf, 4);
    assert_eq!(h.state().training().step(), 0);
    h.get_by_label("Stop").click();
    wait_until(&mut h, "the stop", |a| {
        a.training().state() == RunState::Idle && a.training().last_checkpoint().is_some()
    });
    let state = common::saved_state(&run);
    assert_eq!(state.step, 0);
    assert_eq!(state.config.model.ngf, 4);
    assert_eq!(
        state.config.initial_generator.as_deref(),
        Some(export.as_path())
    );
    assert_eq!(state.config.detail_anchor, Some(1000.0));
    assert_eq!(state.config.critic_view, CriticView::Lowpass(4));
    assert!(
        run.join("checkpoint/anchor.safetensors").is_file(),
        "the generator it is anchored to is saved with the run"
    );
    // Resuming with changes shows the run's anchor and lets the field change it.
    mode(&mut h, RunMode::ResumeWithChanges);
    wait_for_the_checkpoint(&mut h);
    assert_eq!(h.state().training().form().detail_anchor, 1000.0);
    set_number(&mut h, "detail anchor", 10.0);
    set_number(&mut h, "critic warm-up", 0.0);
    train_and_stop(&mut h, 1);
    assert_eq!(common::saved_state(&run).config.detail_anchor, Some(10.0));

    // A new run from random weights has nothing to anchor to, and is not the last run's
    // fine-tune.
    mode(&mut h, RunMode::New);
    let fresh = tmp.path().join("fresh");
    type_into(&mut h, "Run folder", fresh.to_str().unwrap());
    set_number(&mut h, "ngf", 6.0);
    train_and_stop(&mut h, 1);
    let fresh_config = common::saved_state(&fresh).config;
    assert_eq!(fresh_config.detail_anchor, None);
    assert_eq!(fresh_config.initial_generator, None);
    assert_eq!(fresh_config.model.ngf, 6);
}

#[test]
fn a_fine_tune_without_a_generator_in_the_explorer_says_so() {
    let (_tmp, mut h, run) = tiny_run(8);
    mode(&mut h, RunMode::FineTune);
    h.get_by_label("Start").click();
    h.run_steps(2);
    let error = h.state().training().error().unwrap_or_default().to_string();
    assert!(error.contains("no generator"), "{error}");
    assert_eq!(h.state().training().state(), RunState::Idle);
    assert!(!run.exists());
}

#[test]
fn a_new_run_from_the_tab_trains_grey_32_px_pictures() {
    let (_tmp, mut h, run) = tiny_run(8);
    choose(&mut h, "px", "32");
    h.get_by_label("grey").click();
    h.run_steps(2);
    let model = &h.state().training().form().config.model;
    assert_eq!((model.image_size(), model.channels()), (32, 1));
    train_and_stop(&mut h, 2);
    let saved = hitogata::checkpoint::read_model_config(
        &hitogata::checkpoint::resolve_checkpoint_dir(&run).unwrap(),
    )
    .unwrap();
    assert_eq!((saved.image_size(), saved.channels()), (32, 1));
}

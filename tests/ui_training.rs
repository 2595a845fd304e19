//! egui_kittest drives the training tab of the real app: a tiny run on the CPU device.

mod common;

use std::path::Path;
use std::time::Duration;

use common::ui::AppHarness;
use egui_kittest::kittest::Queryable;
use hitogata::app::{RunState, Tab};
use hitogata::device::DeviceChoice;

fn harness(dir: &Path) -> AppHarness {
    let size = egui::vec2(1280.0, 900.0);
    let mut h = common::ui::app_harness(
        &dir.join("no-checkpoint-here"),
        &dir.join("bookmarks.ron"),
        size,
    );
    h.state_mut().tab = Tab::Training;
    h.step();
    h
}

fn setup(h: &mut AppHarness, data: &Path, run: &Path) {
    let t = &mut h.state_mut().training;
    t.data_dir = data.display().to_string();
    t.run_dir = run.display().to_string();
    t.config = common::tiny_train_config();
    t.device = DeviceChoice::Cpu;
    t.sample_every = 2;
    t.checkpoint_every = 0;
}

use common::ui::wait_until;

/// Starts the set-up run, waits for `steps` steps, stops it and waits for its checkpoint.
fn train_and_stop(h: &mut AppHarness, steps: u64) {
    h.get_by_label("Start").click();
    wait_until(h, "the steps", move |a| a.training.step >= steps);
    h.get_by_label("Stop").click();
    wait_until(h, "the stop", |a| {
        a.training.state == RunState::Idle && a.training.last_checkpoint.is_some()
    });
}

/// Ticks "resume", waits for the checkpoint's settings, and ticks "with these settings".
fn resume_with_these_settings(h: &mut AppHarness) {
    h.get_by_label("resume").click();
    wait_until(h, "the checkpoint's settings", |a| {
        a.training.resume_note.is_some()
    });
    h.get_by_label("with these settings").click();
    h.run_steps(2);
}

/// Unticks both again, for a new run.
fn back_to_a_new_run(h: &mut AppHarness) {
    h.get_by_label("with these settings").click();
    h.get_by_label("resume").click();
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
fn a_tiny_run_trains_pauses_stops_and_resumes() {
    let (_tmp, mut h, run) = tiny_run(10);

    h.get_by_label("Start").click();
    wait_until(&mut h, "three steps", |a| a.training.step >= 3);
    assert_eq!(h.state().training.data_info.as_ref().map(|d| d.0), Some(10));
    assert!(!h.state().training.preview.is_empty());
    wait_until(&mut h, "a sample grid", |a| {
        a.training.samples_received >= 2 && a.training.grid_texture.is_some()
    });
    assert!(h.state().training.history.len() >= 3, "the plot has points");
    assert!(!h.state().training.timeline.is_empty());

    h.get_by_label("Pause").click();
    wait_until(&mut h, "the pause", |a| {
        a.training.state == RunState::Paused
    });
    let paused_at = h.state().training.step;
    for _ in 0..60 {
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(h.state().training.step, paused_at, "no steps while paused");
    h.get_by_label("Resume").click();
    wait_until(&mut h, "more steps", move |a| {
        a.training.step > paused_at + 1
    });

    h.get_by_label("Stop").click();
    wait_until(&mut h, "the stop", |a| {
        a.training.state == RunState::Idle && a.training.last_checkpoint.is_some()
    });
    let saved = h.state().training.last_checkpoint.unwrap();
    assert!(run.join("checkpoint/state.ron").exists());

    h.state_mut().training.resume = true;
    h.get_by_label("Start").click();
    wait_until(&mut h, "the resumed run", move |a| {
        a.training.state == RunState::Running && a.training.step >= saved
    });
    wait_until(&mut h, "a step after resuming", move |a| {
        a.training
            .history
            .last()
            .is_some_and(|m| m.step == saved + 1)
    });
    h.get_by_label("Stop").click();
    wait_until(&mut h, "the second stop", |a| {
        a.training.state == RunState::Idle
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
    wait_until(&mut h, "the error", |a| a.training.error.is_some());
    let msg = h.state().training.error.clone().unwrap();
    assert!(msg.contains("no usable image"), "{msg}");
    wait_until(&mut h, "idle", |a| a.training.state == RunState::Idle);
    assert_eq!(h.state().training.step, 0);
    h.get_by_label("Start"); // the button is back
}

#[test]
fn the_ui_keeps_drawing_frames_while_a_step_runs() {
    let (_tmp, mut h, _run) = tiny_run(16);
    // A heavier model, so one step lasts many frames.
    {
        let t = &mut h.state_mut().training;
        t.config.model = t.config.model.clone().with_ngf(32).with_ndf(32);
        t.config.batch_size = 32;
        t.config.n_critic = 5;
    }
    h.get_by_label("Start").click();
    wait_until(&mut h, "a step in progress", |a| a.training.in_step());
    // Structural, not a wall-clock threshold: frames complete while the worker is busy.
    let mut frames_during_one_step = 0;
    while h.state().training.in_step() && frames_during_one_step < 5 {
        h.step();
        frames_during_one_step += 1;
    }
    assert!(
        frames_during_one_step >= 5,
        "only {frames_during_one_step} frames while a step ran"
    );
    h.get_by_label("Stop").click();
    wait_until(&mut h, "the stop", |a| a.training.state == RunState::Idle);
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
    wait_until(&mut h, "a step", |a| a.training.step >= 1);

    close_window(&mut h);
    assert!(
        commands(&h).contains(&egui::ViewportCommand::CancelClose),
        "the close is held back"
    );
    assert!(h.state().training.confirm_close);
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
    wait_until(&mut h, "the scan", |a| a.training.data_info.is_some());
    let (n, skipped) = h.state().training.data_info.clone().unwrap();
    assert_eq!((n, skipped.len()), (12, 1));
    assert_eq!(h.state().training.preview.len(), 12);
    assert_eq!(h.state().training.state, RunState::Idle, "nothing started");

    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    h.state_mut().training.data_dir = empty.display().to_string();
    wait_until(&mut h, "the scan error", |a| {
        a.training.scan_error.is_some()
    });
    assert!(
        h.state()
            .training
            .scan_error
            .clone()
            .unwrap()
            .contains("no usable image")
    );
}

#[test]
fn the_average_field_sets_the_runs_weight_average() {
    let (_tmp, mut h, run) = tiny_run(8);
    h.get_by_label("average").set_value_accesskit(0.95);
    h.step();
    assert_eq!(h.state().training.config.ema_decay, 0.95);

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
    h.state_mut().training.config = common::winning_discriminator_config();
    h.state_mut().training.sample_every = 500;
    h.get_by_label("Start").click();
    wait_until(&mut h, "the collapse warning", |a| {
        a.training.collapse_warning.is_some()
    });
    h.step();
    // Panics unless the warning is on screen.
    h.get_by_label_contains("Possible collapse at step");
    h.get_by_label("Stop").click();
    wait_until(&mut h, "the stop", |a| a.training.state == RunState::Idle);
}

#[test]
fn the_learning_rate_fields_set_both_rates_until_the_critics_is_set_apart() {
    let (_tmp, mut h, _run) = tiny_run(4);
    h.state_mut().training.config = common::tiny_dcgan_config();
    h.step();
    let rates = |h: &AppHarness| {
        let c = &h.state().training.config;
        (c.optimizer_g.lr(), c.optimizer_c.lr())
    };
    h.get_by_label("lr").set_value_accesskit(1e-4);
    h.step();
    assert_eq!(rates(&h), (1e-4, 1e-4));
    h.get_by_label("critic lr").set_value_accesskit(2e-5);
    h.step();
    assert_eq!(rates(&h), (1e-4, 2e-5));
    h.get_by_label("lr").set_value_accesskit(3e-4);
    h.step();
    assert_eq!(rates(&h), (3e-4, 2e-5), "the critic's own rate is kept");
}

#[test]
fn the_upsampling_choice_reaches_the_runs_model() {
    let (_tmp, mut h, run) = tiny_run(8);
    h.get_by_label("upsampling").click();
    h.run_steps(2);
    h.get_by_label("resize-conv").click();
    h.run_steps(2);
    assert_eq!(
        h.state().training.config.model.upsampling(),
        hitogata::model::Upsampling::Resize
    );
    train_and_stop(&mut h, 1);
    let model = std::fs::read_to_string(run.join("checkpoint/model.ron")).unwrap();
    assert!(model.contains("Resize"), "{model}");
}

#[test]
fn the_augment_box_reaches_the_runs_config() {
    let (_tmp, mut h, run) = tiny_run(8);
    assert!(h.state().training.config.augment.is_off(), "off by default");
    h.get_by_label("augment").click();
    h.run_steps(2);
    assert_eq!(
        h.state().training.config.augment,
        hitogata::train::Augment::ALL
    );
    assert!(
        h.query_by_label("adaptive").is_some(),
        "offered once augment is on"
    );
    h.get_by_label("adaptive").click();
    h.run_steps(2);
    train_and_stop(&mut h, 1);
    let state = common::saved_state(&run);
    assert_eq!(state.config.augment, hitogata::train::Augment::ALL);
    assert_eq!(
        state.config.adaptive_augment.map(|a| a.target),
        Some(hitogata::train::AdaptiveAugment::DEFAULT_TARGET)
    );
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
    assert!(h.state().training.config.adaptive_augment.is_none());
}

#[test]
fn the_lowpass_box_sets_the_critics_view_next_to_the_augment_box() {
    use hitogata::train::Augment;
    let (_tmp, mut h, run) = tiny_run(8);
    h.get_by_label("lowpass").click();
    h.run_steps(2);
    let lowpass_only = Augment {
        lowpass: true,
        ..Augment::default()
    };
    assert_eq!(h.state().training.config.augment, lowpass_only);
    assert!(
        h.query_by_label("adaptive").is_some(),
        "a lowpass critic can be adaptive too"
    );
    h.get_by_label("augment").click();
    h.run_steps(2);
    let both = Augment {
        lowpass: true,
        ..Augment::ALL
    };
    assert_eq!(h.state().training.config.augment, both, "the ticks combine");
    h.get_by_label("augment").click();
    h.run_steps(2);
    assert_eq!(
        h.state().training.config.augment,
        lowpass_only,
        "unticking augment keeps lowpass"
    );
    train_and_stop(&mut h, 1);
    assert_eq!(common::saved_state(&run).config.augment, lowpass_only);
    h.get_by_label("lowpass").click();
    h.run_steps(2);
    assert!(h.state().training.config.augment.is_off());
    assert!(h.query_by_label("adaptive").is_none());
}

#[test]
fn the_lowpass_critic_can_average_two_by_two_blocks() {
    use egui::accesskit::Role;
    let (_tmp, mut h, run) = tiny_run(8);
    assert!(
        h.query_by_label("blocks").is_none(),
        "a block size only for a lowpass critic"
    );
    h.get_by_label("lowpass").click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::ComboBox, "blocks").click();
    h.run_steps(2);
    h.get_by_label("2×2").click();
    h.run_steps(2);
    assert_eq!(h.state().training.config.augment.lowpass_block, Some(2));
    train_and_stop(&mut h, 1);
    let saved = common::saved_state(&run).config.augment;
    assert!(saved.lowpass);
    assert_eq!(saved.lowpass_block, Some(2));
    // Unticked and ticked again: the default 4×4 view.
    h.get_by_label("lowpass").click();
    h.run_steps(2);
    h.get_by_label("lowpass").click();
    h.run_steps(2);
    assert_eq!(h.state().training.config.augment.lowpass_block, None);
}

#[test]
fn the_augment_box_keeps_a_runs_colour_strength() {
    use hitogata::train::Augment;
    let (_tmp, mut h, _run) = tiny_run(8);
    let softer = Augment::ALL.with_color_strength(0.5).unwrap();
    h.state_mut().training.config.augment = softer;
    h.run_steps(2);
    h.get_by_label("augment").click();
    h.run_steps(2);
    assert!(h.state().training.config.augment.is_off());
    h.get_by_label("augment").click();
    h.run_steps(2);
    assert_eq!(
        h.state().training.config.augment,
        softer,
        "ticked again: the same strength"
    );
}

#[test]
fn a_recovered_run_loses_its_collapse_warning() {
    let (_tmp, mut h, run) = tiny_run(8);
    common::collapsed_history_run(&run);
    h.state_mut().training.resume = true;
    h.state_mut().training.target_steps = 500;
    h.get_by_label("Start").click();
    wait_until(&mut h, "the warning from the history", |a| {
        a.training.collapse_warning.is_some()
    });
    wait_until(&mut h, "the recovery", |a| {
        a.training.collapse_warning.is_none()
    });
    h.step();
    h.get_by_label_contains("Recovered at step");
    assert!(h.query_by_label_contains("Possible collapse").is_none());
    h.get_by_label("Stop").click();
    wait_until(&mut h, "the stop", |a| a.training.state == RunState::Idle);
}

#[test]
fn the_output_scale_field_reaches_the_runs_model() {
    let (_tmp, mut h, run) = tiny_run(8);
    h.get_by_label("output scale").set_value_accesskit(1.25);
    h.run_steps(2);
    assert_eq!(h.state().training.config.model.output_scale, Some(1.25));
    train_and_stop(&mut h, 1);
    let model = std::fs::read_to_string(run.join("checkpoint/model.ron")).unwrap();
    assert!(model.contains("output_scale: Some(1.25)"), "{model}");
}

#[test]
fn a_resumed_run_can_take_the_tabs_settings_and_a_fresh_critic() {
    let (_tmp, mut h, run) = tiny_run(8);
    train_and_stop(&mut h, 1);
    assert!(
        h.query_by_label("with these settings").is_none(),
        "only when resuming"
    );
    resume_with_these_settings(&mut h);
    h.get_by_label("fresh critic").click();
    h.get_by_label("augment").click();
    h.state_mut().training.config.batch_size = 3;
    h.run_steps(2);
    let overrides = h.state().training.resume_overrides();
    assert!(overrides.reset_critic);
    assert_eq!(overrides.batch_size, Some(3));
    assert_eq!(
        overrides.adaptive_augment,
        Some(None),
        "the tab's: not adaptive"
    );
    assert_eq!(overrides.augment, Some(hitogata::train::Augment::ALL));
    let critic = std::fs::read(run.join("checkpoint/critic.safetensors")).unwrap();
    // Stop at the step it is at: the checkpoint is saved at once, without training, so the
    // critic on disk changes only through the reset.
    h.state_mut().training.target_steps = h.state().training.step;
    h.get_by_label("Start").click();
    h.run_steps(1);
    wait_until(&mut h, "the immediate stop", |a| {
        a.training.state == RunState::Idle
    });
    let state = common::saved_state(&run);
    assert_eq!(state.config.augment, hitogata::train::Augment::ALL);
    assert_eq!(state.config.batch_size, 3);
    assert_ne!(
        std::fs::read(run.join("checkpoint/critic.safetensors")).unwrap(),
        critic
    );
}

#[test]
fn ticking_resume_shows_the_checkpoints_settings() {
    let (tmp, mut h, _run) = tiny_run(8);
    h.get_by_label("augment").click();
    h.run_steps(2);
    train_and_stop(&mut h, 1);
    let step = h.state().training.step;
    // The tab's fields drift away from the run's...
    h.state_mut().training.config.augment = hitogata::train::Augment::default();
    h.state_mut().training.config.optimizer_g =
        h.state().training.config.optimizer_g.clone().with_lr(0.01);
    // ...and ticking "resume" brings the checkpoint's back, read off the UI thread.
    h.get_by_label("resume").click();
    wait_until(&mut h, "the checkpoint's settings", |a| {
        a.training.resume_note.is_some()
    });
    h.step();
    h.get_by_label(&format!("the checkpoint's settings (step {step})"));
    assert_eq!(
        h.state().training.config.augment,
        hitogata::train::Augment::ALL
    );
    assert_ne!(h.state().training.config.optimizer_g.lr(), 0.01);

    // After the resumed run stops, the note follows the new checkpoint.
    train_and_stop(&mut h, step + 1);
    let later = h.state().training.step;
    assert!(later > step);
    let note = format!("the checkpoint's settings (step {later})");
    wait_until(&mut h, "the new checkpoint's settings", move |a| {
        a.training.resume_note.as_deref() == Some(note.as_str())
    });

    // A folder without a checkpoint says so.
    h.state_mut().training.run_dir = tmp.path().join("empty").display().to_string();
    wait_until(&mut h, "the missing checkpoint", |a| {
        a.training
            .resume_note
            .as_deref()
            .is_some_and(|n| n.starts_with("nothing to resume"))
    });
    // Unticking forgets the note.
    h.get_by_label("resume").click();
    h.run_steps(2);
    assert!(h.state().training.resume_note.is_none());
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
    let mut h = common::ui::app_harness(
        &export,
        &tmp.path().join("bookmarks.ron"),
        egui::vec2(1280.0, 900.0),
    );
    h.state_mut().tab = Tab::Training;
    h.step();
    setup(&mut h, &data, &run);
    (tmp, h, run, export)
}

#[test]
fn a_run_from_the_explorers_generator_can_widen_it() {
    let (_tmp, mut h, run, export) = explorer_generator_run();
    h.run_steps(2);
    assert!(
        h.query_by_label("widen to ngf").is_none(),
        "only for a run from a trained generator"
    );
    h.get_by_label("from the explorer's generator").click();
    h.run_steps(2);
    h.get_by_label("critic warm-up").set_value_accesskit(0.0);
    h.get_by_label("widen to ngf").set_value_accesskit(8.0);
    h.run_steps(2);
    assert_eq!(h.state().training.widen_ngf, 8);
    train_and_stop(&mut h, 1);
    assert_eq!(h.state().training.config.model.ngf, 8, "the run's width");
    let state = common::saved_state(&run);
    assert_eq!(state.config.model.ngf, 8);
    assert_eq!(
        state.config.initial_generator.as_deref(),
        Some(export.as_path())
    );
}

#[test]
fn a_new_run_can_start_from_the_explorers_generator_with_a_critic_warm_up() {
    let (tmp, mut h, run, export) = explorer_generator_run();
    h.state_mut().training.config.model.ngf = 6;
    h.run_steps(2);
    assert!(
        h.query_by_label("critic warm-up").is_none(),
        "only with a trained generator and a new critic"
    );
    h.get_by_label("from the explorer's generator").click();
    h.run_steps(2);
    // Long enough to be seen on screen: updates of a tiny critic take milliseconds.
    h.get_by_label("critic warm-up")
        .set_value_accesskit(100_000.0);
    h.get_by_label("detail anchor").set_value_accesskit(1000.0);
    h.run_steps(2);
    assert_eq!(h.state().training.critic_warmup, 100_000);
    assert_eq!(h.state().training.detail_anchor, 1000.0);
    h.get_by_label("Start").click();
    wait_until(&mut h, "the warm-up", |a| {
        a.training.warmup_progress.is_some()
    });
    assert!(
        h.query_by_label_contains("critic warm-up: ").is_some(),
        "its progress is on screen"
    );
    // The run took over the generator's shapes.
    assert_eq!(h.state().training.config.model.ngf, 4);
    assert_eq!(h.state().training.step, 0);
    h.get_by_label("Stop").click();
    wait_until(&mut h, "the stop", |a| {
        a.training.state == RunState::Idle && a.training.last_checkpoint.is_some()
    });
    let state = common::saved_state(&run);
    assert_eq!(state.step, 0);
    assert_eq!(state.config.model.ngf, 4);
    assert_eq!(
        state.config.initial_generator.as_deref(),
        Some(export.as_path())
    );
    assert_eq!(state.config.detail_anchor, Some(1000.0));
    assert!(
        run.join("checkpoint/anchor.safetensors").is_file(),
        "the generator it is anchored to is saved with the run"
    );
    // Resuming shows the run's anchor; "with these settings" lets the field change it.
    h.state_mut().training.detail_anchor = 0.0;
    h.get_by_label("resume").click();
    wait_until(&mut h, "the checkpoint's settings", |a| {
        a.training.resume_note.is_some()
    });
    assert_eq!(h.state().training.detail_anchor, 1000.0);
    h.run_steps(2);
    assert!(
        h.query_by_label("detail anchor").is_none(),
        "kept unless applied"
    );
    h.get_by_label("with these settings").click();
    h.run_steps(2);
    h.get_by_label("detail anchor").set_value_accesskit(10.0);
    h.run_steps(2);
    train_and_stop(&mut h, 1);
    assert_eq!(common::saved_state(&run).config.detail_anchor, Some(10.0));
    back_to_a_new_run(&mut h);

    // A run from random weights has nothing to anchor to: the field goes, and the run starts.
    h.get_by_label("from the explorer's generator").click();
    h.run_steps(2);
    assert!(h.query_by_label("detail anchor").is_none());
    let fresh = tmp.path().join("fresh");
    h.state_mut().training.run_dir = fresh.display().to_string();
    h.state_mut().training.config.model.ngf = 6;
    train_and_stop(&mut h, 1);
    let fresh_config = common::saved_state(&fresh).config;
    assert_eq!(fresh_config.detail_anchor, None);
    assert_eq!(
        fresh_config.initial_generator, None,
        "not the last run's generator"
    );
}

#[test]
fn a_highpass_critic_with_a_layout_anchor_fine_tunes_the_explorers_generator() {
    use hitogata::train::Augment;
    let (_tmp, mut h, run, _export) = explorer_generator_run();
    // The highpass and lowpass views exclude each other; the augment box keeps either.
    h.get_by_label("lowpass").click();
    h.run_steps(2);
    h.get_by_label("highpass").click();
    h.run_steps(2);
    let highpass_only = Augment {
        highpass: true,
        ..Augment::default()
    };
    assert_eq!(h.state().training.config.augment, highpass_only);
    h.get_by_label("augment").click();
    h.get_by_label("augment").click();
    h.run_steps(2);
    assert_eq!(h.state().training.config.augment, highpass_only);
    assert!(
        h.query_by_label("layout anchor").is_none(),
        "only with a generator to anchor to"
    );
    h.get_by_label("from the explorer's generator").click();
    h.run_steps(2);
    h.get_by_label("critic warm-up").set_value_accesskit(2.0);
    h.get_by_label("layout anchor").set_value_accesskit(500.0);
    h.run_steps(2);
    train_and_stop(&mut h, 1);
    let config = common::saved_state(&run).config;
    assert_eq!(config.augment, highpass_only);
    assert_eq!(config.layout_anchor, Some(500.0));
    assert_eq!(config.detail_anchor, None, "the detail field was 0");
    assert!(run.join("checkpoint/anchor.safetensors").is_file());

    // Resumed "with these settings": the field shows the run's weight and changes it.
    h.state_mut().training.layout_anchor = 0.0;
    resume_with_these_settings(&mut h);
    assert_eq!(h.state().training.layout_anchor, 500.0);
    h.get_by_label("layout anchor").set_value_accesskit(50.0);
    h.run_steps(2);
    train_and_stop(&mut h, 2);
    let config = common::saved_state(&run).config;
    assert_eq!(config.layout_anchor, Some(50.0));
    assert_eq!(config.detail_anchor, None, "still none");
}

/// The palette a run on `data` with these settings gets: the data's most frequent colours.
fn data_palette(data: &Path, size: usize, width: f32) -> hitogata::model::OutputPalette {
    let dataset =
        hitogata::data::Dataset::load_folder(data, hitogata::data::SquareMode::Pad).unwrap();
    hitogata::model::OutputPalette::most_frequent(&dataset.pixels, size, width).unwrap()
}

#[test]
fn a_new_run_can_have_a_latent_mapping_with_its_own_rate_and_an_output_palette() {
    let (tmp, mut h, run) = tiny_run(8);
    h.run_steps(2);
    assert!(
        h.query_by_label("mapping lr").is_none(),
        "no mapping, no rate for it"
    );
    assert!(h.query_by_label("palette width").is_none());
    h.get_by_label("latent mapping").set_value_accesskit(8.0);
    h.get_by_label("palette").set_value_accesskit(4.0);
    h.run_steps(2);
    h.get_by_label("mapping lr").set_value_accesskit(0.001);
    h.get_by_label("palette width").set_value_accesskit(3.0);
    h.run_steps(2);
    train_and_stop(&mut h, 1);
    let config = common::saved_state(&run).config;
    assert_eq!(config.model.latent_mapping, Some(8));
    assert_eq!(config.mapping_lr, Some(0.001));
    let data = tmp.path().join("data");
    assert_eq!(
        config.model.output_palette,
        Some(data_palette(&data, 4, 3.0)),
        "the data's four most frequent colours"
    );
    assert_eq!(
        h.state().training.palette_size,
        4,
        "the run's palette shown"
    );
    let exported = std::fs::read_to_string(run.join("generator/model.ron")).unwrap();
    assert!(exported.contains("latent_mapping: Some(8)"), "{exported}");

    // A resumed run takes a new mapping rate "with these settings".
    resume_with_these_settings(&mut h);
    h.get_by_label("mapping lr").set_value_accesskit(0.002);
    h.run_steps(2);
    train_and_stop(&mut h, 2);
    assert_eq!(common::saved_state(&run).config.mapping_lr, Some(0.002));
    back_to_a_new_run(&mut h);

    // Both set back to none: the next run has neither (not the last run's).
    h.get_by_label("latent mapping").set_value_accesskit(0.0);
    h.get_by_label("palette").set_value_accesskit(0.0);
    h.run_steps(2);
    assert!(h.query_by_label("mapping lr").is_none());
    let plain = tmp.path().join("plain");
    h.state_mut().training.run_dir = plain.display().to_string();
    train_and_stop(&mut h, 1);
    let config = common::saved_state(&plain).config;
    assert_eq!(config.model.latent_mapping, None);
    assert_eq!(config.mapping_lr, None);
    assert_eq!(config.model.output_palette, None);
}

#[test]
fn a_run_from_the_explorers_generator_can_add_a_latent_mapping_and_a_palette() {
    let (tmp, mut h, run, _export) = explorer_generator_run();
    h.get_by_label("from the explorer's generator").click();
    h.run_steps(2);
    h.get_by_label("critic warm-up").set_value_accesskit(0.0);
    h.get_by_label("latent mapping").set_value_accesskit(6.0);
    h.get_by_label("palette").set_value_accesskit(2.0);
    h.run_steps(2);
    train_and_stop(&mut h, 1);
    let config = common::saved_state(&run).config;
    assert_eq!(config.model.ngf, 4, "the explorer generator's width");
    assert_eq!(config.model.latent_mapping, Some(6), "added to it");
    assert_eq!(
        config.model.output_palette,
        Some(data_palette(
            &tmp.path().join("data"),
            2,
            hitogata::model::DEFAULT_PALETTE_WIDTH
        ))
    );
}

#[test]
fn the_layout_term_field_reaches_a_new_run_and_a_resumed_one() {
    let (_tmp, mut h, run) = tiny_run(8);
    h.run_steps(2);
    h.get_by_label("layout term").set_value_accesskit(20.0);
    h.run_steps(2);
    train_and_stop(&mut h, 1);
    assert_eq!(common::saved_state(&run).config.layout_sw, Some(20.0));
    // Switched off on resume "with these settings".
    resume_with_these_settings(&mut h);
    h.get_by_label("layout term").set_value_accesskit(0.0);
    h.run_steps(2);
    train_and_stop(&mut h, 2);
    assert_eq!(common::saved_state(&run).config.layout_sw, Some(0.0));
}

//! The training worker's protocol: commands in, events out, clean shutdown.

use crate::common;

use common::expect;

use std::time::{Duration, Instant};

use hitogata::device::DeviceChoice;
use hitogata::train::{
    DivergencePolicy, RunChanges, RunSpec, RunStart, TrainCommand, TrainEvent, TrainJob,
    TrainWorker,
};

fn job(data: &std::path::Path, run: &std::path::Path) -> TrainJob {
    TrainJob {
        device: DeviceChoice::Cpu,
        sample_every: 2,
        checkpoint_every: 0,
        on_divergence: DivergencePolicy::RollBackAndPause,
        ..TrainJob::new(data, run, RunSpec::new(common::tiny_train_config()))
    }
}

/// The job's new-run config, to change it.
fn config_of(job: &mut TrainJob) -> &mut hitogata::train::TrainConfig {
    match &mut job.spec.start {
        RunStart::New(config) | RunStart::FromGenerator { config, .. } => config,
        RunStart::Resume => panic!("a resumed job has no config"),
    }
}

/// A learning rate so large that one update sends the generator's weights to ~1e38: its next
/// pictures overflow, and the losses become NaN.
fn poisoned_rate(config: &mut hitogata::train::TrainConfig) {
    config.optimizer_g = config.optimizer_g.clone().with_lr(1e38);
}

/// A job in `dir` (8 disc images) whose generator starts from a trained tiny one (z 8, ngf 4),
/// exported; returns the job and the export's folder.
fn job_from_trained_generator(dir: &std::path::Path) -> (TrainJob, std::path::PathBuf) {
    let data = dir.join("data");
    common::write_disc_folder(&data, 8);
    let export = dir.join("generator");
    common::trained_tiny_export(&export);
    let mut job = job(&data, &dir.join("run"));
    job.spec = RunSpec::from_generator(common::tiny_train_config(), &export);
    (job, export)
}

#[test]
fn commands_drive_the_run_and_events_report_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    common::write_disc_folder(&data, 10);
    let run = tmp.path().join("run");
    let w = TrainWorker::start(job(&data, &run), Box::new(|| {}));

    match expect(&w, "data", |e| matches!(e, TrainEvent::DataLoaded { .. })) {
        TrainEvent::DataLoaded {
            images, preview, ..
        } => assert_eq!((images, !preview.is_empty()), (10, true)),
        _ => unreachable!(),
    }
    expect(&w, "start", |e| {
        matches!(e, TrainEvent::Started { step: 0, .. })
    });
    expect(
        &w,
        "samples at step 2",
        |e| matches!(e, TrainEvent::Samples { step: 2, images } if images.len() == 4),
    );

    w.send(TrainCommand::Pause);
    let paused_at = match expect(&w, "pause", |e| matches!(e, TrainEvent::Paused { .. })) {
        TrainEvent::Paused { step, reason } => {
            assert!(reason.is_none());
            step
        }
        _ => unreachable!(),
    };
    // While paused, no step runs.
    std::thread::sleep(Duration::from_millis(400));
    while let Some(e) = w.try_recv() {
        assert!(
            !matches!(e, TrainEvent::Progress(_)),
            "a step ran while paused"
        );
    }
    w.send(TrainCommand::SaveNow);
    expect(
        &w,
        "checkpoint",
        |e| matches!(e, TrainEvent::Checkpoint { step, .. } if *step == paused_at),
    );
    w.send(TrainCommand::Resume);
    expect(&w, "resumed", |e| matches!(e, TrainEvent::Resumed));
    expect(
        &w,
        "progress after resume",
        |e| matches!(e, TrainEvent::Progress(m) if m.step > paused_at),
    );
    w.send(TrainCommand::Stop { save: true });
    let stopped_at = match expect(&w, "stop", |e| matches!(e, TrainEvent::Stopped { .. })) {
        TrainEvent::Stopped { step, saved, .. } => {
            assert!(saved);
            step
        }
        _ => unreachable!(),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !w.finished() {
        assert!(Instant::now() < deadline, "thread did not end");
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(w);

    // Resume continues from the saved step.
    let mut again = job(&data, &run);
    again.spec = RunSpec::resume(RunChanges::default());
    let w = TrainWorker::start(again, Box::new(|| {}));
    expect(
        &w,
        "resumed start",
        |e| matches!(e, TrainEvent::Started { step, history, .. } if *step == stopped_at && history.len() as u64 == stopped_at),
    );
    expect(
        &w,
        "next step",
        |e| matches!(e, TrainEvent::Progress(m) if m.step == stopped_at + 1),
    );
}

#[test]
fn bad_starts_fail_with_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let w = TrainWorker::start(job(&empty, &tmp.path().join("run")), Box::new(|| {}));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match w.recv_timeout(Duration::from_millis(100)) {
            Some(TrainEvent::Failed(m)) => {
                assert!(m.contains("no usable image") && m.contains("empty"), "{m}");
                break;
            }
            Some(TrainEvent::Started { .. }) => panic!("must not start"),
            _ => assert!(Instant::now() < deadline, "no failure reported"),
        }
    }
}

#[test]
fn dropping_a_running_worker_stops_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    common::write_disc_folder(&data, 6);
    let w = TrainWorker::start(job(&data, &tmp.path().join("run")), Box::new(|| {}));
    expect(&w, "a step", |e| matches!(e, TrainEvent::Progress(_)));
    drop(w); // joins: the test would hang if the thread ignored the stop
}

#[test]
fn a_run_stops_by_itself_at_max_steps() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    common::write_disc_folder(&data, 6);
    let mut j = job(&data, &tmp.path().join("run"));
    j.max_steps = Some(3);
    let w = TrainWorker::start(j, Box::new(|| {}));
    expect(&w, "stop at 3", |e| {
        matches!(
            e,
            TrainEvent::Stopped {
                step: 3,
                saved: true,
                ..
            }
        )
    });
    assert!(
        tmp.path()
            .join("run/generator/generator.safetensors")
            .exists()
    );
}

#[test]
fn divergence_pauses_and_rolls_back_to_the_last_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    common::write_disc_folder(&data, 6);
    let run = tmp.path().join("run");
    let mut j = job(&data, &run);
    poisoned_rate(config_of(&mut j));
    let w = TrainWorker::start(j, Box::new(|| {}));
    match expect(&w, "an automatic pause", |e| {
        matches!(
            e,
            TrainEvent::Paused {
                reason: Some(_),
                ..
            }
        )
    }) {
        TrainEvent::Paused { step, reason } => {
            let reason = reason.unwrap();
            assert!(
                reason.contains("diverged") && reason.contains("rolled back"),
                "{reason}"
            );
            assert_eq!(step, 0, "back to the start: no checkpoint was written yet");
        }
        _ => unreachable!(),
    }
    assert!(!run.join("checkpoint").exists(), "nothing broken was saved");
}

#[test]
fn a_resumed_job_applies_its_overrides_once() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    common::write_disc_folder(&data, 6);
    let run = tmp.path().join("run");
    let mut first = job(&data, &run);
    first.max_steps = Some(2);
    let w = TrainWorker::start(first, Box::new(|| {}));
    expect(&w, "the stop", |e| {
        matches!(e, TrainEvent::Stopped { saved: true, .. })
    });
    drop(w);
    let critic = || std::fs::read(run.join("checkpoint/critic.safetensors")).unwrap();
    let before = critic();

    let mut again = job(&data, &run);
    // Already there: it saves at once, so the saved critic differs only by the reset.
    again.max_steps = Some(2);
    again.spec = RunSpec::resume(RunChanges {
        lr: Some(1e-5),
        augment: Some(hitogata::train::Augment::ALL),
        reset_critic: true,
        ..Default::default()
    });
    let w = TrainWorker::start(again, Box::new(|| {}));
    match expect(&w, "the resumed start", |e| {
        matches!(e, TrainEvent::Started { .. })
    }) {
        TrainEvent::Started { step, config, .. } => {
            assert_eq!(step, 2);
            assert_eq!(config.optimizer_g.lr(), 1e-5);
            assert_eq!(config.augment, hitogata::train::Augment::ALL);
        }
        _ => unreachable!(),
    }
    expect(&w, "the stop", |e| {
        matches!(e, TrainEvent::Stopped { saved: true, .. })
    });
    drop(w);
    let text = std::fs::read_to_string(run.join("checkpoint/state.ron")).unwrap();
    let state: hitogata::train::TrainState = ron::from_str(&text).unwrap();
    assert_eq!(state.config.optimizer_c.lr(), 1e-5);
    assert_ne!(critic(), before);
}

#[test]
fn a_job_can_start_from_a_trained_generator_after_a_critic_warm_up() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut job, export) = job_from_trained_generator(tmp.path());
    config_of(&mut job).model.ngf = 6; // the generator's shapes replace the job's
    job.critic_warmup = 3;
    let w = TrainWorker::start(job, Box::new(|| {}));
    match expect(&w, "start", |e| matches!(e, TrainEvent::Started { .. })) {
        TrainEvent::Started { step, config, .. } => {
            assert_eq!(step, 0);
            assert_eq!(config.model.ngf, 4);
            assert_eq!(config.initial_generator, Some(export));
        }
        _ => unreachable!(),
    }
    // Every warm-up update is reported, in order, before the first step.
    let mut seen = Vec::new();
    loop {
        match expect(&w, "warm-up or step", |e| {
            matches!(e, TrainEvent::CriticWarmUp { .. } | TrainEvent::Progress(_))
        }) {
            TrainEvent::CriticWarmUp {
                done,
                total,
                critic_loss,
                ..
            } => {
                assert_eq!(total, 3);
                assert!(critic_loss.is_finite());
                seen.push(done);
            }
            TrainEvent::Progress(m) => {
                assert_eq!(m.step, 1);
                break;
            }
            _ => unreachable!(),
        }
    }
    assert_eq!(seen, vec![1, 2, 3]);
    w.send(TrainCommand::Stop { save: false });
    expect(&w, "stop", |e| matches!(e, TrainEvent::Stopped { .. }));
}

#[test]
fn a_rollback_to_the_start_warms_the_new_critic_up_again() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut job, _) = job_from_trained_generator(tmp.path());
    job.critic_warmup = 2;
    // The generator's first update, after the warm-up, poisons it.
    poisoned_rate(config_of(&mut job));
    let w = TrainWorker::start(job, Box::new(|| {}));
    let warmed = |w: &TrainWorker| {
        let mut seen = Vec::new();
        while seen.len() < 2 {
            if let TrainEvent::CriticWarmUp { done, .. } = expect(w, "warm-up", |e| {
                matches!(e, TrainEvent::CriticWarmUp { .. })
            }) {
                seen.push(done);
            }
        }
        seen
    };
    assert_eq!(warmed(&w), vec![1, 2]);
    expect(&w, "the rollback", |e| {
        matches!(
            e,
            TrainEvent::Paused {
                reason: Some(_),
                step: 0
            }
        )
    });
    // The critic is new again (nothing was saved), so resuming warms it up first.
    w.send(TrainCommand::Resume);
    assert_eq!(warmed(&w), vec![1, 2]);
    w.send(TrainCommand::Stop { save: false });
    expect(&w, "stop", |e| matches!(e, TrainEvent::Stopped { .. }));
}

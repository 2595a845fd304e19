//! The collapse warning: when it fires, that it fires once, re-arms after recovery, ignores
//! WGAN, and that a real DCGAN run whose discriminator wins raises it through the worker.

use crate::common;

use std::time::Duration;

use hitogata::device::DeviceChoice;
use hitogata::train::{
    Algorithm, CollapseChange, CollapseWatch, Metrics, RunSpec, TrainEvent, TrainJob, TrainWorker,
};
use hitogata::train::{COLLAPSE_REARM, COLLAPSE_THRESHOLD, COLLAPSE_WINDOW};

/// A healthy DCGAN discriminator loss: mostly 0.01–0.05 with spikes to 0.5 and dips to 0.004,
/// like the 250-step windows of our real runs.
fn healthy(step: u64) -> f32 {
    match step % 97 {
        0..=4 => 0.5,
        5..=9 => 0.004,
        k => 0.01 + 0.0004 * k as f32,
    }
}

fn metrics(step: u64, critic_loss: f32) -> Metrics {
    Metrics {
        step,
        critic_loss,
        ..Metrics::default()
    }
}

/// Feeds `losses` from `first_step` on; returns the steps at which it warned.
fn feed(watch: &mut CollapseWatch, first_step: u64, losses: &[f32]) -> Vec<u64> {
    losses
        .iter()
        .enumerate()
        .filter_map(
            |(i, &l)| match watch.observe(&metrics(first_step + i as u64, l)) {
                Some(CollapseChange::Suspected(w)) => Some(w),
                _ => None,
            },
        )
        .map(|w| {
            assert!(w.median_loss < COLLAPSE_THRESHOLD);
            w.step
        })
        .collect()
}

#[test]
fn a_healthy_run_never_warns() {
    let mut watch = CollapseWatch::new(Algorithm::Dcgan);
    let losses: Vec<f32> = (0..20_000).map(healthy).collect();
    assert!(feed(&mut watch, 1, &losses).is_empty());
    assert!(!watch.collapsed());
}

#[test]
fn a_winning_discriminator_warns_once_then_again_after_recovery() {
    let mut watch = CollapseWatch::new(Algorithm::Dcgan);
    let healthy_part: Vec<f32> = (0..3_000).map(healthy).collect();
    assert!(feed(&mut watch, 1, &healthy_part).is_empty());

    // The loss sinks to ~0.0005: the warning comes once the window's median is below the
    // threshold (a little over half a window in), and only once.
    let collapsed = vec![0.0005; 2_000];
    let warned = feed(&mut watch, 3_001, &collapsed);
    assert_eq!(warned.len(), 1, "{warned:?}");
    let at = warned[0] - 3_001;
    assert!(
        (COLLAPSE_WINDOW as u64 / 2..=COLLAPSE_WINDOW as u64).contains(&at),
        "warned {at} steps into the collapse"
    );
    assert!(watch.collapsed());

    // Hovering between the threshold and the re-arm level does not warn again...
    let hovering = vec![(COLLAPSE_THRESHOLD + COLLAPSE_REARM) / 2.0; 1_000];
    assert!(feed(&mut watch, 5_001, &hovering).is_empty());
    assert!(watch.collapsed());
    // ...a real recovery clears it once and re-arms it, and a second collapse warns again.
    let changes: Vec<CollapseChange> = (0..1_000)
        .filter_map(|i| watch.observe(&metrics(6_001 + i, healthy(i))))
        .collect();
    assert!(
        matches!(changes.as_slice(), [CollapseChange::Cleared { step }] if *step > 6_001),
        "{changes:?}"
    );
    assert!(!watch.collapsed());
    assert_eq!(feed(&mut watch, 7_001, &collapsed).len(), 1);
}

#[test]
fn wgan_runs_are_not_watched() {
    let mut watch = CollapseWatch::new(Algorithm::Wgan);
    assert!(feed(&mut watch, 1, &vec![0.0; 2_000]).is_empty());
    assert!(!watch.collapsed());
}

#[test]
fn a_resumed_history_that_ends_collapsed_is_reported() {
    let mut history: Vec<Metrics> = (1..=2_000).map(|s| metrics(s, healthy(s))).collect();
    let (_, warning) = CollapseWatch::over(Algorithm::Dcgan, &history);
    assert!(warning.is_none());

    history.extend((2_001..=2_600).map(|s| metrics(s, 0.0003)));
    let (watch, warning) = CollapseWatch::over(Algorithm::Dcgan, &history);
    let warning = warning.expect("the history ends collapsed");
    assert!(watch.collapsed());
    assert!((2_001..=2_600).contains(&warning.step));
    let text = warning.to_string();
    assert!(
        text.contains(&warning.step.to_string()) && text.contains("--critic-lr"),
        "{text}"
    );

    // A history that collapsed and recovered is not reported.
    history.extend((2_601..=3_600).map(|s| metrics(s, healthy(s))));
    assert!(CollapseWatch::over(Algorithm::Dcgan, &history).1.is_none());
}

/// A real run made to collapse: the generator hardly learns while a fast discriminator learns
/// to tell its pictures from the discs, so its loss sinks to ~0.
#[test]
fn a_real_dcgan_run_whose_discriminator_wins_raises_the_warning() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    common::write_disc_folder(&data, 16);
    let config = common::winning_discriminator_config();
    let worker = TrainWorker::start(
        TrainJob {
            device: DeviceChoice::Cpu,
            sample_every: 0,
            checkpoint_every: 0,
            max_steps: Some(3_000),
            ..TrainJob::new(data, dir.path().join("run"), RunSpec::new(config))
        },
        Box::new(|| {}),
    );
    let mut last_loss = f32::NAN;
    loop {
        match worker.recv_timeout(Duration::from_secs(120)) {
            Some(TrainEvent::CollapseSuspected(w)) => {
                assert!(w.median_loss < COLLAPSE_THRESHOLD);
                assert!(w.step >= COLLAPSE_WINDOW as u64);
                break;
            }
            Some(TrainEvent::Progress(m)) => last_loss = m.critic_loss,
            Some(TrainEvent::Stopped { step, .. }) => {
                panic!("no warning by step {step}; last discriminator loss {last_loss}")
            }
            Some(TrainEvent::Failed(e)) => panic!("{e}"),
            Some(_) => {}
            None => panic!("the worker went quiet"),
        }
    }
}

/// A resumed run whose history ends collapsed warns at once, and says so when its
/// discriminator's loss has come back up.
#[test]
fn the_worker_clears_the_warning_when_the_run_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    common::write_disc_folder(&data, 8);
    let run = dir.path().join("run");
    common::collapsed_history_run(&run);
    let worker = TrainWorker::start(
        TrainJob {
            device: DeviceChoice::Cpu,
            sample_every: 0,
            checkpoint_every: 0,
            max_steps: Some(500),
            ..TrainJob::new(data, run, RunSpec::resume(Default::default()))
        },
        Box::new(|| {}),
    );
    let mut warned = false;
    loop {
        match worker.recv_timeout(Duration::from_secs(120)) {
            Some(TrainEvent::CollapseSuspected(w)) => {
                assert!(!warned, "warned twice");
                assert_eq!(w.step, COLLAPSE_WINDOW as u64, "from the resumed history");
                warned = true;
            }
            Some(TrainEvent::CollapseCleared { step }) => {
                assert!(warned, "cleared before any warning");
                // Half the window of real (high) losses moves the median above the re-arm level.
                let real_steps = step - COLLAPSE_WINDOW as u64;
                assert!(
                    (COLLAPSE_WINDOW as u64 / 2..COLLAPSE_WINDOW as u64).contains(&real_steps),
                    "cleared after {real_steps} real steps"
                );
                break;
            }
            Some(TrainEvent::Stopped { step, .. }) => panic!("not cleared by step {step}"),
            Some(TrainEvent::Failed(e)) => panic!("{e}"),
            Some(_) => {}
            None => panic!("the worker went quiet"),
        }
    }
}

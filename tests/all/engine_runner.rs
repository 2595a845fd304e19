//! The one training loop, driven directly with a recording observer and a scripted control:
//! cadence, warm-up, stop, and the divergence policy.

use crate::common;

use std::collections::VecDeque;
use std::path::Path;

use hitogata::device::DeviceChoice;
use hitogata::train::runner::{self, RunControl, RunError};
use hitogata::train::{
    DivergencePolicy, RunChanges, RunSpec, TrainCommand, TrainError, TrainEvent, TrainJob,
};

/// Commands handed out one per turn, after `wait` quiet turns each.
struct Script {
    commands: VecDeque<(u32, TrainCommand)>,
    quiet: u32,
}

impl Script {
    fn none() -> Self {
        Self::of(vec![])
    }

    fn of(commands: Vec<(u32, TrainCommand)>) -> Self {
        Self {
            commands: commands.into(),
            quiet: 0,
        }
    }
}

impl RunControl for Script {
    fn poll(&mut self, _paused: bool) -> Option<TrainCommand> {
        let (wait, _) = self.commands.front()?;
        if self.quiet < *wait {
            self.quiet += 1;
            return None;
        }
        self.quiet = 0;
        self.commands.pop_front().map(|(_, c)| c)
    }
}

/// The events, one short line each (what a test can compare).
fn record(job: &TrainJob, control: &mut dyn RunControl) -> (Result<(), RunError>, Vec<String>) {
    let mut seen = Vec::new();
    let result = runner::run(job, control, &mut |e: TrainEvent| {
        seen.push(match e {
            TrainEvent::DataLoaded { images, .. } => format!("data {images}"),
            TrainEvent::Started { step, .. } => format!("started {step}"),
            TrainEvent::CriticWarmUp { done, .. } => format!("warm-up {done}"),
            TrainEvent::Progress(m) => format!("step {}", m.step),
            TrainEvent::Samples { step, images } => format!("samples {step} ({})", images.len()),
            TrainEvent::Checkpoint { step, .. } => format!("checkpoint {step}"),
            TrainEvent::Snapshot { step, .. } => format!("snapshot {step}"),
            TrainEvent::Paused { step, reason } => match reason {
                Some(r) if r.contains("rolled back") => format!("rolled back to {step}"),
                Some(r) => format!("paused {step}: {r}"),
                None => format!("paused {step}"),
            },
            TrainEvent::Resumed => "resumed".into(),
            TrainEvent::Stopped { step, saved, cause } => {
                format!("stopped {step} saved {saved} {cause:?}")
            }
            other => format!("{other:?}"),
        })
    });
    (result, seen)
}

fn job(data: &Path, run: &Path, spec: RunSpec) -> TrainJob {
    TrainJob {
        device: DeviceChoice::Cpu,
        sample_every: 2,
        checkpoint_every: 3,
        snapshot_every: 2,
        max_steps: Some(5),
        ..TrainJob::new(data, run, spec)
    }
}

fn folder(images: u32) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    common::write_disc_folder(&data, images);
    let run = tmp.path().join("run");
    (tmp, data, run)
}

#[test]
fn a_run_keeps_its_cadence_and_saves_at_the_end() {
    let (_tmp, data, run) = folder(6);
    let spec = RunSpec::new(common::tiny_train_config());
    let (result, events) = record(&job(&data, &run, spec), &mut Script::none());
    result.unwrap();
    assert_eq!(
        events,
        [
            "data 6",
            "started 0",
            "samples 0 (4)",
            "step 1",
            "step 2",
            "samples 2 (4)",
            "snapshot 2",
            "step 3",
            "checkpoint 3",
            "step 4",
            "samples 4 (4)",
            "snapshot 4",
            "step 5",
            "samples 5 (4)",
            "checkpoint 5",
            "stopped 5 saved true Finished",
        ]
    );
    for file in [
        "samples/step-000000.png",
        "samples/step-000005.png",
        "snapshots/step-000002/generator.safetensors",
        "snapshots/step-000004/generator.safetensors",
        "generator/generator.safetensors",
    ] {
        assert!(run.join(file).is_file(), "{file}");
    }
    assert_eq!(common::saved_state(&run).step, 5);
    // The sample grids remember their latent vectors.
    let grid = hitogata::picture_state::read_state(&run.join("samples/step-000005.png")).unwrap();
    assert_eq!(grid.latents.len(), 4);

    // Resumed to 7, with a critic warm-up first; a stop command ends it early, saving.
    let mut more = job(&data, &run, RunSpec::resume(RunChanges::default()));
    more.max_steps = Some(7);
    more.critic_warmup = 2;
    let stop = TrainCommand::Stop { save: true };
    let (result, events) = record(&more, &mut Script::of(vec![(3, stop)]));
    result.unwrap();
    assert_eq!(
        events,
        [
            "data 6",
            "started 5",
            "warm-up 1",
            "warm-up 2",
            "step 6",
            "samples 6 (4)",
            "checkpoint 6",
            "snapshot 6",
            "samples 6 (4)",
            "checkpoint 6",
            "stopped 6 saved true Asked",
        ]
    );
}

#[test]
fn a_new_run_refuses_a_folder_that_holds_one_and_a_resume_needs_one() {
    let (_tmp, data, run) = folder(4);
    let resume = job(&data, &run, RunSpec::resume(RunChanges::default()));
    match record(&resume, &mut Script::none()).0 {
        Err(RunError::RunDir(m)) => assert!(m.contains("nothing to resume"), "{m}"),
        other => panic!("{other:?}"),
    }
    let mut new = job(&data, &run, RunSpec::new(common::tiny_train_config()));
    new.max_steps = Some(1);
    record(&new, &mut Script::none()).0.unwrap();
    let before = std::fs::read(run.join("checkpoint/state.ron")).unwrap();
    match record(&new, &mut Script::none()).0 {
        Err(RunError::RunDir(m)) => assert!(m.contains("already holds a checkpoint"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        std::fs::read(run.join("checkpoint/state.ron")).unwrap(),
        before
    );
}

/// A run saved at step 2, and a job resuming it whose generator rate sends its weights to
/// infinity at its first update: the losses of that step are still finite, so only the check
/// of the weights before the next save catches it.
fn poisoned_resume(policy: DivergencePolicy) -> (tempfile::TempDir, std::path::PathBuf, TrainJob) {
    let (tmp, data, run) = folder(6);
    let mut first = job(&data, &run, RunSpec::new(common::tiny_train_config()));
    first.max_steps = Some(2);
    record(&first, &mut Script::none()).0.unwrap();
    let poison = RunChanges {
        lr: Some(1e38),
        ..RunChanges::default()
    };
    let mut resumed = job(&data, &run, RunSpec::resume(poison));
    resumed.checkpoint_every = 1;
    resumed.on_divergence = policy;
    (tmp, run, resumed)
}

#[test]
fn a_diverged_run_stops_and_keeps_the_last_checkpoint() {
    let (_tmp, run, job) = poisoned_resume(DivergencePolicy::Stop);
    let saved = std::fs::read(run.join("checkpoint/generator.safetensors")).unwrap();
    let (result, events) = record(&job, &mut Script::none());
    match result {
        Err(RunError::Train(TrainError::Diverged { .. })) => {}
        other => panic!("expected a divergence, got {other:?} after {events:?}"),
    }
    assert!(
        !events.iter().any(|e| e.starts_with("checkpoint")),
        "{events:?}"
    );
    assert_eq!(
        std::fs::read(run.join("checkpoint/generator.safetensors")).unwrap(),
        saved,
        "the broken weights were not saved"
    );
    assert_eq!(common::saved_state(&run).step, 2);
}

#[test]
fn a_diverged_run_can_roll_back_and_pause_instead() {
    let (_tmp, run, job) = poisoned_resume(DivergencePolicy::RollBackAndPause);
    let saved = std::fs::read(run.join("checkpoint/generator.safetensors")).unwrap();
    // Once paused, the user stops it without saving.
    let stop = TrainCommand::Stop { save: false };
    let (result, events) = record(&job, &mut Script::of(vec![(20, stop)]));
    result.unwrap();
    let rolled = events.iter().position(|e| e == "rolled back to 2");
    assert!(rolled.is_some(), "{events:?}");
    assert_eq!(events.last().unwrap(), "stopped 2 saved false Asked");
    assert!(
        !events.iter().any(|e| e.starts_with("checkpoint")),
        "{events:?}"
    );
    assert_eq!(
        std::fs::read(run.join("checkpoint/generator.safetensors")).unwrap(),
        saved
    );
}

#[test]
fn a_critic_whose_loss_blows_up_stops_the_run() {
    // WGAN with clipping turned into a loose bound and a huge critic rate: the critic's loss
    // blows up (past the exploding bound, or to infinity).
    let (_tmp, data, run) = folder(6);
    let mut config = common::tiny_train_config();
    config.clip = 1e30;
    config.optimizer_c = config.optimizer_c.with_lr(1e12);
    let mut job = job(&data, &run, RunSpec::new(config));
    job.max_steps = Some(50);
    job.checkpoint_every = 0;
    job.snapshot_every = 0;
    let (result, events) = record(&job, &mut Script::none());
    match result {
        Err(RunError::Train(e @ TrainError::Diverged { .. })) => {
            assert!(e.to_string().contains("critic loss"), "{e}")
        }
        other => panic!("expected a divergence, got {other:?} after {events:?}"),
    }
    assert!(!run.join("checkpoint").exists());
}

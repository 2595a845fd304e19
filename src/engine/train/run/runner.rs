//! The one training loop, for the CLI and the app alike: data, session, critic warm-up, the
//! cadence of samples, checkpoints and snapshots, the collapse watch, the divergence policy,
//! pause and stop. It reports to an observer and takes commands from a control.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use crate::engine::device::{Backend, ComputeDevice, DeviceError, select_device};
use crate::engine::files::data::{DataError, Dataset};
use crate::engine::train::changes::RunChanges;
use crate::engine::train::run::collapse::{CollapseChange, CollapseWatch};
use crate::engine::train::run::events::{StopCause, TrainCommand, TrainEvent};
use crate::engine::train::run::run_dir::RunDir;
use crate::engine::train::run::spec::{DivergencePolicy, RunSpec, RunStart, TrainJob};
use crate::engine::train::session::{TrainError, TrainingSession};
use crate::engine::train::state::Metrics;

/// How a pause for a lost remote server starts (the app offers to reconnect after it).
pub const CONNECTION_LOST: &str = "lost the connection to the remote server";

/// A critic loss this large means the run has blown up even if it is still finite.
pub const EXPLODED: f32 = 1e6;

/// Where a run's events go.
pub trait RunObserver {
    /// One event, in order.
    fn on_event(&mut self, event: TrainEvent);
}

impl<F: FnMut(TrainEvent)> RunObserver for F {
    fn on_event(&mut self, event: TrainEvent) {
        self(event)
    }
}

/// Where a run's commands come from.
pub trait RunControl {
    /// The next command: waits a little for one when `paused`, else only looks.
    fn poll(&mut self, paused: bool) -> Option<TrainCommand>;
    /// Told around each step and warm-up update (the app shows it).
    fn set_busy(&mut self, _busy: bool) {}
    /// Whether someone can answer a pause (the app can; a script cannot). A run that lost its
    /// remote server then waits to reconnect instead of ending.
    fn interactive(&self) -> bool {
        false
    }
}

/// A channel of commands (the app's worker); a closed channel stops the run without saving.
impl RunControl for Receiver<TrainCommand> {
    fn poll(&mut self, paused: bool) -> Option<TrainCommand> {
        let stop = TrainCommand::Stop { save: false };
        if paused {
            match self.recv_timeout(Duration::from_millis(200)) {
                Ok(c) => Some(c),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => Some(stop),
            }
        } else {
            match self.try_recv() {
                Ok(c) => Some(c),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => Some(stop),
            }
        }
    }
}

/// Why a run could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The image folder.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The device.
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// Training itself.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// A new run in a folder that holds one, or nothing to resume.
    #[error("{0}")]
    RunDir(String),
    /// Writing samples or snapshots.
    #[error("{0}")]
    Io(String),
    /// The remote server went away mid-run.
    #[error(
        "{CONNECTION_LOST} ({0}); the last checkpoint on disk is intact: resume the run when the server is back"
    )]
    Connection(String),
}

/// Runs `job` to its end: its step limit, a stop command, or an error. Everything it does is
/// reported to `observer`; a `Stop` from `control` ends it between steps.
pub fn run(
    job: &TrainJob,
    control: &mut dyn RunControl,
    observer: &mut dyn RunObserver,
) -> Result<(), RunError> {
    let run_dir = RunDir::new(&job.run);
    match (job.spec.resumes(), run_dir.has_checkpoint()) {
        (false, true) => {
            return Err(RunError::RunDir(format!(
                "{} already holds a checkpoint: resume it, or choose another run folder",
                job.run.display()
            )));
        }
        (true, false) => {
            return Err(RunError::RunDir(format!(
                "nothing to resume: {} holds no checkpoint",
                job.run.display()
            )));
        }
        _ => {}
    }
    let started = Instant::now();
    let shape = job.spec.picture_shape(&job.run)?;
    let data = Dataset::load_folder_as(&job.data, job.square, shape)?;
    let shown = data.len.min(16);
    observer.on_event(TrainEvent::DataLoaded {
        images: data.len,
        skipped: data.skipped.clone(),
        preview: (0..shown)
            .map(|i| data.image(i * data.len / shown))
            .collect(),
        seconds: started.elapsed().as_secs_f32(),
    });
    let device = select_device(&job.device)?;
    let session = job.spec.build(&job.run, Arc::new(data), &device.device)?;
    Runner {
        job,
        run_dir,
        device,
        session,
        control,
        observer,
        sample_every: job.sample_every,
        paused: false,
        warmup_done: 0,
        saved: false,
        lost: false,
    }
    .go()
}

struct Runner<'a> {
    job: &'a TrainJob,
    run_dir: RunDir,
    device: ComputeDevice,
    session: TrainingSession,
    control: &'a mut dyn RunControl,
    observer: &'a mut dyn RunObserver,
    sample_every: u64,
    paused: bool,
    warmup_done: u64,
    /// Whether this run has written a checkpoint (a rollback returns to it).
    saved: bool,
    /// The remote server is gone: the run waits to reconnect.
    lost: bool,
}

/// What the loop does after one turn.
enum Flow {
    Continue,
    Stop,
}

impl Runner<'_> {
    fn go(mut self) -> Result<(), RunError> {
        let s = &self.session;
        self.observer.on_event(TrainEvent::Started {
            step: s.step_count(),
            device: self.device.description.clone(),
            config: s.config().clone(),
            history: s.history().to_vec(),
            augment_share: s.augment_share(),
        });
        let mut watch = self.watch();
        if self.session.step_count() == 0 && self.sample_every > 0 {
            self.samples()?;
        }
        loop {
            match self.guarded_turn(&mut watch) {
                Ok(Flow::Continue) => {}
                Ok(Flow::Stop) => return Ok(()),
                Err(RunError::Connection(what)) if self.control.interactive() => {
                    self.lost = true;
                    self.paused = true;
                    self.pause_event(Some(format!(
                        "{CONNECTION_LOST} ({what}); the last checkpoint is intact. Resume \
                         reconnects and goes on from it"
                    )));
                }
                Err(RunError::Train(TrainError::Diverged { step, what, value }))
                    if self.job.on_divergence == DivergencePolicy::RollBackAndPause =>
                {
                    self.roll_back(format!("diverged at step {step}: {what} is {value}"))?;
                    watch = self.watch();
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// [`turn`](Self::turn); on a remote device, a panic is burn reporting a dead connection
    /// (its tensor operations cannot return errors), so it becomes [`RunError::Connection`].
    fn guarded_turn(&mut self, watch: &mut CollapseWatch) -> Result<Flow, RunError> {
        if self.device.backend != Backend::Remote {
            return self.turn(watch);
        }
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.turn(watch)))
            .unwrap_or_else(|payload| Err(RunError::Connection(panic_text(payload.as_ref()))))
    }

    /// One command, then one warm-up update or one step with what follows it.
    fn turn(&mut self, watch: &mut CollapseWatch) -> Result<Flow, RunError> {
        if self.lost {
            return self.while_lost(watch);
        }
        if let Some(command) = self.control.poll(self.paused) {
            match command {
                TrainCommand::Pause if !self.paused => {
                    self.paused = true;
                    self.pause_event(None);
                }
                TrainCommand::Resume if self.paused => {
                    self.paused = false;
                    self.observer.on_event(TrainEvent::Resumed);
                }
                TrainCommand::SaveNow => self.checkpoint()?,
                TrainCommand::SampleEvery(n) => self.sample_every = n,
                TrainCommand::Stop { save } => {
                    self.stop(save, StopCause::Asked)?;
                    return Ok(Flow::Stop);
                }
                TrainCommand::Pause | TrainCommand::Resume => {}
            }
        }
        if self.paused {
            return Ok(Flow::Continue);
        }
        if (self.job.max_steps).is_some_and(|m| self.session.step_count() >= m) {
            self.stop(true, StopCause::Finished)?;
            return Ok(Flow::Stop);
        }
        if self.warmup_done < self.job.critic_warmup {
            self.warm_up()?;
            return Ok(Flow::Continue);
        }
        self.control.set_busy(true);
        let result = self.session.step().and_then(exploded);
        self.control.set_busy(false);
        self.after_step(&result?, watch)?;
        Ok(Flow::Continue)
    }

    fn watch(&mut self) -> CollapseWatch {
        let (watch, already) =
            CollapseWatch::over(self.session.config().algorithm, self.session.history());
        if let Some(w) = already {
            self.observer.on_event(TrainEvent::CollapseSuspected(w));
        }
        watch
    }

    fn warm_up(&mut self) -> Result<(), RunError> {
        self.control.set_busy(true);
        let result = self.session.warm_up_critic();
        self.control.set_busy(false);
        let (critic_loss, gap) = result?;
        self.warmup_done += 1;
        self.observer.on_event(TrainEvent::CriticWarmUp {
            done: self.warmup_done,
            total: self.job.critic_warmup,
            critic_loss,
            gap,
        });
        Ok(())
    }

    fn after_step(&mut self, m: &Metrics, watch: &mut CollapseWatch) -> Result<(), RunError> {
        self.observer.on_event(TrainEvent::Progress(*m));
        match watch.observe(m) {
            Some(CollapseChange::Suspected(w)) => {
                self.observer.on_event(TrainEvent::CollapseSuspected(w))
            }
            Some(CollapseChange::Cleared { step }) => {
                self.observer.on_event(TrainEvent::CollapseCleared { step })
            }
            None => {}
        }
        let every = |n: u64| n > 0 && m.step.is_multiple_of(n);
        if every(self.sample_every) {
            self.samples()?;
        }
        if every(self.job.checkpoint_every) {
            self.checkpoint()?;
        }
        if every(self.job.snapshot_every) {
            self.session.check_weights()?;
            let dir = self.run_dir.save_snapshot(&self.session)?;
            self.observer
                .on_event(TrainEvent::Snapshot { step: m.step, dir });
        }
        Ok(())
    }

    fn samples(&mut self) -> Result<(), RunError> {
        let step = self.session.step_count();
        let images = self.run_dir.save_samples(&self.session).map_err(|e| {
            RunError::Io(format!(
                "cannot write {}: {e}",
                self.run_dir.sample_path(step).display()
            ))
        })?;
        self.observer.on_event(TrainEvent::Samples { step, images });
        Ok(())
    }

    fn checkpoint(&mut self) -> Result<(), RunError> {
        // Weights a step sent to infinity are never saved over a good checkpoint.
        self.session.check_weights()?;
        self.run_dir.save(&self.session)?;
        self.saved = true;
        self.observer.on_event(TrainEvent::Checkpoint {
            step: self.session.step_count(),
            run: self.job.run.clone(),
        });
        Ok(())
    }

    fn stop(&mut self, save: bool, cause: StopCause) -> Result<(), RunError> {
        if save {
            self.session.check_weights()?;
            self.samples()?;
            self.checkpoint()?;
        }
        self.observer.on_event(TrainEvent::Stopped {
            step: self.session.step_count(),
            saved: save,
            cause,
        });
        Ok(())
    }

    fn pause_event(&mut self, reason: Option<String>) {
        self.observer.on_event(TrainEvent::Paused {
            step: self.session.step_count(),
            reason,
        });
    }

    /// Paused without a server: Resume reconnects and rebuilds from the last checkpoint; Stop
    /// ends without saving (the weights were on the server); the rest waits.
    fn while_lost(&mut self, watch: &mut CollapseWatch) -> Result<Flow, RunError> {
        match self.control.poll(true) {
            Some(TrainCommand::Resume) if !self.job.device.reconnects_in_process() => self
                .pause_event(Some(format!(
                    "{CONNECTION_LOST}: a websocket session cannot be reopened in a running \
                     hitogata (burn 0.22); stop, restart hitogata and resume the run (over iroh, \
                     Resume reconnects in place)"
                ))),
            Some(TrainCommand::Resume) => match select_device(&self.job.device) {
                Ok(device) => {
                    self.device = device;
                    let old = self.rebuild()?;
                    // Dropping tensors of the dead session talks to it: keep that quiet.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(old)));
                    self.lost = false;
                    let to = self.rebuild_description();
                    self.pause_event(Some(format!("reconnected; went back to {to}")));
                    self.paused = false;
                    *watch = self.watch();
                    self.observer.on_event(TrainEvent::Resumed);
                }
                Err(e) => self.pause_event(Some(format!(
                    "{CONNECTION_LOST}, and reconnecting failed: {e}"
                ))),
            },
            Some(TrainCommand::Stop { .. }) => {
                self.observer.on_event(TrainEvent::Stopped {
                    step: self.session.step_count(),
                    saved: false,
                    cause: StopCause::Asked,
                });
                return Ok(Flow::Stop);
            }
            _ => {}
        }
        Ok(Flow::Continue)
    }

    /// Rebuilds the session from this run's last checkpoint, or from the job's start when it
    /// has saved none (the job's changes and critic warm-up then apply again), and pauses.
    fn roll_back(&mut self, what: String) -> Result<(), RunError> {
        let to = self.rebuild_description();
        drop(self.rebuild()?);
        self.paused = true;
        self.pause_event(Some(format!("{what}; rolled back to {to}")));
        Ok(())
    }

    fn rebuild_description(&self) -> &'static str {
        if self.saved {
            "the last checkpoint"
        } else if self.job.spec.start == RunStart::Resume {
            "the checkpoint it resumed"
        } else {
            "the start"
        }
    }

    /// A new session on `self.device` from the last checkpoint (or the job's start); returns
    /// the old one.
    fn rebuild(&mut self) -> Result<TrainingSession, RunError> {
        let data = self.session.data().clone();
        let spec = if self.saved {
            // The checkpoint holds every change already.
            RunSpec::resume(RunChanges::default())
        } else {
            self.job.spec.clone()
        };
        let fresh = spec.build(&self.job.run, data, &self.device.device)?;
        if !self.saved {
            self.warmup_done = 0;
        }
        Ok(std::mem::replace(&mut self.session, fresh))
    }
}

/// What a panic on a remote device said, in a line: burn's own text is several lines of
/// advice for programmers, the last of which names the failure.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    format!("the server stopped answering: {}", last.trim())
}

/// A finite but huge critic loss is a divergence too.
fn exploded(m: Metrics) -> Result<Metrics, TrainError> {
    if m.critic_loss.abs() > EXPLODED {
        Err(TrainError::Diverged {
            step: m.step,
            what: "the critic loss (exploding)",
            value: m.critic_loss,
        })
    } else {
        Ok(m)
    }
}

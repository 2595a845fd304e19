//! A training run on its own thread, driven by typed commands and reporting typed events.
//! The worker calls `wake` after each event (the app sets it to `ctx.request_repaint`).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use image::RgbImage;

use crate::engine::checkpoint;
use crate::engine::data::{Dataset, Skipped, SquareMode};
use crate::engine::device::{DeviceChoice, select_device};
use crate::engine::model::OutputPalette;
use crate::engine::train::collapse::{CollapseChange, CollapseWarning, CollapseWatch};
use crate::engine::train::config::TrainConfig;
use crate::engine::train::overrides::ResumeOverrides;
use crate::engine::train::run_dir::RunDir;
use crate::engine::train::session::{Metrics, TrainError, TrainingSession};

/// What to train.
#[derive(Clone, Debug)]
pub struct TrainJob {
    /// Image folder.
    pub data: PathBuf,
    /// Run directory.
    pub run: PathBuf,
    /// Configuration (ignored when resuming: the checkpoint's is used).
    pub config: TrainConfig,
    /// Continue the run directory's checkpoint.
    pub resume: bool,
    /// Changes to a resumed run (rates, augmentation, a fresh critic...); ignored for new runs.
    pub overrides: ResumeOverrides,
    /// Device.
    pub device: DeviceChoice,
    /// Sample grid every N steps (0: never).
    pub sample_every: u64,
    /// Checkpoint every N steps (0: only on demand and at stop).
    pub checkpoint_every: u64,
    /// Stop (and save) after this many steps in total, if set.
    pub max_steps: Option<u64>,
    /// A new run's generator starts from this trained one (a checkpoint, run directory or
    /// export; its shapes replace the config's, except that the config's latent mapping is
    /// added to a generator that has none), with a new critic. Ignored when resuming.
    pub init_generator: Option<PathBuf>,
    /// With `init_generator`: widen it to this ngf first (the same pictures, more capacity;
    /// see [`widen_generator`](crate::engine::model::widen_generator)).
    pub widen_ngf: Option<usize>,
    /// A new run's generator ends with an output palette of the data's N most frequent colours,
    /// this wide (see [`OutputPalette`]), made once the data is loaded; for `init_generator`
    /// it replaces the loaded generator's. Ignored when resuming.
    pub palette: Option<(usize, f32)>,
    /// Critic-only updates before the first generator step (see
    /// [`TrainingSession::warm_up_critic`]).
    pub critic_warmup: u64,
}

/// Commands to a running worker.
#[derive(Clone, Debug, PartialEq)]
pub enum TrainCommand {
    /// Hold after the current step.
    Pause,
    /// Go on.
    Resume,
    /// Save a checkpoint after the current step.
    SaveNow,
    /// Change the sample interval.
    SampleEvery(u64),
    /// End the run, saving a checkpoint first if asked.
    Stop {
        /// Save before stopping.
        save: bool,
    },
}

/// What the worker reports.
// `Started` (with the whole configuration) is sent once per run; the others are small.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum TrainEvent {
    /// The dataset loaded.
    DataLoaded {
        /// Usable images.
        images: usize,
        /// Files that could not be read.
        skipped: Vec<Skipped>,
        /// A few real pictures.
        preview: Vec<RgbImage>,
    },
    /// Training is about to run its first step.
    Started {
        /// Step it starts from (non-zero when resuming).
        step: u64,
        /// Device description.
        device: String,
        /// The configuration in effect.
        config: TrainConfig,
        /// Metrics so far (when resuming).
        history: Vec<Metrics>,
    },
    /// One critic-only warm-up update done (see [`TrainJob::critic_warmup`]).
    CriticWarmUp {
        /// Updates done.
        done: u64,
        /// Updates asked for.
        total: u64,
        /// Its critic loss.
        critic_loss: f32,
    },
    /// One step done.
    Progress(Metrics),
    /// The discriminator has been winning for a while: the run is likely collapsing. Training
    /// goes on (the user decides); sent once until the run recovers.
    CollapseSuspected(CollapseWarning),
    /// The discriminator's loss has come back up after a [`TrainEvent::CollapseSuspected`]
    /// (its median is above [`COLLAPSE_REARM`](crate::engine::train::collapse::COLLAPSE_REARM)
    /// again): the warning no longer applies.
    CollapseCleared {
        /// The step at which it was noticed.
        step: u64,
    },
    /// A fixed-z sample grid.
    Samples {
        /// Step it shows.
        step: u64,
        /// One picture per fixed latent.
        images: Vec<RgbImage>,
    },
    /// A checkpoint was written.
    Checkpoint {
        /// Step saved.
        step: u64,
        /// Run directory.
        run: PathBuf,
    },
    /// The run is paused (by request, or because it diverged: then `reason` says why and the
    /// weights were rolled back to the last checkpoint).
    Paused {
        /// Step it holds at.
        step: u64,
        /// Why, if not asked for.
        reason: Option<String>,
    },
    /// Going again after a pause.
    Resumed,
    /// The run could not start or go on.
    Failed(String),
    /// The run ended.
    Stopped {
        /// Last step.
        step: u64,
        /// Whether a checkpoint was written at the end.
        saved: bool,
    },
}

/// Handle to a training thread. Dropping it stops the run (without saving) and joins.
pub struct TrainWorker {
    commands: Sender<TrainCommand>,
    events: Receiver<TrainEvent>,
    busy: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TrainWorker {
    /// Starts `job` on a new thread.
    pub fn start(job: TrainJob, wake: Box<dyn Fn() + Send>) -> Self {
        let (commands, command_rx) = channel();
        let (event_tx, events) = channel();
        let busy = Arc::new(AtomicBool::new(false));
        let thread_busy = busy.clone();
        let thread = std::thread::Builder::new()
            .name("hitogata-training".into())
            .spawn(move || {
                let send = |e: TrainEvent| {
                    let _ = event_tx.send(e);
                    wake();
                };
                if let Err(message) = run(job, &command_rx, &send, &thread_busy) {
                    send(TrainEvent::Failed(message));
                }
            })
            .expect("spawn training thread");
        Self {
            commands,
            events,
            busy,
            thread: Some(thread),
        }
    }

    /// Sends a command (ignored once the run has ended).
    pub fn send(&self, command: TrainCommand) {
        let _ = self.commands.send(command);
    }

    /// The next event, if any.
    pub fn try_recv(&self) -> Option<TrainEvent> {
        self.events.try_recv().ok()
    }

    /// Waits for the next event.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<TrainEvent> {
        self.events.recv_timeout(timeout).ok()
    }

    /// True while a training step is running.
    pub fn in_step(&self) -> bool {
        self.busy.load(Ordering::SeqCst)
    }

    /// Whether the thread has ended.
    pub fn finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }
}

impl Drop for TrainWorker {
    fn drop(&mut self) {
        let _ = self.commands.send(TrainCommand::Stop { save: false });
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A critic loss this large means the run has blown up even if it is still finite.
const EXPLODED: f32 = 1e6;

fn run(
    job: TrainJob,
    commands: &Receiver<TrainCommand>,
    send: &dyn Fn(TrainEvent),
    busy: &AtomicBool,
) -> Result<(), String> {
    let data = Dataset::load_folder(&job.data, SquareMode::Pad).map_err(|e| e.to_string())?;
    let preview = (0..data.len.min(16))
        .map(|i| data.image(i * data.len / data.len.min(16)))
        .collect();
    send(TrainEvent::DataLoaded {
        images: data.len,
        skipped: data.skipped.clone(),
        preview,
    });
    let data = Arc::new(data);
    let device = select_device(job.device).map_err(|e| e.to_string())?;
    let run_dir = RunDir::new(&job.run);
    if !job.resume && run_dir.has_checkpoint() {
        return Err(format!(
            "{} already holds a checkpoint: resume it or choose another run folder",
            job.run.display()
        ));
    }
    // Reopens the checkpoint with the job's changes; the critic reset only until a checkpoint
    // holding the fresh critic has been saved.
    let resume = |data: Arc<Dataset>, overrides: &ResumeOverrides| {
        let mut session = TrainingSession::resume(&job.run, data, &device.device)?;
        overrides.apply(&mut session)?;
        Ok::<_, TrainError>(session)
    };
    // A new run: random weights, or the generator it starts from.
    let fresh = |data: Arc<Dataset>| {
        let palette = job
            .palette
            .map(|(size, width)| OutputPalette::most_frequent(&data.pixels, size, width))
            .transpose()
            .map_err(TrainError::Config)?;
        let mut config = job.config.clone();
        if let Some(dir) = &job.init_generator {
            let shapes = checkpoint::read_model_config(dir)?;
            config = config.with_generator_shapes(&shapes);
            if let Some(ngf) = job.widen_ngf {
                config.model.ngf = ngf;
            }
            if shapes.latent_mapping.is_none() {
                config.model.latent_mapping = job.config.model.latent_mapping;
            }
        }
        if palette.is_some() {
            config.model.output_palette = palette;
        }
        match &job.init_generator {
            Some(dir) => TrainingSession::from_generator(config, dir, data, &device.device),
            None => TrainingSession::new(config, data, &device.device),
        }
    };
    let mut session = if job.resume {
        resume(data.clone(), &job.overrides)
    } else {
        fresh(data.clone())
    }
    .map_err(|e| e.to_string())?;
    let mut warmup_done = 0;
    let mut resumable = job.resume;
    let mut saved_since_start = false;
    send(TrainEvent::Started {
        step: session.step_count(),
        device: device.description.clone(),
        config: session.config().clone(),
        history: session.history().to_vec(),
    });
    let mut sample_every = job.sample_every;
    let mut paused = false;
    let (mut watch, already) = CollapseWatch::over(session.config().algorithm, session.history());
    if let Some(w) = already {
        send(TrainEvent::CollapseSuspected(w));
    }
    let emit_samples = |session: &TrainingSession| match run_dir.save_samples(session) {
        Ok(images) => send(TrainEvent::Samples {
            step: session.step_count(),
            images,
        }),
        Err(e) => send(TrainEvent::Failed(format!("cannot write samples: {e}"))),
    };
    let save = |session: &TrainingSession| -> Result<(), String> {
        run_dir.save(session).map_err(|e| e.to_string())?;
        send(TrainEvent::Checkpoint {
            step: session.step_count(),
            run: job.run.clone(),
        });
        Ok(())
    };
    if session.step_count() == 0 && sample_every > 0 {
        emit_samples(&session);
    }
    loop {
        // Commands: wait for them while paused, peek between steps otherwise.
        let command = if paused {
            match commands.recv_timeout(Duration::from_millis(200)) {
                Ok(c) => Some(c),
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => Some(TrainCommand::Stop { save: false }),
            }
        } else {
            commands.try_recv().ok()
        };
        match command {
            Some(TrainCommand::Pause) => {
                paused = true;
                send(TrainEvent::Paused {
                    step: session.step_count(),
                    reason: None,
                });
                continue;
            }
            Some(TrainCommand::Resume) if paused => {
                paused = false;
                send(TrainEvent::Resumed);
            }
            Some(TrainCommand::SaveNow) => {
                save(&session)?;
                resumable = true;
                saved_since_start = true;
            }
            Some(TrainCommand::SampleEvery(n)) => sample_every = n,
            Some(TrainCommand::Stop { save: wanted }) => {
                let saved = wanted && save(&session).is_ok();
                send(TrainEvent::Stopped {
                    step: session.step_count(),
                    saved,
                });
                return Ok(());
            }
            Some(TrainCommand::Resume) | None => {}
        }
        if paused {
            continue;
        }
        if job.max_steps.is_some_and(|m| session.step_count() >= m) {
            save(&session)?;
            send(TrainEvent::Stopped {
                step: session.step_count(),
                saved: true,
            });
            return Ok(());
        }
        if warmup_done < job.critic_warmup {
            busy.store(true, Ordering::SeqCst);
            let result = session.warm_up_critic();
            busy.store(false, Ordering::SeqCst);
            let (critic_loss, _) = result.map_err(|e| e.to_string())?;
            warmup_done += 1;
            send(TrainEvent::CriticWarmUp {
                done: warmup_done,
                total: job.critic_warmup,
                critic_loss,
            });
            continue;
        }
        busy.store(true, Ordering::SeqCst);
        let result = session.step().and_then(|m| {
            if m.critic_loss.abs() > EXPLODED {
                Err(TrainError::Diverged {
                    step: m.step,
                    what: "the critic loss (exploding)",
                    value: m.critic_loss,
                })
            } else {
                Ok(m)
            }
        });
        busy.store(false, Ordering::SeqCst);
        match result {
            Ok(metrics) => {
                send(TrainEvent::Progress(metrics));
                match watch.observe(&metrics) {
                    Some(CollapseChange::Suspected(w)) => send(TrainEvent::CollapseSuspected(w)),
                    Some(CollapseChange::Cleared { step }) => {
                        send(TrainEvent::CollapseCleared { step })
                    }
                    None => {}
                }
                let step = metrics.step;
                if sample_every > 0 && step % sample_every == 0 {
                    emit_samples(&session);
                }
                if job.checkpoint_every > 0 && step % job.checkpoint_every == 0 {
                    save(&session)?;
                    resumable = true;
                    saved_since_start = true;
                }
            }
            Err(TrainError::Diverged { step, what, value }) => {
                // The weights are garbage: roll back to the last checkpoint (or a fresh start).
                let reason = format!(
                    "diverged at step {step}: {what} is {value}; rolled back to {}",
                    if resumable {
                        "the last checkpoint"
                    } else {
                        "the start"
                    }
                );
                session = if resumable {
                    let overrides = match (job.resume, saved_since_start) {
                        (false, _) => ResumeOverrides::default(),
                        (true, false) => job.overrides.clone(),
                        (true, true) => job.overrides.without_reset(),
                    };
                    resume(data.clone(), &overrides).map_err(|e| e.to_string())?
                } else {
                    fresh(data.clone()).map_err(|e| e.to_string())?
                };
                if !saved_since_start {
                    // Back to the job's own starting point, critic included: warm it up again.
                    warmup_done = 0;
                }
                paused = true;
                watch = CollapseWatch::over(session.config().algorithm, session.history()).0;
                send(TrainEvent::Paused {
                    step: session.step_count(),
                    reason: Some(reason),
                });
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

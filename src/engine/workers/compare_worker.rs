//! Other generators beside the explorer's, on their own thread: a second checkpoint (A/B) or
//! a run's snapshots ("this face through training"). Loading replaces what was loaded; for
//! drawing the newest request wins. Events wake the UI through `wake`, as the inference
//! worker's do.

use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::time::Instant;

use image::RgbImage;

use crate::engine::device::{DeviceChoice, cpu_device, select_device};
use crate::engine::draw::snapshots::Timeline;
use crate::engine::model::latent::Latent;
use crate::engine::workers::mailbox::{Mailbox, WorkerThread};

/// What to compare with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompareSource {
    /// A second checkpoint (a run, a full checkpoint or an export).
    Checkpoint(PathBuf),
    /// Every snapshot of a run.
    Snapshots(PathBuf),
}

impl CompareSource {
    /// The folder named.
    pub fn path(&self) -> &std::path::Path {
        match self {
            Self::Checkpoint(p) | Self::Snapshots(p) => p,
        }
    }
}

/// What the compare worker reports.
#[derive(Debug)]
pub enum CompareEvent {
    /// Generators loaded.
    Loaded {
        /// What was asked for.
        source: CompareSource,
        /// The training step of each generator, in order.
        steps: Vec<u64>,
        /// Snapshots skipped, and why.
        skipped: Vec<(u64, String)>,
        /// Size of the latent vector they take.
        latent_dim: usize,
    },
    /// Nothing could be loaded; what was loaded before stays.
    LoadFailed {
        /// What was asked for.
        source: CompareSource,
        /// Why.
        message: String,
    },
    /// Latent vectors drawn by every loaded generator.
    Drawn {
        /// The vectors, as asked.
        latents: Vec<Latent>,
        /// One list of pictures per generator, one picture per vector.
        pictures: Vec<Vec<RgbImage>>,
        /// Time it took, in milliseconds.
        millis: f32,
    },
}

#[derive(Default)]
struct Pending {
    load: Option<CompareSource>,
    draw: Option<Vec<Latent>>,
}

/// Handle to the compare thread. Dropping it stops and joins the thread.
pub struct CompareWorker {
    thread: WorkerThread<Pending, CompareEvent>,
}

impl CompareWorker {
    /// Starts the thread on the device `choice` picks (the CPU when that fails).
    pub fn spawn(choice: DeviceChoice, wake: Box<dyn Fn() + Send>) -> Self {
        Self {
            thread: WorkerThread::spawn(
                "hitogata-compare",
                Pending::default(),
                move |mailbox, tx| run(choice, &mailbox, tx, wake),
            ),
        }
    }

    /// Loads `source`, replacing what was loaded when it succeeds.
    pub fn load(&self, source: CompareSource) {
        self.thread.update(|p| p.load = Some(source));
    }

    /// Draws `latents` (as drawn, ψ applied) with every loaded generator; replaces a draw
    /// request not yet started.
    pub fn draw(&self, latents: Vec<Latent>) {
        self.thread.update(|p| p.draw = Some(latents));
    }

    /// The next event, if one is waiting.
    pub fn try_recv(&self) -> Option<CompareEvent> {
        self.thread.try_recv()
    }

    /// Blocks for the next event (for tests and headless use).
    pub fn recv_timeout(&self, timeout: std::time::Duration) -> Option<CompareEvent> {
        self.thread.recv_timeout(timeout)
    }
}

enum Job {
    Load(CompareSource),
    Draw(Vec<Latent>),
}

fn next_job(pending: &mut Pending) -> Option<Job> {
    if let Some(source) = pending.load.take() {
        return Some(Job::Load(source));
    }
    pending.draw.take().map(Job::Draw)
}

fn run(
    choice: DeviceChoice,
    mailbox: &Mailbox<Pending>,
    tx: Sender<CompareEvent>,
    wake: Box<dyn Fn() + Send>,
) {
    let device = select_device(&choice).unwrap_or_else(|e| cpu_device(&format!(" — {e}")));
    let mut loaded: Option<Timeline> = None;
    while let Some(job) = mailbox.next(next_job) {
        let event = match job {
            Job::Load(source) => {
                let result = match &source {
                    CompareSource::Checkpoint(p) => {
                        Timeline::single(p, &device.device).map_err(|e| e.to_string())
                    }
                    CompareSource::Snapshots(p) => {
                        Timeline::load(p, &device.device).map_err(|e| e.to_string())
                    }
                };
                match result {
                    Ok(timeline) => {
                        let event = CompareEvent::Loaded {
                            source,
                            steps: timeline.steps.clone(),
                            skipped: timeline.skipped.clone(),
                            latent_dim: timeline.latent_dim(),
                        };
                        loaded = Some(timeline);
                        event
                    }
                    Err(message) => CompareEvent::LoadFailed { source, message },
                }
            }
            Job::Draw(latents) => {
                let Some(timeline) = &loaded else {
                    continue;
                };
                let started = Instant::now();
                let pictures = timeline.draw_all(&latents);
                CompareEvent::Drawn {
                    latents,
                    pictures,
                    millis: started.elapsed().as_secs_f32() * 1e3,
                }
            }
        };
        if tx.send(event).is_err() {
            return;
        }
        wake();
    }
}

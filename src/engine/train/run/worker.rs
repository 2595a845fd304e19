//! A training run on its own thread, for the app: commands in over a channel, the runner's
//! events out over another. The worker calls `wake` after each event (the app sets it to
//! `ctx.request_repaint`), so the engine stays free of UI code.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::engine::train::run::events::{TrainCommand, TrainEvent};
use crate::engine::train::run::runner::{self, RunControl};
use crate::engine::train::run::spec::TrainJob;

/// Handle to a training thread. Dropping it stops the run (without saving) and joins.
pub struct TrainWorker {
    commands: Sender<TrainCommand>,
    events: Receiver<TrainEvent>,
    busy: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// The command channel, and a flag the app reads to show that a step is running.
struct WorkerControl {
    commands: Receiver<TrainCommand>,
    busy: Arc<AtomicBool>,
}

impl RunControl for WorkerControl {
    fn poll(&mut self, paused: bool) -> Option<TrainCommand> {
        self.commands.poll(paused)
    }

    fn set_busy(&mut self, busy: bool) {
        self.busy.store(busy, Ordering::SeqCst);
    }

    fn interactive(&self) -> bool {
        true
    }
}

impl TrainWorker {
    /// Starts `job` on a new thread.
    pub fn start(job: TrainJob, wake: Box<dyn Fn() + Send>) -> Self {
        let (commands, command_rx) = channel();
        let (event_tx, events) = channel();
        let busy = Arc::new(AtomicBool::new(false));
        let mut control = WorkerControl {
            commands: command_rx,
            busy: busy.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("hitogata-training".into())
            .spawn(move || {
                let mut send = |e: TrainEvent| {
                    let _ = event_tx.send(e);
                    wake();
                };
                if let Err(e) = runner::run(&job, &mut control, &mut send) {
                    send(TrainEvent::Failed(e.to_string()));
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

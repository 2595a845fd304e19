//! A worker thread with a mailbox: the UI replaces pending requests (for most kinds the newest
//! wins, so a drag that outruns the worker drops stale requests instead of queueing them), the
//! thread takes them in the order it chooses, events come back over a channel, and dropping
//! the handle stops and joins the thread. The inference and compare workers share it.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

struct State<P> {
    pending: P,
    shutdown: bool,
}

/// Pending requests `P` behind a lock, with the thread's wake-up and a shutdown flag.
pub struct Mailbox<P> {
    state: Mutex<State<P>>,
    wakeup: Condvar,
}

impl<P> Mailbox<P> {
    fn lock(&self) -> std::sync::MutexGuard<'_, State<P>> {
        // A panic while holding the lock leaves plain data behind: carry on with it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads or changes the pending requests without waking the thread (a job checking
    /// between its parts whether to give way).
    pub fn with<R>(&self, f: impl FnOnce(&mut P) -> R) -> R {
        f(&mut self.lock().pending)
    }

    /// Changes the pending requests and wakes the thread.
    pub fn update(&self, f: impl FnOnce(&mut P)) {
        f(&mut self.lock().pending);
        self.wakeup.notify_one();
    }

    /// Waits until `take` finds a job among the pending requests; `None` once shut down.
    pub fn next<J>(&self, mut take: impl FnMut(&mut P) -> Option<J>) -> Option<J> {
        let mut state = self.lock();
        loop {
            if state.shutdown {
                return None;
            }
            if let Some(job) = take(&mut state.pending) {
                return Some(job);
            }
            state = self
                .wakeup
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    fn shut_down(&self) {
        self.lock().shutdown = true;
        self.wakeup.notify_one();
    }
}

/// Handle to a worker thread: its mailbox of pending requests `P` and its events `E`.
pub struct WorkerThread<P, E> {
    mailbox: Arc<Mailbox<P>>,
    events: Receiver<E>,
    thread: Option<JoinHandle<()>>,
}

impl<P: Send + 'static, E: Send + 'static> WorkerThread<P, E> {
    /// Starts thread `name` running `body`, which takes jobs from the mailbox (see
    /// [`Mailbox::next`]) and sends its events.
    pub fn spawn(
        name: &str,
        pending: P,
        body: impl FnOnce(Arc<Mailbox<P>>, Sender<E>) + Send + 'static,
    ) -> Self {
        let mailbox = Arc::new(Mailbox {
            state: Mutex::new(State {
                pending,
                shutdown: false,
            }),
            wakeup: Condvar::new(),
        });
        let (tx, events) = channel();
        let thread_mailbox = mailbox.clone();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || body(thread_mailbox, tx))
            .unwrap_or_else(|e| panic!("spawn thread {name}: {e}"));
        Self {
            mailbox,
            events,
            thread: Some(thread),
        }
    }

    /// Changes the pending requests and wakes the thread.
    pub fn update(&self, f: impl FnOnce(&mut P)) {
        self.mailbox.update(f);
    }

    /// The next event, if one is waiting.
    pub fn try_recv(&self) -> Option<E> {
        self.events.try_recv().ok()
    }

    /// Blocks for the next event (for tests and headless use).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<E> {
        self.events.recv_timeout(timeout).ok()
    }
}

impl<P, E> Drop for WorkerThread<P, E> {
    fn drop(&mut self) {
        self.mailbox.shut_down();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

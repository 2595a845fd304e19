//! One way to wait for a one-shot background result: the work runs on its own thread, which
//! asks for a repaint when done, and the UI takes the result when it polls.

use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::task::Poll;

/// A result being computed on another thread.
pub(crate) struct Background<T> {
    result: Receiver<T>,
}

impl<T: Send + 'static> Background<T> {
    /// Starts `work` on a thread of its own.
    pub(crate) fn spawn(ctx: &egui::Context, work: impl FnOnce() -> T + Send + 'static) -> Self {
        let (tx, result) = channel();
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let _ = tx.send(work());
            ctx.request_repaint();
        });
        Self { result }
    }

    /// `Ready(Some(result))` once, `Ready(None)` if the thread ended without one (it panicked),
    /// `Pending` until then.
    pub(crate) fn poll(&self) -> Poll<Option<T>> {
        match self.result.try_recv() {
            Ok(value) => Poll::Ready(Some(value)),
            Err(TryRecvError::Empty) => Poll::Pending,
            Err(TryRecvError::Disconnected) => Poll::Ready(None),
        }
    }
}

//! A value read from a folder on a background thread, read again when the folder's path
//! changes: the Training tab's dataset scan and its look at a run's checkpoint.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, channel};

/// One folder read at a time; a result for a path the user has since left is dropped.
pub(crate) struct FolderRead<T> {
    pending: Option<(String, Receiver<T>)>,
    read_for: Option<String>,
}

impl<T> Default for FolderRead<T> {
    fn default() -> Self {
        Self {
            pending: None,
            read_for: None,
        }
    }
}

impl<T: Send + 'static> FolderRead<T> {
    /// The finished read's result, if it was for `current` (the path shown now).
    pub(crate) fn finished(&mut self, current: &str) -> Option<T> {
        let result = self.pending.as_ref()?.1.try_recv().ok()?;
        let (path, _) = self.pending.take()?;
        (path == current).then_some(result)
    }

    /// Starts `read` on a thread for `path` unless that path was read already or a read is
    /// under way; the thread asks for a repaint when it is done.
    pub(crate) fn start(
        &mut self,
        path: &str,
        ctx: &egui::Context,
        read: impl FnOnce(PathBuf) -> T + Send + 'static,
    ) {
        if self.pending.is_some() || self.read_for.as_deref() == Some(path) {
            return;
        }
        self.read_for = Some(path.to_string());
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        let folder = PathBuf::from(path.trim());
        std::thread::spawn(move || {
            let _ = tx.send(read(folder));
            ctx.request_repaint();
        });
        self.pending = Some((path.to_string(), rx));
    }

    /// Reads the same path again next time.
    pub(crate) fn forget(&mut self) {
        self.read_for = None;
    }
}

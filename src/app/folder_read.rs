//! A value read from a folder on a background thread, read again when the folder's path
//! changes: the Training tab's dataset scan and its look at a run's checkpoint.

use std::path::PathBuf;
use std::task::Poll;

use crate::app::background::Background;

/// One folder read at a time; a result for a path the user has since left is dropped.
pub(crate) struct FolderRead<T> {
    pending: Option<(String, Background<T>)>,
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
        let Poll::Ready(result) = self.pending.as_ref()?.1.poll() else {
            return None;
        };
        let (path, _) = self.pending.take()?;
        result.filter(|_| path == current)
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
        let folder = PathBuf::from(path.trim());
        let work = Background::spawn(ctx, move || read(folder));
        self.pending = Some((path.to_string(), work));
    }

    /// Reads the same path again next time.
    pub(crate) fn forget(&mut self) {
        self.read_for = None;
    }
}

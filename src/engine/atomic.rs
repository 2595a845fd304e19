//! Crash-safe writes: a file is written beside its target and renamed over it, so readers see
//! the old content or the new, never half of one.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

fn sibling(path: &Path, tag: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{tag}-{}", std::process::id()))
}

/// Writes `bytes` to `path` atomically (temp file in the same folder, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    let tmp = sibling(path, "tmp");
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Replaces directory `target` with a directory filled by `fill`, so that at every moment a
/// complete version exists: the new one is built in a temp folder, the old one is moved aside,
/// the new one renamed into place, and only then is the old one removed.
pub fn replace_dir_atomic(
    target: &Path,
    fill: impl FnOnce(&Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    let tmp = sibling(target, "tmp");
    let old = old_dir(target);
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp)?;
    if let Err(e) = fill(&tmp) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let _ = fs::remove_dir_all(&old);
    if target.exists() {
        fs::rename(target, &old)?;
    }
    fs::rename(&tmp, target)?;
    let _ = fs::remove_dir_all(&old);
    Ok(())
}

/// Where [`replace_dir_atomic`] keeps the previous version while swapping.
pub fn old_dir(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.old"))
}

/// Writes files atomically on its own thread, in the order asked, so a UI never waits on the
/// disk. Dropping it finishes the pending writes.
pub struct BackgroundWriter {
    jobs: Option<std::sync::mpsc::Sender<(PathBuf, Vec<u8>)>>,
    errors: std::sync::mpsc::Receiver<String>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for BackgroundWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BackgroundWriter")
    }
}

impl BackgroundWriter {
    /// Starts the writer thread.
    pub fn spawn() -> Self {
        let (jobs, job_rx) = std::sync::mpsc::channel::<(PathBuf, Vec<u8>)>();
        let (error_tx, errors) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("hitogata-writer".into())
            .spawn(move || {
                for (path, bytes) in job_rx {
                    if let Err(e) = write_atomic(&path, &bytes) {
                        let _ = error_tx.send(format!("cannot write {}: {e}", path.display()));
                    }
                }
            })
            .expect("spawn writer thread");
        Self {
            jobs: Some(jobs),
            errors,
            thread: Some(thread),
        }
    }

    /// Queues an atomic write of `bytes` to `path`.
    pub fn write(&self, path: PathBuf, bytes: Vec<u8>) {
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send((path, bytes));
        }
    }

    /// A write that failed since the last call, if any.
    pub fn take_error(&self) -> Option<String> {
        self.errors.try_recv().ok()
    }
}

impl Drop for BackgroundWriter {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Renames a file that cannot be read to `NAME.broken-YYYYMMDD-HHMMSS` beside it, so that
/// nothing is ever written over it; returns where it went.
pub fn move_aside(path: &Path) -> std::io::Result<std::path::PathBuf> {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let aside = path.with_file_name(format!("{name}.broken-{stamp}"));
    std::fs::rename(path, &aside)?;
    Ok(aside)
}

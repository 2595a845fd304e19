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
    write_atomic_with(path, bytes, false)
}

/// [`write_atomic`] for a secret: on Unix the file is readable by its owner only, from the
/// moment it exists.
#[cfg_attr(not(feature = "app"), allow(dead_code))] // the app's alone
pub fn write_private_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, bytes, true)
}

fn write_atomic_with(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    let tmp = sibling(path, "tmp");
    let result = (|| {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        let mut f = options.open(&tmp)?;
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
    jobs: Option<std::sync::mpsc::Sender<WriteJob>>,
    reports: std::sync::mpsc::Receiver<String>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// A write to do on the writer's thread; what it returns is reported to the owner.
pub type WriteJob = Box<dyn FnOnce() -> Option<String> + Send>;

impl std::fmt::Debug for BackgroundWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BackgroundWriter")
    }
}

impl BackgroundWriter {
    /// Starts the writer thread.
    pub fn spawn() -> Self {
        let (jobs, job_rx) = std::sync::mpsc::channel::<WriteJob>();
        let (report_tx, reports) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("hitogata-writer".into())
            .spawn(move || {
                for job in job_rx {
                    if let Some(report) = job() {
                        let _ = report_tx.send(report);
                    }
                }
            })
            .expect("spawn writer thread");
        Self {
            jobs: Some(jobs),
            reports,
            thread: Some(thread),
        }
    }

    /// Queues an atomic write of `bytes` to `path`.
    pub fn write(&self, path: PathBuf, bytes: Vec<u8>) {
        self.run(Box::new(move || {
            write_atomic(&path, &bytes)
                .err()
                .map(|e| format!("cannot write {}: {e}", path.display()))
        }));
    }

    /// Queues a job of its own (one that may have something to report).
    pub fn run(&self, job: WriteJob) {
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(job);
        }
    }

    /// A failed write (or another report) since the last call, if any.
    pub fn take_error(&self) -> Option<String> {
        self.reports.try_recv().ok()
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

/// A file this program keeps but another program may change while it runs: it remembers the
/// bytes last read or written, and before each write checks the disk still holds them. A
/// version another program wrote is moved aside (kept, never overwritten) before ours is
/// written; a file another program deleted is written again. Either way the write says so.
#[derive(Clone, Debug)]
pub struct WatchedFile {
    path: PathBuf,
    known: std::sync::Arc<std::sync::Mutex<Option<Vec<u8>>>>,
}

impl WatchedFile {
    /// `path`, as last seen holding `known` (`None`: absent).
    pub fn new(path: &Path, known: Option<Vec<u8>>) -> Self {
        Self {
            path: path.to_path_buf(),
            known: std::sync::Arc::new(std::sync::Mutex::new(known)),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `bytes` atomically; `Ok(Some(notice))` when another program had changed or
    /// deleted the file since this one last read or wrote it.
    pub fn write(&self, bytes: &[u8]) -> std::io::Result<Option<String>> {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        // At most one byte more than the known version is read: a longer file differs. A
        // device or pipe put in its place differs too (and is set aside, never read).
        let limit = known.as_ref().map_or(0, |k| k.len() as u64) + 1;
        let kind = crate::engine::files::bounded_read::FileKind::new("watched file", limit);
        let on_disk = match crate::engine::files::bounded_read::read_bytes(&self.path, kind) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) if crate::engine::files::bounded_read::is_refusal(&e) => Some(Vec::new()),
            Err(e) => return Err(e),
        };
        let notice = if on_disk == *known {
            None
        } else if on_disk.is_some() {
            let aside = set_aside(&self.path, "external")?;
            Some(format!(
                "{} was changed by another program while hitogata ran; that version was kept as {}",
                self.path.display(),
                aside.display()
            ))
        } else {
            Some(format!(
                "{} was deleted by another program while hitogata ran; it was written again",
                self.path.display()
            ))
        };
        write_atomic(&self.path, bytes)?;
        *known = Some(bytes.to_vec());
        Ok(notice)
    }
}

/// Renames a file that cannot be read to `NAME.broken-YYYYMMDD-HHMMSS` beside it, so that
/// nothing is ever written over it; returns where it went.
pub fn move_aside(path: &Path) -> std::io::Result<std::path::PathBuf> {
    set_aside(path, "broken")
}

/// Renames `path` to `NAME.WHY-YYYYMMDD-HHMMSS` beside it (with a counter if that exists).
/// Only files and links are moved: a device or pipe named where a file was expected is left
/// where it is (moving /dev/zero would break the machine).
fn set_aside(path: &Path, why: &str) -> std::io::Result<std::path::PathBuf> {
    let file_type = std::fs::symlink_metadata(path)?.file_type();
    if !(file_type.is_file() || file_type.is_symlink()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a regular file; left where it is", path.display()),
        ));
    }
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut aside = path.with_file_name(format!("{name}.{why}-{stamp}"));
    let mut n = 1;
    while aside.exists() {
        n += 1;
        aside = path.with_file_name(format!("{name}.{why}-{stamp}-{n}"));
    }
    std::fs::rename(path, &aside)?;
    Ok(aside)
}

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

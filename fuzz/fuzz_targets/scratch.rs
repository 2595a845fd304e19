//! What every target shares: a scratch folder per fuzzing process (in memory where /dev/shm
//! exists) and the CPU device.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// This process's scratch folder.
pub fn dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("hitogata-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

/// The CPU device.
pub fn cpu() -> &'static hitogata::device::ComputeDevice {
    static CPU: OnceLock<hitogata::device::ComputeDevice> = OnceLock::new();
    CPU.get_or_init(|| hitogata::device::cpu_device(""))
}

/// Feeds one input to `target`'s loader (see `hitogata::fuzz::load`).
pub fn run(target: &str, data: &[u8]) {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(hitogata::fuzz::tolerate_caught_panics);
    let _ = hitogata::fuzz::load(target, data, dir(), &cpu().device);
}

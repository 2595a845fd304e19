//! Saves on a full disk: a small tmpfs mounted for the test (root only; elsewhere the test says
//! it could not mount and does nothing). The message says the disk is full and the previous
//! file is intact.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use hitogata::bookmarks::{BookmarkFile, BookmarkStore};
use hitogata::latent::Latent;

/// A tmpfs of `kib` KiB, unmounted when dropped.
struct SmallDisk {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl SmallDisk {
    fn mount(kib: u32) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("disk");
        std::fs::create_dir_all(&root).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(&root)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("cannot mount a tmpfs here (needs root): disk-full test not run");
            return None;
        }
        Some(Self { _dir: dir, root })
    }

    /// Fills the disk until a write fails.
    fn fill(&self) {
        use std::io::Write;
        let mut filler = std::fs::File::create(self.root.join("filler")).unwrap();
        let block = vec![0u8; 4096];
        while filler
            .write_all(&block)
            .and_then(|_| filler.flush())
            .is_ok()
        {}
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.root).status();
    }
}

fn is_disk_full(message: &str) -> bool {
    message.contains("No space left on device")
}

#[test]
fn a_bookmark_save_on_a_full_disk_says_so_and_keeps_the_file() {
    let Some(disk) = SmallDisk::mount(256) else {
        return;
    };
    let path = disk.root.join("bookmarks.ron");
    let mut store = BookmarkStore::open(&path).store;
    store
        .add("kept".into(), Latent::from_seed(1, 40), None, None)
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    disk.fill();
    let err = store
        .add("too many".into(), Latent::from_seed(2, 40), None, None)
        .unwrap_err()
        .to_string();
    assert!(is_disk_full(&err), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the previous file is intact"
    );
    assert_eq!(BookmarkFile::read(&path).unwrap().bookmarks.len(), 1);
    let leftovers: Vec<_> = std::fs::read_dir(&disk.root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n != "bookmarks.ron" && n != "filler")
        .collect();
    assert!(leftovers.is_empty(), "no temp files left: {leftovers:?}");
}

fn train(data: &Path, run: &Path, steps: &str, resume: bool) -> std::process::Output {
    let mut args = vec![
        "train".to_string(),
        "--data".into(),
        data.display().to_string(),
        "--run".into(),
        run.display().to_string(),
        "--steps".into(),
        steps.into(),
        "--checkpoint-every".into(),
        "2".into(),
        "--sample-every".into(),
        "1000".into(),
        "--device".into(),
        "cpu".into(),
    ];
    if resume {
        args.push("--resume".into());
    } else {
        for a in [
            "--ngf",
            "4",
            "--ndf",
            "4",
            "--latent-dim",
            "8",
            "--batch-size",
            "4",
        ] {
            args.push(a.into());
        }
    }
    Command::new(env!("CARGO_BIN_EXE_hitogata"))
        .args(&args)
        .output()
        .unwrap()
}

#[test]
fn a_checkpoint_save_on_a_full_disk_says_so_and_the_last_checkpoint_loads() {
    let Some(disk) = SmallDisk::mount(2048) else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    common::write_disc_folder(data.path(), 8);
    let run = disk.root.join("run");
    let out = train(data.path(), &run, "2", false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(common::saved_state(&run).step, 2);
    disk.fill();
    let out = train(data.path(), &run, "4", true);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(is_disk_full(&stderr), "{stderr}");
    // The checkpoint of step 2 is intact and loads.
    std::fs::remove_file(disk.root.join("filler")).unwrap();
    assert_eq!(common::saved_state(&run).step, 2);
    hitogata::checkpoint::load_generator(&run, &common::cpu().device).unwrap();
    let out = train(data.path(), &run, "4", true);
    assert!(
        out.status.success(),
        "resumes once there is room: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(common::saved_state(&run).step, 4);
}

//! Files that never end or never answer: every loader, given /dev/zero (directly and through a
//! link), a FIFO nobody writes to, or a sparse file far over its limit, answers at once with a
//! message naming the path and the reason, and the CLI's memory stays where it was.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use hitogata::bookmarks::{BookmarkFile, BookmarkStore};
use hitogata::checkpoint_notes::NotesStore;
use hitogata::data::{Dataset, SquareMode};
use hitogata::directions::DirectionSet;
use hitogata::latent::LatentFile;
use hitogata::train::Recipe;

/// The kinds of path that must be refused.
#[derive(Clone, Copy, Debug)]
enum Bad {
    DevZero,
    LinkToDevZero,
    Fifo,
    Sparse,
}

const ALL: [Bad; 4] = [Bad::DevZero, Bad::LinkToDevZero, Bad::Fifo, Bad::Sparse];

impl Bad {
    /// Puts this kind of file at `at` (for `DevZero`, a loader reading a fixed name inside a
    /// folder can only meet it through a link); returns the path to hand to the loader.
    fn plant(self, at: &Path, direct_ok: bool) -> PathBuf {
        let _ = std::fs::remove_file(at);
        match self {
            Bad::DevZero if direct_ok => return PathBuf::from("/dev/zero"),
            Bad::DevZero | Bad::LinkToDevZero => {
                std::os::unix::fs::symlink("/dev/zero", at).unwrap();
            }
            Bad::Fifo => {
                let c = std::ffi::CString::new(at.as_os_str().as_encoded_bytes()).unwrap();
                // SAFETY: a valid NUL-terminated path.
                assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
            }
            Bad::Sparse => {
                // 8 GB that take no disk: far over every kind's limit.
                let f = std::fs::File::create(at).unwrap();
                f.set_len(8 << 30).unwrap();
            }
        }
        at.to_path_buf()
    }

    /// What the message must say.
    fn reason(self) -> &'static str {
        match self {
            Bad::DevZero | Bad::LinkToDevZero => "character device",
            Bad::Fifo => "named pipe",
            Bad::Sparse => "is at most",
        }
    }
}

/// Runs `load` on its own thread and waits for its answer. The 10 s are a hang guard (a read
/// of a pipe without a writer never returns), not a timing.
fn answer(load: impl FnOnce() -> Result<(), String> + Send + 'static) -> Result<(), String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(load());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the loader did not answer: it is blocked or still reading")
}

fn check(loader: &str, bad: Bad, path: &Path, result: Result<(), String>) {
    let message = result.expect_err(&format!("{loader} accepted {bad:?}"));
    assert!(
        message.contains(&path.display().to_string()) && message.contains(bad.reason()),
        "{loader} on {bad:?}: the message must name {} and say '{}': {message}",
        path.display(),
        bad.reason()
    );
}

/// A loader that reads the file it is given.
type FileLoader = fn(&Path) -> Result<(), String>;

fn text<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// (what, the loader, whether it may be handed /dev/zero itself: the stores move a broken file
/// aside, which only ever happens to their own file in the config folder)
const FILE_LOADERS: &[(&str, FileLoader, bool)] = &[
    (
        "latent file (--z)",
        |p| LatentFile::load(p).map(|_| ()).map_err(text),
        true,
    ),
    (
        "token file (--token-file)",
        |p| hitogata::remote::read_token(Some(p)).map(|_| ()),
        true,
    ),
    (
        "bookmarks import",
        |p| BookmarkFile::read(p).map(|_| ()).map_err(text),
        true,
    ),
    (
        "bookmarks store",
        |p| match BookmarkStore::open(p).recovered {
            Some((e, _)) => Err(e.to_string()),
            None => Ok(()),
        },
        false,
    ),
    (
        "checkpoint notes",
        |p| match NotesStore::open(p).1 {
            Some(message) => Err(message),
            None => Ok(()),
        },
        false,
    ),
    (
        "directions (--directions)",
        |p| DirectionSet::load(p).map(|_| ()).map_err(text),
        true,
    ),
    (
        "recipe (--recipe)",
        |p| Recipe::load(p).map(|_| ()).map_err(text),
        true,
    ),
    (
        "training settings (--config)",
        |p| {
            hitogata::migrate::read_train_config(p)
                .map(|_| ())
                .map_err(text)
        },
        true,
    ),
    (
        "state.ron",
        |p| {
            hitogata::migrate::read_train_state(p)
                .map(|_| ())
                .map_err(text)
        },
        true,
    ),
    (
        "model.ron",
        |p| {
            hitogata::migrate::read_model_file(p)
                .map(|_| ())
                .map_err(text)
        },
        true,
    ),
    (
        "PNG with z (--from-png, File > Open)",
        |p| {
            hitogata::picture_state::read_state(p)
                .map(|_| ())
                .map_err(text)
        },
        true,
    ),
    (
        "optimizer moments",
        |p| {
            hitogata::train::read_optimizer_file(p, 1000)
                .map(|_| ())
                .map_err(text)
        },
        true,
    ),
];

#[test]
fn every_file_loader_refuses_devices_pipes_and_oversized_files_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, (loader, load, direct_ok)) in FILE_LOADERS.iter().enumerate() {
        for bad in ALL {
            let path = bad.plant(&tmp.path().join(format!("{i}-{bad:?}")), *direct_ok);
            let (load, p) = (*load, path.clone());
            check(loader, bad, &path, answer(move || load(&p)));
        }
    }
}

/// The shipped faces checkpoint, copied (model, generator, critic) into `dir`.
fn faces_copy(dir: &Path) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("checkpoints/faces");
    std::fs::create_dir_all(dir).unwrap();
    for name in ["model.ron", "generator.safetensors", "critic.safetensors"] {
        std::fs::copy(from.join(name), dir.join(name)).unwrap();
    }
    dir.to_path_buf()
}

#[test]
fn checkpoints_with_a_device_pipe_or_huge_file_inside_are_refused_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    type DirLoader = fn(&Path) -> Result<(), String>;
    let loaders: &[(&str, &str, DirLoader)] = &[
        ("model.ron", "open a checkpoint", |d| {
            hitogata::checkpoint::load_generator(d, &common::cpu().device)
                .map(|_| ())
                .map_err(text)
        }),
        ("generator.safetensors", "open a checkpoint", |d| {
            hitogata::checkpoint::load_generator(d, &common::cpu().device)
                .map(|_| ())
                .map_err(text)
        }),
        (
            "generator.safetensors",
            "the checkpoint's content hash",
            |d| {
                let config = hitogata::checkpoint::read_model_config(d).map_err(text)?;
                hitogata::checkpoint_notes::content_hash(d, &config)
                    .map(|_| ())
                    .map_err(text)
            },
        ),
        ("critic.safetensors", "load the critic", |d| {
            hitogata::critique::critic_beside(d, &common::cpu().device)
                .map(|_| ())
                .map_err(text)
        }),
    ];
    for (i, (file, loader, load)) in loaders.iter().enumerate() {
        for bad in ALL {
            let dir = faces_copy(&tmp.path().join(format!("{i}-{bad:?}")));
            let path = bad.plant(&dir.join(file), false);
            let load = *load;
            check(loader, bad, &path, answer(move || load(&dir)));
        }
    }
}

#[test]
fn a_data_folder_skips_a_device_pipe_or_huge_picture_and_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in ALL {
        let dir = tmp.path().join(format!("{bad:?}"));
        common::write_disc_folder(&dir, 2);
        let path = bad.plant(&dir.join("zzz.png"), false);
        let d = dir.clone();
        let data = answer(move || {
            Dataset::load_folder(&d, SquareMode::Pad)
                .map(|data| {
                    assert_eq!(data.len, 2, "the two good pictures load");
                    let skipped = &data.skipped[0];
                    assert_eq!(skipped.path, d.join("zzz.png"));
                    assert!(skipped.reason.contains(bad.reason()), "{}", skipped.reason);
                })
                .map_err(text)
        });
        data.unwrap_or_else(|e| panic!("{bad:?} at {}: {e}", path.display()));
    }
}

#[test]
fn a_data_folder_with_a_link_to_its_parent_is_read_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pictures");
    common::write_disc_folder(&dir, 3);
    std::os::unix::fs::symlink(&dir, dir.join("loop")).unwrap();
    let d = dir.clone();
    answer(move || {
        let data = Dataset::load_folder(&d, SquareMode::Pad).map_err(text)?;
        assert_eq!(data.len, 3);
        Ok(())
    })
    .unwrap();
}

/// Runs the hitogata binary; returns (exit success, stderr, peak memory in KB) of that process
/// alone (reaped with wait4, so other tests' processes do not count).
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which also gives its peak memory
fn run_measured(args: &[&str]) -> (bool, String, i64) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hitogata"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let pid = child.id() as libc::pid_t;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut status = 0;
        // SAFETY: plain out-parameters; `child` is never waited for by std.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        let _ = tx.send((
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            usage,
        ));
    });
    let (ok, usage) = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(answer) => answer,
        Err(_) => {
            let _ = child.kill();
            panic!("hitogata {args:?} did not answer within 60 s");
        }
    };
    (ok, reader.join().unwrap(), usage.ru_maxrss)
}

#[test]
fn the_cli_refuses_bad_paths_without_growing() {
    let tmp = tempfile::tempdir().unwrap();
    let faces = Path::new(env!("CARGO_MANIFEST_DIR")).join("checkpoints/faces");
    let faces = faces.to_str().unwrap();
    let out = tmp.path().join("p.png");
    let out = out.to_str().unwrap();
    let fifo = Bad::Fifo.plant(&tmp.path().join("fifo"), true);
    let fifo = fifo.to_str().unwrap();
    let missing = tmp.path().join("missing");
    let missing = missing.to_str().unwrap();
    let zero_model = faces_copy(&tmp.path().join("zero-model"));
    Bad::LinkToDevZero.plant(&zero_model.join("model.ron"), false);
    let zero_weights = faces_copy(&tmp.path().join("zero-weights"));
    Bad::LinkToDevZero.plant(&zero_weights.join("generator.safetensors"), false);
    let generate = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["generate", "--out", out];
        args.extend_from_slice(extra);
        args.into_iter().map(String::from).collect()
    };
    // (command, what the message must say)
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            generate(&[
                "--checkpoint",
                faces,
                "--seed",
                "1",
                "--device",
                "remote:ws://127.0.0.1:9",
                "--token-file",
                "/dev/zero",
            ]),
            "character device",
        ),
        (
            generate(&["--checkpoint", faces, "--z", "/dev/zero"]),
            "character device",
        ),
        (
            generate(&["--checkpoint", faces, "--z", fifo]),
            "named pipe",
        ),
        (generate(&["--from-png", fifo]), "named pipe"),
        (
            [
                "sweep",
                "--checkpoint",
                faces,
                "--directions",
                "/dev/zero",
                "--out",
                out,
            ]
            .map(String::from)
            .to_vec(),
            "character device",
        ),
        (
            vec![
                "train".into(),
                "--recipe".into(),
                "/dev/zero".into(),
                "--run".into(),
                tmp.path().join("run").to_str().unwrap().into(),
            ],
            "character device",
        ),
        (
            ["serve", "--identity", "/dev/zero"]
                .map(String::from)
                .to_vec(),
            "character device",
        ),
        (
            generate(&["--checkpoint", zero_model.to_str().unwrap(), "--seed", "1"]),
            "character device",
        ),
        (
            generate(&[
                "--checkpoint",
                zero_weights.to_str().unwrap(),
                "--seed",
                "1",
            ]),
            "character device",
        ),
    ];
    // The same start-up that fails on a missing file: what memory a refusal may use.
    let (ok, _, baseline) = run_measured(
        &generate(&["--checkpoint", faces, "--z", missing])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(!ok, "a missing --z file fails");
    for (args, reason) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, stderr, peak) = run_measured(&args);
        assert!(!ok, "hitogata {args:?} must fail");
        assert!(
            stderr.contains(reason),
            "hitogata {args:?} must say '{reason}': {stderr}"
        );
        // Tens of MB of slack for allocator noise; reading /dev/zero grows by gigabytes.
        assert!(
            peak < baseline + 48 * 1024,
            "hitogata {args:?} peaked at {peak} KB, against {baseline} KB failing on a missing file"
        );
    }
}

//! The fuzz inputs in the normal test run: every hand-made seed (`fuzz/seeds/TARGET`) and every
//! input that once crashed a target (`fuzz/regressions/TARGET`) goes through the loader its
//! target calls (`hitogata::fuzz::load`): refused or accepted, never a panic. The corpus the
//! fuzzer grows (`fuzz/corpus`) is not in git, so not here.

use crate::common;

use std::path::{Path, PathBuf};

fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// Runs every input of `kind`; returns (accepted, refused) counts; panics name the input.
fn run_all(kind: &str) -> (usize, usize) {
    let dev = common::cpu();
    let (mut accepted, mut refused) = (0, 0);
    for target in hitogata::fuzz::TARGETS {
        for input in inputs(kind, target) {
            let data = std::fs::read(&input).unwrap();
            let scratch = tempfile::tempdir().unwrap();
            let result = std::panic::catch_unwind(|| {
                hitogata::fuzz::load(target, &data, scratch.path(), &dev.device)
            });
            match result {
                Ok(Ok(())) => accepted += 1,
                Ok(Err(_)) => refused += 1,
                Err(_) => panic!("{} panicked in target {target}", input.display()),
            }
        }
    }
    (accepted, refused)
}

#[test]
fn every_input_that_once_crashed_a_loader_is_now_answered() {
    let (accepted, refused) = run_all("regressions");
    assert!(accepted + refused > 0, "fuzz/regressions holds inputs");
    eprintln!("regressions: {accepted} accepted, {refused} refused");
}

#[test]
fn every_target_has_seeds_and_every_seed_is_a_valid_file() {
    let dev = common::cpu();
    for target in hitogata::fuzz::TARGETS {
        let seeds = inputs("seeds", target);
        assert!(!seeds.is_empty(), "a seed for {target}");
        for seed in seeds {
            let scratch = tempfile::tempdir().unwrap();
            let data = std::fs::read(&seed).unwrap();
            if let Err(e) = hitogata::fuzz::load(target, &data, scratch.path(), &dev.device) {
                panic!("seed {} of {target} refused: {e}", seed.display());
            }
        }
    }
}

#[test]
fn an_unknown_target_is_refused() {
    let dev = common::cpu();
    let scratch = tempfile::tempdir().unwrap();
    assert!(hitogata::fuzz::load("nothing", b"", scratch.path(), &dev.device).is_err());
}

//! The CLI on PyTorch files and the shapes they bring: `import`, `--checkpoint x.pth` for
//! generate, eval and critic, `train --init-generator x.pth`, and new runs at other sizes and grey.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the binary with its import cache in `cache` (not the user's).
fn hitogata(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hitogata"))
        .args(args)
        .env("XDG_CACHE_HOME", cache)
        .output()
        .expect("run hitogata")
}

fn ok(out: &Output) -> (String, String) {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "failed: {stderr}\n{stdout}");
    (stdout, stderr)
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pytorch")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn model_ron(dir: &Path) -> hitogata::model::ModelConfig {
    hitogata::checkpoint::read_model_config(dir).unwrap()
}

/// The run's checkpoint folder (the run itself or its `checkpoint/`).
fn checkpoint_of(run: &Path) -> PathBuf {
    hitogata::checkpoint::resolve_checkpoint_dir(run).unwrap()
}

#[test]
fn a_grey_128_px_wgan_imports_draws_and_is_evaluated_at_its_size() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let g = fixture("wgan-nz40-128-grey-nobn-extra1.netG.pth");
    let out = tmp.path().join("imported");
    let (_, said) = ok(&hitogata(
        &cache,
        &["import", &g, "--out", out.to_str().unwrap()],
    ));
    assert!(said.contains("z of 40, 128×128 grey"), "{said}");
    assert!(said.contains("critic from"), "the netD beside it: {said}");
    let model = model_ron(&out);
    assert_eq!((model.image_size(), model.channels()), (128, 1));

    // generate straight from the .pth: grey pictures at 128 px.
    let png = tmp.path().join("g.png");
    ok(&hitogata(
        &cache,
        &[
            "generate",
            "--checkpoint",
            &g,
            "--seed",
            "3",
            "--device",
            "cpu",
            "--out",
            png.to_str().unwrap(),
        ],
    ));
    let picture = image::open(&png).unwrap().into_rgb8();
    assert_eq!(picture.dimensions(), (128, 128));
    assert!(picture.pixels().all(|p| p[0] == p[1] && p[1] == p[2]));

    // eval reads the folder at 128 px grey and reports the levels of that size.
    let data = tmp.path().join("data");
    common::write_disc_folder(&data, 8);
    let (stdout, _) = ok(&hitogata(
        &cache,
        &[
            "eval",
            "--checkpoint",
            &g,
            "--data",
            data.to_str().unwrap(),
            "--count",
            "4",
            "--device",
            "cpu",
        ],
    ));
    assert!(stdout.contains("128 px |  64 px |  32 px"), "{stdout}");
}

#[test]
fn an_imported_generator_fine_tunes_and_new_runs_train_other_shapes() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let data = tmp.path().join("data");
    common::write_disc_folder(&data, 8);
    let data = data.to_str().unwrap();
    let tiny = ["--steps", "2", "--batch-size", "4", "--device", "cpu"];

    // Fine-tune the tutorial's grey generator straight from its .pth.
    let run = tmp.path().join("fine-tuned");
    let g = fixture("examples-nz40-64-grey-dataparallel.netG.pth");
    let mut args = vec!["train", "--data", data, "--run", run.to_str().unwrap()];
    args.extend(["--algo", "dcgan", "--init-generator", &g]);
    args.extend(tiny);
    ok(&hitogata(&cache, &args));
    let model = model_ron(&checkpoint_of(&run));
    assert_eq!((model.latent_dim, model.ngf, model.channels()), (40, 4, 1));

    // A new run at 32 px grey.
    let run = tmp.path().join("small-grey");
    let mut args = vec!["train", "--data", data, "--run", run.to_str().unwrap()];
    args.extend(["--image-size", "32", "--grey", "--ngf", "4", "--ndf", "4"]);
    args.extend(["--latent-dim", "8"]);
    args.extend(tiny);
    ok(&hitogata(&cache, &args));
    let model = model_ron(&checkpoint_of(&run));
    assert_eq!((model.image_size(), model.channels()), (32, 1));

    // A size no DCGAN has is refused before anything is read.
    let run = tmp.path().join("odd");
    let mut args = vec!["train", "--data", data, "--run", run.to_str().unwrap()];
    args.extend(["--image-size", "48"]);
    args.extend(tiny);
    let out = hitogata(&cache, &args);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && said.contains("32, 64, 128, 256"),
        "{said}"
    );
    // And shape flags do not go with a generator that brings its own shape.
    let mut args = vec!["train", "--data", data, "--run", run.to_str().unwrap()];
    args.extend(["--init-generator", &g, "--image-size", "32"]);
    args.extend(tiny);
    let out = hitogata(&cache, &args);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--image-size"));
}

#[test]
fn a_critic_is_fitted_to_an_imported_32_px_generator() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let data = tmp.path().join("data");
    common::write_disc_folder(&data, 8);
    let out = tmp.path().join("imported");
    let g = fixture("wgan-nz100-32-rgb-legacy.netG.pth");
    ok(&hitogata(
        &cache,
        &["import", &g, "--out", out.to_str().unwrap()],
    ));
    let (stdout, _) = ok(&hitogata(
        &cache,
        &[
            "critic",
            "--checkpoint",
            out.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--updates",
            "2",
            "--held-out",
            "2",
            "--device",
            "cpu",
        ],
    ));
    let accuracy: f32 = stdout.split('\t').next().unwrap().trim().parse().unwrap();
    assert!((0.0..=1.0).contains(&accuracy), "{stdout}");
}

#[test]
fn the_import_cache_keeps_the_most_recently_opened_models() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let source = fixture("wgan-nz100-32-rgb-legacy.netG.pth");
    let opened: Vec<PathBuf> = (0..18)
        .map(|i| {
            // One model in 18 places: 18 imports (a copy elsewhere is its own).
            let dir = tmp.path().join(format!("run-{i:02}"));
            std::fs::create_dir(&dir).unwrap();
            let g = dir.join("netG_epoch_1.pth");
            std::fs::copy(&source, &g).unwrap();
            g
        })
        .collect();
    let out = tmp.path().join("g.png");
    let generate = |g: &Path| {
        ok(&hitogata(
            &cache,
            &[
                "generate",
                "--checkpoint",
                g.to_str().unwrap(),
                "--seed",
                "1",
                "--device",
                "cpu",
                "--out",
                out.to_str().unwrap(),
            ],
        ))
    };
    for g in &opened {
        generate(g);
    }
    let imports = cache.join("hitogata/imported");
    let listing = || -> Vec<PathBuf> {
        std::fs::read_dir(&imports)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect()
    };
    // Opened within the hour: another process may be reading any of them, so none goes.
    assert_eq!(listing().len(), 18);
    // Opened long ago, in order (the first the oldest): beyond the 16 most recent, they go.
    let long_ago = std::time::SystemTime::now() - 2 * hitogata::pytorch::IMPORT_GRACE;
    for dir in listing() {
        let from = hitogata::pytorch::imported_from(&dir).unwrap().generator;
        let age = opened.iter().position(|g| *g == from).unwrap();
        let model = std::fs::File::options()
            .write(true)
            .open(dir.join("model.ron"))
            .unwrap();
        let opened_at = long_ago + std::time::Duration::from_secs(age as u64);
        model.set_modified(opened_at).unwrap();
    }
    // The first one opened again: it is the most recent now.
    generate(&opened[0]);
    let kept = listing();
    assert_eq!(kept.len(), hitogata::pytorch::KEPT_IMPORTS);
    let sources: Vec<PathBuf> = kept
        .iter()
        .map(|d| hitogata::pytorch::imported_from(d).unwrap().generator)
        .collect();
    assert!(sources.contains(&opened[0]), "reopened: kept");
    assert!(sources.contains(&opened[17]), "the newest: kept");
    assert!(
        !sources.contains(&opened[1]),
        "the oldest not reopened: removed"
    );
}

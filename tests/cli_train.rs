//! The `hitogata` binary end to end: train, stop/resume, generate, errors.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn hitogata(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hitogata"))
        .args(args)
        .output()
        .expect("run hitogata")
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "failed: {stderr}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

/// Asserts that a command failed and said why.
fn fails_with(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should have failed: {stderr}");
    assert!(stderr.contains(needle), "no {needle:?} in: {stderr}");
}

const TINY: &[&str] = &[
    "--ngf",
    "4",
    "--ndf",
    "4",
    "--latent-dim",
    "8",
    "--batch-size",
    "8",
    "--n-critic",
    "2",
    "--device",
    "cpu",
];

fn train_args<'a>(
    data: &'a Path,
    run: &'a Path,
    steps: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "train",
        "--data",
        data.to_str().unwrap(),
        "--run",
        run.to_str().unwrap(),
        "--steps",
        steps,
        "--sample-every",
        "2",
        "--checkpoint-every",
        "2",
    ];
    args.extend_from_slice(TINY);
    args.extend_from_slice(extra);
    args
}

fn train(data: &Path, run: &Path, steps: &str, extra: &[&str]) -> Output {
    hitogata(&train_args(data, run, steps, extra))
}

/// `hitogata export --checkpoint CHECKPOINT --out OUT EXTRA...`.
fn export(checkpoint: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "export",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    hitogata(&args)
}

/// `hitogata generate --checkpoint CHECKPOINT --out OUT --device cpu EXTRA...`.
fn generate(checkpoint: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "generate",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--device",
        "cpu",
    ];
    args.extend_from_slice(extra);
    hitogata(&args)
}

/// `hitogata train` of a new tiny DCGAN run of 2 steps on `data` into `run`, its generator
/// starting from `generator` (shapes taken from it unless `extra` says otherwise).
fn train_from(data: &Path, run: &Path, generator: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "train",
        "--data",
        data.to_str().unwrap(),
        "--run",
        run.to_str().unwrap(),
        "--steps",
        "2",
        "--algo",
        "dcgan",
        "--ndf",
        "4",
        "--batch-size",
        "8",
        "--device",
        "cpu",
        "--init-generator",
        generator.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    hitogata(&args)
}

/// The picture `generate --seed 1` draws from `checkpoint`, written to `png`.
fn draw_seed_one(checkpoint: &Path, png: &Path) -> image::RgbImage {
    ok(&generate(checkpoint, png, &["--seed", "1"]));
    image::open(png).unwrap().to_rgb8()
}

/// `hitogata eval` of `checkpoints` on 6 images of `data`, writing `report`, with `extra`
/// arguments; returns stdout.
fn eval(data: &Path, checkpoints: &[&Path], report: &Path, extra: &[&str]) -> String {
    let mut args = vec!["eval", "--data", data.to_str().unwrap()];
    for c in checkpoints {
        args.extend(["--checkpoint", c.to_str().unwrap()]);
    }
    args.extend([
        "--count",
        "6",
        "--device",
        "cpu",
        "--report",
        report.to_str().unwrap(),
    ]);
    args.extend_from_slice(extra);
    let out = hitogata(&args);
    ok(&out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn train_resume_and_generate_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    let run = tmp.path().join("run");
    common::write_disc_folder(&data, 12);

    let stderr = ok(&train(&data, &run, "4", &[]));
    assert!(stderr.contains("12 images"), "{stderr}");
    assert!(stderr.contains("device: CPU"), "{stderr}");
    assert!(run.join("checkpoint/state.ron").exists());
    assert!(run.join("generator/generator.safetensors").exists());
    let grid = image::open(run.join("samples/step-000004.png")).unwrap();
    assert!(grid.width() > 64);

    // A second run in the same directory must not overwrite it.
    let again = train(&data, &run, "4", &[]);
    fails_with(&again, "--resume");

    let stderr = ok(&train(&data, &run, "6", &["--resume"]));
    assert!(stderr.contains("resuming at step 4"), "{stderr}");
    let state = std::fs::read_to_string(run.join("checkpoint/state.ron")).unwrap();
    assert!(state.contains("step: 6"), "{state}");

    let out = tmp.path().join("people.png");
    ok(&generate(
        &run,
        &out,
        &["--seed", "3", "--count", "4", "--grid"],
    ));
    let first = std::fs::read(&out).unwrap();
    image::load_from_memory(&first).unwrap();
    let z_path = tmp.path().join("people.z.ron");
    let z = hitogata::latent::LatentFile::load(&z_path).unwrap();
    assert_eq!((z.seed, z.latents.len()), (Some(3), 4));

    // The latents written beside an output reproduce it exactly.
    let again = tmp.path().join("again.png");
    ok(&generate(
        &run,
        &again,
        &["--z", z_path.to_str().unwrap(), "--grid"],
    ));
    assert_eq!(std::fs::read(&again).unwrap(), first);

    // Several files without --grid; scale 4 gives 256×256.
    let many = tmp.path().join("one.png");
    let stdout = generate(
        &run.join("generator"),
        &many,
        &["--seed", "1", "--count", "2", "--scale", "4"],
    );
    ok(&stdout);
    let img = image::open(tmp.path().join("one-001.png")).unwrap();
    assert_eq!((img.width(), img.height()), (256, 256));
}

#[test]
fn errors_are_clear_and_nonzero() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = train(&empty, &tmp.path().join("run"), "2", &[]);
    assert!(!out.status.success());
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(
        msg.contains("no usable image") && msg.contains("empty"),
        "{msg}"
    );

    let out = generate(&empty, Path::new("x.png"), &[]);
    fails_with(&out, "is not a checkpoint");
}

#[test]
fn help_is_available_on_every_command() {
    for cmd in [
        vec!["--help"],
        vec!["train", "--help"],
        vec!["generate", "--help"],
        vec!["bench", "--help"],
    ] {
        let out = hitogata(&cmd);
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage"));
    }
}

#[test]
fn ctrl_c_saves_a_checkpoint_before_exiting() {
    stopping_saves_a_checkpoint(libc::SIGINT);
}

#[test]
fn a_termination_signal_saves_a_checkpoint_too() {
    // `kill PID` and the end of a terminal session (SIGHUP) behave like Ctrl-C.
    stopping_saves_a_checkpoint(libc::SIGTERM);
    stopping_saves_a_checkpoint(libc::SIGHUP);
}

fn stopping_saves_a_checkpoint(signal: i32) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    let run = tmp.path().join("run");
    common::write_disc_folder(&data, 8);
    let args = train_args(&data, &run, "100000", &[]);
    let child = Command::new(env!("CARGO_BIN_EXE_hitogata"))
        .args(&args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until training is under way (a sample grid after step 1), then interrupt.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !run.join("samples/step-000002.png").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "training did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as i32, signal) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("stopped at step"), "{stderr}");
    let state = std::fs::read_to_string(run.join("checkpoint/state.ron")).unwrap();
    assert!(
        !state.contains("step: 0,"),
        "a checkpoint of the steps done: {state}"
    );
    assert!(run.join("generator/generator.safetensors").exists());
}

#[test]
fn bench_eval_and_export_run_on_a_tiny_model() {
    // A tiny bench on the CPU: (stdout table, stderr).
    let bench = |extra: &[&str]| {
        let mut args = vec![
            "bench",
            "--device",
            "cpu",
            "--ngf",
            "4",
            "--runs",
            "2",
            "--train-iters",
            "1",
            "--batch-size",
            "4",
        ];
        args.extend_from_slice(extra);
        let out = hitogata(&args);
        let stderr = ok(&out);
        (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
    };
    let (table, _) = bench(&[]);
    assert!(table.contains("| cpu (flex) | 4 |"), "{table}");
    let (table, stderr) = bench(&["--upsampling", "resize"]);
    assert!(table.contains("| cpu (flex) | 4 |"), "{table}");
    assert!(stderr.contains("Resize upsampling"), "{stderr}");

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    let run = tmp.path().join("run");
    common::write_disc_folder(&data, 12);
    ok(&train(&data, &run, "2", &[]));
    let report = tmp.path().join("eval.ron");
    let text = eval(&data, &[&run], &report, &[]);
    assert!(
        text.contains("generated vs real")
            && text.contains("real vs real")
            && text.contains("blurred vs real")
            && text.contains("noise ±3 vs real")
            && text.contains("moved ≤1 px vs real")
            && text.contains("moved ≤3 px vs real")
            && text.contains("nearest training image"),
        "{text}"
    );
    let saved = std::fs::read_to_string(&report).unwrap();
    assert!(
        saved.contains("swd_generated")
            && saved.contains("swd_faint_noise_real")
            && saved.contains("swd_moved_1px_real")
            && saved.contains("swd_moved_3px_real"),
        "{saved}"
    );

    let half = tmp.path().join("half");
    ok(&export(&run, &half, &["--f16"]));
    let png = tmp.path().join("p.png");
    ok(&generate(&half, &png, &["--seed", "1"]));
    image::open(&png).unwrap();

    // The same weights with another output scale; out-of-range scales are refused.
    let scaled = tmp.path().join("scaled");
    let export_scaled =
        |scale: &str, out: &Path| export(&half, out, &["--f16", "--output-scale", scale]);
    ok(&export_scaled("1.2", &scaled));
    let model = std::fs::read_to_string(scaled.join("model.ron")).unwrap();
    assert!(model.contains("output_scale: Some(1.2)"), "{model}");
    // Scaled back to 1, the copy draws exactly what the original does: the weights are kept.
    let back = tmp.path().join("back");
    ok(&export(&scaled, &back, &["--output-scale", "1"]));
    let again = tmp.path().join("again.png");
    ok(&generate(&back, &again, &["--seed", "1"]));
    assert!(
        std::fs::read(&again).unwrap() == std::fs::read(&png).unwrap(),
        "the round trip changed the pictures"
    );
    let bad = export_scaled("7", &tmp.path().join("bad"));
    fails_with(&bad, "output_scale");
    assert!(!tmp.path().join("bad").exists());
}

#[test]
fn export_can_recompute_the_batch_norm_statistics() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    let run = tmp.path().join("run");
    common::write_disc_folder(&data, 12);
    ok(&train(&data, &run, "2", &[]));
    let plain = tmp.path().join("plain");
    ok(&export(&run, &plain, &[]));
    let standing = tmp.path().join("standing");
    let stderr = ok(&export(&run, &standing, &["--standing-stats", "300"]));
    assert!(
        stderr.contains("recomputed from 300 latent vectors (seed 0)"),
        "{stderr}"
    );
    // Same weights, other statistics: the pictures change, a little.
    let draw = |dir: &Path, name: &str| draw_seed_one(dir, &tmp.path().join(name));
    let (before, after) = (draw(&plain, "a.png"), draw(&standing, "b.png"));
    assert_ne!(before, after);
    let device = common::cpu().device;
    let load = |dir: &Path| {
        hitogata::checkpoint::load_generator(dir, &device)
            .unwrap()
            .generator
    };
    assert_ne!(
        load(&plain).batch_norm_statistics(),
        load(&standing).batch_norm_statistics()
    );
    // Reproducible: the same seed gives the same statistics (the file's header order may vary).
    let again = tmp.path().join("again");
    ok(&export(&run, &again, &["--standing-stats", "300"]));
    assert_eq!(
        load(&standing).batch_norm_statistics(),
        load(&again).batch_norm_statistics()
    );
    let bad = export(&run, &tmp.path().join("bad"), &["--standing-stats", "0"]);
    fails_with(&bad, "at least 1 sample");
}

#[test]
fn export_can_widen_the_generator_and_a_new_run_can_start_from_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    let run = tmp.path().join("run");
    common::write_disc_folder(&data, 8);
    ok(&train(&data, &run, "2", &["--algo", "dcgan"]));
    let narrow = tmp.path().join("narrow");
    ok(&export(&run, &narrow, &[]));
    let wide = tmp.path().join("wide");
    let stderr = ok(&export(&run, &wide, &["--widen-ngf", "8", "--seed", "3"]));
    assert!(
        stderr.contains("widened from ngf 4 to 8 (seed 3)"),
        "{stderr}"
    );
    let config = hitogata::checkpoint::read_model_config(&wide).unwrap();
    assert_eq!((config.ngf, config.latent_dim), (8, 8));
    // The same pictures (PNG rounding aside).
    let draw = |dir: &Path, name: &str| draw_seed_one(dir, &tmp.path().join(name));
    let (before, after) = (draw(&narrow, "a.png"), draw(&wide, "b.png"));
    let worst = before
        .as_raw()
        .iter()
        .zip(after.as_raw())
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    assert!(worst <= 1, "{worst}");
    // A new run takes the wider shapes from the export.
    let wider_run = tmp.path().join("wider-run");
    let stderr = ok(&train_from(&data, &wider_run, &wide, &[]));
    assert!(stderr.contains("ngf 8"), "{stderr}");
    assert_eq!(common::saved_state(&wider_run).config.model.ngf, 8);
    fails_with(
        &export(&run, &tmp.path().join("bad"), &["--widen-ngf", "4"]),
        "ngf above the current 4",
    );
}

#[test]
fn snapshots_keep_each_generator_and_resume_can_start_an_average() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    let run = tmp.path().join("run");
    common::write_disc_folder(&data, 8);

    let stderr = ok(&train(&data, &run, "2", &["--ema", "0"]));
    assert!(stderr.contains("weight average off"), "{stderr}");
    assert!(!run.join("checkpoint/generator_ema.safetensors").exists());

    let stderr = ok(&train(
        &data,
        &run,
        "4",
        &["--resume", "--ema", "0.99", "--snapshot-every", "1"],
    ));
    assert!(stderr.contains("weight average 0.99"), "{stderr}");
    assert!(run.join("checkpoint/generator_ema.safetensors").exists());
    for step in 3..=4 {
        let snap = run.join(format!("snapshots/step-{step:06}"));
        assert!(
            snap.join("generator.safetensors").exists(),
            "{}",
            snap.display()
        );
    }
    assert!(!run.join("snapshots/step-000002").exists());
    let a = std::fs::read(run.join("snapshots/step-000003/generator.safetensors")).unwrap();
    let b = std::fs::read(run.join("snapshots/step-000004/generator.safetensors")).unwrap();
    assert_ne!(a, b, "each snapshot holds its own step's weights");

    // A snapshot is a generator export: generate loads it.
    let out = tmp.path().join("snap.png");
    ok(&generate(
        &run.join("snapshots/step-000003"),
        &out,
        &["--count", "2", "--grid"],
    ));
    image::open(&out).unwrap();

    let bad = train(&data, &run, "5", &["--resume", "--ema", "1.5"]);
    fails_with(&bad, "ema_decay");

    // Annealing on resume: --lr sets both rates, --critic-lr the critic's alone; both are saved.
    // (TINY's WGAN uses RMSProp; the rates apply all the same.)
    let stderr = ok(&train(
        &data,
        &run,
        "5",
        &["--resume", "--lr", "1e-4", "--critic-lr", "2e-5"],
    ));
    assert!(stderr.contains("lr 0.0001 (critic 0.00002)"), "{stderr}");
    let state = common::saved_state(&run);
    assert_eq!(state.config.optimizer_g.lr(), 1e-4);
    assert_eq!(state.config.optimizer_c.lr(), 2e-5);
    let stderr = ok(&train(
        &data,
        &run,
        "6",
        &["--resume", "--critic-lr", "3e-5"],
    ));
    assert!(stderr.contains("lr 0.0001 (critic 0.00003)"), "{stderr}");

    // A resumed run can change its batch size (to fill a GPU).
    let mut args = train_args(&data, &run, "7", &["--resume"]);
    let at = args.iter().position(|a| *a == "--batch-size").unwrap();
    args[at + 1] = "3";
    let stderr = ok(&hitogata(&args));
    assert!(stderr.contains("batch 3"), "{stderr}");
    let state = common::saved_state(&run);
    assert_eq!((state.step, state.config.batch_size), (7, 3));
}

#[test]
fn eval_ranks_several_checkpoints_against_the_same_real_sets() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    let run = tmp.path().join("run");
    common::write_disc_folder(&data, 12);
    ok(&train(&data, &run, "4", &["--snapshot-every", "2"]));
    let report = tmp.path().join("eval.ron");
    let (s2, s4) = (
        run.join("snapshots/step-000002"),
        run.join("snapshots/step-000004"),
    );
    let both = eval(&data, &[&s2, &s4], &report, &[]);
    assert!(both.contains("best first"), "{both}");
    assert_eq!(both.matches("generated vs real").count(), 2, "{both}");
    let listed = std::fs::read_to_string(&report).unwrap();
    assert!(listed.trim_start().starts_with('['), "{listed}");
    assert_eq!(listed.matches("swd_generated:").count(), 2);

    // Each row equals what a single evaluation of that checkpoint prints: same real sets.
    let alone = eval(&data, &[&s4], &tmp.path().join("one.ron"), &[]);
    let row = |text: &str, which: &Path| -> String {
        let start = text
            .find(&format!("checkpoint {}", which.display()))
            .unwrap();
        text[start..]
            .lines()
            .find(|l| l.starts_with("generated vs real"))
            .unwrap()
            .to_string()
    };
    assert_eq!(row(&both, &s4), row(&alone, &s4));
    assert_ne!(row(&both, &s2), row(&both, &s4));

    let missing = tmp.path().join("nothing-here");
    let out = hitogata(&[
        "eval",
        "--checkpoint",
        s2.to_str().unwrap(),
        "--checkpoint",
        missing.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    fails_with(&out, "nothing-here");
}

/// The part of an eval report this test reads.
#[derive(serde::Deserialize)]
struct EvalFigures {
    seeds: Vec<u64>,
    swd_generated: Vec<f32>,
    swd_real_floor: Vec<f32>,
    swd_generated_per_seed: Vec<f32>,
    swd_real_floor_per_seed: Vec<f32>,
}

fn read_eval(path: &Path) -> EvalFigures {
    ron::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn eval_repeats_average_over_consecutive_seeds() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    let run = tmp.path().join("run");
    common::write_disc_folder(&data, 12);
    ok(&train(&data, &run, "2", &[]));
    let eval_seeds = |extra: &[&str], name: &str| -> (String, EvalFigures) {
        let report = tmp.path().join(name);
        let text = eval(&data, &[&run], &report, extra);
        (text, read_eval(&report))
    };
    let (_, one) = eval_seeds(&["--seed", "5"], "one.ron");
    let (_, two) = eval_seeds(&["--seed", "6"], "two.ron");
    let (text, both) = eval_seeds(&["--seed", "5", "--repeats", "2"], "both.ron");
    assert_eq!(one.seeds, vec![5]);
    assert_eq!(both.seeds, vec![5, 6]);
    assert!(text.contains("means over seeds 5, 6"), "{text}");
    assert!(text.contains("average per seed"), "{text}");
    assert_eq!(
        both.swd_generated_per_seed,
        vec![one.swd_generated[3], two.swd_generated[3]]
    );
    assert_eq!(
        both.swd_real_floor_per_seed,
        vec![one.swd_real_floor[3], two.swd_real_floor[3]]
    );
    for level in 0..4 {
        let mean = (one.swd_generated[level] + two.swd_generated[level]) / 2.0;
        assert!((both.swd_generated[level] - mean).abs() < 1e-4);
    }
    assert_ne!(
        one.swd_generated, two.swd_generated,
        "another seed draws other sets"
    );

    let out = hitogata(&[
        "eval",
        "--data",
        data.to_str().unwrap(),
        "--checkpoint",
        run.to_str().unwrap(),
        "--repeats",
        "0",
    ]);
    fails_with(&out, "--repeats");
}

/// The discriminator wins within seconds and `train` warns, naming the step, and goes on.
#[test]
fn train_warns_when_the_discriminator_wins() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    common::write_disc_folder(&data, 16);
    let config = common::winning_discriminator_config();
    let config_path = tmp.path().join("collapse.ron");
    std::fs::write(&config_path, ron::to_string(&config).unwrap()).unwrap();
    let run = tmp.path().join("run");
    let stderr = ok(&hitogata(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--run",
        run.to_str().unwrap(),
        "--config",
        config_path.to_str().unwrap(),
        "--steps",
        "600",
        "--sample-every",
        "0",
        "--checkpoint-every",
        "0",
        "--device",
        "cpu",
    ]));
    let warning = stderr
        .lines()
        .find(|l| l.starts_with("warning: step "))
        .unwrap_or_else(|| panic!("no collapse warning in:\n{stderr}"));
    assert!(warning.contains("discriminator"), "{warning}");
    assert_eq!(stderr.matches("warning: step ").count(), 1, "{stderr}");
    assert!(stderr.contains("done at step 600"), "{stderr}");
}

#[test]
fn train_can_use_resize_convolution_and_generate_reads_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    common::write_disc_folder(&data, 8);
    let run = tmp.path().join("run");
    let stderr = ok(&train(&data, &run, "2", &["--upsampling", "resize"]));
    assert!(stderr.contains("(resize-convolution)"), "{stderr}");
    let model = std::fs::read_to_string(run.join("generator/model.ron")).unwrap();
    assert!(model.contains("Resize"), "{model}");
    let out = tmp.path().join("r.png");
    ok(&generate(&run, &out, &["--count", "2", "--grid"]));
    image::open(&out).unwrap();
    let bad = train(
        &data,
        &tmp.path().join("run2"),
        "2",
        &["--upsampling", "bilinear"],
    );
    fails_with(&bad, "bilinear");
}

#[test]
fn train_can_augment_the_critics_inputs_and_change_it_on_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    common::write_disc_folder(&data, 8);
    let run = tmp.path().join("run");
    let saved = |run: &Path| common::saved_state(run).config.augment;

    let stderr = ok(&train(&data, &run, "2", &[]));
    assert!(stderr.contains("augment off"), "{stderr}");
    let stderr = ok(&train(
        &data,
        &run,
        "3",
        &["--resume", "--augment", "translation,cutout"],
    ));
    assert!(stderr.contains("augment translation+cutout"), "{stderr}");
    assert_eq!(
        saved(&run),
        hitogata::train::Augment {
            color: false,
            translation: true,
            cutout: true,
            color_strength: None,
            lowpass: false,
            lowpass_block: None,
            highpass: false,
        }
    );
    let stderr = ok(&train(&data, &run, "4", &["--resume", "--augment", "none"]));
    assert!(stderr.contains("augment off"), "{stderr}");
    assert!(saved(&run).is_off());

    let fresh = tmp.path().join("fresh");
    let stderr = ok(&train(&data, &fresh, "2", &["--augment", "all"]));
    assert!(
        stderr.contains("augment color+translation+cutout"),
        "{stderr}"
    );
    assert_eq!(saved(&fresh), hitogata::train::Augment::ALL);
    // A milder colour augmentation, on resume; an impossible one is refused.
    let stderr = ok(&train(
        &data,
        &fresh,
        "3",
        &["--resume", "--color-strength", "0.5"],
    ));
    assert!(
        stderr.contains("augment color+translation+cutout (colour strength 0.5)"),
        "{stderr}"
    );
    assert_eq!(saved(&fresh).color_strength, Some(0.5));
    assert!(
        !train(&data, &fresh, "4", &["--resume", "--color-strength", "2"])
            .status
            .success()
    );
    assert_eq!(
        saved(&fresh).color_strength,
        Some(0.5),
        "the refused run saved nothing"
    );
    // Naming the operations again keeps the strength: it is a setting of its own.
    let stderr = ok(&train(
        &data,
        &fresh,
        "4",
        &["--resume", "--augment", "color,translation"],
    ));
    assert!(
        stderr.contains("augment color+translation (colour strength 0.5)"),
        "{stderr}"
    );

    // Adaptive augmentation: a new run starts at no images augmented; the share is saved;
    // switched on when resuming it starts at all; 0 turns it off.
    let ada = tmp.path().join("ada");
    let stderr = ok(&train(
        &data,
        &ada,
        "3",
        &["--augment", "all", "--ada-target", "0.6"],
    ));
    assert!(
        stderr.contains("(adaptive, target 0.6, share now 0.000)"),
        "{stderr}"
    );
    let s = common::saved_state(&ada);
    assert_eq!(s.config.adaptive_augment.map(|a| a.target), Some(0.6));
    assert!(s.augment_share.is_some());
    assert!(s.history.iter().all(|m| m.augment_share.is_some()));
    let stderr = ok(&train(&data, &ada, "4", &["--resume", "--ada-target", "0"]));
    assert!(
        stderr.contains("augment color+translation+cutout\n"),
        "{stderr}"
    );
    assert_eq!(common::saved_state(&ada).config.adaptive_augment, None);
    let stderr = ok(&train(
        &data,
        &ada,
        "5",
        &["--resume", "--ada-target", "0.5"],
    ));
    assert!(
        stderr.contains("(adaptive, target 0.5, share now 1.000)"),
        "{stderr}"
    );
    let stderr = ok(&train(
        &data,
        &ada,
        "6",
        &["--resume", "--ada-target", "0", "--augment-share", "0.25"],
    ));
    assert!(
        stderr.contains("augment color+translation+cutout (share 0.250)"),
        "{stderr}"
    );
    assert_eq!(common::saved_state(&ada).augment_share, Some(0.25));
    let bad = train(&data, &ada, "7", &["--resume", "--augment-share", "2"]);
    fails_with(&bad, "share must be in [0, 1]");
    let bad = train(&data, &ada, "6", &["--resume", "--ada-target", "1.5"]);
    fails_with(&bad, "target must be in (0, 1)");

    let bad = train(
        &data,
        &tmp.path().join("bad"),
        "2",
        &["--augment", "rotate"],
    );
    fails_with(&bad, "rotate");
}

#[test]
fn train_can_start_a_fresh_critic_on_resume_only() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    common::write_disc_folder(&data, 8);
    let run = tmp.path().join("run");
    let critic = |run: &Path| std::fs::read(run.join("checkpoint/critic.safetensors")).unwrap();

    let refused = train(&data, &run, "2", &["--reset-critic"]);
    fails_with(&refused, "--reset-critic applies to --resume only");
    // DCGAN: its critic has BatchNorm.
    ok(&train(&data, &run, "2", &["--algo", "dcgan"]));
    let copy = tmp.path().join("copy");
    common::copy_checkpoint(&run, &copy);
    let stderr = ok(&train(&data, &run, "3", &["--resume", "--reset-critic"]));
    assert!(
        stderr.contains("resuming at step 2 with a fresh critic"),
        "{stderr}"
    );
    let stderr = ok(&train(&data, &copy, "3", &["--resume"]));
    assert!(!stderr.contains("fresh critic"), "{stderr}");
    // One more step from the same checkpoint, with and without the reset: different critics.
    assert_ne!(critic(&run), critic(&copy));

    // A reset critic takes the shape flags; without a reset they are ignored with a note.
    let resume = |run: &Path, extra: &[&str]| {
        let mut args = vec![
            "train",
            "--data",
            data.to_str().unwrap(),
            "--run",
            run.to_str().unwrap(),
            "--steps",
            "4",
            "--device",
            "cpu",
            "--resume",
        ];
        args.extend_from_slice(extra);
        hitogata(&args)
    };
    let stderr = ok(&resume(
        &run,
        &[
            "--reset-critic",
            "--ndf",
            "6",
            "--critic-batch-norm",
            "false",
        ],
    ));
    assert!(stderr.contains("ndf 6 (no BatchNorm)"), "{stderr}");
    assert!(!stderr.contains("are ignored"), "{stderr}");
    let model = std::fs::read_to_string(run.join("checkpoint/model.ron")).unwrap();
    assert!(
        model.contains("ndf: 6") && model.contains("critic_batch_norm: false"),
        "{model}"
    );
    let stderr = ok(&resume(&copy, &["--critic-batch-norm", "false"]));
    assert!(stderr.contains("are ignored"), "{stderr}");
    assert!(stderr.contains("ndf 4,"), "{stderr}");
}

#[test]
fn train_says_when_a_collapse_warning_no_longer_applies() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    common::write_disc_folder(&data, 8);
    let run = tmp.path().join("run");
    common::collapsed_history_run(&run);
    let stderr = ok(&train(&data, &run, "500", &["--resume"]));
    let warned = stderr.find("warning: step 250").expect(&stderr);
    let cleared = stderr
        .find("the collapse warning no longer applies")
        .expect(&stderr);
    assert!(warned < cleared, "{stderr}");
}

#[test]
fn train_sets_the_output_scale_on_new_and_resumed_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    common::write_disc_folder(&data, 8);
    let run = tmp.path().join("run");
    let stderr = ok(&train(&data, &run, "2", &[]));
    assert!(stderr.contains("output scale 1,"), "{stderr}");
    let stderr = ok(&train(
        &data,
        &run,
        "3",
        &["--resume", "--output-scale", "1.1"],
    ));
    assert!(stderr.contains("output scale 1.1,"), "{stderr}");
    let model = std::fs::read_to_string(run.join("generator/model.ron")).unwrap();
    assert!(model.contains("output_scale: Some(1.1)"), "{model}");
    let out = tmp.path().join("s.png");
    ok(&generate(&run, &out, &["--count", "2", "--grid"]));

    for bad in ["5", "0.9"] {
        let out = train(
            &data,
            &tmp.path().join("bad"),
            "2",
            &["--output-scale", bad],
        );
        fails_with(&out, "output_scale must be between 1 and 2");
    }
}

#[test]
fn train_can_pass_real_and_generated_images_through_the_critic_as_one_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    common::write_disc_folder(&data, 8);
    let run = tmp.path().join("run");
    let joint = |run: &Path| common::saved_state(run).config.joint_critic_batch;

    let stderr = ok(&train(&data, &run, "2", &["--algo", "dcgan"]));
    assert!(!stderr.contains("in one batch"), "{stderr}");
    assert!(!joint(&run));
    let stderr = ok(&train(
        &data,
        &run,
        "3",
        &["--resume", "--joint-critic-batch", "true"],
    ));
    assert!(
        stderr.contains("ndf 4 (real and generated in one batch)"),
        "{stderr}"
    );
    assert!(joint(&run));
    // It stays on when resumed without the flag, and goes off when asked.
    ok(&train(&data, &run, "4", &["--resume"]));
    assert!(joint(&run));
    ok(&train(
        &data,
        &run,
        "5",
        &["--resume", "--joint-critic-batch", "false"],
    ));
    assert!(!joint(&run));

    let fresh = tmp.path().join("fresh");
    ok(&train(
        &data,
        &fresh,
        "2",
        &["--algo", "dcgan", "--joint-critic-batch", "true"],
    ));
    assert!(joint(&fresh));
}

#[test]
fn train_can_start_a_new_run_from_a_trained_generator_with_a_critic_warm_up() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    common::write_disc_folder(&data, 8);
    let first = tmp.path().join("first");
    let stderr = ok(&train(&data, &first, "2", &["--algo", "dcgan"]));
    // Without a terminal for the progress bar, a line at each sample grid (every 2 steps here).
    assert!(stderr.contains("step 2/2 | D "), "{stderr}");
    let export_dir = tmp.path().join("export");
    ok(&export(&first, &export_dir, &["--f16"]));

    // No shape flags: the loaded generator's shapes (z 8, ngf 4) are the run's.
    let run = tmp.path().join("run");
    let init = |run: &Path, extra: &[&str]| train_from(&data, run, &export_dir, extra);
    // A detail anchor needs the initial generator; with one it is saved and reported.
    let anchored = tmp.path().join("anchored");
    let stderr = ok(&init(
        &anchored,
        &["--augment", "lowpass", "--detail-anchor", "100"],
    ));
    assert!(stderr.contains("detail anchor: weight 100"), "{stderr}");
    assert_eq!(
        common::saved_state(&anchored).config.detail_anchor,
        Some(100.0)
    );
    let stderr = ok(&train(
        &data,
        &anchored,
        "3",
        &["--resume", "--detail-anchor", "10"],
    ));
    assert!(stderr.contains("detail anchor: weight 10 "), "{stderr}");
    let out = train(
        &data,
        &tmp.path().join("plain"),
        "1",
        &["--detail-anchor", "1"],
    );
    fails_with(&out, "give --init-generator");
    // Its counterpart for a highpass critic: the layout anchor.
    let detail_critic = tmp.path().join("detail-critic");
    let stderr = ok(&init(
        &detail_critic,
        &["--augment", "highpass", "--layout-anchor", "300"],
    ));
    assert!(stderr.contains("augment highpass"), "{stderr}");
    assert!(stderr.contains("layout anchor: weight 300"), "{stderr}");
    let saved = common::saved_state(&detail_critic).config;
    assert_eq!(saved.layout_anchor, Some(300.0));
    assert!(saved.augment.highpass && saved.detail_anchor.is_none());
    let stderr = ok(&train(
        &data,
        &detail_critic,
        "3",
        &["--resume", "--layout-anchor", "30"],
    ));
    assert!(stderr.contains("layout anchor: weight 30 "), "{stderr}");
    let out = train(
        &data,
        &tmp.path().join("plain"),
        "1",
        &["--layout-anchor", "1"],
    );
    fails_with(&out, "give --init-generator");
    let out = train(
        &data,
        &detail_critic,
        "4",
        &["--resume", "--augment", "lowpass,highpass"],
    );
    fails_with(&out, "lowpass and highpass together");

    let stderr = ok(&init(&run, &["--critic-warmup", "3"]));
    assert!(stderr.contains("critic new"), "{stderr}");
    assert!(stderr.contains("critic warm-up: 3 updates"), "{stderr}");
    // Progress lines where there is no terminal for the bar.
    assert!(
        stderr.contains("critic warm-up: 2/3, critic loss"),
        "{stderr}"
    );
    assert!(stderr.contains("ngf 4, ndf 4"), "{stderr}");
    let state = common::saved_state(&run);
    assert_eq!(state.step, 2);
    assert_eq!(state.config.model.latent_dim, 8);
    assert_eq!(
        state.config.initial_generator.as_deref(),
        Some(export_dir.as_path())
    );
    ok(&generate(
        &run,
        &tmp.path().join("s.png"),
        &["--count", "2"],
    ));
    // Resuming keeps the record of where it started; a warm-up also works on resume.
    let stderr = ok(&train(
        &data,
        &run,
        "3",
        &["--resume", "--critic-warmup", "1"],
    ));
    assert!(stderr.contains("critic warm-up: 1 updates"), "{stderr}");
    assert!(common::saved_state(&run).config.initial_generator.is_some());

    // Refused: a shape the loaded generator does not have, resuming with it, no generator.
    let out = init(&tmp.path().join("narrow"), &["--ngf", "2"]);
    fails_with(&out, "not narrow it");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ngf 4") && stderr.contains("ngf 2"),
        "{stderr}"
    );
    // A wider one widens it.
    let stderr = ok(&init(&tmp.path().join("wide"), &["--ngf", "6"]));
    assert!(stderr.contains("widened from ngf 4 to 6"), "{stderr}");
    assert_eq!(
        common::saved_state(&tmp.path().join("wide"))
            .config
            .model
            .ngf,
        6
    );
    let out = init(&run, &["--resume"]);
    fails_with(&out, "--init-generator starts a new run");
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let none = tmp.path().join("none");
    let mut args = train_args(&data, &none, "2", &[]);
    args.extend_from_slice(&["--init-generator", empty.to_str().unwrap()]);
    let out = hitogata(&args);
    fails_with(&out, "empty");
}

#[test]
fn train_and_export_can_give_the_generator_an_output_palette() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    common::write_disc_folder(&data, 8);
    let run = tmp.path().join("run");
    let stderr = ok(&train(
        &data,
        &run,
        "2",
        &["--palette-size", "3", "--palette-width", "5"],
    ));
    assert!(
        stderr.contains("output palette: the 3 most frequent colours of 8 images"),
        "{stderr}"
    );
    let palette = hitogata::checkpoint::read_model_config(&run.join("generator"))
        .unwrap()
        .output_palette
        .expect("the run's generator has a palette");
    assert_eq!((palette.colors.len(), palette.width), (3, 5.0));
    assert_eq!(palette.colors[0], [255, 255, 255]);
    fails_with(
        &train(&data, &run, "3", &["--resume", "--palette-size", "4"]),
        "a resumed run keeps its own",
    );
    // A new run from that generator keeps its palette unless told otherwise.
    let from = tmp.path().join("from");
    let stderr = ok(&train_from(&data, &from, &run, &[]));
    assert!(
        stderr.contains("output palette: 3 colours, width 5"),
        "{stderr}"
    );
    let dropped = tmp.path().join("dropped");
    ok(&train_from(&data, &dropped, &run, &["--palette-size", "0"]));
    assert_eq!(
        common::saved_state(&dropped).config.model.output_palette,
        None
    );

    // export adds, replaces or removes a palette; the pictures follow it.
    let plain = tmp.path().join("plain");
    ok(&export(&run, &plain, &["--palette-size", "0"]));
    assert_eq!(
        hitogata::checkpoint::read_model_config(&plain)
            .unwrap()
            .output_palette,
        None
    );
    let wide = tmp.path().join("wide");
    let stderr = ok(&export(
        &plain,
        &wide,
        &[
            "--palette-from",
            data.to_str().unwrap(),
            "--palette-size",
            "2",
            "--palette-width",
            "100",
        ],
    ));
    assert!(
        stderr.contains("the 2 most frequent colours of 8 images"),
        "{stderr}"
    );
    let (a, b) = (
        draw_seed_one(&plain, &tmp.path().join("a.png")),
        draw_seed_one(&wide, &tmp.path().join("b.png")),
    );
    assert_ne!(a, b, "a palette this wide moves every pixel");
    fails_with(
        &export(
            &plain,
            &tmp.path().join("bad"),
            &[
                "--palette-from",
                data.to_str().unwrap(),
                "--palette-width",
                "0",
            ],
        ),
        "palette width",
    );
    fails_with(
        &export(&plain, &tmp.path().join("bad"), &["--palette-width", "7"]),
        "shape the palette --palette-from makes",
    );
}

#[test]
fn train_can_put_a_latent_mapping_in_front_of_the_generator() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    common::write_disc_folder(&data, 8);
    let plain = tmp.path().join("plain");
    ok(&train(&data, &plain, "2", &[]));
    let mapped = tmp.path().join("mapped");
    let stderr = ok(&train_from(
        &data,
        &mapped,
        &plain.join("generator"),
        &["--latent-mapping", "8", "--mapping-lr", "0.01"],
    ));
    assert!(
        stderr.contains("latent mapping: z + MLP(z), two hidden layers of 8, lr 0.01"),
        "{stderr}"
    );
    let model = |dir: &Path| hitogata::checkpoint::read_model_config(dir).unwrap();
    assert_eq!(model(&mapped.join("generator")).latent_mapping, Some(8));
    let picture = draw_seed_one(&mapped.join("generator"), &tmp.path().join("a.png"));
    assert_eq!(picture.dimensions(), (64, 64));
    fails_with(
        &train(&data, &mapped, "3", &["--resume", "--latent-mapping", "8"]),
        "a resumed run keeps its own",
    );
    // Its rate can change on --resume; a run without a mapping has no such rate.
    let resume_with = |run: &Path, lr: &str| {
        hitogata(&[
            "train",
            "--data",
            data.to_str().unwrap(),
            "--run",
            run.to_str().unwrap(),
            "--steps",
            "3",
            "--resume",
            "--mapping-lr",
            lr,
            "--device",
            "cpu",
        ])
    };
    ok(&resume_with(&mapped, "0.001"));
    assert_eq!(common::saved_state(&mapped).config.mapping_lr, Some(0.001));
    fails_with(&resume_with(&plain, "0.001"), "the model has none");
    // A new run from it keeps the mapping unless told otherwise; 0 drops it.
    let kept = tmp.path().join("kept");
    ok(&train_from(&data, &kept, &mapped.join("generator"), &[]));
    assert_eq!(model(&kept.join("generator")).latent_mapping, Some(8));
    let dropped = tmp.path().join("dropped");
    ok(&train_from(
        &data,
        &dropped,
        &mapped.join("generator"),
        &["--latent-mapping", "0"],
    ));
    assert_eq!(model(&dropped.join("generator")).latent_mapping, None);
    fails_with(
        &train_from(
            &data,
            &tmp.path().join("resized"),
            &mapped.join("generator"),
            &["--latent-mapping", "16"],
        ),
        "latent mapping 8 wide",
    );
}

#[test]
fn train_can_add_a_layout_term_and_change_it_on_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    common::write_disc_folder(&data, 8);
    let run = tmp.path().join("run");
    let stderr = ok(&train(&data, &run, "2", &["--layout-sw", "50"]));
    assert!(stderr.contains("layout term: weight 50 "), "{stderr}");
    assert_eq!(common::saved_state(&run).config.layout_sw, Some(50.0));
    ok(&train(&data, &run, "3", &["--resume", "--layout-sw", "0"]));
    let state = common::saved_state(&run);
    assert_eq!((state.step, state.config.layout_sw), (3, Some(0.0)));
    let out = train(&data, &run, "4", &["--resume", "--layout-sw=-1"]);
    fails_with(&out, "layout term's weight must be finite and at least 0");
    assert_eq!(common::saved_state(&run).step, 3, "the checkpoint stays");
}

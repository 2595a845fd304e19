//! The `hitogata` binary end to end: train, stop/resume, generate, errors.

use crate::common;

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

const DEVICE: &[&str] = &["--device", "cpu"];

/// `train` arguments for a tiny CPU run; the shape flags only for a new run (a resumed one
/// refuses them).
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
    let resumed = extra.contains(&"--resume");
    let from_generator = extra.contains(&"--init-generator");
    for pair in common::TINY_SHAPE.chunks(2).chain(DEVICE.chunks(2)) {
        let shape = matches!(pair[0], "--ngf" | "--latent-dim" | "--n-critic");
        let critic_shape = pair[0] == "--ndf";
        if !(resumed && (shape || critic_shape)) && !(from_generator && shape) {
            args.extend_from_slice(pair);
        }
    }
    args.extend_from_slice(extra);
    args
}

fn train(data: &Path, run: &Path, steps: &str, extra: &[&str]) -> Output {
    hitogata(&train_args(data, run, steps, extra))
}

/// `train ... --json`: the output, and the events it printed on stdout.
fn train_json(
    data: &Path,
    run: &Path,
    steps: &str,
    extra: &[&str],
) -> (Output, Vec<serde_json::Value>) {
    let mut args = train_args(data, run, steps, extra);
    args.push("--json");
    let out = hitogata(&args);
    let events = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (out, events)
}

/// The events named `name`.
fn named<'a>(events: &'a [serde_json::Value], name: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["event"] == name).collect()
}

/// The one event named `name`.
fn the<'a>(events: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    match named(events, name).as_slice() {
        [one] => one,
        other => panic!("{} {name} events in {events:?}", other.len()),
    }
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
fn train_from(
    data: &Path,
    run: &Path,
    generator: &Path,
    extra: &[&str],
) -> (Output, Vec<serde_json::Value>) {
    let mut args = vec![
        "--algo",
        "dcgan",
        "--init-generator",
        generator.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    train_json(data, run, "2", &args)
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

    let (out, events) = train_json(&data, &run, "4", &[]);
    ok(&out);
    assert_eq!(the(&events, "data")["images"], 12);
    assert!(
        the(&events, "started")["device"]
            .as_str()
            .unwrap()
            .starts_with("CPU")
    );
    assert_eq!(named(&events, "progress").len(), 4);
    assert_eq!(the(&events, "stopped")["cause"], "finished");
    assert!(run.join("checkpoint/state.ron").exists());
    assert!(run.join("generator/generator.safetensors").exists());
    for step in [0, 2, 4] {
        let grid = image::open(run.join(format!("samples/step-{step:06}.png"))).unwrap();
        assert!(grid.width() > 64);
    }

    // A second run in the same directory must not overwrite it.
    let before = std::fs::read(run.join("checkpoint/state.ron")).unwrap();
    let again = train(&data, &run, "4", &[]);
    fails_with(&again, "resume");
    assert_eq!(
        std::fs::read(run.join("checkpoint/state.ron")).unwrap(),
        before
    );

    let (out, events) = train_json(&data, &run, "6", &["--resume"]);
    ok(&out);
    assert_eq!(the(&events, "started")["step"], 4);
    assert_eq!(common::saved_state(&run).step, 6);
    assert_eq!(common::saved_state(&run).history.len(), 6);
    // The shapes belong to the checkpoint: a resumed run refuses them.
    let out = train(&data, &run, "7", &["--resume", "--ngf", "8"]);
    fails_with(&out, "--ngf");

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
        vec!["eval", "--help"],
        vec!["export", "--help"],
    ] {
        let out = hitogata(&cmd);
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage"));
    }
    // `train -h`: the common flags come first, on one screen; the rest under headings.
    let out = hitogata(&["train", "-h"]);
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    let common = help
        .split("\n\n")
        .find(|s| s.starts_with("Options:"))
        .unwrap();
    assert!(common.lines().count() <= 16, "{common}");
    for heading in ["Cadence:", "Optimisation:", "Augmentation:", "Fine-tuning:"] {
        assert!(help.contains(heading), "{help}");
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

/// Starts `hitogata ARGS` (a training run into `run`) and returns once it is under way: the
/// sample grid of step 2 is written.
fn train_under_way(args: &[&str], run: &Path) -> std::process::Child {
    let child = Command::new(env!("CARGO_BIN_EXE_hitogata"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !run.join("samples/step-000002.png").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "training did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child
}

fn stopping_saves_a_checkpoint(signal: i32) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    let run = tmp.path().join("run");
    common::write_disc_folder(&data, 8);
    let mut args = train_args(&data, &run, "100000", &[]);
    args.push("--json");
    // Once training is under way (a sample grid after step 2), go on.
    let child = train_under_way(&args, &run);
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as i32, signal) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "stopped", "{stdout}");
    assert_eq!(last["cause"], "asked");
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
    // --profile: every convolution timed, and the iteration's share of them.
    let (table, _) = bench(&["--profile"]);
    for layer in [
        "| G1 | 40×1² → 32×4² |",
        "| G5 | 4×32² → 3×64² |",
        "| D5 | 32×4² → 1×1² |",
    ] {
        assert!(table.contains(layer), "{layer} missing: {table}");
    }
    assert!(
        table.contains("WGAN iteration (5 critic + 1 generator step):"),
        "{table}"
    );

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
    // (The files name their checkpoints, which differ: compare the pixels.)
    let pixels = |p: &Path| image::open(p).unwrap().to_rgb8();
    assert!(
        pixels(&again) == pixels(&png),
        "the round trip changed the pictures"
    );
    let bad = export_scaled("7", &tmp.path().join("bad"));
    fails_with(&bad, "output_scale");
    assert!(!tmp.path().join("bad").exists());
}

#[test]
fn snapshots_keep_each_generator_and_resume_can_start_an_average() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    let run = tmp.path().join("run");
    common::write_disc_folder(&data, 8);

    ok(&train(&data, &run, "2", &["--ema", "0"]));
    assert_eq!(common::saved_state(&run).config.ema_decay, 0.0);
    assert!(!run.join("checkpoint/generator_ema.safetensors").exists());

    let (out, events) = train_json(
        &data,
        &run,
        "4",
        &["--resume", "--ema", "0.99", "--snapshot-every", "1"],
    );
    ok(&out);
    assert_eq!(common::saved_state(&run).config.ema_decay, 0.99);
    assert!(run.join("checkpoint/generator_ema.safetensors").exists());
    let snapshots: Vec<_> = named(&events, "snapshot")
        .iter()
        .map(|e| e["step"].as_u64().unwrap())
        .collect();
    assert_eq!(snapshots, [3, 4]);
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
    assert_eq!(
        common::saved_state(&run).step,
        4,
        "the refused run saved nothing"
    );

    // Annealing on resume: --lr sets both rates, --critic-lr the critic's alone; both are saved.
    // (TINY's WGAN uses RMSProp; the rates apply all the same.)
    ok(&train(
        &data,
        &run,
        "5",
        &["--resume", "--lr", "1e-4", "--critic-lr", "2e-5"],
    ));
    let state = common::saved_state(&run);
    assert_eq!(state.config.optimizer_g.lr(), 1e-4);
    assert_eq!(state.config.optimizer_c.lr(), 2e-5);
    ok(&train(
        &data,
        &run,
        "6",
        &["--resume", "--critic-lr", "3e-5"],
    ));
    let state = common::saved_state(&run);
    assert_eq!(state.config.optimizer_g.lr(), 1e-4);
    assert_eq!(state.config.optimizer_c.lr(), 3e-5);

    // A resumed run can change its batch size (to fill a GPU).
    let mut args = train_args(&data, &run, "7", &["--resume"]);
    let at = args.iter().position(|a| *a == "--batch-size").unwrap();
    args[at + 1] = "3";
    ok(&hitogata(&args));
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
    let out = hitogata(&[
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
        "--json",
    ]);
    let stderr = ok(&out);
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let warning = the(&events, "collapse_suspected");
    assert!(
        warning["median_loss"].as_f64().unwrap() < 0.002,
        "{warning}"
    );
    assert_eq!(the(&events, "stopped")["step"], 600);
    // People read it on the terminal too.
    assert_eq!(stderr.matches("warning: step ").count(), 1, "{stderr}");
}

#[test]
fn train_can_use_resize_convolution_and_generate_reads_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    common::write_disc_folder(&data, 8);
    let run = tmp.path().join("run");
    ok(&train(&data, &run, "2", &["--upsampling", "resize"]));
    let model = hitogata::checkpoint::read_model_config(&run.join("generator")).unwrap();
    assert_eq!(model.upsampling(), hitogata::model::Upsampling::Resize);
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
    use hitogata::train::{Augment, CriticView};
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    common::write_disc_folder(&data, 8);
    let run = tmp.path().join("run");
    let saved = |run: &Path| common::saved_state(run).config.augment;

    ok(&train(&data, &run, "2", &[]));
    assert!(saved(&run).is_off());
    ok(&train(
        &data,
        &run,
        "3",
        &["--resume", "--augment", "translation,cutout"],
    ));
    assert_eq!(
        saved(&run),
        Augment {
            color: false,
            translation: true,
            cutout: true,
            color_strength: None,
        }
    );
    ok(&train(&data, &run, "4", &["--resume", "--augment", "none"]));
    assert!(saved(&run).is_off());

    let fresh = tmp.path().join("fresh");
    ok(&train(&data, &fresh, "2", &["--augment", "all"]));
    assert_eq!(saved(&fresh), Augment::ALL);
    // A milder colour augmentation, on resume; an impossible one is refused.
    ok(&train(
        &data,
        &fresh,
        "3",
        &["--resume", "--color-strength", "0.5"],
    ));
    assert_eq!(saved(&fresh).color_strength, Some(0.5));
    let refused = train(&data, &fresh, "4", &["--resume", "--color-strength", "2"]);
    fails_with(&refused, "colour augmentation strength");
    assert_eq!(
        saved(&fresh).color_strength,
        Some(0.5),
        "the refused run saved nothing"
    );
    // Naming the operations again keeps the strength: it is a setting of its own.
    ok(&train(
        &data,
        &fresh,
        "4",
        &["--resume", "--augment", "color,translation"],
    ));
    let kept = saved(&fresh);
    assert!(kept.color && kept.translation && !kept.cutout);
    assert_eq!(kept.color_strength, Some(0.5));
    // What the critic sees is its own setting, on new runs and on resume.
    ok(&train(
        &data,
        &fresh,
        "5",
        &["--resume", "--critic-view", "lowpass2"],
    ));
    assert_eq!(
        common::saved_state(&fresh).config.critic_view,
        CriticView::Lowpass(2)
    );
    let lowpass = tmp.path().join("lowpass");
    ok(&train(&data, &lowpass, "2", &["--critic-view", "lowpass"]));
    assert_eq!(
        common::saved_state(&lowpass).config.critic_view,
        CriticView::Lowpass(4)
    );

    // Adaptive augmentation: a new run starts at no images augmented; the share is saved;
    // switched on when resuming it starts at all; 0 turns it off.
    let ada = tmp.path().join("ada");
    let (out, events) = train_json(
        &data,
        &ada,
        "3",
        &["--augment", "all", "--ada-target", "0.6"],
    );
    ok(&out);
    assert_eq!(named(&events, "progress")[0]["augment_share"], 0.0);
    let s = common::saved_state(&ada);
    assert_eq!(s.config.adaptive_augment.map(|a| a.target), Some(0.6));
    assert!(s.augment_share.is_some());
    assert!(s.history.iter().all(|m| m.augment_share.is_some()));
    ok(&train(&data, &ada, "4", &["--resume", "--ada-target", "0"]));
    let s = common::saved_state(&ada);
    assert_eq!((s.config.adaptive_augment, s.augment_share), (None, None));
    ok(&train(
        &data,
        &ada,
        "5",
        &["--resume", "--ada-target", "0.5"],
    ));
    let s = common::saved_state(&ada);
    assert_eq!(s.config.adaptive_augment.map(|a| a.target), Some(0.5));
    assert_eq!(
        s.history[4].augment_share,
        Some(1.0),
        "switched on, it starts at all"
    );
    ok(&train(
        &data,
        &ada,
        "6",
        &["--resume", "--ada-target", "0", "--augment-share", "0.25"],
    ));
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
    fails_with(&refused, "--reset-critic");
    assert!(!run.exists(), "nothing written");
    // DCGAN: its critic has BatchNorm.
    ok(&train(&data, &run, "2", &["--algo", "dcgan"]));
    let copy = tmp.path().join("copy");
    common::copy_checkpoint(&run, &copy);
    ok(&train(&data, &run, "3", &["--resume", "--reset-critic"]));
    ok(&train(&data, &copy, "3", &["--resume"]));
    // One more step from the same checkpoint, with and without the reset: different critics.
    assert_ne!(critic(&run), critic(&copy));

    // A reset critic takes the critic's shape flags; without a reset they are refused.
    ok(&train(
        &data,
        &run,
        "4",
        &[
            "--resume",
            "--reset-critic",
            "--ndf",
            "6",
            "--critic-batch-norm",
            "false",
        ],
    ));
    let model = common::saved_state(&run).config.model;
    assert_eq!((model.ndf, model.critic_batch_norm), (6, false));
    let out = train(
        &data,
        &copy,
        "4",
        &["--resume", "--critic-batch-norm", "false"],
    );
    fails_with(&out, "reset");
    assert_eq!(common::saved_state(&copy).step, 3);
}

#[test]
fn train_says_when_a_collapse_warning_no_longer_applies() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    common::write_disc_folder(&data, 8);
    let run = tmp.path().join("run");
    common::collapsed_history_run(&run);
    let (out, events) = train_json(&data, &run, "500", &["--resume"]);
    ok(&out);
    let position = |name: &str| events.iter().position(|e| e["event"] == name).unwrap();
    assert_eq!(the(&events, "collapse_suspected")["step"], 250);
    assert!(position("collapse_suspected") < position("collapse_cleared"));
}

#[test]
fn train_sets_the_output_scale_on_new_and_resumed_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    common::write_disc_folder(&data, 8);
    let run = tmp.path().join("run");
    let scale = |dir: &Path| {
        hitogata::checkpoint::read_model_config(dir)
            .unwrap()
            .output_scale()
    };
    ok(&train(&data, &run, "2", &[]));
    assert_eq!(scale(&run.join("generator")), 1.0);
    ok(&train(
        &data,
        &run,
        "3",
        &["--resume", "--output-scale", "1.1"],
    ));
    assert_eq!(scale(&run.join("generator")), 1.1);
    assert_eq!(scale(&run.join("checkpoint")), 1.1);
    let scaled = tmp.path().join("scaled");
    ok(&train(&data, &scaled, "1", &["--output-scale", "1.3"]));
    assert_eq!(scale(&scaled.join("generator")), 1.3);
    let out = tmp.path().join("s.png");
    ok(&generate(&run, &out, &["--count", "2", "--grid"]));

    for bad in ["5", "0.9"] {
        let dir = tmp.path().join("bad");
        let out = train(&data, &dir, "2", &["--output-scale", bad]);
        fails_with(&out, "output_scale must be between 1 and 2");
        assert!(!dir.join("checkpoint").exists());
    }
}

#[test]
fn train_can_start_a_new_run_from_a_trained_generator_with_a_critic_warm_up() {
    use hitogata::train::CriticView;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    common::write_disc_folder(&data, 8);
    let first = tmp.path().join("first");
    ok(&train(&data, &first, "2", &["--algo", "dcgan"]));
    let export_dir = tmp.path().join("export");
    ok(&export(&first, &export_dir, &["--f16"]));

    // No shape flags: the loaded generator's shapes (z 8, ngf 4) are the run's.
    let run = tmp.path().join("run");
    let init = |run: &Path, extra: &[&str]| train_from(&data, run, &export_dir, extra);
    // A detail anchor needs the initial generator; with one it is saved, and can change on
    // resume.
    let anchored = tmp.path().join("anchored");
    let (out, _) = init(
        &anchored,
        &["--critic-view", "lowpass", "--detail-anchor", "100"],
    );
    ok(&out);
    let config = common::saved_state(&anchored).config;
    assert_eq!(config.detail_anchor, Some(100.0));
    assert_eq!(config.critic_view, CriticView::Lowpass(4));
    ok(&train(
        &data,
        &anchored,
        "3",
        &["--resume", "--detail-anchor", "10"],
    ));
    assert_eq!(
        common::saved_state(&anchored).config.detail_anchor,
        Some(10.0)
    );
    let out = train(
        &data,
        &tmp.path().join("plain"),
        "1",
        &["--detail-anchor", "1"],
    );
    fails_with(&out, "--init-generator");

    let (out, events) = init(&run, &["--critic-warmup", "3"]);
    ok(&out);
    let warmups: Vec<u64> = named(&events, "critic_warmup")
        .iter()
        .map(|e| e["done"].as_u64().unwrap())
        .collect();
    assert_eq!(warmups, [1, 2, 3]);
    let first_step = events
        .iter()
        .position(|e| e["event"] == "progress")
        .unwrap();
    let last_warmup = events
        .iter()
        .rposition(|e| e["event"] == "critic_warmup")
        .unwrap();
    assert!(last_warmup < first_step, "the warm-up comes first");
    let state = common::saved_state(&run);
    assert_eq!(state.step, 2);
    assert_eq!(
        (state.config.model.latent_dim, state.config.model.ngf),
        (8, 4)
    );
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
    let (out, events) = train_json(&data, &run, "3", &["--resume", "--critic-warmup", "1"]);
    ok(&out);
    assert_eq!(named(&events, "critic_warmup").len(), 1);
    assert!(common::saved_state(&run).config.initial_generator.is_some());

    // Refused: shapes other than the generator's, resuming with it, no generator.
    let (out, _) = init(&tmp.path().join("narrow"), &["--ngf", "2"]);
    fails_with(&out, "--ngf");
    let out = train(
        &data,
        &run,
        "4",
        &["--resume", "--init-generator", export_dir.to_str().unwrap()],
    );
    fails_with(&out, "--init-generator");
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let (out, _) = train_from(&data, &tmp.path().join("none"), &empty, &[]);
    fails_with(&out, "empty");
}

#[test]
fn checkpoints_written_before_the_removals_resume_or_are_refused_clearly() {
    use hitogata::train::CriticView;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    common::write_disc_folder(&data, 8);
    let run = tmp.path().join("run");
    ok(&train(&data, &run, "2", &["--algo", "dcgan"]));
    let state_file = run.join("checkpoint/state.ron");
    let model_file = run.join("checkpoint/model.ron");
    let (state, model) = (
        std::fs::read_to_string(&state_file).unwrap(),
        std::fs::read_to_string(&model_file).unwrap(),
    );
    // As hitogata 0.1 wrote them: a lowpass 2×2 critic was a flag on the augmentation, and
    // the removed experiments had their fields.
    let old_state = |extra: &str| {
        state.replace("critic_view: Full,", extra).replace(
            "cutout: false",
            "cutout: false, lowpass: true, lowpass_block: Some(2)",
        )
    };
    assert!(state.contains("critic_view: Full,"), "{state}");
    assert_eq!(state.matches("cutout: false").count(), 1, "{state}");
    std::fs::write(
        &state_file,
        old_state("joint_critic_batch: false, layout_sw: None,"),
    )
    .unwrap();
    ok(&train(&data, &run, "3", &["--resume"]));
    let resumed = common::saved_state(&run);
    assert_eq!(resumed.step, 3);
    assert_eq!(resumed.config.critic_view, CriticView::Lowpass(2));

    // One that used a removed experiment is refused, naming it and the version.
    common::copy_checkpoint(&run, &tmp.path().join("copy"));
    std::fs::write(&state_file, old_state("layout_sw: Some(50.0),")).unwrap();
    let out = train(&data, &run, "4", &["--resume"]);
    fails_with(&out, "layout term");
    fails_with(&out, "hitogata 0.1");
    std::fs::write(&state_file, old_state("")).unwrap();
    std::fs::write(
        &model_file,
        model.replace(
            "output_scale: None",
            "output_scale: None, latent_mapping: Some(8)",
        ),
    )
    .unwrap();
    let out = train(&data, &run, "4", &["--resume"]);
    fails_with(&out, "latent mapping");
    assert_eq!(
        std::fs::read_to_string(&state_file).unwrap(),
        old_state(""),
        "nothing was overwritten"
    );
}

#[test]
fn the_cli_and_the_apps_worker_train_the_same_run() {
    use hitogata::train::{RunSpec, TrainEvent, TrainJob, TrainWorker};
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    common::write_disc_folder(&data, 8);
    let by_cli = tmp.path().join("cli");
    ok(&train(
        &data,
        &by_cli,
        "4",
        &["--seed", "5", "--snapshot-every", "2", "--algo", "dcgan"],
    ));

    // The same run as the Training tab sends it to its worker thread.
    let mut config = hitogata::train::TrainConfig::for_algorithm(hitogata::train::Algorithm::Dcgan);
    config.model = config.model.with_ngf(4).with_ndf(4).with_latent_dim(8);
    config.batch_size = 8;
    config.n_critic = 2;
    config.seed = 5;
    let by_app = tmp.path().join("app");
    let job = TrainJob {
        device: hitogata::device::DeviceChoice::Cpu,
        sample_every: 2,
        checkpoint_every: 2,
        snapshot_every: 2,
        max_steps: Some(4),
        ..TrainJob::new(&data, &by_app, RunSpec::new(config))
    };
    let worker = TrainWorker::start(job, Box::new(|| {}));
    loop {
        match worker.recv_timeout(std::time::Duration::from_secs(120)) {
            Some(TrainEvent::Stopped { .. }) => break,
            Some(TrainEvent::Failed(e)) => panic!("{e}"),
            Some(_) => {}
            None => panic!("the worker went quiet"),
        }
    }
    drop(worker);
    // Bit for bit on the CPU: the same steps, snapshots and checkpoint.
    let losses = |run: &Path| -> Vec<(f32, f32)> {
        common::saved_state(run)
            .history
            .iter()
            .map(|m| (m.critic_loss, m.generator_loss))
            .collect()
    };
    assert_eq!(losses(&by_cli), losses(&by_app));
    // (The files' metadata maps may list their keys in another order: compare the tensors.)
    let tensors = |path: &Path| -> Vec<(String, Vec<u8>)> {
        let bytes = std::fs::read(path).unwrap();
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let mut all: Vec<_> = file
            .tensors()
            .into_iter()
            .map(|(name, view)| (name, view.data().to_vec()))
            .collect();
        all.sort();
        all
    };
    for file in [
        "snapshots/step-000002/generator.safetensors",
        "snapshots/step-000004/generator.safetensors",
        "checkpoint/generator.safetensors",
        "checkpoint/generator_ema.safetensors",
        "checkpoint/critic.safetensors",
    ] {
        assert!(
            tensors(&by_cli.join(file)) == tensors(&by_app.join(file)),
            "{file} differs"
        );
    }
    let pixels = |run: &Path| {
        image::open(run.join("samples/step-000004.png"))
            .unwrap()
            .to_rgb8()
    };
    assert!(pixels(&by_cli) == pixels(&by_app), "the same sample grid");
}

#[test]
fn a_recipe_runs_its_legs_in_order_and_picks_up_where_it_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    common::write_disc_folder(&data, 8);
    let recipe = tmp.path().join("tiny.ron");
    std::fs::write(
        &recipe,
        format!(
            r#"(
    data: {data:?},
    legs: [
        (
            run: "base",
            start: New(algorithm: Dcgan, seed: 3, model: Some((
                latent_dim: 8, ngf: 4, ndf: 4, critic_batch_norm: true,
                upsampling: None, output_scale: None,
            ))),
            changes: (batch_size: Some(8)),
            until: 2,
            snapshot_every: 2,
        ),
        (run: "base", start: Resume(leg: "base"), changes: (lr: Some(1e-4)), until: 3),
        (
            run: "tune",
            start: FromGenerator(generator: Snapshot(leg: "base", step: 2), algorithm: Dcgan, seed: 4, ndf: Some(4)),
            changes: (batch_size: Some(8), critic_view: Some(Lowpass(4)), detail_anchor: Some(10.0)),
            critic_warmup: 2,
            until: 2,
        ),
    ],
)"#
        ),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "--recipe",
            recipe.to_str().unwrap(),
            "--run",
            out.to_str().unwrap(),
            "--device",
            "cpu",
            "--json",
        ];
        args.extend_from_slice(extra);
        let out = hitogata(&args);
        let stderr = ok(&out);
        let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (stderr, events)
    };
    let (_, events) = run(&[]);
    let stops: Vec<_> = named(&events, "stopped")
        .iter()
        .map(|e| e["step"].as_u64().unwrap())
        .collect();
    assert_eq!(stops, [2, 3, 2], "three legs");
    let base = common::saved_state(&out.join("base"));
    assert_eq!((base.step, base.config.optimizer_g.lr()), (3, 1e-4));
    let tune = common::saved_state(&out.join("tune")).config;
    assert_eq!(tune.critic_view, hitogata::train::CriticView::Lowpass(4));
    assert_eq!(tune.detail_anchor, Some(10.0));
    assert_eq!(
        tune.initial_generator.as_deref(),
        Some(out.join("base/snapshots/step-000002").as_path())
    );
    assert_eq!(named(&events, "critic_warmup").len(), 2);
    // Run again: every leg is done, nothing trains.
    let (_, events) = run(&[]);
    assert!(named(&events, "progress").is_empty(), "{events:?}");

    // The shipped recipes read and check.
    for name in ["faces", "people"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("recipes/{name}.ron"));
        let recipe = hitogata::train::Recipe::load(&path).unwrap();
        assert!(recipe.legs.len() >= 4, "{name}");
    }
    // A recipe that refers to a leg it does not have is refused before anything runs.
    let bad = tmp.path().join("bad.ron");
    std::fs::write(
        &bad,
        r#"(data: "x", legs: [(run: "a", start: Resume(leg: "a"), until: 1)])"#,
    )
    .unwrap();
    let out = hitogata(&[
        "train",
        "--recipe",
        bad.to_str().unwrap(),
        "--run",
        "unused",
    ]);
    fails_with(&out, "no earlier leg");
}

#[test]
fn the_dataset_folder_removed_during_training_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("discs");
    let run = tmp.path().join("run");
    common::write_disc_folder(&data, 8);
    // Once training is under way (a sample grid after step 2), go on.
    let child = train_under_way(&train_args(&data, &run, "12", &[]), &run);
    std::fs::remove_dir_all(&data).unwrap();
    // The pictures were read into memory at the start: the run goes on to its end.
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(common::saved_state(&run).step, 12);
    // Resuming without the folder says which folder is missing and keeps the checkpoint.
    let out = hitogata(&train_args(&data, &run, "20", &["--resume"]));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("discs"), "{stderr}");
    assert_eq!(common::saved_state(&run).step, 12);
    hitogata::checkpoint::load_generator(&run, &common::cpu().device).unwrap();
}

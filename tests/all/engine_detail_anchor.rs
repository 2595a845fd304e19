//! The detail anchor: a run from a trained generator whose fine detail is pulled towards the
//! initial generator's, for a lowpass critic that cannot see it.

use crate::common;

use burn::module::Module;
use hitogata::checkpoint::load_generator;
use hitogata::latent::sample_batch;
use hitogata::model::Generator;
use hitogata::train::{CriticView, RunChanges, TrainConfig, TrainError, TrainingSession};

/// A DCGAN run whose critic sees 4×4 block averages only, with a fast generator (so the
/// detail the critic cannot see drifts within a few steps), and a detail anchor of this weight.
fn config(anchor: Option<f32>) -> TrainConfig {
    let mut config = TrainConfig {
        seed: 21,
        critic_view: CriticView::Lowpass(4),
        detail_anchor: anchor,
        ..common::tiny_dcgan_config()
    };
    config.optimizer_g = config.optimizer_g.clone().with_lr(2e-3);
    config
}

fn anchor_weight(weight: f32) -> RunChanges {
    RunChanges {
        detail_anchor: Some(weight),
        ..RunChanges::default()
    }
}

/// Root mean square of (picture − its 4×4 block means) between two generators' pictures, in
/// training mode (batch statistics), as the anchor compares them: the running statistics move
/// with training whatever the weights do.
fn detail_distance(a: &Generator, b: &Generator, device: &burn::tensor::Device) -> f32 {
    let z = sample_batch(3, 16, a.latent_dim());
    let z = hitogata::inference::latents_tensor(&z, device);
    let autodiff = device.clone().autodiff();
    let seen = |g: &Generator| {
        let g = g.clone().fork(&autodiff).train().no_grad();
        let x = g.forward(z.clone().to_device(&autodiff)).without_autodiff();
        common::values(hitogata::train::fine_detail(x))
    };
    let (da, db) = (seen(a), seen(b));
    let sum: f32 = da.iter().zip(&db).map(|(x, y)| (x - y) * (x - y)).sum();
    (sum / da.len() as f32).sqrt()
}

/// The initial generator, and the raw generators of two runs from it after 16 steps: one
/// with `with_anchor`, one with `without` (the same run without the anchor). Checks that at
/// step 1 the anchor adds nothing: the generator still equals the initial one.
fn anchored_and_free(
    with_anchor: TrainConfig,
    without: TrainConfig,
    device: &burn::tensor::Device,
) -> (Generator, Generator, Generator) {
    let export = tempfile::tempdir().unwrap();
    common::trained_tiny_export(export.path());
    let initial = load_generator(export.path(), device).unwrap().generator;
    let data = common::disc_dataset(8);
    let start = |config| {
        TrainingSession::from_generator(config, export.path(), data.clone(), device).unwrap()
    };
    let (mut anchored, mut free) = (start(with_anchor), start(without));
    let first = anchored.step().unwrap();
    let mut other = free.step().unwrap();
    other.images_per_sec = first.images_per_sec;
    other.seconds = first.seconds;
    assert_eq!(first, other, "step 1: the anchor adds nothing");
    for _ in 0..15 {
        anchored.step().unwrap();
        free.step().unwrap();
    }
    (initial, anchored.raw_generator(), free.raw_generator())
}

#[test]
fn the_anchor_starts_at_zero_and_holds_the_detail_near_the_initial_generator() {
    let dev = common::cpu();
    let (initial, anchored, free) =
        anchored_and_free(config(Some(10000.0)), config(None), &dev.device);
    let held = detail_distance(&anchored, &initial, &dev.device);
    let drifted = detail_distance(&free, &initial, &dev.device);
    assert!(drifted > 0.0);
    assert!(
        held < 0.5 * drifted,
        "detail distance from the initial generator: {held} anchored, {drifted} free"
    );
}

/// Critic and generator losses of the next `n` steps.
fn losses(s: &mut TrainingSession, n: usize) -> Vec<(f32, f32)> {
    (0..n)
        .map(|_| {
            let m = s.step().unwrap();
            (m.critic_loss, m.generator_loss)
        })
        .collect()
}

/// Trains a run from `export` with `config` for 4 steps straight and for 2 + 2 with a
/// checkpoint between; asserts both give the same losses and that the initial generator was
/// saved. Returns the run directory (at step 2).
fn assert_resumes_exactly(
    config: TrainConfig,
    export: &std::path::Path,
    data: &std::sync::Arc<hitogata::data::Dataset>,
    device: &burn::tensor::Device,
) -> tempfile::TempDir {
    let start =
        || TrainingSession::from_generator(config.clone(), export, data.clone(), device).unwrap();
    let straight = losses(&mut start(), 4);
    let run = tempfile::tempdir().unwrap();
    let mut first = start();
    let mut split = losses(&mut first, 2);
    first.save_checkpoint(run.path()).unwrap();
    assert!(run.path().join(hitogata::checkpoint::ANCHOR_FILE).exists());
    let mut resumed = TrainingSession::resume(run.path(), data.clone(), device).unwrap();
    assert_eq!(resumed.config(), first.config());
    split.extend(losses(&mut resumed, 2));
    assert_eq!(split, straight, "resuming is exact, the anchors included");
    run
}

#[test]
fn an_anchored_run_resumes_exactly_and_can_change_its_weight() {
    let dev = common::cpu();
    let export = tempfile::tempdir().unwrap();
    common::trained_tiny_export(export.path());
    let data = common::disc_dataset(8);
    let run = assert_resumes_exactly(config(Some(50.0)), export.path(), &data, &dev.device);

    // The weight can change on resume; a bad one is refused.
    let mut again = TrainingSession::resume(run.path(), data.clone(), &dev.device).unwrap();
    again.apply(&anchor_weight(5.0)).unwrap();
    assert_eq!(again.config().detail_anchor, Some(5.0));
    assert!(again.apply(&anchor_weight(f32::NAN)).is_err());
    assert!(again.apply(&anchor_weight(-1.0)).is_err());
    assert_eq!(again.config().detail_anchor, Some(5.0));

    // A checkpoint that lost its anchor file is an error, not a silent run without it.
    std::fs::remove_file(run.path().join(hitogata::checkpoint::ANCHOR_FILE)).unwrap();
    assert!(TrainingSession::resume(run.path(), data, &dev.device).is_err());
}

#[test]
fn runs_without_an_initial_generator_cannot_be_anchored() {
    let dev = common::cpu();
    let data = common::disc_dataset(8);
    match TrainingSession::new(config(Some(1.0)), data.clone(), &dev.device) {
        Err(TrainError::Config(message)) => assert!(message.contains("trained generator")),
        other => panic!("expected a config error, got {:?}", other.err()),
    }
    let mut plain = TrainingSession::new(config(None), data, &dev.device).unwrap();
    assert!(plain.apply(&anchor_weight(1.0)).is_err());
    let export = tempfile::tempdir().unwrap();
    common::trained_tiny_export(export.path());
    let bad = TrainingSession::from_generator(
        config(Some(-2.0)),
        export.path(),
        common::disc_dataset(8),
        &dev.device,
    );
    assert!(matches!(bad, Err(TrainError::Config(_))));
}

#[test]
fn the_anchor_draws_at_the_runs_output_scale() {
    // The initial generator's pictures are compared at the run's scale, whenever it changes:
    // otherwise the anchor would pull towards other pictures from step 1.
    let dev = common::cpu();
    let export = tempfile::tempdir().unwrap();
    common::trained_tiny_export(export.path());
    let data = common::disc_dataset(8);
    let first_step = |anchor: Option<f32>, start_scale: f32, later_scale: Option<f32>| {
        let mut s = TrainingSession::from_generator(
            config(anchor),
            export.path(),
            data.clone(),
            &dev.device,
        )
        .unwrap();
        for scale in [Some(start_scale), later_scale].into_iter().flatten() {
            let change = RunChanges {
                output_scale: Some(scale),
                ..RunChanges::default()
            };
            s.apply(&change).unwrap();
        }
        let m = s.step().unwrap();
        (m.critic_loss, m.generator_loss)
    };
    assert_eq!(
        first_step(Some(1e4), 1.3, None),
        first_step(None, 1.3, None)
    );
    assert_eq!(
        first_step(Some(1e4), 1.0, Some(1.4)),
        first_step(None, 1.0, Some(1.4))
    );
}

//! The latent mapping: z + MLP(z) in front of the generator. Added to a trained generator it
//! must change nothing until training moves it; it must train, be reproducible from a seed,
//! survive saving (f32 and f16), resuming and widening, and refuse broken or mismatched shapes.

mod common;

use hitogata::checkpoint::{MODEL_FILE, load_generator, write_ron};
use hitogata::inference::latents_tensor;
use hitogata::latent::sample_batch;
use hitogata::model::{Generator, widen_generator};
use hitogata::train::{ResumeOverrides, TrainConfig, TrainError, TrainingSession};

const WIDTH: usize = 16;

fn drawn(g: &Generator, device: &burn::tensor::Device) -> Vec<f32> {
    common::values(g.forward(latents_tensor(&sample_batch(5, 6, 8), device)))
}

/// A tiny run's config that asks for a mapping.
fn mapped_config() -> TrainConfig {
    let mut config = common::tiny_train_config();
    config.model.latent_mapping = Some(WIDTH);
    config
}

/// A tiny trained export without a mapping, then a run from it that adds one, trained `steps`.
fn run_adding_a_mapping(dir: &std::path::Path, steps: usize) -> TrainingSession {
    common::trained_tiny_export(dir);
    let mut session = TrainingSession::from_generator(
        mapped_config(),
        dir,
        common::disc_dataset(8),
        &common::cpu().device,
    )
    .unwrap();
    for _ in 0..steps {
        session.step().unwrap();
    }
    session
}

#[test]
fn a_new_mapping_starts_as_the_identity_and_training_moves_it() {
    let dir = tempfile::tempdir().unwrap();
    let dev = common::cpu();
    let session = run_adding_a_mapping(dir.path(), 0);
    let loaded = load_generator(dir.path(), &dev.device).unwrap().generator;
    assert_eq!(loaded.latent_mapping_width(), None);
    let start = session.raw_generator();
    assert_eq!(start.latent_mapping_width(), Some(WIDTH));
    assert_eq!(session.config().model.latent_mapping, Some(WIDTH));
    let diff = common::max_diff(&drawn(&loaded, &dev.device), &drawn(&start, &dev.device));
    assert!(diff < 1e-6, "a new mapping changes nothing: {diff}");

    let mut session = session;
    for _ in 0..3 {
        let metrics = session.step().unwrap();
        assert!(metrics.generator_loss.is_finite());
    }
    // (Compared on the latents: a tiny generator's pictures hardly move in 3 steps.)
    assert_eq!(displacement(&start), 0.0);
    let moved = displacement(&session.raw_generator());
    assert!(
        moved > 1e-5,
        "training moved the mapping off the identity: {moved}"
    );
}

/// How far the mapping moves latents (largest change over a batch).
fn displacement(g: &Generator) -> f32 {
    let dev = common::cpu();
    let z = latents_tensor(&sample_batch(5, 6, 8), &dev.device);
    let values = |t: burn::tensor::Tensor<2>| t.into_data().try_to_vec::<f32>().unwrap();
    common::max_diff(&values(g.mapped_latents(z.clone())), &values(z))
}

#[test]
fn the_mapping_learns_at_its_own_rate_which_a_resumed_run_keeps() {
    let dir = tempfile::tempdir().unwrap();
    common::trained_tiny_export(dir.path());
    let dev = common::cpu();
    let data = common::disc_dataset(8);
    let session = |mapping_lr: Option<f64>| {
        let config = TrainConfig {
            mapping_lr,
            ..mapped_config()
        };
        TrainingSession::from_generator(config, dir.path(), data.clone(), &dev.device).unwrap()
    };
    let (mut slow, mut fast) = (session(None), session(Some(1e-2)));
    for _ in 0..2 {
        slow.step().unwrap();
        fast.step().unwrap();
    }
    let (slow_moved, fast_moved) = (
        displacement(&slow.raw_generator()),
        displacement(&fast.raw_generator()),
    );
    assert!(
        fast_moved > 10.0 * slow_moved,
        "rate 1e-2 moves the mapping further than the generator's 5e-5: {fast_moved} vs {slow_moved}"
    );

    let run = tempfile::tempdir().unwrap();
    fast.save_checkpoint(&run.path().join("checkpoint"))
        .unwrap();
    let mut resumed = TrainingSession::resume(run.path(), data.clone(), &dev.device).unwrap();
    assert_eq!(resumed.config().mapping_lr, Some(1e-2));
    fast.step().unwrap();
    resumed.step().unwrap();
    assert_eq!(
        drawn(&resumed.raw_generator(), &dev.device),
        drawn(&fast.raw_generator(), &dev.device),
        "a resumed run goes on exactly, its mapping's rate included"
    );
    ResumeOverrides {
        mapping_lr: Some(3e-3),
        ..Default::default()
    }
    .apply(&mut resumed)
    .unwrap();
    assert_eq!(resumed.config().mapping_lr, Some(3e-3));

    // No mapping, no mapping rate.
    let mut plain = common::tiny_train_config();
    plain.mapping_lr = Some(1e-3);
    let refused = TrainingSession::new(plain.clone(), data.clone(), &dev.device);
    assert!(matches!(refused, Err(TrainError::Config(m)) if m.contains("latent mapping")));
    plain.mapping_lr = None;
    let mut plain = TrainingSession::new(plain, data, &dev.device).unwrap();
    assert!(plain.set_mapping_lr(1e-3).is_err());
}

#[test]
fn a_seed_draws_the_same_mapping() {
    let dev = common::cpu();
    let after_two_steps = |seed: u64| {
        let mut config = mapped_config();
        config.seed = seed;
        let mut s = TrainingSession::new(config, common::disc_dataset(8), &dev.device).unwrap();
        s.step().unwrap();
        s.step().unwrap();
        drawn(&s.raw_generator(), &dev.device)
    };
    let (a, b) = (after_two_steps(3), after_two_steps(3));
    assert_eq!(a, b, "the same seed, the same mapping and training");
    assert_ne!(a, after_two_steps(4));
}

#[test]
fn the_mapping_is_saved_in_f32_and_f16_and_a_run_resumes_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let dev = common::cpu();
    let session = run_adding_a_mapping(dir.path(), 2);
    let generator = session.raw_generator();
    let config = session.config().model.clone();
    let before = drawn(&generator, &dev.device);
    for half in [false, true] {
        let out = tempfile::tempdir().unwrap();
        common::export_as(half, &config, &generator, out.path());
        let loaded = load_generator(out.path(), &dev.device).unwrap();
        assert_eq!(loaded.config.latent_mapping, Some(WIDTH));
        let diff = common::max_diff(&before, &drawn(&loaded.generator, &dev.device));
        assert!(diff < if half { 0.02 } else { 1e-6 }, "f16 {half}: {diff}");
    }

    let run = tempfile::tempdir().unwrap();
    session
        .save_checkpoint(&run.path().join("checkpoint"))
        .unwrap();
    let resumed =
        TrainingSession::resume(run.path(), common::disc_dataset(8), &dev.device).unwrap();
    assert_eq!(resumed.config().model.latent_mapping, Some(WIDTH));
    let diff = common::max_diff(&before, &drawn(&resumed.raw_generator(), &dev.device));
    assert!(diff < 1e-6, "resumed: {diff}");
}

#[test]
fn widening_keeps_the_mapping_and_the_pictures() {
    let dir = tempfile::tempdir().unwrap();
    let dev = common::cpu();
    let session = run_adding_a_mapping(dir.path(), 2);
    let generator = session.raw_generator();
    let (config, wide) = widen_generator(&session.config().model, &generator, 8, 7).unwrap();
    assert_eq!(config.latent_mapping, Some(WIDTH));
    assert_eq!(wide.latent_mapping_width(), Some(WIDTH));
    let diff = common::max_diff(&drawn(&generator, &dev.device), &drawn(&wide, &dev.device));
    assert!(diff < 1e-5, "{diff}");
}

#[test]
fn a_run_keeps_or_drops_a_loaded_mapping_but_will_not_resize_it() {
    let dir = tempfile::tempdir().unwrap();
    let dev = common::cpu();
    let session = run_adding_a_mapping(dir.path(), 2);
    let export = dir.path().join("mapped");
    session.export_generator(&export).unwrap();
    let mapped = load_generator(&export, &dev.device).unwrap().generator;
    let data = common::disc_dataset(8);

    let kept = TrainingSession::from_generator(mapped_config(), &export, data.clone(), &dev.device)
        .unwrap()
        .raw_generator();
    assert_eq!(drawn(&kept, &dev.device), drawn(&mapped, &dev.device));

    let mut none = mapped_config();
    none.model.latent_mapping = None;
    let dropped = TrainingSession::from_generator(none, &export, data.clone(), &dev.device)
        .unwrap()
        .raw_generator();
    assert_eq!(dropped.latent_mapping_width(), None);

    let mut wider = mapped_config();
    wider.model.latent_mapping = Some(2 * WIDTH);
    match TrainingSession::from_generator(wider, &export, data, &dev.device) {
        Err(TrainError::Mismatch(message)) => {
            assert!(message.contains("latent mapping 16 wide"), "{message}")
        }
        Err(e) => panic!("not a mismatch: {e}"),
        Ok(_) => panic!("a mapping's width cannot change"),
    }
}

#[test]
fn a_broken_mapping_width_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let dev = common::cpu();
    let session = run_adding_a_mapping(dir.path(), 0);
    let export = dir.path().join("mapped");
    session.export_generator(&export).unwrap();
    let mut config = load_generator(&export, &dev.device).unwrap().config;
    for width in [0, 100_000] {
        config.latent_mapping = Some(width);
        write_ron(&export.join(MODEL_FILE), &config).unwrap();
        let message = match load_generator(&export, &dev.device) {
            Ok(_) => panic!("width {width} must not load"),
            Err(e) => e.to_string(),
        };
        assert!(
            message.contains(MODEL_FILE) && message.contains("latent_mapping"),
            "{message}"
        );
    }
    // A width that passes the check but not the weights: the file names what is wrong.
    config.latent_mapping = Some(2 * WIDTH);
    write_ron(&export.join(MODEL_FILE), &config).unwrap();
    let message = match load_generator(&export, &dev.device) {
        Ok(_) => panic!("weights of another width must not load"),
        Err(e) => e.to_string(),
    };
    assert!(message.contains("mapping"), "{message}");
    let mut bad = mapped_config();
    bad.model.latent_mapping = Some(0);
    assert!(TrainingSession::new(bad, common::disc_dataset(8), &dev.device).is_err());
}

#[test]
fn a_mapped_generator_draws_the_same_on_every_device() {
    let dir = tempfile::tempdir().unwrap();
    let session = run_adding_a_mapping(dir.path(), 2);
    let export = dir.path().join("mapped");
    session.export_generator(&export).unwrap();
    let mut reference: Option<Vec<f32>> = None;
    for dev in common::devices() {
        let g = load_generator(&export, &dev.device).unwrap().generator;
        let pictures = drawn(&g, &dev.device);
        match &reference {
            None => reference = Some(pictures),
            Some(cpu) => {
                let diff = common::max_diff(cpu, &pictures);
                assert!(diff < 1e-3, "{}: {diff}", dev.description);
            }
        }
    }
}

//! Checkpoints: bit-identical round trips, and clear errors for broken files.

use crate::common;

use burn::module::Module;
use hitogata::checkpoint::{
    CheckpointError, GENERATOR_FILE, MODEL_FILE, export_generator, load_generator, write_ron,
};
use hitogata::inference::latents_tensor;
use hitogata::latent::sample_batch;

fn outputs(dir: &std::path::Path, dev: &hitogata::device::ComputeDevice) -> Vec<f32> {
    let loaded = load_generator(dir, &dev.device).unwrap();
    let z = sample_batch(5, 3, loaded.config.latent_dim);
    loaded
        .generator
        .forward(latents_tensor(&z, &dev.device))
        .into_data()
        .try_to_vec::<f32>()
        .unwrap()
}

#[test]
fn round_trip_gives_bit_identical_generator_output_on_every_device() {
    for dev in common::devices() {
        let dir = tempfile::tempdir().unwrap();
        let config = common::tiny_model();
        let g = config.init_generator(&dev.device);
        let z = sample_batch(5, 3, config.latent_dim);
        let before = g
            .valid()
            .forward(latents_tensor(&z, &dev.device))
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        export_generator(&config, &g, dir.path()).unwrap();
        let after = outputs(dir.path(), &dev);
        assert_eq!(before, after, "{}", dev.description);
        // Saving again over an existing export keeps it loadable.
        export_generator(&config, &g, dir.path()).unwrap();
        assert_eq!(outputs(dir.path(), &dev), before);
    }
}

fn saved_tiny() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let dev = common::cpu();
    let config = common::tiny_model();
    export_generator(&config, &config.init_generator(&dev.device), dir.path()).unwrap();
    dir
}

fn load_err(dir: &std::path::Path) -> String {
    match load_generator(dir, &common::cpu().device) {
        Ok(_) => panic!("loading {} should fail", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn truncated_weights_name_the_file() {
    let dir = saved_tiny();
    let path = dir.path().join(GENERATOR_FILE);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let msg = load_err(dir.path());
    assert!(msg.contains(GENERATOR_FILE), "{msg}");
}

#[test]
fn garbage_and_empty_weights_are_errors() {
    for content in [&b""[..], b"definitely not safetensors, just some words"] {
        let dir = saved_tiny();
        std::fs::write(dir.path().join(GENERATOR_FILE), content).unwrap();
        let msg = load_err(dir.path());
        assert!(
            msg.contains(GENERATOR_FILE) && msg.contains("not a valid safetensors"),
            "{msg}"
        );
    }
}

#[test]
fn wrong_shaped_weights_say_expected_and_found() {
    let dir = saved_tiny();
    // Claim a wider model than the weights hold.
    let wider = common::tiny_model().with_ngf(6);
    write_ron(&dir.path().join(MODEL_FILE), &wider).unwrap();
    let msg = load_err(dir.path());
    assert!(msg.contains(GENERATOR_FILE), "{msg}");
    assert!(
        msg.to_lowercase().contains("expected") && msg.to_lowercase().contains("found"),
        "{msg}"
    );
}

#[test]
fn malformed_or_missing_config_is_an_error_naming_it() {
    let dir = saved_tiny();
    std::fs::write(dir.path().join(MODEL_FILE), "(latent_dim: \"forty\"").unwrap();
    let msg = load_err(dir.path());
    assert!(
        msg.contains(MODEL_FILE) && msg.contains("malformed"),
        "{msg}"
    );

    let empty = tempfile::tempdir().unwrap();
    let err = load_generator(empty.path(), &common::cpu().device)
        .err()
        .unwrap();
    assert!(
        matches!(err, CheckpointError::NotACheckpoint { .. }),
        "{err}"
    );
}

#[test]
fn missing_weights_file_is_reported() {
    let dir = saved_tiny();
    std::fs::remove_file(dir.path().join(GENERATOR_FILE)).unwrap();
    let msg = load_err(dir.path());
    assert!(
        msg.contains(GENERATOR_FILE) && msg.contains("missing"),
        "{msg}"
    );
}

#[test]
fn f16_exports_are_half_the_size_and_draw_the_same_people() {
    let dev = common::cpu();
    let config = common::tiny_model().with_ngf(16);
    let g = hitogata::model::seeded_init(config.init_generator(&dev.device), 3);
    let (full, half) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    export_generator(&config, &g, full.path()).unwrap();
    hitogata::checkpoint::export_generator_f16(&config, &g, half.path()).unwrap();
    let size = |d: &std::path::Path| std::fs::metadata(d.join(GENERATOR_FILE)).unwrap().len();
    assert!(
        size(half.path()) * 10 < size(full.path()) * 6,
        "{} vs {}",
        size(half.path()),
        size(full.path())
    );
    let (a, b) = (outputs(full.path(), &dev), outputs(half.path(), &dev));
    let max_diff = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    assert!(max_diff < 0.01, "f16 changes the output by {max_diff}");
    assert!(max_diff > 0.0, "the weights really were rounded");
}

/// A long run's state file keeps one line per history row (it is rewritten at every
/// checkpoint and travels with the run), and reads back exactly.
#[test]
fn training_state_keeps_one_line_per_history_row_and_round_trips() {
    use hitogata::train::{Metrics, TrainState};
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    common::collapsed_history_run(&run);
    let mut state: TrainState = common::saved_state(&run);
    state.history = (1..=1000)
        .map(|step| Metrics {
            step,
            critic_loss: 1.0 / step as f32,
            wasserstein: -0.5,
            generator_loss: 0.75,
            images_per_sec: 180.25,
            seconds: 0.7,
            augment_share: None,
        })
        .collect();
    let path = dir.path().join("state.ron");
    write_ron(&path, &state).unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    let lines = text.lines().count();
    assert!((1000..1100).contains(&lines), "{lines} lines");
    let back: TrainState =
        hitogata::checkpoint::read_ron(&path, hitogata::bounded_read::FileKind::TRAIN_STATE)
            .unwrap();
    assert_eq!(back.history, state.history);
    assert_eq!(back.step, state.step);
}

#[test]
fn a_huge_model_next_to_small_weights_is_refused_before_it_is_built() {
    let dir = saved_tiny();
    // The largest shapes check_config allows: ~2.4 GB of generator weights if built.
    let text = std::fs::read_to_string(dir.path().join("model.ron"))
        .unwrap()
        .replace("ngf: 4", "ngf: 1024");
    std::fs::write(dir.path().join("model.ron"), text).unwrap();
    let err = load_err(dir.path());
    assert!(err.contains("generator.safetensors"), "{err}");
    assert!(err.contains("needs at least"), "{err}");
}

#[test]
fn the_weight_counts_checked_before_building_never_exceed_a_real_models() {
    let dev = common::cpu();
    for upsampling in [
        hitogata::model::Upsampling::Transposed,
        hitogata::model::Upsampling::Resize,
    ] {
        for batch_norm in [false, true] {
            let config = common::tiny_model()
                .with_upsampling(Some(upsampling))
                .with_critic_batch_norm(batch_norm);
            let g = config.init_generator(&dev.device).num_params() as u64;
            let c = config.init_critic(&dev.device).num_params() as u64;
            assert!(config.generator_weights_at_least() <= g, "{config:?}");
            assert!(config.critic_weights_at_least() <= c, "{config:?}");
            // Close to the real count: the convolutions are nearly all of it.
            assert!(
                config.critic_weights_at_least() * 11 / 10 >= c,
                "{config:?}"
            );
        }
    }
}

//! The generator's weight average: its formula, warm-up, checkpoints and what inference loads.

use crate::common;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use hitogata::checkpoint::load_generator;
use hitogata::inference::generate_images;
use hitogata::latent::sample_batch;
use hitogata::model::Generator;
use hitogata::train::{Algorithm, GeneratorEma, TrainConfig, TrainState, TrainingSession};

struct Values(Vec<f32>);

impl ModuleVisitor for Values {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let data = param.val().into_data().convert::<f32>();
        self.0.extend(data.try_to_vec::<f32>().unwrap());
    }
}

/// Every float the generator holds: weights and BatchNorm statistics.
fn values(g: &Generator) -> Vec<f32> {
    let mut v = Values(Vec::new());
    g.visit(&mut v);
    v.0
}

fn dcgan_config(ema_decay: f32) -> TrainConfig {
    TrainConfig {
        ema_decay,
        ..common::tiny_dcgan_config()
    }
}

fn assert_close(a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len());
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / (1.0 + y.abs()))
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "largest relative difference {worst}");
}

#[test]
fn the_average_follows_the_warmed_up_formula() {
    let dev = common::cpu();
    let mut s =
        TrainingSession::new(dcgan_config(0.9), common::disc_dataset(8), &dev.device).unwrap();
    let init = values(&s.raw_generator());
    assert_eq!(
        values(&s.inference_generator()),
        init,
        "starts at the weights"
    );

    s.step().unwrap();
    let raw1 = values(&s.raw_generator());
    assert_ne!(raw1, init, "the step changed the weights");
    // First update: decay min(0.9, 1/10) = 0.1.
    let expected1: Vec<f32> = init
        .iter()
        .zip(&raw1)
        .map(|(a, r)| 0.1 * a + 0.9 * r)
        .collect();
    let avg1 = values(&s.inference_generator());
    assert_close(&avg1, &expected1);

    s.step().unwrap();
    let raw2 = values(&s.raw_generator());
    let d = 2.0f32 / 11.0;
    let expected2: Vec<f32> = avg1
        .iter()
        .zip(&raw2)
        .map(|(a, r)| d * a + (1.0 - d) * r)
        .collect();
    assert_close(&values(&s.inference_generator()), &expected2);
    assert_ne!(values(&s.inference_generator()), raw2);
}

#[test]
fn with_the_average_off_inference_uses_the_raw_weights() {
    let dev = common::cpu();
    let mut s =
        TrainingSession::new(dcgan_config(0.0), common::disc_dataset(8), &dev.device).unwrap();
    s.step().unwrap();
    s.step().unwrap();
    assert_eq!(values(&s.inference_generator()), values(&s.raw_generator()));
}

#[test]
fn checkpoints_keep_the_average_and_loading_a_checkpoint_uses_it() {
    let dev = common::cpu();
    let data = common::disc_dataset(8);
    let dir = tempfile::tempdir().unwrap();
    let mut s = TrainingSession::new(dcgan_config(0.99), data.clone(), &dev.device).unwrap();
    for _ in 0..3 {
        s.step().unwrap();
    }
    s.save_checkpoint(dir.path()).unwrap();
    assert!(dir.path().join("generator_ema.safetensors").exists());

    let resumed = TrainingSession::resume(dir.path(), data.clone(), &dev.device).unwrap();
    assert_eq!(
        values(&resumed.inference_generator()),
        values(&s.inference_generator())
    );
    assert_eq!(values(&resumed.raw_generator()), values(&s.raw_generator()));

    // `generate`, `eval`, `export` and the app load through `load_generator`: the average.
    let latents = sample_batch(5, 3, s.config().model.latent_dim);
    let loaded = load_generator(dir.path(), &dev.device).unwrap();
    assert!(
        generate_images(&loaded.generator, &latents, &dev.device) == s.generate(&latents),
        "a loaded checkpoint draws what the session's average draws"
    );

    // Continuing after the resume folds updates in exactly as an uninterrupted run would.
    let mut resumed = resumed;
    resumed.step().unwrap();
    s.step().unwrap();
    assert_eq!(
        values(&resumed.inference_generator()),
        values(&s.inference_generator())
    );
}

#[test]
fn a_run_saved_without_an_average_can_start_one_on_resume() {
    let dev = common::cpu();
    let data = common::disc_dataset(8);
    let dir = tempfile::tempdir().unwrap();
    let mut s = TrainingSession::new(dcgan_config(0.0), data.clone(), &dev.device).unwrap();
    s.step().unwrap();
    s.save_checkpoint(dir.path()).unwrap();
    assert!(!dir.path().join("generator_ema.safetensors").exists());

    let mut resumed = TrainingSession::resume(dir.path(), data, &dev.device).unwrap();
    assert_eq!(resumed.config().ema_decay, 0.0);
    resumed.apply(&average(0.999)).unwrap();
    assert_eq!(
        values(&resumed.inference_generator()),
        values(&resumed.raw_generator()),
        "a new average starts at the current weights"
    );
    resumed.step().unwrap();
    assert_ne!(
        values(&resumed.inference_generator()),
        values(&resumed.raw_generator())
    );
    assert!(
        resumed.apply(&average(1.0)).is_err(),
        "decay 1 would never move"
    );
    assert!(resumed.apply(&average(f32::NAN)).is_err());
}

#[test]
fn state_files_from_before_the_average_still_load() {
    let config = TrainConfig::for_algorithm(Algorithm::Dcgan);
    assert_eq!(config.ema_decay, 0.999, "new runs average by default");
    let text = ron::ser::to_string(&config).unwrap();
    // Also without the later adaptive augmentation field.
    let old = text
        .replace(",ema_decay:0.999", "")
        .replace(",adaptive_augment:None", "");
    assert_ne!(old, text, "the field was removed for the test");
    let parsed: TrainConfig = ron::from_str(&old).unwrap();
    assert_eq!(parsed.ema_decay, 0.0, "old runs had no average");

    let state = TrainState {
        step: 3,
        config: parsed,
        optimizer_steps: (3, 3),
        history: Vec::new(),
        elapsed_seconds: 1.0,
        dataset_len: 8,
        ema_updates: 0,
        augment_share: None,
    };
    let text = ron::ser::to_string(&state).unwrap();
    let old = text
        .replace(",ema_updates:0", "")
        .replace(",augment_share:None", "");
    assert_ne!(old, text);
    assert!(!old.contains("augment_share"), "{old}");
    let parsed = ron::from_str::<TrainState>(&old).unwrap();
    assert_eq!((parsed.ema_updates, parsed.augment_share), (0, None));
}

#[test]
fn an_average_started_warm_uses_its_full_decay_at_once() {
    for decay in [0.5f32, 0.9, 0.999] {
        let warm = GeneratorEma::warm_updates(decay);
        let dev = common::cpu();
        let config = common::tiny_model();
        let g = config.init_generator(&dev.device);
        let at = |updates| GeneratorEma::from_saved(decay, updates, g.clone()).effective_decay();
        assert_eq!(at(warm), decay, "decay {decay}");
        // Not far past the warm-up's end (its last step may round to `decay` in f32).
        assert!(at(warm - 2) < decay, "decay {decay}: {warm} is too late");
    }
    assert_eq!(GeneratorEma::warm_updates(0.0), 0);
}

fn average(decay: f32) -> hitogata::train::RunChanges {
    hitogata::train::RunChanges {
        ema_decay: Some(decay),
        ..Default::default()
    }
}

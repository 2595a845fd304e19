//! Widening a trained generator (Net2WiderNet): more feature maps, the same pictures, so a long
//! run can add capacity without starting from noise.

mod common;

use burn::module::Module;
use burn::tensor::Tensor;
use hitogata::checkpoint::{GENERATOR_FILE, export_generator, load_generator};
use hitogata::inference::latents_tensor;
use hitogata::latent::sample_batch;
use hitogata::model::{Generator, ModelConfig, Upsampling, seeded_init, widen_generator};
use hitogata::train::{TrainConfig, TrainingSession};

fn latents(count: usize, dim: usize, device: &burn::tensor::Device) -> Tensor<2> {
    latents_tensor(&sample_batch(31, count, dim), device)
}

/// Inference mode (running statistics) and training mode (the batch's statistics).
fn both_modes(g: &Generator, z: &Tensor<2>, device: &burn::tensor::Device) -> (Vec<f32>, Vec<f32>) {
    let autodiff = device.clone().autodiff();
    let training = g.clone().fork(&autodiff).train();
    let trained = training
        .no_grad()
        .forward(z.clone().to_device(&autodiff))
        .without_autodiff();
    (
        common::values(g.forward(z.clone())),
        common::values(trained),
    )
}

fn assert_draws_the_same(config: &ModelConfig, g: &Generator, ngf: usize) {
    let dev = common::cpu();
    let z = latents(16, config.latent_dim, &dev.device);
    let (narrow_inference, narrow_training) = both_modes(g, &z, &dev.device);
    let (wide_config, wide) = widen_generator(config, g, ngf, 7).unwrap();
    assert_eq!(wide_config.ngf, ngf);
    assert_eq!(
        ModelConfig {
            ngf: config.ngf,
            ..wide_config.clone()
        },
        *config,
        "only the width changes"
    );
    assert!(wide.num_params() > g.num_params());
    let (wide_inference, wide_training) = both_modes(&wide, &z, &dev.device);
    // Tiny models draw faint pictures in inference mode: compare relative to each mode's range.
    let range = |v: &[f32]| v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    for (narrow, wide) in [
        (&narrow_inference, &wide_inference),
        (&narrow_training, &wide_training),
    ] {
        let (range, difference) = (range(narrow), common::max_diff(narrow, wide));
        assert!(range > 1e-4, "the pictures are not blank: {range}");
        assert!(
            difference < 1e-5 * range.max(1.0),
            "{difference} of {range}"
        );
    }
    let spread = range(&narrow_inference);
    assert!(common::max_diff(&narrow_inference, &narrow_training) > 1e-3 * spread);
}

#[test]
fn a_widened_trained_generator_draws_the_same_pictures() {
    let dev = common::cpu();
    let tmp = tempfile::tempdir().unwrap();
    common::trained_tiny_export(tmp.path());
    let loaded = load_generator(tmp.path(), &dev.device).unwrap();
    // Doubled, and widened by a part (some channels get one copy, some none).
    assert_draws_the_same(&loaded.config, &loaded.generator, 8);
    assert_draws_the_same(&loaded.config, &loaded.generator, 6);
}

#[test]
fn a_resize_convolution_generator_widens_too() {
    let dev = common::cpu();
    let config = common::tiny_model()
        .with_upsampling(Some(Upsampling::Resize))
        .with_output_scale(Some(1.25));
    let g = seeded_init(config.init_generator(&dev.device), 3);
    assert_draws_the_same(&config, &g, 8);
}

/// Every tensor of a safetensors file, by name (the file's own order may vary).
fn weights(path: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors: Vec<(String, Vec<u8>)> = file
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, view.data().to_vec()))
        .collect();
    tensors.sort();
    tensors
}

#[test]
fn the_shares_come_from_the_seed_and_do_not_change_the_pictures() {
    let dev = common::cpu();
    let tmp = tempfile::tempdir().unwrap();
    common::trained_tiny_export(&tmp.path().join("narrow"));
    let loaded = load_generator(&tmp.path().join("narrow"), &dev.device).unwrap();
    let export = |seed: u64, name: &str| {
        let (config, wide) = widen_generator(&loaded.config, &loaded.generator, 8, seed).unwrap();
        let dir = tmp.path().join(name);
        export_generator(&config, &wide, &dir).unwrap();
        weights(&dir.join("generator.safetensors"))
    };
    let (a, again, other) = (export(1, "a"), export(1, "again"), export(2, "other"));
    assert_eq!(a, again, "a seed reproduces the widened weights");
    assert_ne!(a, other, "another seed shares the weights differently");

    let z = latents(8, loaded.config.latent_dim, &dev.device);
    let draw = |name: &str| {
        let g = load_generator(&tmp.path().join(name), &dev.device).unwrap();
        assert_eq!(g.config.ngf, 8);
        common::values(g.generator.forward(z.clone()))
    };
    assert!(common::max_diff(&draw("a"), &draw("other")) < 1e-5);
}

#[test]
fn widening_refuses_a_width_that_is_not_wider() {
    let dev = common::cpu();
    let config = common::tiny_model();
    let g = config.init_generator(&dev.device);
    for ngf in [2, 4] {
        let err = widen_generator(&config, &g, ngf, 0).unwrap_err();
        assert!(err.contains("ngf above the current 4"), "{err}");
    }
}

/// Output channel `channel` of `up1.weight` ([z, channels, 4, 4]) in a safetensors file.
fn first_layer_channel(path: &std::path::Path, channel: usize) -> Vec<u8> {
    let (_, data) = weights(path)
        .into_iter()
        .find(|(name, _)| name == "up1.weight")
        .expect("up1.weight");
    let channels = 8 * 8; // 8 × ngf 8
    let kernel = 16 * 4; // 4×4 f32
    (0..8)
        .flat_map(|input| {
            let start = (input * channels + channel) * kernel;
            data[start..start + kernel].to_vec()
        })
        .collect()
}

#[test]
fn a_run_asking_for_more_width_widens_its_start_and_training_separates_the_copies() {
    let dev = common::cpu();
    let tmp = tempfile::tempdir().unwrap();
    let narrow_dir = tmp.path().join("narrow");
    common::trained_tiny_export(&narrow_dir);
    let narrow = load_generator(&narrow_dir, &dev.device).unwrap();
    let config = TrainConfig {
        model: narrow.config.clone().with_ngf(8),
        ..common::tiny_dcgan_config()
    };
    let mut session =
        TrainingSession::from_generator(config, &narrow_dir, common::disc_dataset(8), &dev.device)
            .unwrap();
    assert_eq!(session.config().model.ngf, 8);
    let z = sample_batch(4, 6, 8);
    let narrow_pictures = common::values(narrow.generator.forward(latents_tensor(&z, &dev.device)));
    let wide_pictures = common::values(
        session
            .raw_generator()
            .forward(latents_tensor(&z, &dev.device)),
    );
    assert!(common::max_diff(&narrow_pictures, &wide_pictures) < 1e-7);

    // Channel 32 copies channel 0 (of 32 before); their shares downstream differ, so one
    // generator step moves them apart.
    let file = |name: &str| tmp.path().join(name).join(GENERATOR_FILE);
    session.save_checkpoint(&tmp.path().join("start")).unwrap();
    assert_eq!(
        first_layer_channel(&file("start"), 0),
        first_layer_channel(&file("start"), 32)
    );
    session.step().unwrap();
    session
        .save_checkpoint(&tmp.path().join("stepped"))
        .unwrap();
    assert_ne!(
        first_layer_channel(&file("stepped"), 0),
        first_layer_channel(&file("stepped"), 32)
    );
    assert_ne!(
        first_layer_channel(&file("start"), 0),
        first_layer_channel(&file("stepped"), 0)
    );

    // Narrower is refused.
    let config = TrainConfig {
        model: narrow.config.clone().with_ngf(2),
        ..common::tiny_dcgan_config()
    };
    let err =
        TrainingSession::from_generator(config, &narrow_dir, common::disc_dataset(8), &dev.device)
            .err()
            .expect("refused");
    assert!(err.to_string().contains("not narrow it"), "{err}");
}

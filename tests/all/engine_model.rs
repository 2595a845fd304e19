//! Generator and critic shapes, ranges, and CPU/wgpu agreement.

use crate::common;

use burn::module::Module;
use hitogata::checkpoint::{export_generator, load_generator};
use hitogata::inference::latents_tensor;
use hitogata::latent::sample_batch;
use hitogata::model::{ModelConfig, Upsampling};

#[test]
fn generator_and_critic_shapes_and_range_on_every_device() {
    let configs = [
        common::tiny_model(),
        common::tiny_model().with_upsampling(Some(Upsampling::Resize)),
    ];
    for (dev, config) in common::devices()
        .into_iter()
        .flat_map(|d| configs.clone().map(|c| (d.clone(), c)))
    {
        let g = config.init_generator(&dev.device).valid();
        let z = latents_tensor(&sample_batch(3, 5, config.latent_dim), &dev.device);
        let images = g.forward(z);
        assert_eq!(images.dims(), [5, 3, 64, 64], "{}", dev.description);
        let values = images.clone().into_data().try_to_vec::<f32>().unwrap();
        assert!(
            values.iter().all(|v| (-1.0..=1.0).contains(v)),
            "tanh range on {}",
            dev.description
        );
        let spread = values.iter().cloned().fold(f32::MIN, f32::max)
            - values.iter().cloned().fold(f32::MAX, f32::min);
        assert!(
            spread > 0.0,
            "output is not constant on {}",
            dev.description
        );

        let critic = config.init_critic(&dev.device).valid();
        let scores = critic.forward(images);
        assert_eq!(scores.dims(), [5], "{}", dev.description);
    }
}

#[test]
fn default_model_is_the_issue_shape() {
    let c = ModelConfig::new();
    assert_eq!(
        (c.latent_dim, c.ngf, c.ndf, c.critic_batch_norm),
        (40, 64, 64, false)
    );
    let dev = common::cpu();
    let g = c.init_generator(&dev.device);
    assert_eq!(g.latent_dim(), 40);
}

#[test]
fn wgpu_and_cpu_generators_agree_for_the_same_weights() {
    wgpu_and_cpu_agree(common::tiny_model());
}

#[test]
fn resize_convolution_generators_agree_on_wgpu_and_cpu_too() {
    wgpu_and_cpu_agree(common::tiny_model().with_upsampling(Some(Upsampling::Resize)));
}

#[test]
fn the_resize_generator_has_its_own_layers_and_old_configs_mean_transposed() {
    // A model.ron written before the option existed has no `upsampling` field.
    let old: ModelConfig =
        ron::from_str("(latent_dim: 40, ngf: 32, ndf: 32, critic_batch_norm: true)").unwrap();
    assert_eq!(old.upsampling, None);
    assert_eq!(old.upsampling(), Upsampling::Transposed);
    let resize = old.clone().with_upsampling(Some(Upsampling::Resize));
    let text = ron::to_string(&resize).unwrap();
    assert_eq!(ron::from_str::<ModelConfig>(&text).unwrap(), resize);

    let dir = tempfile::tempdir().unwrap();
    let dev = common::cpu();
    let config = common::tiny_model().with_upsampling(Some(Upsampling::Resize));
    export_generator(&config, &config.init_generator(&dev.device), dir.path()).unwrap();
    let names = std::fs::read(dir.path().join("generator.safetensors")).unwrap();
    let names = String::from_utf8_lossy(&names);
    assert!(names.contains("resize2.weight") && !names.contains("up2.weight"));
    // The same weights file does not load as the other kind of generator.
    std::fs::write(
        dir.path().join("model.ron"),
        ron::to_string(&common::tiny_model()).unwrap(),
    )
    .unwrap();
    assert!(load_generator(dir.path(), &dev.device).is_err());
}

fn wgpu_and_cpu_agree(config: ModelConfig) {
    let Some(gpu) = common::wgpu() else { return };
    let cpu = common::cpu();
    let dir = tempfile::tempdir().unwrap();
    let g = config.init_generator(&cpu.device);
    export_generator(&config, &g, dir.path()).unwrap();

    let z = sample_batch(11, 4, config.latent_dim);
    let on_cpu = load_generator(dir.path(), &cpu.device).unwrap();
    let on_gpu = load_generator(dir.path(), &gpu.device).unwrap();
    let a = on_cpu
        .generator
        .forward(latents_tensor(&z, &cpu.device))
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let b = on_gpu
        .generator
        .forward(latents_tensor(&z, &gpu.device))
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let max_diff = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    assert!(max_diff < 1e-4, "max difference {max_diff}");
}

#[test]
fn a_seed_gives_the_same_initial_weights_whatever_the_global_rng_did() {
    let config = common::tiny_model();
    let outputs = |burn_seed: u64, dev: &hitogata::device::ComputeDevice| {
        dev.device.seed(burn_seed);
        let g = hitogata::model::seeded_init(config.init_generator(&dev.device), 5).valid();
        let z = latents_tensor(&sample_batch(1, 2, config.latent_dim), &dev.device);
        g.forward(z).into_data().try_to_vec::<f32>().unwrap()
    };
    let cpu = common::cpu();
    let a = outputs(1, &cpu);
    assert_eq!(a, outputs(2, &cpu), "burn's global seed must not matter");
    if let Some(gpu) = common::wgpu() {
        let b = outputs(3, &gpu);
        let max_diff = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(max_diff < 1e-4, "same initial weights on wgpu: {max_diff}");
    }
}

/// The same weights drawn through `clamp(scale · tanh, -1, 1)`.
#[test]
fn the_output_scale_stretches_and_clamps_the_same_weights_on_every_device() {
    for dev in common::devices() {
        let dir = tempfile::tempdir().unwrap();
        let plain = common::tiny_model();
        export_generator(&plain, &plain.init_generator(&dev.device), dir.path()).unwrap();
        let z = latents_tensor(&sample_batch(5, 4, plain.latent_dim), &dev.device);
        let draw = |dir: &std::path::Path| -> Vec<f32> {
            load_generator(dir, &dev.device)
                .unwrap()
                .generator
                .forward(z.clone())
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        };
        let before = draw(dir.path());
        // Same weights file, a model.ron that asks for scale 2: small outputs double, large
        // ones clamp to ±1 exactly.
        let scaled = plain.clone().with_output_scale(Some(2.0));
        std::fs::write(
            dir.path().join("model.ron"),
            ron::to_string(&scaled).unwrap(),
        )
        .unwrap();
        let after = draw(dir.path());
        for (a, b) in before.iter().zip(&after) {
            let expected = (2.0 * a).clamp(-1.0, 1.0);
            assert!(
                (expected - b).abs() < 1e-5,
                "{a} → {b} on {}",
                dev.description
            );
        }
        assert_eq!(plain.output_scale(), 1.0);
    }
}

#[test]
fn output_scales_outside_one_to_two_are_refused_and_old_files_mean_one() {
    let old: ModelConfig =
        ron::from_str("(latent_dim: 40, ngf: 32, ndf: 32, critic_batch_norm: true)").unwrap();
    assert_eq!(old.output_scale, None);
    assert_eq!(old.output_scale(), 1.0);

    let dev = common::cpu();
    let dir = tempfile::tempdir().unwrap();
    let config = common::tiny_model();
    export_generator(&config, &config.init_generator(&dev.device), dir.path()).unwrap();
    for bad in [0.5f32, 3.0, f32::NAN] {
        std::fs::write(
            dir.path().join("model.ron"),
            ron::to_string(&config.clone().with_output_scale(Some(bad))).unwrap(),
        )
        .unwrap();
        let err = load_generator(dir.path(), &dev.device).err().unwrap();
        assert!(err.to_string().contains("output_scale"), "{err}");
    }
}

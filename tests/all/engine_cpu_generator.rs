//! The CPU drawing path ([`CpuGenerator`], what [`Drawer`] uses on the CPU) draws what the
//! generator's own burn layers draw.

use crate::common;

use std::path::Path;

use burn::module::Module;
use hitogata::checkpoint::load_generator;
use hitogata::cpu_generator::{CpuGenerator, fast_tanh};
use hitogata::inference::{Drawer, latents_tensor};
use hitogata::latent::sample_batch;
use hitogata::model::{Generator, Upsampling};

/// Pictures from both paths: every channel value within 1 (rounding at a .5 boundary), and
/// almost all identical; the float outputs within 1e-4.
fn assert_same_pictures(g: &Generator, latent_dim: usize, what: &str) {
    let dev = common::cpu();
    // More than one of the CPU path's batches of 64.
    let latents = sample_batch(5, 70, latent_dim);
    let fast = Drawer::new(g, &dev.device);
    assert!(fast.on_cpu_path(), "{what}: the CPU path");
    let (a, b) = (
        fast.draw(&latents),
        Drawer::with_burn_layers(g, &dev.device).draw(&latents),
    );
    assert_eq!(a.len(), 70);
    let (mut bytes, mut differ) = (0usize, 0usize);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.dimensions(), y.dimensions());
        for (p, q) in x.as_raw().iter().zip(y.as_raw()) {
            assert!(p.abs_diff(*q) <= 1, "{what}: {p} vs {q}");
            bytes += 1;
            differ += usize::from(p != q);
        }
    }
    assert!(
        differ * 1000 <= bytes,
        "{what}: {differ} of {bytes} values differ"
    );

    let cpu = CpuGenerator::new(g).unwrap();
    let flat: Vec<f32> = latents.iter().flat_map(|l| l.0.iter().copied()).collect();
    let reference = common::values(
        g.forward(latents_tensor(&latents, &dev.device))
            .permute([0, 2, 3, 1]),
    );
    let drawn = cpu.forward(&flat);
    assert_eq!(drawn.len(), reference.len());
    assert_eq!(
        fast.values(&latents).concat(),
        drawn,
        "{what}: values, channels last"
    );
    let diff = common::max_diff(&drawn, &reference);
    assert!(diff < 1e-4, "{what}: max difference {diff}");
}

#[test]
fn the_cpu_path_draws_the_shipped_models_as_their_layers_do() {
    let dev = common::cpu();
    for dir in ["checkpoints/faces", "checkpoints/people"] {
        let loaded = load_generator(Path::new(dir), &dev.device).unwrap();
        assert_same_pictures(&loaded.generator, loaded.config.latent_dim, dir);
    }
}

#[test]
fn the_cpu_path_draws_grey_and_32_px_pytorch_models_as_their_layers_do() {
    // One colour plane (grey) and 32 px (no step of 16×16 inputs): the last step's planes
    // alone, and a grey model's whole plane path.
    let dev = common::cpu();
    for case in [
        "examples-nz40-64-grey-dataparallel",
        "wgan-nz100-32-rgb-legacy",
    ] {
        let pth = Path::new("tests/fixtures/pytorch").join(format!("{case}.netG.pth"));
        let loaded = load_generator(&pth, &dev.device).unwrap();
        assert_same_pictures(&loaded.generator, loaded.config.latent_dim, case);
    }
}

#[test]
fn the_cpu_path_folds_trained_batch_norm_statistics() {
    // One training step moves BatchNorm's running statistics off their 0 / 1 start, so a
    // mistake in folding them into the weights shows.
    let dir = tempfile::tempdir().unwrap();
    common::trained_tiny_export(dir.path());
    let dev = common::cpu();
    let loaded = load_generator(dir.path(), &dev.device).unwrap();
    let stats = loaded.generator.batch_norm_statistics();
    assert!(
        stats
            .iter()
            .any(|(mean, _)| mean.iter().any(|m| m.abs() > 1e-3))
    );
    assert_same_pictures(&loaded.generator, loaded.config.latent_dim, "tiny trained");
}

#[test]
fn resize_upsampling_and_other_devices_draw_with_burns_layers() {
    let dev = common::cpu();
    let resize = common::tiny_model().with_upsampling(Some(Upsampling::Resize));
    let g = resize.init_generator(&dev.device).valid();
    assert!(CpuGenerator::new(&g).is_none());
    let drawer = Drawer::new(&g, &dev.device);
    assert!(!drawer.on_cpu_path());
    let latents = sample_batch(1, 3, resize.latent_dim);
    assert_eq!(drawer.draw(&latents).len(), 3);
    assert!(drawer.draw(&[]).is_empty());
    // Values per picture, as the generator computes them (channels first on this path).
    let values = drawer.values(&latents);
    let reference = common::values(g.forward(latents_tensor(&latents, &dev.device)));
    assert_eq!(values.len(), 3);
    assert_eq!(values.concat(), reference);

    let transposed = common::tiny_model();
    assert!(
        Drawer::new(&transposed.init_generator(&dev.device).valid(), &dev.device).on_cpu_path()
    );
    if let Some(wgpu) = common::wgpu() {
        let g = transposed.init_generator(&wgpu.device).valid();
        let drawer = Drawer::new(&g, &wgpu.device);
        assert!(!drawer.on_cpu_path(), "wgpu draws with burn");
        assert_eq!(
            drawer
                .draw(&sample_batch(1, 2, transposed.latent_dim))
                .len(),
            2
        );
    }
}

#[test]
fn fast_tanh_is_within_a_few_ulp_of_libm() {
    let mut worst = 0.0f32;
    let mut x = -12.0f32;
    while x < 12.0 {
        let (a, b) = (fast_tanh(x), x.tanh());
        assert!(a.abs() <= 1.0, "{x}: {a}");
        worst = worst.max((a - b).abs());
        x += 1e-4;
    }
    assert!(worst < 1e-6, "worst difference {worst}");
    assert!(fast_tanh(f32::NAN).is_nan());
    for big in [f32::INFINITY, f32::MAX, 30.0] {
        let (up, down) = (fast_tanh(big), fast_tanh(-big));
        assert!(
            up <= 1.0 && up > 1.0 - 1e-6 && down == -up,
            "{big}: {up} {down}"
        );
    }
}

#[test]
fn one_pass_gives_the_pictures_and_what_the_critic_scores() {
    use hitogata::critique::{score_output, scores};
    let dir = tempfile::tempdir().unwrap();
    let critic = common::tiny_generator_with_critic(dir.path());
    let dev = common::cpu();
    let loaded = load_generator(dir.path(), &dev.device).unwrap();
    let g = &loaded.generator;
    let latents = sample_batch(9, 12, loaded.config.latent_dim);
    let direct = scores(g, &critic, &latents, &dev.device);
    for drawer in [
        Drawer::new(g, &dev.device),
        Drawer::with_burn_layers(g, &dev.device),
    ] {
        let (images, output) = drawer.draw_with_output(&latents);
        assert_eq!(images, drawer.draw(&latents), "the same pictures as draw");
        assert_eq!(output.dims(), [12, 3, 64, 64]);
        let scored = score_output(&critic, output);
        assert!(
            common::max_diff(&scored, &direct) < 1e-3,
            "{scored:?} vs {direct:?}"
        );
    }
}

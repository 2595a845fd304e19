//! The output palette: a generator's last step that pulls pixels near the data's flat colours
//! onto them. It must snap what is near, leave what is far, train, and survive a save.

mod common;

use hitogata::checkpoint::{MODEL_FILE, load_generator};
use hitogata::inference::latents_tensor;
use hitogata::latent::sample_batch;
use hitogata::model::{Generator, OutputPalette};
use hitogata::train::TrainingSession;

/// Pixels of a batch as 0–255 RGB triples.
fn pixels(g: &Generator, dim: usize, device: &burn::tensor::Device) -> Vec<[f32; 3]> {
    let images = g.forward(latents_tensor(&sample_batch(3, 4, dim), device));
    let [n, _, h, w] = images.dims();
    let v = common::values(images);
    let plane = h * w;
    (0..n * plane)
        .map(|i| {
            let (image, at) = (i / plane, i % plane);
            std::array::from_fn(|c| (v[(image * 3 + c) * plane + at] + 1.0) * 127.5)
        })
        .collect()
}

fn distance(a: [f32; 3], b: [f32; 3]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f32>()
        .sqrt()
}

fn nearest(p: [f32; 3], palette: &OutputPalette) -> ([f32; 3], f32) {
    palette
        .colors
        .iter()
        .map(|c| c.map(f32::from))
        .map(|c| (c, distance(p, c)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap()
}

/// A trained tiny generator and a palette of the colour it draws most (as 0–255 bytes) with
/// two colours far from everything it draws.
fn generator_and_its_own_palette(dir: &std::path::Path) -> (Generator, OutputPalette) {
    common::trained_tiny_export(dir);
    let dev = common::cpu();
    let loaded = load_generator(dir, &dev.device).unwrap();
    let bytes: Vec<u8> = pixels(&loaded.generator, 8, &dev.device)
        .iter()
        .flat_map(|p| p.map(|v| v.round().clamp(0.0, 255.0) as u8))
        .collect();
    let mut palette = OutputPalette::most_frequent(&bytes, 1, 3.0).unwrap();
    palette.colors.extend([[0, 0, 0], [255, 0, 0]]);
    (loaded.generator, palette)
}

#[test]
fn near_pixels_take_the_palette_colour_and_far_ones_stay_on_every_device() {
    let dir = tempfile::tempdir().unwrap();
    let (_, palette) = generator_and_its_own_palette(dir.path());
    let far_only = OutputPalette {
        colors: palette.colors[1..].to_vec(),
        ..palette.clone()
    };
    let mut reference = None;
    for dev in common::devices() {
        let plain = load_generator(dir.path(), &dev.device).unwrap().generator;
        let before = pixels(&plain, 8, &dev.device);
        let drawn_with = |palette: &OutputPalette| {
            let mut g = plain.clone();
            g.set_output_palette(Some(palette.clone()));
            pixels(&g, 8, &dev.device)
        };
        let after = drawn_with(&palette);
        let mut snapped = 0;
        for (b, a) in before.iter().zip(&after) {
            let (colour, d) = nearest(*b, &palette);
            if d < 1.0 {
                assert!(distance(*a, colour) < 0.1, "{b:?} → {a:?}, not {colour:?}");
                snapped += 1;
            }
        }
        assert!(
            snapped > 0,
            "some pixels are near the palette ({})",
            dev.description
        );
        for (b, a) in before.iter().zip(&drawn_with(&far_only)) {
            assert!(distance(*a, *b) < 0.01, "{b:?} moved to {a:?}");
        }
        // The same pictures on both devices.
        let flat: Vec<f32> = after.into_iter().flatten().collect();
        match &reference {
            None => reference = Some(flat),
            Some(cpu) => {
                let diff = common::max_diff(cpu, &flat);
                assert!(
                    diff < 1e-3,
                    "{} differs from the CPU by {diff}",
                    dev.description
                );
            }
        }
    }
}

#[test]
fn the_palette_is_saved_with_the_generator_in_f32_and_f16() {
    let dir = tempfile::tempdir().unwrap();
    let (mut generator, palette) = generator_and_its_own_palette(dir.path());
    let dev = common::cpu();
    let mut config = load_generator(dir.path(), &dev.device).unwrap().config;
    config.output_palette = Some(palette.clone());
    generator.set_output_palette(Some(palette.clone()));
    let drawn = pixels(&generator, 8, &dev.device);
    for half in [false, true] {
        let out = tempfile::tempdir().unwrap();
        common::export_as(half, &config, &generator, out.path());
        let loaded = load_generator(out.path(), &dev.device).unwrap();
        assert_eq!(loaded.config.output_palette.as_ref(), Some(&palette));
        let again = pixels(&loaded.generator, 8, &dev.device);
        let flat = |v: &Vec<[f32; 3]>| v.iter().flatten().copied().collect::<Vec<_>>();
        let diff = common::max_diff(&flat(&drawn), &flat(&again));
        assert!(diff < if half { 0.5 } else { 1e-4 }, "f16 {half}: {diff}");
    }
}

#[test]
fn a_broken_palette_in_model_ron_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_, palette) = generator_and_its_own_palette(dir.path());
    let model = dir.path().join(MODEL_FILE);
    let mut config = load_generator(dir.path(), &common::cpu().device)
        .unwrap()
        .config;
    for (broken, says) in [
        (
            OutputPalette {
                width: 0.0,
                ..palette.clone()
            },
            "width",
        ),
        (
            OutputPalette {
                colors: Vec::new(),
                ..palette.clone()
            },
            "colours",
        ),
    ] {
        config.output_palette = Some(broken);
        hitogata::checkpoint::write_ron(&model, &config).unwrap();
        let message = match load_generator(dir.path(), &common::cpu().device) {
            Ok(_) => panic!("a broken palette must not load"),
            Err(e) => e.to_string(),
        };
        assert!(
            message.contains(MODEL_FILE) && message.contains(says),
            "{message}"
        );
    }
}

#[test]
fn a_run_with_a_palette_trains_through_it_and_resumes_with_it() {
    let data = common::disc_dataset(8);
    let mut config = common::tiny_dcgan_config();
    config.ema_decay = 0.0;
    let palette = OutputPalette::most_frequent(&data.pixels, 4, 20.0).unwrap();
    assert_eq!(
        palette.colors[0],
        [255, 255, 255],
        "white is the most frequent"
    );
    config.model.output_palette = Some(palette.clone());
    let dev = common::cpu();
    let mut session = TrainingSession::new(config, data.clone(), &dev.device).unwrap();
    let drawn = |s: &TrainingSession| {
        let v: Vec<f32> = pixels(&s.raw_generator(), 8, &dev.device)
            .into_iter()
            .flatten()
            .collect();
        v
    };
    let first = drawn(&session);
    for _ in 0..2 {
        let metrics = session.step().unwrap();
        assert!(metrics.generator_loss.is_finite() && metrics.critic_loss.is_finite());
    }
    let moved = common::max_diff(&first, &drawn(&session));
    assert!(moved > 0.0, "the generator learns through the palette");
    let run = tempfile::tempdir().unwrap();
    session
        .save_checkpoint(&run.path().join("checkpoint"))
        .unwrap();
    let resumed = TrainingSession::resume(run.path(), data, &dev.device).unwrap();
    assert_eq!(
        resumed.config().model.output_palette.as_ref(),
        Some(&palette)
    );
}

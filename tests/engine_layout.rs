//! The layout term (`TrainConfig::layout_sw`): the generator's loss also counts the sliced
//! Wasserstein distance between its batch's 4×4 block averages and a real batch's.

mod common;

use hitogata::latent::{normal_vec, sample_batch, seeded_rng};
use hitogata::train::{TrainConfig, TrainError, TrainingSession};
use image::RgbImage;

fn config(layout_sw: Option<f32>) -> TrainConfig {
    let config = common::tiny_dcgan_config();
    TrainConfig {
        layout_sw,
        seed: 3,
        // Fast enough to see the layout move within a few dozen steps.
        optimizer_g: config.optimizer_g.clone().with_lr(2e-3),
        ..config
    }
}

/// An image's 4×4 block averages in [-1, 1], channel by channel.
fn layout(image: &RgbImage) -> Vec<f32> {
    let (w, h) = (image.width() / 4, image.height() / 4);
    let mut out = Vec::with_capacity((3 * w * h) as usize);
    for c in 0..3 {
        for by in 0..h {
            for bx in 0..w {
                let sum: f32 = (0..16)
                    .map(|k| image.get_pixel(bx * 4 + k % 4, by * 4 + k / 4).0[c] as f32)
                    .sum();
                out.push(sum / 16.0 / 127.5 - 1.0);
            }
        }
    }
    out
}

/// Sliced Wasserstein distance (squared, mean over 256 fixed directions) between two equally
/// large sets of vectors: an independent measure of the term's target.
fn sliced_wasserstein(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    let mut rng = seeded_rng(99);
    let n = a[0].len();
    let mut total = 0.0;
    for _ in 0..256 {
        let d = normal_vec(&mut rng, n);
        let norm = d.iter().map(|x| x * x).sum::<f32>().sqrt();
        let project = |set: &[Vec<f32>]| {
            let mut p: Vec<f32> = set
                .iter()
                .map(|v| v.iter().zip(&d).map(|(x, y)| x * y).sum::<f32>() / norm)
                .collect();
            p.sort_by(|x, y| x.total_cmp(y));
            p
        };
        let (pa, pb) = (project(a), project(b));
        total += pa
            .iter()
            .zip(&pb)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f32>()
            / a.len() as f32;
    }
    total / 256.0
}

/// Trains `steps` steps and returns the layout distance of 16 generated pictures to the 16
/// training pictures.
fn layout_distance_after(layout_sw: Option<f32>, steps: usize) -> f32 {
    let data = common::disc_dataset(16);
    let mut session = TrainingSession::new(config(layout_sw), data.clone(), &common::cpu().device)
        .expect("a valid configuration");
    for _ in 0..steps {
        session.step().unwrap();
    }
    let generated: Vec<Vec<f32>> = session
        .generate(&sample_batch(11, 16, 8))
        .iter()
        .map(layout)
        .collect();
    let real: Vec<Vec<f32>> = (0..16).map(|i| layout(&data.image(i))).collect();
    sliced_wasserstein(&generated, &real)
}

#[test]
fn the_layout_term_pulls_the_coarse_layout_towards_the_data() {
    let start = layout_distance_after(None, 0);
    let without = layout_distance_after(None, 40);
    let with = layout_distance_after(Some(100.0), 40);
    eprintln!(
        "layout distance: at the start {start:.4}; after 40 steps without {without:.4}, with {with:.4}"
    );
    assert!(
        with < 0.7 * without,
        "with the term {with}, without {without}"
    );
}

#[test]
fn the_layout_term_changes_only_the_generator_update_and_is_seeded() {
    let data = common::disc_dataset(8);
    let cpu = common::cpu();
    let new = |weight| TrainingSession::new(config(weight), data.clone(), &cpu.device).unwrap();
    let (mut plain, mut with, mut again) = (new(None), new(Some(10.0)), new(Some(10.0)));
    let mut off = new(Some(0.0));
    for session in [&mut plain, &mut with, &mut again, &mut off] {
        session.step().unwrap();
    }
    // The first critic update comes before any generator update, and the term draws its own
    // random numbers: the critics agree.
    assert_eq!(plain.critic_parameters(), with.critic_parameters());
    let latents = sample_batch(5, 4, 8);
    assert_ne!(
        plain.generate(&latents),
        with.generate(&latents),
        "the term moved the generator"
    );
    assert_eq!(
        plain.generate(&latents),
        off.generate(&latents),
        "weight 0 is no term"
    );
    for session in [&mut with, &mut again] {
        session.step().unwrap();
    }
    assert_eq!(with.generate(&latents), again.generate(&latents));
    assert_eq!(with.critic_parameters(), again.critic_parameters());
}

#[test]
fn broken_layout_weights_are_refused_and_the_weight_can_change() {
    let data = common::disc_dataset(4);
    let cpu = common::cpu();
    for weight in [-1.0, f32::NAN, f32::INFINITY] {
        match TrainingSession::new(config(Some(weight)), data.clone(), &cpu.device) {
            Err(TrainError::Config(message)) => {
                assert!(message.contains("layout term"), "{message}")
            }
            Err(other) => panic!("{weight}: {other}"),
            Ok(_) => panic!("{weight} accepted"),
        }
    }
    let mut session = TrainingSession::new(config(None), data, &cpu.device).unwrap();
    session.set_layout_sw(5.0).unwrap();
    assert_eq!(session.config().layout_sw, Some(5.0));
    assert!(session.set_layout_sw(-2.0).is_err());
    assert_eq!(
        session.config().layout_sw,
        Some(5.0),
        "kept after a refusal"
    );
    session.step().unwrap();
}

#[test]
fn the_layout_term_trains_on_wgpu_as_on_the_cpu() {
    let data = common::disc_dataset(8);
    let latents = sample_batch(5, 4, 8);
    let mut pictures = Vec::new();
    for dev in common::devices() {
        let mut session =
            TrainingSession::new(config(Some(10.0)), data.clone(), &dev.device).unwrap();
        for _ in 0..2 {
            let metrics = session.step().unwrap();
            assert!(metrics.generator_loss.is_finite(), "{}", dev.description);
        }
        let images: Vec<f32> = session
            .generate(&latents)
            .iter()
            .flat_map(|i| i.as_raw().iter().map(|&v| v as f32))
            .collect();
        pictures.push((dev.description.clone(), images));
    }
    if let [(_, cpu), (name, wgpu)] = &pictures[..] {
        let worst = common::max_diff(cpu, wgpu);
        assert!(
            worst <= 3.0,
            "{name}: pixels differ by up to {worst} levels"
        );
    }
}

//! Differentiable augmentation of the critic's inputs: what each operation does to real
//! pixels, reproducibility, gradients, CPU/wgpu agreement, and training with it.

use crate::common;

use burn::tensor::{Device, Tensor, TensorData};
use hitogata::data::Dataset;
use hitogata::latent::seeded_rng;
use hitogata::train::{AdaptiveAugment, Augment, CriticView, RunChanges, TrainingSession};

const N: usize = 16;
const S: usize = 64;

fn batch(values: Vec<f32>, device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(values, [N, 3, S, S]), device)
}

/// N images, black (-1) except one white (1) pixel at (y, x) in every channel.
fn single_pixel(y: usize, x: usize, device: &Device) -> Tensor<4> {
    let mut v = vec![-1f32; N * 3 * S * S];
    for k in 0..N {
        for c in 0..3 {
            v[((k * 3 + c) * S + y) * S + x] = 1.0;
        }
    }
    batch(v, device)
}

/// A batch with varied content: smooth colour gradients that differ per image.
fn gradients(device: &Device) -> Tensor<4> {
    let mut v = vec![0f32; N * 3 * S * S];
    for k in 0..N {
        for c in 0..3 {
            for y in 0..S {
                for x in 0..S {
                    let t = (x + 2 * y + 7 * k + 13 * c) as f32 / (3 * S + 7 * N + 26) as f32;
                    v[((k * 3 + c) * S + y) * S + x] = 2.0 * t - 1.0;
                }
            }
        }
    }
    batch(v, device)
}

const TRANSLATION: Augment = Augment {
    color: false,
    translation: true,
    cutout: false,
    color_strength: None,
};
const CUTOUT: Augment = Augment {
    color: false,
    translation: false,
    cutout: true,
    color_strength: None,
};
const COLOR: Augment = Augment {
    color: true,
    translation: false,
    cutout: false,
    color_strength: None,
};

#[test]
fn off_leaves_images_untouched_and_draws_no_random_numbers() {
    let dev = common::cpu();
    let input = gradients(&dev.device);
    let mut rng = seeded_rng(3);
    let out = Augment::default().apply(input.clone(), &mut rng);
    assert_eq!(common::values(out), common::values(input));
    // The RNG was not advanced: runs without augmentation draw what they always drew.
    let mut fresh = seeded_rng(3);
    use rand::RngExt;
    assert_eq!(rng.random::<u64>(), fresh.random::<u64>());
}

#[test]
fn translation_moves_each_image_by_at_most_an_eighth_and_fills_with_grey() {
    let dev = common::cpu();
    let out =
        common::values(TRANSLATION.apply(single_pixel(30, 33, &dev.device), &mut seeded_rng(1)));
    let mut positions = std::collections::HashSet::new();
    for k in 0..N {
        let plane = &out[k * 3 * S * S..(k * 3 + 1) * S * S];
        let white: Vec<usize> = (0..S * S).filter(|&i| plane[i] > 0.5).collect();
        assert_eq!(white.len(), 1, "image {k}: the pixel moved, not duplicated");
        let (y, x) = (white[0] / S, white[0] % S);
        assert!(
            y.abs_diff(30) <= 8 && x.abs_diff(33) <= 8,
            "image {k}: moved to ({y}, {x})"
        );
        positions.insert((y, x));
        // Shifted-in pixels are zero (mid grey); all others keep their value.
        assert!(plane.iter().all(|&v| v == -1.0 || v == 0.0 || v == 1.0));
        let shifted = (y, x) != (30, 33);
        assert_eq!(
            plane.contains(&0.0),
            shifted,
            "image {k}: grey border iff moved"
        );
    }
    assert!(
        positions.len() > N / 2,
        "images get their own shifts: {positions:?}"
    );
}

#[test]
fn cutout_zeroes_one_clipped_square_of_half_the_size_per_image() {
    let dev = common::cpu();
    let ones = batch(vec![1f32; N * 3 * S * S], &dev.device);
    let out = common::values(CUTOUT.apply(ones, &mut seeded_rng(2)));
    let mut areas = std::collections::HashSet::new();
    for k in 0..N {
        let plane = &out[k * 3 * S * S..(k * 3 + 1) * S * S];
        let zeros: Vec<(usize, usize)> = (0..S * S)
            .filter(|&i| plane[i] == 0.0)
            .map(|i| (i / S, i % S))
            .collect();
        assert!(plane.iter().all(|&v| v == 0.0 || v == 1.0));
        let (ys, xs): (Vec<usize>, Vec<usize>) = zeros.iter().copied().unzip();
        let h = ys.iter().max().unwrap() - ys.iter().min().unwrap() + 1;
        let w = xs.iter().max().unwrap() - xs.iter().min().unwrap() + 1;
        assert_eq!(h * w, zeros.len(), "image {k}: the hole is one rectangle");
        assert!(
            (16..=32).contains(&h) && (16..=32).contains(&w),
            "image {k}: {h}×{w}"
        );
        // The same hole in every channel.
        for c in 1..3 {
            let other = &out[(k * 3 + c) * S * S..(k * 3 + c + 1) * S * S];
            assert_eq!(other, plane, "image {k} channel {c}");
        }
        areas.insert(zeros.len());
    }
    assert!(areas.len() > 1, "holes differ between images");
}

#[test]
fn color_changes_each_image_differently_but_keeps_its_shapes() {
    let dev = common::cpu();
    let input = gradients(&dev.device);
    let before = common::values(input.clone());
    let after = common::values(COLOR.apply(input, &mut seeded_rng(4)));
    assert!(after.iter().all(|v| v.is_finite()));
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    let plane = 3 * S * S;
    let shifts: Vec<f32> = (0..N)
        .map(|k| {
            mean(&after[k * plane..(k + 1) * plane]) - mean(&before[k * plane..(k + 1) * plane])
        })
        .collect();
    let spread = shifts.iter().cloned().fold(f32::MIN, f32::max)
        - shifts.iter().cloned().fold(f32::MAX, f32::min);
    assert!(spread > 0.2, "per-image brightness: {shifts:?}");
    // Brightness and contrast are increasing affine maps and saturation keeps each pixel's
    // grey level, so the grey level keeps its order along a row: shapes survive.
    for k in 0..N {
        let grey = |v: &[f32], x: usize| -> f32 {
            (0..3)
                .map(|c| v[k * plane + c * S * S + 20 * S + x])
                .sum::<f32>()
        };
        for x in 0..S - 1 {
            assert!(
                grey(&after, x + 1) >= grey(&after, x) - 1e-4,
                "image {k} x {x}"
            );
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_augmentation() {
    let dev = common::cpu();
    let run =
        |seed| common::values(Augment::ALL.apply(gradients(&dev.device), &mut seeded_rng(seed)));
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
}

/// How many input pixels get a non-zero gradient of the sum of the augmented batch.
fn pixels_with_gradient(policy: Augment) -> (usize, usize) {
    let dev = common::cpu();
    let device = dev.device.clone().autodiff();
    let input = gradients(&device).require_grad();
    let out = policy.apply(input.clone(), &mut seeded_rng(7));
    let grads = out.sum().backward();
    let grad = input.grad(&grads).expect("the input has a gradient");
    let g = grad
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap();
    assert!(g.iter().all(|v| v.is_finite()));
    (g.iter().filter(|v| v.abs() > 1e-6).count(), g.len())
}

#[test]
fn gradients_flow_through_every_augmentation() {
    // Shifted-out and cut-out pixels get none; the rest of each image does.
    let (some, all) = pixels_with_gradient(Augment {
        color: false,
        ..Augment::ALL
    });
    assert!(some > all / 4 && some < all, "{some} of {all} pixels");
    // Colour mixes every pixel into the image means, so all of them get one.
    let (some, all) = pixels_with_gradient(COLOR);
    assert_eq!(some, all);
}

const LOWPASS: CriticView = CriticView::Lowpass(4);

#[test]
fn a_lowpass_view_replaces_every_pixel_by_its_four_by_four_block_mean() {
    let dev = common::cpu();
    let input = common::values(gradients(&dev.device));
    let out = common::values(LOWPASS.apply(gradients(&dev.device)));
    let at = |v: &[f32], k: usize, c: usize, y: usize, x: usize| v[((k * 3 + c) * S + y) * S + x];
    for k in [0, N - 1] {
        for c in 0..3 {
            for (by, bx) in [(0, 0), (3, 7), (15, 15)] {
                let block: Vec<(usize, usize)> =
                    (0..16).map(|i| (by * 4 + i / 4, bx * 4 + i % 4)).collect();
                let mean = block
                    .iter()
                    .map(|&(y, x)| at(&input, k, c, y, x))
                    .sum::<f32>()
                    / 16.0;
                for &(y, x) in &block {
                    let got = at(&out, k, c, y, x);
                    assert!((got - mean).abs() < 1e-5, "({y}, {x}): {got} vs {mean}");
                }
            }
        }
    }
    // A single white pixel spreads over its block at 1/16 of its contrast.
    let spread = common::values(LOWPASS.apply(single_pixel(5, 9, &dev.device)));
    assert!((at(&spread, 0, 0, 4, 8) - (-1.0 + 2.0 / 16.0)).abs() < 1e-5);
    assert!((at(&spread, 0, 0, 7, 11) - (-1.0 + 2.0 / 16.0)).abs() < 1e-5);
    assert_eq!(at(&spread, 0, 0, 8, 8), -1.0, "the next block is untouched");
    // Every pixel still gets a gradient (a sixteenth of its block's).
    let autodiff = dev.device.clone().autodiff();
    let x = gradients(&autodiff).require_grad();
    let sum = LOWPASS.apply(x.clone()).sum();
    let grad = common::values(x.grad(&sum.backward()).unwrap());
    assert!(
        grad.iter().all(|g| (g - 1.0).abs() < 1e-5),
        "each pixel's share sums to 1"
    );
    // Sizes that are not multiples of 4 end in a smaller block, still a true mean.
    let ones = Tensor::<4>::ones([1, 3, 6, 6], &dev.device);
    let out = common::values(LOWPASS.apply(ones));
    assert!(out.iter().all(|v| (v - 1.0).abs() < 1e-6), "{out:?}");
    // The full view changes nothing; a block side of 0 in a hand-edited file is refused.
    assert_eq!(
        common::values(CriticView::Full.apply(gradients(&dev.device))),
        input
    );
    assert!(CriticView::Lowpass(0).validate().is_err());
    assert_eq!(LOWPASS.to_string(), "lowpass 4×4");
}

#[test]
fn a_two_by_two_view_averages_two_by_two_blocks() {
    let dev = common::cpu();
    let view = CriticView::Lowpass(2);
    let at = |v: &[f32], y: usize, x: usize| v[y * S + x];
    let spread = common::values(view.apply(single_pixel(5, 9, &dev.device)));
    // A single white pixel spreads over its 2×2 block at a quarter of its contrast.
    for (y, x) in [(4, 8), (4, 9), (5, 8), (5, 9)] {
        assert!(
            (at(&spread, y, x) - (-1.0 + 2.0 / 4.0)).abs() < 1e-5,
            "({y}, {x})"
        );
    }
    for (y, x) in [(6, 8), (5, 10), (3, 9), (5, 7)] {
        assert_eq!(at(&spread, y, x), -1.0, "({y}, {x}) is in another block");
    }
    assert_eq!(
        ron::from_str::<CriticView>(&ron::to_string(&view).unwrap()).unwrap(),
        view
    );
}

/// `n` pictures whose 4×4 blocks are flat in `a`; in `b` the same block means with a
/// checkerboard of ±16 levels inside every block: only the fine detail differs.
fn same_layout_other_detail(n: u32) -> (std::sync::Arc<Dataset>, std::sync::Arc<Dataset>) {
    let flat = |i: u32| {
        image::RgbImage::from_fn(64, 64, |x, y| {
            let v = (40 + 5 * (x / 4) + 4 * (y / 4) + 3 * i) as u8;
            image::Rgb([v, 255 - v, v / 2 + 60])
        })
    };
    let detailed = |i: u32| {
        let mut img = flat(i);
        for (x, y, p) in img.enumerate_pixels_mut() {
            let d: i16 = if (x + y) % 2 == 0 { 16 } else { -16 };
            for c in p.0.iter_mut() {
                *c = (*c as i16 + d) as u8;
            }
        }
        img
    };
    let a: Vec<_> = (0..n).map(flat).collect();
    let b: Vec<_> = (0..n).map(detailed).collect();
    (
        std::sync::Arc::new(Dataset::from_images(&a)),
        std::sync::Arc::new(Dataset::from_images(&b)),
    )
}

#[test]
fn the_critic_view_applies_to_every_picture_not_only_the_augmented_share() {
    let dev = common::cpu();
    let (a, b) = same_layout_other_detail(8);
    // A lowpass critic with adaptive augmentation: a new run augments none of its images at
    // first, yet the critic must still see only block averages.
    let mut config = common::tiny_dcgan_config();
    config.augment = Augment::ALL;
    config.adaptive_augment = Some(AdaptiveAugment::with_target(0.6));
    config.critic_view = LOWPASS;
    let critic_after = |data, view| {
        let config = hitogata::train::TrainConfig {
            critic_view: view,
            ..config.clone()
        };
        let mut s = TrainingSession::new(config, data, &dev.device).unwrap();
        assert_eq!(s.augment_share(), 0.0);
        s.train_critic_only(3).unwrap();
        s.critic_parameters()
    };
    let (seen_a, seen_b) = (
        critic_after(a.clone(), LOWPASS),
        critic_after(b.clone(), LOWPASS),
    );
    let diff = common::max_diff(&seen_a, &seen_b);
    assert!(diff < 1e-4, "a lowpass critic saw the detail: {diff}");
    // The full view does see it: the test can tell.
    let full = common::max_diff(
        &critic_after(a, CriticView::Full),
        &critic_after(b, CriticView::Full),
    );
    assert!(full > 1e-3, "{full}");
}

#[test]
fn wgpu_and_cpu_augment_alike() {
    let Some(gpu) = common::wgpu() else { return };
    let cpu = common::cpu();
    let on = |dev: &hitogata::device::ComputeDevice| {
        let augmented = Augment::ALL.apply(gradients(&dev.device), &mut seeded_rng(8));
        common::values(LOWPASS.apply(augmented))
    };
    let (a, b) = (on(&cpu), on(&gpu));
    let max_diff = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    assert!(max_diff < 1e-4, "CPU and wgpu differ by {max_diff}");
}

#[test]
fn a_policy_names_its_operations() {
    assert_eq!(Augment::ALL.to_string(), "color+translation+cutout");
    assert_eq!(Augment::default().to_string(), "off");
    assert!(Augment::default().is_off());
}

#[test]
fn training_with_augmentation_is_reproducible_and_resumes_exactly() {
    for dev in common::devices() {
        let mut config = common::tiny_dcgan_config();
        config.augment = Augment::ALL;
        let data = common::disc_dataset(8);
        let run = |steps: usize| {
            let mut s = TrainingSession::new(config.clone(), data.clone(), &dev.device).unwrap();
            let metrics: Vec<f32> = (0..steps).map(|_| s.step().unwrap().critic_loss).collect();
            (s, metrics)
        };
        let (_, plain) = {
            let mut off = config.clone();
            off.augment = Augment::default();
            let mut s = TrainingSession::new(off, data.clone(), &dev.device).unwrap();
            let m: Vec<f32> = (0..4).map(|_| s.step().unwrap().critic_loss).collect();
            (s, m)
        };
        let (whole, losses) = run(4);
        assert!(losses.iter().all(|l| l.is_finite()), "{}", dev.description);
        assert_ne!(losses, plain, "augmentation changes what the critic sees");

        let dir = tempfile::tempdir().unwrap();
        let (half, _) = run(2);
        half.save_checkpoint(dir.path()).unwrap();
        let mut resumed = TrainingSession::resume(dir.path(), data.clone(), &dev.device).unwrap();
        assert_eq!(resumed.config().augment, Augment::ALL, "saved in state.ron");
        let rest: Vec<f32> = (0..2)
            .map(|_| resumed.step().unwrap().critic_loss)
            .collect();
        if dev.backend == hitogata::device::Backend::Cpu {
            assert_eq!(rest, losses[2..], "exact resume on {}", dev.description);
        } else {
            for (a, b) in rest.iter().zip(&losses[2..]) {
                assert!((a - b).abs() < 1e-2, "{a} vs {b} on {}", dev.description);
            }
        }
        drop(whole);
    }
}

/// Per image: did the augmentation change it?
fn changed_images(a: &[f32], b: &[f32]) -> Vec<bool> {
    let per = 3 * S * S;
    (0..N)
        .map(|k| a[k * per..(k + 1) * per] != b[k * per..(k + 1) * per])
        .collect()
}

#[test]
fn a_share_of_the_images_is_augmented_and_the_rest_pass_unchanged() {
    let dev = common::cpu();
    let input = gradients(&dev.device);
    let original = common::values(input.clone());
    // Share 1 is the plain policy, random numbers and all.
    let all = common::values(Augment::ALL.apply_to_share(input.clone(), 1.0, &mut seeded_rng(5)));
    assert_eq!(
        all,
        common::values(Augment::ALL.apply(input.clone(), &mut seeded_rng(5)))
    );
    // Share 0 changes nothing.
    let none = common::values(Augment::ALL.apply_to_share(input.clone(), 0.0, &mut seeded_rng(5)));
    assert_eq!(none, original);
    // Share 0.5: some images changed, the others bit for bit the same; seeded.
    let half = common::values(Augment::ALL.apply_to_share(input.clone(), 0.5, &mut seeded_rng(5)));
    let changed = changed_images(&half, &original);
    let n = changed.iter().filter(|c| **c).count();
    assert!(n > 0 && n < N, "{n} of {N} changed");
    let again = common::values(Augment::ALL.apply_to_share(input, 0.5, &mut seeded_rng(5)));
    assert_eq!(half, again);
}

#[test]
fn the_adaptive_share_moves_towards_the_target_at_adas_speed() {
    let ada = AdaptiveAugment::with_target(0.6);
    let step = 64.0 / 500_000.0;
    // A critic surer than the target of real images: more augmentation.
    assert!((ada.adjust(0.5, 0.9, 64) - (0.5 + step)).abs() < 1e-7);
    // Less sure: less.
    assert!((ada.adjust(0.5, 0.2, 64) - (0.5 - step)).abs() < 1e-7);
    assert_eq!(ada.adjust(0.5, 0.6, 64), 0.5);
    // Clamped to [0, 1].
    assert_eq!(ada.adjust(0.0, -1.0, 64), 0.0);
    assert_eq!(ada.adjust(1.0, 1.0, 64), 1.0);
    assert!(AdaptiveAugment::with_target(1.5).validate().is_err());
    assert!(AdaptiveAugment::with_target(0.0).validate().is_err());
    assert!(ada.validate().is_ok());
}

#[test]
fn adaptive_augmentation_follows_the_critic_is_saved_and_resumes_exactly() {
    let dev = common::cpu();
    let mut config = common::tiny_dcgan_config();
    config.augment = Augment::ALL;
    // A fast speed so a few steps move the share visibly.
    config.adaptive_augment = Some(AdaptiveAugment {
        target: 0.6,
        speed_images: 40,
    });
    let data = common::disc_dataset(8);
    let run = |steps: usize| {
        let mut s = TrainingSession::new(config.clone(), data.clone(), &dev.device).unwrap();
        assert_eq!(
            s.augment_share(),
            0.0,
            "a new run starts with no augmentation"
        );
        let m: Vec<_> = (0..steps).map(|_| s.step().unwrap()).collect();
        (s, m)
    };
    let (whole, metrics) = run(6);
    let shares: Vec<f32> = metrics.iter().map(|m| m.augment_share.unwrap()).collect();
    assert_eq!(shares[0], 0.0);
    // Each step moves the share by one batch's worth (8 of 40 images), up or down, within [0, 1].
    let unit = config.batch_size as f32 / 40.0;
    for pair in shares
        .windows(2)
        .chain([[shares[5], whole.augment_share()].as_slice()])
    {
        let moved = (pair[1] - pair[0]).abs();
        assert!(
            moved < 1e-6 || (moved - unit).abs() < 1e-6 || pair[1] == 0.0 || pair[1] == 1.0,
            "{shares:?}"
        );
    }
    assert!(
        shares.iter().any(|s| *s > 0.0),
        "a critic on 8 images overfits at once, so the share rises: {shares:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let (half, _) = run(3);
    half.save_checkpoint(dir.path()).unwrap();
    let mut resumed = TrainingSession::resume(dir.path(), data.clone(), &dev.device).unwrap();
    assert_eq!(resumed.augment_share(), shares[3], "the share is saved");
    let rest: Vec<_> = (0..3).map(|_| resumed.step().unwrap()).collect();
    let numbers = |m: &[hitogata::train::Metrics]| -> Vec<(f32, f32, f32, Option<f32>)> {
        m.iter()
            .map(|m| {
                (
                    m.critic_loss,
                    m.wasserstein,
                    m.generator_loss,
                    m.augment_share,
                )
            })
            .collect()
    };
    assert_eq!(numbers(&rest), numbers(&metrics[3..]), "exact resume");

    // Switched off, every image is augmented again; switched on in a resumed run, it starts there.
    let adaptive = |a: Option<AdaptiveAugment>| RunChanges {
        adaptive_augment: Some(a),
        ..RunChanges::default()
    };
    resumed.apply(&adaptive(None)).unwrap();
    assert_eq!(resumed.augment_share(), 1.0);
    assert!(resumed.step().unwrap().augment_share.is_none());
    resumed
        .apply(&adaptive(Some(AdaptiveAugment::with_target(0.6))))
        .unwrap();
    assert_eq!(resumed.augment_share(), 1.0);
    let before = resumed.config().clone();
    assert!(
        resumed
            .apply(&adaptive(Some(AdaptiveAugment::with_target(2.0))))
            .is_err()
    );
    assert_eq!(
        resumed.config(),
        &before,
        "a refused change changes nothing"
    );
}

#[test]
fn a_fixed_share_is_reported_saved_and_resumed() {
    let dev = common::cpu();
    let mut config = common::tiny_dcgan_config();
    config.augment = Augment::ALL;
    let data = common::disc_dataset(8);
    let mut s = TrainingSession::new(config, data.clone(), &dev.device).unwrap();
    assert_eq!(s.augment_share(), 1.0);
    assert_eq!(
        s.step().unwrap().augment_share,
        None,
        "all images: nothing to report"
    );
    let share = |p: f32| RunChanges {
        augment_share: Some(p),
        ..RunChanges::default()
    };
    assert!(s.apply(&share(1.5)).is_err());
    assert!(s.apply(&share(-0.1)).is_err());
    s.apply(&share(0.3)).unwrap();
    assert_eq!(s.step().unwrap().augment_share, Some(0.3));
    assert_eq!(
        s.augment_share(),
        0.3,
        "fixed without adaptive augmentation"
    );
    // "Not adaptive" from a resume override (the Training tab sends it) keeps a fixed share.
    s.apply(&RunChanges {
        adaptive_augment: Some(None),
        ..RunChanges::default()
    })
    .unwrap();
    assert_eq!(s.augment_share(), 0.3);
    let dir = tempfile::tempdir().unwrap();
    s.save_checkpoint(dir.path()).unwrap();
    let resumed = TrainingSession::resume(dir.path(), data, &dev.device).unwrap();
    assert_eq!(resumed.augment_share(), 0.3);
}

#[test]
fn colour_strength_scales_the_brightness_shift_and_one_is_the_default() {
    let dev = common::cpu();
    // Mid-grey images: saturation and contrast leave a flat grey image as it is, so what comes
    // out is the brightness shift alone.
    let grey = || batch(vec![0.0; N * 3 * S * S], &dev.device);
    let full = common::values(COLOR.apply(grey(), &mut seeded_rng(6)));
    let half_policy = COLOR.with_color_strength(0.5).unwrap();
    let half = common::values(half_policy.apply(grey(), &mut seeded_rng(6)));
    let largest = |v: &[f32]| v.iter().fold(0f32, |m, x| m.max(x.abs()));
    assert!(
        largest(&full) <= 0.5 && largest(&full) > 0.3,
        "{}",
        largest(&full)
    );
    assert!(largest(&half) <= 0.25, "{}", largest(&half));
    for (h, f) in half.iter().zip(&full) {
        assert!((h - 0.5 * f).abs() < 1e-6, "{h} is not half of {f}");
    }

    assert_eq!(COLOR.with_color_strength(1.0).unwrap(), COLOR);
    assert_eq!(half_policy.color_strength(), 0.5);
    assert_eq!(half_policy.to_string(), "color (colour strength 0.5)");
    for bad in [0.0, -0.5, 1.5, f32::NAN] {
        assert!(COLOR.with_color_strength(bad).is_err(), "{bad}");
    }
    // Configs written before the option existed read as strength 1.
    let old: Augment = ron::from_str("(color: true, translation: false, cutout: false)").unwrap();
    assert_eq!(old, COLOR);
}

#[test]
fn choosing_the_operations_keeps_the_runs_colour_strength() {
    let dev = common::cpu();
    let mut config = common::tiny_dcgan_config();
    config.augment = Augment::ALL.with_color_strength(0.5).unwrap();
    let mut s = TrainingSession::new(config, common::disc_dataset(8), &dev.device).unwrap();
    // `--resume --augment color` (or the Training tab's box) names operations only.
    let changes = RunChanges {
        augment: Some(COLOR),
        ..RunChanges::default()
    };
    s.apply(&changes).unwrap();
    assert!(s.config().augment.color && !s.config().augment.translation);
    assert_eq!(s.config().augment.color_strength(), 0.5);
    // Changing the strength is its own setting, and 1 goes back to DiffAugment's ranges.
    let back_to_one = RunChanges {
        augment: Some(Augment::ALL),
        color_strength: Some(1.0),
        ..RunChanges::default()
    };
    s.apply(&back_to_one).unwrap();
    assert_eq!(s.config().augment, Augment::ALL);
}

//! The quality metric itself: identical sets score ~0, degraded copies score worse.

use hitogata::data::{Dataset, SquareMode};
use hitogata::eval::{SwdConfig, mean, moved, moved_at_most, multiscale_swd, nearest_neighbours};
use image::RgbImage;

fn faces() -> Vec<RgbImage> {
    let data = Dataset::load_folder(
        std::path::Path::new("assets/datasets/faces"),
        SquareMode::Pad,
    )
    .unwrap();
    assert_eq!(data.len, 4000, "the shipped faces dataset");
    (0..240).map(|i| data.image(i * 16)).collect()
}

fn noised(img: &RgbImage, seed: u32) -> RgbImage {
    let mut out = img.clone();
    for (i, p) in out.pixels_mut().enumerate() {
        // Cheap deterministic noise, ±24 levels.
        let n = ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) >> 26) as i32 - 32;
        for c in p.0.iter_mut() {
            *c = (*c as i32 + n * 3 / 4).clamp(0, 255) as u8;
        }
    }
    out
}

/// Fewer patches and projections than `eval` uses: enough for 120-image sets, and quick.
fn small_swd() -> SwdConfig {
    SwdConfig {
        patches_per_image: 64,
        directions: 64,
        repeats: 2,
        ..SwdConfig::default()
    }
}

#[test]
fn swd_is_zero_for_identical_sets_and_worse_for_blur_and_noise() {
    let all = faces();
    let (a, b) = all.split_at(120);
    let config = small_swd();
    let same = mean(&multiscale_swd(a, a, &config));
    assert!(same.abs() < 1e-3, "identical sets: {same}");

    let clean = mean(&multiscale_swd(b, a, &config));
    let blurred: Vec<_> = b.iter().map(|i| image::imageops::blur(i, 1.0)).collect();
    let noisy: Vec<_> = b
        .iter()
        .enumerate()
        .map(|(k, i)| noised(i, k as u32))
        .collect();
    let blur_score = mean(&multiscale_swd(&blurred, a, &config));
    let noise_score = mean(&multiscale_swd(&noisy, a, &config));
    assert!(clean > 0.0);
    assert!(
        blur_score > 1.5 * clean,
        "blurred {blur_score} vs clean {clean}"
    );
    assert!(
        noise_score > 1.5 * clean,
        "noised {noise_score} vs clean {clean}"
    );
}

#[test]
fn nearest_neighbour_finds_copies() {
    let all = faces();
    let pool = &all[..50];
    let queries = vec![all[7].clone(), all[100].clone()];
    let nn = nearest_neighbours(&queries, pool);
    assert_eq!(nn[0], (0.0, 7));
    assert!(nn[1].0 > 0.0);
}

#[test]
fn invisible_noise_shows_at_the_finest_level_only() {
    let all = faces();
    let (a, b) = all.split_at(120);
    let config = small_swd();
    let faint: Vec<_> = b
        .iter()
        .enumerate()
        .map(|(k, i)| hitogata::eval::faint_noise(i, 3, k as u64))
        .collect();
    // At most 3 levels off anywhere: nobody sees it.
    for (x, y) in b.iter().zip(&faint) {
        assert!(x.iter().zip(y.iter()).all(|(&p, &q)| p.abs_diff(q) <= 3));
        assert_ne!(x, y);
    }
    let clean = multiscale_swd(b, a, &config);
    let noisy = multiscale_swd(&faint, a, &config);
    // (Small sets: the floor is high here; with 1,000 images the 64 px level quadruples.)
    assert!(noisy[0] > 1.3 * clean[0], "64 px: {noisy:?} vs {clean:?}");
    assert!(
        (noisy[2] - clean[2]).abs() < 0.1 * clean[2],
        "16 px hardly moves: {noisy:?} vs {clean:?}"
    );
    assert_eq!(
        hitogata::eval::faint_noise(&b[0], 3, 9),
        hitogata::eval::faint_noise(&b[0], 3, 9)
    );
}

#[test]
fn copies_moved_by_a_few_pixels_keep_every_colour_yet_score_worse() {
    let all = faces();
    let b = &all[120..];
    let img = &b[0];
    assert_eq!(&moved(img, 0, 0), img);
    let right = moved(img, 1, 0);
    let up = moved(img, 0, -1);
    for y in 0..64 {
        for x in 1..64 {
            assert_eq!(right.get_pixel(x, y), img.get_pixel(x - 1, y));
            if y > 0 {
                assert_eq!(up.get_pixel(x, y - 1), img.get_pixel(x, y));
            }
        }
        // The uncovered column repeats the edge: the plain white background.
        assert_eq!(right.get_pixel(0, y), img.get_pixel(0, y));
    }
    assert_eq!(up.get_pixel(10, 63), img.get_pixel(10, 63));

    // The effect shows where the real halves share many identical patches: larger sets.
    let data = Dataset::load_folder(
        std::path::Path::new("assets/datasets/faces"),
        SquareMode::Pad,
    )
    .unwrap();
    let all: Vec<RgbImage> = (0..2000).map(|i| data.image(i)).collect();
    let (a, b) = all.split_at(1000);
    // Eval's own patches and projections: the real halves' shared patches need them to show.
    let config = SwdConfig::default();
    let shifted: Vec<_> = b
        .iter()
        .enumerate()
        .map(|(k, i)| moved_at_most(i, 1, k as u64))
        .collect();
    // Seeded, and most copies did move (8 of 9 offsets do).
    assert_eq!(shifted[5], moved_at_most(&b[5], 1, 5));
    let moved_count = b.iter().zip(&shifted).filter(|(x, y)| x != y).count();
    assert!(moved_count > 800, "{moved_count} of 1000 moved");
    // On the faces (white background) a move keeps every pixel's colour, so each colour's
    // count is unchanged: only positions differ.
    let counts = |set: &[RgbImage]| {
        let mut c = std::collections::HashMap::<[u8; 3], usize>::new();
        for i in set {
            for p in i.pixels() {
                *c.entry(p.0).or_default() += 1;
            }
        }
        c
    };
    let white = |set: &[RgbImage]| counts(set).get(&[255, 255, 255]).copied().unwrap_or(0);
    let mut before = counts(b);
    let mut after = counts(&shifted);
    before.remove(&[255, 255, 255]);
    after.remove(&[255, 255, 255]);
    let drift: usize = before
        .iter()
        .map(|(k, &n)| n.abs_diff(after.get(k).copied().unwrap_or(0)))
        .sum();
    // Figures touching the frame's edge (shoulders at the bottom) repeat or lose a row.
    assert!(
        drift * 100 < white(b),
        "non-white pixels changed by {drift} (white {})",
        white(b)
    );

    let further: Vec<_> = b
        .iter()
        .enumerate()
        .map(|(k, i)| moved_at_most(i, 3, k as u64))
        .collect();
    let rows = hitogata::eval::multiscale_swd_many(a, &[b, &shifted, &further], &config);
    let (clean, one, three) = (&rows[0], &rows[1], &rows[2]);
    println!("clean {clean:?}, ≤1 px {one:?}, ≤3 px {three:?}");
    // The 32 px level sees positions most; further moves cost more there and at 16 px.
    assert!(one[1] > 1.25 * clean[1], "≤1 px {one:?} vs clean {clean:?}");
    assert!(three[1] > 1.25 * one[1], "≤3 px {three:?} vs ≤1 px {one:?}");
    assert!(
        three[2] > 1.25 * clean[2],
        "≤3 px {three:?} vs clean {clean:?}"
    );
}

#[test]
fn several_sets_against_one_reference_score_as_they_do_pair_by_pair() {
    let all = faces();
    let (a, rest) = all.split_at(120);
    let b = &rest[..120];
    let config = small_swd();
    let blurred: Vec<_> = b.iter().map(|i| image::imageops::blur(i, 1.0)).collect();
    // A smaller set too: its pair compares the reference's first descriptors.
    let small = &rest[..50];
    let noisy: Vec<_> = b
        .iter()
        .enumerate()
        .map(|(k, i)| noised(i, k as u32))
        .collect();
    // Five sets: more than one pass holds.
    let together = hitogata::eval::multiscale_swd_many(
        a,
        &[b, blurred.as_slice(), small, a, noisy.as_slice()],
        &config,
    );
    assert_eq!(together[0], multiscale_swd(b, a, &config));
    assert_eq!(together[1], multiscale_swd(&blurred, a, &config));
    assert_eq!(together[2], multiscale_swd(small, a, &config));
    assert_eq!(together[3], vec![0.0; 3], "the reference against itself");
    assert_eq!(together[4], multiscale_swd(&noisy, a, &config));
    assert!(mean(&together[1]) > mean(&together[0]));
    // The distance does not depend on which set is the reference.
    assert_eq!(multiscale_swd(a, b, &config), multiscale_swd(b, a, &config));
}

#[test]
fn a_training_picture_is_its_own_nearest_and_a_copy_looks_memorised() {
    use hitogata::nearest::NearestImages;
    // Forty different pictures: a disc of its own size, place and colour on white.
    let images: Vec<RgbImage> = (0..40u32)
        .map(|i| {
            let (cx, cy, r) = (20 + (i * 7) % 25, 20 + (i * 11) % 25, 8 + i % 9);
            RgbImage::from_fn(64, 64, |x, y| {
                let inside =
                    (x as i32 - cx as i32).pow(2) + (y as i32 - cy as i32).pow(2) < (r * r) as i32;
                if inside {
                    image::Rgb([(i * 6) as u8, 100, 255 - (i * 5) as u8])
                } else {
                    image::Rgb([255, 255, 255])
                }
            })
        })
        .collect();
    let index = NearestImages::from_images(images.clone(), false);
    assert!(index.real_min.is_finite() && index.real_min > 0.0);
    let found = index.nearest(&images[7], 5);
    assert_eq!(found.len(), 5);
    assert_eq!((found[0].index, found[0].distance), (7, 0.0));
    assert!(found.windows(2).all(|w| w[0].distance <= w[1].distance));
    assert!(index.memorised(found[0].distance), "an exact copy");
    assert!(
        !index.memorised(index.real_min),
        "as close as real pictures come is fine"
    );
    // The same rule as `eval`'s warning.
    assert_eq!(
        index.memorised(3.0),
        hitogata::eval::looks_memorised(3.0, index.real_min)
    );
    // A grey model's picture of image 7 (its luma, at 32 px) finds image 7 when the folder is
    // compared in grey, and nothing that close in colour.
    let grey_7 = image::DynamicImage::ImageRgb8(images[7].clone())
        .resize_exact(32, 32, image::imageops::FilterType::Triangle)
        .into_luma8();
    let grey_7 = image::DynamicImage::ImageLuma8(grey_7).into_rgb8();
    let grey_index = NearestImages::from_images(images.clone(), true);
    let found = grey_index.nearest(&grey_7, 1);
    assert_eq!(found[0].index, 7);
    assert!(found[0].distance < 2.0, "{}", found[0].distance);
    assert!(index.nearest(&grey_7, 1)[0].distance > 10.0 * found[0].distance.max(0.5));
}

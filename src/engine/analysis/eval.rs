//! Quality measures: multi-scale sliced Wasserstein distance (Karras et al. 2018, Progressive
//! GAN, appendix D) and a nearest-neighbour memorisation check.

use image::RgbImage;
use rand::RngExt;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use crate::engine::model::latent::seeded_rng;

/// SWD settings.
#[derive(Clone, Copy, Debug)]
pub struct SwdConfig {
    /// Pyramid levels, finest first (64 → 32 → 16 for 3 levels).
    pub levels: usize,
    /// Random 7×7 patches taken per image and level.
    pub patches_per_image: usize,
    /// Random projection directions per repeat.
    pub directions: usize,
    /// Repeats (fresh directions each time), averaged.
    pub repeats: usize,
    /// Seed for patch positions and directions.
    pub seed: u64,
}

impl Default for SwdConfig {
    fn default() -> Self {
        Self {
            levels: 3,
            patches_per_image: 128,
            directions: 128,
            repeats: 4,
            seed: 1,
        }
    }
}

const PATCH: usize = 7;
const DESC: usize = PATCH * PATCH * 3;

/// A float RGB image, channel-interleaved.
#[derive(Clone)]
struct Plane {
    w: usize,
    h: usize,
    px: Vec<f32>,
}

impl Plane {
    fn from_rgb(img: &RgbImage) -> Self {
        let (w, h) = img.dimensions();
        Self {
            w: w as usize,
            h: h as usize,
            px: img.as_raw().iter().map(|&v| v as f32 / 255.0).collect(),
        }
    }

    fn at(&self, x: isize, y: isize, c: usize) -> f32 {
        let x = x.clamp(0, self.w as isize - 1) as usize;
        let y = y.clamp(0, self.h as isize - 1) as usize;
        self.px[(y * self.w + x) * 3 + c]
    }

    /// 5×5 binomial blur then 2× decimation (one Gaussian pyramid step).
    fn down(&self) -> Self {
        const K: [f32; 5] = [1.0, 4.0, 6.0, 4.0, 1.0];
        let (w, h) = (self.w / 2, self.h / 2);
        let mut px = vec![0.0; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                for c in 0..3 {
                    let mut s = 0.0;
                    for (j, kj) in K.iter().enumerate() {
                        for (i, ki) in K.iter().enumerate() {
                            s += kj
                                * ki
                                * self.at(
                                    2 * x as isize + i as isize - 2,
                                    2 * y as isize + j as isize - 2,
                                    c,
                                );
                        }
                    }
                    px[(y * w + x) * 3 + c] = s / 256.0;
                }
            }
        }
        Self { w, h, px }
    }

    /// 2× upsampling (zero insertion + 4× binomial blur), the pyramid's expand step.
    fn up(&self) -> Self {
        const K: [f32; 5] = [1.0, 4.0, 6.0, 4.0, 1.0];
        let (w, h) = (self.w * 2, self.h * 2);
        let mut px = vec![0.0; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                for c in 0..3 {
                    let mut s = 0.0;
                    for (j, kj) in K.iter().enumerate() {
                        let yy = y as isize + j as isize - 2;
                        if yy.rem_euclid(2) != 0 {
                            continue;
                        }
                        for (i, ki) in K.iter().enumerate() {
                            let xx = x as isize + i as isize - 2;
                            if xx.rem_euclid(2) != 0 {
                                continue;
                            }
                            s += kj * ki * self.at(xx / 2, yy / 2, c);
                        }
                    }
                    px[(y * w + x) * 3 + c] = s * 4.0 / 256.0;
                }
            }
        }
        Self { w, h, px }
    }

    fn minus(&self, other: &Self) -> Self {
        Self {
            w: self.w,
            h: self.h,
            px: self.px.iter().zip(&other.px).map(|(a, b)| a - b).collect(),
        }
    }
}

/// Laplacian pyramid: band-pass levels, the last one the low-pass residual.
fn laplacian_pyramid(img: &RgbImage, levels: usize) -> Vec<Plane> {
    let mut out = Vec::with_capacity(levels);
    let mut current = Plane::from_rgb(img);
    for level in 0..levels {
        if level + 1 == levels {
            out.push(current);
            break;
        }
        let smaller = current.down();
        out.push(current.minus(&smaller.up()));
        current = smaller;
    }
    out
}

/// Random 7×7×3 patch descriptors from every image at every level: `[level][patch * DESC + k]`.
fn descriptors(images: &[RgbImage], config: &SwdConfig, salt: u64) -> Vec<Vec<f32>> {
    let per_image: Vec<Vec<Vec<f32>>> = images
        .par_iter()
        .enumerate()
        .map(|(i, img)| {
            let mut rng = seeded_rng(config.seed ^ salt ^ (i as u64).wrapping_mul(0x9E37_79B9));
            laplacian_pyramid(img, config.levels)
                .iter()
                .map(|plane| {
                    let mut d = Vec::with_capacity(config.patches_per_image * DESC);
                    for _ in 0..config.patches_per_image {
                        let x0 = rng.random_range(0..=plane.w.saturating_sub(PATCH)) as isize;
                        let y0 = rng.random_range(0..=plane.h.saturating_sub(PATCH)) as isize;
                        for c in 0..3 {
                            for y in 0..PATCH as isize {
                                for x in 0..PATCH as isize {
                                    d.push(plane.at(x0 + x, y0 + y, c));
                                }
                            }
                        }
                    }
                    d
                })
                .collect()
        })
        .collect();
    (0..config.levels)
        .map(|l| {
            per_image
                .iter()
                .flat_map(|levels| levels[l].iter().copied())
                .collect()
        })
        .collect()
}

/// Normalises each colour channel of a descriptor set to zero mean and unit variance.
fn normalize(desc: &mut [f32]) {
    let n = desc.len() / DESC;
    let per_c = PATCH * PATCH;
    for c in 0..3 {
        let (mut sum, mut sq) = (0.0f64, 0.0f64);
        for p in 0..n {
            for &v in &desc[p * DESC + c * per_c..p * DESC + (c + 1) * per_c] {
                sum += v as f64;
                sq += (v as f64) * (v as f64);
            }
        }
        let count = (n * per_c) as f64;
        let mean = sum / count;
        let std = ((sq / count - mean * mean).max(0.0)).sqrt().max(1e-8);
        for p in 0..n {
            for v in &mut desc[p * DESC + c * per_c..p * DESC + (c + 1) * per_c] {
                *v = ((*v as f64 - mean) / std) as f32;
            }
        }
    }
}

/// Directions projected together: each descriptor is read once per block rather than once per
/// direction, which keeps the sets (75 MB each at 1,000 images) from streaming through memory
/// 512 times.
const DIRECTION_BLOCK: usize = 16;

/// The first `n` descriptors of `set` projected on each of `directions`, each list sorted.
/// The directions are laid out side by side so the inner loop runs across them (vectorised);
/// each projection still adds its products in descriptor order, as a plain dot product does.
fn sorted_projections(set: &[f32], n: usize, directions: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let width = directions.len();
    let mut side_by_side = vec![0.0f32; DESC * width];
    for (j, dir) in directions.iter().enumerate() {
        for (k, &d) in dir.iter().enumerate() {
            side_by_side[k * width + j] = d;
        }
    }
    let mut out = vec![Vec::with_capacity(n); width];
    let mut sums = vec![0.0f32; width];
    for descriptor in set[..n * DESC].chunks_exact(DESC) {
        // -0.0: the neutral element std's float sum starts from.
        sums.fill(-0.0);
        for (x, row) in descriptor.iter().zip(side_by_side.chunks_exact(width)) {
            for (sum, d) in sums.iter_mut().zip(row) {
                *sum += x * d;
            }
        }
        for (projected, sum) in out.iter_mut().zip(&sums) {
            projected.push(*sum);
        }
    }
    for projected in &mut out {
        // The same order as `f32::total_cmp`, so the distances are the same bits.
        radsort::sort(projected);
    }
    out
}

/// Sliced Wasserstein distance of each of `others` to `reference` (descriptor sets; a pair of
/// unequal sizes compares the first descriptors of the larger). The reference is projected
/// once per size, not once per pair.
fn sliced_wasserstein_many(
    reference: &[f32],
    others: &[&[f32]],
    config: &SwdConfig,
    level: usize,
) -> Vec<f32> {
    let sizes: Vec<usize> = others
        .iter()
        .map(|o| o.len().min(reference.len()) / DESC)
        .collect();
    let mut totals = vec![0.0f64; others.len()];
    for r in 0..config.repeats {
        let mut rng = seeded_rng(config.seed ^ 0xA5A5 ^ ((level * 1000 + r) as u64));
        let dirs: Vec<Vec<f32>> = (0..config.directions)
            .map(|_| {
                let v: Vec<f32> = (0..DESC)
                    .map(|_| rng.sample::<f32, _>(StandardNormal))
                    .collect();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                v.into_iter().map(|x| x / norm).collect()
            })
            .collect();
        // Per block of directions: per other set, per direction, the mean |difference|.
        let blocks: Vec<Vec<Vec<f64>>> = dirs
            .par_chunks(DIRECTION_BLOCK)
            .map(|block| {
                let mut reference_by_size: Vec<(usize, Vec<Vec<f32>>)> = Vec::new();
                others
                    .iter()
                    .zip(&sizes)
                    .map(|(other, &n)| {
                        let at = match reference_by_size.iter().position(|(size, _)| *size == n) {
                            Some(at) => at,
                            None => {
                                reference_by_size
                                    .push((n, sorted_projections(reference, n, block)));
                                reference_by_size.len() - 1
                            }
                        };
                        let pr = &reference_by_size[at].1;
                        sorted_projections(other, n, block)
                            .iter()
                            .zip(pr)
                            .map(|(po, pr)| {
                                po.iter()
                                    .zip(pr)
                                    .map(|(x, y)| (x - y).abs() as f64)
                                    .sum::<f64>()
                                    / n.max(1) as f64
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        for (k, total) in totals.iter_mut().enumerate() {
            let per_direction: f64 = blocks.iter().flat_map(|b| &b[k]).sum();
            *total += per_direction / config.directions as f64;
        }
    }
    totals
        .into_iter()
        .map(|t| (t / config.repeats as f64) as f32)
        .collect()
}

/// Patch positions are drawn from the image's index and this salt, the same for every set:
/// identical sets score exactly zero.
const PATCH_SALT: u64 = 0x1111;

/// Multi-scale SWD ×1e3 per pyramid level (finest first); the caller averages.
pub fn multiscale_swd(a: &[RgbImage], b: &[RgbImage], config: &SwdConfig) -> Vec<f32> {
    multiscale_swd_many(b, &[a], config).remove(0)
}

/// [`multiscale_swd`] of each of `others` against `reference`, one row per other set: the same
/// figures as pair by pair, with the reference's descriptors and projections made once (eval
/// compares four or more sets with the same real half).
pub fn multiscale_swd_many(
    reference: &[RgbImage],
    others: &[&[RgbImage]],
    config: &SwdConfig,
) -> Vec<Vec<f32>> {
    let mut reference_descriptors = descriptors(reference, config, PATCH_SALT);
    for level in &mut reference_descriptors {
        normalize(level);
    }
    let mut rows = vec![Vec::with_capacity(config.levels); others.len()];
    // A few sets at a time: each set's descriptors take ~230 MB at 1,000 images.
    for (group, sets) in rows
        .chunks_mut(SETS_PER_PASS)
        .zip(others.chunks(SETS_PER_PASS))
    {
        let mut other_descriptors: Vec<Vec<Vec<f32>>> = sets
            .iter()
            .map(|o| descriptors(o, config, PATCH_SALT))
            .collect();
        for l in 0..config.levels {
            for d in &mut other_descriptors {
                normalize(&mut d[l]);
            }
            let level: Vec<&[f32]> = other_descriptors.iter().map(|d| d[l].as_slice()).collect();
            let distances = sliced_wasserstein_many(&reference_descriptors[l], &level, config, l);
            for (row, distance) in group.iter_mut().zip(distances) {
                row.push(distance * 1e3);
            }
        }
    }
    rows
}

/// How many sets [`multiscale_swd_many`] holds in memory besides the reference (eval's three
/// reference sets and one checkpoint fit in one pass).
const SETS_PER_PASS: usize = 4;

/// Mean of a list.
pub fn mean(values: &[f32]) -> f32 {
    values.iter().sum::<f32>() / values.len().max(1) as f32
}

/// Root-mean-square pixel distance between two images, in 0–255 units.
pub fn pixel_distance(a: &RgbImage, b: &RgbImage) -> f32 {
    let sq: f64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| {
            let d = x as f64 - y as f64;
            d * d
        })
        .sum();
    (sq / a.as_raw().len() as f64).sqrt() as f32
}

/// The memorisation rule `eval` and the app share: a generated picture this close to a
/// training picture, when held-out real pictures come no closer than `real_min`, looks copied
/// (closer than half of it).
pub fn looks_memorised(distance: f32, real_min: f32) -> bool {
    distance < 0.5 * real_min
}

/// For each query, the distance to its nearest neighbour in `pool` (pixel RMS), and its index.
pub fn nearest_neighbours(queries: &[RgbImage], pool: &[RgbImage]) -> Vec<(f32, usize)> {
    queries
        .par_iter()
        .map(|q| {
            pool.iter()
                .enumerate()
                .map(|(i, p)| (pixel_distance(q, p), i))
                .min_by(|x, y| x.0.total_cmp(&y.0))
                .unwrap_or((f32::INFINITY, 0))
        })
        .collect()
}

/// Median of a list (NaN when empty).
pub fn median(values: &[f32]) -> f32 {
    if values.is_empty() {
        return f32::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// A copy of `img` with independent uniform noise of ±`amplitude` levels on every channel of
/// every pixel, seeded: invisible at ±3, yet the 64 px level of the SWD reacts strongly to it
/// on flat-colour art (most patches are flat there), which is what eval's "faint noise" row
/// shows.
pub fn faint_noise(img: &RgbImage, amplitude: u8, seed: u64) -> RgbImage {
    let mut rng = seeded_rng(seed);
    let a = amplitude as i32;
    let mut out = img.clone();
    for v in out.iter_mut() {
        let n = rng.random_range(-a..=a);
        *v = (*v as i32 + n).clamp(0, 255) as u8;
    }
    out
}

/// A copy of `img` moved by `dx`, `dy` whole pixels, the uncovered border filled by repeating
/// the nearest edge pixel (the plain background, or a figure cut by the frame continuing). No
/// pixel changes its colour, so a moved copy looks exactly as good as the original; yet on
/// pixel-aligned vector renders, whose real halves share many identical patches, the SWD
/// counts positions. Eval's "moved" rows show how strict the real-vs-real floor is.
pub fn moved(img: &RgbImage, dx: i32, dy: i32) -> RgbImage {
    let (w, h) = (img.width() as i32, img.height() as i32);
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let sx = (x as i32 - dx).clamp(0, w - 1);
        let sy = (y as i32 - dy).clamp(0, h - 1);
        *img.get_pixel(sx as u32, sy as u32)
    })
}

/// `moved` by a seeded random offset of −`max_px` to `max_px` whole pixels on each axis.
pub fn moved_at_most(img: &RgbImage, max_px: u32, seed: u64) -> RgbImage {
    let mut rng = seeded_rng(seed);
    let m = max_px as i32;
    let dx = rng.random_range(-m..=m);
    let dy = rng.random_range(-m..=m);
    moved(img, dx, dy)
}

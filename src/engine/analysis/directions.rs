//! What each latent dimension and direction does: discovered directions (SeFa, GANSpace-style
//! PCA), per-dimension sensitivity, and the latent vectors of preview strips. All of it is plain
//! engine code, so the app's Dimensions view and the `directions` / `sweep` commands share it.

use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::engine::draw::inference::{Drawer, latents_tensor};
use crate::engine::files::checkpoint::CheckpointError;
use crate::engine::model::Generator;
use crate::engine::model::host_values;
use crate::engine::model::latent::{Latent, sample_batch};

/// A unit vector in latent space with what it was found by.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Direction {
    /// A name a person can change ("direction 1", "smile"...).
    pub name: String,
    /// Unit length, one entry per latent dimension.
    pub vector: Vec<f32>,
    /// How much it matters: SeFa's eigenvalue, PCA's share of the variance, or for an
    /// attribute direction the spread of its groups (see `attributes.rs`).
    pub score: f32,
}

/// Directions saved to a file (`hitogata directions --out`, the app's per-checkpoint store).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DirectionSet {
    /// The checkpoint they belong to, as given.
    #[serde(default)]
    pub checkpoint: Option<std::path::PathBuf>,
    /// The directions, in order.
    pub directions: Vec<Direction>,
}

impl DirectionSet {
    /// Writes the set as RON, atomically.
    pub fn save(&self, path: &std::path::Path) -> Result<(), CheckpointError> {
        crate::engine::files::checkpoint::write_ron(path, self)
    }

    /// Reads a set; every direction must be as long as the others and finite.
    pub fn load(path: &std::path::Path) -> Result<Self, CheckpointError> {
        let set: Self = crate::engine::files::checkpoint::read_ron(
            path,
            crate::engine::files::bounded_read::FileKind::DIRECTIONS,
        )?;
        let bad = |message: String| CheckpointError::Malformed {
            path: path.to_path_buf(),
            message,
        };
        let dim = set.directions.first().map(|d| d.vector.len());
        for d in &set.directions {
            if Some(d.vector.len()) != dim || d.vector.is_empty() {
                return Err(bad(format!(
                    "direction {:?} has {} entries, the first has {}",
                    d.name,
                    d.vector.len(),
                    dim.unwrap_or(0)
                )));
            }
            if !d.vector.iter().all(|x| x.is_finite()) {
                return Err(bad(format!("direction {:?} is not finite", d.name)));
            }
        }
        Ok(set)
    }
}

/// How directions are discovered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Method {
    /// Closed-form factorisation of the first layer (Shen & Zhou 2021): the eigenvectors of
    /// AᵀA for the weight A that maps z to the first feature maps.
    #[default]
    Sefa,
    /// Principal components of the first layer's activations over many random z, carried back
    /// into z by regression (after Härkönen et al. 2020, GANSpace).
    Pca,
}

/// Eigenvalues (descending) and unit eigenvectors (`vectors[k]` belongs to `values[k]`) of the
/// symmetric `n`×`n` matrix `m` (row-major), by cyclic Jacobi rotations: exact to rounding for
/// the small matrices here (n = the latent size).
pub fn symmetric_eigen(m: &[f64], n: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    assert_eq!(m.len(), n * n, "a square matrix");
    let mut a = m.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j] * a[i * n + j])
            .sum();
        let scale: f64 = (0..n).map(|i| a[i * n + i] * a[i * n + i]).sum::<f64>();
        if off <= 1e-30 * scale.max(1e-300) {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[j * n + j].total_cmp(&a[i * n + i]));
    let values = order.iter().map(|&i| a[i * n + i]).collect();
    let vectors = order
        .iter()
        .map(|&i| (0..n).map(|k| v[k * n + i]).collect())
        .collect();
    (values, vectors)
}

/// Makes each direction's sign deterministic: its largest entry is positive.
fn canonical_sign(v: &mut [f32]) {
    let largest = v
        .iter()
        .copied()
        .fold(0f32, |m, x| if x.abs() > m.abs() { x } else { m });
    if largest < 0.0 {
        v.iter_mut().for_each(|x| *x = -*x);
    }
}

fn named(prefix: &str, vectors: Vec<Vec<f32>>, scores: Vec<f32>) -> Vec<Direction> {
    vectors
        .into_iter()
        .zip(scores)
        .enumerate()
        .map(|(i, (mut vector, score))| {
            canonical_sign(&mut vector);
            Direction {
                name: format!("{prefix} {}", i + 1),
                vector,
                score,
            }
        })
        .collect()
}

/// SeFa: the `count` eigenvectors of AᵀA with the largest eigenvalues, A being the first
/// layer's weight as a map from z (each latent dimension's column: its weights to every first
/// feature map position). Moving z along one changes the first feature maps the most.
pub fn sefa(generator: &Generator, count: usize) -> Vec<Direction> {
    let weight = generator.first_layer_weight();
    let [d, rest @ ..] = weight.dims();
    let columns = host_values(weight.reshape([d, rest.iter().product::<usize>()]));
    let per = columns.len() / d.max(1);
    let mut gram = vec![0.0f64; d * d];
    for i in 0..d {
        for j in i..d {
            let dot: f64 = (0..per)
                .map(|k| columns[i * per + k] as f64 * columns[j * per + k] as f64)
                .sum();
            gram[i * d + j] = dot;
            gram[j * d + i] = dot;
        }
    }
    let (values, vectors) = symmetric_eigen(&gram, d);
    let take = count.min(d);
    named(
        "sefa",
        vectors[..take]
            .iter()
            .map(|v| v.iter().map(|&x| x as f32).collect())
            .collect(),
        values[..take].iter().map(|&x| x as f32).collect(),
    )
}

/// PCA of the first layer's activations (after BatchNorm and ReLU) over `samples` random z
/// from `seed`: the `count` principal components by subspace iteration, each carried back into
/// z by regressing z on its coordinates (u = Zᵀc / cᵀc, normalised). Scores are each
/// component's share of the activations' total variance, in decreasing order.
pub fn pca(
    generator: &Generator,
    device: &Device,
    samples: usize,
    count: usize,
    seed: u64,
) -> Vec<Direction> {
    let dim = generator.latent_dim();
    let z = sample_batch(seed, samples.max(2), dim);
    let features = generator.first_layer_features(latents_tensor(&z, device));
    let [n, c, h, w] = features.dims();
    let x = features.reshape([n, c * h * w]);
    let centered = x.clone().sub(x.mean_dim(0));
    let total_variance = host_values(centered.clone().powi_scalar(2).sum().reshape([1, 1]))[0];
    let k = count.min(dim).min(n - 1).max(1);
    // Subspace iteration: Q ← orth(Xᵀ X Q), started from a seeded random basis.
    let d = c * h * w;
    let start = sample_batch(seed ^ 0x5eed, k, d);
    let mut q: Vec<Vec<f32>> = start.into_iter().map(|l| l.0).collect();
    orthonormalise(&mut q);
    for _ in 0..60 {
        let basis = basis_tensor(&q, d, device);
        let projected = centered.clone().matmul(basis); // [n, k]
        let back = host_values(centered.clone().transpose().matmul(projected)); // [d, k]
        q = (0..k)
            .map(|j| (0..d).map(|i| back[i * k + j]).collect())
            .collect();
        orthonormalise(&mut q);
    }
    // Order by variance along each (the iteration leaves them nearly sorted already).
    let basis = basis_tensor(&q, d, device);
    let coordinates = host_values(centered.matmul(basis));
    let variance: Vec<f32> = (0..k)
        .map(|j| (0..n).map(|i| coordinates[i * k + j].powi(2)).sum::<f32>())
        .collect();
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| variance[b].total_cmp(&variance[a]));
    let directions = order
        .iter()
        .map(|&j| {
            let cc: f32 = (0..n).map(|i| coordinates[i * k + j].powi(2)).sum();
            let mut u: Vec<f32> = (0..dim)
                .map(|t| {
                    (0..n)
                        .map(|i| z[i].0[t] * coordinates[i * k + j])
                        .sum::<f32>()
                        / cc.max(1e-12)
                })
                .collect();
            let norm = u.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
            u.iter_mut().for_each(|x| *x /= norm);
            u
        })
        .collect();
    let shares = order
        .iter()
        .map(|&j| variance[j] / total_variance.max(1e-12))
        .collect();
    named("pca", directions, shares)
}

fn basis_tensor(q: &[Vec<f32>], d: usize, device: &Device) -> Tensor<2> {
    let k = q.len();
    let mut flat = vec![0f32; d * k];
    for (j, column) in q.iter().enumerate() {
        for (i, x) in column.iter().enumerate() {
            flat[i * k + j] = *x;
        }
    }
    Tensor::from_data(TensorData::new(flat, [d, k]), device)
}

/// Gram-Schmidt, twice for stability.
fn orthonormalise(vectors: &mut [Vec<f32>]) {
    for _ in 0..2 {
        for i in 0..vectors.len() {
            for j in 0..i {
                let dot: f32 = vectors[i].iter().zip(&vectors[j]).map(|(a, b)| a * b).sum();
                let (before, after) = vectors.split_at_mut(i);
                after[0]
                    .iter_mut()
                    .zip(&before[j])
                    .for_each(|(a, b)| *a -= dot * b);
            }
            let norm = vectors[i]
                .iter()
                .map(|x| x * x)
                .sum::<f32>()
                .sqrt()
                .max(1e-12);
            vectors[i].iter_mut().for_each(|x| *x /= norm);
        }
    }
}

/// The axis of latent dimension `i` as a direction (a one-hot unit vector).
pub fn axis(dim: usize, i: usize) -> Vec<f32> {
    let mut v = vec![0.0; dim];
    v[i] = 1.0;
    v
}

/// The latent vectors of a preview strip: `z` with its coordinate along the unit `direction`
/// set to each of `values` (the rest of z kept).
pub fn strip(z: &Latent, direction: &[f32], values: &[f32]) -> Vec<Latent> {
    let along: f32 = z.0.iter().zip(direction).map(|(a, b)| a * b).sum();
    values
        .iter()
        .map(|&value| {
            Latent(
                z.0.iter()
                    .zip(direction)
                    .map(|(x, d)| x + (value - along) * d)
                    .collect(),
            )
        })
        .collect()
}

/// The effect along each strip: the mean absolute change of the pixel values (0–255) between
/// neighbouring pictures of a strip, per unit of the coordinate. `images` holds the strips row
/// after row, `values.len()` pictures each (as [`strip`] lays them out). Free: no pictures
/// beyond the strips' own.
pub fn strip_effect(images: &[image::RgbImage], values: &[f32]) -> Vec<f32> {
    let steps = values.len();
    if steps < 2 {
        return vec![0.0; images.len()];
    }
    images
        .chunks(steps)
        .map(|row| {
            let total: f32 = row
                .windows(2)
                .zip(values.windows(2))
                .map(|(pair, v)| {
                    crate::engine::files::render::mean_abs_difference(&pair[0], &pair[1])
                        / (v[1] - v[0]).abs().max(1e-6)
                })
                .sum();
            total / (steps - 1) as f32
        })
        .collect()
}

/// What to draw as preview strips.
#[derive(Clone, Copy, Debug)]
pub struct Strips<'a> {
    /// The latent vector the strips go through.
    pub z: &'a Latent,
    /// Unit directions, a strip each.
    pub directions: &'a [Vec<f32>],
    /// The coordinate values along each.
    pub values: &'a [f32],
    /// Truncation ψ applied to every picture.
    pub psi: f32,
}

/// Draws `strips` (row after row) in chunks of `chunk` pictures, asking `give_way` between
/// chunks; when it says stop, the strips are abandoned (`None`): a newer request has come.
pub fn draw_strips(
    drawer: &Drawer,
    strips: Strips<'_>,
    chunk: usize,
    mut give_way: impl FnMut() -> bool,
) -> Option<Vec<image::RgbImage>> {
    let latents: Vec<Latent> = strips
        .directions
        .iter()
        .flat_map(|d| strip(strips.z, d, strips.values))
        .map(|l| l.truncated(strips.psi))
        .collect();
    let mut images = Vec::with_capacity(latents.len());
    for part in latents.chunks(chunk.max(1)) {
        if give_way() {
            return None;
        }
        images.extend(drawer.draw(part));
    }
    Some(images)
}

/// `count` values evenly from −`range` to `range`.
pub fn strip_values(count: usize, range: f32) -> Vec<f32> {
    match count {
        0 => Vec::new(),
        1 => vec![0.0],
        _ => (0..count)
            .map(|i| -range + 2.0 * range * i as f32 / (count - 1) as f32)
            .collect(),
    }
}

/// How much the pictures change per unit step along each of `directions` at `z`: the mean
/// absolute change of the pixel values (0–255) between z ∓ `step`/2 along it, divided by
/// `step`. Draws 2 × the number of directions pictures.
pub fn sensitivity(drawer: &Drawer, z: &Latent, directions: &[Vec<f32>], step: f32) -> Vec<f32> {
    sensitivity_over(drawer, std::slice::from_ref(z), directions, step)
}

/// [`sensitivity`] averaged over several latent vectors.
pub fn sensitivity_over(
    drawer: &Drawer,
    zs: &[Latent],
    directions: &[Vec<f32>],
    step: f32,
) -> Vec<f32> {
    if zs.is_empty() || directions.is_empty() {
        return vec![0.0; directions.len()];
    }
    let latents: Vec<Latent> = zs
        .iter()
        .flat_map(|z| {
            directions.iter().flat_map(move |d| {
                [-0.5 * step, 0.5 * step]
                    .map(|s| Latent(z.0.iter().zip(d).map(|(x, dx)| x + s * dx).collect()))
            })
        })
        .collect();
    let pictures = drawer.values(&latents);
    let mut change = vec![0.0f64; directions.len()];
    for (k, pair) in pictures.chunks(2).enumerate() {
        let (low, high) = (&pair[0], &pair[1]);
        let total: f64 = low
            .iter()
            .zip(high)
            .map(|(a, b)| (b - a).abs() as f64)
            .sum();
        change[k % directions.len()] += total / low.len().max(1) as f64;
    }
    // Pixel values span [-1, 1] for 0–255: half the range per 255 levels.
    change
        .iter()
        .map(|c| (c / zs.len() as f64 * 127.5 / step as f64) as f32)
        .collect()
}

/// Whether a sensitivity counts as "dead": below 1 % of the largest one's.
pub fn dead(sensitivities: &[f32]) -> Vec<bool> {
    let largest = sensitivities.iter().copied().fold(0f32, f32::max);
    sensitivities
        .iter()
        .map(|&s| s <= 0.01 * largest || s == 0.0)
        .collect()
}

/// Spherical interpolation between two latent vectors (along the great circle, with the
/// lengths blended linearly); falls back to linear when they point the same way.
pub fn slerp(a: &Latent, b: &Latent, t: f32) -> Latent {
    if t == 0.0 {
        return a.clone();
    }
    if t == 1.0 {
        return b.clone();
    }
    let (na, nb) = (a.norm(), b.norm());
    if na < 1e-12 || nb < 1e-12 {
        return a.lerp(b, t);
    }
    let cos = (a.0.iter().zip(&b.0).map(|(x, y)| x * y).sum::<f32>() / (na * nb)).clamp(-1.0, 1.0);
    let omega = cos.acos();
    if omega.abs() < 1e-4 {
        return a.lerp(b, t);
    }
    let (wa, wb) = (
        ((1.0 - t) * omega).sin() / omega.sin(),
        (t * omega).sin() / omega.sin(),
    );
    Latent(a.0.iter().zip(&b.0).map(|(x, y)| wa * x + wb * y).collect())
}

/// `frames` latent vectors from `a` to `b` (both ends included), linearly or spherically.
pub fn interpolate(a: &Latent, b: &Latent, frames: usize, spherical: bool) -> Vec<Latent> {
    (0..frames)
        .map(|i| {
            let t = if frames < 2 {
                0.0
            } else {
                i as f32 / (frames - 1) as f32
            };
            if spherical {
                slerp(a, b, t)
            } else if t == 1.0 {
                b.clone()
            } else {
                a.lerp(b, t)
            }
        })
        .collect()
}

/// The attribute direction from group `b` to group `a` (e.g. bookmarks tagged "smile" against
/// the rest): mean(a) − mean(b), normalised; its score is how well the groups separate along
/// it (the gap between their mean projections over their pooled standard deviation), so a
/// consistent tag scores high and a tag on unrelated faces low. `None` with an empty group or
/// equal means.
pub fn attribute(name: &str, a: &[Latent], b: &[Latent]) -> Option<Direction> {
    let mean = |group: &[Latent]| -> Option<Vec<f32>> {
        let first = group.first()?;
        let mut m = vec![0.0; first.dim()];
        for z in group {
            m.iter_mut()
                .zip(&z.0)
                .for_each(|(s, x)| *s += x / group.len() as f32);
        }
        Some(m)
    };
    let (ma, mb) = (mean(a)?, mean(b)?);
    let mut vector: Vec<f32> = ma.iter().zip(&mb).map(|(x, y)| x - y).collect();
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm.is_nan() || norm <= 1e-12 {
        return None;
    }
    vector.iter_mut().for_each(|x| *x /= norm);
    let project = |z: &Latent| z.0.iter().zip(&vector).map(|(x, d)| x * d).sum::<f32>();
    let spread = |group: &[Latent]| {
        let p: Vec<f32> = group.iter().map(project).collect();
        let m = p.iter().sum::<f32>() / p.len() as f32;
        p.iter().map(|x| (x - m).powi(2)).sum::<f32>() / p.len() as f32
    };
    let pooled = (0.5 * (spread(a) + spread(b))).sqrt();
    Some(Direction {
        name: name.to_string(),
        score: norm / pooled.max(1e-6),
        vector,
    })
}

//! Differentiable augmentation (Zhao et al. 2020, "Differentiable Augmentation for
//! Data-Efficient GAN Training"): the critic sees real *and* generated images through the same
//! kind of random colour change, shift and cut-out, so on a few thousand images it cannot win
//! by memorising them, and the generator still gets gradients through every operation.
//!
//! The random parameters come from the caller's seeded RNG (the step's RNG in training), so a
//! run stays reproducible and resumes exactly. Everything is plain tensor arithmetic (per-image
//! factors, one-hot shift matrices, masks), identical on every backend.

use std::fmt;

use burn::tensor::{Tensor, TensorData};
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

/// Shift range as a fraction of the image size (DiffAugment's 1/8).
const TRANSLATION_RATIO: f32 = 0.125;
/// Cut-out square side as a fraction of the image size (DiffAugment's 1/2).
const CUTOUT_RATIO: f32 = 0.5;

/// Which augmentations the critic's inputs go through. All off: the critic sees the images as
/// they are (every run before this existed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Augment {
    /// Per-image brightness, saturation and contrast.
    pub color: bool,
    /// Per-image shift by up to 1/8 of the size, filling with zeros (mid grey).
    pub translation: bool,
    /// Per-image square of half the size set to zero, centred anywhere in the image.
    pub cutout: bool,
    /// How far the colour changes go, in (0, 1]: brightness ±0.5·s, saturation ×[1−s, 1+s],
    /// contrast ×[1−s/2, 1+s/2]. `None` (every run before it existed) is DiffAugment's 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color_strength: Option<f32>,
}

/// What the critic is shown of every picture it judges, real or generated, augmented or not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CriticView {
    /// The picture as it is.
    #[default]
    Full,
    /// Each picture replaced by its blocks of this side averaged: the critic judges the coarse
    /// colour layout (4: what the 16 px level of `eval` measures; 2: the 32 px one), not the
    /// fine detail. For fine-tuning a trained generator's colours, with the detail anchor
    /// holding its detail.
    Lowpass(usize),
}

impl CriticView {
    /// Checks the block side.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            CriticView::Lowpass(0) => Err("the lowpass block side must be at least 1 pixel".into()),
            _ => Ok(()),
        }
    }

    /// What the critic sees of `images`.
    pub fn apply(&self, images: Tensor<4>) -> Tensor<4> {
        match *self {
            CriticView::Full => images,
            CriticView::Lowpass(side) => block_average(images, side),
        }
    }
}

impl fmt::Display for CriticView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CriticView::Full => write!(f, "full"),
            CriticView::Lowpass(side) => write!(f, "lowpass {side}×{side}"),
        }
    }
}

/// Adaptive augmentation (Karras et al. 2020, "Training Generative Adversarial Networks with
/// Limited Data", ADA): only a share `p` of the critic's images goes through the policy, and `p`
/// follows the critic's overfitting. The heuristic `r = E[sign(D(real))]` is ~0 for a critic
/// that cannot tell real from generated and 1 for one that is sure of every real image: above
/// `target` raises `p`, below lowers it. A fixed policy either lets the critic win (too little)
/// or holds it at chance for good (too much); this one keeps it in between.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdaptiveAugment {
    /// The value of `r` that `p` steers towards (ADA's 0.6).
    pub target: f32,
    /// Real images seen while `p` can move from 0 to 1 (ADA's 500k).
    pub speed_images: u64,
}

impl AdaptiveAugment {
    /// ADA's target.
    pub const DEFAULT_TARGET: f32 = 0.6;
    /// ADA's speed: `p` can cross [0, 1] in 500k real images.
    pub const DEFAULT_SPEED_IMAGES: u64 = 500_000;

    /// ADA's settings with another target.
    pub fn with_target(target: f32) -> Self {
        Self {
            target,
            speed_images: Self::DEFAULT_SPEED_IMAGES,
        }
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.target > 0.0 && self.target < 1.0) {
            return Err(format!(
                "the adaptive augmentation target must be in (0, 1), not {}",
                self.target
            ));
        }
        if self.speed_images == 0 {
            return Err("the adaptive augmentation speed must be at least 1 image".into());
        }
        Ok(())
    }

    /// The share after a critic batch of `batch` real images that measured `r`.
    pub fn adjust(&self, share: f32, r: f32, batch: usize) -> f32 {
        let direction = if r > self.target {
            1.0
        } else if r < self.target {
            -1.0
        } else {
            0.0
        };
        (share + direction * batch as f32 / self.speed_images as f32).clamp(0.0, 1.0)
    }
}

impl Augment {
    /// Colour, translation and cut-out: DiffAugment's policy for small datasets.
    pub const ALL: Augment = Augment {
        color: true,
        translation: true,
        cutout: true,
        color_strength: None,
    };

    /// The colour strength in effect (1: DiffAugment's ranges).
    pub fn color_strength(&self) -> f32 {
        self.color_strength.unwrap_or(1.0)
    }

    /// This policy with another colour strength, checked; 1 is stored as absent, like the
    /// files written before the option existed.
    pub fn with_color_strength(self, strength: f32) -> Result<Self, String> {
        let policy = Self {
            color_strength: (strength != 1.0).then_some(strength),
            ..self
        };
        policy.validate()?;
        Ok(policy)
    }

    /// Checks the colour strength (a config file may hold any number).
    pub fn validate(&self) -> Result<(), String> {
        let strength = self.color_strength();
        if strength > 0.0 && strength <= 1.0 {
            Ok(())
        } else {
            Err(format!(
                "the colour augmentation strength must be in (0, 1], not {strength}"
            ))
        }
    }

    /// True when no augmentation is on.
    pub fn is_off(&self) -> bool {
        !(self.color || self.translation || self.cutout)
    }

    /// Applies the policy to a batch `[N, 3, H, W]` of images in [-1, 1], drawing each image's
    /// parameters from `rng`. Draws nothing when off, so runs without augmentation see the
    /// same random numbers as before it existed.
    pub fn apply<R: Rng + ?Sized>(&self, images: Tensor<4>, rng: &mut R) -> Tensor<4> {
        let mut x = images;
        if self.color {
            x = color(x, self.color_strength(), rng);
        }
        if self.translation {
            x = translation(x, rng);
        }
        if self.cutout {
            x = cutout(x, rng);
        }
        x
    }
}

impl Augment {
    /// Applies the policy to a share of the images, each chosen with probability `share`; the
    /// rest pass unchanged. At `share` 1 (every run without adaptive augmentation) this is
    /// [`Augment::apply`] exactly, drawing the same random numbers.
    pub fn apply_to_share<R: Rng + ?Sized>(
        &self,
        images: Tensor<4>,
        share: f32,
        rng: &mut R,
    ) -> Tensor<4> {
        if self.is_off() {
            return images;
        }
        if share >= 1.0 {
            return self.apply(images, rng);
        }
        let n = images.dims()[0];
        let chosen: Vec<f32> = (0..n)
            .map(|_| f32::from(u8::from(rng.random::<f32>() < share)))
            .collect();
        let mask = per_image(chosen, &images);
        let augmented = self.apply(images.clone(), rng);
        augmented * mask.clone() + images * (mask.neg() + 1.0)
    }
}

impl fmt::Display for Augment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The names `--augment` takes.
        let names: Vec<&str> = [
            (self.color, "color"),
            (self.translation, "translation"),
            (self.cutout, "cutout"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        if names.is_empty() {
            write!(f, "off")
        } else {
            write!(f, "{}", names.join("+"))?;
            match self.color_strength {
                Some(strength) if self.color => write!(f, " (colour strength {strength})"),
                _ => Ok(()),
            }
        }
    }
}

/// A `[N, 1, 1, 1]` tensor of per-image factors on the images' device.
fn per_image(values: Vec<f32>, like: &Tensor<4>) -> Tensor<4> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n, 1, 1, 1]), &like.device())
}

fn color<R: Rng + ?Sized>(x: Tensor<4>, strength: f32, rng: &mut R) -> Tensor<4> {
    let n = x.dims()[0];
    // DiffAugment's ranges (brightness ±0.5, saturation ×[0, 2], contrast ×[0.5, 1.5]) scaled
    // about their neutral values; written so that strength 1 computes exactly what it always
    // did (multiplying by 1 and adding 0 are exact).
    let s = strength;
    let brightness = per_image(
        (0..n).map(|_| (rng.random::<f32>() - 0.5) * s).collect(),
        &x,
    );
    let x = x + brightness;
    let saturation = per_image(
        (0..n)
            .map(|_| rng.random::<f32>() * 2.0 * s + (1.0 - s))
            .collect(),
        &x,
    );
    let grey = x.clone().mean_dim(1);
    let x = (x - grey.clone()) * saturation + grey;
    let contrast = per_image(
        (0..n)
            .map(|_| (rng.random::<f32>() + 0.5) * s + (1.0 - s))
            .collect(),
        &x,
    );
    let mean = x.clone().mean_dim(1).mean_dim(2).mean_dim(3);
    (x - mean.clone()) * contrast + mean
}

/// `[N, 1, size, size]` one-hot matrices: row `i` of image `k` picks `i + shift[k]`, or
/// nothing when that falls outside the image.
fn shift_matrices(shifts: &[i64], size: usize, like: &Tensor<4>) -> Tensor<4> {
    let mut values = vec![0f32; shifts.len() * size * size];
    for (k, &shift) in shifts.iter().enumerate() {
        for i in 0..size {
            let j = i as i64 + shift;
            if (0..size as i64).contains(&j) {
                values[k * size * size + i * size + j as usize] = 1.0;
            }
        }
    }
    Tensor::from_data(
        TensorData::new(values, [shifts.len(), 1, size, size]),
        &like.device(),
    )
}

fn translation<R: Rng + ?Sized>(x: Tensor<4>, rng: &mut R) -> Tensor<4> {
    let [n, _, h, w] = x.dims();
    let max_y = (h as f32 * TRANSLATION_RATIO + 0.5) as i64;
    let max_x = (w as f32 * TRANSLATION_RATIO + 0.5) as i64;
    let dx: Vec<i64> = (0..n).map(|_| rng.random_range(-max_x..=max_x)).collect();
    let dy: Vec<i64> = (0..n).map(|_| rng.random_range(-max_y..=max_y)).collect();
    // out[y][x] = in[y + dy][x + dx]: rows through a left product, columns through a right one.
    let rows = shift_matrices(&dy, h, &x);
    let cols = shift_matrices(&dx, w, &x).swap_dims(2, 3);
    rows.matmul(x).matmul(cols)
}

fn cutout<R: Rng + ?Sized>(x: Tensor<4>, rng: &mut R) -> Tensor<4> {
    let [n, _, h, w] = x.dims();
    let size_y = (h as f32 * CUTOUT_RATIO + 0.5) as i64;
    let size_x = (w as f32 * CUTOUT_RATIO + 0.5) as i64;
    let mut mask = vec![1f32; n * h * w];
    for k in 0..n {
        // The square's centre may be anywhere in the image, so it is often cut off at an edge.
        let cy = rng.random_range(0..=h as i64);
        let cx = rng.random_range(0..=w as i64);
        let y0 = (cy - size_y / 2).max(0);
        let y1 = (cy - size_y / 2 + size_y).min(h as i64);
        let x0 = (cx - size_x / 2).max(0);
        let x1 = (cx - size_x / 2 + size_x).min(w as i64);
        for y in y0..y1 {
            for xx in x0..x1 {
                mask[k * h * w + y as usize * w + xx as usize] = 0.0;
            }
        }
    }
    let mask = Tensor::<4>::from_data(TensorData::new(mask, [n, 1, h, w]), &x.device());
    x * mask
}

/// Side of the blocks the detail anchor's fine detail is measured against, and the usual
/// [`CriticView::Lowpass`]: 64 px images keep their 16 px content.
pub const DEFAULT_LOWPASS_BLOCK: usize = 4;

/// `[1, 1, size, size]`: row `i` averages the block of `side` entries holding `i` (the last
/// block is shorter when `size` is not a multiple).
fn block_average_matrix(size: usize, side: usize, like: &Tensor<4>) -> Tensor<4> {
    let mut values = vec![0f32; size * size];
    for start in (0..size).step_by(side) {
        let block = start..(start + side).min(size);
        let weight = 1.0 / block.len() as f32;
        for i in block.clone() {
            for j in block.clone() {
                values[i * size + j] = weight;
            }
        }
    }
    Tensor::from_data(TensorData::new(values, [1, 1, size, size]), &like.device())
}

/// Each pixel becomes the mean of its `side`×`side` block (a smaller one at the right and
/// bottom edges of sizes that are not multiples of `side`). Two matrix products, like
/// [`translation`]: differentiable everywhere.
pub fn block_average(x: Tensor<4>, side: usize) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    let rows = block_average_matrix(h, side, &x);
    let cols = block_average_matrix(w, side, &x);
    rows.matmul(x).matmul(cols)
}

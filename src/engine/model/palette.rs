//! An optional last step of the generator for flat-colour art: each pixel near one of the
//! data's most frequent colours is pulled onto it, so flat areas come out flat and the
//! background pure, while pixels far from every such colour (edges, blends) pass unchanged.

use std::collections::HashMap;

use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Colours in a palette unless asked otherwise.
pub const DEFAULT_PALETTE_SIZE: usize = 32;
/// Reach of the pull unless asked otherwise, in 0–255 levels.
pub const DEFAULT_PALETTE_WIDTH: f32 = 6.0;
/// Most colours a palette may hold.
pub const MAX_PALETTE_COLORS: usize = 256;

/// The colours a generator's pixels snap to, and how near they must be. Saved in model.ron.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputPalette {
    /// RGB colours (0–255), most frequent in the data first.
    pub colors: Vec<[u8; 3]>,
    /// Reach of the pull, in 0–255 levels: a pixel at distance `d` from a colour moves a share
    /// `exp(-d² / 2·width²)` of the way onto it (shares summing past 1 are scaled down to 1).
    pub width: f32,
}

impl OutputPalette {
    /// The `count` most frequent colours of `pixels` (RGB bytes, 3 per pixel); ties go to the
    /// smaller colour value, so the same data always gives the same palette.
    pub fn most_frequent(pixels: &[u8], count: usize, width: f32) -> Result<Self, String> {
        let mut counts: HashMap<[u8; 3], u64> = HashMap::new();
        for p in pixels.chunks_exact(3) {
            *counts.entry([p[0], p[1], p[2]]).or_default() += 1;
        }
        let mut ranked: Vec<([u8; 3], u64)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let palette = Self {
            colors: ranked.into_iter().take(count).map(|(c, _)| c).collect(),
            width,
        };
        palette.validate()?;
        Ok(palette)
    }

    /// Share of `pixels` (RGB bytes) that are exactly one of the palette's colours.
    pub fn coverage(&self, pixels: &[u8]) -> f32 {
        let colors: std::collections::HashSet<[u8; 3]> = self.colors.iter().copied().collect();
        let n = pixels.len() / 3;
        let hits = pixels
            .chunks_exact(3)
            .filter(|p| colors.contains(&[p[0], p[1], p[2]]))
            .count();
        hits as f32 / n.max(1) as f32
    }

    /// Refuses palettes that would draw nothing sensible.
    pub fn validate(&self) -> Result<(), String> {
        if self.colors.is_empty() || self.colors.len() > MAX_PALETTE_COLORS {
            return Err(format!(
                "an output palette holds 1 to {MAX_PALETTE_COLORS} colours, not {}",
                self.colors.len()
            ));
        }
        if !(self.width > 0.0 && self.width <= 128.0) {
            return Err(format!(
                "the palette width must be above 0 and at most 128 levels, not {}",
                self.width
            ));
        }
        Ok(())
    }

    /// `images` [batch, 3, h, w] in [-1, 1] → the same with pixels pulled onto the palette.
    /// Differentiable: the generator learns through it. Element-wise and per channel (no
    /// matrix product, whose kernel autotuning is slow on software GPUs).
    pub fn snap(&self, images: Tensor<4>) -> Tensor<4> {
        let [batch, channels, h, w] = images.dims();
        let device = images.device();
        let k = self.colors.len();
        let n = batch * h * w;
        // Per channel: the pixels [n, 1] and the palette's values [1, k], in [-1, 1].
        let pixels: Vec<Tensor<2>> = (0..channels)
            .map(|c| images.clone().narrow(1, c, 1).reshape([n, 1]))
            .collect();
        let colours: Vec<Tensor<2>> = (0..channels)
            .map(|c| {
                let values: Vec<f32> = self
                    .colors
                    .iter()
                    .map(|p| p[c] as f32 / 127.5 - 1.0)
                    .collect();
                Tensor::from_data(TensorData::new(values, [1, k]), &device)
            })
            .collect();
        let squared = pixels
            .iter()
            .zip(&colours)
            .map(|(x, p)| (x.clone() - p.clone()).powi_scalar(2))
            .reduce(|a, b| a + b)
            .expect("an image has channels");
        let sigma = self.width / 127.5;
        let pull = squared.div_scalar(-2.0 * sigma * sigma).exp();
        let total = pull.clone().sum_dim(1);
        // Shares summing past 1 are scaled to 1; what is left of 1 stays with the pixel.
        let pull = pull / total.clone().clamp_min(1.0);
        let kept = total.clamp_max(1.0).neg().add_scalar(1.0);
        let snapped = pixels
            .into_iter()
            .zip(colours)
            .map(|(x, p)| {
                let moved = x * kept.clone() + (pull.clone() * p).sum_dim(1);
                moved.reshape([batch, 1, h, w])
            })
            .collect();
        Tensor::cat(snapped, 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn image(pixels: &[[f32; 3]]) -> Tensor<4> {
        let n = pixels.len();
        let mut values = vec![0f32; 3 * n];
        for (i, p) in pixels.iter().enumerate() {
            for c in 0..3 {
                values[c * n + i] = p[c] / 127.5 - 1.0;
            }
        }
        Tensor::from_data(TensorData::new(values, [1, 3, 1, n]), &Device::flex())
    }

    fn levels(t: Tensor<4>) -> Vec<[f32; 3]> {
        let [_, _, _, n] = t.dims();
        let v = t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
        (0..n)
            .map(|i| std::array::from_fn(|c| (v[c * n + i] + 1.0) * 127.5))
            .collect()
    }

    #[test]
    fn near_pixels_snap_far_pixels_stay() {
        let palette = OutputPalette {
            colors: vec![[255, 255, 255], [200, 50, 50]],
            width: 4.0,
        };
        let out = levels(palette.snap(image(&[
            [254.0, 255.0, 255.0],
            [201.0, 49.0, 50.0],
            [100.0, 100.0, 100.0],
        ])));
        for (got, want) in out
            .iter()
            .zip([[255.0; 3], [200.0, 50.0, 50.0], [100.0; 3]])
        {
            for c in 0..3 {
                assert!((got[c] - want[c]).abs() < 0.6, "{got:?} vs {want:?}");
            }
        }
    }

    #[test]
    fn most_frequent_colours_come_first_and_ties_are_ordered() {
        let pixels = [[9, 9, 9], [1, 2, 3], [9, 9, 9], [0, 0, 1], [5, 5, 5]].concat();
        let palette = OutputPalette::most_frequent(&pixels, 3, 5.0).unwrap();
        assert_eq!(palette.colors, vec![[9, 9, 9], [0, 0, 1], [1, 2, 3]]);
        assert_eq!(palette.coverage(&pixels), 0.8);
        assert!(OutputPalette::most_frequent(&pixels, 0, 5.0).is_err());
        assert!(OutputPalette::most_frequent(&pixels, 3, f32::NAN).is_err());
    }
}

//! The layer viewer's engine: one generator layer's channels for a latent vector, as grey
//! pictures with their statistics, and which channels are dead (zero here, or for most z).

use burn::tensor::Device;
use image::RgbImage;

use crate::engine::draw::inference::latents_tensor;
use crate::engine::model::Generator;
use crate::engine::model::host_values;
use crate::engine::model::latent::{Latent, sample_batch};

/// The layers of a model of these shapes, as the viewer names them (in the order of
/// [`Generator::layers`]): `["4x4", "8x8", "16x16", "32x32", "output before tanh"]` at 64 px.
#[cfg_attr(not(feature = "app"), allow(dead_code))] // the app's alone
pub fn layer_names(model: &crate::engine::model::ModelConfig) -> Vec<String> {
    let hidden = model.doublings();
    let outer = model.image_size() / 2;
    let mut names: Vec<String> = (0..hidden).map(|i| format!("{0}x{0}", 4 << i)).collect();
    names.extend((1..=model.extra_layers()).map(|k| format!("extra {k} ({outer}x{outer})")));
    names.push("output before tanh".to_string());
    names
}

/// Random latent vectors "dead for most z" is judged over.
pub const DEAD_SAMPLES: usize = 64;

/// One channel of a layer.
#[derive(Clone, Debug)]
pub struct Channel {
    /// Its values as a grey picture (side × side), normalised as asked.
    pub picture: RgbImage,
    /// Mean of its values.
    pub mean: f32,
    /// Their standard deviation.
    pub std: f32,
    /// Their largest value.
    pub max: f32,
    /// Zero everywhere for this z (a ReLU layer's channel that did not fire).
    pub dead_here: bool,
    /// Its raw values, row by row (side × side).
    pub values: Vec<f32>,
}

/// A layer for one latent vector.
#[derive(Clone, Debug)]
pub struct LayerView {
    /// Which layer (an index into [`layer_names`]).
    pub layer: usize,
    /// Side of each channel's map.
    pub side: usize,
    /// Its channels, in order.
    pub channels: Vec<Channel>,
}

impl LayerView {
    /// The `k` channels with the largest values at a point of the picture (`x`, `y` in
    /// 0..1 from its top-left corner), largest first: what the layer "says" there.
    pub fn most_active_at(&self, x: f32, y: f32, k: usize) -> Vec<(usize, f32)> {
        let cell = |f: f32| {
            ((f.clamp(0.0, 1.0) * self.side as f32) as usize).min(self.side.saturating_sub(1))
        };
        let at = cell(y) * self.side + cell(x);
        let mut ranked: Vec<(usize, f32)> = self
            .channels
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.values[at]))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(k);
        ranked
    }
}

/// Layer `layer` of `generator` at `z`; `per_channel` normalises each channel's picture to
/// its own range, otherwise to the layer's.
pub fn view_layer(
    generator: &Generator,
    device: &Device,
    z: &Latent,
    layer: usize,
    per_channel: bool,
) -> LayerView {
    let layers = generator.layers(latents_tensor(std::slice::from_ref(z), device));
    let last = layers.len() - 1;
    let map = layers[layer.min(last)].clone();
    let [_, c, h, w] = map.dims();
    let values = host_values(map);
    let n = h * w;
    let (layer_lo, layer_hi) = values
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let channels = (0..c)
        .map(|k| {
            let v = &values[k * n..(k + 1) * n];
            let mean = v.iter().sum::<f32>() / n as f32;
            let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / n as f32).sqrt();
            let (lo, hi) = if per_channel {
                v.iter()
                    .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &x| {
                        (lo.min(x), hi.max(x))
                    })
            } else {
                (layer_lo, layer_hi)
            };
            let span = (hi - lo).max(1e-12);
            let picture = RgbImage::from_fn(w as u32, h as u32, |x, y| {
                let g = (((v[y as usize * w + x as usize] - lo) / span) * 255.0).round() as u8;
                image::Rgb([g, g, g])
            });
            let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            Channel {
                picture,
                mean,
                std,
                max,
                dead_here: layer < last && max <= 0.0,
                values: v.to_vec(),
            }
        })
        .collect();
    LayerView {
        layer,
        side: h,
        channels,
    }
}

/// For each ReLU layer (all but the output), which channels are zero for at least 90 % of
/// [`DEAD_SAMPLES`] random z (seeded): units the generator does not use.
pub fn dead_channels(generator: &Generator, device: &Device, seed: u64) -> Vec<Vec<bool>> {
    let z = sample_batch(seed, DEAD_SAMPLES, generator.latent_dim());
    let layers = generator.layers(latents_tensor(&z, device));
    layers[..layers.len() - 1]
        .iter()
        .map(|map| {
            let [b, c, h, w] = map.dims();
            // Largest value of each channel in each sample: [b, c].
            let largest = host_values(map.clone().reshape([b, c, h * w, 1]).max_dim(2));
            (0..c)
                .map(|k| {
                    let silent = (0..b).filter(|&i| largest[i * c + k] <= 0.0).count();
                    silent as f32 >= 0.9 * b as f32
                })
                .collect()
        })
        .collect()
}

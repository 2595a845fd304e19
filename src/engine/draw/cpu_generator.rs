//! Drawing pictures on the CPU with one GEMM per layer for the whole batch.
//!
//! Why: burn-flex (0.22) runs a transposed convolution as one GEMM per picture (n = h·w: 16
//! rows at 4×4, where the GEMM kernels run at half speed) followed by a scalar scatter, and
//! tanh on one thread; a batched generator pass spends most of its time there
//! (docs/cpu-performance.md). Here the activations stay channels-last, so each upsampling
//! step is `[batch·h·w, in] × [in, 16·out]` (every input pixel's contribution to its 4×4
//! output patch) through the same `gemm` crate, then one pass per output pixel that gathers
//! its four contributions, adds the BatchNorm folded into a bias, and applies the activation.
//! Inference only (BatchNorm's running statistics); [`Generator::forward`] stays the
//! reference, which the tests compare against.

use burn::nn::BatchNorm;
use burn::nn::conv::ConvTranspose2d;
use image::RgbImage;
use rayon::prelude::*;

use crate::engine::files::render::to_byte;
use crate::engine::model::Generator;
use crate::engine::model::host_values;
use crate::engine::model::ops_cpu::{channels_last, fast_tanh, gemm, gemm_into, interleave_add};

/// Output channels up to which the last step goes plane by plane ([`Step::forward_planar`]).
const FEW_CHANNELS: usize = 4;

/// Input pixels from which a step goes plane by plane: its GEMM per picture is wide enough
/// (16×16 in and up), as in training's convolutions.
const PLANAR_PIXELS: usize = 256;

/// One transposed 4×4 convolution (stride 2, padding 1), BatchNorm folded in.
#[derive(Clone, Debug)]
struct Step {
    in_channels: usize,
    out_channels: usize,
    /// `[in, 4·4·out]`: columns by kernel row, kernel column, output channel.
    weight: Vec<f32>,
    /// Per output channel: the folded BatchNorm's shift (and the convolution's own bias).
    bias: Vec<f32>,
}

/// A [`Generator`] with transposed-convolution upsampling, as host arrays for drawing on the
/// CPU. Draws what `Generator::forward` draws, up to float rounding.
#[derive(Clone, Debug)]
pub struct CpuGenerator {
    latent_dim: usize,
    /// z to the first 4×4 feature maps: `[latent, 4·4·out]`, channels last.
    first: Step,
    steps: Vec<Step>,
    output_scale: f32,
}

/// BatchNorm at inference as a per-channel scale and shift.
fn batch_norm_affine(bn: &BatchNorm) -> (Vec<f32>, Vec<f32>) {
    let (gamma, beta) = (host_values(bn.gamma.val()), host_values(bn.beta.val()));
    let (mean, var) = (
        host_values(bn.running_mean.value()),
        host_values(bn.running_var.value()),
    );
    let scale: Vec<f32> = gamma
        .iter()
        .zip(&var)
        .map(|(g, v)| g / (v + bn.epsilon as f32).sqrt())
        .collect();
    let shift = beta
        .iter()
        .zip(&mean)
        .zip(&scale)
        .map(|((b, m), s)| b - m * s)
        .collect();
    (scale, shift)
}

impl Step {
    /// `conv`'s weight `[in, out, 4, 4]` as `[in, (kh, kw, out)]`, scaled per output channel.
    fn new(conv: &ConvTranspose2d, bn: Option<&BatchNorm>) -> Self {
        let [cin, cout, kh, kw] = conv.weight.dims();
        let w = host_values(conv.weight.val());
        let conv_bias = match &conv.bias {
            Some(b) => host_values(b.val()),
            None => vec![0.0; cout],
        };
        let (scale, shift) = match bn {
            Some(bn) => batch_norm_affine(bn),
            None => (vec![1.0; cout], vec![0.0; cout]),
        };
        let taps = kh * kw;
        let mut weight = vec![0.0; cin * taps * cout];
        for ci in 0..cin {
            for co in 0..cout {
                for k in 0..taps {
                    weight[(ci * taps + k) * cout + co] =
                        w[(ci * cout + co) * taps + k] * scale[co];
                }
            }
        }
        let bias = (0..cout)
            .map(|c| conv_bias[c] * scale[c] + shift[c])
            .collect();
        Self {
            in_channels: cin,
            out_channels: cout,
            weight,
            bias,
        }
    }

    /// `x` `[rows, in]` × weight → `[rows, 16·out]`.
    fn contributions(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let (k, n) = (self.in_channels, 16 * self.out_channels);
        assert_eq!(x.len(), rows * k, "input of {rows}×{k}");
        let (lhs, rhs) = (
            (x, [1, k as isize]),
            (self.weight.as_slice(), [1, n as isize]),
        );
        gemm([rows, n, k], lhs, rhs)
    }

    /// `x`: `[batch, h, w, in]` → `[batch, 2h, 2w, out]` after `finish(value + bias)`.
    fn forward(
        &self,
        x: &[f32],
        [batch, h, w]: [usize; 3],
        finish: impl Fn(f32) -> f32 + Sync,
    ) -> Vec<f32> {
        let cout = self.out_channels;
        let parts = self.contributions(x, batch * h * w);
        let (oh, ow) = (2 * h, 2 * w);
        let column_taps: Vec<Taps> = (0..ow).map(|ox| Taps::of(ox, w)).collect();
        let mut out = Vec::<f32>::with_capacity(batch * oh * ow * cout);
        out.spare_capacity_mut()
            .par_chunks_mut(ow * cout)
            .enumerate()
            .for_each(|(row, out_row)| {
                let (b, oy) = (row / oh, row % oh);
                let row_taps = Taps::of(oy, h);
                let mut sum = vec![0.0f32; cout];
                for (ox, cols) in column_taps.iter().enumerate() {
                    sum.copy_from_slice(&self.bias);
                    for &(kh, iy) in row_taps.as_slice() {
                        for &(kw, ix) in cols.as_slice() {
                            let at = ((b * h + iy) * w + ix) * 16 * cout + (kh * 4 + kw) * cout;
                            for (s, c) in sum.iter_mut().zip(&parts[at..at + cout]) {
                                *s += c;
                            }
                        }
                    }
                    for (o, &s) in out_row[ox * cout..(ox + 1) * cout].iter_mut().zip(&sum) {
                        o.write(finish(s));
                    }
                }
            });
        // SAFETY: the chunks cover the whole capacity and every element was written above.
        unsafe { out.set_len(batch * oh * ow * cout) };
        out
    }
}

impl Step {
    /// Like [`forward`](Self::forward) but picture by picture in planes, `[batch, out, 2h, 2w]`
    /// out, from planes (`planar`) or channels-last in: for steps of many pixels, and for a last
    /// step of few channels (colour or grey), where a gather per output pixel would add
    /// 3-value vectors. The contributions as planes `[(kh, kw, out), h·w]` (one GEMM with the
    /// picture's pixels as columns), added into each output plane by the branch-free halving
    /// scatter, then `finish`.
    fn forward_planar(
        &self,
        x: &[f32],
        [batch, h, w]: [usize; 3],
        planar: bool,
        finish: impl Fn(f32) -> f32 + Sync,
    ) -> Vec<f32> {
        let (cin, cout) = (self.in_channels, self.out_channels);
        let (pixels, taps) = (h * w, 16 * cout);
        let (oh, ow) = (2 * h, 2 * w);
        let mut out = vec![0f32; batch * oh * ow * cout];
        let x_strides = if planar { [1, pixels] } else { [cin, 1] };
        out.par_chunks_mut(oh * ow * cout)
            .zip(x.par_chunks(pixels * cin))
            .for_each_init(
                || vec![0f32; taps * pixels],
                |parts, (planes, x)| {
                    // weightᵀ [(kh, kw, out), in] × xᵀ [in, h·w]
                    let lhs = (self.weight.as_slice(), [taps as isize, 1]);
                    let rhs = (x, x_strides.map(|s| s as isize));
                    gemm_into(parts, [taps, pixels, cin], lhs, rhs, false, false);
                    for (co, plane) in planes.chunks_mut(oh * ow).enumerate() {
                        plane.fill(self.bias[co]);
                        for kh in 0..4 {
                            for iy in 0..h {
                                // Input row iy reaches output row 2·iy + kh - 1.
                                let Some(oy) = (2 * iy + kh).checked_sub(1).filter(|&y| y < oh)
                                else {
                                    continue;
                                };
                                let row = |kw: usize| {
                                    &parts[((kh * 4 + kw) * cout + co) * pixels + iy * w..][..w]
                                };
                                let line = &mut plane[oy * ow..][..ow];
                                interleave_add(line, [row(0), row(1), row(2), row(3)]);
                            }
                        }
                    }
                    planes.iter_mut().for_each(|v| *v = finish(*v));
                },
            );
        out
    }
}

/// The (kernel index, input index) pairs that reach output index `o` of a doubling step
/// over an input of `len`: output o takes input i through kernel index k = o + 1 − 2i
/// (padding 1), so the two k of o + 1's parity whose i lands inside the input.
#[derive(Clone, Copy)]
struct Taps {
    pairs: [(usize, usize); 2],
    count: usize,
}

impl Taps {
    fn of(o: usize, len: usize) -> Self {
        let mut taps = Self {
            pairs: [(0, 0); 2],
            count: 0,
        };
        for k in [(o + 1) % 2, (o + 1) % 2 + 2] {
            if o + 1 >= k && (o + 1 - k) / 2 < len {
                taps.pairs[taps.count] = (k, (o + 1 - k) / 2);
                taps.count += 1;
            }
        }
        taps
    }

    fn as_slice(&self) -> &[(usize, usize)] {
        &self.pairs[..self.count]
    }
}

/// Stride 2, padding 1, 4×4 kernel, no groups or dilation: DCGAN's doubling step.
fn is_doubling(conv: &ConvTranspose2d) -> bool {
    conv.stride == [2, 2]
        && conv.padding == [1, 1]
        && conv.kernel_size == [4, 4]
        && conv.dilation == [1, 1]
        && conv.groups == 1
        && conv.padding_out == [0, 0]
}

impl CpuGenerator {
    /// `None` for a generator this does not cover (resize upsampling, other kernel shapes):
    /// those draw through [`Generator::forward`].
    pub fn new(generator: &Generator) -> Option<Self> {
        let (up1, bn1, steps) = generator.transposed_steps()?;
        let first_ok = up1.kernel_size == [4, 4] && up1.stride == [1, 1] && up1.padding == [0, 0];
        if !first_ok || up1.groups != 1 || !steps.iter().all(|(c, _)| is_doubling(c)) {
            return None;
        }
        Some(Self {
            latent_dim: generator.latent_dim(),
            first: Step::new(up1, bn1),
            steps: steps
                .into_iter()
                .map(|(conv, bn)| Step::new(conv, bn))
                .collect(),
            output_scale: generator.output_scale(),
        })
    }

    /// The generator's output for latents `z` (`[batch, latent]`, row-major), channels last:
    /// `[batch, S, S, channels]` in [-1, 1].
    pub fn forward(&self, z: &[f32]) -> Vec<f32> {
        let batch = z.len() / self.latent_dim.max(1);
        let relu = |v: f32| v.max(0.0);
        // The first layer maps a 1×1 input to 4×4: its contributions are the feature maps.
        let mut x = self.first.contributions(z, batch);
        let c = self.first.out_channels;
        x.par_chunks_mut(c).for_each(|pixel| {
            for (p, b) in pixel.iter_mut().zip(&self.first.bias) {
                *p = relu(*p + b);
            }
        });
        let mut side = 4;
        let last = self.steps.len() - 1;
        let scale = self.output_scale;
        let tanh = |v: f32| (fast_tanh(v) * scale).clamp(-1.0, 1.0);
        let mut planar = false;
        for (i, step) in self.steps.iter().enumerate() {
            let dims = [batch, side, side];
            // A picture per core at least: with fewer, the gather's rows spread better.
            let go_planar = batch >= rayon::current_num_threads()
                && (side * side >= PLANAR_PIXELS
                    || (i == last && step.out_channels <= FEW_CHANNELS));
            x = match (go_planar || planar, i < last) {
                (true, true) => step.forward_planar(&x, dims, planar, relu),
                (true, false) => step.forward_planar(&x, dims, planar, tanh),
                (false, true) => step.forward(&x, dims, relu),
                (false, false) => step.forward(&x, dims, tanh),
            };
            planar |= go_planar;
            side *= 2;
        }
        if planar {
            let batch_dims = [batch, self.channels(), side * side];
            x = channels_last(&x, batch_dims).into_owned();
        }
        x
    }

    /// One picture per latent vector (each `latent` long).
    pub fn draw(&self, z: &[f32]) -> Vec<RgbImage> {
        self.pictures(&self.forward(z))
    }

    /// Side of the pictures it draws.
    pub fn image_size(&self) -> usize {
        4 << self.steps.len()
    }

    /// Colour channels of the pictures it draws.
    pub fn channels(&self) -> usize {
        self.steps.last().map_or(3, |s| s.out_channels)
    }

    /// [`forward`](Self::forward)'s output as RGB pictures (grey ones with equal channels).
    pub fn pictures(&self, channels_last: &[f32]) -> Vec<RgbImage> {
        let (side, channels) = (self.image_size(), self.channels());
        channels_last
            .par_chunks(side * side * channels)
            .map(|picture| {
                let bytes = match channels {
                    1 => picture.iter().flat_map(|&v| [to_byte(v); 3]).collect(),
                    _ => picture.iter().map(|&v| to_byte(v)).collect(),
                };
                RgbImage::from_raw(side as u32, side as u32, bytes).expect("square RGB")
            })
            .collect()
    }
}

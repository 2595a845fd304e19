//! BatchNorm in training mode on flex, forward and backward, in few passes: burn's composes
//! the statistics, the normalisation and each gradient of several element-wise and reduction
//! passes. Sums go per plane through 16 f32 lanes and then f64, so long batches stay exact to
//! well within the tests' 1e-4.

use burn::backend::flex::FlexTensor;
use burn::tensor::{Shape, TensorData};
use rayon::prelude::*;

use super::{dims, tensor, with_values};

const LANES: usize = 16;

/// The `len` values of a plane from `at`.
fn plane(values: &[f32], at: usize, len: usize) -> &[f32] {
    &values[at..][..len]
}

/// `Σ f(a_i, b_i)` over two equally long slices (`b` empty: `a` again), in f32 lanes, then f64.
fn lane_sum(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f64 {
    let b = if b.is_empty() { a } else { b };
    let mut lanes = [0f32; LANES];
    let (a_body, b_body) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f64 = a_body
        .remainder()
        .iter()
        .zip(b_body.remainder())
        .map(|(&x, &y)| f64::from(f(x, y)))
        .sum();
    for (xs, ys) in a_body.zip(b_body) {
        for ((l, &x), &y) in lanes.iter_mut().zip(xs).zip(ys) {
            *l += f(x, y);
        }
    }
    lanes.iter().map(|&l| f64::from(l)).sum::<f64>() + tail
}

/// Per channel of `[b, c, hw]` values: the sum over the batch of `plane_sum(channel, plane
/// start)`, the channels in parallel.
fn per_channel([b, c, hw]: [usize; 3], plane_sum: impl Fn(usize, usize) -> f64 + Sync) -> Vec<f64> {
    (0..c)
        .into_par_iter()
        .map(|ch| (0..b).map(|bi| plane_sum(ch, (bi * c + ch) * hw)).sum())
        .collect()
}

/// `out = a[ch]·x + b[ch]` per plane of `[b, c, hw]` values (with `y` beside, `a·y + b·x +
/// d`), written straight into fresh storage.
fn affine_planes(
    x: &[f32],
    y: Option<&[f32]>,
    [_, c, hw]: [usize; 3],
    coefficients: &[[f32; 3]],
) -> Vec<f32> {
    let mut out = Vec::with_capacity(x.len());
    out.spare_capacity_mut()[..x.len()]
        .par_chunks_mut(hw)
        .enumerate()
        .for_each(|(plane, o)| {
            let [a, b, d] = coefficients[plane % c];
            let xs = &x[plane * hw..][..hw];
            match y {
                None => o.iter_mut().zip(xs).for_each(|(o, &v)| {
                    o.write(a * v + b);
                }),
                Some(y) => {
                    let ys = &y[plane * hw..][..hw];
                    for ((o, &v), &g) in o.iter_mut().zip(xs).zip(ys) {
                        o.write(a * g + b * v + d);
                    }
                }
            }
        });
    // SAFETY: the planes cover all `x.len()` slots (`hw` divides it), each written above.
    unsafe { out.set_len(x.len()) };
    out
}

fn vector(values: &[f64]) -> FlexTensor {
    let values: Vec<f32> = values.iter().map(|&v| v as f32).collect();
    let n = values.len();
    FlexTensor::from_data(TensorData::new(values, Shape::new([n])))
}

/// BatchNorm in training mode over `x` `[b, c, h, w]`: the output, and the batch mean and
/// biased variance per channel (what burn's `batch_norm_train` returns). Two passes for the
/// statistics, one writing the output.
pub fn batch_norm_train(
    x: &FlexTensor,
    gamma: &FlexTensor,
    beta: &FlexTensor,
    epsilon: f64,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let [b, c, h, w] = dims(x);
    let (shape, n) = ([b, c, h * w], (b * h * w) as f64);
    let (gamma, beta) = (
        with_values(gamma, <[f32]>::to_vec),
        with_values(beta, <[f32]>::to_vec),
    );
    let (out, mean, var) = with_values(x, |x| {
        let mean: Vec<f64> =
            per_channel(shape, |_, at| lane_sum(plane(x, at, h * w), &[], |v, _| v))
                .into_iter()
                .map(|s| s / n)
                .collect();
        let var: Vec<f64> = per_channel(shape, |ch, at| {
            let m = mean[ch] as f32;
            lane_sum(plane(x, at, h * w), &[], |v, _| (v - m) * (v - m))
        })
        .into_iter()
        .map(|s| s / n)
        .collect();
        // y = (x - mean) / sqrt(var + eps) · gamma + beta = scale·x + shift.
        let coefficients: Vec<[f32; 3]> = (0..c)
            .map(|ch| {
                let scale = f64::from(gamma[ch]) / (var[ch] + epsilon).sqrt();
                let shift = f64::from(beta[ch]) - mean[ch] * scale;
                [scale as f32, shift as f32, 0.0]
            })
            .collect();
        (affine_planes(x, None, shape, &coefficients), mean, var)
    });
    (tensor(out, [b, c, h, w]), vector(&mean), vector(&var))
}

/// The gradients of [`batch_norm_train`] in `x`, `gamma` and `beta`, given the output's
/// gradient: one pass for the two per-channel sums, one for the input's gradient.
pub fn batch_norm_train_backward(
    x: &FlexTensor,
    gamma: &FlexTensor,
    mean: &FlexTensor,
    var: &FlexTensor,
    epsilon: f64,
    out_grad: &FlexTensor,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let [b, c, h, w] = dims(x);
    let (shape, n) = ([b, c, h * w], (b * h * w) as f64);
    let to_f64 = |t: &FlexTensor| with_values(t, |v| v.iter().map(|&v| f64::from(v)).collect());
    let (gamma, mean, var): (Vec<f64>, Vec<f64>, Vec<f64>) =
        (to_f64(gamma), to_f64(mean), to_f64(var));
    let inv: Vec<f64> = var.iter().map(|v| 1.0 / (v + epsilon).sqrt()).collect();
    let (x_grad, gamma_grad, beta_grad) = with_values(x, |x| {
        with_values(out_grad, |g| {
            let beta_grad =
                per_channel(shape, |_, at| lane_sum(plane(g, at, h * w), &[], |d, _| d));
            // Σ dy·x̂ = inv · (Σ dy·x - mean · Σ dy)
            let gamma_grad: Vec<f64> = per_channel(shape, |_, at| {
                lane_sum(plane(g, at, h * w), plane(x, at, h * w), |d, v| d * v)
            })
            .into_iter()
            .enumerate()
            .map(|(ch, dyx)| inv[ch] * (dyx - mean[ch] * beta_grad[ch]))
            .collect();
            // dx = gamma·inv · (dy - Σdy/n - x̂·Σ(dy·x̂)/n) = a·dy + b·x + d per channel.
            let coefficients: Vec<[f32; 3]> = (0..c)
                .map(|ch| {
                    let a = gamma[ch] * inv[ch];
                    let b = -a * inv[ch] * gamma_grad[ch] / n;
                    let d = -a * beta_grad[ch] / n - b * mean[ch];
                    [a as f32, b as f32, d as f32]
                })
                .collect();
            let x_grad = affine_planes(x, Some(g), shape, &coefficients);
            (x_grad, gamma_grad, beta_grad)
        })
    });
    (
        tensor(x_grad, [b, c, h, w]),
        vector(&gamma_grad),
        vector(&beta_grad),
    )
}

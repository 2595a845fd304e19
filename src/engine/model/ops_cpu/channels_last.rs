//! The batched path, for layers of few pixels (4×4, 8×8): activations turned channels-last so
//! that one GEMM covers a chunk of the batch (see [`CHUNK_FLOATS`]), its rows every output
//! pixel of every image — a per-image GEMM would have only 16 or 64 rows. A forward is
//! `im2col`, then `[n·h'·w', k²·cin] × [k²·cin, cout]`; an input gradient
//! `[n·h'·w', cout] × [cout, k²·cin]`, then `col2im`; a weight gradient
//! `[cout, n·h'·w'] × [n·h'·w', k²·cin]`, the batch the long side. Patches are in
//! (kh, kw, channel) order, so that each kernel row is one contiguous copy.

use std::borrow::Cow;

use rayon::prelude::*;

use super::gemm::gemm;
use super::{Geometry, out_side, source};

/// Pixels a transposition moves per tile: one cache line of a channel's row.
const TILE: usize = 16;

/// `[n, c, pixels]` → `[n, pixels, c]`, borrowed where the two layouts are the same.
pub(crate) fn channels_last(src: &[f32], [n, c, pixels]: [usize; 3]) -> Cow<'_, [f32]> {
    let src = &src[..n * c * pixels];
    if c == 1 || pixels == 1 {
        return Cow::Borrowed(src);
    }
    let mut dst = vec![0f32; src.len()];
    dst.par_chunks_mut(c * pixels)
        .zip(src.par_chunks(c * pixels))
        .for_each(|(out, from)| {
            for (t, tile) in out.chunks_mut(TILE * c).enumerate() {
                let (px0, len) = (t * TILE, tile.len() / c);
                for ch in 0..c {
                    let row = &from[ch * pixels + px0..][..len];
                    for (px, &v) in row.iter().enumerate() {
                        tile[px * c + ch] = v;
                    }
                }
            }
        });
    Cow::Owned(dst)
}

/// `[n, pixels, c]` → `[n, c, pixels]`, into `dst`.
fn channels_first_into(src: &[f32], dst: &mut [f32], [_, c, pixels]: [usize; 3]) {
    if c == 1 || pixels == 1 {
        dst.copy_from_slice(&src[..dst.len()]);
        return;
    }
    dst.par_chunks_mut(c * pixels)
        .zip(src.par_chunks(c * pixels))
        .for_each(|(out, from)| {
            for px0 in (0..pixels).step_by(TILE) {
                let len = TILE.min(pixels - px0);
                for ch in 0..c {
                    let row = &mut out[ch * pixels + px0..][..len];
                    for (px, o) in row.iter_mut().enumerate() {
                        *o = from[(px0 + px) * c + ch];
                    }
                }
            }
        });
}

/// A `[cout, cin, k, k]` weight as `[cout, k, k, cin]` (`to_channels_last`), or back.
fn weight_layout(w: &[f32], [cout, cin, k]: [usize; 3], to_channels_last: bool) -> Vec<f32> {
    let (kk, patch) = (k * k, cin * k * k);
    let mut out = vec![0f32; cout * patch];
    out.par_chunks_mut(patch)
        .zip(w.par_chunks(patch))
        .for_each(|(o, from)| {
            for ci in 0..cin {
                for at in 0..kk {
                    if to_channels_last {
                        o[at * cin + ci] = from[ci * kk + at];
                    } else {
                        o[ci * kk + at] = from[at * cin + ci];
                    }
                }
            }
        });
    out
}

/// Every output pixel's patch as a row, `[n·h'·w', k·k·c]` in (kh, kw, c) order, from a
/// channels-last `x` `[n, h, w, c]`: each kernel row is one copy of `k·c` contiguous values
/// inside the picture, zeros where the patch leaves it.
fn im2col(x: &[f32], [n, c, h, w]: [usize; 4], k: usize, s: usize, p: usize) -> Vec<f32> {
    let (ho, wo) = (out_side(h, k, s, p), out_side(w, k, s, p));
    let patch = c * k * k;
    let mut cols = vec![0f32; n * ho * wo * patch];
    cols.par_chunks_mut(wo * patch)
        .enumerate()
        .for_each(|(row, out)| {
            let (bi, oy) = (row / ho, row % ho);
            let image = &x[bi * h * w * c..][..h * w * c];
            for kh in 0..k {
                let Some(iy) = source(oy, kh, s, p, h) else {
                    continue;
                };
                let line = &image[iy * w * c..][..w * c];
                for ox in 0..wo {
                    let dst = &mut out[ox * patch + kh * k * c..][..k * c];
                    match (ox * s).checked_sub(p).filter(|&ix| ix + k <= w) {
                        Some(ix) => dst.copy_from_slice(&line[ix * c..][..k * c]),
                        None => {
                            for (kw, seg) in dst.chunks_mut(c).enumerate() {
                                if let Some(ix) = source(ox, kw, s, p, w) {
                                    seg.copy_from_slice(&line[ix * c..][..c]);
                                }
                            }
                        }
                    }
                }
            }
        });
    cols
}

/// The adjoint of [`im2col`]: the channels-last `[n, h, w, c]` sums of every patch value
/// that reads each input pixel, gathered per pixel (no scatter, no races).
fn col2im(cols: &[f32], [n, c, h, w]: [usize; 4], k: usize, s: usize, p: usize) -> Vec<f32> {
    let (ho, wo) = (out_side(h, k, s, p), out_side(w, k, s, p));
    let patch = c * k * k;
    // The output rows (or columns) `o` and taps that read input row `i`.
    let readers = |i: usize, outs: usize| {
        (0..k).filter_map(move |tap| {
            let t = (i + p).checked_sub(tap)?;
            (t % s == 0 && t / s < outs).then_some((t / s, tap))
        })
    };
    let mut x = vec![0f32; n * h * w * c];
    x.par_chunks_mut(w * c).enumerate().for_each(|(row, line)| {
        let (bi, iy) = (row / h, row % h);
        for (oy, kh) in readers(iy, ho) {
            let out_row = &cols[(bi * ho + oy) * wo * patch..][..wo * patch];
            for (ix, acc) in line.chunks_mut(c).enumerate() {
                for (ox, kw) in readers(ix, wo) {
                    let src = &out_row[ox * patch + (kh * k + kw) * c..][..c];
                    acc.iter_mut().zip(src).for_each(|(a, v)| *a += v);
                }
            }
        }
    });
    x
}

/// Floats of patch matrix one chunk of the batch may hold (16 MB): a whole batch's (64 MB at
/// the large layers) would be written and read back through memory, and its pages touched
/// fresh on every call, which cost more than the GEMM itself.
const CHUNK_FLOATS: usize = 1 << 22;

/// The batch in chunks whose patch matrix (`per_image` floats an image) fits
/// [`CHUNK_FLOATS`]: image ranges, in order.
fn batch_chunks(b: usize, per_image: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let images = (CHUNK_FLOATS / per_image.max(1)).clamp(1, b.max(1));
    (0..b).step_by(images).map(move |i| i..(i + images).min(b))
}

/// The values of images `chunk` of a batch stored `per_image` floats apart.
fn images<'a>(values: &'a [f32], chunk: &std::ops::Range<usize>, per_image: usize) -> &'a [f32] {
    &values[chunk.start * per_image..chunk.end * per_image]
}

/// The convolution's output `[b, cout, h', w']` of `x` `[b, cin, h, w]` and `weight`
/// `[cout, cin, k, k]`.
pub(super) fn forward(g: Geometry, x: &[f32], weight: &[f32]) -> Vec<f32> {
    let Geometry {
        b,
        cin,
        h,
        w,
        cout,
        k,
        s,
        p,
    } = g;
    let (ho, wo, patch) = (g.ho(), g.wo(), g.patch());
    let (image_in, image_out) = (g.image_in(), g.image_out());
    let wt = weight_layout(weight, [cout, cin, k], true);
    let mut out = vec![0f32; b * image_out];
    for chunk in batch_chunks(b, ho * wo * patch) {
        let n = chunk.len();
        let x = channels_last(images(x, &chunk, image_in), [n, cin, h * w]);
        let cols = im2col(&x, [n, cin, h, w], k, s, p);
        // [n·h'·w', patch] × weightᵀ [patch, cout]
        let lhs = (cols.as_slice(), [1, patch as isize]);
        let rows = gemm([n * ho * wo, cout, patch], lhs, (&wt, [patch as isize, 1]));
        let into = &mut out[chunk.start * image_out..][..n * image_out];
        channels_first_into(&rows, into, [n, cout, ho * wo]);
    }
    out
}

/// The gradient `[b, cin, h, w]` in the input, given the output's `out_grad`.
pub(super) fn input_grad(g: Geometry, out_grad: &[f32], weight: &[f32]) -> Vec<f32> {
    let Geometry {
        b,
        cin,
        h,
        w,
        cout,
        k,
        s,
        p,
    } = g;
    let (ho, wo, patch) = (g.ho(), g.wo(), g.patch());
    let (image_in, image_out) = (g.image_in(), g.image_out());
    let wt = weight_layout(weight, [cout, cin, k], true);
    let mut x = vec![0f32; b * image_in];
    for chunk in batch_chunks(b, ho * wo * patch) {
        let n = chunk.len();
        let grad = channels_last(images(out_grad, &chunk, image_out), [n, cout, ho * wo]);
        // [n·h'·w', cout] × weight [cout, patch]
        let lhs = (grad.as_ref(), [1, cout as isize]);
        let cols = gemm([n * ho * wo, patch, cout], lhs, (&wt, [1, patch as isize]));
        let summed = col2im(&cols, [n, cin, h, w], k, s, p);
        let into = &mut x[chunk.start * image_in..][..n * image_in];
        channels_first_into(&summed, into, [n, cin, h * w]);
    }
    x
}

/// The gradient `[cout, cin, k, k]` in the weight: the chunks' products summed, in order.
pub(super) fn weight_grad(g: Geometry, x: &[f32], out_grad: &[f32]) -> Vec<f32> {
    let Geometry {
        b,
        cin,
        h,
        w,
        cout,
        k,
        s,
        p,
    } = g;
    let (ho, wo, patch) = (g.ho(), g.wo(), g.patch());
    let (image_in, image_out) = (g.image_in(), g.image_out());
    let mut total = vec![0f32; cout * patch];
    for chunk in batch_chunks(b, ho * wo * patch) {
        let n = chunk.len();
        let x = channels_last(images(x, &chunk, image_in), [n, cin, h * w]);
        let cols = im2col(&x, [n, cin, h, w], k, s, p);
        let grad = channels_last(images(out_grad, &chunk, image_out), [n, cout, ho * wo]);
        // gradᵀ [cout, n·h'·w'] × cols [n·h'·w', patch]
        let lhs = (grad.as_ref(), [cout as isize, 1]);
        let rhs = (cols.as_slice(), [1, patch as isize]);
        let part = gemm([cout, patch, n * ho * wo], lhs, rhs);
        total.iter_mut().zip(&part).for_each(|(t, v)| *t += v);
    }
    weight_layout(&total, [cout, cin, k], false)
}

//! The convolutions on the CPU (`flex`) as batch-folded GEMMs, a few images at a time (see
//! [`CHUNK_FLOATS`]). Three kernels
//! make all six operations of `conv.rs`: a convolution's forward (`im2col`, then
//! `[b·h'·w', cin·k²] × [cin·k², cout]`), its input gradient (`[b·h'·w', cout] × [cout, cin·k²]`,
//! then `col2im`) and its weight gradient (`[cout, b·h'·w'] × [b·h'·w', cin·k²]`: the batch is
//! the long side, where burn's generic backward makes the 4×4 kernel the short one). A transposed
//! convolution is the convolution's input gradient, and the other way round. Leaky ReLU and its
//! gradient are one parallel pass each.

use burn::backend::TensorMetadata;
use burn::backend::flex::FlexTensor;
use burn::tensor::{DType, Shape, TensorData};
use rayon::prelude::*;

fn dims(t: &FlexTensor) -> [usize; 4] {
    t.shape().dims()
}

/// `t`'s values, without a copy when they are already contiguous.
fn with_values<R>(t: &FlexTensor, f: impl FnOnce(&[f32]) -> R) -> R {
    assert_eq!(t.dtype(), DType::F32, "hitogata's convolutions are f32");
    match t.as_slice::<f32>() {
        Some(values) => f(values),
        None => f(t.to_contiguous().as_slice::<f32>().expect("contiguous")),
    }
}

fn tensor(values: Vec<f32>, shape: [usize; 4]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, Shape::new(shape)))
}

/// Output side of a convolution over `side` pixels.
fn out_side(side: usize, k: usize, s: usize, p: usize) -> usize {
    (side + 2 * p - k) / s + 1
}

/// The last index a `rows`×`cols` matrix with (column, row) strides `[cs, rs]` reads, plus one.
fn extent(rows: usize, cols: usize, [cs, rs]: [isize; 2]) -> usize {
    if rows == 0 || cols == 0 {
        return 0;
    }
    (rows - 1) * rs as usize + (cols - 1) * cs as usize + 1
}

/// `dst[m×n] = lhs[m×k] · rhs[k×n]`, row-major `dst`, multiplied by gemm (the crate burn-flex
/// uses) on every core; `lhs` and `rhs` given with their (column, row) strides, so either can
/// be read transposed. The one GEMM call of hitogata's CPU paths (training ops and drawing).
pub(crate) fn gemm(
    [m, n, k]: [usize; 3],
    lhs: (&[f32], [isize; 2]),
    rhs: (&[f32], [isize; 2]),
) -> Vec<f32> {
    assert!(
        lhs.1.iter().chain(&rhs.1).all(|&s| s > 0),
        "positive strides"
    );
    assert!(lhs.0.len() >= extent(m, k, lhs.1), "lhs holds {m}×{k}");
    assert!(rhs.0.len() >= extent(k, n, rhs.1), "rhs holds {k}×{n}");
    let mut dst = Vec::<f32>::with_capacity(m * n);
    // SAFETY: `dst` has room for m·n values, which the GEMM writes all of (`read_dst` false,
    // so nothing is read first); the assertions above keep every read inside `lhs` and `rhs`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            false,
            lhs.0.as_ptr(),
            lhs.1[0],
            lhs.1[1],
            rhs.0.as_ptr(),
            rhs.1[0],
            rhs.1[1],
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(0),
        );
        dst.set_len(m * n);
    }
    dst
}

/// Every output pixel's patch as a row: `[b·h'·w', c·k·k]`, zeros where the patch leaves the
/// picture.
fn im2col(x: &[f32], [b, c, h, w]: [usize; 4], k: usize, s: usize, p: usize) -> Vec<f32> {
    let (ho, wo) = (out_side(h, k, s, p), out_side(w, k, s, p));
    let patch = c * k * k;
    let mut cols = vec![0f32; b * ho * wo * patch];
    cols.par_chunks_mut(wo * patch)
        .enumerate()
        .for_each(|(row, out)| {
            let (bi, oy) = (row / ho, row % ho);
            for ci in 0..c {
                let plane = &x[(bi * c + ci) * h * w..][..h * w];
                for kh in 0..k {
                    let Some(iy) = (oy * s + kh).checked_sub(p).filter(|&y| y < h) else {
                        continue;
                    };
                    let line = &plane[iy * w..][..w];
                    for ox in 0..wo {
                        let dst = &mut out[ox * patch + (ci * k + kh) * k..][..k];
                        for (kw, d) in dst.iter_mut().enumerate() {
                            if let Some(ix) = (ox * s + kw).checked_sub(p).filter(|&x| x < w) {
                                *d = line[ix];
                            }
                        }
                    }
                }
            }
        });
    cols
}

/// The adjoint of [`im2col`]: each patch row added into `x` `[b, c, h, w]` (zeros on entry).
fn col2im_into(
    cols: &[f32],
    x: &mut [f32],
    [_, c, h, w]: [usize; 4],
    k: usize,
    s: usize,
    p: usize,
) {
    let (ho, wo) = (out_side(h, k, s, p), out_side(w, k, s, p));
    let patch = c * k * k;
    x.par_chunks_mut(h * w)
        .enumerate()
        .for_each(|(plane_at, plane)| {
            let (bi, ci) = (plane_at / c, plane_at % c);
            for oy in 0..ho {
                for kh in 0..k {
                    let Some(iy) = (oy * s + kh).checked_sub(p).filter(|&y| y < h) else {
                        continue;
                    };
                    let line = &mut plane[iy * w..][..w];
                    for ox in 0..wo {
                        let src =
                            &cols[((bi * ho + oy) * wo + ox) * patch + (ci * k + kh) * k..][..k];
                        for (kw, v) in src.iter().enumerate() {
                            if let Some(ix) = (ox * s + kw).checked_sub(p).filter(|&x| x < w) {
                                line[ix] += v;
                            }
                        }
                    }
                }
            }
        });
}

/// `[b, c, pixels]` → `[b, pixels, c]` (`to_channels_last`), or back, into `dst`.
fn swap_channels_into(
    src: &[f32],
    dst: &mut [f32],
    [c, pixels]: [usize; 2],
    to_channels_last: bool,
) {
    dst.par_chunks_mut(c * pixels)
        .zip(src.par_chunks(c * pixels))
        .for_each(|(out, from)| {
            for ch in 0..c {
                for px in 0..pixels {
                    if to_channels_last {
                        out[px * c + ch] = from[ch * pixels + px];
                    } else {
                        out[ch * pixels + px] = from[px * c + ch];
                    }
                }
            }
        });
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

/// `x` `[b, cin, h, w]` with `weight` `[cout, cin, k, k]`, stride `s`, padding `p`.
pub fn conv2d(x: &FlexTensor, weight: &FlexTensor, s: usize, p: usize) -> FlexTensor {
    let [b, c, h, w] = dims(x);
    let [cout, cin, k, _] = dims(weight);
    assert_eq!(c, cin, "conv2d: {c} channels in, a weight for {cin}");
    let (ho, wo) = (out_side(h, k, s, p), out_side(w, k, s, p));
    let patch = c * k * k;
    let (image_in, image_out) = (c * h * w, cout * ho * wo);
    let mut out = vec![0f32; b * image_out];
    with_values(x, |x| {
        with_values(weight, |wt| {
            for chunk in batch_chunks(b, ho * wo * patch) {
                let n = chunk.len();
                let cols = im2col(images(x, &chunk, image_in), [n, c, h, w], k, s, p);
                // [n·h'·w', patch] × weightᵀ [patch, cout]
                let lhs = (cols.as_slice(), [1, patch as isize]);
                let rows = gemm([n * ho * wo, cout, patch], lhs, (wt, [patch as isize, 1]));
                swap_channels_into(
                    &rows,
                    &mut out[chunk.start * image_out..][..n * image_out],
                    [cout, ho * wo],
                    false,
                );
            }
        })
    });
    tensor(out, [b, cout, ho, wo])
}

/// The gradient of [`conv2d`] in its input (of side `[h, w]`), given the output's gradient
/// `out_grad` `[b, cout, h', w']`.
pub fn conv2d_input_grad(
    out_grad: &FlexTensor,
    weight: &FlexTensor,
    s: usize,
    p: usize,
    [h, w]: [usize; 2],
) -> FlexTensor {
    let [b, cout, ho, wo] = dims(out_grad);
    let [wcout, cin, k, _] = dims(weight);
    assert_eq!(
        cout, wcout,
        "conv2d gradient: {cout} channels out, a weight for {wcout}"
    );
    assert_eq!((out_side(h, k, s, p), out_side(w, k, s, p)), (ho, wo));
    let patch = cin * k * k;
    let (image_in, image_out) = (cin * h * w, cout * ho * wo);
    let mut x = vec![0f32; b * image_in];
    with_values(out_grad, |g| {
        with_values(weight, |wt| {
            for chunk in batch_chunks(b, ho * wo * patch) {
                let n = chunk.len();
                let mut grad = vec![0f32; n * image_out];
                swap_channels_into(
                    images(g, &chunk, image_out),
                    &mut grad,
                    [cout, ho * wo],
                    true,
                );
                // [n·h'·w', cout] × weight [cout, patch]
                let lhs = (grad.as_slice(), [1, cout as isize]);
                let cols = gemm([n * ho * wo, patch, cout], lhs, (wt, [1, patch as isize]));
                let into = &mut x[chunk.start * image_in..][..n * image_in];
                col2im_into(&cols, into, [n, cin, h, w], k, s, p);
            }
        })
    });
    tensor(x, [b, cin, h, w])
}

/// The gradient of [`conv2d`] in its `[cout, cin, k, k]` weight, given its input `x` and the
/// output's gradient `out_grad`: the chunks' products summed, in order.
pub fn conv2d_weight_grad(
    x: &FlexTensor,
    out_grad: &FlexTensor,
    s: usize,
    p: usize,
    k: usize,
) -> FlexTensor {
    let [b, cin, h, w] = dims(x);
    let [gb, cout, ho, wo] = dims(out_grad);
    assert_eq!(b, gb, "conv2d weight gradient: batches of {b} and {gb}");
    assert_eq!((out_side(h, k, s, p), out_side(w, k, s, p)), (ho, wo));
    let patch = cin * k * k;
    let (image_in, image_out) = (cin * h * w, cout * ho * wo);
    let mut total = vec![0f32; cout * patch];
    with_values(x, |x| {
        with_values(out_grad, |g| {
            for chunk in batch_chunks(b, ho * wo * patch) {
                let n = chunk.len();
                let cols = im2col(images(x, &chunk, image_in), [n, cin, h, w], k, s, p);
                let mut grad = vec![0f32; n * image_out];
                swap_channels_into(
                    images(g, &chunk, image_out),
                    &mut grad,
                    [cout, ho * wo],
                    true,
                );
                // gradᵀ [cout, n·h'·w'] × cols [n·h'·w', patch]
                let lhs = (grad.as_slice(), [cout as isize, 1]);
                let rhs = (cols.as_slice(), [1, patch as isize]);
                let part = gemm([cout, patch, n * ho * wo], lhs, rhs);
                total.iter_mut().zip(&part).for_each(|(t, v)| *t += v);
            }
        })
    });
    tensor(total, [cout, cin, k, k])
}

/// Parallel chunks for element-wise passes: large enough to amortise a task.
const ELEMENTWISE_CHUNK: usize = 1 << 14;

fn tensor_like(values: Vec<f32>, like: &FlexTensor) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, like.shape()))
}

/// `slope·x` where `x` is negative, `x` elsewhere (as burn's: the gradient at 0 is 1).
pub fn leaky_relu(x: &FlexTensor, slope: f32) -> FlexTensor {
    let out = with_values(x, |x| {
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(ELEMENTWISE_CHUNK)
            .zip(x.par_chunks(ELEMENTWISE_CHUNK))
            .for_each(|(o, x)| {
                for (o, &v) in o.iter_mut().zip(x) {
                    *o = if v < 0.0 { slope * v } else { v };
                }
            });
        out
    });
    tensor_like(out, x)
}

/// Leaky ReLU's gradient at `x`: `slope·grad` where `x` is negative, `grad` elsewhere.
pub fn leaky_relu_backward(x: &FlexTensor, grad: &FlexTensor, slope: f32) -> FlexTensor {
    let out = with_values(x, |x| {
        with_values(grad, |g| {
            let mut out = vec![0f32; x.len()];
            out.par_chunks_mut(ELEMENTWISE_CHUNK)
                .zip(
                    x.par_chunks(ELEMENTWISE_CHUNK)
                        .zip(g.par_chunks(ELEMENTWISE_CHUNK)),
                )
                .for_each(|(o, (x, g))| {
                    for ((o, &v), &d) in o.iter_mut().zip(x).zip(g) {
                        *o = if v < 0.0 { slope * d } else { d };
                    }
                });
            out
        })
    });
    tensor_like(out, x)
}

//! The per-image path, for layers of many pixels (16×16 and up): each image's GEMM already
//! has hundreds of columns, so the activations stay in burn's `[c, h, w]` layout — no
//! transpositions, no weight reordering — and the images go to the cores whole, each with its
//! patch matrix in cache. A forward is `weight [cout, cin·k²] × patchesᵀ [cin·k², h'·w']`, an
//! input gradient `weightᵀ × out_grad`, then the patches added back, a weight gradient
//! `out_grad [cout, h'·w'] × patches [h'·w', cin·k²]` summed over the images.

use std::ops::Range;

use rayon::prelude::*;

use super::Geometry;
use super::gemm::{gemm_fresh, gemm_into};

/// Images one weight-gradient task sums before the tasks' sums are added, in order: fixed,
/// so that the order of the sum (and a seeded run) does not depend on the number of cores.
const IMAGES_PER_TASK: usize = 8;

/// The output columns `ox` whose tap `kw` reads inside `0..w`: `ox·s + kw - p` in range.
fn inside(g: &Geometry, kw: usize) -> Range<usize> {
    let (s, p, wo) = (g.s, g.p, g.wo());
    let lo = (p.saturating_sub(kw)).div_ceil(s).min(wo);
    let hi = (g.w + p).saturating_sub(kw).div_ceil(s).min(wo);
    lo..hi.max(lo)
}

/// Whether `g` is the DCGAN's halving step (4×4 kernel, stride 2, padding 1, even sides),
/// which has a branch-free path: output column `j`'s four taps read input columns `2j-1 ..=
/// 2j+2`, so each pair of input columns `(2j, 2j+1)` is read by taps 1, 2 of column `j` and
/// taps 3, 0 of its neighbours.
fn halving(g: &Geometry) -> bool {
    (g.k, g.s, g.p) == (4, 2, 1) && g.w.is_multiple_of(2) && g.w >= 4
}

/// One image's patch matrix, transposed: `[cin·k·k, h'·w']`, a row per (channel, kh, kw) tap
/// holding what that tap reads for every output pixel, zeros outside the picture.
fn patches_t(g: &Geometry, x: &[f32], cols: &mut [f32]) {
    let (h, w, k, s, p) = (g.h, g.w, g.k, g.s, g.p);
    let (ho, wo) = (g.ho(), g.wo());
    let pixels = ho * wo;
    for (kernel_row, taps) in cols.chunks_mut(k * pixels).enumerate() {
        let (ci, kh) = (kernel_row / k, kernel_row % k);
        let plane = &x[ci * h * w..][..h * w];
        for oy in 0..ho {
            let line = super::source(oy, kh, s, p, h).map(|iy| &plane[iy * w..][..w]);
            if halving(g) {
                let [r0, r1, r2, r3] = tap_rows(taps, pixels, oy * wo, wo);
                match line {
                    Some(line) => deinterleave(line, [r0, r1, r2, r3]),
                    None => [r0, r1, r2, r3].into_iter().for_each(|r| r.fill(0.0)),
                }
                continue;
            }
            for (kw, row) in taps.chunks_mut(pixels).enumerate() {
                let out = &mut row[oy * wo..][..wo];
                let Some(line) = line else {
                    out.fill(0.0);
                    continue;
                };
                let cols_in = inside(g, kw);
                out[..cols_in.start].fill(0.0);
                out[cols_in.end..].fill(0.0);
                for ox in cols_in {
                    out[ox] = line[ox * s + kw - p];
                }
            }
        }
    }
}

/// The four taps' rows (kw = 0..4) of one output row, `wo` values from `at` in each.
fn tap_rows(taps: &mut [f32], pixels: usize, at: usize, wo: usize) -> [&mut [f32]; 4] {
    let mut rows = taps.chunks_mut(pixels).map(|row| &mut row[at..][..wo]);
    std::array::from_fn(|_| rows.next().expect("four taps"))
}

/// The halving step's taps of one output row from its input `line` (`2·wo` values): four
/// stride-2 copies, branch-free so that they vectorise.
fn deinterleave(line: &[f32], [r0, r1, r2, r3]: [&mut [f32]; 4]) {
    let wo = r0.len();
    // Every other value of `line` from `from` (the last pair of an odd rest has one).
    let every_other = |from: usize| line[from..].chunks(2).map(|pair| pair[0]);
    r1.iter_mut().zip(every_other(0)).for_each(|(r, v)| *r = v);
    r2.iter_mut().zip(every_other(1)).for_each(|(r, v)| *r = v);
    r3[..wo - 1]
        .iter_mut()
        .zip(every_other(2))
        .for_each(|(r, v)| *r = v);
    r0[1..]
        .iter_mut()
        .zip(every_other(1))
        .for_each(|(r, v)| *r = v);
    r0[0] = 0.0;
    r3[wo - 1] = 0.0;
}

/// The adjoint of [`patches_t`]: every tap's values added into the image `x` `[cin, h, w]`.
fn add_patches_t(g: &Geometry, cols: &[f32], x: &mut [f32]) {
    let (h, w, k, s, p) = (g.h, g.w, g.k, g.s, g.p);
    let (ho, wo) = (g.ho(), g.wo());
    let pixels = ho * wo;
    for (kernel_row, taps) in cols.chunks(k * pixels).enumerate() {
        let (ci, kh) = (kernel_row / k, kernel_row % k);
        let plane = &mut x[ci * h * w..][..h * w];
        for oy in 0..ho {
            let Some(iy) = super::source(oy, kh, s, p, h) else {
                continue;
            };
            let line = &mut plane[iy * w..][..w];
            let mut rows = taps.chunks(pixels).map(|r| &r[oy * wo..][..wo]);
            if halving(g) {
                interleave_add(line, std::array::from_fn(|_| rows.next().expect("4 taps")));
                continue;
            }
            for (kw, values) in rows.enumerate() {
                for ox in inside(g, kw) {
                    line[ox * s + kw - p] += values[ox];
                }
            }
        }
    }
}

/// The adjoint of [`deinterleave`]: the four taps of one output row added into `line`.
pub(crate) fn interleave_add(line: &mut [f32], [r0, r1, r2, r3]: [&[f32]; 4]) {
    let wo = r0.len();
    // The first and last pairs, whose outer taps fall outside the picture.
    line[0] += r1[0];
    line[1] += r2[0] + if wo > 1 { r0[1] } else { 0.0 };
    if wo > 1 {
        line[2 * wo - 2] += r1[wo - 1] + r3[wo - 2];
        line[2 * wo - 1] += r2[wo - 1];
    }
    if wo > 2 {
        let inner = line[2..2 * wo - 2].chunks_exact_mut(2);
        let evens = r1[1..wo - 1].iter().zip(&r3[..wo - 2]);
        let odds = r2[1..wo - 1].iter().zip(&r0[2..]);
        for (pair, ((a, b), (c, d))) in inner.zip(evens.zip(odds)) {
            pair[0] += a + b;
            pair[1] += c + d;
        }
    }
}

/// Whether the GEMMs themselves should use every core: when there are too few images (or
/// weight-gradient tasks) to keep the cores busy one image each.
fn gemm_on_every_core(items: usize) -> bool {
    items < rayon::current_num_threads()
}

/// The convolution's output `[b, cout, h', w']` of `x` `[b, cin, h, w]` and `weight`
/// `[cout, cin, k, k]`.
pub(super) fn forward(g: Geometry, x: &[f32], weight: &[f32]) -> Vec<f32> {
    let (pixels, patch) = (g.ho() * g.wo(), g.patch());
    let parallel = gemm_on_every_core(g.b);
    let len = g.b * g.image_out();
    let mut out = Vec::with_capacity(len);
    out.spare_capacity_mut()[..len]
        .par_chunks_mut(g.image_out())
        .zip(x.par_chunks(g.image_in()))
        .for_each_init(
            || vec![0f32; patch * pixels],
            |cols, (out, x)| {
                patches_t(&g, x, cols);
                let lhs = (weight, [1, patch as isize]);
                let rhs = (cols.as_slice(), [1, pixels as isize]);
                gemm_fresh(out, [g.cout, pixels, patch], lhs, rhs, parallel);
            },
        );
    // SAFETY: one GEMM wrote each image's whole output.
    unsafe { out.set_len(len) };
    out
}

/// The gradient `[b, cin, h, w]` in the input, given the output's `out_grad`.
pub(super) fn input_grad(g: Geometry, out_grad: &[f32], weight: &[f32]) -> Vec<f32> {
    let (pixels, patch) = (g.ho() * g.wo(), g.patch());
    let parallel = gemm_on_every_core(g.b);
    let mut x = vec![0f32; g.b * g.image_in()];
    x.par_chunks_mut(g.image_in())
        .zip(out_grad.par_chunks(g.image_out()))
        .for_each_init(
            || vec![0f32; patch * pixels],
            |cols, (x, grad)| {
                // weightᵀ [patch, cout] × out_grad [cout, pixels]
                let lhs = (weight, [patch as isize, 1]);
                let rhs = (grad, [1, pixels as isize]);
                gemm_into(cols, [patch, pixels, g.cout], lhs, rhs, false, parallel);
                add_patches_t(&g, cols, x);
            },
        );
    x
}

/// The gradient `[cout, cin, k, k]` in the weight.
pub(super) fn weight_grad(g: Geometry, x: &[f32], out_grad: &[f32]) -> Vec<f32> {
    let (pixels, patch) = (g.ho() * g.wo(), g.patch());
    let (image_in, image_out) = (g.image_in(), g.image_out());
    let tasks: Vec<Range<usize>> = (0..g.b)
        .step_by(IMAGES_PER_TASK)
        .map(|i| i..(i + IMAGES_PER_TASK).min(g.b))
        .collect();
    let parallel = gemm_on_every_core(tasks.len());
    let sums: Vec<Vec<f32>> = tasks
        .par_iter()
        .map(|images| {
            let mut sum = vec![0f32; g.cout * patch];
            let mut cols = vec![0f32; patch * pixels];
            for i in images.clone() {
                patches_t(&g, &x[i * image_in..][..image_in], &mut cols);
                // out_grad [cout, pixels] × patches [pixels, patch]
                let lhs = (
                    &out_grad[i * image_out..][..image_out],
                    [1, pixels as isize],
                );
                let rhs = (cols.as_slice(), [pixels as isize, 1]);
                gemm_into(&mut sum, [g.cout, patch, pixels], lhs, rhs, true, parallel);
            }
            sum
        })
        .collect();
    let mut total = vec![0f32; g.cout * patch];
    for sum in &sums {
        total.iter_mut().zip(sum).for_each(|(t, v)| *t += v);
    }
    total
}

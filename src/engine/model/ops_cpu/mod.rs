//! The convolutions on the CPU (`flex`) as GEMMs over the whole batch. Three kernels make all
//! six operations of `ops.rs`: a convolution's forward, its input gradient and its weight
//! gradient (with the batch as the GEMM's long side, where burn's generic backward makes the
//! 4×4 kernel the short one); a transposed convolution is the convolution's input gradient,
//! and the other way round. Each kernel has two paths: layers of many pixels go image by image
//! in burn's layout ([`per_image`]), layers of few pixels turn channels-last so that one GEMM
//! covers many images ([`channels_last`]). Leaky ReLU and its gradient are one parallel pass
//! each ([`elementwise`]).

mod batch_norm;
mod channels_last;
mod elementwise;
mod gemm;
mod per_image;

use burn::backend::TensorMetadata;
use burn::backend::flex::FlexTensor;
use burn::tensor::{DType, Shape, TensorData};

pub use batch_norm::{batch_norm_train, batch_norm_train_backward};
pub(crate) use channels_last::channels_last;
pub use elementwise::{fast_tanh, leaky_relu, leaky_relu_backward, tanh, tanh_backward};
pub(crate) use gemm::{gemm, gemm_into};
pub(crate) use per_image::interleave_add;

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

/// The input row `i` that kernel tap `tap` of output row `o` reads, if inside `0..side`.
fn source(o: usize, tap: usize, s: usize, p: usize, side: usize) -> Option<usize> {
    (o * s + tap).checked_sub(p).filter(|&i| i < side)
}

/// Output pixels from which a GEMM per image is wide enough (16×16).
const WIDE_GEMM: usize = 256;

/// A convolution of a batch of `b` images `[cin, h, w]` with a `[cout, cin, k, k]` weight,
/// stride `s`, padding `p`.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    b: usize,
    cin: usize,
    h: usize,
    w: usize,
    cout: usize,
    k: usize,
    s: usize,
    p: usize,
}

impl Geometry {
    fn ho(&self) -> usize {
        out_side(self.h, self.k, self.s, self.p)
    }
    fn wo(&self) -> usize {
        out_side(self.w, self.k, self.s, self.p)
    }
    fn patch(&self) -> usize {
        self.cin * self.k * self.k
    }
    fn image_in(&self) -> usize {
        self.cin * self.h * self.w
    }
    fn image_out(&self) -> usize {
        self.cout * self.ho() * self.wo()
    }
    /// Whether to go image by image: where a GEMM per image is wide enough (16×16 outputs and
    /// up) the channels-last round trips cost more than they save, and where the whole batch
    /// has fewer output pixels than that (a picture or two through small layers) folding it
    /// gains nothing to pay for reordering the weight.
    fn per_image(&self) -> bool {
        let pixels = self.ho() * self.wo();
        pixels >= WIDE_GEMM || self.b * pixels < WIDE_GEMM
    }

    /// Whether the weight gradient goes image by image: only where a GEMM per image is wide
    /// (its partial sums per group of images cost memory, and a 1×1 output would make each
    /// image's product an outer product).
    fn weight_grad_per_image(&self) -> bool {
        self.ho() * self.wo() >= WIDE_GEMM
    }
}

/// `x` `[b, cin, h, w]` with `weight` `[cout, cin, k, k]`, stride `s`, padding `p`.
pub fn conv2d(x: &FlexTensor, weight: &FlexTensor, s: usize, p: usize) -> FlexTensor {
    let [b, c, h, w] = dims(x);
    let [cout, cin, k, _] = dims(weight);
    assert_eq!(c, cin, "conv2d: {c} channels in, a weight for {cin}");
    let g = Geometry {
        b,
        cin,
        h,
        w,
        cout,
        k,
        s,
        p,
    };
    let out = with_values(x, |x| {
        with_values(weight, |wt| match g.per_image() {
            true => per_image::forward(g, x, wt),
            false => channels_last::forward(g, x, wt),
        })
    });
    tensor(out, [b, cout, g.ho(), g.wo()])
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
    let g = Geometry {
        b,
        cin,
        h,
        w,
        cout,
        k,
        s,
        p,
    };
    assert_eq!((g.ho(), g.wo()), (ho, wo));
    let x = with_values(out_grad, |grad| {
        with_values(weight, |wt| match g.per_image() {
            true => per_image::input_grad(g, grad, wt),
            false => channels_last::input_grad(g, grad, wt),
        })
    });
    tensor(x, [b, cin, h, w])
}

/// The gradient of [`conv2d`] in its `[cout, cin, k, k]` weight, given its input `x` and the
/// output's gradient `out_grad`.
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
    let g = Geometry {
        b,
        cin,
        h,
        w,
        cout,
        k,
        s,
        p,
    };
    assert_eq!((g.ho(), g.wo()), (ho, wo));
    let dw = with_values(x, |x| {
        with_values(out_grad, |grad| match g.weight_grad_per_image() {
            true => per_image::weight_grad(g, x, grad),
            false => channels_last::weight_grad(g, x, grad),
        })
    });
    tensor(dw, [cout, cin, k, k])
}

/// Both paths against a direct convolution, at shapes the product routes to only one of them
/// (tests/all/engine_ops.rs checks the product's choice against burn's own ops).
#[cfg(test)]
mod tests {
    use super::*;

    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len as u32)
            .map(|i| ((i.wrapping_mul(2_654_435_761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    /// The convolution by its definition.
    fn direct(g: Geometry, x: &[f32], weight: &[f32]) -> Vec<f32> {
        let (ho, wo) = (g.ho(), g.wo());
        let mut out = vec![0f32; g.b * g.image_out()];
        for (b, co, oy, ox) in every_index(g.b, g.cout, ho, wo) {
            let mut sum = 0.0;
            for ci in 0..g.cin {
                for kh in 0..g.k {
                    for kw in 0..g.k {
                        let (Some(iy), Some(ix)) =
                            (source(oy, kh, g.s, g.p, g.h), source(ox, kw, g.s, g.p, g.w))
                        else {
                            continue;
                        };
                        sum += x[((b * g.cin + ci) * g.h + iy) * g.w + ix]
                            * weight[((co * g.cin + ci) * g.k + kh) * g.k + kw];
                    }
                }
            }
            out[((b * g.cout + co) * ho + oy) * wo + ox] = sum;
        }
        out
    }

    fn every_index(
        a: usize,
        b: usize,
        c: usize,
        d: usize,
    ) -> impl Iterator<Item = (usize, usize, usize, usize)> {
        (0..a).flat_map(move |i| {
            (0..b).flat_map(move |j| (0..c).flat_map(move |k| (0..d).map(move |l| (i, j, k, l))))
        })
    }

    fn close(a: &[f32], b: &[f32], what: &str) {
        assert_eq!(a.len(), b.len(), "{what}");
        let scale = b.iter().fold(1f32, |m, v| m.max(v.abs()));
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-4 * scale,
                "{what}[{i}]: {x} against {y}"
            );
        }
    }

    #[test]
    fn both_paths_compute_the_same_convolution_and_gradients() {
        // (b, cin, h, w, cout, k, s, p): the halving step at odd and tiny sides, a 3×3 same-size
        // layer, a stride-1 4×4, and a non-square picture.
        let shapes = [
            (3, 5, 8, 8, 4, 4, 2, 1),
            (2, 3, 7, 7, 2, 4, 2, 1),
            (2, 2, 2, 2, 3, 4, 2, 1),
            (3, 4, 6, 6, 5, 3, 1, 1),
            (2, 6, 5, 5, 3, 4, 1, 0),
            (2, 3, 6, 10, 4, 4, 2, 1),
        ];
        for (b, cin, h, w, cout, k, s, p) in shapes {
            let g = Geometry {
                b,
                cin,
                h,
                w,
                cout,
                k,
                s,
                p,
            };
            let x = values(b * g.image_in(), 1);
            let weight = values(cout * g.patch(), 2);
            let grad = values(b * g.image_out(), 3);
            let want = direct(g, &x, &weight);
            close(
                &per_image::forward(g, &x, &weight),
                &want,
                "per-image forward",
            );
            close(
                &channels_last::forward(g, &x, &weight),
                &want,
                "channels-last forward",
            );
            // The adjoints: <conv(x), grad> = <x, input_grad(grad)> = <weight, weight_grad>.
            let inner = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
            let target = inner(&want, &grad);
            for (path, dx, dw) in [
                (
                    "per-image",
                    per_image::input_grad(g, &grad, &weight),
                    per_image::weight_grad(g, &x, &grad),
                ),
                (
                    "channels-last",
                    channels_last::input_grad(g, &grad, &weight),
                    channels_last::weight_grad(g, &x, &grad),
                ),
            ] {
                let tolerance = 1e-3 * target.abs().max(1.0);
                let (via_x, via_w) = (inner(&x, &dx), inner(&weight, &dw));
                assert!(
                    (via_x - target).abs() < tolerance,
                    "{path} input gradient {g:?}"
                );
                assert!(
                    (via_w - target).abs() < tolerance,
                    "{path} weight gradient {g:?}"
                );
            }
            close(
                &per_image::input_grad(g, &grad, &weight),
                &channels_last::input_grad(g, &grad, &weight),
                "input gradients",
            );
            close(
                &per_image::weight_grad(g, &x, &grad),
                &channels_last::weight_grad(g, &x, &grad),
                "weight gradients",
            );
        }
    }
}

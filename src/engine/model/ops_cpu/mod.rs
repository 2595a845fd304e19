//! The convolutions on the CPU (`flex`) as GEMMs over the whole batch. Three kernels make all
//! six operations of `ops.rs`: a convolution's forward, its input gradient and its weight
//! gradient (with the batch as the GEMM's long side, where burn's generic backward makes the
//! 4×4 kernel the short one); a transposed convolution is the convolution's input gradient,
//! and the other way round. Each kernel has two paths: layers of many pixels go image by image
//! in burn's layout ([`per_image`]), layers of few pixels turn channels-last so that one GEMM
//! covers many images ([`channels_last`]). Leaky ReLU and its gradient are one parallel pass
//! each ([`elementwise`]).

mod channels_last;
mod elementwise;
mod gemm;
mod per_image;

use burn::backend::TensorMetadata;
use burn::backend::flex::FlexTensor;
use burn::tensor::{DType, Shape, TensorData};

pub use elementwise::{leaky_relu, leaky_relu_backward};
pub(crate) use gemm::gemm;

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
    /// Layers with this many output pixels or more go image by image: a GEMM per image is
    /// then wide enough (16×16 outputs and up), and the channels-last round trips cost more
    /// than they save.
    fn per_image(&self) -> bool {
        const PER_IMAGE_PIXELS: usize = 256;
        match std::env::var("HITOGATA_CONV_PATH").as_deref() {
            Ok("batched") => false,
            Ok("per-image") => true,
            _ => self.ho() * self.wo() >= PER_IMAGE_PIXELS,
        }
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
        with_values(out_grad, |grad| match g.per_image() {
            true => per_image::weight_grad(g, x, grad),
            false => channels_last::weight_grad(g, x, grad),
        })
    });
    tensor(dw, [cout, cin, k, k])
}

//! Leaky ReLU and its gradient, one parallel pass each (burn's autodiff composes it of a mask,
//! a scaled copy and a select).

use burn::backend::TensorMetadata;
use burn::backend::flex::FlexTensor;
use burn::tensor::TensorData;
use rayon::prelude::*;

use super::with_values;

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

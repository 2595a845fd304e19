//! The DCGAN's own backend operations (burn's backend extension): a convolution and a
//! transposed convolution with square kernels, forward and both gradients, and leaky ReLU,
//! tanh and BatchNorm in training mode with their gradients, each in few passes (their
//! autodiff nodes in `elementwise.rs`). On the CPU (`flex`) all of them run as hitogata's own
//! kernels (`ops_cpu`); on other devices they are burn's own ops, except that on CubeCL backends
//! the transposed convolution's weight gradient goes through conv2d's weight gradient, which
//! burn made fast there. Weights keep burn's layouts, so checkpoints and modules do not change.

use burn::backend::TensorMetadata;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::{Autodiff, NodeId};
#[cfg(feature = "gpu")]
use burn::backend::ops::ModuleOps;
use burn::backend::ops::{ConvOptions, ConvTransposeOptions};
use burn::backend::tensor::FloatTensor;
use burn::backend::{
    Backend, Dispatch, DispatchDevice, Flex, backend_extension, get_or_init_device_settings,
};
use burn::tensor::Tensor;

use crate::engine::model::ops_cpu;

mod elementwise;

pub use elementwise::{batch_norm, leaky_relu, tanh};
use elementwise::{batch_norm_train_tracked, leaky_relu_tracked, tanh_tracked};

/// Stride and padding of a square convolution (dilation 1, one group, no output padding).
fn conv_options(stride: usize, padding: usize) -> ConvOptions<2> {
    ConvOptions::new([stride, stride], [padding, padding], [1, 1], 1)
}

fn transpose_options(stride: usize, padding: usize) -> ConvTransposeOptions<2> {
    ConvTransposeOptions::new([stride, stride], [padding, padding], [0, 0], [1, 1], 1)
}

/// The operations. The default bodies are burn's own; `flex` overrides them all.
#[backend_extension(Flex, Autodiff, Cube: cfg(feature = "gpu"))]
pub trait DcganOps: Backend {
    /// `x` `[b, cin, h, w]` with `weight` `[cout, cin, k, k]` → `[b, cout, h', w']`.
    fn dcgan_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride: usize,
        padding: usize,
    ) -> FloatTensor<Self> {
        Self::conv2d(x, weight, None, conv_options(stride, padding))
    }

    /// The gradient of [`dcgan_conv2d`](Self::dcgan_conv2d) in `x`.
    fn dcgan_conv2d_x_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        stride: usize,
        padding: usize,
    ) -> FloatTensor<Self> {
        Self::conv2d_x_backward(x, weight, output_grad, conv_options(stride, padding))
    }

    /// The gradient of [`dcgan_conv2d`](Self::dcgan_conv2d) in `weight`.
    fn dcgan_conv2d_weight_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        stride: usize,
        padding: usize,
    ) -> FloatTensor<Self> {
        Self::conv2d_weight_backward(x, weight, output_grad, conv_options(stride, padding))
    }

    /// `x` `[b, cin, h, w]` with `weight` `[cin, cout, k, k]` → `[b, cout, h', w']`.
    fn dcgan_conv_transpose2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride: usize,
        padding: usize,
    ) -> FloatTensor<Self> {
        Self::conv_transpose2d(x, weight, None, transpose_options(stride, padding))
    }

    /// The gradient of [`dcgan_conv_transpose2d`](Self::dcgan_conv_transpose2d) in `x`.
    fn dcgan_conv_transpose2d_x_backward(
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        stride: usize,
        padding: usize,
    ) -> FloatTensor<Self> {
        Self::conv_transpose2d_x_backward(weight, output_grad, transpose_options(stride, padding))
    }

    /// The gradient of [`dcgan_conv_transpose2d`](Self::dcgan_conv_transpose2d) in `weight`.
    fn dcgan_conv_transpose2d_weight_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        stride: usize,
        padding: usize,
    ) -> FloatTensor<Self> {
        let options = transpose_options(stride, padding);
        Self::conv_transpose2d_weight_backward(x, weight, output_grad, options)
    }

    /// `slope·x` where `x` is negative, `x` elsewhere.
    fn dcgan_leaky_relu(x: FloatTensor<Self>, slope: f32) -> FloatTensor<Self> {
        Self::leaky_relu(x, slope.into())
    }

    /// The gradient of [`dcgan_leaky_relu`](Self::dcgan_leaky_relu) at `x`:
    /// `slope·output_grad` where `x` is negative, `output_grad` elsewhere.
    fn dcgan_leaky_relu_backward(
        x: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        slope: f32,
    ) -> FloatTensor<Self> {
        let bool_dtype = get_or_init_device_settings::<Self>(&x.device()).bool_dtype;
        let negative = Self::float_lower_elem(x, 0f32.into(), bool_dtype);
        let scaled = Self::float_mul_scalar(output_grad.clone(), slope.into());
        Self::float_mask_where(output_grad, negative, scaled)
    }

    /// tanh of every value.
    fn dcgan_tanh(x: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::float_tanh(x)
    }

    /// The gradient of [`dcgan_tanh`](Self::dcgan_tanh) at `x`: `output_grad·(1 - tanh(x)²)`.
    fn dcgan_tanh_backward(
        x: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let y = Self::float_tanh(x);
        let slope = Self::float_neg(Self::float_mul(y.clone(), y));
        let slope = Self::float_add_scalar(slope, 1f32.into());
        Self::float_mul(output_grad, slope)
    }

    /// BatchNorm in training mode: the output, the batch mean and the biased batch variance.
    fn dcgan_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let r = Self::batch_norm_train(x, gamma, beta, epsilon);
        (r.output, r.mean, r.variance)
    }

    /// The gradients of [`dcgan_batch_norm_train`](Self::dcgan_batch_norm_train) in `x`,
    /// `gamma` and `beta`.
    fn dcgan_batch_norm_train_backward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        variance: FloatTensor<Self>,
        epsilon: f64,
        output_grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let r = Self::batch_norm_train_backward(x, gamma, mean, variance, epsilon, output_grad);
        (r.x_grad, r.gamma_grad, r.beta_grad)
    }
}

/// The CPU: batch-folded GEMMs.
impl DcganOps for Flex {
    fn dcgan_conv2d(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        s: usize,
        p: usize,
    ) -> FloatTensor<Self> {
        ops_cpu::conv2d(&x, &w, s, p)
    }

    fn dcgan_conv2d_x_backward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        s: usize,
        p: usize,
    ) -> FloatTensor<Self> {
        let [_, _, h, width] = x.shape().dims();
        ops_cpu::conv2d_input_grad(&grad, &w, s, p, [h, width])
    }

    fn dcgan_conv2d_weight_backward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        s: usize,
        p: usize,
    ) -> FloatTensor<Self> {
        let k = w.shape().dims::<4>()[2];
        ops_cpu::conv2d_weight_grad(&x, &grad, s, p, k)
    }

    fn dcgan_conv_transpose2d(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        s: usize,
        p: usize,
    ) -> FloatTensor<Self> {
        // The transposed convolution is the convolution's input gradient, `x` in the place of
        // the output's gradient: `weight` `[cin, cout, k, k]` is that convolution's weight.
        let [_, _, h, width] = x.shape().dims();
        let k = w.shape().dims::<4>()[2];
        let out = [(h - 1) * s + k - 2 * p, (width - 1) * s + k - 2 * p];
        ops_cpu::conv2d_input_grad(&x, &w, s, p, out)
    }

    fn dcgan_conv_transpose2d_x_backward(
        w: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        s: usize,
        p: usize,
    ) -> FloatTensor<Self> {
        ops_cpu::conv2d(&grad, &w, s, p)
    }

    fn dcgan_conv_transpose2d_weight_backward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        s: usize,
        p: usize,
    ) -> FloatTensor<Self> {
        let k = w.shape().dims::<4>()[2];
        ops_cpu::conv2d_weight_grad(&grad, &x, s, p, k)
    }

    fn dcgan_leaky_relu(x: FloatTensor<Self>, slope: f32) -> FloatTensor<Self> {
        ops_cpu::leaky_relu(&x, slope)
    }

    fn dcgan_leaky_relu_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        slope: f32,
    ) -> FloatTensor<Self> {
        ops_cpu::leaky_relu_backward(&x, &grad, slope)
    }

    fn dcgan_tanh(x: FloatTensor<Self>) -> FloatTensor<Self> {
        ops_cpu::tanh(&x)
    }

    fn dcgan_tanh_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        ops_cpu::tanh_backward(&x, &grad)
    }

    fn dcgan_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        ops_cpu::batch_norm_train(&x, &gamma, &beta, epsilon)
    }

    fn dcgan_batch_norm_train_backward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        variance: FloatTensor<Self>,
        epsilon: f64,
        output_grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        ops_cpu::batch_norm_train_backward(&x, &gamma, &mean, &variance, epsilon, &output_grad)
    }
}

/// CubeCL (wgpu): burn's ops, but the transposed convolution's weight gradient as conv2d's
/// weight gradient with the roles of `x` and the output's gradient swapped, the shape burn's
/// CubeCL backends compute fast (burn PRs #5424/#5428).
#[cfg(feature = "gpu")]
impl DcganOps for burn::backend::Cube {
    fn dcgan_conv_transpose2d_weight_backward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        s: usize,
        p: usize,
    ) -> FloatTensor<Self> {
        Self::conv2d_weight_backward(grad, w, x, conv_options(s, p))
    }
}

/// Autodiff: the forward of the wrapped backend, with gradients from its backward operations.
impl<B: Backend + DcganOps, C: CheckpointStrategy> DcganOps for Autodiff<B, C> {
    fn dcgan_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride: usize,
        padding: usize,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct Conv2dBackward;

        impl<B: Backend + DcganOps> Backward<B, 2> for Conv2dBackward {
            type State = (NodeId, NodeId, usize, usize);

            fn backward(
                self,
                ops: Ops<Self::State, 2>,
                grads: &mut Gradients,
                checkpointer: &mut Checkpointer,
            ) {
                let [node_x, node_weight] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let (x, weight, s, p) = ops.state;
                let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x);
                let weight = checkpointer.retrieve_node_output::<FloatTensor<B>>(weight);
                if let Some(node) = node_x {
                    let g =
                        B::dcgan_conv2d_x_backward(x.clone(), weight.clone(), grad.clone(), s, p);
                    grads.register::<B>(node.id, g);
                }
                if let Some(node) = node_weight {
                    grads.register::<B>(
                        node.id,
                        B::dcgan_conv2d_weight_backward(x, weight, grad, s, p),
                    );
                }
            }
        }

        match Conv2dBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let weight_state = prep.checkpoint(&weight);
                let out =
                    B::dcgan_conv2d(x.into_primitive(), weight.into_primitive(), stride, padding);
                prep.finish((x_state, weight_state, stride, padding), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::dcgan_conv2d(
                x.into_primitive(),
                weight.into_primitive(),
                stride,
                padding,
            )),
        }
    }

    fn dcgan_conv_transpose2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride: usize,
        padding: usize,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct ConvTranspose2dBackward;

        impl<B: Backend + DcganOps> Backward<B, 2> for ConvTranspose2dBackward {
            type State = (NodeId, NodeId, usize, usize);

            fn backward(
                self,
                ops: Ops<Self::State, 2>,
                grads: &mut Gradients,
                checkpointer: &mut Checkpointer,
            ) {
                let [node_x, node_weight] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let (x, weight, s, p) = ops.state;
                let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x);
                let weight = checkpointer.retrieve_node_output::<FloatTensor<B>>(weight);
                if let Some(node) = node_x {
                    let g =
                        B::dcgan_conv_transpose2d_x_backward(weight.clone(), grad.clone(), s, p);
                    grads.register::<B>(node.id, g);
                }
                if let Some(node) = node_weight {
                    let g = B::dcgan_conv_transpose2d_weight_backward(x, weight, grad, s, p);
                    grads.register::<B>(node.id, g);
                }
            }
        }

        match ConvTranspose2dBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let weight_state = prep.checkpoint(&weight);
                let out = B::dcgan_conv_transpose2d(
                    x.into_primitive(),
                    weight.into_primitive(),
                    stride,
                    padding,
                );
                prep.finish((x_state, weight_state, stride, padding), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::dcgan_conv_transpose2d(
                x.into_primitive(),
                weight.into_primitive(),
                stride,
                padding,
            )),
        }
    }

    fn dcgan_leaky_relu(x: FloatTensor<Self>, slope: f32) -> FloatTensor<Self> {
        leaky_relu_tracked::<B, C>(x, slope)
    }

    fn dcgan_tanh(x: FloatTensor<Self>) -> FloatTensor<Self> {
        tanh_tracked::<B, C>(x)
    }

    fn dcgan_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        batch_norm_train_tracked::<B, C>(x, gamma, beta, epsilon)
    }
}

/// Whether a tensor on `device` can use these operations (a remote server runs burn's own).
fn supported(tensor: &Tensor<4>) -> bool {
    let device = tensor.device().as_dispatch().clone().inner();
    match device {
        DispatchDevice::Flex(_) => true,
        #[cfg(feature = "gpu")]
        DispatchDevice::Cube(_) => true,
        _ => false,
    }
}

/// A square convolution without bias: `weight` `[cout, cin, k, k]`.
pub fn conv2d(x: Tensor<4>, weight: Tensor<4>, stride: usize, padding: usize) -> Tensor<4> {
    if !supported(&x) {
        let options = conv_options(stride, padding);
        return burn::tensor::module::conv2d(x, weight, None, options);
    }
    let out = <Dispatch as DcganOps>::dcgan_conv2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        stride,
        padding,
    );
    Tensor::from_dispatch(out)
}

/// A square transposed convolution without bias: `weight` `[cin, cout, k, k]`.
pub fn conv_transpose2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    stride: usize,
    padding: usize,
) -> Tensor<4> {
    if !supported(&x) {
        let options = transpose_options(stride, padding);
        return burn::tensor::module::conv_transpose2d(x, weight, None, options);
    }
    let out = <Dispatch as DcganOps>::dcgan_conv_transpose2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        stride,
        padding,
    );
    Tensor::from_dispatch(out)
}

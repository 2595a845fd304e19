//! The DCGAN's own backend operations (burn's backend extension): a convolution and a
//! transposed convolution with square kernels, forward and both gradients, and leaky ReLU with
//! its gradient in one pass. On the CPU (`flex`) the convolutions run as batch-folded GEMMs
//! (`ops_cpu.rs`); on other devices they are burn's own ops, except that on CubeCL backends the
//! transposed convolution's weight gradient goes through conv2d's weight gradient, which burn
//! made fast there. Weights keep burn's layouts, so checkpoints and modules do not change.

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
    AutodiffBackend, Backend, Dispatch, DispatchDevice, Flex, backend_extension,
    get_or_init_device_settings,
};
use burn::nn::BatchNorm;
use burn::tensor::Tensor;

use crate::engine::model::ops_cpu;

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

/// Three tensors of one backend: BatchNorm's output with its batch mean and variance, or its
/// three gradients.
type Three<B> = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>);

/// Autodiff's BatchNorm in training mode: burn's own node (its backward the whole layer's),
/// computed by the wrapped backend's `dcgan_batch_norm_train`.
fn batch_norm_train_tracked<B: Backend + DcganOps, C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<B, C>>,
    gamma: FloatTensor<Autodiff<B, C>>,
    beta: FloatTensor<Autodiff<B, C>>,
    epsilon: f64,
) -> Three<Autodiff<B, C>> {
    #[derive(Debug)]
    struct BatchNormBackward;

    impl<B: Backend + DcganOps> Backward<B, 3> for BatchNormBackward {
        type State = (NodeId, NodeId, FloatTensor<B>, FloatTensor<B>, f64);

        fn backward(
            self,
            ops: Ops<Self::State, 3>,
            grads: &mut Gradients,
            checkpointer: &mut Checkpointer,
        ) {
            let [node_x, node_gamma, node_beta] = ops.parents;
            let grad = grads.consume::<B>(&ops.node);
            let (x, gamma, mean, variance, epsilon) = ops.state;
            let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x);
            let gamma = checkpointer.retrieve_node_output::<FloatTensor<B>>(gamma);
            let (x_grad, gamma_grad, beta_grad) =
                B::dcgan_batch_norm_train_backward(x, gamma, mean, variance, epsilon, grad);
            for (node, g) in [
                (node_x, x_grad),
                (node_gamma, gamma_grad),
                (node_beta, beta_grad),
            ] {
                if let Some(node) = node {
                    grads.register::<B>(node.id, g);
                }
            }
        }
    }

    match BatchNormBackward
        .prepare::<C>([x.node(), gamma.node(), beta.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(mut prep) => {
            let x_state = prep.checkpoint(&x);
            let gamma_state = prep.checkpoint(&gamma);
            let (out, mean, variance) = B::dcgan_batch_norm_train(
                x.into_primitive(),
                gamma.into_primitive(),
                beta.into_primitive(),
                epsilon,
            );
            let state = (
                x_state,
                gamma_state,
                mean.clone(),
                variance.clone(),
                epsilon,
            );
            (
                prep.finish(state, out),
                Autodiff::<B, C>::from_inner(mean),
                Autodiff::<B, C>::from_inner(variance),
            )
        }
        OpsKind::UnTracked(prep) => {
            let (out, mean, variance) = B::dcgan_batch_norm_train(
                x.into_primitive(),
                gamma.into_primitive(),
                beta.into_primitive(),
                epsilon,
            );
            (
                prep.finish(out),
                Autodiff::<B, C>::from_inner(mean),
                Autodiff::<B, C>::from_inner(variance),
            )
        }
    }
}

/// Autodiff's tanh: one pass forward, one pass back (tanh recomputed from the input).
fn tanh_tracked<B: Backend + DcganOps, C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<B, C>>,
) -> FloatTensor<Autodiff<B, C>> {
    #[derive(Debug)]
    struct TanhBackward;

    impl<B: Backend + DcganOps> Backward<B, 1> for TanhBackward {
        type State = NodeId;

        fn backward(
            self,
            ops: Ops<Self::State, 1>,
            grads: &mut Gradients,
            checkpointer: &mut Checkpointer,
        ) {
            let [node_x] = ops.parents;
            let grad = grads.consume::<B>(&ops.node);
            let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(ops.state);
            if let Some(node) = node_x {
                grads.register::<B>(node.id, B::dcgan_tanh_backward(x, grad));
            }
        }
    }

    match TanhBackward
        .prepare::<C>([x.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(mut prep) => {
            let x_state = prep.checkpoint(&x);
            prep.finish(x_state, B::dcgan_tanh(x.into_primitive()))
        }
        OpsKind::UnTracked(prep) => prep.finish(B::dcgan_tanh(x.into_primitive())),
    }
}

/// Autodiff's leaky ReLU: one pass forward, one pass back (burn's composes it of a mask, a
/// scaled copy and a select, each with its own backward).
fn leaky_relu_tracked<B: Backend + DcganOps, C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<B, C>>,
    slope: f32,
) -> FloatTensor<Autodiff<B, C>> {
    #[derive(Debug)]
    struct LeakyReluBackward;

    impl<B: Backend + DcganOps> Backward<B, 1> for LeakyReluBackward {
        type State = (NodeId, f32);

        fn backward(
            self,
            ops: Ops<Self::State, 1>,
            grads: &mut Gradients,
            checkpointer: &mut Checkpointer,
        ) {
            let [node_x] = ops.parents;
            let grad = grads.consume::<B>(&ops.node);
            let (x, slope) = ops.state;
            let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x);
            if let Some(node) = node_x {
                grads.register::<B>(node.id, B::dcgan_leaky_relu_backward(x, grad, slope));
            }
        }
    }

    match LeakyReluBackward
        .prepare::<C>([x.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(mut prep) => {
            let x_state = prep.checkpoint(&x);
            prep.finish(
                (x_state, slope),
                B::dcgan_leaky_relu(x.into_primitive(), slope),
            )
        }
        OpsKind::UnTracked(prep) => prep.finish(B::dcgan_leaky_relu(x.into_primitive(), slope)),
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

/// Leaky ReLU with negative slope `slope`.
pub fn leaky_relu<const D: usize>(x: Tensor<D>, slope: f32) -> Tensor<D> {
    let device = x.device().as_dispatch().clone().inner();
    if !matches!(device, DispatchDevice::Flex(_)) {
        // Elsewhere burn's own (its GPU kernels fuse the composition).
        return burn::tensor::activation::leaky_relu(x, f64::from(slope));
    }
    Tensor::from_dispatch(<Dispatch as DcganOps>::dcgan_leaky_relu(
        x.into_dispatch(),
        slope,
    ))
}

/// tanh, through [`fast_tanh`](crate::engine::model::ops_cpu::fast_tanh) on the CPU (flex's
/// is libm's scalar `tanhf`).
pub fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let device = x.device().as_dispatch().clone().inner();
    if !matches!(device, DispatchDevice::Flex(_)) {
        return burn::tensor::activation::tanh(x);
    }
    Tensor::from_dispatch(<Dispatch as DcganOps>::dcgan_tanh(x.into_dispatch()))
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

/// A BatchNorm layer's forward, as burn's `BatchNorm::forward` computes it (training mode on
/// an autodiff device with the layer's training flag set, updating the running statistics with
/// its momentum; inference mode otherwise), on the CPU with the fused kernels of `ops_cpu`.
pub fn batch_norm(bn: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    let device = x.device();
    let flex = matches!(
        device.as_dispatch().clone().inner(),
        DispatchDevice::Flex(_)
    );
    if !(flex && device.is_autodiff() && bn.training.is_enabled()) {
        return bn.forward(x);
    }
    let (out, mean, variance) = <Dispatch as DcganOps>::dcgan_batch_norm_train(
        x.into_dispatch(),
        bn.gamma.val().into_dispatch(),
        bn.beta.val().into_dispatch(),
        bn.epsilon,
    );
    let (mean, variance) = (
        Tensor::<1>::from_dispatch(mean),
        Tensor::<1>::from_dispatch(variance),
    );
    let m = bn.momentum;
    let running_mean = bn.running_mean.value_sync().to_device(&device);
    let running_var = bn.running_var.value_sync().to_device(&device);
    let running_mean = running_mean
        .mul_scalar(1.0 - m)
        .add(mean.detach().mul_scalar(m));
    let running_var = running_var
        .mul_scalar(1.0 - m)
        .add(variance.detach().mul_scalar(m));
    bn.running_mean.update(running_mean.detach());
    bn.running_var.update(running_var.detach());
    Tensor::from_dispatch(out)
}

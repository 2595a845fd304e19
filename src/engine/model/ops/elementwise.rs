//! The DCGAN's element-wise operations under autodiff (leaky ReLU, tanh, BatchNorm in
//! training mode: each one node with one backward pass), and their entry points for layers.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::{Autodiff, NodeId};
use burn::backend::tensor::FloatTensor;
use burn::backend::{AutodiffBackend, Backend, Dispatch, DispatchDevice};
use burn::nn::BatchNorm;
use burn::tensor::Tensor;

use super::DcganOps;

/// Three tensors of one backend: BatchNorm's output with its batch mean and variance, or its
/// three gradients.
pub(super) type Three<B> = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>);

/// Autodiff's BatchNorm in training mode: burn's own node (its backward the whole layer's),
/// computed by the wrapped backend's `dcgan_batch_norm_train`.
pub(super) fn batch_norm_train_tracked<B: Backend + DcganOps, C: CheckpointStrategy>(
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
pub(super) fn tanh_tracked<B: Backend + DcganOps, C: CheckpointStrategy>(
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
pub(super) fn leaky_relu_tracked<B: Backend + DcganOps, C: CheckpointStrategy>(
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

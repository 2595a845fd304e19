//! The layer kinds both networks are built from, and how each runs forward.

use burn::module::{Initializer, Module};
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Tensor};

use super::ops;

/// DCGAN's N(0, 0.02) weight initialisation.
fn dcgan_init() -> Initializer {
    Initializer::Normal {
        mean: 0.0,
        std: 0.02,
    }
}

pub(crate) fn up(in_ch: usize, out_ch: usize, first: bool, device: &Device) -> ConvTranspose2d {
    let (stride, padding) = if first { (1, 0) } else { (2, 1) };
    ConvTranspose2dConfig::new([in_ch, out_ch], [4, 4])
        .with_stride([stride, stride])
        .with_padding([padding, padding])
        .with_bias(false)
        .with_initializer(dcgan_init())
        .init(device)
}

pub(crate) fn resize_conv(in_ch: usize, out_ch: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([in_ch, out_ch], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_bias(false)
        .with_initializer(dcgan_init())
        .init(device)
}

/// Doubles the resolution with whichever layer is set: a transposed convolution, or a
/// nearest-neighbour resize then a convolution.
pub(crate) fn up_step(
    transposed: Option<&ConvTranspose2d>,
    resize: Option<&Conv2d>,
    x: Tensor<4>,
) -> Tensor<4> {
    match (transposed, resize) {
        (Some(t), _) => transposed_forward(t, x),
        (None, Some(conv)) => {
            let [_, _, h, w] = x.dims();
            let options =
                InterpolateOptions::new(InterpolateMode::Nearest).with_output_size([2 * h, 2 * w]);
            conv.forward(interpolate(x, options))
        }
        (None, None) => unreachable!("each generator step holds one of its two layers"),
    }
}

/// A transposed convolution through hitogata's own operation (`ops.rs`): a square kernel,
/// no bias, equal stride and padding on both axes, as every generator layer is.
pub(crate) fn transposed_forward(layer: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    let square = layer.stride[0] == layer.stride[1] && layer.padding[0] == layer.padding[1];
    if !square || layer.bias.is_some() || layer.dilation != [1, 1] || layer.groups != 1 {
        return layer.forward(x);
    }
    ops::conv_transpose2d(x, layer.weight.val(), layer.stride[0], layer.padding[0])
}

/// A critic layer through hitogata's own convolution (`ops.rs`), its bias added after.
pub(crate) fn down_forward(layer: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let PaddingConfig2d::Explicit(p, left, bottom, right) = layer.padding else {
        return layer.forward(x);
    };
    let square = layer.stride[0] == layer.stride[1] && [left, bottom, right] == [p, p, p];
    if !square || layer.dilation != [1, 1] || layer.groups != 1 {
        return layer.forward(x);
    }
    let y = ops::conv2d(x, layer.weight.val(), layer.stride[0], p);
    match &layer.bias {
        Some(bias) => {
            let channels = bias.dims()[0];
            y + bias.val().reshape([1, channels, 1, 1])
        }
        None => y,
    }
}

pub(crate) fn down(in_ch: usize, out_ch: usize, last: bool, device: &Device) -> Conv2d {
    let (stride, padding) = if last { (1, 0) } else { (2, 1) };
    Conv2dConfig::new([in_ch, out_ch], [4, 4])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(
            padding, padding, padding, padding,
        ))
        .with_bias(last)
        .with_initializer(dcgan_init())
        .init(device)
}

/// A BatchNorm over `channels` feature maps.
pub(crate) fn batch_norm(channels: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(channels).init(device)
}

/// `bn(x)` where there is one, else `x`.
pub(crate) fn maybe_bn(bn: Option<&BatchNorm>, x: Tensor<4>) -> Tensor<4> {
    match bn {
        Some(bn) => super::ops::batch_norm(bn, x),
        None => x,
    }
}

/// One of WGAN's extra layers: a 3×3 convolution keeping the size, BatchNorm where the
/// network has it, then the network's activation.
#[derive(Module, Debug)]
pub struct ExtraLayer {
    conv: Conv2d,
    bn: Option<BatchNorm>,
}

impl ExtraLayer {
    pub(crate) fn forward(
        &self,
        x: Tensor<4>,
        activation: impl Fn(Tensor<4>) -> Tensor<4>,
    ) -> Tensor<4> {
        activation(maybe_bn(self.bn.as_ref(), self.conv.forward(x)))
    }
}

/// An extra layer at `width` feature maps.
pub(crate) fn extra_layer(width: usize, with_bn: bool, device: &Device) -> ExtraLayer {
    ExtraLayer {
        conv: resize_conv(width, width, device),
        bn: with_bn.then(|| batch_norm(width, device)),
    }
}

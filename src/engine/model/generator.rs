//! G(z): a latent vector → a picture in [-1, 1], DCGAN-shaped at any of the supported sizes.

use burn::module::Module;
use burn::nn::BatchNorm;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::tensor::{Device, Tensor, activation};

use super::layers::{
    ExtraLayer, batch_norm, extra_layer, maybe_bn, resize_conv, transposed_forward, up, up_step,
};
use super::{ModelConfig, Upsampling};

/// G(z): z ∈ R^latent → `channels`×S×S picture in [-1, 1]. `up1` maps z to 4×4; each of
/// steps 2, 3, … doubles the side with either `upN` (a transposed convolution) or `resizeN`
/// (resize-convolution), per [`Upsampling`]; the last step draws the picture. Steps a model's
/// size does not reach are absent. Named fields keep the weight names (`up2.weight`…) that
/// checkpoints have always used, at 64 px `up1`…`up5`.
#[derive(Module, Debug)]
pub struct Generator {
    up1: ConvTranspose2d,
    bn1: Option<BatchNorm>,
    up2: Option<ConvTranspose2d>,
    resize2: Option<Conv2d>,
    bn2: Option<BatchNorm>,
    up3: Option<ConvTranspose2d>,
    resize3: Option<Conv2d>,
    bn3: Option<BatchNorm>,
    up4: Option<ConvTranspose2d>,
    resize4: Option<Conv2d>,
    bn4: Option<BatchNorm>,
    up5: Option<ConvTranspose2d>,
    resize5: Option<Conv2d>,
    bn5: Option<BatchNorm>,
    up6: Option<ConvTranspose2d>,
    resize6: Option<Conv2d>,
    bn6: Option<BatchNorm>,
    up7: Option<ConvTranspose2d>,
    resize7: Option<Conv2d>,
    /// WGAN's extra 3×3 layers, before the last step.
    extra: Vec<ExtraLayer>,
    /// See [`ModelConfig::output_scale`]; part of model.ron, not of the weights.
    #[module(skip)]
    output_scale: f32,
}

/// One doubling step: its upsampling layer (one of the two) and the BatchNorm after it.
pub(crate) struct DoublingStep<'a> {
    pub transposed: Option<&'a ConvTranspose2d>,
    pub resize: Option<&'a Conv2d>,
    pub bn: Option<&'a BatchNorm>,
}

impl Generator {
    /// `z`: [batch, latent] → pictures [batch, channels, S, S] in [-1, 1].
    pub fn forward(&self, z: Tensor<2>) -> Tensor<4> {
        let before = self.layers(z).pop().expect("a generator has layers");
        let y = super::ops::tanh(before);
        if self.output_scale == 1.0 {
            y
        } else {
            y.mul_scalar(self.output_scale).clamp(-1.0, 1.0)
        }
    }

    /// What each layer computes for latents `z`: the hidden feature maps from 4×4 outwards
    /// (after BatchNorm and ReLU; extra layers included) and last the output before its
    /// activation. The layer viewer shows them; [`forward`](Self::forward) finishes the last.
    pub fn layers(&self, z: Tensor<2>) -> Vec<Tensor<4>> {
        let mut x = self.first_layer_features(z);
        let mut maps = vec![x.clone()];
        let steps = self.doubling_steps();
        let last = steps.len() - 1;
        for (i, step) in steps.iter().enumerate() {
            if i == last {
                for extra in &self.extra {
                    x = extra.forward(x, activation::relu);
                    maps.push(x.clone());
                }
            }
            let y = up_step(step.transposed, step.resize, x);
            x = if i == last {
                y
            } else {
                activation::relu(maybe_bn(step.bn, y))
            };
            maps.push(x.clone());
        }
        maps
    }

    /// How many maps [`layers`](Self::layers) returns.
    pub fn layer_count(&self) -> usize {
        1 + self.doubling_steps().len() + self.extra.len()
    }

    /// The doubling steps in order, the last drawing the picture.
    pub(crate) fn doubling_steps(&self) -> Vec<DoublingStep<'_>> {
        [
            (self.up2.as_ref(), self.resize2.as_ref(), self.bn2.as_ref()),
            (self.up3.as_ref(), self.resize3.as_ref(), self.bn3.as_ref()),
            (self.up4.as_ref(), self.resize4.as_ref(), self.bn4.as_ref()),
            (self.up5.as_ref(), self.resize5.as_ref(), self.bn5.as_ref()),
            (self.up6.as_ref(), self.resize6.as_ref(), self.bn6.as_ref()),
            (self.up7.as_ref(), self.resize7.as_ref(), None),
        ]
        .into_iter()
        .take_while(|(t, r, _)| t.is_some() || r.is_some())
        .map(|(transposed, resize, bn)| DoublingStep {
            transposed,
            resize,
            bn,
        })
        .collect()
    }

    /// The layers when every step is a transposed convolution and there are no extra layers:
    /// the first (z to 4×4) with its BatchNorm, then the doubling steps with the BatchNorm
    /// after each (none after the last). `None` otherwise.
    #[allow(clippy::type_complexity)]
    pub(crate) fn transposed_steps(
        &self,
    ) -> Option<(
        &ConvTranspose2d,
        Option<&BatchNorm>,
        Vec<(&ConvTranspose2d, Option<&BatchNorm>)>,
    )> {
        if !self.extra.is_empty() {
            return None;
        }
        let steps = self
            .doubling_steps()
            .into_iter()
            .map(|s| Some((s.transposed?, s.bn)))
            .collect::<Option<Vec<_>>>()?;
        Some((&self.up1, self.bn1.as_ref(), steps))
    }

    /// The output scale (see [`ModelConfig::output_scale`]).
    pub fn output_scale(&self) -> f32 {
        self.output_scale
    }

    /// Changes the output scale (see [`ModelConfig::output_scale`]); the weights stay.
    pub fn set_output_scale(&mut self, scale: f32) {
        self.output_scale = scale;
    }

    #[cfg(feature = "test-support")]
    /// The BatchNorm running means and variances, layer by layer (for inspection and tests).
    pub fn batch_norm_statistics(&self) -> Vec<(Vec<f32>, Vec<f32>)> {
        let read = super::host_values::<1>;
        let first = self.bn1.iter();
        let steps = self.doubling_steps();
        first
            .chain(steps.iter().filter_map(|s| s.bn))
            .map(|bn| (read(bn.running_mean.value()), read(bn.running_var.value())))
            .collect()
    }

    /// The first layer's weight, `[latent, feature maps, 4, 4]`: the linear map from z to the
    /// first feature maps (what SeFa factorises).
    pub fn first_layer_weight(&self) -> Tensor<4> {
        self.up1.weight.val()
    }

    /// The first layer's activations for latents `z` (after BatchNorm and ReLU), `[n, maps,
    /// 4, 4]`.
    pub fn first_layer_features(&self, z: Tensor<2>) -> Tensor<4> {
        let [batch, latent] = z.dims();
        let x = z.reshape([batch, latent, 1, 1]);
        activation::relu(maybe_bn(
            self.bn1.as_ref(),
            transposed_forward(&self.up1, x),
        ))
    }

    /// Latent size this generator was built for.
    pub fn latent_dim(&self) -> usize {
        self.up1.weight.shape().dims::<4>()[0]
    }

    /// Side of the pictures it draws.
    pub fn image_size(&self) -> usize {
        4 << self.doubling_steps().len()
    }

    /// Colour channels of the pictures it draws (1 or 3).
    pub fn channels(&self) -> usize {
        let last = self.doubling_steps().pop().expect("a generator has steps");
        match (last.transposed, last.resize) {
            (Some(t), _) => t.weight.dims()[1],
            (None, Some(r)) => r.weight.dims()[0],
            (None, None) => unreachable!("each step holds one of its two layers"),
        }
    }
}

impl ModelConfig {
    /// A generator with DCGAN initialisation on `device`.
    pub fn init_generator(&self, device: &Device) -> Generator {
        let widths = self.generator_widths();
        let with_bn = self.generator_batch_norm();
        let bn = |n| with_bn.then(|| batch_norm(n, device));
        let resize = self.upsampling() == Upsampling::Resize;
        let last = widths.len() - 1;
        // Doubling steps 2, 3, …: to the next width, the last to the picture's channels.
        let mut steps = (0..widths.len()).map(|i| {
            let (from, to) = if i < last {
                (widths[i], widths[i + 1])
            } else {
                (widths[last], self.channels())
            };
            let transposed = (!resize).then(|| up(from, to, false, device));
            let resized = resize.then(|| resize_conv(from, to, device));
            (transposed, resized, if i < last { bn(to) } else { None })
        });
        let mut next = || steps.next().unwrap_or((None, None, None));
        let (up2, resize2, bn2) = next();
        let (up3, resize3, bn3) = next();
        let (up4, resize4, bn4) = next();
        let (up5, resize5, bn5) = next();
        let (up6, resize6, bn6) = next();
        let (up7, resize7, _) = next();
        let extra = (0..self.extra_layers())
            .map(|_| extra_layer(self.ngf, with_bn, device))
            .collect();
        Generator {
            up1: up(self.latent_dim, widths[0], true, device),
            bn1: bn(widths[0]),
            up2,
            resize2,
            bn2,
            up3,
            resize3,
            bn3,
            up4,
            resize4,
            bn4,
            up5,
            resize5,
            bn5,
            up6,
            resize6,
            bn6,
            up7,
            resize7,
            extra,
            output_scale: self.output_scale(),
        }
    }
}

//! D(x): a picture → one unbounded score, DCGAN-shaped at any of the supported sizes.

use burn::module::Module;
use burn::nn::BatchNorm;
use burn::nn::conv::Conv2d;
use burn::tensor::{Device, Tensor};

use super::ModelConfig;
use super::layers::{ExtraLayer, batch_norm, down, down_forward, extra_layer, maybe_bn};
use super::ops;

/// D(x): `channels`×S×S picture → one unbounded score. `down1` halves the side; each further
/// `downN` halves it again (with BatchNorm `bnN` in DCGAN's critic) down to 4×4, and the last
/// present `downN` (a 4×4 convolution without padding) gives the score: `down5` at 64 px.
#[derive(Module, Debug)]
pub struct Critic {
    down1: Conv2d,
    down2: Conv2d,
    bn2: Option<BatchNorm>,
    down3: Conv2d,
    bn3: Option<BatchNorm>,
    down4: Conv2d,
    bn4: Option<BatchNorm>,
    down5: Option<Conv2d>,
    bn5: Option<BatchNorm>,
    down6: Option<Conv2d>,
    bn6: Option<BatchNorm>,
    down7: Option<Conv2d>,
    /// WGAN's extra 3×3 layers, after the first.
    extra: Vec<ExtraLayer>,
}

impl Critic {
    /// `images`: [batch, channels, S, S] → scores [batch].
    pub fn forward(&self, images: Tensor<4>) -> Tensor<1> {
        let leaky = |x| ops::leaky_relu(x, 0.2);
        let mut convs = self.convolutions();
        let (last, _) = convs.pop().expect("a critic has layers");
        let mut x = images;
        for (i, (conv, bn)) in convs.into_iter().enumerate() {
            x = leaky(maybe_bn(bn, down_forward(conv, x)));
            if i == 0 {
                for extra in &self.extra {
                    x = extra.forward(x, leaky);
                }
            }
        }
        let x = down_forward(last, x);
        let [batch, _, _, _] = x.dims();
        x.reshape([batch])
    }

    /// The convolutions in order with the BatchNorm after each; the last gives the score.
    fn convolutions(&self) -> Vec<(&Conv2d, Option<&BatchNorm>)> {
        let optional = [
            (self.down5.as_ref(), self.bn5.as_ref()),
            (self.down6.as_ref(), self.bn6.as_ref()),
            (self.down7.as_ref(), None),
        ];
        [
            (&self.down1, None),
            (&self.down2, self.bn2.as_ref()),
            (&self.down3, self.bn3.as_ref()),
            (&self.down4, self.bn4.as_ref()),
        ]
        .into_iter()
        .chain(
            optional
                .into_iter()
                .map_while(|(conv, bn)| Some((conv?, bn))),
        )
        .collect()
    }
}

impl ModelConfig {
    /// A critic with DCGAN initialisation on `device`.
    pub fn init_critic(&self, device: &Device) -> Critic {
        let widths = self.critic_widths();
        let with_bn = self.critic_batch_norm;
        let bn = |n| with_bn.then(|| batch_norm(n, device));
        // Halving steps 2, 3, …, then the 4×4 convolution to one score.
        let mut steps = (1..=widths.len()).map(|i| match widths.get(i) {
            Some(&to) => (Some(down(widths[i - 1], to, false, device)), bn(to)),
            None => (Some(down(widths[i - 1], 1, true, device)), None),
        });
        let mut next = || steps.next().unwrap_or((None, None));
        let (down2, bn2) = next();
        let (down3, bn3) = next();
        let (down4, bn4) = next();
        let (down5, bn5) = next();
        let (down6, bn6) = next();
        let (down7, _) = next();
        let present = "every critic has at least three halvings and a last layer";
        Critic {
            down1: down(self.channels(), self.ndf, false, device),
            down2: down2.expect(present),
            bn2,
            down3: down3.expect(present),
            bn3,
            down4: down4.expect(present),
            bn4,
            down5,
            bn5,
            down6,
            bn6,
            down7,
            extra: (0..self.extra_layers())
                .map(|_| extra_layer(self.ndf, with_bn, device))
                .collect(),
        }
    }
}

//! The shapes of a generator and its critic, saved with the weights (model.ron) so that a
//! checkpoint describes itself.

use burn::config::Config;
use serde::{Deserialize, Serialize};

/// Side of the square pictures of models whose model.ron predates the option.
pub const DEFAULT_IMAGE_SIZE: usize = 64;
/// The picture sides a model may have: 4×4 doubled three to six times.
pub const IMAGE_SIZES: [usize; 4] = [32, 64, 128, 256];
/// The most extra layers (WGAN's `n_extra_layers`) a model may have.
pub const MAX_EXTRA_LAYERS: usize = 8;

/// Shapes of the generator and critic. Saved with the weights so a checkpoint describes itself.
#[derive(Config, Debug, PartialEq)]
pub struct ModelConfig {
    /// Length of the latent vector z.
    #[config(default = 40)]
    pub latent_dim: usize,
    /// Generator width: feature maps of its last hidden layer.
    #[config(default = 64)]
    pub ngf: usize,
    /// Critic width: feature maps of its first layer.
    #[config(default = 64)]
    pub ndf: usize,
    /// BatchNorm in the critic (DCGAN); WGAN's critic has none.
    #[config(default = false)]
    pub critic_batch_norm: bool,
    /// How the generator doubles its resolution; `None` (what older checkpoints hold) is
    /// [`Upsampling::Transposed`].
    pub upsampling: Option<Upsampling>,
    /// The generator draws `clamp(scale · tanh(x), -1, 1)`: above 1, pure white and black
    /// become reachable with finite weights (plain tanh only approaches them, which leaves a
    /// faint noise on the datasets' white backgrounds). `None` (older checkpoints) is 1.
    pub output_scale: Option<f32>,
    /// Side of the square pictures, one of [`IMAGE_SIZES`]; `None` (older checkpoints) is 64.
    pub image_size: Option<usize>,
    /// Colour channels: 3 (RGB) or 1 (grey, as MNIST models draw); `None` is 3.
    pub channels: Option<usize>,
    /// BatchNorm in the generator; `Some(false)` for WGAN's `_nobn` generators. `None` is true.
    pub generator_batch_norm: Option<bool>,
    /// WGAN's `n_extra_layers`: 3×3 convolutions at the outermost hidden width, before the
    /// generator's last step and after the critic's first. `None` is 0.
    pub extra_layers: Option<usize>,
}

/// How the generator goes from 4×4 to full size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Upsampling {
    /// DCGAN's transposed 4×4 convolutions with stride 2.
    #[default]
    Transposed,
    /// Nearest-neighbour ×2 then a 3×3 convolution (Odena et al. 2016, "Deconvolution and
    /// checkerboard artifacts"): no uneven kernel overlap, hence no checkerboard speckle; about
    /// 2.25× the generator's arithmetic.
    Resize,
}

impl ModelConfig {
    /// The upsampling in effect.
    pub fn upsampling(&self) -> Upsampling {
        self.upsampling.unwrap_or_default()
    }

    /// Side of the square pictures.
    pub fn image_size(&self) -> usize {
        self.image_size.unwrap_or(DEFAULT_IMAGE_SIZE)
    }

    /// Colour channels of the pictures (1 or 3).
    pub fn channels(&self) -> usize {
        self.channels.unwrap_or(3)
    }

    /// Whether the generator has BatchNorm after its hidden layers.
    pub fn generator_batch_norm(&self) -> bool {
        self.generator_batch_norm.unwrap_or(true)
    }

    /// How many extra 3×3 layers each network has.
    pub fn extra_layers(&self) -> usize {
        self.extra_layers.unwrap_or(0)
    }

    /// How many times the generator doubles its 4×4 start (4 at 64 px).
    pub fn doublings(&self) -> usize {
        (self.image_size().max(8) / 4).ilog2() as usize
    }

    /// The generator's hidden widths, from the first 4×4 feature maps to the outermost
    /// (`ngf`), halving at each doubling: `[8·ngf, 4·ngf, 2·ngf, ngf]` at 64 px. WGAN's and
    /// PyTorch's DCGAN code follow the same rule at every size.
    pub fn generator_widths(&self) -> Vec<usize> {
        let k = self.doublings();
        (0..k).map(|i| self.ngf << (k - 1 - i)).collect()
    }

    /// The critic's widths after each halving, from `ndf` to the 4×4 maps: `[ndf, 2·ndf,
    /// 4·ndf, 8·ndf]` at 64 px.
    pub fn critic_widths(&self) -> Vec<usize> {
        (0..self.doublings()).map(|i| self.ndf << i).collect()
    }

    /// At least how many numbers the generator's weights hold (its convolution weights, with
    /// the smaller kernel of the two upsampling kinds): a weights file holding fewer cannot be
    /// this model's, and is refused before the model is built.
    pub fn generator_weights_at_least(&self) -> u64 {
        let w: Vec<u64> = self.generator_widths().iter().map(|&w| w as u64).collect();
        let (z, c, g) = (
            self.latent_dim as u64,
            self.channels() as u64,
            self.ngf as u64,
        );
        let middle: u64 = w.windows(2).map(|p| p[0] * p[1]).sum();
        let extra = self.extra_layers() as u64 * g * g;
        z * w[0] * 16 + 9 * (middle + g * c + extra)
    }

    /// At least how many numbers the critic's weights hold (its convolution weights).
    pub fn critic_weights_at_least(&self) -> u64 {
        let w: Vec<u64> = self.critic_widths().iter().map(|&w| w as u64).collect();
        let (c, d) = (self.channels() as u64, self.ndf as u64);
        let middle: u64 = w.windows(2).map(|p| p[0] * p[1]).sum();
        let last = *w.last().unwrap_or(&d);
        16 * (c * d + middle + last) + 9 * self.extra_layers() as u64 * d * d
    }

    /// The output scale in effect (1: plain tanh).
    pub fn output_scale(&self) -> f32 {
        self.output_scale.unwrap_or(1.0)
    }

    /// This config with another output scale, checked; 1 is stored as absent, like the files
    /// written before the option existed.
    pub fn with_checked_output_scale(self, scale: f32) -> Result<Self, String> {
        check_output_scale(scale)?;
        Ok(self.with_output_scale((scale != 1.0).then_some(scale)))
    }

    /// Refuses shapes that would make absurd or panicking models, saying which.
    pub fn check(&self) -> Result<(), String> {
        if self.latent_dim == 0 || self.latent_dim > 4096 {
            return Err("latent_dim must be between 1 and 4096".into());
        }
        if self.ngf == 0 || self.ngf > 1024 || self.ndf == 0 || self.ndf > 1024 {
            return Err("ngf and ndf must be between 1 and 1024".into());
        }
        if !IMAGE_SIZES.contains(&self.image_size()) {
            return Err(format!(
                "image_size must be one of {IMAGE_SIZES:?}, not {}",
                self.image_size()
            ));
        }
        if ![1, 3].contains(&self.channels()) {
            return Err(format!("channels must be 1 or 3, not {}", self.channels()));
        }
        if self.extra_layers() > MAX_EXTRA_LAYERS {
            return Err(format!("at most {MAX_EXTRA_LAYERS} extra layers"));
        }
        let widest = self.generator_widths()[0].max(*self.critic_widths().last().unwrap_or(&0));
        if widest > 16_384 {
            return Err(format!("a layer would have {widest} feature maps"));
        }
        check_output_scale(self.output_scale())
    }
}

/// The output scales a model may use.
pub const OUTPUT_SCALE_RANGE: std::ops::RangeInclusive<f32> = 1.0..=2.0;

/// Refuses output scales outside [`OUTPUT_SCALE_RANGE`] (NaN included).
pub fn check_output_scale(scale: f32) -> Result<(), String> {
    if OUTPUT_SCALE_RANGE.contains(&scale) {
        Ok(())
    } else {
        Err(format!("output_scale must be between 1 and 2, not {scale}"))
    }
}

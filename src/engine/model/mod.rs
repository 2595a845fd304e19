//! DCGAN-shaped generator and critic for 64×64 RGB images.

pub mod latent;
pub mod ops;
pub(crate) mod ops_cpu;

use burn::config::Config;
use burn::module::{Initializer, Module};
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Tensor, activation};
use serde::{Deserialize, Serialize};

/// Side of the square images the model draws and reads.
pub const IMAGE_SIZE: usize = 64;
/// Colour channels (RGB).
pub const CHANNELS: usize = 3;

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
}

/// How the generator goes from 4×4 to 64×64.
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

    /// At least how many numbers the generator's weights hold (its convolution weights, with
    /// the smaller kernel of the two upsampling kinds): a weights file holding fewer cannot be
    /// this model's, and is refused before the model is built.
    pub fn generator_weights_at_least(&self) -> u64 {
        let (z, g) = (self.latent_dim as u64, self.ngf as u64);
        z * 8 * g * 16 + 9 * (8 * g * 4 * g + 4 * g * 2 * g + 2 * g * g + g * 3)
    }

    /// At least how many numbers the critic's weights hold (its convolution weights).
    pub fn critic_weights_at_least(&self) -> u64 {
        let d = self.ndf as u64;
        16 * (3 * d + d * 2 * d + 2 * d * 4 * d + 4 * d * 8 * d + 8 * d)
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

/// DCGAN's N(0, 0.02) weight initialisation.
fn dcgan_init() -> Initializer {
    Initializer::Normal {
        mean: 0.0,
        std: 0.02,
    }
}

fn up(in_ch: usize, out_ch: usize, first: bool, device: &Device) -> ConvTranspose2d {
    let (stride, padding) = if first { (1, 0) } else { (2, 1) };
    ConvTranspose2dConfig::new([in_ch, out_ch], [4, 4])
        .with_stride([stride, stride])
        .with_padding([padding, padding])
        .with_bias(false)
        .with_initializer(dcgan_init())
        .init(device)
}

fn resize_conv(in_ch: usize, out_ch: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([in_ch, out_ch], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_bias(false)
        .with_initializer(dcgan_init())
        .init(device)
}

/// Doubles the resolution with whichever layer is set: a transposed convolution, or a
/// nearest-neighbour resize then a convolution.
fn up_step(
    transposed: &Option<ConvTranspose2d>,
    resize: &Option<Conv2d>,
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

/// A transposed convolution through hitogata's own operation (`conv.rs`): a square kernel,
/// no bias, equal stride and padding on both axes, as every generator layer is.
fn transposed_forward(layer: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    let square = layer.stride[0] == layer.stride[1] && layer.padding[0] == layer.padding[1];
    if !square || layer.bias.is_some() || layer.dilation != [1, 1] || layer.groups != 1 {
        return layer.forward(x);
    }
    ops::conv_transpose2d(x, layer.weight.val(), layer.stride[0], layer.padding[0])
}

/// A critic layer through hitogata's own convolution (`conv.rs`), its bias added after.
fn down_forward(layer: &Conv2d, x: Tensor<4>) -> Tensor<4> {
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

fn down(in_ch: usize, out_ch: usize, last: bool, device: &Device) -> Conv2d {
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

/// G(z): z ∈ R^latent → 3×64×64 image in [-1, 1]. Steps 2–5 each hold either `upN` (a
/// transposed convolution) or `resizeN` (resize-convolution), per [`Upsampling`]; Option fields
/// keep the weight names (`up2.weight`...) that checkpoints have always used.
#[derive(Module, Debug)]
pub struct Generator {
    up1: ConvTranspose2d,
    bn1: BatchNorm,
    up2: Option<ConvTranspose2d>,
    resize2: Option<Conv2d>,
    bn2: BatchNorm,
    up3: Option<ConvTranspose2d>,
    resize3: Option<Conv2d>,
    bn3: BatchNorm,
    up4: Option<ConvTranspose2d>,
    resize4: Option<Conv2d>,
    bn4: BatchNorm,
    up5: Option<ConvTranspose2d>,
    resize5: Option<Conv2d>,
    /// See [`ModelConfig::output_scale`]; part of model.ron, not of the weights.
    #[module(skip)]
    output_scale: f32,
}

impl Generator {
    /// `z`: [batch, latent] → images [batch, 3, 64, 64] in [-1, 1].
    pub fn forward(&self, z: Tensor<2>) -> Tensor<4> {
        let [_, _, _, _, before] = self.layers(z);
        let y = activation::tanh(before);
        if self.output_scale == 1.0 {
            y
        } else {
            y.mul_scalar(self.output_scale).clamp(-1.0, 1.0)
        }
    }

    /// What each step computes for latents `z`: the feature maps at 4×4, 8×8, 16×16 and 32×32
    /// (after BatchNorm and ReLU) and the output before its activation, 64×64. The layer
    /// viewer shows them; [`forward`](Self::forward) finishes the last.
    pub fn layers(&self, z: Tensor<2>) -> [Tensor<4>; 5] {
        let [batch, latent] = z.dims();
        let x = z.reshape([batch, latent, 1, 1]);
        let x1 = activation::relu(self.bn1.forward(transposed_forward(&self.up1, x)));
        let x2 = up_step(&self.up2, &self.resize2, x1.clone());
        let x2 = activation::relu(self.bn2.forward(x2));
        let x3 = up_step(&self.up3, &self.resize3, x2.clone());
        let x3 = activation::relu(self.bn3.forward(x3));
        let x4 = up_step(&self.up4, &self.resize4, x3.clone());
        let x4 = activation::relu(self.bn4.forward(x4));
        let before = up_step(&self.up5, &self.resize5, x4.clone());
        [x1, x2, x3, x4, before]
    }

    /// The layers when every step is a transposed convolution: the first (z to 4×4) with its
    /// BatchNorm, then the four doubling steps with the BatchNorm after each (none after the
    /// last). `None` with resize upsampling.
    #[allow(clippy::type_complexity)]
    pub(crate) fn transposed_steps(
        &self,
    ) -> Option<(
        &ConvTranspose2d,
        &BatchNorm,
        Vec<(&ConvTranspose2d, Option<&BatchNorm>)>,
    )> {
        Some((
            &self.up1,
            &self.bn1,
            vec![
                (self.up2.as_ref()?, Some(&self.bn2)),
                (self.up3.as_ref()?, Some(&self.bn3)),
                (self.up4.as_ref()?, Some(&self.bn4)),
                (self.up5.as_ref()?, None),
            ],
        ))
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
        let read = host_values::<1>;
        [&self.bn1, &self.bn2, &self.bn3, &self.bn4]
            .into_iter()
            .map(|bn| (read(bn.running_mean.value()), read(bn.running_var.value())))
            .collect()
    }

    /// The first layer's weight, `[latent, feature maps, 4, 4]`: the linear map from z to the
    /// first feature maps (what SeFa factorises).
    pub fn first_layer_weight(&self) -> Tensor<4> {
        self.up1.weight.val()
    }

    /// The first layer's activations for latents `z` (after BatchNorm and ReLU), `[n, 8·ngf,
    /// 4, 4]`.
    pub fn first_layer_features(&self, z: Tensor<2>) -> Tensor<4> {
        let [batch, latent] = z.dims();
        let x = z.reshape([batch, latent, 1, 1]);
        activation::relu(self.bn1.forward(transposed_forward(&self.up1, x)))
    }

    /// Latent size this generator was built for.
    pub fn latent_dim(&self) -> usize {
        self.up1.weight.shape().dims::<4>()[0]
    }
}

/// D(x): 3×64×64 image → one unbounded score per image.
#[derive(Module, Debug)]
pub struct Critic {
    down1: Conv2d,
    down2: Conv2d,
    bn2: Option<BatchNorm>,
    down3: Conv2d,
    bn3: Option<BatchNorm>,
    down4: Conv2d,
    bn4: Option<BatchNorm>,
    down5: Conv2d,
}

fn maybe_bn(bn: &Option<BatchNorm>, x: Tensor<4>) -> Tensor<4> {
    match bn {
        Some(bn) => bn.forward(x),
        None => x,
    }
}

impl Critic {
    /// `images`: [batch, 3, 64, 64] → scores [batch].
    pub fn forward(&self, images: Tensor<4>) -> Tensor<1> {
        let down = down_forward;
        let leaky = |x| ops::leaky_relu(x, 0.2);
        let x = leaky(down(&self.down1, images));
        let x = leaky(maybe_bn(&self.bn2, down(&self.down2, x)));
        let x = leaky(maybe_bn(&self.bn3, down(&self.down3, x)));
        let x = leaky(maybe_bn(&self.bn4, down(&self.down4, x)));
        let x = down(&self.down5, x);
        let [batch, _, _, _] = x.dims();
        x.reshape([batch])
    }
}

impl ModelConfig {
    /// A generator with DCGAN initialisation on `device`.
    pub fn init_generator(&self, device: &Device) -> Generator {
        let g = self.ngf;
        let bn = |n| BatchNormConfig::new(n).init(device);
        let resize = self.upsampling() == Upsampling::Resize;
        let transposed = |i, o| (!resize).then(|| up(i, o, false, device));
        let resized = |i, o| resize.then(|| resize_conv(i, o, device));
        Generator {
            up1: up(self.latent_dim, 8 * g, true, device),
            bn1: bn(8 * g),
            up2: transposed(8 * g, 4 * g),
            resize2: resized(8 * g, 4 * g),
            bn2: bn(4 * g),
            up3: transposed(4 * g, 2 * g),
            resize3: resized(4 * g, 2 * g),
            bn3: bn(2 * g),
            up4: transposed(2 * g, g),
            resize4: resized(2 * g, g),
            bn4: bn(g),
            up5: transposed(g, CHANNELS),
            resize5: resized(g, CHANNELS),
            output_scale: self.output_scale(),
        }
    }

    /// A critic with DCGAN initialisation on `device`.
    pub fn init_critic(&self, device: &Device) -> Critic {
        let d = self.ndf;
        let bn = |n| {
            self.critic_batch_norm
                .then(|| BatchNormConfig::new(n).init(device))
        };
        Critic {
            down1: down(CHANNELS, d, false, device),
            down2: down(d, 2 * d, false, device),
            bn2: bn(2 * d),
            down3: down(2 * d, 4 * d, false, device),
            bn3: bn(4 * d),
            down4: down(4 * d, 8 * d, false, device),
            bn4: bn(8 * d),
            down5: down(8 * d, 1, true, device),
        }
    }
}

/// Re-draws every convolution weight from N(0, 0.02) and zeroes every bias, from `seed` and the parameter's path alone. burn's own initialisers draw
/// from one global RNG per backend, which concurrent threads (other sessions, tests) advance
/// unpredictably; this makes a seed reproduce the same initial weights on every backend and in
/// every process.
pub fn seeded_init<M: Module>(module: M, seed: u64) -> M {
    module.map(&mut SeededInit {
        seed,
        path: Vec::new(),
    })
}

struct SeededInit {
    seed: u64,
    path: Vec<String>,
}

/// FNV-1a: a stable hash of a parameter path (std's hasher may change between releases).
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

impl burn::module::ModuleMapper for SeededInit {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(
        &mut self,
        param: burn::module::Param<Tensor<D>>,
    ) -> burn::module::Param<Tensor<D>> {
        let name = self.path.last().map(String::as_str).unwrap_or("");
        let shape = param.shape();
        let std = match name {
            "weight" if D == 4 => Some(0.02f32),
            "bias" => Some(0.0),
            _ => None,
        };
        let Some(std) = std else { return param };
        let (id, tensor, mapper) = param.consume();
        let require_grad = tensor.is_require_grad();
        let device = tensor.device();
        let mut rng =
            crate::engine::model::latent::seeded_rng(self.seed ^ stable_hash(&self.path.join(".")));
        let values: Vec<f32> =
            crate::engine::model::latent::normal_vec(&mut rng, shape.num_elements())
                .into_iter()
                .map(|v| v * std)
                .collect();
        let mut value =
            Tensor::<D>::from_data(burn::tensor::TensorData::new(values, shape), &device);
        if require_grad {
            value = value.require_grad();
        }
        burn::module::Param::from_mapped_value(id, value, mapper)
    }
}

/// A tensor's values on the host as f32, row-major (empty if the device cannot give them).
pub fn host_values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap_or_default()
}

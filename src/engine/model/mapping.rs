//! An optional latent mapping in front of the generator: z' = z + f(z), f a small MLP.
//!
//! Why: a generator is a continuous function of z, so between two discrete looks of the data
//! (two hair styles, two hair colours) it must pass through blends, and the latent mass there
//! draws blended pictures the data never shows. An MLP in front can warp the normal latent
//! distribution (as StyleGAN's mapping network does, Karras et al. 2019, §4) and squeeze those
//! border regions, which is easier to learn than the same warp inside the convolutions. Its
//! output layer starts at zero, so a mapping added to a trained generator changes nothing
//! until training moves it.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor, activation};

/// The field of [`LatentMapping`] that starts at zero; `seeded_init` finds it by this name.
pub(crate) const OUTPUT_LAYER: &str = "output";

/// Largest hidden width a mapping may have.
pub const MAX_MAPPING_WIDTH: usize = 4096;

/// z → z + output(lrelu(hidden(lrelu(input(z))))). Weight names `mapping.input.weight`...
#[derive(Module, Debug)]
pub struct LatentMapping {
    input: Linear,
    hidden: Linear,
    /// Zero at the start (see [`crate::engine::model::seeded_init`]), so the mapping starts as
    /// the identity.
    output: Linear,
}

impl LatentMapping {
    /// A mapping for `latent`-long vectors through two hidden layers of `width`; weights from
    /// burn's initialisers (output zero). Training sessions redraw them with `seeded_init`.
    pub fn new(latent: usize, width: usize, device: &Device) -> Self {
        let zero = burn::nn::Initializer::Zeros;
        Self {
            input: LinearConfig::new(latent, width).init(device),
            hidden: LinearConfig::new(width, width).init(device),
            output: LinearConfig::new(width, latent)
                .with_initializer(zero)
                .init(device),
        }
    }

    /// `z`: [batch, latent] → the mapped latents, same shape.
    pub fn forward(&self, z: Tensor<2>) -> Tensor<2> {
        let h = activation::leaky_relu(self.input.forward(z.clone()), 0.2);
        let h = activation::leaky_relu(self.hidden.forward(h), 0.2);
        z + self.output.forward(h)
    }

    /// Hidden width.
    pub fn width(&self) -> usize {
        self.input.weight.shape().dims::<2>()[1]
    }
}

/// Refuses hidden widths outside 1..=[`MAX_MAPPING_WIDTH`].
pub fn check_mapping_width(width: usize) -> Result<(), String> {
    if (1..=MAX_MAPPING_WIDTH).contains(&width) {
        Ok(())
    } else {
        Err(format!(
            "latent_mapping (hidden width) must be between 1 and {MAX_MAPPING_WIDTH}, not {width}"
        ))
    }
}

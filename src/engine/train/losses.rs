//! The losses of one step, and reading them back from the device as named values.

use burn::tensor::Tensor;
use burn::tensor::activation::softplus;

use crate::engine::train::augment::{DEFAULT_LOWPASS_BLOCK, block_average};
use crate::engine::train::config::Algorithm;
use crate::engine::train::error::TrainError;

/// The critic's loss and E[D(real)] − E[D(fake)] (WGAN's estimate of the distance) for the
/// scores of a real and a generated batch.
pub fn critic_loss(algorithm: Algorithm, d_real: Tensor<1>, d_fake: Tensor<1>) -> [Tensor<1>; 2] {
    let gap = d_real.clone().mean().sub(d_fake.clone().mean());
    let loss = match algorithm {
        Algorithm::Wgan => gap.clone().neg(),
        // Non-saturating BCE on logits: softplus(−x) = −log σ(x).
        Algorithm::Dcgan => softplus(d_real.neg(), 1.0)
            .mean()
            .add(softplus(d_fake, 1.0).mean()),
    };
    [loss, gap]
}

/// The generator's loss for the critic's scores of its pictures.
pub fn generator_loss(algorithm: Algorithm, scores: Tensor<1>) -> Tensor<1> {
    match algorithm {
        Algorithm::Wgan => scores.mean().neg(),
        Algorithm::Dcgan => softplus(scores.neg(), 1.0).mean(),
    }
}

/// Each image minus its 4×4 block averages: the detail the 64 and 32 px levels of `eval` see,
/// without the colour layout of the 16 px one.
pub fn fine_detail(x: Tensor<4>) -> Tensor<4> {
    x.clone().sub(block_average(x, DEFAULT_LOWPASS_BLOCK))
}

/// The detail anchor: `weight` × the mean squared difference between the fine detail of the
/// generated pictures and of the initial generator's for the same latents. A lowpass critic
/// cannot see that detail, so without the anchor it drifts.
pub fn detail_anchor(generated: Tensor<4>, initial: Tensor<4>, weight: f32) -> Tensor<1> {
    fine_detail(generated)
        .sub(fine_detail(initial))
        .powi_scalar(2)
        .mean()
        .mul_scalar(weight)
}

/// What a critic update measured, still on the device: [loss, gap, E[sign D(real)]].
pub type CriticValues = Tensor<1>;

/// Packs a critic update's values.
pub fn critic_values(loss: Tensor<1>, gap: Tensor<1>, real_sign: Tensor<1>) -> CriticValues {
    Tensor::cat(vec![loss, gap, real_sign], 0)
}

/// A step's losses read back from the device in one transfer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepValues {
    /// The last critic update's loss.
    pub critic_loss: f32,
    /// E[D(real)] − E[D(fake)] on the last critic batch.
    pub wasserstein: f32,
    /// E[sign D(real)]: ADA's overfitting heuristic.
    pub real_sign: f32,
    /// The generator's loss (absent for a critic-only update).
    pub generator_loss: Option<f32>,
}

impl StepValues {
    /// Reads a critic update's values, and the generator's loss if there was an update.
    pub fn read(
        critic: CriticValues,
        generator: Option<Tensor<1>>,
        step: u64,
    ) -> Result<Self, TrainError> {
        let has_generator = generator.is_some();
        let all = match generator {
            Some(g) => Tensor::cat(vec![critic, g], 0),
            None => critic,
        };
        let values = all
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| TrainError::Device(format!("cannot read the losses back: {e:?}")))?;
        let expected = if has_generator { 4 } else { 3 };
        if values.len() != expected {
            return Err(TrainError::Device(format!(
                "expected {expected} loss values from the device, found {}",
                values.len()
            )));
        }
        let out = Self {
            critic_loss: finite(step, "the critic loss", values[0])?,
            wasserstein: finite(step, "the Wasserstein estimate", values[1])?,
            real_sign: values[2],
            generator_loss: has_generator
                .then(|| finite(step, "the generator loss", values[3]))
                .transpose()?,
        };
        Ok(out)
    }
}

fn finite(step: u64, what: &'static str, value: f32) -> Result<f32, TrainError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(TrainError::Diverged { step, what, value })
    }
}

//! An exponential moving average of the generator's weights (Yazıcı et al. 2019, "The Unusual
//! Effectiveness of Averaging in GAN Training"; Karras et al. 2018). GAN weights oscillate around
//! a good solution; their average draws smoother, less speckled pictures than any single step,
//! and it moves slowly enough that a short-lived collapse of the raw weights barely touches it.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};

use crate::engine::model::{Generator, ModelConfig};

/// The averaged generator, on a plain (non-autodiff) device.
pub struct GeneratorEma {
    /// Weight kept per update once warmed up (0.999: the average spans about 1,000 steps).
    pub decay: f32,
    /// Updates folded in so far (drives the warm-up).
    pub updates: u64,
    model: Generator,
}

impl GeneratorEma {
    /// Starts the average at `current`'s weights. The model is built fresh so that its
    /// BatchNorm buffers are its own (mapping a module writes them in place).
    pub fn new(decay: f32, current: &Generator, config: &ModelConfig, device: &Device) -> Self {
        let fresh = config.init_generator(device);
        Self {
            decay,
            updates: 0,
            model: blend(fresh, current, 0.0),
        }
    }

    /// Continues an average saved earlier.
    pub fn from_saved(decay: f32, updates: u64, model: Generator) -> Self {
        Self {
            decay,
            updates,
            model,
        }
    }

    /// The number of updates after which the warm-up no longer lowers `decay`: an average
    /// started at weights that are already good (a trained generator) starts there, so that it
    /// keeps them instead of following the first raw updates.
    pub fn warm_updates(decay: f32) -> u64 {
        // (1+t)/(10+t) >= d  <=>  t >= (10d - 1)/(1 - d)
        let d = f64::from(decay);
        if d <= 0.1 {
            0
        } else {
            ((10.0 * d - 1.0) / (1.0 - d)).ceil() as u64
        }
    }

    /// The decay used for the next update: TensorFlow's warm-up `min(decay, (1+t)/(10+t))`, so
    /// the average follows the fast early changes instead of lingering at the initial noise.
    pub fn effective_decay(&self) -> f32 {
        let t = self.updates as f32;
        self.decay.min((1.0 + t) / (10.0 + t))
    }

    /// Folds the generator's current weights (and BatchNorm statistics) into the average.
    pub fn update(&mut self, current: &Generator) {
        let keep = self.effective_decay();
        self.model = blend(self.model.clone(), current, keep);
        self.updates += 1;
    }

    /// The averaged generator, to change its output scale.
    pub fn model_mut(&mut self) -> &mut Generator {
        &mut self.model
    }

    /// The averaged generator (inference mode).
    pub fn model(&self) -> &Generator {
        &self.model
    }
}

/// `average · keep + current · (1 − keep)`, parameter by parameter. Both modules have the same
/// structure, so their visiting orders match.
fn blend(average: Generator, current: &Generator, keep: f32) -> Generator {
    let mut collect = Collect(Vec::new());
    current.visit(&mut collect);
    let mut mapper = Blend {
        values: collect.0.into_iter(),
        keep,
    };
    average.map(&mut mapper)
}

struct Collect(Vec<Tensor<1>>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        let n = value.shape().num_elements();
        self.0.push(value.reshape([n]));
    }
}

struct Blend {
    values: std::vec::IntoIter<Tensor<1>>,
    keep: f32,
}

impl ModuleMapper for Blend {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, average, mapper) = param.consume();
        let current = self
            .values
            .next()
            .expect("the average and the generator have the same parameters")
            .reshape(average.shape());
        let blended = if self.keep == 0.0 {
            current
        } else {
            average
                .mul_scalar(self.keep)
                .add(current.mul_scalar(1.0 - self.keep))
        };
        Param::from_mapped_value(id, blended, mapper)
    }
}

//! DCGAN-shaped generator and critic: 32 to 256 px, colour or grey, as hitogata trains them
//! and as PyTorch's DCGAN and WGAN code does.

mod config;
mod critic;
mod generator;
pub mod latent;
pub(crate) mod layers;
pub mod ops;
pub(crate) mod ops_cpu;

use burn::module::Module;
use burn::tensor::Tensor;

// The output scale's range is for the app's field; the engine checks it in `ModelConfig::check`.
#[cfg(feature = "app")]
pub use config::OUTPUT_SCALE_RANGE;
pub use config::{DEFAULT_IMAGE_SIZE, IMAGE_SIZES, MAX_EXTRA_LAYERS, ModelConfig, Upsampling};
pub use critic::Critic;
pub use generator::Generator;

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

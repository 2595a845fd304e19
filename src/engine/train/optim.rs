//! RMSProp and Adam over a module's parameters, with their state keyed by parameter path.
//!
//! burn's own optimizers key state by `ParamId` (regenerated when weights load from safetensors)
//! and restore it on `Device::default()` (wgpu when compiled in), which breaks exact CPU resume.
//! These keep state on the parameter's device, save it as safetensors by path, and fold WGAN's
//! weight clipping into the update.

use std::collections::BTreeMap;

use burn::module::{ModuleMapper, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Which update rule, with its hyperparameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum OptimizerConfig {
    /// RMSProp as in PyTorch (no momentum): v ← αv + (1−α)g², p ← p − lr·g/(√v + ε).
    RmsProp {
        /// Learning rate.
        lr: f64,
        /// Smoothing constant α.
        alpha: f64,
        /// ε.
        epsilon: f64,
    },
    /// Adam with bias correction.
    Adam {
        /// Learning rate.
        lr: f64,
        /// β1.
        beta1: f64,
        /// β2.
        beta2: f64,
        /// ε.
        epsilon: f64,
    },
}

impl OptimizerConfig {
    /// The learning rate.
    pub fn lr(&self) -> f64 {
        match self {
            Self::RmsProp { lr, .. } | Self::Adam { lr, .. } => *lr,
        }
    }

    /// The same rule with another learning rate.
    pub fn with_lr(mut self, new: f64) -> Self {
        match &mut self {
            Self::RmsProp { lr, .. } | Self::Adam { lr, .. } => *lr = new,
        }
        self
    }

    /// The WGAN paper's RMSProp (lr 5e-5).
    pub fn wgan_rmsprop() -> Self {
        Self::RmsProp {
            lr: 5e-5,
            alpha: 0.99,
            epsilon: 1e-8,
        }
    }

    /// DCGAN's Adam (lr 2e-4, β1 0.5).
    pub fn dcgan_adam() -> Self {
        Self::Adam {
            lr: 2e-4,
            beta1: 0.5,
            beta2: 0.999,
            epsilon: 1e-8,
        }
    }
}

/// Optimizer state: one or two moment tensors per parameter path, plus the step count.
#[derive(Default)]
pub struct Optimizer {
    /// Update rule.
    pub config: Option<OptimizerConfig>,
    /// Number of updates applied.
    pub steps: u64,
    moments: BTreeMap<String, Vec<Tensor<1>>>,
}

impl Optimizer {
    /// A fresh optimizer.
    pub fn new(config: OptimizerConfig) -> Self {
        Self {
            config: Some(config),
            steps: 0,
            moments: BTreeMap::new(),
        }
    }

    /// Applies one update to `module` from `grads`; clamps every parameter to ±`clip` if given.
    pub fn step<M: burn::module::Module>(
        &mut self,
        module: M,
        grads: GradientsParams,
        clip: Option<f32>,
    ) -> M {
        self.steps += 1;
        let config = self.config.clone().expect("optimizer has a config");
        let mut mapper = UpdateMapper {
            path: Vec::new(),
            grads,
            config,
            step: self.steps,
            moments: &mut self.moments,
            clip,
        };
        module.map(&mut mapper)
    }

    /// The state as named host tensors (for saving): `"{path}/{k}"` → (shape, values).
    pub fn export_state(&self) -> Vec<(String, Vec<usize>, Vec<f32>)> {
        let mut out = Vec::new();
        for (path, tensors) in &self.moments {
            for (k, t) in tensors.iter().enumerate() {
                let data = t.to_data();
                let values = data.try_to_vec::<f32>().unwrap_or_default();
                out.push((format!("{path}/{k}"), vec![values.len()], values));
            }
        }
        out
    }

    /// Restores state saved by [`export_state`](Self::export_state) onto `device`.
    pub fn import_state(
        &mut self,
        steps: u64,
        tensors: Vec<(String, Vec<f32>)>,
        device: &burn::tensor::Device,
    ) {
        self.steps = steps;
        self.moments.clear();
        let mut grouped: BTreeMap<String, Vec<(usize, Tensor<1>)>> = BTreeMap::new();
        for (name, values) in tensors {
            let Some((path, k)) = name.rsplit_once('/') else {
                continue;
            };
            let k: usize = k.parse().unwrap_or(0);
            let n = values.len();
            let t = Tensor::<1>::from_data(TensorData::new(values, [n]), device);
            grouped.entry(path.to_string()).or_default().push((k, t));
        }
        for (path, mut list) in grouped {
            list.sort_by_key(|(k, _)| *k);
            self.moments
                .insert(path, list.into_iter().map(|(_, t)| t).collect());
        }
    }
}

struct UpdateMapper<'a> {
    path: Vec<String>,
    grads: GradientsParams,
    config: OptimizerConfig,
    step: u64,
    moments: &'a mut BTreeMap<String, Vec<Tensor<1>>>,
    clip: Option<f32>,
}

impl ModuleMapper for UpdateMapper<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let require_grad = tensor.is_require_grad();
        let shape = tensor.shape();
        let n = shape.num_elements();
        let value = tensor.inner().reshape([n]);
        let grad = grad.inner().reshape([n]);
        let path = self.path.join(".");
        let state = self.moments.remove(&path);
        let (mut value, state) = match &self.config {
            OptimizerConfig::RmsProp { lr, alpha, epsilon } => {
                let sq = grad.clone().powi_scalar(2);
                let v = match state.and_then(|mut s| s.pop()) {
                    Some(v) => v.mul_scalar(*alpha).add(sq.mul_scalar(1.0 - alpha)),
                    None => sq.mul_scalar(1.0 - alpha),
                };
                let update = grad.div(v.clone().sqrt().add_scalar(*epsilon));
                (value.sub(update.mul_scalar(*lr)), vec![v])
            }
            OptimizerConfig::Adam {
                lr,
                beta1,
                beta2,
                epsilon,
            } => {
                let (m, v) = match state {
                    Some(mut s) if s.len() == 2 => {
                        let v = s.pop().unwrap();
                        let m = s.pop().unwrap();
                        (
                            m.mul_scalar(*beta1)
                                .add(grad.clone().mul_scalar(1.0 - beta1)),
                            v.mul_scalar(*beta2)
                                .add(grad.clone().powi_scalar(2).mul_scalar(1.0 - beta2)),
                        )
                    }
                    _ => (
                        grad.clone().mul_scalar(1.0 - beta1),
                        grad.powi_scalar(2).mul_scalar(1.0 - beta2),
                    ),
                };
                let t = self.step as i32;
                let bc1 = 1.0 - beta1.powi(t);
                let bc2 = 1.0 - beta2.powi(t);
                let step_size = lr / bc1;
                let denom = v.clone().div_scalar(bc2).sqrt().add_scalar(*epsilon);
                let update = m.clone().div(denom).mul_scalar(step_size);
                (value.sub(update), vec![m, v])
            }
        };
        if let Some(c) = self.clip {
            value = value.clamp(-c, c);
        }
        self.moments.insert(path, state);
        let mut updated = Tensor::from_inner(value.reshape(shape)).autodiff();
        if require_grad {
            updated = updated.require_grad();
        }
        Param::from_mapped_value(id, updated, mapper)
    }
}

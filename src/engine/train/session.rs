//! A training session owns the models, optimizers, data and step counter. `step()` runs one
//! generator iteration (its critic updates included) and returns the metrics; `apply` (in
//! `changes.rs`) changes a run's settings; saving and resuming live in `session_io.rs`. Usable
//! from any thread: the runner drives it for the CLI and the app alike.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;
use rand::RngExt;
use rand::rngs::ChaCha8Rng;

use crate::engine::draw::inference::generate_images;
use crate::engine::files::checkpoint;
use crate::engine::files::data::{Dataset, PictureShape};
use crate::engine::model::host_values;
use crate::engine::model::latent::{Latent, normal_vec, sample_batch};
use crate::engine::model::{Critic, Generator, seeded_init};
use crate::engine::train::config::{Algorithm, TrainConfig};
use crate::engine::train::ema::GeneratorEma;
use crate::engine::train::losses::{self, CriticValues, StepValues};
use crate::engine::train::optim::Optimizer;
use crate::engine::train::streams::{Stream, step_rng, step_seed};

pub use crate::engine::train::state::Metrics;

pub use crate::engine::train::error::TrainError;

/// One training run in memory. Fields are visible to the other files of `train` (changes,
/// saving), which are parts of this type split by job.
pub struct TrainingSession {
    pub(super) config: TrainConfig,
    pub(super) device: Device,
    pub(super) generator: Generator,
    pub(super) ema: Option<GeneratorEma>,
    pub(super) critic: Critic,
    pub(super) optim_g: Optimizer,
    pub(super) optim_c: Optimizer,
    pub(super) data: Arc<Dataset>,
    pub(super) step: u64,
    pub(super) history: Vec<Metrics>,
    pub(super) elapsed_seconds: f64,
    sample_z: Tensor<2>,
    /// Share of the critic's images the augmentation policy applies to (1 unless adaptive).
    pub(super) augment_share: f32,
    /// Critic-only updates run in this session so far (they pick their random streams).
    critic_only_updates: u64,
    /// The initial generator, for the detail anchor (its own copy: clones would share the
    /// BatchNorm statistics with the trained one).
    pub(super) anchor: Option<Generator>,
}

impl TrainingSession {
    /// A new run with freshly initialised weights. `device` is a plain device; autodiff is
    /// added here.
    pub fn new(
        config: TrainConfig,
        data: Arc<Dataset>,
        device: &Device,
    ) -> Result<Self, TrainError> {
        config.validate().map_err(TrainError::Config)?;
        if config.anchored() {
            return Err(TrainError::Config(
                "the detail anchor needs a run that starts from a trained generator".into(),
            ));
        }
        // Random weights: whatever generator a reused config names, this run did not start from
        // it (`from_generator` records the one it loads).
        let config = TrainConfig {
            initial_generator: None,
            ..config
        };
        let device = device.clone().autodiff();
        let generator = seeded_init(config.model.init_generator(&device), config.seed);
        let critic = seeded_init(config.model.init_critic(&device), !config.seed);
        Ok(Self::assemble(config, device, generator, critic, data))
    }

    /// A new run whose generator starts from a trained one (a checkpoint, run directory or
    /// export, e.g. `checkpoints/faces`): fine-tuning it further, perhaps on other data. The
    /// generator's shapes (latent size, width, upsampling, output scale) replace the config's;
    /// the critic's stay. The critic and both optimizers are new, and the weight average starts
    /// warm at the loaded weights, so the samples start as good as the loaded generator. Give
    /// the critic a head start with [`warm_up_critic`](Self::warm_up_critic).
    pub fn from_generator(
        config: TrainConfig,
        generator_dir: &Path,
        data: Arc<Dataset>,
        device: &Device,
    ) -> Result<Self, TrainError> {
        let dir = checkpoint::resolve_checkpoint_dir(generator_dir)?;
        let loaded = checkpoint::read_model_config(&dir)?;
        let config = TrainConfig {
            initial_generator: Some(generator_dir.to_path_buf()),
            ..config.with_generator_shapes(&loaded)
        };
        config.validate().map_err(TrainError::Config)?;
        let device = device.clone().autodiff();
        // A training checkpoint's weight average is the better starting point, as for pictures.
        let file = checkpoint::best_generator_file(&dir);
        let load = || {
            checkpoint::load_weights(
                || loaded.init_generator(&device),
                loaded.generator_weights_at_least(),
                &file,
            )
        };
        let generator = load()?;
        // A second load, not a clone: clones share BatchNorm statistics.
        let anchor = config.anchored().then(load).transpose()?;
        let critic = seeded_init(config.model.init_critic(&device), !config.seed);
        let mut session = Self::assemble(config, device, generator, critic, data);
        session.anchor = anchor;
        if let Some(ema) = &mut session.ema {
            ema.updates = GeneratorEma::warm_updates(ema.decay);
        }
        Ok(session)
    }

    pub(super) fn assemble(
        config: TrainConfig,
        device: Device,
        generator: Generator,
        critic: Critic,
        data: Arc<Dataset>,
    ) -> Self {
        // Pictures prepared for another model (a library caller's) meet this one at its size.
        let shape = PictureShape::of(&config.model);
        let data = if data.shape == shape {
            data
        } else {
            Arc::new(data.to_shape(shape).into_owned())
        };
        let (count, dim) = (config.sample_count, config.model.latent_dim);
        let z: Vec<f32> = sample_batch(
            step_seed(config.seed, u64::MAX, Stream::SampleLatents),
            count,
            dim,
        )
        .into_iter()
        .flat_map(|l| l.0)
        .collect();
        let plain = device.clone().without_autodiff();
        let sample_z = Tensor::from_data(TensorData::new(z, [count, dim]), &plain);
        let ema = (config.ema_decay > 0.0).then(|| {
            GeneratorEma::new(config.ema_decay, &generator.valid(), &config.model, &plain)
        });
        Self {
            optim_g: Optimizer::new(config.optimizer_g.clone()),
            optim_c: Optimizer::new(config.optimizer_c.clone()),
            augment_share: if config.adaptive_augment.is_some() {
                0.0
            } else {
                1.0
            },
            config,
            device,
            generator,
            ema,
            critic,
            data,
            step: 0,
            history: Vec::new(),
            elapsed_seconds: 0.0,
            sample_z,
            critic_only_updates: 0,
            anchor: None,
        }
    }

    /// Runs one generator iteration: `n_critic` critic updates, then one generator update.
    pub fn step(&mut self) -> Result<Metrics, TrainError> {
        let started = Instant::now();
        let critic_steps = self.config.critic_steps_at(self.step);
        let mut critic_values = None;
        for k in 0..critic_steps {
            let mut rng = step_rng(self.config.seed, self.step, Stream::CriticUpdate(k));
            critic_values = Some(self.critic_update(&mut rng));
        }
        let mut rng = step_rng(self.config.seed, self.step, Stream::GeneratorUpdate);
        let g_loss = self.generator_update(&mut rng);
        if let Some(ema) = &mut self.ema {
            ema.update(&self.generator.valid());
        }
        let step = self.step + 1;
        let critic_values =
            critic_values.ok_or_else(|| TrainError::Config("no critic update ran".into()))?;
        // One read-back per step: the device can run the whole iteration without waiting.
        let values = StepValues::read(critic_values, Some(g_loss), step)?;
        let seconds = started.elapsed().as_secs_f32();
        let augment_share = self.reported_share();
        if let Some(a) = self.config.adaptive_augment {
            self.augment_share =
                a.adjust(self.augment_share, values.real_sign, self.config.batch_size);
        }
        let generated = (critic_steps + 1) * self.config.batch_size;
        let metrics = Metrics {
            step,
            critic_loss: values.critic_loss,
            wasserstein: values.wasserstein,
            generator_loss: values.generator_loss.unwrap_or_default(),
            images_per_sec: generated as f32 / seconds.max(1e-9),
            seconds,
            augment_share,
        };
        self.step = step;
        self.elapsed_seconds += seconds as f64;
        self.history.push(metrics);
        Ok(metrics)
    }

    /// One critic update with the generator's weights held still (its BatchNorm running
    /// statistics follow the batches, as in any step; the weight average is untouched): a
    /// new critic's head start before it steers a trained generator, so that the first
    /// generator updates follow a critic that already tells real from generated. Not counted
    /// as a step. Returns (critic loss, E[D(real)] − E[D(fake)]). Reproducible: the n-th such
    /// update at a given step draws the same batches in every run with that seed.
    pub fn warm_up_critic(&mut self) -> Result<(f32, f32), TrainError> {
        let stream = Stream::CriticOnly(self.critic_only_updates);
        let mut rng = step_rng(self.config.seed, self.step, stream);
        self.critic_only_updates += 1;
        let values = self.critic_update(&mut rng);
        let values = StepValues::read(values, None, self.step)?;
        Ok((values.critic_loss, values.wasserstein))
    }

    #[cfg(feature = "test-support")]
    /// Runs critic updates only (no generator update), for tests and diagnostics.
    pub fn train_critic_only(&mut self, updates: usize) -> Result<(), TrainError> {
        for _ in 0..updates {
            self.warm_up_critic()?;
        }
        Ok(())
    }

    /// The generator's pictures for the run's fixed latent vectors (inference mode).
    pub fn sample_images(&self) -> Vec<RgbImage> {
        self.generate(&self.sample_latents())
    }

    /// The run's fixed latent vectors of the sample grid.
    pub fn sample_latents(&self) -> Vec<Latent> {
        let [count, dim] = self.sample_z.dims();
        let flat = host_values(self.sample_z.clone());
        (0..count)
            .map(|i| Latent(flat[i * dim..(i + 1) * dim].to_vec()))
            .collect()
    }

    /// Generator pictures for the given latent vectors (inference mode).
    pub fn generate(&self, latents: &[Latent]) -> Vec<RgbImage> {
        let plain = self.device.clone().without_autodiff();
        generate_images(&self.inference_generator(), latents, &plain)
    }

    /// E[D(x)] of the current critic over a batch (inference mode), for tests and diagnostics.
    pub fn critic_mean(&self, images: Tensor<4>) -> f32 {
        self.critic
            .valid()
            .forward(images.without_autodiff())
            .mean()
            .into_scalar::<f32>()
    }

    /// The critic's parameters, flattened (for tests of weight clipping).
    pub fn critic_parameters(&self) -> Vec<f32> {
        let mut values = Vec::new();
        self.critic.visit(&mut ParamCollector(&mut values));
        values
    }

    /// Checks that every weight of both networks is finite; a loss can stay finite for a
    /// step after an update has sent the weights to infinity, and such weights must never be
    /// saved.
    pub fn check_weights(&self) -> Result<(), TrainError> {
        let mut total = 0f32;
        let mut visitor = WeightMass(&mut total);
        self.generator.visit(&mut visitor);
        self.critic.visit(&mut visitor);
        if total.is_finite() {
            Ok(())
        } else {
            Err(TrainError::Diverged {
                step: self.step,
                what: "the sum of the weights' magnitudes",
                value: total,
            })
        }
    }

    /// The run's configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Share of the critic's images augmented next (1 unless adaptive or set).
    pub fn augment_share(&self) -> f32 {
        self.augment_share
    }

    /// The share, where it means something: adaptive, or set below 1.
    pub(super) fn reported_share(&self) -> Option<f32> {
        (self.config.adaptive_augment.is_some() || self.augment_share < 1.0)
            .then_some(self.augment_share)
    }

    /// The generator used for pictures and exports: the weight average when on, else the raw
    /// weights (inference mode). Use it before the next `step()`: a clone shares BatchNorm
    /// statistics with the session's copy, which the next average update rewrites.
    pub fn inference_generator(&self) -> Generator {
        match &self.ema {
            Some(ema) => ema.model().clone(),
            None => self.generator.valid(),
        }
    }

    /// The critic, inference mode.
    pub fn critic(&self) -> Critic {
        self.critic.valid()
    }

    /// The raw (not averaged) generator, inference mode.
    pub fn raw_generator(&self) -> Generator {
        self.generator.valid()
    }

    /// Generator steps done.
    pub fn step_count(&self) -> u64 {
        self.step
    }

    /// Metrics of every step so far.
    pub fn history(&self) -> &[Metrics] {
        &self.history
    }

    /// Total training time so far, in seconds.
    pub fn elapsed_seconds(&self) -> f64 {
        self.elapsed_seconds
    }

    /// The dataset.
    pub fn data(&self) -> &Arc<Dataset> {
        &self.data
    }

    fn noise(&self, rng: &mut ChaCha8Rng) -> Tensor<2> {
        let (b, d) = (self.config.batch_size, self.config.model.latent_dim);
        Tensor::from_data(
            TensorData::new(normal_vec(rng, b * d), [b, d]),
            &self.device,
        )
    }

    /// A batch of training images drawn at random (with replacement), flipped as the config
    /// says.
    fn real_batch(&self, rng: &mut ChaCha8Rng) -> Tensor<4> {
        let b = self.config.batch_size;
        let indices: Vec<usize> = (0..b).map(|_| rng.random_range(0..self.data.len)).collect();
        let flips: Vec<bool> = (0..b)
            .map(|_| self.config.hflip && rng.random_bool(0.5))
            .collect();
        self.data.batch(&indices, &flips, &self.device)
    }

    /// What the critic sees of `images`: the augmentation on its share, then the critic's view
    /// of every picture.
    fn critic_input(&self, images: Tensor<4>, rng: &mut ChaCha8Rng) -> Tensor<4> {
        let augmented = self
            .config
            .augment
            .apply_to_share(images, self.augment_share, rng);
        self.config.critic_view.apply(augmented)
    }

    /// One critic update; returns its values on the device.
    fn critic_update(&mut self, rng: &mut ChaCha8Rng) -> CriticValues {
        let real = self.real_batch(rng);
        let z = self.noise(rng);
        // The generator runs in training mode (batch statistics; its running statistics are
        // shared with the clone) but is not updated here. Untracked, so no autograd graph is
        // recorded: a detached output's graph is only freed by a later backward through the
        // generator, which critic-only warm-up updates never run (they leaked ~40 MB/s).
        let fake = self.generator.clone().no_grad().forward(z).detach();
        let real = self.critic_input(real, rng);
        let fake = self.critic_input(fake, rng);
        let (d_real, d_fake) = (self.critic.forward(real), self.critic.forward(fake));
        // ADA's overfitting heuristic, read back with the losses.
        let real_sign = d_real.clone().sign().mean().detach().inner();
        let [loss, gap] = losses::critic_loss(self.config.algorithm, d_real, d_fake);
        let grads = GradientsParams::from_grads(loss.backward(), &self.critic);
        let clip = (self.config.algorithm == Algorithm::Wgan).then_some(self.config.clip);
        self.critic = self.optim_c.step(self.critic.clone(), grads, clip);
        losses::critic_values(loss.detach().inner(), gap.detach().inner(), real_sign)
    }

    /// One generator update; returns its loss as a device tensor.
    fn generator_update(&mut self, rng: &mut ChaCha8Rng) -> Tensor<1> {
        let z = self.noise(rng);
        // Freeze the critic so backward computes no gradients for it.
        let frozen = self.critic.clone().no_grad();
        let generated = self.generator.forward(z.clone());
        // The initial generator runs in training mode too (batch statistics), so at the start
        // both match exactly and the anchor and its gradient are 0.
        let anchor = match (&self.anchor, self.config.detail_anchor) {
            (Some(initial), Some(weight)) => {
                let target = initial.clone().no_grad().forward(z).detach();
                Some(losses::detail_anchor(generated.clone(), target, weight))
            }
            _ => None,
        };
        let fake = self.critic_input(generated, rng);
        let loss = losses::generator_loss(self.config.algorithm, frozen.forward(fake));
        let loss = match anchor {
            Some(term) => loss.add(term),
            None => loss,
        };
        let grads = GradientsParams::from_grads(loss.backward(), &self.generator);
        self.generator = self.optim_g.step(self.generator.clone(), grads, None);
        loss.detach().inner()
    }
}

/// The sum of every weight's magnitude: NaN or infinite as soon as one weight is.
struct WeightMass<'a>(&'a mut f32);

impl burn::module::ModuleVisitor for WeightMass<'_> {
    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
        *self.0 += param.val().abs().sum().into_scalar::<f32>();
    }
}

struct ParamCollector<'a>(&'a mut Vec<f32>);

impl burn::module::ModuleVisitor for ParamCollector<'_> {
    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
        let data = param.val().into_data().convert::<f32>();
        self.0
            .extend(data.try_into_vec::<f32>().unwrap_or_default());
    }
}

//! A training session owns the models, optimizers, data and step counter. `step()` runs one
//! generator iteration (its critic updates included) and returns the metrics. Usable from any
//! thread; the CLI drives it directly, the app through a worker.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::activation::softplus;
use burn::tensor::module::avg_pool2d;
use burn::tensor::ops::AvgPoolOptions;
use burn::tensor::{Device, Int, Tensor, TensorData};
use image::RgbImage;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::engine::atomic::replace_dir_atomic;
use crate::engine::checkpoint::{
    self, ANCHOR_FILE, CRITIC_FILE, CheckpointError, GENERATOR_EMA_FILE, GENERATOR_FILE,
    MODEL_FILE, OPTIM_C_FILE, OPTIM_G_FILE, STATE_FILE,
};
use crate::engine::data::Dataset;
use crate::engine::inference::generate_images;
use crate::engine::latent::{Latent, normal_vec, sample_batch, seeded_rng};
use crate::engine::model::{
    Critic, Generator, IMAGE_SIZE, LATENT_MAPPING_FIELD, LatentMapping, ModelConfig, seeded_init,
    widen_generator,
};
use crate::engine::optim::Optimizer;
use crate::engine::render::tensor_to_images;
use crate::engine::train::augment::{
    AdaptiveAugment, Augment, DEFAULT_LOWPASS_BLOCK, block_average, fine_detail,
};
use crate::engine::train::config::{Algorithm, TrainConfig};
use crate::engine::train::ema::GeneratorEma;

/// Random directions the layout term projects each region on per step.
pub const LAYOUT_DIRECTIONS: usize = 64;

/// Real images the layout term compares each batch with (at least the batch).
const LAYOUT_REFERENCE: usize = 512;

/// Side of the layout term's regions, in 4×4 block averages (16 image pixels).
const LAYOUT_REGION: usize = 4;

/// Random stream of the layout term within a step: apart from the critic's updates (1, 2, ...)
/// and from the critic-only ones (counting up from [`CRITIC_ONLY_STREAM`]).
const LAYOUT_STREAM: u64 = 1 << 48;

/// What one step measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Generator steps done after this one.
    pub step: u64,
    /// Critic loss of the last critic update (WGAN: E[D(fake)] − E[D(real)]).
    pub critic_loss: f32,
    /// E[D(real)] − E[D(fake)] on the last critic batch: WGAN's estimate of the distance.
    pub wasserstein: f32,
    /// Generator loss.
    pub generator_loss: f32,
    /// Generated images processed per second (critic and generator passes).
    pub images_per_sec: f32,
    /// Wall time of this step in seconds.
    pub seconds: f32,
    /// Share of the critic's images augmented in this step, with adaptive augmentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub augment_share: Option<f32>,
}

/// Training could not go on.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A loss became NaN or infinite: the weights are garbage and must not be saved.
    #[error(
        "training diverged at step {step}: {what} is {value}; the last checkpoint on disk is intact — lower the learning rate or resume from it"
    )]
    Diverged {
        /// Step at which it happened.
        step: u64,
        /// Which quantity.
        what: &'static str,
        /// Its value.
        value: f32,
    },
    /// The configuration is unusable.
    #[error("invalid training configuration: {0}")]
    Config(String),
    /// A checkpoint problem.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The checkpoint was made for other shapes or another algorithm.
    #[error("the checkpoint does not fit this run: {0}")]
    Mismatch(String),
}

/// Saved training progress (state.ron).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainState {
    /// Generator steps done.
    pub step: u64,
    /// The run's configuration.
    pub config: TrainConfig,
    /// Updates applied by each optimizer (Adam's bias correction needs them).
    pub optimizer_steps: (u64, u64),
    /// Every step's metrics.
    pub history: Vec<Metrics>,
    /// Total training wall time in seconds.
    pub elapsed_seconds: f64,
    /// Images in the dataset it was trained on.
    pub dataset_len: usize,
    /// Updates folded into the generator's weight average (0 in older checkpoints).
    #[serde(default)]
    pub ema_updates: u64,
    /// Share of the critic's images augmented next (adaptive augmentation; absent: all).
    #[serde(default)]
    pub augment_share: Option<f32>,
}

/// One training run in memory.
pub struct TrainingSession {
    config: TrainConfig,
    device: Device,
    generator: Generator,
    ema: Option<GeneratorEma>,
    critic: Critic,
    optim_g: Optimizer,
    optim_c: Optimizer,
    data: Arc<Dataset>,
    step: u64,
    history: Vec<Metrics>,
    elapsed_seconds: f64,
    sample_z: Tensor<2>,
    /// Share of the critic's images the augmentation policy applies to (1 unless adaptive).
    augment_share: f32,
    /// Critic-only updates run in this session so far (they pick their random streams).
    critic_only_updates: u64,
    /// The initial generator, for the detail anchor (its own copy: clones would share the
    /// BatchNorm statistics with the trained one).
    anchor: Option<Generator>,
}

/// First random stream of critic-only updates: far above the critic steps of a generator step.
const CRITIC_ONLY_STREAM: u64 = 1 << 32;

/// Mixes the run seed and the step into the seed of that step's RNG, so a resumed run draws
/// exactly what an uninterrupted one would, with no RNG state to save.
fn step_seed(seed: u64, step: u64, stream: u64) -> u64 {
    let mut x = seed ^ 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(step.wrapping_add(1));
    x ^= stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
    // splitmix64 finaliser
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The critic's scores for real and generated images passed as one batch (its BatchNorm then
/// normalises both with shared statistics): (real scores, generated scores).
fn scores_in_one_batch(
    critic: &Critic,
    real: Tensor<4>,
    fake: Tensor<4>,
) -> (Tensor<1>, Tensor<1>) {
    let b = real.dims()[0];
    let scores = critic.forward(Tensor::cat(vec![real, fake], 0));
    let n = scores.dims()[0];
    (scores.clone().slice(0..b), scores.slice(b..n))
}

fn finite(step: u64, what: &'static str, value: f32) -> Result<f32, TrainError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(TrainError::Diverged { step, what, value })
    }
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
                "an anchor (detail or layout) needs a run that starts from a trained generator"
                    .into(),
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
    /// export, e.g. `checkpoints/faces`): fine-tuning it further, perhaps on other data, without
    /// the run it came from. `config.model` must have the loaded generator's latent size and
    /// upsampling, and its width or more: a wider run widens the loaded generator without
    /// changing its pictures ([`widen_generator`], shares seeded by the run's seed), for more
    /// capacity; its output scale and palette are applied to the loaded weights, and a latent
    /// mapping the loaded generator lacks is added as the identity (one it has is kept, or
    /// dropped if the run has none). The critic
    /// and both optimizers are new, and the weight average starts warm at the loaded weights
    /// (at its full decay), so the samples start as good as the loaded generator and do not
    /// follow the raw weights while a fresh critic finds its feet. Give the critic a head
    /// start with [`warm_up_critic`](Self::warm_up_critic).
    pub fn from_generator(
        config: TrainConfig,
        generator_dir: &Path,
        data: Arc<Dataset>,
        device: &Device,
    ) -> Result<Self, TrainError> {
        config.validate().map_err(TrainError::Config)?;
        let dir = checkpoint::resolve_checkpoint_dir(generator_dir)?;
        let config = TrainConfig {
            initial_generator: Some(generator_dir.to_path_buf()),
            ..config
        };
        let loaded = checkpoint::read_model_config(&dir)?;
        let wanted = &config.model;
        if (wanted.latent_dim, wanted.upsampling()) != (loaded.latent_dim, loaded.upsampling())
            || wanted.ngf < loaded.ngf
        {
            return Err(TrainError::Mismatch(format!(
                "the generator in {} has z {}, ngf {}, {:?} upsampling; the run asks for z {}, ngf {}, {:?} (a run may widen a generator, not narrow it)",
                dir.display(),
                loaded.latent_dim,
                loaded.ngf,
                loaded.upsampling(),
                wanted.latent_dim,
                wanted.ngf,
                wanted.upsampling()
            )));
        }
        if let (Some(have), Some(want)) = (loaded.latent_mapping, wanted.latent_mapping)
            && have != want
        {
            return Err(TrainError::Mismatch(format!(
                "the generator in {} has a latent mapping {have} wide; the run asks for {want} (drop it first, or keep its width)",
                dir.display()
            )));
        }
        let device = device.clone().autodiff();
        // A training checkpoint's weight average is the better starting point, as for pictures.
        let file = checkpoint::best_generator_file(&dir);
        let load = || -> Result<Generator, TrainError> {
            let mut g = checkpoint::load_weights(loaded.init_generator(&device), &file)?;
            g.set_output_scale(config.model.output_scale());
            g.set_output_palette(config.model.output_palette.clone());
            if loaded.latent_mapping != wanted.latent_mapping {
                // A new mapping starts as the identity (its output layer is zero): the loaded
                // generator's pictures stay until training moves it.
                let fresh = wanted
                    .latent_mapping
                    .map(|width| LatentMapping::new(wanted.latent_dim, width, &device));
                g.set_latent_mapping(fresh.map(|m| seeded_init(m, config.seed)));
            }
            if wanted.ngf > loaded.ngf {
                g = widen_generator(&loaded, &g, wanted.ngf, config.seed)
                    .map_err(TrainError::Config)?
                    .1;
            }
            Ok(g)
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

    fn assemble(
        config: TrainConfig,
        device: Device,
        generator: Generator,
        critic: Critic,
        data: Arc<Dataset>,
    ) -> Self {
        let config_adaptive = config.adaptive_augment.is_some();
        let z: Vec<f32> = sample_batch(
            step_seed(config.seed, u64::MAX, 7),
            config.sample_count,
            config.model.latent_dim,
        )
        .into_iter()
        .flat_map(|l| l.0)
        .collect();
        let plain = device.clone().without_autodiff();
        let sample_z = Tensor::from_data(
            TensorData::new(z, [config.sample_count, config.model.latent_dim]),
            &plain,
        );
        let ema = (config.ema_decay > 0.0).then(|| {
            GeneratorEma::new(config.ema_decay, &generator.valid(), &config.model, &plain)
        });
        let mut optim_g = Optimizer::new(config.optimizer_g.clone());
        optim_g.prefix_lr = config
            .mapping_lr
            .map(|lr| (LATENT_MAPPING_FIELD.to_string(), lr));
        Self {
            optim_g,
            optim_c: Optimizer::new(config.optimizer_c.clone()),
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
            augment_share: if config_adaptive { 0.0 } else { 1.0 },
            critic_only_updates: 0,
            anchor: None,
        }
    }

    /// Resumes from a checkpoint directory written by [`save_checkpoint`](Self::save_checkpoint).
    pub fn resume(dir: &Path, data: Arc<Dataset>, device: &Device) -> Result<Self, TrainError> {
        let dir = checkpoint::resolve_checkpoint_dir(dir)?;
        let state: TrainState = checkpoint::read_ron(&dir.join(STATE_FILE))?;
        let model: ModelConfig = checkpoint::read_ron(&dir.join(MODEL_FILE))?;
        if model != state.config.model {
            return Err(TrainError::Mismatch(format!(
                "{} and {} disagree on the model shapes",
                dir.join(MODEL_FILE).display(),
                dir.join(STATE_FILE).display()
            )));
        }
        let device = device.clone().autodiff();
        let generator =
            checkpoint::load_weights(model.init_generator(&device), &dir.join(GENERATOR_FILE))?;
        let critic = checkpoint::load_weights(model.init_critic(&device), &dir.join(CRITIC_FILE))?;
        let anchor = state
            .config
            .anchored()
            .then(|| {
                checkpoint::load_weights(model.init_generator(&device), &dir.join(ANCHOR_FILE))
            })
            .transpose()?;
        let mut session = Self::assemble(state.config, device, generator, critic, data);
        session.anchor = anchor;
        let plain = session.device.clone().without_autodiff();
        let (gs, cs) = state.optimizer_steps;
        session
            .optim_g
            .import_state(gs, read_moments(&dir.join(OPTIM_G_FILE))?, &plain);
        session
            .optim_c
            .import_state(cs, read_moments(&dir.join(OPTIM_C_FILE))?, &plain);
        let ema_file = dir.join(GENERATOR_EMA_FILE);
        if session.config.ema_decay > 0.0 && ema_file.exists() {
            let saved = checkpoint::load_weights(model.init_generator(&plain), &ema_file)?;
            session.ema = Some(GeneratorEma::from_saved(
                session.config.ema_decay,
                state.ema_updates,
                saved.valid(),
            ));
        }
        session.step = state.step;
        session.history = state.history;
        session.elapsed_seconds = state.elapsed_seconds;
        session.augment_share = state.augment_share.unwrap_or(1.0);
        Ok(session)
    }

    /// Changes the weight of the detail anchor (0 switches its effect off); only a run that
    /// started from a trained generator with an anchor has the initial generator to compare
    /// with.
    pub fn set_detail_anchor(&mut self, weight: f32) -> Result<(), TrainError> {
        self.change_anchor(|config| config.detail_anchor = Some(weight))
    }

    /// Changes the weight of the layout anchor (see [`TrainConfig::layout_anchor`]; 0 switches
    /// its effect off), under the same condition.
    pub fn set_layout_anchor(&mut self, weight: f32) -> Result<(), TrainError> {
        self.change_anchor(|config| config.layout_anchor = Some(weight))
    }

    /// Applies `change` to the config of a run that keeps its initial generator, if the result
    /// is valid.
    fn change_anchor(&mut self, change: impl FnOnce(&mut TrainConfig)) -> Result<(), TrainError> {
        if self.anchor.is_none() {
            return Err(TrainError::Config(
                "this run has no anchor: start one from a trained generator with --detail-anchor or --layout-anchor".into(),
            ));
        }
        let mut config = self.config.clone();
        change(&mut config);
        config.validate().map_err(TrainError::Config)?;
        self.config = config;
        Ok(())
    }

    /// Changes the weight of the layout term (see [`TrainConfig::layout_sw`]; 0 switches it
    /// off).
    pub fn set_layout_sw(&mut self, weight: f32) -> Result<(), TrainError> {
        let config = TrainConfig {
            layout_sw: Some(weight),
            ..self.config.clone()
        };
        config.validate().map_err(TrainError::Config)?;
        self.config = config;
        Ok(())
    }

    /// The run's configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Sets the learning rate of both optimizers, keeping their moments: lowering it late in
    /// a run (annealing) calms the oscillation that precedes a collapse.
    pub fn set_learning_rate(&mut self, lr: f64) -> Result<(), TrainError> {
        self.set_learning_rates(lr, lr)
    }

    /// Sets the learning rate of the generator's latent mapping, keeping the optimizer's
    /// moments; refused for a run without a mapping.
    pub fn set_mapping_lr(&mut self, lr: f64) -> Result<(), TrainError> {
        let config = TrainConfig {
            mapping_lr: Some(lr),
            ..self.config.clone()
        };
        config.validate().map_err(TrainError::Config)?;
        self.config = config;
        self.optim_g.prefix_lr = Some((LATENT_MAPPING_FIELD.to_string(), lr));
        Ok(())
    }

    /// Sets the generator's and the critic's learning rates apart, keeping the optimizers'
    /// moments: a slower critic is the usual answer to a discriminator that keeps winning.
    pub fn set_learning_rates(&mut self, generator: f64, critic: f64) -> Result<(), TrainError> {
        for lr in [generator, critic] {
            if !(lr > 0.0 && lr.is_finite()) {
                return Err(TrainError::Config(
                    "a learning rate must be positive".into(),
                ));
            }
        }
        self.config.optimizer_g = self.config.optimizer_g.clone().with_lr(generator);
        self.config.optimizer_c = self.config.optimizer_c.clone().with_lr(critic);
        self.optim_g.config = Some(self.config.optimizer_g.clone());
        self.optim_c.config = Some(self.config.optimizer_c.clone());
        Ok(())
    }

    /// Replaces the critic (discriminator) with freshly initialised weights and a fresh
    /// optimizer, keeping the generator, its average and the history. For a resumed run whose
    /// critic has stopped telling real from generated (its loss stuck at chance, 2·ln 2 for
    /// DCGAN): a new one learns the generator's current flaws and gives it gradients again.
    /// Being new, it may have another width (`ndf`) or drop BatchNorm (`batch_norm`); `None`
    /// keeps the run's. Seeded by the run's seed and the step, so it is reproducible.
    pub fn reset_critic(
        &mut self,
        ndf: Option<usize>,
        batch_norm: Option<bool>,
    ) -> Result<(), TrainError> {
        let mut config = self.config.clone();
        if let Some(ndf) = ndf {
            config.model.ndf = ndf;
        }
        if let Some(batch_norm) = batch_norm {
            config.model.critic_batch_norm = batch_norm;
        }
        config.validate().map_err(TrainError::Config)?;
        self.config = config;
        let critic = self.config.model.init_critic(&self.device);
        self.critic = seeded_init(critic, step_seed(!self.config.seed, self.step, 9));
        self.optim_c = Optimizer::new(self.config.optimizer_c.clone());
        Ok(())
    }

    /// Changes the augmentation of the critic's inputs, e.g. to turn it on for a resumed run
    /// whose discriminator has started to memorise the data. The colour strength is a setting
    /// of its own (`set_color_strength`): a policy that does not name one keeps the run's.
    pub fn set_augment(&mut self, augment: Augment) -> Result<(), TrainError> {
        let color_strength = augment
            .color_strength
            .or(self.config.augment.color_strength);
        let augment = Augment {
            color_strength,
            ..augment
        };
        augment.validate().map_err(TrainError::Config)?;
        self.config.augment = augment;
        Ok(())
    }

    /// Real and generated images through the critic as one batch, or each as its own (see
    /// [`TrainConfig::joint_critic_batch`]); the weights stay.
    pub fn set_joint_critic_batch(&mut self, joint: bool) {
        self.config.joint_critic_batch = joint;
    }

    /// Changes how far the colour augmentation goes (in (0, 1]; see [`Augment`]).
    pub fn set_color_strength(&mut self, strength: f32) -> Result<(), TrainError> {
        self.config.augment = self
            .config
            .augment
            .with_color_strength(strength)
            .map_err(TrainError::Config)?;
        Ok(())
    }

    /// Switches adaptive augmentation on or off (see [`AdaptiveAugment`]). Switched on, the
    /// share starts where it is (all images for a run that augmented before, so nothing jumps);
    /// switched off, every image is augmented again. A run that was not adaptive keeps its
    /// share (a fixed one stays).
    pub fn set_adaptive_augment(
        &mut self,
        adaptive: Option<AdaptiveAugment>,
    ) -> Result<(), TrainError> {
        match &adaptive {
            Some(a) => a.validate().map_err(TrainError::Config)?,
            None if self.config.adaptive_augment.is_some() => self.augment_share = 1.0,
            None => {}
        }
        self.config.adaptive_augment = adaptive;
        Ok(())
    }

    /// Share of the critic's images augmented next (1 unless adaptive or set).
    pub fn augment_share(&self) -> f32 {
        self.augment_share
    }

    /// Sets the share of the critic's images that go through the augmentation policy: fixed
    /// without adaptive augmentation, the starting point with it. Saved with the checkpoint.
    pub fn set_augment_share(&mut self, share: f32) -> Result<(), TrainError> {
        if !(0.0..=1.0).contains(&share) {
            return Err(TrainError::Config(format!(
                "the augmented share must be in [0, 1], not {share}"
            )));
        }
        self.augment_share = share;
        Ok(())
    }

    /// The share, where it means something: adaptive, or set below 1.
    fn reported_share(&self) -> Option<f32> {
        (self.config.adaptive_augment.is_some() || self.augment_share < 1.0)
            .then_some(self.augment_share)
    }

    /// Changes the number of images per batch, e.g. to use a GPU's spare width on a resumed
    /// run (larger batches steady the critic's estimate). Saved with the next checkpoint.
    pub fn set_batch_size(&mut self, batch_size: usize) -> Result<(), TrainError> {
        let config = TrainConfig {
            batch_size,
            ..self.config.clone()
        };
        config.validate().map_err(TrainError::Config)?;
        self.config = config;
        Ok(())
    }

    /// Changes the generator's output scale (see `ModelConfig::output_scale`), keeping its
    /// weights, e.g. to let a trained model reach the pure white of its data. Saved with the
    /// next checkpoint.
    pub fn set_output_scale(&mut self, scale: f32) -> Result<(), TrainError> {
        self.config.model = self
            .config
            .model
            .clone()
            .with_checked_output_scale(scale)
            .map_err(TrainError::Config)?;
        self.generator.set_output_scale(scale);
        if let Some(ema) = &mut self.ema {
            ema.model_mut().set_output_scale(scale);
        }
        // The anchor's pictures are compared with the generator's: the same scale for both.
        if let Some(anchor) = &mut self.anchor {
            anchor.set_output_scale(scale);
        }
        Ok(())
    }

    /// Turns the generator's weight average on (continuing it if it runs) or off (`0`). A run
    /// resumed from a checkpoint without an average starts one at the current weights.
    pub fn set_ema_decay(&mut self, decay: f32) -> Result<(), TrainError> {
        if !(0.0..1.0).contains(&decay) {
            return Err(TrainError::Config("ema_decay must be in [0, 1)".into()));
        }
        self.config.ema_decay = decay;
        if decay == 0.0 {
            self.ema = None;
        } else if let Some(ema) = &mut self.ema {
            ema.decay = decay;
        } else {
            let plain = self.device.clone().without_autodiff();
            self.ema = Some(GeneratorEma::new(
                decay,
                &self.generator.valid(),
                &self.config.model,
                &plain,
            ));
        }
        Ok(())
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

    fn noise(&self, rng: &mut rand::rngs::ChaCha8Rng) -> Tensor<2> {
        let (b, d) = (self.config.batch_size, self.config.model.latent_dim);
        Tensor::from_data(
            TensorData::new(normal_vec(rng, b * d), [b, d]),
            &self.device,
        )
    }

    fn real_batch(&self, rng: &mut rand::rngs::ChaCha8Rng) -> Tensor<4> {
        self.real_images(rng, self.config.batch_size)
    }

    /// `b` training images drawn at random (with replacement), flipped as the config says.
    fn real_images(&self, rng: &mut rand::rngs::ChaCha8Rng, b: usize) -> Tensor<4> {
        let indices: Vec<usize> = (0..b).map(|_| rng.random_range(0..self.data.len)).collect();
        let flips: Vec<bool> = (0..b)
            .map(|_| self.config.hflip && rng.random_bool(0.5))
            .collect();
        self.data.batch(&indices, &flips, &self.device)
    }

    /// One critic update; returns (critic loss, E[D(real)] − E[D(fake)], E[sign D(real)]) as a
    /// device tensor.
    fn critic_update(&mut self, rng: &mut rand::rngs::ChaCha8Rng) -> Tensor<1> {
        let real = self.real_batch(rng);
        let z = self.noise(rng);
        // The generator runs in training mode (batch statistics; its running statistics are
        // shared with the clone) but is not updated here. Untracked, so no autograd graph is
        // recorded: a detached output's graph is only freed by a later backward through the
        // generator, which critic-only warm-up updates never run (they leaked ~40 MB/s).
        let fake = self.generator.clone().no_grad().forward(z).detach();
        let (augment, share) = (self.config.augment, self.augment_share);
        let real = augment.apply_to_share(real, share, rng);
        let fake = augment.apply_to_share(fake, share, rng);
        let (d_real, d_fake) = if self.config.joint_critic_batch {
            scores_in_one_batch(&self.critic, real, fake)
        } else {
            (self.critic.forward(real), self.critic.forward(fake))
        };
        // ADA's overfitting heuristic, read back with the losses.
        let real_sign = d_real.clone().sign().mean().detach().inner();
        let (loss, gap) = match self.config.algorithm {
            Algorithm::Wgan => {
                let gap = d_real.mean().sub(d_fake.mean());
                (gap.clone().neg(), gap)
            }
            Algorithm::Dcgan => {
                let gap = d_real.clone().mean().sub(d_fake.clone().mean());
                let loss = softplus(d_real.neg(), 1.0)
                    .mean()
                    .add(softplus(d_fake, 1.0).mean());
                (loss, gap)
            }
        };
        let grads = GradientsParams::from_grads(loss.backward(), &self.critic);
        let clip = (self.config.algorithm == Algorithm::Wgan).then_some(self.config.clip);
        self.critic = self.optim_c.step(self.critic.clone(), grads, clip);
        Tensor::cat(
            vec![loss.detach().inner(), gap.detach().inner(), real_sign],
            0,
        )
    }

    /// One generator update; returns its loss as a device tensor.
    fn generator_update(&mut self, rng: &mut rand::rngs::ChaCha8Rng) -> Tensor<1> {
        let z = self.noise(rng);
        // Freeze the critic so backward computes no gradients for it.
        let frozen = self.critic.clone().no_grad();
        let (augment, share) = (self.config.augment, self.augment_share);
        let generated = self.generator.forward(z.clone());
        let anchor_loss = self.anchor_loss(generated.clone(), z);
        let layout_loss = self.layout_sw_loss(generated.clone());
        let fake = augment.apply_to_share(generated, share, rng);
        let scores = if self.config.joint_critic_batch {
            // The critic judges generated images among real ones, as in its own update, so
            // that its BatchNorm statistics are the ones it learned with.
            let real = self.real_batch(rng);
            let real = augment.apply_to_share(real, share, rng);
            scores_in_one_batch(&frozen, real, fake).1
        } else {
            frozen.forward(fake)
        };
        let loss = match self.config.algorithm {
            Algorithm::Wgan => scores.mean().neg(),
            Algorithm::Dcgan => softplus(scores.neg(), 1.0).mean(),
        };
        let loss = [anchor_loss, layout_loss]
            .into_iter()
            .flatten()
            .fold(loss, |loss, term| loss.add(term));
        let grads = GradientsParams::from_grads(loss.backward(), &self.generator);
        self.generator = self.optim_g.step(self.generator.clone(), grads, None);
        loss.detach().inner()
    }

    /// The anchors' loss term for generated images `generated` of latents `z`: the detail
    /// anchor's weight × the mean squared difference of their fine detail from the initial
    /// generator's, plus the layout anchor's × that of their 4×4 block averages. The initial
    /// generator runs in training mode too (batch statistics), so at the start both match
    /// exactly and the term and its gradient are 0.
    fn anchor_loss(&self, generated: Tensor<4>, z: Tensor<2>) -> Option<Tensor<1>> {
        let anchor = self.anchor.as_ref()?;
        let (detail, layout) = (self.config.detail_anchor, self.config.layout_anchor);
        if detail.is_none() && layout.is_none() {
            return None;
        }
        let target = anchor.clone().no_grad().forward(z).detach();
        let coarse = |x: Tensor<4>| block_average(x, DEFAULT_LOWPASS_BLOCK);
        let squared = |a: Tensor<4>, b: Tensor<4>, weight: f32| {
            a.sub(b).powi_scalar(2).mean().mul_scalar(weight)
        };
        let detail = detail.map(|weight| {
            squared(
                fine_detail(generated.clone()),
                fine_detail(target.clone()),
                weight,
            )
        });
        let layout = layout.map(|weight| squared(coarse(generated), coarse(target), weight));
        [detail, layout]
            .into_iter()
            .flatten()
            .reduce(|a, b| a.add(b))
    }

    /// The layout term for generated images `generated` (see [`TrainConfig::layout_sw`]):
    /// weight × the mean, over the layout's regions (4×4 of its 4×4 block averages each, so
    /// each region holds 16×16 pixels of the image) and [`LAYOUT_DIRECTIONS`] random unit
    /// directions, of the mean squared difference between the sorted projections of the
    /// batch's regions and the same quantiles of [`LAYOUT_REFERENCE`] real images' at the same
    /// place. Per region, because a look that occupies one place (a hair colour at the top of
    /// the head) is a small share of a whole-image projection and drowns in the sampling noise
    /// of a batch. Its random numbers come from their own stream, so the rest of a step draws
    /// what it would without it. Weight 0 (switched off on resume) costs nothing.
    fn layout_sw_loss(&self, generated: Tensor<4>) -> Option<Tensor<1>> {
        let weight = self.config.layout_sw.filter(|&weight| weight > 0.0)?;
        let mut rng = seeded_rng(step_seed(self.config.seed, self.step, LAYOUT_STREAM));
        let batch = self.config.batch_size;
        let reference = batch.max(LAYOUT_REFERENCE);
        let real = self.real_images(&mut rng, reference);
        let (side, region) = (DEFAULT_LOWPASS_BLOCK, LAYOUT_REGION);
        let regions = IMAGE_SIZE / side / region;
        let features = 3 * region * region;
        // [b, 3, 64, 64] → [regions², b, 3·region²]: each region's block averages.
        let by_region = |x: Tensor<4>| {
            let [b, ..] = x.dims();
            avg_pool2d(x, AvgPoolOptions::new([side, side]))
                .reshape([b, 3, regions, region, regions, region])
                .permute([2, 4, 0, 1, 3, 5])
                .reshape([regions * regions, b, features])
        };
        let (generated, real) = (by_region(generated), by_region(real).detach());
        let mut directions = normal_vec(&mut rng, features * LAYOUT_DIRECTIONS);
        for j in 0..LAYOUT_DIRECTIONS {
            let norm = (0..features)
                .map(|i| directions[i * LAYOUT_DIRECTIONS + j].powi(2))
                .sum::<f32>()
                .sqrt()
                .max(1e-12);
            for i in 0..features {
                directions[i * LAYOUT_DIRECTIONS + j] /= norm;
            }
        }
        let directions = Tensor::<3>::from_data(
            TensorData::new(directions, [1, features, LAYOUT_DIRECTIONS]),
            &self.device,
        )
        .repeat_dim(0, regions * regions);
        // The real quantiles at the generated ranks: a reference larger than the batch halves
        // the sampling noise the term would otherwise pull towards.
        let quantiles: Vec<i64> = (0..batch)
            .map(|i| ((2 * i + 1) * reference / (2 * batch)) as i64)
            .collect();
        let quantiles =
            Tensor::<1, Int>::from_data(TensorData::new(quantiles, [batch]), &self.device);
        let real_sorted = real.matmul(directions.clone()).sort(1).select(1, quantiles);
        let projected = generated.matmul(directions);
        // Sorting by gather keeps the gradient flowing to each projection from its rank.
        let order = projected.clone().detach().argsort(1);
        let generated_sorted = projected.gather(1, order);
        Some(
            generated_sorted
                .sub(real_sorted)
                .powi_scalar(2)
                .mean()
                .mul_scalar(weight),
        )
    }

    /// Runs one generator iteration: `n_critic` critic updates, then one generator update.
    pub fn step(&mut self) -> Result<Metrics, TrainError> {
        let started = Instant::now();
        let critic_steps = self.config.critic_steps_at(self.step);
        let mut critic_out = None;
        for k in 0..critic_steps {
            let mut rng = seeded_rng(step_seed(self.config.seed, self.step, 1 + k as u64));
            critic_out = Some(self.critic_update(&mut rng));
        }
        let mut rng = seeded_rng(step_seed(self.config.seed, self.step, 0));
        let g_loss = self.generator_update(&mut rng);
        if let Some(ema) = &mut self.ema {
            ema.update(&self.generator.valid());
        }
        // One read-back per step: the device can run the whole iteration without waiting.
        let values = Tensor::cat(
            vec![critic_out.expect("at least one critic step"), g_loss],
            0,
        )
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap_or_default();
        let seconds = started.elapsed().as_secs_f32();
        let step = self.step + 1;
        let critic_loss = finite(step, "the critic loss", values[0])?;
        let wasserstein = finite(step, "the Wasserstein estimate", values[1])?;
        let generator_loss = finite(step, "the generator loss", values[3])?;
        let augment_share = self.reported_share();
        if let Some(a) = self.config.adaptive_augment {
            self.augment_share = a.adjust(self.augment_share, values[2], self.config.batch_size);
        }
        let generated = (critic_steps + 1) * self.config.batch_size;
        let metrics = Metrics {
            step,
            critic_loss,
            wasserstein,
            generator_loss,
            images_per_sec: generated as f32 / seconds.max(1e-9),
            seconds,
            augment_share,
        };
        self.step = step;
        self.elapsed_seconds += seconds as f64;
        self.history.push(metrics);
        Ok(metrics)
    }

    /// The generator's pictures for the run's fixed latent vectors (inference mode).
    pub fn sample_images(&self) -> Vec<RgbImage> {
        let g = self.inference_generator();
        tensor_to_images(g.forward(self.sample_z.clone()))
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
        let mut collect = ParamCollector(&mut values);
        self.critic.visit(&mut collect);
        values
    }

    /// Runs critic updates only (no generator update), for tests and diagnostics.
    pub fn train_critic_only(&mut self, updates: usize) -> Result<(), TrainError> {
        for _ in 0..updates {
            self.warm_up_critic()?;
        }
        Ok(())
    }

    /// One critic update with the generator's weights held still (its BatchNorm running
    /// statistics follow the batches, as in any step; the weight average is untouched): a
    /// new critic's head start before it steers a trained generator (see [`from_generator`](Self::from_generator) and
    /// [`reset_critic`](Self::reset_critic)), so that the first generator updates follow a
    /// critic that already tells real from generated instead of a random one. Not counted as
    /// a step. Returns (critic loss, E[D(real)] − E[D(fake)]). Reproducible: the n-th such
    /// update at a given step draws the same batches in every run with that seed.
    pub fn warm_up_critic(&mut self) -> Result<(f32, f32), TrainError> {
        let stream = CRITIC_ONLY_STREAM + self.critic_only_updates;
        let mut rng = seeded_rng(step_seed(self.config.seed, self.step, stream));
        self.critic_only_updates += 1;
        let out = self
            .critic_update(&mut rng)
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap_or_default();
        Ok((
            finite(self.step, "the critic loss", out[0])?,
            finite(self.step, "the Wasserstein estimate", out[1])?,
        ))
    }

    /// Writes a full checkpoint (weights, optimizer moments, state) into `dir`, atomically.
    pub fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        let state = TrainState {
            step: self.step,
            config: self.config.clone(),
            optimizer_steps: (self.optim_g.steps, self.optim_c.steps),
            history: self.history.clone(),
            elapsed_seconds: self.elapsed_seconds,
            dataset_len: self.data.len,
            ema_updates: self.ema.as_ref().map_or(0, |e| e.updates),
            augment_share: self.reported_share(),
        };
        replace_dir_atomic(dir, |tmp| {
            let wrap = |e: CheckpointError| std::io::Error::other(e.to_string());
            checkpoint::write_ron(&tmp.join(MODEL_FILE), &self.config.model).map_err(wrap)?;
            // `valid()` folds BatchNorm's pending running-statistics update into the saved
            // value; saving the training module directly would store them one batch stale.
            checkpoint::save_weights(&self.generator.valid(), &tmp.join(GENERATOR_FILE))
                .map_err(wrap)?;
            checkpoint::save_weights(&self.critic.valid(), &tmp.join(CRITIC_FILE)).map_err(wrap)?;
            if let Some(ema) = &self.ema {
                checkpoint::save_weights(ema.model(), &tmp.join(GENERATOR_EMA_FILE))
                    .map_err(wrap)?;
            }
            if let Some(anchor) = &self.anchor {
                checkpoint::save_weights(&anchor.valid(), &tmp.join(ANCHOR_FILE)).map_err(wrap)?;
            }
            write_moments(&self.optim_g, &tmp.join(OPTIM_G_FILE))?;
            write_moments(&self.optim_c, &tmp.join(OPTIM_C_FILE))?;
            checkpoint::write_ron(&tmp.join(STATE_FILE), &state).map_err(wrap)
        })
        .map_err(|source| {
            TrainError::Checkpoint(CheckpointError::Io {
                path: dir.to_path_buf(),
                source,
            })
        })
    }

    /// Writes a generator-only export (what the explorer and `generate` load).
    pub fn export_generator(&self, dir: &Path) -> Result<(), CheckpointError> {
        checkpoint::export_generator(&self.config.model, &self.inference_generator(), dir)
    }
}

struct ParamCollector<'a>(&'a mut Vec<f32>);

impl burn::module::ModuleVisitor for ParamCollector<'_> {
    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
        let data = param.val().into_data().convert::<f32>();
        self.0.extend(data.try_to_vec::<f32>().unwrap_or_default());
    }
}

fn write_moments(optim: &Optimizer, path: &Path) -> std::io::Result<()> {
    let state = optim.export_state();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = state
        .iter()
        .map(|(name, shape, values)| {
            let bytes: &[u8] = bytemuck_f32(values);
            (
                name.clone(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                    .expect("consistent shape"),
            )
        })
        .collect();
    let bytes = safetensors::serialize(views, None).map_err(std::io::Error::other)?;
    std::fs::write(path, bytes)
}

fn bytemuck_f32(values: &[f32]) -> &[u8] {
    // SAFETY: f32 has no padding and any byte pattern is a valid u8.
    unsafe {
        std::slice::from_raw_parts(values.as_ptr() as *const u8, std::mem::size_of_val(values))
    }
}

fn read_moments(path: &Path) -> Result<Vec<(String, Vec<f32>)>, CheckpointError> {
    let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let file =
        safetensors::SafeTensors::deserialize(&bytes).map_err(|e| CheckpointError::Weights {
            path: path.to_path_buf(),
            message: format!("not a valid safetensors file: {e}"),
        })?;
    let mut out = Vec::new();
    for (name, view) in file.tensors() {
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(CheckpointError::Weights {
                path: path.to_path_buf(),
                message: format!("{name}: expected F32, found {:?}", view.dtype()),
            });
        }
        let values = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        out.push((name, values));
    }
    Ok(out)
}

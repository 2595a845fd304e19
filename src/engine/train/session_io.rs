//! Saving a [`TrainingSession`] as a checkpoint directory and resuming from one.

use std::path::Path;
use std::sync::Arc;

use burn::module::Module;
use burn::tensor::Device;

use crate::engine::files::atomic::replace_dir_atomic;
use crate::engine::files::checkpoint::{
    self, ANCHOR_FILE, CRITIC_FILE, CheckpointError, GENERATOR_EMA_FILE, GENERATOR_FILE,
    MODEL_FILE, OPTIM_C_FILE, OPTIM_G_FILE, STATE_FILE,
};
use crate::engine::files::data::Dataset;
use crate::engine::files::migrate;
use crate::engine::train::ema::GeneratorEma;
use crate::engine::train::optim_file;
use crate::engine::train::session::{TrainError, TrainingSession};
use crate::engine::train::state::TrainState;

impl TrainingSession {
    /// Resumes from a checkpoint directory written by [`save_checkpoint`](Self::save_checkpoint)
    /// (or a run directory holding one).
    pub fn resume(dir: &Path, data: Arc<Dataset>, device: &Device) -> Result<Self, TrainError> {
        let dir = checkpoint::resolve_checkpoint_dir(dir)?;
        let state: TrainState = migrate::read_train_state(&dir.join(STATE_FILE))?;
        let model = checkpoint::read_model_config(&dir)?;
        if model != state.config.model {
            return Err(TrainError::Mismatch(format!(
                "{} and {} disagree on the model shapes",
                dir.join(MODEL_FILE).display(),
                dir.join(STATE_FILE).display()
            )));
        }
        let device = device.clone().autodiff();
        let (g_needed, c_needed) = (
            model.generator_weights_at_least(),
            model.critic_weights_at_least(),
        );
        let generator = checkpoint::load_weights(
            || model.init_generator(&device),
            g_needed,
            &dir.join(GENERATOR_FILE),
        )?;
        let critic = checkpoint::load_weights(
            || model.init_critic(&device),
            c_needed,
            &dir.join(CRITIC_FILE),
        )?;
        let anchor = state
            .config
            .anchored()
            .then(|| {
                checkpoint::load_weights(
                    || model.init_generator(&device),
                    g_needed,
                    &dir.join(ANCHOR_FILE),
                )
            })
            .transpose()?;
        let mut session = Self::assemble(state.config, device, generator, critic, data);
        session.anchor = anchor;
        let plain = session.device.clone().without_autodiff();
        let (gs, cs) = state.optimizer_steps;
        let moments_g = optim_file::read(&dir.join(OPTIM_G_FILE), g_needed)?;
        let moments_c = optim_file::read(&dir.join(OPTIM_C_FILE), c_needed)?;
        session.optim_g.import_state(gs, moments_g, &plain);
        session.optim_c.import_state(cs, moments_c, &plain);
        let ema_file = dir.join(GENERATOR_EMA_FILE);
        if session.config.ema_decay > 0.0 && ema_file.exists() {
            let saved =
                checkpoint::load_weights(|| model.init_generator(&plain), g_needed, &ema_file)?;
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
            optim_file::write(&self.optim_g, &tmp.join(OPTIM_G_FILE))?;
            optim_file::write(&self.optim_c, &tmp.join(OPTIM_C_FILE))?;
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

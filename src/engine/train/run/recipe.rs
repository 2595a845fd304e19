//! Recipes: a model's training chain as a file (`recipes/*.ron`) that `hitogata train --recipe`
//! runs leg by leg, each leg an ordinary [`TrainJob`] for the one runner. A leg whose run folder
//! already holds a checkpoint continues it, and one that is done is skipped, so an interrupted
//! recipe picks up where it stopped.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::device::DeviceChoice;
use crate::engine::files::checkpoint::CheckpointError;
use crate::engine::model::ModelConfig;
use crate::engine::train::changes::RunChanges;
use crate::engine::train::config::{Algorithm, TrainConfig};
use crate::engine::train::run::run_dir::RunDir;
use crate::engine::train::run::spec::{DivergencePolicy, RunSpec, TrainJob};

/// Where the trained generator a leg starts from is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum GeneratorSource {
    /// A checkpoint, run directory or export, relative to the working directory.
    Path(PathBuf),
    /// A snapshot an earlier leg kept (`snapshots/step-N` of its run folder).
    Snapshot {
        /// The earlier leg's run name.
        leg: String,
        /// The snapshot's step.
        step: u64,
    },
}

/// How a leg starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LegStart {
    /// A new run from random weights.
    New {
        /// Objective (its paper's defaults).
        algorithm: Algorithm,
        /// Seed for weights, batches and noise.
        seed: u64,
        /// Network shapes (absent: the defaults, z 40, ngf and ndf 64).
        #[serde(default)]
        model: Option<ModelConfig>,
    },
    /// A new run whose generator starts from a trained one; its shapes are taken over.
    FromGenerator {
        /// The generator.
        generator: GeneratorSource,
        /// Objective of the new critic.
        algorithm: Algorithm,
        /// Seed.
        seed: u64,
        /// Width of the new critic (absent: the algorithm's default, 64).
        #[serde(default)]
        ndf: Option<usize>,
    },
    /// Continue the run of the leg with this name.
    Resume {
        /// That leg's run name.
        leg: String,
    },
}

/// One leg: a start, its changes, and the step to train to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Leg {
    /// Its run folder's name under the recipe's output folder.
    pub run: String,
    /// How it starts.
    pub start: LegStart,
    /// Settings on top of the start's (rates, batch, average, augmentation, critic view,
    /// output scale, detail anchor, a fresh critic...).
    #[serde(default)]
    pub changes: RunChanges,
    /// Train until the run has done this many steps.
    pub until: u64,
    /// Critic-only updates before its first step.
    #[serde(default)]
    pub critic_warmup: u64,
    /// Keep a generator export every N steps (0: never).
    #[serde(default)]
    pub snapshot_every: u64,
}

/// A training chain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    /// Image folder, relative to the working directory.
    pub data: PathBuf,
    /// The legs, in order.
    pub legs: Vec<Leg>,
}

impl Recipe {
    /// Reads a recipe file.
    pub fn load(path: &Path) -> Result<Self, CheckpointError> {
        let recipe: Self = crate::engine::files::checkpoint::read_ron(
            path,
            crate::engine::files::bounded_read::FileKind::SETTINGS,
        )?;
        recipe
            .check()
            .map_err(|message| CheckpointError::Malformed {
                path: path.to_path_buf(),
                message,
            })?;
        Ok(recipe)
    }

    /// Every leg refers only to legs before it, and run names are unique.
    fn check(&self) -> Result<(), String> {
        for (i, leg) in self.legs.iter().enumerate() {
            let earlier = |name: &str| self.legs[..i].iter().any(|l| l.run == name);
            match &leg.start {
                LegStart::Resume { leg: resumed } if *resumed != leg.run => {
                    return Err(format!(
                        "leg {}: a leg that resumes {resumed:?} runs in its folder: run must be {resumed:?}",
                        i + 1
                    ));
                }
                LegStart::Resume { .. } => {}
                _ if earlier(&leg.run) => {
                    return Err(format!(
                        "leg {}: run {:?} is used by an earlier leg",
                        i + 1,
                        leg.run
                    ));
                }
                _ => {}
            }
            let refers = match &leg.start {
                LegStart::Resume { leg } => Some(leg),
                LegStart::FromGenerator {
                    generator: GeneratorSource::Snapshot { leg, .. },
                    ..
                } => Some(leg),
                _ => None,
            };
            if let Some(name) = refers
                && !earlier(name)
            {
                return Err(format!("leg {}: no earlier leg is called {name:?}", i + 1));
            }
        }
        Ok(())
    }

    /// The job of leg `index` with its runs under `out`, or `None` when that run has reached
    /// its step already. A leg whose run folder holds a checkpoint continues it.
    pub fn job(
        &self,
        index: usize,
        out: &Path,
        device: DeviceChoice,
    ) -> Result<Option<TrainJob>, String> {
        let leg = &self.legs[index];
        let run = out.join(&leg.run);
        let dir = RunDir::new(&run);
        let existing = dir
            .has_checkpoint()
            .then(|| dir.checkpoint_config().map(|(step, _)| step))
            .transpose()
            .map_err(|e| e.to_string())?;
        if existing.is_some_and(|step| step >= leg.until) {
            return Ok(None);
        }
        let spec = match (&leg.start, existing) {
            (_, Some(_)) | (LegStart::Resume { .. }, None) => {
                // Started earlier (this leg interrupted, or the leg it resumes).
                let changes = if existing.is_some() && !matches!(leg.start, LegStart::Resume { .. })
                {
                    RunChanges::default()
                } else {
                    leg.changes.clone()
                };
                RunSpec::resume(changes)
            }
            (
                LegStart::New {
                    algorithm,
                    seed,
                    model,
                },
                None,
            ) => {
                let mut config = TrainConfig::for_algorithm(*algorithm);
                config.seed = *seed;
                if let Some(model) = model {
                    config.model = model.clone();
                }
                RunSpec::new(self.configured(config, &leg.changes)?)
            }
            (
                LegStart::FromGenerator {
                    generator,
                    algorithm,
                    seed,
                    ndf,
                },
                None,
            ) => {
                let mut config = TrainConfig::for_algorithm(*algorithm);
                config.seed = *seed;
                config.model.ndf = ndf.unwrap_or(config.model.ndf);
                config.detail_anchor = leg.changes.detail_anchor;
                let generator = match generator {
                    GeneratorSource::Path(path) => path.clone(),
                    GeneratorSource::Snapshot { leg, step } => {
                        RunDir::new(out.join(leg)).snapshot(*step)
                    }
                };
                // The generator brings its own output scale: a new one is a change to it.
                let after = RunChanges {
                    output_scale: leg.changes.output_scale,
                    augment_share: leg.changes.augment_share,
                    ..RunChanges::default()
                };
                let changes = RunChanges {
                    output_scale: None,
                    ..leg.changes.clone()
                };
                RunSpec::from_generator(self.configured(config, &changes)?, generator)
                    .with_changes(after)
            }
        };
        Ok(Some(TrainJob {
            device,
            sample_every: 250,
            checkpoint_every: 250,
            snapshot_every: leg.snapshot_every,
            max_steps: Some(leg.until),
            critic_warmup: if existing.is_some() {
                0
            } else {
                leg.critic_warmup
            },
            on_divergence: DivergencePolicy::Stop,
            ..TrainJob::new(&self.data, run, spec)
        }))
    }

    /// A new run's config with the leg's changes (all but the share, which is a run's state).
    fn configured(&self, config: TrainConfig, changes: &RunChanges) -> Result<TrainConfig, String> {
        config.changed(&RunChanges {
            augment_share: None,
            detail_anchor: None,
            ..changes.clone()
        })
    }
}

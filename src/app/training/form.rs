//! What the Training tab will run: its fields, and the one [`TrainJob`] they describe. No UI
//! here, so the rules (which fields a mode uses) are plain functions.

use std::path::{Path, PathBuf};

use crate::engine::device::DeviceChoice;
use crate::engine::train::{
    Algorithm, DivergencePolicy, RunChanges, RunSpec, TrainConfig, TrainJob,
};

/// How a run starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RunMode {
    /// A new run from random weights.
    #[default]
    New,
    /// A new run whose generator starts from the one the explorer shows, with a new critic.
    FineTune,
    /// Continue the run folder's checkpoint as it was saved.
    Resume,
    /// Continue it with the rates, batch, average, augmentation and output scale shown (and
    /// perhaps a fresh critic).
    ResumeWithChanges,
}

impl RunMode {
    /// Every mode, in the order the selector lists them.
    pub const ALL: [RunMode; 4] = [
        RunMode::New,
        RunMode::FineTune,
        RunMode::Resume,
        RunMode::ResumeWithChanges,
    ];

    /// Its name in the selector.
    pub fn label(self) -> &'static str {
        match self {
            RunMode::New => "new run",
            RunMode::FineTune => "fine-tune the explorer's generator",
            RunMode::Resume => "resume",
            RunMode::ResumeWithChanges => "resume with changes",
        }
    }

    /// Whether it continues the run folder's checkpoint.
    pub fn resumes(self) -> bool {
        matches!(self, RunMode::Resume | RunMode::ResumeWithChanges)
    }
}

/// The tab's settings.
#[derive(Clone, Debug)]
pub struct RunForm {
    /// Image folder.
    pub data_dir: String,
    /// Run folder.
    pub run_dir: String,
    /// How the run starts.
    pub mode: RunMode,
    /// Where it computes (for a remote server, the address and token are the two fields below).
    pub device: DeviceChoice,
    /// The `hitogata serve` address, as it printed it (remembered between runs).
    pub remote_address: String,
    /// The server's token (remembered in a file only its owner can read, never in the app's
    /// settings).
    pub remote_token: String,
    /// A new run's settings; while resuming, the checkpoint's (the starting point for changes).
    pub config: TrainConfig,
    /// Critic-only updates before a new critic steers a trained generator.
    pub critic_warmup: u64,
    /// Weight of the detail anchor (0: none), for a fine-tune with a lowpass critic.
    pub detail_anchor: f32,
    /// With "resume with changes": start the critic afresh.
    pub reset_critic: bool,
    /// Sample grid every N steps.
    pub sample_every: u64,
    /// Checkpoint every N steps (0: only on demand and at the end).
    pub checkpoint_every: u64,
    /// Keep a generator export every N steps (0: never).
    pub snapshot_every: u64,
    /// Stop at this total step count (0: run until stopped).
    pub target_steps: u64,
}

impl Default for RunForm {
    fn default() -> Self {
        // What the README recommends for a first run on a CPU: DCGAN learns fastest there, and
        // ngf/ndf 32 is the shipped faces model's width.
        let mut config = TrainConfig::for_algorithm(Algorithm::Dcgan);
        config.model = config.model.with_ngf(32).with_ndf(32);
        Self {
            data_dir: shipped_dataset("faces").display().to_string(),
            run_dir: "runs/faces".into(),
            mode: RunMode::New,
            device: DeviceChoice::Auto,
            remote_address: String::new(),
            remote_token: String::new(),
            config,
            critic_warmup: 100,
            detail_anchor: 0.0,
            reset_critic: false,
            sample_every: 50,
            checkpoint_every: 500,
            snapshot_every: 0,
            target_steps: 0,
        }
    }
}

/// A dataset shipped in assets/datasets.
pub fn shipped_dataset(name: &str) -> PathBuf {
    let local = PathBuf::from("assets/datasets").join(name);
    if local.exists() {
        local
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("assets/datasets")
            .join(name)
    }
}

impl RunForm {
    /// Whether the run gets a new critic next to a trained generator (it warms up first).
    pub fn fresh_critic_for_trained_generator(&self) -> bool {
        match self.mode {
            RunMode::FineTune => true,
            RunMode::ResumeWithChanges => self.reset_critic,
            RunMode::New | RunMode::Resume => false,
        }
    }

    /// Whether the detail anchor field means something: a fine-tune, or a resumed run that
    /// has an anchor.
    pub fn anchor_applies(&self) -> bool {
        match self.mode {
            RunMode::FineTune => true,
            RunMode::ResumeWithChanges => self.config.anchored(),
            RunMode::New | RunMode::Resume => false,
        }
    }

    /// The changes "resume with changes" makes.
    fn changes(&self) -> RunChanges {
        let c = &self.config;
        RunChanges {
            lr: Some(c.optimizer_g.lr()),
            critic_lr: Some(c.optimizer_c.lr()),
            ema_decay: Some(c.ema_decay),
            batch_size: Some(c.batch_size),
            augment: Some(c.augment),
            adaptive_augment: Some(c.adaptive_augment),
            critic_view: Some(c.critic_view),
            output_scale: Some(c.model.output_scale()),
            detail_anchor: self.anchor_applies().then_some(self.detail_anchor),
            reset_critic: self.reset_critic,
            critic_ndf: self.reset_critic.then_some(c.model.ndf),
            ..RunChanges::default()
        }
    }

    /// The device, with the remote fields filled in.
    pub fn device_choice(&self) -> Result<DeviceChoice, String> {
        match &self.device {
            DeviceChoice::Remote(_) => {
                if self.remote_address.trim().is_empty() {
                    return Err(
                        "give the remote server's address (hitogata serve prints it)".into(),
                    );
                }
                let token = self.remote_token.trim();
                Ok(DeviceChoice::Remote(crate::engine::device::RemoteTarget {
                    address: self
                        .remote_address
                        .trim()
                        .trim_start_matches("--device ")
                        .trim_start_matches("remote:")
                        .to_string(),
                    token: (!token.is_empty()).then(|| token.to_string()),
                }))
            }
            other => Ok(other.clone()),
        }
    }

    /// The job these settings describe; `explorer` is the generator the explorer shows.
    pub fn job(&self, explorer: Option<&Path>) -> Result<TrainJob, String> {
        // The fields may hold a loaded run's anchor: only a fine-tune has one to anchor to.
        let config = TrainConfig {
            detail_anchor: (self.mode == RunMode::FineTune && self.detail_anchor > 0.0)
                .then_some(self.detail_anchor),
            initial_generator: None,
            ..self.config.clone()
        };
        let spec = match self.mode {
            RunMode::New => RunSpec::new(config),
            RunMode::FineTune => {
                let generator = explorer
                    .ok_or("the explorer has no generator to fine-tune: open a checkpoint first")?;
                RunSpec::from_generator(config, generator)
            }
            RunMode::Resume => RunSpec::resume(RunChanges::default()),
            RunMode::ResumeWithChanges => RunSpec::resume(self.changes()),
        };
        Ok(TrainJob {
            critic_warmup: if self.fresh_critic_for_trained_generator() {
                self.critic_warmup
            } else {
                0
            },
            device: self.device_choice()?,
            sample_every: self.sample_every,
            checkpoint_every: self.checkpoint_every,
            snapshot_every: self.snapshot_every,
            max_steps: (self.target_steps > 0).then_some(self.target_steps),
            on_divergence: DivergencePolicy::RollBackAndPause,
            ..TrainJob::new(self.data_dir.trim(), self.run_dir.trim(), spec)
        })
    }
}

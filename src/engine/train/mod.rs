//! Training: configuration, one session that owns everything, and its checkpoints.

pub mod augment;
pub mod collapse;
pub mod config;
pub mod ema;
pub mod overrides;
pub mod run_dir;
pub mod session;
pub mod worker;

pub use augment::{AdaptiveAugment, Augment, AugmentOp};
pub use collapse::{CollapseChange, CollapseWarning, CollapseWatch};
pub use config::{Algorithm, TrainConfig};
pub use ema::GeneratorEma;
pub use overrides::ResumeOverrides;
pub use run_dir::RunDir;
pub use session::{Metrics, TrainError, TrainState, TrainingSession};
pub use worker::{TrainCommand, TrainEvent, TrainJob, TrainWorker};

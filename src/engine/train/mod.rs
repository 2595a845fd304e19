//! Training: configuration, one session that owns everything, and its checkpoints.

pub mod config;
pub mod session;

pub use config::{Algorithm, TrainConfig};
pub use session::{Metrics, TrainError, TrainingSession};

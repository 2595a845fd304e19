//! Training: a run's description (`spec`), the session that owns models and optimizers, the one
//! loop that drives it (`runner`) for the CLI and the app, and the app's worker thread.

pub mod augment;
pub mod changes;
pub mod collapse;
pub mod config;
pub mod ema;
pub mod error;
pub mod events;
pub mod losses;
pub mod optim_file;
pub mod recipe;
pub mod run_dir;
pub mod runner;
pub mod session;
mod session_io;
pub mod spec;
pub mod state;
pub mod streams;
pub mod worker;

pub use augment::{AdaptiveAugment, Augment, CriticView};
pub use changes::RunChanges;
pub use collapse::{CollapseChange, CollapseWarning, CollapseWatch};
pub use config::{Algorithm, TrainConfig};
pub use ema::GeneratorEma;
pub use error::TrainError;
pub use events::{StopCause, TrainCommand, TrainEvent};
pub use recipe::Recipe;
pub use run_dir::RunDir;
pub use runner::{CONNECTION_LOST, RunControl, RunError, RunObserver};
pub use session::TrainingSession;
pub use spec::{DivergencePolicy, RunSpec, RunStart, TrainJob};
pub use state::{Metrics, TrainState};
pub use worker::TrainWorker;

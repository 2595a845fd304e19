//! Training: a run's description (`spec`), the session that owns models and optimizers, the one
//! loop that drives it (`runner`) for the CLI and the app, and the app's worker thread.

pub mod augment;
pub mod changes;
pub mod config;
pub mod ema;
pub mod error;
pub mod losses;
pub mod optim;
pub mod optim_file;
pub mod run;
pub mod session;
mod session_io;
pub mod state;
pub mod streams;

pub use augment::{AdaptiveAugment, Augment, CriticView};
pub use changes::RunChanges;
pub use config::{Algorithm, TrainConfig};
pub use ema::GeneratorEma;
pub use error::TrainError;
pub use run::collapse::{CollapseChange, CollapseWatch};
pub use run::events::{StopCause, TrainCommand, TrainEvent};
pub use run::recipe::Recipe;
pub use run::run_dir::RunDir;
pub use run::runner::CONNECTION_LOST;
pub use run::spec::{DivergencePolicy, RunSpec, RunStart, TrainJob};
pub use run::worker::TrainWorker;
pub use session::TrainingSession;
pub use state::{Metrics, TrainState};

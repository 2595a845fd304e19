//! Drawing pictures from latent vectors: through burn's layers on any device, through
//! hitogata's own CPU path, and through the snapshots a run kept.

pub mod cpu_generator;
pub mod inference;
pub mod snapshots;

//! The engine: model, devices, data, latent vectors, checkpoints, training. Never imports UI code.

pub mod allocator;
pub mod atomic;
pub mod bookmarks;
pub mod checkpoint;
pub mod checkpoint_notes;
pub mod compare_worker;
pub mod critique;
pub mod data;
pub mod device;
pub mod directions;
pub mod eval;
pub mod history;
pub mod inference;
pub mod latent;
pub mod layers;
pub mod migrate;
pub mod model;
pub mod nearest;
pub mod optim;
pub mod picture_state;
#[cfg(feature = "remote")]
pub mod remote;
pub mod render;
pub mod snapshots;
pub mod train;
pub mod worker;

//! The engine: model, devices, data, latent vectors, checkpoints, training. Never imports UI code.
//! Folders by concern; the flat names below are the facade the binary, the tests and the fuzz
//! targets use (`hitogata::checkpoint`, `hitogata::latent`, ...).

pub mod analysis;
pub mod device;
pub mod draw;
pub mod files;
pub mod model;
pub mod train;
pub mod workers;

pub use analysis::{critique, directions, eval, layers, nearest};
#[cfg(feature = "remote")]
pub use device::remote;
pub use device::{allocator, choice as device_choice};
pub use draw::{cpu_generator, inference, snapshots};
pub use files::{
    atomic, bookmarks, bounded_read, checkpoint, checkpoint_files, checkpoint_notes, data, migrate,
    picture_state, render,
};
pub use model::latent;
pub use train::optim;
pub use workers::{compare_worker, inference_worker, mailbox};

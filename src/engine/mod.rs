//! The engine: model, devices, data, latent vectors, checkpoints, training. Never imports UI code.
//! Folders by concern; lib.rs re-exports what the binary, the tests and the fuzz targets use.

pub mod analysis;
pub mod device;
pub mod draw;
pub mod files;
pub mod model;
pub mod train;
pub mod workers;

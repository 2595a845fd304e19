//! hitogata: a latent-space debugger for a GAN that draws flat-style illustrated people.
//!
//! `engine` holds everything that is not UI (model, data, training, checkpoints) so that the
//! CLI and the desktop app drive the same code.

#[cfg(feature = "app")]
pub mod app;
pub mod engine;
pub mod fuzz;

pub use engine::*;

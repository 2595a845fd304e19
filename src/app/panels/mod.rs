//! The Explorer tab's panels, one per file. Each owns its state, draws from it and the app's
//! read-only [`Current`](super::Current), and returns the commands the app applies after layout.

pub mod bookmarks;
pub mod compare;
pub mod critic;
pub mod dimensions;
mod dimensions_toolbar;
pub mod explorer;
pub mod interpolation;
pub mod jitter;
pub mod layers;
pub mod nearest;

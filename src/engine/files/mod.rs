//! Everything hitogata reads or writes: checkpoints and their migration, checkpoint notes,
//! bookmarks, pictures that remember z, datasets, PyTorch checkpoints; read within bounds, written atomically.

pub mod atomic;
pub mod bookmarks;
pub mod bounded_read;
pub mod checkpoint;
pub mod checkpoint_files;
pub mod checkpoint_notes;
pub mod data;
pub mod migrate;
pub mod picture_state;
pub mod pytorch;
pub mod render;

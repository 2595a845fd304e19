//! hitogata: a latent-space debugger for a GAN that draws flat-style illustrated people.
//!
//! `engine` holds everything that is not UI (model, data, training, checkpoints) so that the
//! CLI and the desktop app drive the same code. It is private: the modules below are the
//! facade the binary, the tests and the fuzz targets use, and what none of them (nor the app)
//! uses is dead code the compiler reports.

#[cfg(feature = "app")]
pub mod app;
mod engine;
pub mod fuzz;

/// How the process allocates memory for tensors.
pub mod allocator {
    pub use crate::engine::device::allocator::tune_for_tensors;
}

/// Writing files atomically.
pub mod atomic {
    pub use crate::engine::files::atomic::write_atomic;
}

/// Bookmarked latent vectors.
pub mod bookmarks {
    pub use crate::engine::files::bookmarks::{
        Bookmark, BookmarkError, BookmarkFile, BookmarkStore, parse_tags,
    };
}

/// Reading files within a size limit, refusing devices and pipes.
pub mod bounded_read {
    pub use crate::engine::files::bounded_read::{FileKind, check_file};
}

/// Checkpoints: loading, saving, exporting.
pub mod checkpoint {
    pub use crate::engine::files::checkpoint::{
        ANCHOR_FILE, CRITIC_FILE, CheckpointError, GENERATOR_FILE, LoadedGenerator, MODEL_FILE,
        export_generator, export_generator_f16, load_generator, read_model_config, read_ron,
        resolve_checkpoint_dir, save_weights_f16, write_ron,
    };
}

/// A checkpoint's notes (directions, sensitivity), keyed by its content hash.
pub mod checkpoint_notes {
    pub use crate::engine::files::checkpoint_notes::{NotesStore, content_hash};
}

/// PyTorch checkpoints (DCGAN example, WassersteinGAN): opening, importing, exporting.
pub mod pytorch {
    pub use crate::engine::files::pytorch::{
        IMPORT_GRACE, Imported, ImportedFrom, KEPT_IMPORTS, export_pytorch_generator,
        import_pytorch, imported_from,
    };
}

/// The side-by-side worker thread.
pub mod compare_worker {
    pub use crate::engine::workers::compare_worker::{CompareEvent, CompareSource, CompareWorker};
}

/// hitogata's own CPU drawing path.
pub mod cpu_generator {
    pub use crate::engine::draw::cpu_generator::CpuGenerator;
    pub use crate::engine::model::ops_cpu::fast_tanh;
}

/// The critic's view of pictures and latent vectors.
pub mod critique {
    pub use crate::engine::analysis::critique::{
        critic_beside, fit_critic, gradient, nudge, score_output, scores, separation, subset,
    };
}

/// Training datasets.
pub mod data {
    pub use crate::engine::files::data::{
        DataError, Dataset, MAX_IMAGE_SIDE, PictureShape, SquareMode, decode_image,
        summarize_skipped,
    };
}

/// Where the model runs.
pub mod device {
    pub use crate::engine::device::{
        Backend, ComputeDevice, DeviceChoice, RemoteTarget, cpu_device, probe_adapters,
        select_device,
    };
}

/// Directions in latent space: strips, sensitivity, SeFa, PCA, attributes.
pub mod directions {
    pub use crate::engine::analysis::directions::{
        DirectionSet, Method, Strips, attribute, axis, dead, draw_strips, interpolate, pca, sefa,
        sensitivity, sensitivity_over, slerp, strip, strip_effect, strip_values, symmetric_eigen,
    };
}

/// `eval`'s statistics.
pub mod eval {
    pub use crate::engine::analysis::eval::{
        SwdConfig, faint_noise, looks_memorised, mean, median, moved, moved_at_most,
        multiscale_swd, multiscale_swd_many, nearest_neighbours, pixel_distance,
    };
}

/// Drawing pictures from latent vectors.
pub mod inference {
    pub use crate::engine::draw::inference::{Drawer, generate_images, latents_tensor};
}

/// The app's inference worker thread.
pub mod inference_worker {
    pub use crate::engine::workers::inference_worker::{InferenceEvent, InferenceWorker};
}

/// Latent vectors.
pub mod latent {
    pub use crate::engine::model::latent::{Latent, LatentFile, sample_batch, seeded_rng};
}

/// A generator layer's channels.
pub mod layers {
    pub use crate::engine::analysis::layers::{dead_channels, view_layer};
}

/// Reading older checkpoint formats.
pub mod migrate {
    pub use crate::engine::files::migrate::{read_model_file, read_train_config, read_train_state};
}

/// The generator and the critic.
pub mod model {
    pub use crate::engine::model::{
        Critic, DEFAULT_IMAGE_SIZE, Generator, IMAGE_SIZES, ModelConfig, Upsampling, ops,
        seeded_init,
    };
}

/// The nearest training pictures.
pub mod nearest {
    pub use crate::engine::analysis::nearest::NearestImages;
}

/// Optimizer settings.
pub mod optim {
    pub use crate::engine::train::optim::OptimizerConfig;
}

/// PNGs that remember their latent vectors.
pub mod picture_state {
    pub use crate::engine::files::picture_state::{PictureState, read_state, save_png_with_state};
}

/// Training on another machine.
#[cfg(feature = "remote")]
pub mod remote {
    pub use crate::engine::device::remote::{DEFAULT_PORT, TOKEN_ENV, read_token};
}

/// Pictures: grids, upscaling, GIFs, PNG bytes.
pub mod render {
    pub use crate::engine::files::render::{grid, png_bytes, save_gif, upscale};
}

/// The snapshots a run kept.
pub mod snapshots {
    pub use crate::engine::draw::snapshots::{
        SnapshotError, Timeline, list_snapshots, picture_changes, save_timeline_gif,
    };
}

/// Training: sessions, runs, the loop the CLI and the app share.
pub mod train {
    pub use crate::engine::train::losses::fine_detail;
    pub use crate::engine::train::optim_file::read as read_optimizer_file;
    pub use crate::engine::train::run::collapse::{
        COLLAPSE_REARM, COLLAPSE_THRESHOLD, COLLAPSE_WINDOW,
    };
    pub use crate::engine::train::{
        AdaptiveAugment, Algorithm, Augment, CONNECTION_LOST, CollapseChange, CollapseWatch,
        CriticView, DivergencePolicy, GeneratorEma, Metrics, Recipe, RunChanges, RunDir, RunSpec,
        RunStart, StopCause, TrainCommand, TrainConfig, TrainError, TrainEvent, TrainJob,
        TrainState, TrainWorker, TrainingSession,
    };

    /// The one training loop, for the CLI and the app.
    pub mod runner {
        pub use crate::engine::train::run::runner::{RunControl, RunError, RunObserver, run};
    }
}

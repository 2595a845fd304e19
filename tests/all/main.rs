//! hitogata's integration tests, as one crate so that they link once: a module per area,
//! sharing `common`. Run one area with `cargo test --release --test all -- ui_explorer::`.

mod common;

mod bounded_reads;
mod cli_debugger;
mod cli_pytorch;
mod cli_train;
mod disk_full;
mod engine_augment;
mod engine_bookmarks;
mod engine_checkpoint;
mod engine_collapse;
mod engine_cpu_generator;
mod engine_data;
mod engine_detail_anchor;
mod engine_directions;
mod engine_ema;
mod engine_eval;
mod engine_latent;
mod engine_model;
mod engine_ops;
mod engine_pytorch;
mod engine_runner;
mod engine_shapes_train;
mod engine_snapshots;
mod engine_train;
mod engine_train_worker;
mod fuzz_inputs;
mod measure_app;
mod remote;
mod shipped_models;
mod source_layout;
mod ui_explorer;
mod ui_faults;
mod ui_inside;
mod ui_pytorch;
mod ui_remote;
mod ui_training;

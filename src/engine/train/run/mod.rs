//! Driving a training run: what to start (spec, recipe), its directory, the loop that steps,
//! saves and reports (runner), the thread the app talks to (worker), and collapse watching.

pub mod collapse;
pub mod events;
pub mod recipe;
pub mod run_dir;
pub mod runner;
pub mod spec;
pub mod worker;

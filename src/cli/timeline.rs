//! `hitogata timeline`: one face through training — a latent vector drawn by every snapshot
//! a run kept, as a strip (and optionally a GIF), with how much the picture changed between
//! consecutive snapshots.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use hitogata::device::select_device;
use hitogata::render::{grid, upscale};
use hitogata::snapshots::{Timeline, picture_changes, save_timeline_gif};

/// Arguments of `hitogata timeline`.
#[derive(Args, Debug)]
pub struct TimelineArgs {
    /// Run directory whose `snapshots/` to use (train with `--snapshot-every N`).
    #[arg(long)]
    run: PathBuf,
    /// Seed of the latent vector drawn.
    #[arg(long, default_value_t = 0, conflicts_with = "z")]
    seed: u64,
    /// Draw the first latent vector of this file instead (as `generate` writes).
    #[arg(long)]
    z: Option<PathBuf>,
    /// The strip, oldest snapshot on the left (PNG).
    #[arg(long)]
    out: PathBuf,
    /// Also write the frames as a looping GIF.
    #[arg(long)]
    gif: Option<PathBuf>,
    /// Nearest-neighbour upscaling factor of the strip and the GIF.
    #[arg(long, default_value_t = 2)]
    scale: u32,
    #[command(flatten)]
    device: super::DeviceArgs,
}

/// Runs `hitogata timeline`; prints `STEP<TAB>CHANGE` per snapshot (mean absolute pixel
/// change from the snapshot before, 0–255; empty for the first).
pub fn run(args: TimelineArgs) -> anyhow::Result<()> {
    if !(1..=16).contains(&args.scale) {
        bail!("--scale must be between 1 and 16");
    }
    let device = select_device(&args.device.choice()?)?;
    super::announce_device(&device);
    let timeline = Timeline::load(&args.run, &device.device)?;
    for (step, why) in &timeline.skipped {
        eprintln!("skipped the snapshot of step {step}: {why}");
    }
    let dim = timeline.latent_dim();
    let z = super::one_latent(args.z.as_deref(), args.seed, dim, "the snapshots take")?;
    let frames = timeline.draw(&z);
    let changes = picture_changes(&frames);
    hitogata::atomic::write_atomic(
        &args.out,
        &hitogata::render::png_bytes(&upscale(&grid(&frames, frames.len(), 2), args.scale))?,
    )?;
    if let Some(gif) = &args.gif {
        save_timeline_gif(&frames, args.scale, gif)?;
    }
    for (k, step) in timeline.steps.iter().enumerate() {
        match k.checked_sub(1).map(|i| changes[i]) {
            Some(change) => println!("{step}\t{change:.2}"),
            None => println!("{step}\t"),
        }
    }
    Ok(())
}

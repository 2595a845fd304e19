//! `hitogata critic`: give a generator a critic of its own (for the app's critic panel): a new
//! DCGAN critic trained against the frozen generator, tested on held-out pictures.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use hitogata::checkpoint::{
    CRITIC_FILE, load_generator, read_model_config, resolve_checkpoint_dir, save_weights_f16,
};
use hitogata::critique::{fit_critic, separation, subset};
use hitogata::data::{Dataset, PictureShape, SquareMode};
use hitogata::device::select_device;

/// Arguments of `hitogata critic`.
#[derive(Args, Debug)]
pub struct CriticArgs {
    /// The generator (a checkpoint, run directory or export); the critic is written beside it.
    #[arg(long)]
    checkpoint: PathBuf,
    /// The pictures it was trained on.
    #[arg(long)]
    data: PathBuf,
    /// Critic-only updates (batch 64).
    #[arg(long, default_value_t = 600)]
    updates: u64,
    /// Pictures kept out of training to test the critic on (the last ones of the folder).
    #[arg(long, default_value_t = 500)]
    held_out: usize,
    /// Seed of the batches and the fresh generated pictures.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    device: super::DeviceArgs,
}

/// Runs `hitogata critic`; prints `accuracy<TAB>gap` of the held-out test on stdout.
pub fn run(args: CriticArgs) -> anyhow::Result<()> {
    let device = select_device(&args.device.choice()?)?;
    super::announce_device(&device);
    let dir = resolve_checkpoint_dir(&args.checkpoint)?;
    let shape = PictureShape::of(&read_model_config(&dir)?);
    let all = Dataset::load_folder_as(&args.data, SquareMode::Pad, shape)?;
    anyhow::ensure!(
        args.held_out >= 1 && args.held_out < all.len,
        "--held-out must leave pictures to train on: {} of {}",
        args.held_out,
        all.len
    );
    let train = Arc::new(subset(&all, 0..all.len - args.held_out));
    let held_out = subset(&all, all.len - args.held_out..all.len);
    let every = (args.updates / 10).max(1);
    let critic = fit_critic(
        &dir,
        train,
        args.updates,
        args.seed,
        &device.device,
        |done, loss| {
            if done.is_multiple_of(every) {
                eprintln!("critic: {done}/{} updates, loss {loss:.4}", args.updates);
            }
        },
    )?;
    let generator = load_generator(&dir, &device.device)?.generator;
    let s = separation(
        &generator,
        &critic,
        &held_out,
        args.seed ^ 0xC417,
        &device.device,
    );
    let path = dir.join(CRITIC_FILE);
    save_weights_f16(&critic, &path)?;
    println!("{}\t{}", s.accuracy, s.gap);
    eprintln!(
        "written to {}: on {} held-out and as many fresh generated pictures, {:.1} % told apart, mean score gap {:.2}",
        path.display(),
        args.held_out,
        100.0 * s.accuracy,
        s.gap
    );
    Ok(())
}

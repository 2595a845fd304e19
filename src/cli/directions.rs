//! `hitogata directions`: discovered latent directions of a checkpoint (SeFa or PCA).

use std::path::PathBuf;

use clap::Args;
use hitogata::checkpoint::load_generator;
use hitogata::device::select_device;
use hitogata::directions::{DirectionSet, Method, pca, sefa};

/// Arguments of `hitogata directions`.
#[derive(Args, Debug)]
pub struct DirectionsArgs {
    /// Checkpoint, generator export or run directory.
    #[arg(long)]
    checkpoint: PathBuf,
    /// sefa: factorise the first layer's weight (instant); pca: principal components of the
    /// first layer's activations over random z (seconds).
    #[arg(long, value_enum, default_value_t = Method::Sefa)]
    method: Method,
    /// How many directions (at most the latent size).
    #[arg(long, default_value_t = 10)]
    count: usize,
    /// pca: random latent vectors to measure.
    #[arg(long, default_value_t = 2048)]
    samples: usize,
    /// pca: their seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write the directions as RON (for `sweep --directions` and the app).
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    device: super::DeviceArgs,
}

/// Runs `hitogata directions`: one line per direction on stdout, `NAME<TAB>SCORE`.
pub fn run(args: DirectionsArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.count > 0, "--count must be at least 1");
    anyhow::ensure!(args.samples >= 2, "--samples must be at least 2");
    let device = select_device(&args.device.choice()?)?;
    super::announce_device(&device);
    let loaded = load_generator(&args.checkpoint, &device.device)?;
    let directions = match args.method {
        Method::Sefa => sefa(&loaded.generator, args.count),
        Method::Pca => pca(
            &loaded.generator,
            &device.device,
            args.samples,
            args.count,
            args.seed,
        ),
    };
    for d in &directions {
        println!("{}\t{}", d.name, d.score);
    }
    if let Some(out) = &args.out {
        DirectionSet {
            checkpoint: Some(args.checkpoint.clone()),
            directions,
        }
        .save(out)?;
        eprintln!("written to {}", out.display());
    }
    Ok(())
}

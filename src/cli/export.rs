//! `hitogata export`: a generator-only copy of a checkpoint, optionally in f16.

use std::path::PathBuf;

use clap::Args;
use hitogata::checkpoint::{export_generator, export_generator_f16, load_generator};
use hitogata::data::{Dataset, SquareMode};
use hitogata::device::{DeviceChoice, select_device};
use hitogata::model::{DEFAULT_PALETTE_SIZE, DEFAULT_PALETTE_WIDTH, widen_generator};
use hitogata::standing_stats::recompute_batch_norm_statistics;

/// Arguments of `hitogata export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Checkpoint, generator export or run directory.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Directory to write (replaced atomically if it exists).
    #[arg(long)]
    out: PathBuf,
    /// Store convolution weights as f16 (BatchNorm statistics stay f32).
    #[arg(long)]
    f16: bool,
    /// Write the copy with this output scale (1–2; see `train --output-scale`), same weights.
    #[arg(long)]
    output_scale: Option<f32>,
    /// Recompute the BatchNorm running statistics from this many generated latent vectors
    /// ("standing statistics", BigGAN): the weight average's own activation statistics instead
    /// of the raw weights' blended ones. The weights stay; seeded, so reproducible.
    #[arg(long, value_name = "SAMPLES")]
    standing_stats: Option<usize>,
    /// Widen the generator to this many feature maps in its last hidden layer (and as many
    /// times more in the others) without changing what it draws (Net2WiderNet): more capacity
    /// for a long run to start from (`train --init-generator`).
    #[arg(long, value_name = "NGF")]
    widen_ngf: Option<usize>,
    /// Give the generator an output palette (see `train --palette-size`): the most frequent
    /// colours of this image folder (the training data).
    #[arg(long, value_name = "DIR")]
    palette_from: Option<PathBuf>,
    /// Colours in the palette --palette-from makes (default 32); 0 removes a generator's
    /// palette.
    #[arg(long, value_name = "N")]
    palette_size: Option<usize>,
    /// Reach of the palette's pull, in 0–255 levels (default 6), with --palette-from.
    #[arg(long, value_name = "LEVELS")]
    palette_width: Option<f32>,
    /// Seed of the latent vectors --standing-stats draws and of --widen-ngf's weight shares.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Latent vectors per pass of --standing-stats.
const STANDING_STATS_BATCH: usize = 500;

/// Runs `hitogata export`.
pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let device = select_device(DeviceChoice::Cpu)?;
    let mut loaded = load_generator(&args.checkpoint, &device.device)?;
    if let Some(scale) = args.output_scale {
        loaded.config = loaded
            .config
            .clone()
            .with_checked_output_scale(scale)
            .map_err(anyhow::Error::msg)?;
        loaded.generator.set_output_scale(scale);
    }
    if let Some(samples) = args.standing_stats {
        anyhow::ensure!(samples > 0, "--standing-stats needs at least 1 sample");
        let batch = samples.min(STANDING_STATS_BATCH);
        let batches = samples.div_ceil(batch);
        loaded.generator = recompute_batch_norm_statistics(
            &loaded.generator,
            batches,
            batch,
            args.seed,
            &device.device,
        );
        eprintln!(
            "BatchNorm statistics recomputed from {} latent vectors (seed {})",
            batches * batch,
            args.seed
        );
    }
    if let Some(ngf) = args.widen_ngf {
        let old = loaded.config.ngf;
        (loaded.config, loaded.generator) =
            widen_generator(&loaded.config, &loaded.generator, ngf, args.seed)
                .map_err(anyhow::Error::msg)?;
        eprintln!(
            "widened from ngf {old} to {ngf} (seed {}): the same pictures",
            args.seed
        );
    }
    match (&args.palette_from, args.palette_size) {
        (_, Some(0)) => {
            loaded.config.output_palette = None;
            loaded.generator.set_output_palette(None);
        }
        (Some(dir), size) => {
            let data = Dataset::load_folder(dir, SquareMode::Pad)?;
            let palette = super::data_palette(
                &data,
                size.unwrap_or(DEFAULT_PALETTE_SIZE),
                args.palette_width.unwrap_or(DEFAULT_PALETTE_WIDTH),
            )?;
            loaded.config.output_palette = Some(palette.clone());
            loaded.generator.set_output_palette(Some(palette));
        }
        (None, _) => anyhow::ensure!(
            args.palette_size.is_none() && args.palette_width.is_none(),
            "--palette-size and --palette-width shape the palette --palette-from makes (or --palette-size 0 removes one)"
        ),
    }
    if args.f16 {
        export_generator_f16(&loaded.config, &loaded.generator, &args.out)?;
    } else {
        export_generator(&loaded.config, &loaded.generator, &args.out)?;
    }
    eprintln!(
        "generator of {} written to {}",
        loaded.dir.display(),
        args.out.display()
    );
    Ok(())
}

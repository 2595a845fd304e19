//! `hitogata sweep`: what each latent dimension or direction does, as one picture: a row per
//! dimension (or direction), its coordinate from −range to +range across.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use hitogata::checkpoint::load_generator;
use hitogata::checkpoint_notes::content_hash;
use hitogata::device::select_device;
use hitogata::directions::{DirectionSet, axis, sensitivity, strip, strip_values};
use hitogata::inference::Drawer;
use hitogata::latent::Latent;
use hitogata::picture_state::{PictureState, save_png_with_state};
use hitogata::render::{grid, upscale};

/// Arguments of `hitogata sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    /// Checkpoint, generator export or run directory.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Seed of the latent vector swept around.
    #[arg(long, default_value_t = 0, conflicts_with = "z")]
    seed: u64,
    /// Sweep around the first latent vector of this file instead (as `generate` writes).
    #[arg(long)]
    z: Option<PathBuf>,
    /// Latent dimensions to sweep, comma-separated (default: all).
    #[arg(long, value_delimiter = ',', conflicts_with = "directions")]
    dims: Option<Vec<usize>>,
    /// Sweep these directions instead (from `hitogata directions --out`).
    #[arg(long)]
    directions: Option<PathBuf>,
    /// Pictures per row.
    #[arg(long, default_value_t = 7)]
    steps: usize,
    /// The coordinate runs from −RANGE to +RANGE.
    #[arg(long, default_value_t = 2.0)]
    range: f32,
    /// Nearest-neighbour upscaling factor.
    #[arg(long, default_value_t = 1)]
    scale: u32,
    /// Output PNG.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    device: super::DeviceArgs,
}

/// Runs `hitogata sweep`; prints `NAME<TAB>SENSITIVITY` per row (mean pixel change per unit).
pub fn run(args: SweepArgs) -> anyhow::Result<()> {
    if args.steps < 2 {
        bail!("--steps must be at least 2");
    }
    if !(args.range > 0.0 && args.range.is_finite()) {
        bail!("--range must be positive");
    }
    if !(1..=16).contains(&args.scale) {
        bail!("--scale must be between 1 and 16");
    }
    let device = select_device(&args.device.choice()?)?;
    super::announce_device(&device);
    let loaded = load_generator(&args.checkpoint, &device.device)?;
    let dim = loaded.config.latent_dim;
    let z = super::one_latent(args.z.as_deref(), args.seed, dim, "the generator takes")?;
    let rows: Vec<(String, Vec<f32>)> = match (&args.directions, &args.dims) {
        (Some(path), _) => {
            let set = DirectionSet::load(path)?;
            if let Some(d) = set.directions.iter().find(|d| d.vector.len() != dim) {
                bail!(
                    "direction {:?} has {} entries; the generator takes {dim}",
                    d.name,
                    d.vector.len()
                );
            }
            set.directions
                .into_iter()
                .map(|d| (d.name, d.vector))
                .collect()
        }
        (None, Some(dims)) => {
            if let Some(bad) = dims.iter().find(|&&i| i >= dim) {
                bail!(
                    "--dims {bad}: the generator has dimensions 0 to {}",
                    dim - 1
                );
            }
            dims.iter()
                .map(|&i| (format!("z{i}"), axis(dim, i)))
                .collect()
        }
        (None, None) => (0..dim).map(|i| (format!("z{i}"), axis(dim, i))).collect(),
    };
    if rows.is_empty() {
        bail!("nothing to sweep");
    }
    let values = strip_values(args.steps, args.range);
    let latents: Vec<Latent> = rows
        .iter()
        .flat_map(|(_, d)| strip(&z, d, &values))
        .collect();
    let drawer = Drawer::new(&loaded.generator, &device.device);
    let images: Vec<_> = drawer
        .draw(&latents)
        .iter()
        .map(|img| upscale(img, args.scale))
        .collect();
    let state = PictureState {
        latents,
        psi: 1.0,
        checkpoint: Some(args.checkpoint.display().to_string()),
        checkpoint_hash: content_hash(&loaded.dir, &loaded.config).ok(),
        parent: None,
    };
    save_png_with_state(&grid(&images, args.steps, 2), &state, &args.out)?;
    let vectors: Vec<Vec<f32>> = rows.iter().map(|(_, d)| d.clone()).collect();
    let changes = sensitivity(&drawer, &z, &vectors, 0.5);
    for ((name, _), change) in rows.iter().zip(changes) {
        println!("{name}\t{change}");
    }
    eprintln!(
        "{} rows of {} written to {}",
        rows.len(),
        args.steps,
        args.out.display()
    );
    Ok(())
}

//! `hitogata generate`: the original bot's "make me a person", as PNGs plus the latents used.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use hitogata::checkpoint::load_generator;
use hitogata::device::{DeviceChoice, select_device};
use hitogata::inference::generate_images;
use hitogata::latent::{LatentFile, sample_batch};
use hitogata::render::{grid, save_png, upscale};

/// Arguments of `hitogata generate`.
#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Checkpoint, generator export or run directory.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Seed for the latent vectors (default: from the clock, printed).
    #[arg(long, conflicts_with = "z")]
    seed: Option<u64>,
    /// Latent vectors to draw, as written beside earlier outputs (RON).
    #[arg(long)]
    z: Option<PathBuf>,
    /// How many people to draw (with --seed).
    #[arg(long, default_value_t = 1)]
    count: usize,
    /// One grid image instead of one file per person.
    #[arg(long)]
    grid: bool,
    /// Output PNG. With several images and no --grid, -000, -001, … are added to the name.
    #[arg(long)]
    out: PathBuf,
    /// Nearest-neighbour upscaling factor (1 = 64×64).
    #[arg(long, default_value_t = 1)]
    scale: u32,
    /// Where to compute.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
}

fn numbered(path: &Path, i: usize) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!("{stem}-{i:03}.png"))
}

/// Runs `hitogata generate`.
pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    if args.count == 0 {
        bail!("--count must be at least 1");
    }
    if !(1..=64).contains(&args.scale) {
        bail!("--scale must be between 1 and 64");
    }
    let device = select_device(args.device)?;
    super::announce_device(&device);
    let loaded = load_generator(&args.checkpoint, &device.device)?;
    let dim = loaded.config.latent_dim;

    let (latents, seed) = match &args.z {
        Some(path) => {
            let file = LatentFile::load(path)?;
            (file.latents, file.seed)
        }
        None => {
            let seed = args.seed.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(0)
            });
            (sample_batch(seed, args.count, dim), Some(seed))
        }
    };
    if let Some(bad) = latents.iter().find(|l| l.dim() != dim) {
        bail!(
            "latent vectors have {} dimensions but the generator in {} expects {dim}",
            bad.dim(),
            loaded.dir.display()
        );
    }
    let images = generate_images(&loaded.generator, &latents, &device.device);
    let images: Vec<_> = images.iter().map(|i| upscale(i, args.scale)).collect();

    let mut written = Vec::new();
    if args.grid || images.len() == 1 {
        let img = if args.grid {
            let cols = (images.len() as f32).sqrt().ceil() as usize;
            grid(&images, cols, 2 * args.scale)
        } else {
            images[0].clone()
        };
        save_png(&img, &args.out)
            .with_context(|| format!("cannot write {}", args.out.display()))?;
        written.push(args.out.clone());
    } else {
        for (i, img) in images.iter().enumerate() {
            let path = numbered(&args.out, i);
            save_png(img, &path).with_context(|| format!("cannot write {}", path.display()))?;
            written.push(path);
        }
    }
    let z_path = args.out.with_extension("z.ron");
    LatentFile {
        seed,
        checkpoint: Some(loaded.dir.display().to_string()),
        latents: latents.clone(),
    }
    .save(&z_path)?;
    for path in &written {
        println!("{}", path.display());
    }
    eprintln!(
        "latent vectors{}: {}",
        seed.map(|s| format!(" (seed {s})")).unwrap_or_default(),
        z_path.display()
    );
    Ok(())
}

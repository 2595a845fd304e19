//! `hitogata generate`: the original bot's "make me a person", as PNGs plus the latents used.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use hitogata::checkpoint::load_generator;
use hitogata::checkpoint_notes::content_hash;
use hitogata::device::select_device;
use hitogata::inference::Drawer;
use hitogata::latent::Latent;
use hitogata::latent::{LatentFile, sample_batch};
use hitogata::picture_state::{PictureState, read_state, save_png_with_state};
use hitogata::render::{grid, upscale};

/// Arguments of `hitogata generate`.
#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Checkpoint, generator export or run directory (with --from-png: default the one the
    /// picture names).
    #[arg(long, required_unless_present = "from_png")]
    checkpoint: Option<PathBuf>,
    /// Seed for the latent vectors (default: from the clock, printed).
    #[arg(long, conflicts_with_all = ["z", "from_png"])]
    seed: Option<u64>,
    /// Latent vectors to draw, as written beside earlier outputs (RON).
    #[arg(long, conflicts_with = "from_png")]
    z: Option<PathBuf>,
    /// Draw again what a PNG written by hitogata shows (its latent vectors and ψ).
    #[arg(long, value_name = "FILE")]
    from_png: Option<PathBuf>,
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
    #[command(flatten)]
    device: super::DeviceArgs,
}

fn numbered(path: &Path, i: usize) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!("{stem}-{i:03}.png"))
}

/// The latent vectors to draw, and the seed they came from: a picture's remembered ones, a
/// latent file's, or `--count` from `--seed` (the clock's when none is given).
fn latents(
    args: &GenerateArgs,
    remembered: Option<&PictureState>,
    dim: usize,
) -> anyhow::Result<(Vec<Latent>, Option<u64>)> {
    Ok(match (&args.z, remembered) {
        (_, Some(state)) => (state.latents.clone(), None),
        (Some(path), None) => {
            let file = LatentFile::load(path)?;
            (file.latents, file.seed)
        }
        (None, None) => {
            let seed = args.seed.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(0)
            });
            (sample_batch(seed, args.count, dim), Some(seed))
        }
    })
}

/// Writes the pictures (one grid, one picture, or one numbered file each), each remembering
/// its latent vectors; the paths written.
fn write_pictures(
    args: &GenerateArgs,
    images: &[image::RgbImage],
    latents: &[Latent],
    state: impl Fn(Vec<Latent>) -> PictureState,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    if args.grid || images.len() == 1 {
        let img = if args.grid {
            let cols = (images.len() as f32).sqrt().ceil() as usize;
            grid(images, cols, 2 * args.scale)
        } else {
            images[0].clone()
        };
        save_png_with_state(&img, &state(latents.to_vec()), &args.out)
            .with_context(|| format!("cannot write {}", args.out.display()))?;
        written.push(args.out.clone());
    } else {
        for (i, img) in images.iter().enumerate() {
            let path = numbered(&args.out, i);
            save_png_with_state(img, &state(vec![latents[i].clone()]), &path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            written.push(path);
        }
    }
    Ok(written)
}

/// Runs `hitogata generate`.
pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    if args.count == 0 {
        bail!("--count must be at least 1");
    }
    if !(1..=64).contains(&args.scale) {
        bail!("--scale must be between 1 and 64");
    }
    let device = select_device(&args.device.choice()?)?;
    super::announce_device(&device);
    let remembered = args.from_png.as_deref().map(read_state).transpose()?;
    let checkpoint = match (&args.checkpoint, &remembered) {
        (Some(c), _) => c.clone(),
        (None, Some(state)) => state
            .checkpoint
            .as_ref()
            .map(PathBuf::from)
            .ok_or_else(|| anyhow::anyhow!("the picture names no checkpoint: give --checkpoint"))?,
        (None, None) => bail!("--checkpoint is needed"),
    };
    let loaded = load_generator(&checkpoint, &device.device)?;
    let dim = loaded.config.latent_dim;
    let hash = content_hash(&loaded.dir, &loaded.config).ok();
    if let Some(state) = &remembered
        && state.checkpoint_hash.is_some()
        && state.checkpoint_hash != hash
    {
        eprintln!(
            "note: the picture was drawn by another checkpoint ({}); drawing it with {}",
            state.checkpoint.as_deref().unwrap_or("unknown"),
            loaded.dir.display()
        );
    }
    let psi = remembered.as_ref().map_or(1.0, |s| s.psi);
    let (latents, seed) = latents(&args, remembered.as_ref(), dim)?;
    if let Some(bad) = latents.iter().find(|l| l.dim() != dim) {
        bail!(
            "latent vectors have {} dimensions but the generator in {} expects {dim}",
            bad.dim(),
            loaded.dir.display()
        );
    }
    let drawn: Vec<Latent> = latents.iter().map(|z| z.truncated(psi)).collect();
    let images = Drawer::new(&loaded.generator, &device.device).draw(&drawn);
    let images: Vec<_> = images.iter().map(|i| upscale(i, args.scale)).collect();
    let state = |latents: Vec<Latent>| PictureState {
        latents,
        psi,
        checkpoint: Some(checkpoint.display().to_string()),
        checkpoint_hash: hash.clone(),
        parent: remembered.as_ref().and_then(|s| s.parent),
    };

    let written = write_pictures(&args, &images, &latents, state)?;
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

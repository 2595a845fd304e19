//! `hitogata eval`: how close a generator's pictures are to the data, with honest references.

use std::path::PathBuf;

use clap::Args;
use hitogata::checkpoint::load_generator;
use hitogata::data::{Dataset, SquareMode};
use hitogata::device::{DeviceChoice, select_device};
use hitogata::eval::{SwdConfig, mean, median, multiscale_swd, nearest_neighbours};
use hitogata::inference::generate_images;
use hitogata::latent::{sample_batch, seeded_rng};
use image::RgbImage;
use rand::seq::SliceRandom;
use serde::Serialize;

/// Arguments of `hitogata eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Checkpoint, generator export or run directory.
    #[arg(long)]
    checkpoint: PathBuf,
    /// The dataset to compare with.
    #[arg(long)]
    data: PathBuf,
    /// Images per compared set (generated, and each real half).
    #[arg(long, default_value_t = 1000)]
    count: usize,
    /// Seed for the split, the latents, patches and projections.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to compute the generator.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
    /// Also write the figures as RON to this file.
    #[arg(long)]
    report: Option<PathBuf>,
}

/// Figures `eval` prints, also written with `--report`.
#[derive(Debug, Serialize)]
pub struct EvalReport {
    /// Images per set.
    pub count: usize,
    /// SWD ×1e3 per level (64, 32, 16 px) and average: generated vs real.
    pub swd_generated: Vec<f32>,
    /// Same for two disjoint real halves: the floor.
    pub swd_real_floor: Vec<f32>,
    /// Same for a blurred real half: what "blurry" scores.
    pub swd_blurred_real: Vec<f32>,
    /// Median nearest-training-image distance (RMS, 0–255) of generated images.
    pub nn_generated_median: f32,
    /// Smallest such distance.
    pub nn_generated_min: f32,
    /// Median nearest-training-image distance of held-out real images.
    pub nn_heldout_median: f32,
    /// Smallest such distance.
    pub nn_heldout_min: f32,
}

fn with_average(mut levels: Vec<f32>) -> Vec<f32> {
    let avg = mean(&levels);
    levels.push(avg);
    levels
}

/// Runs `hitogata eval`.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let data = Dataset::load_folder(&args.data, SquareMode::Pad)?;
    if data.len < 4 {
        anyhow::bail!(
            "{} has {} images: eval needs at least 4",
            args.data.display(),
            data.len
        );
    }
    let count = args.count.min(data.len / 2).max(1);
    let device = select_device(args.device)?;
    super::announce_device(&device);
    let loaded = load_generator(&args.checkpoint, &device.device)?;

    let mut order: Vec<usize> = (0..data.len).collect();
    order.shuffle(&mut seeded_rng(args.seed));
    let real_a: Vec<RgbImage> = order[..count].iter().map(|&i| data.image(i)).collect();
    let real_b: Vec<RgbImage> = order[count..2 * count]
        .iter()
        .map(|&i| data.image(i))
        .collect();
    let latents = sample_batch(args.seed ^ 0x5EED, count, loaded.config.latent_dim);
    let mut generated = Vec::with_capacity(count);
    for chunk in latents.chunks(64) {
        generated.extend(generate_images(&loaded.generator, chunk, &device.device));
    }
    let blurred: Vec<RgbImage> = real_b
        .iter()
        .map(|i| image::imageops::blur(i, 1.0))
        .collect();

    let swd = SwdConfig {
        seed: args.seed,
        ..SwdConfig::default()
    };
    eprintln!("computing SWD on {count} images per set…");
    let swd_generated = with_average(multiscale_swd(&generated, &real_a, &swd));
    let swd_real_floor = with_average(multiscale_swd(&real_b, &real_a, &swd));
    let swd_blurred_real = with_average(multiscale_swd(&blurred, &real_a, &swd));

    // Memorisation: generated vs held-out real, each against the rest of the data.
    let probe = count.min(200);
    let heldout: Vec<RgbImage> = order[..probe].iter().map(|&i| data.image(i)).collect();
    let train: Vec<RgbImage> = order[probe..].iter().map(|&i| data.image(i)).collect();
    let nn_gen: Vec<f32> = nearest_neighbours(&generated[..probe], &train)
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    let nn_real: Vec<f32> = nearest_neighbours(&heldout, &train)
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    let min = |v: &[f32]| v.iter().copied().fold(f32::INFINITY, f32::min);

    let report = EvalReport {
        count,
        nn_generated_median: median(&nn_gen),
        nn_generated_min: min(&nn_gen),
        nn_heldout_median: median(&nn_real),
        nn_heldout_min: min(&nn_real),
        swd_generated,
        swd_real_floor,
        swd_blurred_real,
    };
    println!(
        "checkpoint {} vs {} ({count} images per set)",
        loaded.dir.display(),
        args.data.display()
    );
    println!("SWD ×1e3          |  64 px |  32 px |  16 px |    avg");
    for (name, v) in [
        ("generated vs real", &report.swd_generated),
        ("real vs real      ", &report.swd_real_floor),
        ("blurred vs real   ", &report.swd_blurred_real),
    ] {
        println!(
            "{name} | {:6.1} | {:6.1} | {:6.1} | {:6.1}",
            v[0], v[1], v[2], v[3]
        );
    }
    println!(
        "nearest training image (RMS 0–255): generated median {:.1} (min {:.1}); held-out real median {:.1} (min {:.1})",
        report.nn_generated_median,
        report.nn_generated_min,
        report.nn_heldout_median,
        report.nn_heldout_min
    );
    if report.nn_generated_min < 0.5 * report.nn_heldout_min {
        println!(
            "warning: some generated images are much closer to a training image than real ones are: possible memorisation"
        );
    }
    if let Some(path) = &args.report {
        let text = ron::ser::to_string_pretty(&report, ron::ser::PrettyConfig::default())?;
        hitogata::atomic::write_atomic(path, text.as_bytes())?;
    }
    Ok(())
}

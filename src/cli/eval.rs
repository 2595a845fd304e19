//! `hitogata eval`: how close a generator's pictures are to the data, with honest references.

use std::path::PathBuf;

use clap::Args;
use hitogata::checkpoint::load_generator;
use hitogata::data::{Dataset, SquareMode};
use hitogata::device::{DeviceChoice, select_device};
use hitogata::eval::{SwdConfig, faint_noise, mean, median, multiscale_swd, nearest_neighbours};
use hitogata::inference::generate_images;
use hitogata::latent::{sample_batch, seeded_rng};
use image::RgbImage;
use rand::seq::SliceRandom;
use serde::Serialize;

/// Arguments of `hitogata eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Checkpoint, generator export or run directory; repeat it to compare several (for example
    /// a run's snapshots) against the same real sets.
    #[arg(long, required = true, num_args = 1..)]
    checkpoint: Vec<PathBuf>,
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
    /// Also write the figures as RON to this file (a list when several checkpoints are given).
    #[arg(long)]
    report: Option<PathBuf>,
}

/// Figures `eval` prints, also written with `--report`.
#[derive(Debug, Serialize)]
pub struct EvalReport {
    /// The checkpoint scored.
    pub checkpoint: PathBuf,
    /// Images per set.
    pub count: usize,
    /// SWD ×1e3 per level (64, 32, 16 px) and average: generated vs real.
    pub swd_generated: Vec<f32>,
    /// Same for two disjoint real halves: the floor.
    pub swd_real_floor: Vec<f32>,
    /// Same for a blurred real half: what "blurry" scores.
    pub swd_blurred_real: Vec<f32>,
    /// Same for a real half with invisible noise (±3 levels per channel): how much of the
    /// 64 px level faint noise on flat colours alone explains.
    pub swd_faint_noise_real: Vec<f32>,
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

fn print_row(name: &str, v: &[f32]) {
    println!(
        "{name} | {:6.1} | {:6.1} | {:6.1} | {:6.1}",
        v[0], v[1], v[2], v[3]
    );
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
    // Load every checkpoint first, so a bad path fails before minutes of work.
    let loaded = args
        .checkpoint
        .iter()
        .map(|path| load_generator(path, &device.device))
        .collect::<Result<Vec<_>, _>>()?;

    let mut order: Vec<usize> = (0..data.len).collect();
    order.shuffle(&mut seeded_rng(args.seed));
    let real_a: Vec<RgbImage> = order[..count].iter().map(|&i| data.image(i)).collect();
    let real_b: Vec<RgbImage> = order[count..2 * count]
        .iter()
        .map(|&i| data.image(i))
        .collect();
    let blurred: Vec<RgbImage> = real_b
        .iter()
        .map(|i| image::imageops::blur(i, 1.0))
        .collect();
    let swd = SwdConfig {
        seed: args.seed,
        ..SwdConfig::default()
    };
    eprintln!("computing SWD on {count} images per set…");
    let swd_real_floor = with_average(multiscale_swd(&real_b, &real_a, &swd));
    let swd_blurred_real = with_average(multiscale_swd(&blurred, &real_a, &swd));
    let noised: Vec<RgbImage> = real_b
        .iter()
        .enumerate()
        .map(|(k, i)| faint_noise(i, 3, args.seed ^ k as u64))
        .collect();
    let swd_faint_noise_real = with_average(multiscale_swd(&noised, &real_a, &swd));

    // Memorisation: generated vs held-out real, each against the rest of the data.
    let probe = count.min(200);
    let heldout: Vec<RgbImage> = order[..probe].iter().map(|&i| data.image(i)).collect();
    let train: Vec<RgbImage> = order[probe..].iter().map(|&i| data.image(i)).collect();
    let nn_real: Vec<f32> = nearest_neighbours(&heldout, &train)
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    let min = |v: &[f32]| v.iter().copied().fold(f32::INFINITY, f32::min);

    let mut reports = Vec::with_capacity(loaded.len());
    for generator in &loaded {
        let latents = sample_batch(args.seed ^ 0x5EED, count, generator.config.latent_dim);
        let mut generated = Vec::with_capacity(count);
        for chunk in latents.chunks(64) {
            generated.extend(generate_images(&generator.generator, chunk, &device.device));
        }
        let nn_gen: Vec<f32> = nearest_neighbours(&generated[..probe], &train)
            .into_iter()
            .map(|(d, _)| d)
            .collect();
        let report = EvalReport {
            checkpoint: generator.dir.clone(),
            count,
            nn_generated_median: median(&nn_gen),
            nn_generated_min: min(&nn_gen),
            nn_heldout_median: median(&nn_real),
            nn_heldout_min: min(&nn_real),
            swd_generated: with_average(multiscale_swd(&generated, &real_a, &swd)),
            swd_real_floor: swd_real_floor.clone(),
            swd_blurred_real: swd_blurred_real.clone(),
            swd_faint_noise_real: swd_faint_noise_real.clone(),
        };
        print_report(&report, &args.data);
        reports.push(report);
    }
    if reports.len() > 1 {
        println!("\nSWD ×1e3 average, best first:");
        let mut ranked: Vec<&EvalReport> = reports.iter().collect();
        ranked.sort_by(|a, b| a.swd_generated[3].total_cmp(&b.swd_generated[3]));
        for r in ranked {
            println!("{:6.1}  {}", r.swd_generated[3], r.checkpoint.display());
        }
    }
    if let Some(path) = &args.report {
        let pretty = ron::ser::PrettyConfig::default();
        let text = match reports.as_slice() {
            [one] => ron::ser::to_string_pretty(one, pretty)?,
            many => ron::ser::to_string_pretty(many, pretty)?,
        };
        hitogata::atomic::write_atomic(path, text.as_bytes())?;
    }
    Ok(())
}

fn print_report(report: &EvalReport, data: &std::path::Path) {
    println!(
        "checkpoint {} vs {} ({} images per set)",
        report.checkpoint.display(),
        data.display(),
        report.count
    );
    println!("SWD ×1e3          |  64 px |  32 px |  16 px |    avg");
    print_row("generated vs real", &report.swd_generated);
    print_row("real vs real     ", &report.swd_real_floor);
    print_row("blurred vs real  ", &report.swd_blurred_real);
    print_row("noise ±3 vs real ", &report.swd_faint_noise_real);
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
}

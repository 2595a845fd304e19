//! `hitogata eval`: how close a generator's pictures are to the data, with honest references.

use std::path::PathBuf;

use burn::tensor::Device;
use clap::Args;
use hitogata::checkpoint::{LoadedGenerator, load_generator};
use hitogata::data::{Dataset, PictureShape, SquareMode};
use hitogata::device::select_device;
use hitogata::eval::{
    SwdConfig, faint_noise, mean, median, moved_at_most, multiscale_swd_many, nearest_neighbours,
};
use hitogata::inference::Drawer;
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
    /// Evaluate this many times, with seeds SEED, SEED+1, ... (other real halves, latents,
    /// patches and projections), and report the means: one evaluation's average moves by up to
    /// ±1 from seed to seed on 1,000 faces, the 16 px level most.
    #[arg(long, default_value_t = 1)]
    repeats: usize,
    #[command(flatten)]
    device: super::DeviceArgs,
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
    /// The eval seeds the SWD figures are means over (`--repeats`).
    pub seeds: Vec<u64>,
    /// The pictures' side (the SWD levels are it, its half and its quarter).
    pub side: usize,
    /// SWD ×1e3 per level (64, 32, 16 px at 64 px) and average: generated vs real.
    pub swd_generated: Vec<f32>,
    /// Same for two disjoint real halves: the floor.
    pub swd_real_floor: Vec<f32>,
    /// Same for a blurred real half: what "blurry" scores.
    pub swd_blurred_real: Vec<f32>,
    /// Same for a real half with invisible noise (±3 levels per channel): how much of the
    /// 64 px level faint noise on flat colours alone explains.
    pub swd_faint_noise_real: Vec<f32>,
    /// Same for a real half with each image moved by at most one pixel (no colour changed):
    /// what an invisible change of position costs on pixel-aligned data.
    pub swd_moved_1px_real: Vec<f32>,
    /// The same, moved by at most three pixels.
    pub swd_moved_3px_real: Vec<f32>,
    /// The average SWD, generated vs real, for each seed: its spread is the measure's noise.
    pub swd_generated_per_seed: Vec<f32>,
    /// The same for the floor.
    pub swd_real_floor_per_seed: Vec<f32>,
    /// Median nearest-training-image distance (RMS, 0–255) of generated images (first seed).
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
        "{name:<19} | {:6.1} | {:6.1} | {:6.1} | {:6.1}",
        v[0], v[1], v[2], v[3]
    );
}

/// The figures of one eval seed.
struct SeedFigures {
    real_floor: Vec<f32>,
    blurred_real: Vec<f32>,
    faint_noise_real: Vec<f32>,
    moved_1px_real: Vec<f32>,
    moved_3px_real: Vec<f32>,
    /// One row per checkpoint.
    generated: Vec<Vec<f32>>,
    /// Nearest-training-image distances: held-out real, then one list per checkpoint.
    nearest: Option<(Vec<f32>, Vec<Vec<f32>>)>,
}

/// SWD of every checkpoint and of the references with one seed's split, latents and
/// projections; with `nearest`, also the memorisation distances.
fn evaluate_seed(
    seed: u64,
    nearest: bool,
    data: &Dataset,
    count: usize,
    loaded: &[LoadedGenerator],
    device: &Device,
) -> SeedFigures {
    let mut order: Vec<usize> = (0..data.len).collect();
    order.shuffle(&mut seeded_rng(seed));
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
        seed,
        ..SwdConfig::default()
    };
    eprintln!("computing SWD on {count} images per set (seed {seed})…");
    let noised: Vec<RgbImage> = real_b
        .iter()
        .enumerate()
        .map(|(k, i)| faint_noise(i, 3, seed ^ k as u64))
        .collect();
    let moved = |max_px: u32| -> Vec<RgbImage> {
        real_b
            .iter()
            .enumerate()
            .map(|(k, i)| moved_at_most(i, max_px, (seed << 32) ^ k as u64))
            .collect()
    };
    let (moved_1px, moved_3px) = (moved(1), moved(3));

    // Memorisation (first seed only): generated vs held-out real, each against the rest.
    let probe = count.min(200);
    let pools = nearest.then(|| {
        let heldout: Vec<RgbImage> = order[..probe].iter().map(|&i| data.image(i)).collect();
        let train: Vec<RgbImage> = order[probe..].iter().map(|&i| data.image(i)).collect();
        (heldout, train)
    });

    let mut generated_sets = Vec::with_capacity(loaded.len());
    let mut generated_nearest = Vec::new();
    for generator in loaded {
        let latents = sample_batch(seed ^ 0x5EED, count, generator.config.latent_dim);
        let generated = Drawer::new(&generator.generator, device).draw(&latents);
        if let Some((_, train)) = &pools {
            generated_nearest.push(nearest_distances(&generated[..probe], train));
        }
        generated_sets.push(generated);
    }
    // Every set against the same real half in one pass: its projections are made once.
    let mut others: Vec<&[RgbImage]> = vec![&real_b, &blurred, &noised, &moved_1px, &moved_3px];
    others.extend(generated_sets.iter().map(Vec::as_slice));
    let mut rows = multiscale_swd_many(&real_a, &others, &swd)
        .into_iter()
        .map(with_average);
    let mut next = || rows.next().expect("one row per set");
    SeedFigures {
        real_floor: next(),
        blurred_real: next(),
        faint_noise_real: next(),
        moved_1px_real: next(),
        moved_3px_real: next(),
        generated: rows.collect(),
        nearest: pools
            .map(|(heldout, train)| (nearest_distances(&heldout, &train), generated_nearest)),
    }
}

/// Each image's distance to its nearest image in `pool`.
fn nearest_distances(images: &[RgbImage], pool: &[RgbImage]) -> Vec<f32> {
    nearest_neighbours(images, pool)
        .into_iter()
        .map(|(d, _)| d)
        .collect()
}

/// Element-wise mean of equally long rows.
fn mean_rows<'a>(rows: impl Iterator<Item = &'a Vec<f32>>) -> Vec<f32> {
    let rows: Vec<&Vec<f32>> = rows.collect();
    (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i]).sum::<f32>() / rows.len() as f32)
        .collect()
}

/// Runs `hitogata eval`.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    if args.repeats == 0 {
        anyhow::bail!("--repeats must be at least 1");
    }
    let device = select_device(&args.device.choice()?)?;
    super::announce_device(&device);
    // Load every checkpoint first, so a bad path fails before minutes of work.
    let loaded = args
        .checkpoint
        .iter()
        .map(|path| load_generator(path, &device.device))
        .collect::<Result<Vec<_>, _>>()?;
    // The real pictures at the size and colours the generators draw: one for all of them.
    let shape = PictureShape::of(&loaded[0].config);
    if let Some(k) = loaded
        .iter()
        .position(|g| PictureShape::of(&g.config) != shape)
    {
        anyhow::bail!(
            "{} draws {} pictures and {} {}: compare generators of one size together",
            args.checkpoint[0].display(),
            shape,
            args.checkpoint[k].display(),
            PictureShape::of(&loaded[k].config)
        );
    }
    let data = Dataset::load_folder_as(&args.data, SquareMode::Pad, shape)?;
    if data.len < 4 {
        anyhow::bail!(
            "{} has {} images: eval needs at least 4",
            args.data.display(),
            data.len
        );
    }
    let count = args.count.min(data.len / 2).max(1);

    let seeds: Vec<u64> = (0..args.repeats as u64)
        .map(|k| args.seed.wrapping_add(k))
        .collect();
    let figures: Vec<SeedFigures> = seeds
        .iter()
        .enumerate()
        .map(|(k, &seed)| evaluate_seed(seed, k == 0, &data, count, &loaded, &device.device))
        .collect();
    let (nn_real, nn_generated) = figures[0]
        .nearest
        .clone()
        .expect("the first seed measures memorisation");
    let min = |v: &[f32]| v.iter().copied().fold(f32::INFINITY, f32::min);

    let mut reports = Vec::with_capacity(loaded.len());
    for (k, checkpoint) in args.checkpoint.iter().enumerate() {
        let report = EvalReport {
            checkpoint: checkpoint.clone(),
            side: shape.side,
            count,
            seeds: seeds.clone(),
            swd_generated: mean_rows(figures.iter().map(|f| &f.generated[k])),
            swd_real_floor: mean_rows(figures.iter().map(|f| &f.real_floor)),
            swd_blurred_real: mean_rows(figures.iter().map(|f| &f.blurred_real)),
            swd_faint_noise_real: mean_rows(figures.iter().map(|f| &f.faint_noise_real)),
            swd_moved_1px_real: mean_rows(figures.iter().map(|f| &f.moved_1px_real)),
            swd_moved_3px_real: mean_rows(figures.iter().map(|f| &f.moved_3px_real)),
            swd_generated_per_seed: figures.iter().map(|f| f.generated[k][3]).collect(),
            swd_real_floor_per_seed: figures.iter().map(|f| f.real_floor[3]).collect(),
            nn_generated_median: median(&nn_generated[k]),
            nn_generated_min: min(&nn_generated[k]),
            nn_heldout_median: median(&nn_real),
            nn_heldout_min: min(&nn_real),
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
    let seeds = match report.seeds.as_slice() {
        [_] => String::new(),
        many => format!(
            "; means over seeds {}",
            many.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    println!(
        "checkpoint {} vs {} ({} images per set{seeds})",
        report.checkpoint.display(),
        data.display(),
        report.count
    );
    let s = report.side;
    println!(
        "{:<19} | {:>3} px | {:>3} px | {:>3} px |    avg",
        "SWD ×1e3",
        s,
        s / 2,
        s / 4
    );
    print_row("generated vs real", &report.swd_generated);
    print_row("real vs real", &report.swd_real_floor);
    print_row("blurred vs real", &report.swd_blurred_real);
    print_row("noise ±3 vs real", &report.swd_faint_noise_real);
    print_row("moved ≤1 px vs real", &report.swd_moved_1px_real);
    print_row("moved ≤3 px vs real", &report.swd_moved_3px_real);
    if report.seeds.len() > 1 {
        let list = |v: &[f32]| {
            v.iter()
                .map(|x| format!("{x:.1}"))
                .collect::<Vec<_>>()
                .join(" / ")
        };
        println!(
            "average per seed: generated {}; real vs real {}",
            list(&report.swd_generated_per_seed),
            list(&report.swd_real_floor_per_seed)
        );
    }
    println!(
        "nearest training image (RMS 0–255): generated median {:.1} (min {:.1}); held-out real median {:.1} (min {:.1})",
        report.nn_generated_median,
        report.nn_generated_min,
        report.nn_heldout_median,
        report.nn_heldout_min
    );
    if hitogata::eval::looks_memorised(report.nn_generated_min, report.nn_heldout_min) {
        println!(
            "warning: some generated images are much closer to a training image than real ones are: possible memorisation"
        );
    }
}

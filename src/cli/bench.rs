//! `hitogata bench`: generator latency and training throughput per device and model width.

use std::sync::Arc;
use std::time::Instant;

use burn::module::Module;
use clap::Args;

use super::bench_profile;
use hitogata::data::Dataset;
use hitogata::device::{ComputeDevice, DeviceChoice, probe_adapters, select_device};
use hitogata::inference::{Drawer, latents_tensor};
use hitogata::latent::sample_batch;
use hitogata::model::{ModelConfig, Upsampling};
use hitogata::train::{TrainConfig, TrainingSession};
use image::RgbImage;

/// Arguments of `hitogata bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    device: super::DeviceArgs,
    /// Generator/critic widths to measure.
    #[arg(long, value_delimiter = ',', default_values_t = vec![64, 32])]
    ngf: Vec<usize>,
    /// Timed generator forward passes per measurement (median reported).
    #[arg(long, default_value_t = 30)]
    runs: usize,
    /// Timed training iterations per measurement (after one warm-up).
    #[arg(long, default_value_t = 2)]
    train_iters: usize,
    /// Training batch size.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Skip the training measurement.
    #[arg(long)]
    no_train: bool,
    /// Also measure the debugger on this checkpoint (e.g. checkpoints/faces): the Dimensions
    /// view's strips for every dimension, and finding SeFa and PCA directions.
    #[arg(long, value_name = "DIR")]
    debugger: Option<std::path::PathBuf>,
    /// Also time each convolution at the training shapes and one whole iteration in burn's
    /// profiling windows (device time on a GPU): where a training step's time goes.
    #[arg(long)]
    profile: bool,
    /// Generator upsampling to measure.
    #[arg(long, value_enum, default_value_t = Upsampling::Transposed)]
    upsampling: Upsampling,
}

fn median_ms(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[samples.len() / 2] * 1e3
}

fn forward_ms(device: &ComputeDevice, config: &ModelConfig, batch: usize, runs: usize) -> f64 {
    let generator = config.init_generator(&device.device).valid();
    let z = latents_tensor(&sample_batch(1, batch, config.latent_dim), &device.device);
    let once = || {
        let t = Instant::now();
        // Reading the pixels back is part of what the explorer waits for.
        let _ = generator.forward(z.clone()).into_data();
        t.elapsed().as_secs_f64()
    };
    for _ in 0..3 {
        once();
    }
    median_ms((0..runs.max(1)).map(|_| once()).collect())
}

/// Median time to draw `batch` pictures as the app and the CLI do ([`Drawer`]: the CPU path on
/// the CPU, burn's layers elsewhere), pixels included.
fn pictures_ms(device: &ComputeDevice, config: &ModelConfig, batch: usize, runs: usize) -> f64 {
    let generator = config.init_generator(&device.device).valid();
    let drawer = Drawer::new(&generator, &device.device);
    let latents = sample_batch(1, batch, config.latent_dim);
    let once = || {
        let t = Instant::now();
        let _ = drawer.draw(&latents);
        t.elapsed().as_secs_f64()
    };
    for _ in 0..3 {
        once();
    }
    median_ms((0..runs.max(1)).map(|_| once()).collect())
}

/// A WGAN session at `batch` on 256 synthetic pictures, as the bench trains it.
fn bench_session(
    device: &ComputeDevice,
    model: ModelConfig,
    batch: usize,
) -> anyhow::Result<TrainingSession> {
    let images: Vec<RgbImage> = (0..256u32)
        .map(|i| {
            RgbImage::from_fn(64, 64, |x, y| {
                image::Rgb([(x * 4) as u8, (y * 4) as u8, i as u8])
            })
        })
        .collect();
    let data = Arc::new(Dataset::from_images(&images));
    let config = TrainConfig {
        model,
        batch_size: batch,
        ..TrainConfig::default()
    };
    Ok(TrainingSession::new(config, data, &device.device)?)
}

fn train_rate(
    device: &ComputeDevice,
    model: ModelConfig,
    batch: usize,
    iters: usize,
) -> anyhow::Result<(f64, f64)> {
    let mut session = bench_session(device, model, batch)?;
    let config = session.config().clone();
    session.step()?;
    let t = Instant::now();
    for _ in 0..iters.max(1) {
        session.step()?;
    }
    let per_iter = t.elapsed().as_secs_f64() / iters.max(1) as f64;
    let images_per_iter = ((config.n_critic + 1) * batch) as f64;
    Ok((per_iter, images_per_iter / per_iter))
}

/// Runs `hitogata bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let mut devices = Vec::new();
    match args.device.choice()? {
        DeviceChoice::Auto => {
            devices.push(select_device(&DeviceChoice::Cpu)?);
            if probe_adapters().iter().any(|a| a.hardware) {
                devices.push(select_device(&DeviceChoice::Wgpu)?);
            }
        }
        choice => devices.push(select_device(&choice)?),
    }
    println!(
        "| device | ngf | G batch 1 (ms) | G batch 16 (ms) | pictures batch 1 (ms) | pictures batch 16 (ms) | train s/iter | train img/s |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for device in &devices {
        eprintln!(
            "measuring on {} ({:?} upsampling)",
            device.description, args.upsampling
        );
        for &ngf in &args.ngf {
            let config = ModelConfig::new()
                .with_ngf(ngf)
                .with_ndf(ngf)
                .with_upsampling(Some(args.upsampling));
            let b1 = forward_ms(device, &config, 1, args.runs);
            let b16 = forward_ms(device, &config, 16, args.runs.div_ceil(3));
            let p1 = pictures_ms(device, &config, 1, args.runs);
            let p16 = pictures_ms(device, &config, 16, args.runs.div_ceil(3));
            let (per_iter, rate) = if args.no_train {
                (f64::NAN, f64::NAN)
            } else {
                train_rate(device, config.clone(), args.batch_size, args.train_iters)?
            };
            let name = match device.backend {
                hitogata::device::Backend::Cpu => "cpu (flex)",
                hitogata::device::Backend::Wgpu => "wgpu",
                hitogata::device::Backend::Remote => "remote",
            };
            println!(
                "| {name} | {ngf} | {b1:.2} | {b16:.2} | {p1:.2} | {p16:.2} | {per_iter:.2} | {rate:.0} |"
            );
        }
    }
    if args.profile {
        profile_tables(&devices, &args)?;
    }
    if let Some(dir) = &args.debugger {
        debugger_tables(&devices, dir, args.runs)?;
    }
    Ok(())
}

/// `--profile`: each convolution's time, then a whole iteration's, per device and width.
fn profile_tables(devices: &[ComputeDevice], args: &BenchArgs) -> anyhow::Result<()> {
    let runs = args.train_iters.max(3);
    for device in devices {
        for &ngf in &args.ngf {
            let config = ModelConfig::new()
                .with_ngf(ngf)
                .with_ndf(ngf)
                .with_upsampling(Some(args.upsampling));
            bench_profile::print_header(device, ngf, args.batch_size);
            let convs = bench_profile::layer_table(device, &config, args.batch_size, runs)?;
            let mut session = bench_session(device, config, args.batch_size)?;
            let n_critic = session.config().n_critic;
            let (device_ms, wall_ms) = bench_profile::iteration_ms(device, &mut session, runs)?;
            let conv_ms = convs.per_iteration(n_critic);
            println!();
            println!(
                "WGAN iteration ({n_critic} critic + 1 generator step): {device_ms:.1} ms device time, \
                 {wall_ms:.1} ms wall; its convolutions ≈ {conv_ms:.1} ms ({:.0} % of device time)",
                100.0 * conv_ms / device_ms
            );
        }
    }
    Ok(())
}

/// The debugger's tables on checkpoint `dir`: strips, sensitivity and directions, the layer
/// view, and the critic.
fn debugger_tables(
    devices: &[ComputeDevice],
    dir: &std::path::Path,
    runs: usize,
) -> anyhow::Result<()> {
    println!();
    println!(
        "| device | strips: 40 × 7 pictures (ms) | with burn's layers (ms) | mean sensitivity, 16 z (ms) | with burn's layers (ms) | SeFa (ms) | PCA, 1024 z (ms) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for device in devices {
        let t = debugger_ms(device, dir, runs.div_ceil(3))?;
        println!(
            "| {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.1} | {:.0} |",
            device.description,
            t.strip_ms,
            t.burn_ms,
            t.sensitivity_ms,
            t.burn_sensitivity_ms,
            t.sefa_ms,
            t.pca_ms
        );
    }
    println!();
    for device in devices {
        let ms = layer_ms(device, dir, runs)?;
        println!(
            "| {} | layer view, 16x16 (ms) | {ms:.2} |",
            device.description
        );
    }
    println!();
    println!("| device | critic score, batch 1 (ms) | score + gradient in z (ms) |");
    println!("|---|---|---|");
    for device in devices {
        match critic_ms(device, dir, runs)? {
            Some((score, gradient)) => {
                println!("| {} | {score:.2} | {gradient:.2} |", device.description)
            }
            None => eprintln!(
                "{} has no critic: `hitogata critic` makes one",
                dir.display()
            ),
        }
    }
    Ok(())
}

/// The layer viewer's work: one layer's channels and statistics for one z (median).
fn layer_ms(device: &ComputeDevice, dir: &std::path::Path, runs: usize) -> anyhow::Result<f64> {
    let loaded = hitogata::checkpoint::load_generator(dir, &device.device)?;
    let z = hitogata::latent::Latent::from_seed(1, loaded.config.latent_dim);
    let once = || {
        let t = Instant::now();
        let _ = hitogata::layers::view_layer(&loaded.generator, &device.device, &z, 2, true);
        t.elapsed().as_secs_f64()
    };
    once();
    Ok(median_ms((0..runs.max(1)).map(|_| once()).collect()))
}

/// The critic panel's work: D(G(z)) for one picture, and with its gradient in z (medians).
fn critic_ms(
    device: &ComputeDevice,
    dir: &std::path::Path,
    runs: usize,
) -> anyhow::Result<Option<(f64, f64)>> {
    use hitogata::critique::{critic_beside, gradient, scores};
    let Some(critic) = critic_beside(dir, &device.device)? else {
        return Ok(None);
    };
    let loaded = hitogata::checkpoint::load_generator(dir, &device.device)?;
    let z = hitogata::latent::Latent::from_seed(1, loaded.config.latent_dim);
    let time = |f: &dyn Fn()| {
        f();
        median_ms(
            (0..runs.max(1))
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed().as_secs_f64()
                })
                .collect(),
        )
    };
    let score = time(&|| {
        let _ = scores(
            &loaded.generator,
            &critic,
            std::slice::from_ref(&z),
            &device.device,
        );
    });
    let grad = time(&|| {
        let _ = gradient(&loaded.generator, &critic, &z, &device.device);
    });
    Ok(Some((score, grad)))
}

/// The Dimensions view's work on a checkpoint: one strip request for every dimension (median
/// of `runs`), and finding directions once each.
fn debugger_ms(
    device: &ComputeDevice,
    dir: &std::path::Path,
    runs: usize,
) -> anyhow::Result<DebuggerTimes> {
    use hitogata::directions::{
        Strips, axis, draw_strips, pca, sefa, sensitivity_over, strip_effect, strip_values,
    };
    let loaded = hitogata::checkpoint::load_generator(dir, &device.device)?;
    let (g, dim) = (&loaded.generator, loaded.config.latent_dim);
    let (drawer, burn_layers) = (
        Drawer::new(g, &device.device),
        Drawer::with_burn_layers(g, &device.device),
    );
    let axes: Vec<Vec<f32>> = (0..dim).map(|i| axis(dim, i)).collect();
    let values = strip_values(7, 2.0);
    let strips = |drawer: &Drawer, seed: u64| {
        let z = hitogata::latent::Latent::from_seed(seed, dim);
        let t = Instant::now();
        // As the app's worker draws them: chunks of 32, the effect read off the pictures.
        let strips = Strips {
            z: &z,
            directions: &axes,
            values: &values,
            psi: 1.0,
        };
        let images = draw_strips(drawer, strips, 32, || false);
        let _ = strip_effect(&images.unwrap_or_default(), &values);
        t.elapsed().as_secs_f64()
    };
    strips(&drawer, 0);
    strips(&burn_layers, 0);
    // Alternated, so both see the same machine.
    let (mut fast, mut slow) = (Vec::new(), Vec::new());
    for seed in 1..=runs.max(1) as u64 {
        fast.push(strips(&drawer, seed));
        slow.push(strips(&burn_layers, seed));
    }
    let (strip_ms, burn_ms) = (median_ms(fast), median_ms(slow));
    // The mean sensitivity the app computes once per checkpoint (16 z, every dimension).
    let zs = hitogata::latent::sample_batch(0, 16, dim);
    let sensitivity = |d: &Drawer| {
        let t = Instant::now();
        let _ = sensitivity_over(d, &zs, &axes, 0.5);
        t.elapsed().as_secs_f64() * 1e3
    };
    let (sensitivity_ms, burn_sensitivity_ms) = (sensitivity(&drawer), sensitivity(&burn_layers));
    let t = Instant::now();
    let _ = sefa(g, 10);
    let sefa_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let _ = pca(g, &device.device, 1024, 10, 0);
    let pca_ms = t.elapsed().as_secs_f64() * 1e3;
    Ok(DebuggerTimes {
        strip_ms,
        burn_ms,
        sensitivity_ms,
        burn_sensitivity_ms,
        sefa_ms,
        pca_ms,
    })
}

/// What [`debugger_ms`] measures, in milliseconds.
struct DebuggerTimes {
    /// Strips as the app draws them.
    strip_ms: f64,
    /// The same strips through burn's own layers (the same as `strip_ms` off the CPU).
    burn_ms: f64,
    /// The mean sensitivity over 16 z, as the app and with burn's layers.
    sensitivity_ms: f64,
    burn_sensitivity_ms: f64,
    sefa_ms: f64,
    pca_ms: f64,
}

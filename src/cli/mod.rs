//! Command-line interface: one file per subcommand.

use clap::{Parser, Subcommand};

mod bench;
mod bench_profile;
mod critic;
mod directions;
mod eval;
mod export;
mod generate;
mod import;
mod json_events;
mod serve;
mod sweep;
mod timeline;
mod train;
mod train_terminal;

/// hitogata (人形): a latent-space debugger for a GAN that draws flat-style illustrated people.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Checkpoint for the desktop app (default: the last one used, else checkpoints/faces).
    #[arg(long)]
    checkpoint: Option<std::path::PathBuf>,
    /// Bookmarks file for the desktop app (default: in the platform's data directory).
    #[arg(long)]
    bookmarks: Option<std::path::PathBuf>,
    /// Where the desktop app runs the generator.
    #[command(flatten)]
    device: DeviceArgs,
}

/// Where a command computes, and the token a remote server needs.
#[derive(clap::Args, Debug, Clone)]
pub struct DeviceArgs {
    /// Where to compute: auto, cpu, wgpu, or remote:ADDRESS (a machine running `hitogata
    /// serve`: remote:ID@HOST:PORT over iroh, remote:ws://HOST:PORT over websocket).
    #[arg(long, default_value_t = hitogata::device::DeviceChoice::Auto)]
    pub device: hitogata::device::DeviceChoice,
    /// The remote server's token (default: the HITOGATA_TOKEN environment variable).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<std::path::PathBuf>,
}

impl DeviceArgs {
    /// The device asked for, with a remote server's token read in.
    pub fn choice(&self) -> anyhow::Result<hitogata::device::DeviceChoice> {
        use hitogata::device::DeviceChoice;
        match &self.device {
            DeviceChoice::Remote(target) => {
                let token = hitogata::remote::read_token(self.token_file.as_deref())
                    .map_err(anyhow::Error::msg)?;
                Ok(DeviceChoice::Remote(hitogata::device::RemoteTarget {
                    token,
                    ..target.clone()
                }))
            }
            _ if self.token_file.is_some() => {
                anyhow::bail!("--token-file is for --device remote:ADDRESS")
            }
            other => Ok(other.clone()),
        }
    }
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
    /// Train a GAN on a folder of images (resumable; Ctrl-C saves a checkpoint).
    Train(train::TrainArgs),
    /// Draw people from a checkpoint as PNGs, with the latent vectors used beside them.
    Generate(generate::GenerateArgs),
    /// Write a generator-only export of a checkpoint (what the app loads), optionally f16.
    Export(export::ExportArgs),
    /// Turn a PyTorch DCGAN or WGAN generator (.pth, and its critic) into a hitogata checkpoint.
    Import(import::ImportArgs),
    /// Score a generator against a dataset: multi-scale SWD and a memorisation check.
    Eval(eval::EvalArgs),
    /// Measure generator latency and training throughput on each available device.
    Bench(bench::BenchArgs),
    /// Give a generator a critic of its own (trained against it, tested on held-out pictures).
    Critic(critic::CriticArgs),
    /// Discover latent directions of a checkpoint (SeFa or PCA), optionally saved as RON.
    Directions(directions::DirectionsArgs),
    /// Draw what each latent dimension or direction does: a row each, swept across.
    Sweep(sweep::SweepArgs),
    /// Draw one face through training: a latent vector by every snapshot a run kept.
    Timeline(timeline::TimelineArgs),
    /// Lend this machine's device (a GPU) to hitogata on another machine: train there, compute here.
    Serve(serve::ServeArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Train(args)) => train::run(args),
        Some(Command::Generate(args)) => generate::run(args),
        Some(Command::Bench(args)) => bench::run(args),
        Some(Command::Eval(args)) => eval::run(args),
        Some(Command::Export(args)) => export::run(args),
        Some(Command::Import(args)) => import::run(args),
        Some(Command::Directions(args)) => directions::run(args),
        Some(Command::Critic(args)) => critic::run(args),
        Some(Command::Sweep(args)) => sweep::run(args),
        Some(Command::Timeline(args)) => timeline::run(args),
        Some(Command::Serve(args)) => serve::run(args),
        None => run_app(hitogata::app::AppOptions {
            checkpoint: cli.checkpoint,
            bookmarks_path: cli.bookmarks,
            device: cli.device.choice()?,
            fresh: false,
        }),
    }
}

/// The one latent vector a command draws around: the first of `file` (as `generate` writes
/// them) or the vector of `seed`; it must have `dim` entries (`what` takes them).
pub fn one_latent(
    file: Option<&std::path::Path>,
    seed: u64,
    dim: usize,
    what: &str,
) -> anyhow::Result<hitogata::latent::Latent> {
    let z = match file {
        Some(path) => hitogata::latent::LatentFile::load(path)?
            .latents
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("{} holds no latent vector", path.display()))?,
        None => hitogata::latent::Latent::from_seed(seed, dim),
    };
    if z.dim() != dim {
        anyhow::bail!("the latent vector has {} entries; {what} {dim}", z.dim());
    }
    Ok(z)
}

/// Prints the chosen device once, clearly, to stderr.
pub fn announce_device(device: &hitogata::device::ComputeDevice) {
    eprintln!("device: {}", device.description);
}

/// Opens the desktop window (wgpu renderer).
fn run_app(options: hitogata::app::AppOptions) -> anyhow::Result<()> {
    let native = eframe::NativeOptions {
        renderer: eframe::Renderer::Wgpu,
        viewport: egui::ViewportBuilder::default()
            .with_title("hitogata")
            .with_inner_size([1280.0, 860.0]),
        ..Default::default()
    };
    eframe::run_native(
        "hitogata",
        native,
        Box::new(move |cc| Ok(Box::new(hitogata::app::HitogataApp::new(cc, options)))),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}

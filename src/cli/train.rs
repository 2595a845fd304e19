//! `hitogata train`: the flags become one [`TrainJob`]; the engine's runner trains it and
//! `train_terminal.rs` draws its events as a progress bar and log lines.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::bail;
use clap::{Args, ValueEnum};
use hitogata::data::SquareMode;
use hitogata::migrate;
use hitogata::model::{DEFAULT_IMAGE_SIZE, Upsampling};
use hitogata::train::runner;
use hitogata::train::{
    AdaptiveAugment, Algorithm, Augment, CriticView, DivergencePolicy, RunChanges, RunSpec,
    TrainConfig, TrainEvent, TrainJob,
};

use super::train_terminal::{CtrlC, Terminal};

/// One augmentation, as named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AugmentOp {
    /// Brightness, saturation and contrast.
    Color,
    /// Random shifts.
    Translation,
    /// Random cut-out squares.
    Cutout,
    /// All three (DiffAugment's recommended policy).
    All,
    /// None: switch augmentation off.
    None,
}

/// What the critic sees of every picture, as named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ViewArg {
    /// The whole picture.
    Full,
    /// 4×4 block averages: the coarse colour layout only.
    Lowpass,
    /// 2×2 block averages: the 32 px layout.
    Lowpass2,
}

/// Arguments of `hitogata train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Folder of images (searched recursively: PNG, JPEG, WebP, BMP, GIF).
    #[arg(long, required_unless_present = "recipe")]
    data: Option<PathBuf>,
    /// Run directory: checkpoint/, generator/, samples/ (and snapshots/) are written here
    /// (with --recipe: one folder per leg under it).
    #[arg(long)]
    run: PathBuf,
    /// Run a recipe file (a model's training chain, e.g. recipes/faces.ron) leg by leg; an
    /// interrupted recipe continues where it stopped. Only --run, --device and --json apply.
    #[arg(long, value_name = "FILE")]
    recipe: Option<PathBuf>,
    /// Train until the run has done this many generator steps in total.
    #[arg(long, default_value_t = 1000)]
    steps: u64,
    /// Continue the run directory's checkpoint instead of starting a new run.
    #[arg(long)]
    resume: bool,
    /// Objective (new runs).
    #[arg(long, value_enum, default_value_t = Algorithm::Wgan)]
    algo: Algorithm,
    #[command(flatten)]
    device: super::DeviceArgs,
    /// Seed for weights, batches and noise (new runs).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write every event (data, start, progress, samples, checkpoints, warnings, stop) as one
    /// JSON object per line on stdout, for scripts.
    #[arg(long)]
    json: bool,
    /// Start a new run's generator from a trained one (a checkpoint, run directory or export,
    /// e.g. checkpoints/faces) instead of random weights; its shapes become the run's.
    #[arg(long, value_name = "DIR")]
    init_generator: Option<PathBuf>,

    /// Write a sample grid every N steps (0: only at the end).
    #[arg(long, default_value_t = 100, help_heading = "Cadence")]
    sample_every: u64,
    /// Save a checkpoint every N steps (0: only at the end).
    #[arg(long, default_value_t = 500, help_heading = "Cadence")]
    checkpoint_every: u64,
    /// Keep a generator export under snapshots/ every N steps (0: never), to pick the best
    /// one afterwards with `hitogata eval`.
    #[arg(long, default_value_t = 0, help_heading = "Cadence")]
    snapshot_every: u64,

    /// Training configuration as RON (new runs); the flags override it.
    #[arg(long, value_name = "FILE", help_heading = "Model shape (new runs)")]
    config: Option<PathBuf>,
    /// Generator width.
    #[arg(long, help_heading = "Model shape (new runs)")]
    ngf: Option<usize>,
    /// Critic width (on --resume with --reset-critic: the fresh critic's).
    #[arg(long, help_heading = "Model shape (new runs)")]
    ndf: Option<usize>,
    /// Latent size.
    #[arg(long, help_heading = "Model shape (new runs)")]
    latent_dim: Option<usize>,
    /// Picture size: 32, 64, 128 or 256 (the data folder's pictures are resized to it).
    #[arg(long, help_heading = "Model shape (new runs)")]
    image_size: Option<usize>,
    /// Train on grey pictures (MNIST-like data; colour pictures are turned to their luma).
    #[arg(long, help_heading = "Model shape (new runs)")]
    grey: bool,
    /// How the generator upsamples: transposed (DCGAN) or resize (no checkerboard speckle).
    #[arg(long, value_enum, help_heading = "Model shape (new runs)")]
    upsampling: Option<Upsampling>,
    /// BatchNorm in the critic (true/false; DCGAN's default true, WGAN's false).
    #[arg(long, help_heading = "Model shape (new runs)")]
    critic_batch_norm: Option<bool>,
    /// Generator output clamp(S · tanh, -1, 1), S in [1, 2]: reaches pure white and black.
    /// Also on --resume and with --init-generator (the weights stay).
    #[arg(long, help_heading = "Model shape (new runs)")]
    output_scale: Option<f32>,

    /// Learning rate of both optimizers (also on --resume: anneals, moments kept).
    #[arg(long, help_heading = "Optimisation")]
    lr: Option<f64>,
    /// Learning rate of the critic alone (also on --resume).
    #[arg(long, help_heading = "Optimisation")]
    critic_lr: Option<f64>,
    /// Images per batch (also on --resume).
    #[arg(long, help_heading = "Optimisation")]
    batch_size: Option<usize>,
    /// Critic updates per generator update.
    #[arg(long, help_heading = "Optimisation")]
    n_critic: Option<usize>,
    /// Decay of the generator weight average samples and exports use (0: off; default
    /// 0.999; also on --resume).
    #[arg(long, help_heading = "Optimisation")]
    ema: Option<f32>,
    /// The WGAN paper's 100-critic-step warm-up schedule.
    #[arg(long, help_heading = "Optimisation")]
    warmup: bool,

    /// DiffAugment of what the critic sees: a comma-separated list of color, translation,
    /// cutout, all, none (also on --resume).
    #[arg(long, value_enum, value_delimiter = ',', help_heading = "Augmentation")]
    augment: Option<Vec<AugmentOp>>,
    /// How far the color augmentation goes, in (0, 1] (also on --resume).
    #[arg(long, help_heading = "Augmentation")]
    color_strength: Option<f32>,
    /// Adaptive augmentation (ADA) steering E[sign D(real)] to this target (ADA's 0.6); 0
    /// turns it off (also on --resume).
    #[arg(long, help_heading = "Augmentation")]
    ada_target: Option<f32>,
    /// Share of the critic's images augmented, in [0, 1]: fixed, or where ADA starts.
    #[arg(long, help_heading = "Augmentation")]
    augment_share: Option<f32>,
    /// What the critic sees of every picture (also on --resume).
    #[arg(long, value_enum, help_heading = "Augmentation")]
    critic_view: Option<ViewArg>,
    /// How non-square images become square.
    #[arg(long, value_enum, default_value_t = SquareMode::Pad, help_heading = "Augmentation")]
    square: SquareMode,

    /// Critic-only updates before the first generator step, for a new critic
    /// (--init-generator, --reset-critic).
    #[arg(
        long,
        default_value_t = 0,
        value_name = "N",
        help_heading = "Fine-tuning"
    )]
    critic_warmup: u64,
    /// With --init-generator: pull the fine detail towards the initial generator's with this
    /// weight (for a lowpass --critic-view). On --resume: change the weight.
    #[arg(long, value_name = "WEIGHT", help_heading = "Fine-tuning")]
    detail_anchor: Option<f32>,
    /// On --resume: start the critic afresh (weights and optimizer), keeping the generator.
    #[arg(long, help_heading = "Fine-tuning")]
    reset_critic: bool,
}

impl TrainArgs {
    /// The flags that shape a new run's model, which a resumed run or one from a trained
    /// generator takes from its checkpoint instead.
    fn shape_flags(&self) -> Vec<&'static str> {
        [
            (self.ngf.is_some(), "--ngf"),
            (self.latent_dim.is_some(), "--latent-dim"),
            (self.upsampling.is_some(), "--upsampling"),
            (self.image_size.is_some(), "--image-size"),
            (self.grey, "--grey"),
        ]
        .into_iter()
        .filter_map(|(given, name)| given.then_some(name))
        .collect()
    }
}

fn critic_view(arg: ViewArg) -> CriticView {
    match arg {
        ViewArg::Full => CriticView::Full,
        ViewArg::Lowpass => CriticView::Lowpass(4),
        ViewArg::Lowpass2 => CriticView::Lowpass(2),
    }
}

fn augment_policy(ops: &[AugmentOp]) -> Augment {
    let mut policy = Augment::default();
    for op in ops {
        match op {
            AugmentOp::Color => policy.color = true,
            AugmentOp::Translation => policy.translation = true,
            AugmentOp::Cutout => policy.cutout = true,
            AugmentOp::All => policy = Augment::ALL,
            AugmentOp::None => policy = Augment::default(),
        }
    }
    policy
}

/// `--ada-target`: 0 is off.
fn adaptive_augment(target: f32) -> Option<AdaptiveAugment> {
    (target != 0.0).then(|| AdaptiveAugment::with_target(target))
}

/// The changes the flags ask of a run once built (a resumed one, or the output scale and
/// augmented share of a new one).
fn changes(args: &TrainArgs) -> RunChanges {
    RunChanges {
        lr: args.lr,
        critic_lr: args.critic_lr,
        ema_decay: args.ema,
        batch_size: args.batch_size,
        augment: args.augment.as_deref().map(augment_policy),
        color_strength: args.color_strength,
        adaptive_augment: args.ada_target.map(adaptive_augment),
        augment_share: args.augment_share,
        critic_view: args.critic_view.map(critic_view),
        output_scale: args.output_scale,
        detail_anchor: args.detail_anchor,
        reset_critic: args.reset_critic,
        critic_ndf: args.ndf,
        critic_batch_norm: args.critic_batch_norm,
    }
}

/// A new run's configuration: the defaults (or --config), then the flags.
fn new_config(args: &TrainArgs) -> anyhow::Result<TrainConfig> {
    let mut config = match &args.config {
        Some(path) => migrate::read_train_config(path)?,
        None => TrainConfig::for_algorithm(args.algo),
    };
    config.seed = args.seed;
    let model = &mut config.model;
    model.ngf = args.ngf.unwrap_or(model.ngf);
    model.ndf = args.ndf.unwrap_or(model.ndf);
    model.latent_dim = args.latent_dim.unwrap_or(model.latent_dim);
    model.critic_batch_norm = args.critic_batch_norm.unwrap_or(model.critic_batch_norm);
    if let Some(v) = args.upsampling {
        model.upsampling = Some(v);
    }
    if let Some(size) = args.image_size {
        model.image_size = (size != DEFAULT_IMAGE_SIZE).then_some(size);
    }
    if args.grey {
        model.channels = Some(1);
    }
    model.check().map_err(anyhow::Error::msg)?;
    config.n_critic = args.n_critic.unwrap_or(config.n_critic);
    config.warmup_schedule |= args.warmup;
    config.detail_anchor = args.detail_anchor;
    Ok(config)
}

/// The job the flags describe.
fn job(args: &TrainArgs) -> anyhow::Result<TrainJob> {
    let spec = if args.resume {
        if args.init_generator.is_some() {
            bail!("--init-generator starts a new run; a resumed run keeps its own generator");
        }
        let ignored: Vec<&str> = args
            .shape_flags()
            .into_iter()
            .chain(args.config.is_some().then_some("--config"))
            .chain(args.n_critic.is_some().then_some("--n-critic"))
            .chain(args.warmup.then_some("--warmup"))
            .collect();
        if !ignored.is_empty() {
            bail!(
                "{} shape a new run; a resumed run keeps its checkpoint's",
                ignored.join(", ")
            );
        }
        RunSpec::resume(changes(args))
    } else {
        if args.reset_critic {
            bail!("--reset-critic applies to --resume only: a new run's critic is fresh anyway");
        }
        let from_generator = args.init_generator.is_some();
        // A trained generator brings its own output scale: a new one is a change to it.
        let config = new_config(args)?
            .changed(&RunChanges {
                output_scale: args.output_scale.filter(|_| !from_generator),
                augment_share: None,
                detail_anchor: None,
                // A new run's critic shape is in its config already.
                critic_ndf: None,
                critic_batch_norm: None,
                ..changes(args)
            })
            .map_err(anyhow::Error::msg)?;
        // What is not part of a new run's config: the augmented share (the run's state) and
        // the output scale of a trained generator's weights.
        let after = RunChanges {
            output_scale: args.output_scale.filter(|_| from_generator),
            augment_share: args.augment_share,
            ..RunChanges::default()
        };
        match &args.init_generator {
            Some(dir) => {
                if !args.shape_flags().is_empty() {
                    bail!(
                        "{}: a run from --init-generator takes the generator's shapes",
                        args.shape_flags().join(", ")
                    );
                }
                RunSpec::from_generator(config, dir).with_changes(after)
            }
            None if args.detail_anchor.is_some() => {
                bail!(
                    "--detail-anchor compares with the generator a run starts from: give --init-generator"
                )
            }
            None => RunSpec::new(config).with_changes(after),
        }
    };
    Ok(TrainJob {
        square: args.square,
        device: args.device.choice()?,
        sample_every: args.sample_every,
        checkpoint_every: args.checkpoint_every,
        snapshot_every: args.snapshot_every,
        max_steps: Some(args.steps),
        critic_warmup: args.critic_warmup,
        on_divergence: DivergencePolicy::Stop,
        ..TrainJob::new(args.data.clone().unwrap_or_default(), &args.run, spec)
    })
}

/// Runs `hitogata train`.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // A second Ctrl-C while saving is ignored rather than killing the save half-way.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }
    if let Some(path) = &args.recipe {
        return run_recipe(path, &args, &stop);
    }
    let job = job(&args)?;
    run_job(&job, args.steps, args.json, &stop)?;
    Ok(())
}

/// Runs one job with the terminal's view of it.
fn run_job(job: &TrainJob, steps: u64, json: bool, stop: &Arc<AtomicBool>) -> anyhow::Result<()> {
    let mut control = CtrlC(stop.clone());
    let mut view = Terminal::new(steps)?;
    let result = runner::run(job, &mut control, &mut |e: TrainEvent| {
        if json {
            super::json_events::print(&e);
        }
        view.show(e)
    });
    view.bar.abandon();
    view.warmup.abandon();
    result?;
    Ok(())
}

/// `--recipe`: each leg in turn, skipping the legs already done.
fn run_recipe(
    path: &std::path::Path,
    args: &TrainArgs,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let recipe = hitogata::train::Recipe::load(path)?;
    for (i, leg) in recipe.legs.iter().enumerate() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Some(job) = recipe
            .job(i, &args.run, args.device.choice()?)
            .map_err(anyhow::Error::msg)?
        else {
            eprintln!("leg {} ({}): done already", i + 1, leg.run);
            continue;
        };
        eprintln!(
            "leg {} of {} ({}): to step {}",
            i + 1,
            recipe.legs.len(),
            leg.run,
            leg.until
        );
        run_job(&job, leg.until, args.json, stop)?;
    }
    Ok(())
}

//! `hitogata train`: train on an image folder, with progress, samples and checkpoints.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use hitogata::checkpoint;
use hitogata::data::{Dataset, SquareMode, summarize_skipped};
use hitogata::device::{DeviceChoice, select_device};
use hitogata::model::{DEFAULT_PALETTE_WIDTH, Upsampling};
use hitogata::train::collapse::{COLLAPSE_REARM, COLLAPSE_WINDOW};
use hitogata::train::{
    AdaptiveAugment, Algorithm, Augment, AugmentOp, CollapseChange, CollapseWatch, ResumeOverrides,
    RunDir, TrainConfig, TrainingSession,
};
use indicatif::{ProgressBar, ProgressStyle};

/// Arguments of `hitogata train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Folder of images (searched recursively: PNG, JPEG, WebP, BMP, GIF).
    #[arg(long)]
    data: PathBuf,
    /// Run directory: checkpoint/, generator/ and samples/ are written here.
    #[arg(long)]
    run: PathBuf,
    /// Train until the run has done this many generator steps in total.
    #[arg(long, default_value_t = 1000)]
    steps: u64,
    /// Continue the run directory's checkpoint instead of starting a new run.
    #[arg(long)]
    resume: bool,
    /// Objective (new runs only).
    #[arg(long, value_enum, default_value_t = Algorithm::Wgan)]
    algo: Algorithm,
    /// Where to compute.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
    /// Write a sample grid every N steps (0: only at the end).
    #[arg(long, default_value_t = 100)]
    sample_every: u64,
    /// Save a checkpoint every N steps (0: only at the end).
    #[arg(long, default_value_t = 500)]
    checkpoint_every: u64,
    /// Keep a generator export under snapshots/step-N every N steps (0: never), to pick the
    /// best one afterwards with `hitogata eval`.
    #[arg(long, default_value_t = 0)]
    snapshot_every: u64,
    /// Seed for weights, batches and noise (new runs only).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Training configuration as RON (new runs only); flags below override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Images per batch (also on resume: a GPU fits wider batches).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Generator width.
    #[arg(long)]
    ngf: Option<usize>,
    /// Critic width.
    #[arg(long)]
    ndf: Option<usize>,
    /// Latent size.
    #[arg(long)]
    latent_dim: Option<usize>,
    /// How the generator upsamples: `transposed` (DCGAN) or `resize` (nearest ×2 then a 3×3
    /// convolution: no checkerboard speckle, ~2.25× the generator's arithmetic).
    #[arg(long, value_enum)]
    upsampling: Option<Upsampling>,
    /// Generator output `clamp(S · tanh, -1, 1)` with S in [1, 2]: above 1 the pure white
    /// (and black) of flat illustrations becomes reachable. Also applies when resuming (the
    /// weights are kept).
    #[arg(long)]
    output_scale: Option<f32>,
    /// New runs: end the generator with an output palette of the data's N most frequent
    /// colours (pixels near one are pulled onto it: flat areas come out flat; see
    /// `OutputPalette`); 0 drops the palette of an --init-generator.
    #[arg(long, value_name = "N")]
    palette_size: Option<usize>,
    /// New runs: reach of the palette's pull in 0–255 levels (default 6).
    #[arg(long, value_name = "LEVELS")]
    palette_width: Option<f32>,
    /// New runs: put a latent mapping (z + MLP(z), two hidden layers this wide) in front of
    /// the generator, so it can squeeze the latent regions that draw blends between the data's
    /// discrete looks; added to an --init-generator as the identity. 0 drops a loaded one.
    #[arg(long, value_name = "WIDTH")]
    latent_mapping: Option<usize>,
    /// Learning rate of the latent mapping (default: the generator's); also on --resume.
    #[arg(long, value_name = "LR")]
    mapping_lr: Option<f64>,
    /// Critic updates per generator update.
    #[arg(long)]
    n_critic: Option<usize>,
    /// Decay of the generator weight average that samples and exports use (0: off; new runs
    /// default to 0.999). Also applies when resuming: a run without an average starts one.
    #[arg(long)]
    ema: Option<f32>,
    /// Learning rate of both optimizers. Also applies when resuming (their moments are kept), to
    /// anneal a long run.
    #[arg(long)]
    lr: Option<f64>,
    /// Learning rate of the critic (discriminator) alone, overriding --lr for it; also on
    /// resume. A slower critic helps when the discriminator keeps winning.
    #[arg(long)]
    critic_lr: Option<f64>,
    /// Differentiable augmentation of what the critic sees (DiffAugment): a comma-separated list
    /// of `color`, `translation`, `cutout`, or `all` (those three); `none` turns it off. Also
    /// applies when resuming. Helps when the discriminator memorises a small dataset.
    /// `lowpass` (not in `all`) shows the critic 4×4 block averages only, after the others:
    /// it judges the coarse colour layout, not the detail (for fine-tuning colours);
    /// `lowpass2` the same with 2×2 blocks (the 32 px layout); `highpass` the opposite, each
    /// picture minus its 4×4 block averages: edges and texture, not the layout (for fine-tuning
    /// detail, with --layout-anchor).
    #[arg(long, value_enum, value_delimiter = ',')]
    augment: Option<Vec<AugmentOp>>,
    /// How far the `color` augmentation goes, in (0, 1] (default 1, DiffAugment's ranges:
    /// brightness ±0.5, saturation ×[0, 2], contrast ×[0.5, 1.5]); 0.5 halves each range. Also
    /// applies when resuming.
    #[arg(long)]
    color_strength: Option<f32>,
    /// Adaptive augmentation (ADA): augment only a share of the critic's images, raised while
    /// the critic is surer of real images than this target (E[sign D(real)], ADA's 0.6) and
    /// lowered otherwise. New runs start at none; switched on when resuming it starts at the
    /// run's share (all, unless --augment-share). 0 turns it off (all images again).
    #[arg(long)]
    ada_target: Option<f32>,
    /// Share of the critic's images that go through --augment, in [0, 1] (default all): fixed,
    /// or with --ada-target where it starts. Also applies when resuming.
    #[arg(long)]
    augment_share: Option<f32>,
    /// Resumed runs only: start the critic (discriminator) afresh, weights and optimizer,
    /// keeping the generator. For a critic whose loss sits at chance (it no longer tells real
    /// from generated, so the generator stops learning). --ndf and --critic-batch-norm then
    /// shape the new critic.
    #[arg(long)]
    reset_critic: bool,
    /// BatchNorm in the critic (`true` or `false`; new runs: DCGAN's default is true, WGAN's
    /// false). BatchNorm normalises the real and the generated batch each by its own
    /// statistics, which hides batch-wide differences (colour balance) from the critic.
    #[arg(long)]
    critic_batch_norm: Option<bool>,
    /// Real and generated images through the critic as one batch (`true`) or each as its own
    /// (`false`, the default): with one batch its BatchNorm sees shared statistics, so
    /// batch-wide differences (how often each colour appears) stay visible to it. Also applies
    /// when resuming (the weights stay).
    #[arg(long)]
    joint_critic_batch: Option<bool>,
    /// Start a new run's generator from a trained one instead of random weights: a checkpoint,
    /// run directory or export (e.g. checkpoints/faces). Its shapes (z, ngf, upsampling, output
    /// scale) become the run's; a larger --ngf widens it without changing its pictures (more
    /// capacity). The critic and optimizers are new, and the weight average starts at the loaded
    /// weights. Pair it with --critic-warmup.
    #[arg(long, value_name = "DIR")]
    init_generator: Option<PathBuf>,
    /// Critic-only updates (the generator held still) before the first generator step of this
    /// invocation: a new critic (--init-generator, --reset-critic) learns to tell the trained
    /// generator's pictures from real ones before it steers them.
    #[arg(long, default_value_t = 0, value_name = "N")]
    critic_warmup: u64,
    /// With --init-generator: also pull the generator's fine detail (each picture minus its
    /// 4×4 block averages) towards the initial generator's, with this weight on the mean
    /// squared difference. For lowpass critics, which cannot see that detail. On --resume,
    /// changes the weight of a run that has one.
    #[arg(long, value_name = "WEIGHT")]
    detail_anchor: Option<f32>,
    /// With --init-generator: also pull the generator's colour layout (each picture's 4×4
    /// block averages) towards the initial generator's, with this weight on the mean squared
    /// difference. For a highpass critic, which cannot see the layout. On --resume, changes
    /// the weight of a run that has an anchor.
    #[arg(long, value_name = "WEIGHT")]
    layout_anchor: Option<f32>,
    /// Add WEIGHT × the sliced Wasserstein distance between the generated batch's colour
    /// layouts (4×4 block averages) and 512 real images', region by region (16×16 pixels), to
    /// the generator's loss: a direct pull on how often each coarse look appears where it does.
    /// Also on --resume (0 switches it off).
    #[arg(long, value_name = "WEIGHT")]
    layout_sw: Option<f32>,
    /// Use the WGAN paper's 100-critic-step warm-up schedule.
    #[arg(long)]
    warmup: bool,
    /// How non-square images become square.
    #[arg(long, value_enum, default_value_t = SquareMode::Pad)]
    square: SquareMode,
}

fn build_config(args: &TrainArgs) -> anyhow::Result<TrainConfig> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            ron::from_str(&text)
                .with_context(|| format!("{} is not a valid training config", path.display()))?
        }
        None => TrainConfig::for_algorithm(args.algo),
    };
    if let Some(dir) = &args.init_generator {
        // The loaded generator's shapes, unless flags below ask otherwise (the session then
        // refuses the mismatch, except for the output scale, which it applies).
        config = config.with_generator_shapes(&checkpoint::read_model_config(dir)?);
    }
    config.seed = args.seed;
    if let Some(v) = args.batch_size {
        config.batch_size = v;
    }
    if let Some(v) = args.ngf {
        config.model.ngf = v;
    }
    if let Some(v) = args.ndf {
        config.model.ndf = v;
    }
    if let Some(v) = args.critic_batch_norm {
        config.model.critic_batch_norm = v;
    }
    if let Some(v) = args.latent_dim {
        config.model.latent_dim = v;
    }
    if let Some(v) = args.upsampling {
        config.model.upsampling = Some(v);
    }
    if let Some(v) = args.output_scale {
        config.model.output_scale = Some(v);
    }
    if let Some(v) = args.latent_mapping {
        config.model.latent_mapping = (v > 0).then_some(v);
    }
    if let Some(v) = args.mapping_lr {
        config.mapping_lr = Some(v);
    }
    if let Some(v) = args.n_critic {
        config.n_critic = v;
    }
    if args.warmup {
        config.warmup_schedule = true;
    }
    if let Some(v) = args.ema {
        config.ema_decay = v;
    }
    if let Some(v) = args.lr {
        config.optimizer_g = config.optimizer_g.with_lr(v);
        config.optimizer_c = config.optimizer_c.with_lr(v);
    }
    if let Some(v) = args.critic_lr {
        config.optimizer_c = config.optimizer_c.with_lr(v);
    }
    if let Some(ops) = &args.augment {
        config.augment = Augment::from_ops(ops);
    }
    if let Some(strength) = args.color_strength {
        config.augment = config
            .augment
            .with_color_strength(strength)
            .map_err(anyhow::Error::msg)?;
    }
    if let Some(target) = args.ada_target {
        config.adaptive_augment = adaptive_augment(target);
    }
    config.detail_anchor = args.detail_anchor;
    config.layout_anchor = args.layout_anchor;
    config.layout_sw = args.layout_sw;
    if let Some(joint) = args.joint_critic_batch {
        config.joint_critic_batch = joint;
    }
    Ok(config)
}

/// Applies --palette-size and --palette-width to a new run's model, the palette made from
/// the run's data.
fn set_palette(args: &TrainArgs, data: &Dataset, config: &mut TrainConfig) -> anyhow::Result<()> {
    let palette = &mut config.model.output_palette;
    match (args.palette_size, args.palette_width) {
        (Some(0), _) => *palette = None,
        (Some(size), width) => {
            let width = width
                .or(palette.as_ref().map(|p| p.width))
                .unwrap_or(DEFAULT_PALETTE_WIDTH);
            *palette = Some(super::data_palette(data, size, width)?);
        }
        (None, Some(width)) => match palette {
            Some(p) => p.width = width,
            None => bail!("--palette-width changes a palette: give --palette-size too"),
        },
        (None, None) => {}
    }
    Ok(())
}

/// Runs `hitogata train`.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let run = RunDir::new(&args.run);
    let existing = run.has_checkpoint();
    if existing && !args.resume {
        bail!(
            "{} already holds a checkpoint: pass --resume to continue it, or choose another --run",
            args.run.display()
        );
    }
    if args.resume && !existing {
        bail!(
            "nothing to resume: {} holds no checkpoint",
            args.run.display()
        );
    }

    if args.init_generator.is_some() && args.resume {
        bail!("--init-generator starts a new run; a resumed run keeps its own generator");
    }
    if (args.detail_anchor.is_some() || args.layout_anchor.is_some())
        && args.init_generator.is_none()
        && !args.resume
    {
        bail!(
            "--detail-anchor and --layout-anchor compare with the generator a run starts from: give --init-generator"
        );
    }
    if args.resume
        && (args.palette_size.is_some()
            || args.palette_width.is_some()
            || args.latent_mapping.is_some())
    {
        bail!(
            "--palette-size, --palette-width and --latent-mapping shape a new run's generator; a resumed run keeps its own"
        );
    }
    if args.reset_critic && !args.resume {
        bail!("--reset-critic applies to --resume only: a new run's critic is fresh anyway");
    }

    let started = Instant::now();
    let data = Dataset::load_folder(&args.data, args.square)?;
    eprintln!(
        "data: {} images from {} in {:.1} s{}",
        data.len,
        args.data.display(),
        started.elapsed().as_secs_f32(),
        if data.skipped.is_empty() {
            String::new()
        } else {
            format!(
                "; skipped {} unreadable{}",
                data.skipped.len(),
                summarize_skipped(&data.skipped, 3)
            )
        }
    );
    let data = Arc::new(data);

    let device = select_device(args.device)?;
    super::announce_device(&device);

    let mut session = if args.resume {
        let overridden = args.config.is_some()
            || args.ngf.is_some()
            || (args.ndf.is_some() && !args.reset_critic)
            || (args.critic_batch_norm.is_some() && !args.reset_critic)
            || args.latent_dim.is_some()
            || args.upsampling.is_some()
            || args.n_critic.is_some()
            || args.warmup;
        if overridden {
            eprintln!(
                "note: --resume continues with the checkpoint's configuration; the model and optimisation flags given are ignored"
            );
        }
        let mut s = TrainingSession::resume(&args.run, data, &device.device)?;
        ResumeOverrides {
            lr: args.lr,
            critic_lr: args.critic_lr,
            mapping_lr: args.mapping_lr,
            ema_decay: args.ema,
            batch_size: args.batch_size,
            augment: args.augment.as_deref().map(Augment::from_ops),
            color_strength: args.color_strength,
            adaptive_augment: args.ada_target.map(adaptive_augment),
            augment_share: args.augment_share,
            output_scale: args.output_scale,
            joint_critic_batch: args.joint_critic_batch,
            detail_anchor: args.detail_anchor,
            layout_anchor: args.layout_anchor,
            layout_sw: args.layout_sw,
            reset_critic: args.reset_critic,
            critic_ndf: args.ndf,
            critic_batch_norm: args.critic_batch_norm,
        }
        .apply(&mut s)?;
        eprintln!(
            "resuming at step {}{}",
            s.step_count(),
            if args.reset_critic {
                " with a fresh critic"
            } else {
                ""
            }
        );
        s
    } else {
        let mut config = build_config(&args)?;
        set_palette(&args, &data, &mut config)?;
        let mut s = match &args.init_generator {
            Some(dir) => {
                let from = checkpoint::read_model_config(dir)?.ngf;
                let s = TrainingSession::from_generator(config, dir, data, &device.device)?;
                let widened = s.config().model.ngf;
                if widened > from {
                    eprintln!(
                        "generator from {}, widened from ngf {from} to {widened}, critic new",
                        dir.display()
                    );
                } else {
                    eprintln!("generator from {}, critic new", dir.display());
                }
                s
            }
            None => TrainingSession::new(config, data, &device.device)?,
        };
        if let Some(share) = args.augment_share {
            s.set_augment_share(share)?;
        }
        s
    };
    let config = session.config().clone();
    eprintln!(
        "training: {:?}, ngf {}{}, ndf {}{}, z {}, output scale {}, batch {}, lr {}, seed {}, weight average {}, augment {}",
        config.algorithm,
        config.model.ngf,
        match config.model.upsampling() {
            Upsampling::Transposed => "",
            Upsampling::Resize => " (resize-convolution)",
        },
        config.model.ndf,
        match (config.model.critic_batch_norm, config.joint_critic_batch) {
            (false, _) => " (no BatchNorm)",
            (true, true) => " (real and generated in one batch)",
            (true, false) => "",
        },
        config.model.latent_dim,
        config.model.output_scale(),
        config.batch_size,
        if config.optimizer_g.lr() == config.optimizer_c.lr() {
            format!("{}", config.optimizer_g.lr())
        } else {
            format!(
                "{} (critic {})",
                config.optimizer_g.lr(),
                config.optimizer_c.lr()
            )
        },
        config.seed,
        if config.ema_decay > 0.0 {
            format!("{}", config.ema_decay)
        } else {
            "off".to_string()
        },
        match config.adaptive_augment {
            _ if config.augment.is_off() => config.augment.to_string(),
            Some(a) => format!(
                "{} (adaptive, target {}, share now {:.3})",
                config.augment,
                a.target,
                session.augment_share()
            ),
            None if session.augment_share() < 1.0 =>
                format!("{} (share {:.3})", config.augment, session.augment_share()),
            None => config.augment.to_string(),
        }
    );
    if let (Some(palette), None) = (&config.model.output_palette, args.palette_size) {
        eprintln!(
            "output palette: {} colours, width {}",
            palette.colors.len(),
            palette.width
        );
    }
    if let Some(width) = config.model.latent_mapping {
        eprintln!(
            "latent mapping: z + MLP(z), two hidden layers of {width}, lr {}",
            config.mapping_lr.unwrap_or(config.optimizer_g.lr())
        );
    }
    if let Some(weight) = config.detail_anchor {
        eprintln!(
            "detail anchor: weight {weight} on the fine detail's distance from the initial generator"
        );
    }

    if let Some(weight) = config.layout_anchor {
        eprintln!(
            "layout anchor: weight {weight} on the colour layout's distance from the initial generator"
        );
    }
    if let Some(weight) = config.layout_sw {
        eprintln!(
            "layout term: weight {weight} on the sliced Wasserstein distance of the 4×4 block averages to 512 real images', region by region"
        );
    }

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // A second Ctrl-C while saving is ignored rather than killing the save half-way.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }

    let save_samples = |session: &TrainingSession| -> anyhow::Result<()> {
        run.save_samples(session).map(|_| ()).with_context(|| {
            format!(
                "cannot write {}",
                run.sample_path(session.step_count()).display()
            )
        })
    };
    let save_all = |session: &TrainingSession| -> anyhow::Result<()> { Ok(run.save(session)?) };

    if args.critic_warmup > 0 {
        warm_up_critic(&mut session, args.critic_warmup, &stop)?;
    }

    let start_step = session.step_count();
    let bar = ProgressBar::new(args.steps);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{wide_bar}] {pos}/{len} ETA {eta} | {msg}",
        )?
        .progress_chars("=> "),
    );
    bar.set_position(start_step);
    bar.reset_eta();
    if start_step == 0 {
        save_samples(&session)?;
    }
    let (mut watch, already) = CollapseWatch::over(config.algorithm, session.history());
    if let Some(w) = already {
        bar.suspend(|| eprintln!("warning: {w}"));
    }
    let mut last_line = Instant::now();
    while session.step_count() < args.steps && !stop.load(Ordering::SeqCst) {
        let m = match session.step() {
            Ok(m) => m,
            Err(e) => {
                bar.abandon();
                return Err(e.into());
            }
        };
        bar.set_position(m.step);
        match watch.observe(&m) {
            Some(CollapseChange::Suspected(w)) => bar.suspend(|| eprintln!("warning: {w}")),
            Some(CollapseChange::Cleared { step }) => bar.suspend(|| {
                eprintln!(
                    "note: step {step}: the discriminator's loss has recovered (median above {COLLAPSE_REARM} over the last {COLLAPSE_WINDOW} steps); the collapse warning no longer applies"
                )
            }),
            None => {}
        }
        bar.set_message(format!(
            "W {:+.4} | D {:+.4} | G {:+.4} | {:.0} img/s{}",
            m.wasserstein,
            m.critic_loss,
            m.generator_loss,
            m.images_per_sec,
            m.augment_share
                .map(|p| format!(" | augment p {p:.3}"))
                .unwrap_or_default()
        ));
        // Without a terminal (scripts, servers, logs) the bar is hidden: a line at each sample
        // grid and at least once a minute instead.
        let sampled = args.sample_every > 0 && m.step % args.sample_every == 0;
        if bar.is_hidden() && (sampled || last_line.elapsed().as_secs() >= 60) {
            eprintln!(
                "step {}/{} | D {:.4} | G {:.4} | {:.0} img/s",
                m.step, args.steps, m.critic_loss, m.generator_loss, m.images_per_sec
            );
            last_line = Instant::now();
        }
        if sampled {
            save_samples(&session)?;
        }
        if args.checkpoint_every > 0 && m.step % args.checkpoint_every == 0 {
            save_all(&session)?;
        }
        if args.snapshot_every > 0 && m.step % args.snapshot_every == 0 {
            run.save_snapshot(&session)?;
        }
    }
    bar.finish_and_clear();
    save_samples(&session)?;
    save_all(&session)?;
    let interrupted = stop.load(Ordering::SeqCst);
    eprintln!(
        "{} at step {}: checkpoint in {}, generator in {}",
        if interrupted { "stopped" } else { "done" },
        session.step_count(),
        run.checkpoint().display(),
        run.generator().display()
    );
    Ok(())
}

/// `--critic-warmup`: critic-only updates with a progress bar; Ctrl-C ends them early.
fn warm_up_critic(
    session: &mut TrainingSession,
    updates: u64,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    let bar = ProgressBar::new(updates);
    bar.set_style(
        ProgressStyle::with_template(
            "critic warm-up {elapsed_precise} [{wide_bar}] {pos}/{len} | {msg}",
        )?
        .progress_chars("=> "),
    );
    let (mut loss, mut gap) = (f32::NAN, f32::NAN);
    let mut done = 0;
    while done < updates && !stop.load(Ordering::SeqCst) {
        (loss, gap) = session.warm_up_critic().inspect_err(|_| bar.abandon())?;
        done += 1;
        bar.set_position(done);
        bar.set_message(format!("D {loss:+.4} | real − generated {gap:+.4}"));
        // Without a terminal the bar is hidden: a line every tenth of the way instead.
        if bar.is_hidden() && done % (updates / 10).max(1) == 0 {
            eprintln!("critic warm-up: {done}/{updates}, critic loss {loss:.4}");
        }
    }
    bar.finish_and_clear();
    eprintln!(
        "critic warm-up: {done} updates, critic loss {loss:.4}, E[D(real)] − E[D(generated)] {gap:+.4}"
    );
    Ok(())
}

/// `--ada-target`: 0 is off.
fn adaptive_augment(target: f32) -> Option<AdaptiveAugment> {
    (target != 0.0).then(|| AdaptiveAugment::with_target(target))
}

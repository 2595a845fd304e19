//! `hitogata train` on the terminal: Ctrl-C asks the run to stop and save, and its events
//! become progress bars (on a terminal) or log lines.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use hitogata::data::summarize_skipped;
use hitogata::train::runner::RunControl;
use hitogata::train::{
    COLLAPSE_REARM, COLLAPSE_WINDOW, StopCause, TrainCommand, TrainConfig, TrainEvent,
};
use indicatif::{ProgressBar, ProgressStyle};

/// Ctrl-C asks the run to stop and save.
pub(super) struct CtrlC(pub(super) Arc<AtomicBool>);

impl RunControl for CtrlC {
    fn poll(&mut self, _paused: bool) -> Option<TrainCommand> {
        self.0
            .load(Ordering::SeqCst)
            .then_some(TrainCommand::Stop { save: true })
    }
}

/// The run's events on the terminal: progress bars when it is one, log lines otherwise.
pub(super) struct Terminal {
    pub(super) bar: ProgressBar,
    pub(super) warmup: ProgressBar,
    steps: u64,
    last_line: Instant,
}

impl Terminal {
    pub(super) fn new(steps: u64) -> anyhow::Result<Self> {
        let style = |template: &str| -> anyhow::Result<ProgressStyle> {
            Ok(ProgressStyle::with_template(template)?.progress_chars("=> "))
        };
        let bar = ProgressBar::hidden();
        bar.set_style(style(
            "{elapsed_precise} [{wide_bar}] {pos}/{len} ETA {eta} | {msg}",
        )?);
        let warmup = ProgressBar::hidden();
        warmup.set_style(style("critic warm-up [{wide_bar}] {pos}/{len} | {msg}")?);
        Ok(Self {
            bar,
            warmup,
            steps,
            last_line: Instant::now(),
        })
    }

    fn line(&self, text: String) {
        self.bar.suspend(|| eprintln!("{text}"));
    }

    fn warm_up(&mut self, done: u64, total: u64, critic_loss: f32, gap: f32) {
        if done == 1 {
            self.warmup = ProgressBar::new(total).with_style(self.warmup.style());
        }
        self.warmup.set_position(done);
        self.warmup
            .set_message(format!("D {critic_loss:+.4} | real − generated {gap:+.4}"));
        if self.warmup.is_hidden() && done.is_multiple_of((total / 10).max(1)) {
            eprintln!("critic warm-up: {done}/{total}, critic loss {critic_loss:.4}");
        }
        if done == total {
            self.warmup.finish_and_clear();
            eprintln!(
                "critic warm-up: {done} updates, critic loss {critic_loss:.4}, E[D(real)] − E[D(generated)] {gap:+.4}"
            );
        }
    }

    fn progress(&mut self, m: &hitogata::train::Metrics) {
        self.bar.set_position(m.step);
        let share = m
            .augment_share
            .map(|p| format!(" | augment p {p:.3}"))
            .unwrap_or_default();
        self.bar.set_message(format!(
            "W {:+.4} | D {:+.4} | G {:+.4} | {:.0} img/s{share}",
            m.wasserstein, m.critic_loss, m.generator_loss, m.images_per_sec
        ));
        // Without a terminal the bar is hidden: a line at least once a minute.
        if self.bar.is_hidden() && self.last_line.elapsed().as_secs() >= 60 {
            eprintln!(
                "step {}/{} | D {:.4} | G {:.4} | {:.0} img/s",
                m.step, self.steps, m.critic_loss, m.generator_loss, m.images_per_sec
            );
            self.last_line = Instant::now();
        }
    }

    pub(super) fn show(&mut self, event: TrainEvent) {
        match event {
            TrainEvent::DataLoaded {
                images,
                skipped,
                seconds,
                ..
            } => {
                let skipped = if skipped.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; skipped {} unreadable{}",
                        skipped.len(),
                        summarize_skipped(&skipped, 3)
                    )
                };
                eprintln!("data: {images} images in {seconds:.1} s{skipped}");
            }
            TrainEvent::Started {
                step,
                device,
                config,
                augment_share,
                ..
            } => {
                eprintln!("device: {device}");
                eprintln!("{}", describe(&config, augment_share));
                if step > 0 {
                    eprintln!("resuming at step {step}");
                }
                self.bar = ProgressBar::new(self.steps).with_style(self.bar.style());
                self.bar.set_position(step);
                self.bar.reset_eta();
            }
            TrainEvent::CriticWarmUp {
                done,
                total,
                critic_loss,
                gap,
            } => self.warm_up(done, total, critic_loss, gap),
            TrainEvent::Progress(m) => self.progress(&m),
            TrainEvent::CollapseSuspected(w) => self.line(format!("warning: {w}")),
            TrainEvent::CollapseCleared { step } => self.line(format!(
                "note: step {step}: the discriminator's loss has recovered (median above {COLLAPSE_REARM} over the last {COLLAPSE_WINDOW} steps); the collapse warning no longer applies"
            )),
            TrainEvent::Samples { step, .. } if self.bar.is_hidden() => {
                eprintln!("step {step}/{}: samples written", self.steps);
                self.last_line = Instant::now();
            }
            TrainEvent::Stopped { step, cause, .. } => {
                self.bar.finish_and_clear();
                let how = match cause {
                    StopCause::Finished => "done",
                    StopCause::Asked => "stopped",
                };
                eprintln!("{how} at step {step}: checkpoint and generator saved");
            }
            _ => {}
        }
    }
}

/// One line saying what the run trains with.
fn describe(config: &TrainConfig, augment_share: f32) -> String {
    let lr = if config.optimizer_g.lr() == config.optimizer_c.lr() {
        format!("{}", config.optimizer_g.lr())
    } else {
        format!(
            "{} (critic {})",
            config.optimizer_g.lr(),
            config.optimizer_c.lr()
        )
    };
    let augment = match config.adaptive_augment {
        _ if config.augment.is_off() => config.augment.to_string(),
        Some(a) => format!(
            "{} (adaptive, target {}, share now {augment_share:.3})",
            config.augment, a.target
        ),
        None if augment_share < 1.0 => format!("{} (share {augment_share:.3})", config.augment),
        None => config.augment.to_string(),
    };
    let ema = match config.ema_decay {
        0.0 => "off".to_string(),
        d => d.to_string(),
    };
    let anchor = config
        .detail_anchor
        .map(|w| format!(", detail anchor {w}"))
        .unwrap_or_default();
    format!(
        "training: {:?}, ngf {} ({:?}), ndf {}{}, z {}, output scale {}, batch {}, lr {lr}, seed {}, weight average {ema}, augment {augment}, critic view {}{anchor}",
        config.algorithm,
        config.model.ngf,
        config.model.upsampling(),
        config.model.ndf,
        if config.model.critic_batch_norm {
            ""
        } else {
            " (no BatchNorm)"
        },
        config.model.latent_dim,
        config.model.output_scale(),
        config.batch_size,
        config.seed,
        config.critic_view,
    )
}

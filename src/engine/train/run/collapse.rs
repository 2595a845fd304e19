//! Spots a DCGAN run whose discriminator has won. Its loss then sits near zero for hundreds of
//! steps and the generator, with no useful gradient left, drifts to noise. Thresholds come from
//! our own runs' histories (250-step medians of the discriminator's loss): healthy runs at lr
//! 2e-4 stayed at 0.004–0.3; the two GPU runs that turned to noise fell below 0.002 a few
//! hundred steps before their samples broke down and stayed at 0.0003–0.001. An annealed run
//! (lr 5e-5) sinks slowly towards 0.002 while still improving: hence a warning, not a stop.
//!
//! WGAN is not watched: its critic loss has no fixed scale, so no threshold means the same
//! thing across runs.

use std::collections::VecDeque;
use std::fmt;

use crate::engine::train::config::Algorithm;
use crate::engine::train::state::Metrics;

/// Steps the median is taken over.
pub const COLLAPSE_WINDOW: usize = 250;
/// A median discriminator loss below this raises the warning.
pub const COLLAPSE_THRESHOLD: f32 = 0.002;
/// The warning is raised again only after the median has come back above this.
pub const COLLAPSE_REARM: f32 = 0.01;

/// A run that looks like it is collapsing.
#[derive(Clone, Debug, PartialEq)]
pub struct CollapseWarning {
    /// The step at which it was noticed.
    pub step: u64,
    /// Median discriminator loss over the last [`COLLAPSE_WINDOW`] steps.
    pub median_loss: f32,
}

impl fmt::Display for CollapseWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "step {}: the discriminator's loss has a median of {:.4} over the last {} steps — it \
             is winning, and the generator may collapse into noise. Keep the snapshots and \
             weight average from before this step; if the samples get worse, resume an earlier \
             checkpoint with lower rates (--lr; --critic-lr for the discriminator alone).",
            self.step, self.median_loss, COLLAPSE_WINDOW
        )
    }
}

/// What one step changed about a watched run.
#[derive(Clone, Debug, PartialEq)]
pub enum CollapseChange {
    /// The run has just started to look collapsed.
    Suspected(CollapseWarning),
    /// A run that looked collapsed has recovered: the median is back above
    /// [`COLLAPSE_REARM`], so the earlier warning no longer applies.
    Cleared {
        /// The step at which it was noticed.
        step: u64,
    },
}

/// Watches a run's metrics, step by step.
#[derive(Clone, Debug)]
pub struct CollapseWatch {
    watched: bool,
    recent: VecDeque<f32>,
    armed: bool,
}

impl CollapseWatch {
    /// A watch for a run of `algorithm` (only DCGAN runs are watched).
    pub fn new(algorithm: Algorithm) -> Self {
        Self {
            watched: algorithm == Algorithm::Dcgan,
            recent: VecDeque::with_capacity(COLLAPSE_WINDOW),
            armed: true,
        }
    }

    /// A watch that has seen a run's `history` (a resumed run may already be collapsing), and
    /// the warning that history ends in, if it does.
    pub fn over(algorithm: Algorithm, history: &[Metrics]) -> (Self, Option<CollapseWarning>) {
        let mut watch = Self::new(algorithm);
        let mut last = None;
        for m in history {
            if let Some(CollapseChange::Suspected(w)) = watch.observe(m) {
                last = Some(w);
            }
        }
        let current = last.filter(|_| watch.collapsed());
        (watch, current)
    }

    /// Takes one step's metrics; says when the run has just started to look collapsed (once,
    /// until it recovers) and when it has recovered.
    pub fn observe(&mut self, metrics: &Metrics) -> Option<CollapseChange> {
        if !self.watched {
            return None;
        }
        if self.recent.len() == COLLAPSE_WINDOW {
            self.recent.pop_front();
        }
        self.recent.push_back(metrics.critic_loss);
        let median = self.median()?;
        if !self.armed {
            self.armed = median > COLLAPSE_REARM;
            return self
                .armed
                .then_some(CollapseChange::Cleared { step: metrics.step });
        }
        if median < COLLAPSE_THRESHOLD {
            self.armed = false;
            return Some(CollapseChange::Suspected(CollapseWarning {
                step: metrics.step,
                median_loss: median,
            }));
        }
        None
    }

    /// Whether the run looks collapsed now (warned and not yet recovered).
    pub fn collapsed(&self) -> bool {
        !self.armed
    }

    /// Median of the last full window; `None` until a window has been seen. NaN losses sort
    /// to the top (divergence is caught elsewhere).
    fn median(&self) -> Option<f32> {
        if self.recent.len() < COLLAPSE_WINDOW {
            return None;
        }
        let mut sorted: Vec<f32> = self.recent.iter().copied().collect();
        sorted.sort_by(f32::total_cmp);
        Some(sorted[COLLAPSE_WINDOW / 2])
    }
}

//! `train --json`: the run's events as one JSON object per line on stdout.

use std::io::Write;

use hitogata::train::{StopCause, TrainEvent};
use serde_json::{Value, json};

/// The event as JSON, or `None` for events a script has no use for.
fn to_json(event: &TrainEvent) -> Option<Value> {
    Some(match event {
        TrainEvent::DataLoaded {
            images, skipped, ..
        } => json!({
            "event": "data",
            "images": images,
            "skipped": skipped.iter().map(|s| s.path.display().to_string()).collect::<Vec<_>>(),
        }),
        TrainEvent::Started {
            step,
            device,
            config,
            ..
        } => json!({
            "event": "started",
            "step": step,
            "device": device,
            "config": ron::to_string(config).unwrap_or_default(),
        }),
        TrainEvent::CriticWarmUp {
            done,
            total,
            critic_loss,
            gap,
        } => json!({
            "event": "critic_warmup",
            "done": done,
            "total": total,
            "critic_loss": critic_loss,
            "gap": gap,
        }),
        TrainEvent::Progress(m) => json!({
            "event": "progress",
            "step": m.step,
            "critic_loss": m.critic_loss,
            "wasserstein": m.wasserstein,
            "generator_loss": m.generator_loss,
            "images_per_sec": m.images_per_sec,
            "augment_share": m.augment_share,
        }),
        TrainEvent::CollapseSuspected(w) => json!({
            "event": "collapse_suspected",
            "step": w.step,
            "median_loss": w.median_loss,
        }),
        TrainEvent::CollapseCleared { step } => json!({"event": "collapse_cleared", "step": step}),
        TrainEvent::Samples { step, .. } => json!({"event": "samples", "step": step}),
        TrainEvent::Checkpoint { step, .. } => json!({"event": "checkpoint", "step": step}),
        TrainEvent::Snapshot { step, dir } => json!({
            "event": "snapshot",
            "step": step,
            "dir": dir.display().to_string(),
        }),
        TrainEvent::Stopped { step, saved, cause } => json!({
            "event": "stopped",
            "step": step,
            "saved": saved,
            "cause": match cause {
                StopCause::Finished => "finished",
                StopCause::Asked => "asked",
            },
        }),
        TrainEvent::Paused { .. } | TrainEvent::Resumed | TrainEvent::Failed(_) => return None,
    })
}

/// Prints one event's line (flushed, so a script reading the pipe sees it at once).
pub fn print(event: &TrainEvent) {
    if let Some(value) = to_json(event) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{value}");
        let _ = out.flush();
    }
}

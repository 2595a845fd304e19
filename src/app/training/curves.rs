//! The loss curves, raw and smoothed.

use egui_plot::{Legend, Line, Plot};

use crate::engine::train::Metrics;

/// Points drawn per curve at most.
const PLOT_POINTS: usize = 4000;

/// Exponential smoothing of `(x, y)` points.
fn smoothed(values: impl Iterator<Item = (f64, f64)>, alpha: f64) -> Vec<[f64; 2]> {
    let mut s = None;
    values
        .map(|(x, y)| {
            let v = match s {
                None => y,
                Some(prev) => alpha * prev + (1.0 - alpha) * y,
            };
            s = Some(v);
            [x, v]
        })
        .collect()
}

/// The smoothing slider and the plot of the critic loss, Wasserstein estimate and generator
/// loss.
pub fn show(history: &[Metrics], smoothing: &mut f32, ui: &mut egui::Ui) {
    ui.add(egui::Slider::new(smoothing, 0.0..=0.99).text("smoothing"))
        .on_hover_text("Exponential smoothing of the curves; raw values are drawn faintly");
    let alpha = *smoothing as f64;
    let series = |f: fn(&Metrics) -> f32| history.iter().map(move |m| (m.step as f64, f(m) as f64));
    Plot::new("losses")
        .height(360.0)
        .legend(Legend::default())
        .show(ui, |plot| {
            type Curve = (&'static str, fn(&Metrics) -> f32);
            let curves: [Curve; 3] = [
                ("critic loss", |m| m.critic_loss),
                ("Wasserstein estimate", |m| m.wasserstein),
                ("generator loss", |m| m.generator_loss),
            ];
            // Long runs: draw at most ~4,000 points per curve (smoothing still sees all).
            let stride = (history.len() / PLOT_POINTS).max(1);
            for (name, f) in curves {
                let raw: Vec<[f64; 2]> = series(f).step_by(stride).map(|(x, y)| [x, y]).collect();
                if alpha > 0.0 {
                    let smooth: Vec<[f64; 2]> = smoothed(series(f), alpha)
                        .into_iter()
                        .step_by(stride)
                        .collect();
                    plot.line(Line::new(format!("{name} (raw)"), raw).width(0.5));
                    plot.line(Line::new(name.to_string(), smooth));
                } else {
                    plot.line(Line::new(name.to_string(), raw));
                }
            }
        });
}

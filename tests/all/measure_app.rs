//! Measurements for the README, not pass/fail checks (`--ignored`, run on a quiet machine):
//! `cargo test --release --test all measure_app -- --ignored --nocapture --test-threads=1`

use crate::common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::ui::AppHarness;
use egui_kittest::kittest::Queryable;
use hitogata::app::{RunState, Tab};
use hitogata::data::{Dataset, SquareMode};
use hitogata::train::{TrainConfig, TrainingSession};

fn app(checkpoint: Option<std::path::PathBuf>) -> AppHarness {
    // As `hitogata` itself starts (src/main.rs).
    hitogata::allocator::tune_for_tensors();
    let dir = tempfile::tempdir().unwrap().keep();
    let checkpoint = checkpoint.unwrap_or_else(hitogata::app::default_checkpoint);
    common::ui::app_harness(
        &checkpoint,
        &dir.join("bookmarks.ron"),
        egui::vec2(1280.0, 900.0),
    )
}

fn stats(name: &str, mut v: Vec<f32>) {
    v.sort_by(|a, b| a.total_cmp(b));
    let p = |q: f32| v[((v.len() - 1) as f32 * q) as usize];
    println!(
        "{name}: n={} median {:.2} p95 {:.2} max {:.2}",
        v.len(),
        p(0.5),
        p(0.95),
        p(1.0)
    );
}

#[test]
#[ignore]
fn explorer_slider_to_pixels_latency() {
    let mut h = app(None);
    common::ui::wait_until(&mut h, "the first picture", |a| {
        a.explorer().images_shown > 0
    });
    let mut latencies = Vec::new();
    let mut inference = Vec::new();
    for i in 0..100 {
        let shown = h.state().explorer().images_shown;
        let mut z = h.state().current().z.clone();
        let k = i % z.dim();
        z.0[k] += 0.05;
        h.state_mut().set_z(z);
        while h.state().explorer().images_shown == shown {
            h.step();
        }
        latencies.push(h.state().explorer().last_latency_ms.unwrap());
        inference.push(h.state().explorer().last_inference_ms.unwrap());
    }
    stats("slider-to-pixels (ms)", latencies);
    stats("generator alone (ms)", inference);
}

#[test]
#[ignore]
fn training_in_the_app_vs_directly() {
    let data_dir = hitogata::app::RunForm::default().data_dir;
    let mut config = TrainConfig::default();
    config.model = config.model.with_ngf(32).with_ndf(32);
    let steps = 6;

    // Directly, as the CLI does.
    let data =
        Arc::new(Dataset::load_folder(std::path::Path::new(&data_dir), SquareMode::Pad).unwrap());
    let dev = common::cpu();
    let mut session = TrainingSession::new(config.clone(), data, &dev.device).unwrap();
    session.step().unwrap();
    let direct: Vec<f32> = (0..steps)
        .map(|_| session.step().unwrap().images_per_sec)
        .collect();

    // In the app, with the UI drawing at ~60 frames per second.
    let run = tempfile::tempdir().unwrap();
    let mut h = app(None);
    h.state_mut().select_tab(Tab::Training);
    h.step();
    common::ui::type_into(&mut h, "Dataset", &data_dir);
    common::ui::type_into(
        &mut h,
        "Run folder",
        run.path().join("run").to_str().unwrap(),
    );
    common::ui::choose(&mut h, "device", "cpu");
    common::ui::advanced(&mut h);
    for (label, value) in [
        ("ngf", 32.0),
        ("ndf", 32.0),
        ("samples every", 1000.0),
        ("checkpoint every", 0.0),
    ] {
        common::ui::set_number(&mut h, label, value);
    }
    assert_eq!(h.state().training().form().config.model, config.model);
    h.get_by_label("Start").click();
    let mut frames = Vec::new();
    while h.state().training().history().len() < steps + 1 {
        let t = Instant::now();
        h.step();
        frames.push(t.elapsed().as_secs_f32() * 1e3);
        std::thread::sleep(Duration::from_millis(16));
    }
    let in_app: Vec<f32> = h.state().training().history()[1..]
        .iter()
        .map(|m| m.images_per_sec)
        .collect();
    h.state_mut()
        .training_mut()
        .command(hitogata::train::TrainCommand::Stop { save: false });
    while h.state().training().state() != RunState::Idle {
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    stats("training img/s, directly (CLI path)", direct);
    stats("training img/s, in the app", in_app);
    stats("UI frame time while training (ms)", frames);
}

/// Writes docs/explorer.png (the README's screenshot) with the shipped checkpoint.
#[test]
#[ignore]
fn readme_screenshot() {
    let mut h = app(None);
    common::ui::wait_until(&mut h, "the first picture", |a| {
        a.explorer().images_shown > 0
    });
    h.state_mut().explorer_mut().seed = 7;
    h.state_mut()
        .set_z(hitogata::latent::Latent::from_seed(7, 40));
    let z = h.state().current().z.clone();
    h.state_mut().jitter_mut().set_source(None, z);
    for _ in 0..400 {
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.state_mut().clear_status();
    h.run_steps(3);
    let image = h.render().expect("the wgpu renderer");
    std::fs::create_dir_all("docs").unwrap();
    image.save("docs/explorer.png").unwrap();
}

/// Writes docs/pytorch.png: the model trained with PyTorch's DCGAN tutorial
/// (checkpoints/pytorch-faces) opened from its .pth, with its critic and the Dimensions view.
#[test]
#[ignore]
fn readme_pytorch_screenshot() {
    let generator = common::pytorch_faces();
    // The z of 40 seeds its own critic likes best: a face worth showing.
    let dev = common::cpu();
    let loaded = hitogata::checkpoint::load_generator(&generator, &dev.device).unwrap();
    let critic = hitogata::critique::critic_beside(&generator, &dev.device)
        .unwrap()
        .unwrap();
    let candidates: Vec<_> = (0..40)
        .map(|s| hitogata::latent::Latent::from_seed(s, 100))
        .collect();
    let scores = hitogata::critique::scores(&loaded.generator, &critic, &candidates, &dev.device);
    let best = (0..40)
        .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
        .unwrap();
    let mut h = dimensions_view_on(&generator);
    h.state_mut().set_z(candidates[best].clone());
    h.run_steps(2);
    common::ui::choose(&mut h, "sort", "effect here");
    common::ui::wait_until(&mut h, "the strips", |a| {
        a.dimensions().strip_count() >= 100 && a.critic().score.is_some()
    });
    for _ in 0..300 {
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.run_steps(3);
    let image = h.render().expect("the wgpu renderer");
    image.save("docs/pytorch.png").unwrap();
}

/// Writes docs/training.png: the training tab during a short run on the shipped faces.
#[test]
#[ignore]
fn readme_training_screenshot() {
    // With HITOGATA_SCREENSHOT_RUN=DIR (a run directory of a long faces run) the tab resumes a
    // copy of it for a few steps, so the picture shows real samples and the run's loss curves;
    // without it, a tiny run from scratch (noise after 80 steps).
    let run = tempfile::tempdir().unwrap();
    let long_run = std::env::var_os("HITOGATA_SCREENSHOT_RUN").map(std::path::PathBuf::from);
    let mut h = app(None);
    h.state_mut().select_tab(Tab::Training);
    let target = match &long_run {
        Some(src) => {
            common::copy_checkpoint(src, &run.path().join("run"));
            let dst = run.path().join("run/checkpoint");
            let text = std::fs::read_to_string(dst.join("state.ron")).unwrap();
            let state: hitogata::train::TrainState = ron::from_str(&text).unwrap();
            state.step + 20
        }
        None => 80,
    };
    h.step();
    common::ui::type_into(
        &mut h,
        "Run folder",
        run.path().join("run").to_str().unwrap(),
    );
    common::ui::choose(&mut h, "device", "cpu");
    if long_run.is_some() {
        common::ui::choose(&mut h, "mode", "resume");
    } else {
        common::ui::choose(&mut h, "algorithm", "dcgan");
    }
    common::ui::advanced(&mut h);
    let mut fields = vec![("samples every", 10.0), ("checkpoint every", 0.0)];
    fields.push(("stop at", target as f64));
    if long_run.is_none() {
        fields.extend([("ngf", 16.0), ("ndf", 16.0), ("batch", 32.0)]);
    }
    for (label, value) in fields {
        common::ui::set_number(&mut h, label, value);
    }
    h.get_by_label("Start").click();
    common::ui::wait_until(&mut h, "the last step", |a| {
        a.training().state() == RunState::Idle && a.training().step() >= target
    });
    h.run_steps(3);
    let image = h.render().expect("the wgpu renderer");
    image.save("docs/training.png").unwrap();
}

/// The Dimensions view on the shipped faces: strip time after a slider change, the main
/// picture's latency while strips are being drawn, and UI frame times; writes
/// docs/dimensions.png.
#[test]
#[ignore]
fn dimensions_view_strips_and_frames() {
    let mut h = dimensions_view_on(&hitogata::app::default_checkpoint());
    common::ui::wait_until(&mut h, "the analysis", |a| {
        a.dimensions().notes.mean_sensitivity.is_some() && a.dimensions().strip_count() == 60
    });
    measure_dimensions_view(&mut h, 60);
    h.state_mut().clear_status();
    h.run_steps(3);
    let image = h.render().expect("the wgpu renderer");
    image.save("docs/dimensions.png").unwrap();
}

/// The same for a PyTorch DCGAN of 512 latent dimensions (nz 512, ngf 64, as the tutorial's
/// Generator with a larger z), opened from its .pth: does the explorer stay usable?
#[test]
#[ignore]
fn dimensions_view_at_512_dimensions() {
    let dir = tempfile::tempdir().unwrap();
    let config = hitogata::model::ModelConfig::new()
        .with_latent_dim(512)
        .with_ngf(64)
        .with_ndf(64);
    let dev = common::cpu();
    dev.device.seed(5);
    let generator = config.init_generator(&dev.device);
    let pth = dir.path().join("netG_nz512.pth");
    hitogata::pytorch::export_pytorch_generator(&config, &generator, &pth).unwrap();
    let mut h = dimensions_view_on(&pth);
    // First the plain sliders.
    h.get_by_label("Sliders").click();
    h.run_steps(3);
    stats(
        "UI frame time, 512 sliders at rest (ms)",
        rest_frames(&mut h),
    );
    h.get_by_label("Dimensions").click();
    common::ui::wait_until(&mut h, "the analysis", |a| {
        a.dimensions().notes.mean_sensitivity.is_some() && a.dimensions().strip_count() >= 512
    });
    let rows = h.state().dimensions().strip_count();
    measure_dimensions_view(&mut h, rows);
    stats(
        "UI frame time, Dimensions view at rest (ms)",
        rest_frames(&mut h),
    );
}

fn rest_frames(h: &mut AppHarness) -> Vec<f32> {
    (0..20)
        .map(|_| {
            let t = Instant::now();
            h.step();
            t.elapsed().as_secs_f32() * 1e3
        })
        .collect()
}

fn dimensions_view_on(checkpoint: &std::path::Path) -> AppHarness {
    // As `hitogata` itself starts (src/main.rs).
    hitogata::allocator::tune_for_tensors();
    let dir = tempfile::tempdir().unwrap().keep();
    let mut h = common::ui::app_harness(
        checkpoint,
        &dir.join("bookmarks.ron"),
        egui::vec2(1500.0, 1000.0),
    );
    common::ui::wait_until(&mut h, "the first picture", |a| {
        a.explorer().images_shown > 0
    });
    h.get_by_label("Dimensions").click();
    h
}

/// Moves z 20 times and reports how soon strips, the main picture and frames follow.
fn measure_dimensions_view(h: &mut AppHarness, rows: usize) {
    let (mut strips, mut frames, mut mains) = (Vec::new(), Vec::new(), Vec::new());
    let mut on_screen = Vec::new();
    let dim = h.state().current().z.dim();
    for i in 0..20 {
        let received = h.state().dimensions().strips_received;
        let shown = h.state().explorer().images_shown;
        let mut z = h.state().current().z.clone();
        z.0[i % dim] += 0.3;
        h.state_mut().set_z(z);
        while h.state().dimensions().strips_received == received {
            let t = Instant::now();
            h.step();
            frames.push(t.elapsed().as_secs_f32() * 1e3);
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(h.state().explorer().images_shown > shown);
        mains.push(h.state().explorer().last_latency_ms.unwrap());
        strips.push(h.state().dimensions().strip_millis.unwrap());
        on_screen.push(h.state().dimensions().on_screen_millis.unwrap_or(f32::NAN));
    }
    stats("strips on screen after a change (ms, UI side)", on_screen);
    stats(
        &format!("all strips after a change, {rows} rows x 7 (ms, worker)"),
        strips,
    );
    stats("main picture while strips draw (ms)", mains);
    stats("UI frame time while strips draw (ms)", frames);
}

/// The nearest-training-images query on the shipped faces (4,000 pictures) and the index's
/// build time.
#[test]
#[ignore]
fn nearest_training_images_on_the_faces() {
    let t = Instant::now();
    let index = hitogata::nearest::NearestImages::build(
        std::path::Path::new(&hitogata::app::RunForm::default().data_dir),
        false,
    )
    .unwrap();
    println!(
        "index of {} pictures built in {:.1} s",
        index.images.len(),
        t.elapsed().as_secs_f32()
    );
    let pictures: Vec<_> = (0..20).map(|i| index.images[i * 7].clone()).collect();
    let times: Vec<f32> = pictures
        .iter()
        .map(|p| {
            let t = Instant::now();
            let _ = index.nearest(p, 5);
            t.elapsed().as_secs_f32() * 1e3
        })
        .collect();
    stats("nearest 5 of 4,000 at 32x32 (ms)", times);
}

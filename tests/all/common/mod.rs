//! Helpers shared by the integration tests: devices, tiny models, generated image folders.
#![allow(dead_code)]

use std::path::Path;
use std::sync::{Arc, OnceLock};

pub mod serve;
pub mod ui;

use hitogata::data::Dataset;
use hitogata::device::{ComputeDevice, DeviceChoice, select_device};
use hitogata::model::ModelConfig;
use hitogata::train::TrainConfig;
use image::{Rgb, RgbImage};

/// `train` flags for a tiny model (z 8, ngf/ndf 4, batch 8, 2 critic steps): seconds per run.
pub const TINY_SHAPE: &[&str] = &[
    "--ngf",
    "4",
    "--ndf",
    "4",
    "--latent-dim",
    "8",
    "--batch-size",
    "8",
    "--n-critic",
    "2",
];

/// The CPU device.
pub fn cpu() -> ComputeDevice {
    select_device(&DeviceChoice::Cpu).expect("the CPU device always exists")
}

/// The wgpu device (Mesa's llvmpipe in CI). Fails the test when wgpu cannot start, unless
/// HITOGATA_SKIP_WGPU=1 says this machine has no wgpu at all.
pub fn wgpu() -> Option<ComputeDevice> {
    static DEVICE: OnceLock<Option<ComputeDevice>> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            if std::env::var("HITOGATA_SKIP_WGPU").is_ok_and(|v| v == "1") {
                eprintln!("HITOGATA_SKIP_WGPU=1: skipping the wgpu half of this test");
                return None;
            }
            let device = select_device(&DeviceChoice::Wgpu).expect(
                "wgpu must start (install Mesa's EGL/GL drivers, or set HITOGATA_SKIP_WGPU=1)",
            );
            exit_without_gpu_teardown();
            Some(device)
        })
        .clone()
}

/// Both devices to run a test on.
pub fn devices() -> Vec<ComputeDevice> {
    let mut list = vec![cpu()];
    list.extend(wgpu());
    list
}

/// A tiny model: fast on llvmpipe.
pub fn tiny_model() -> ModelConfig {
    ModelConfig::new()
        .with_latent_dim(8)
        .with_ngf(4)
        .with_ndf(4)
}

/// A tiny WGAN config.
pub fn tiny_train_config() -> TrainConfig {
    TrainConfig {
        model: tiny_model(),
        batch_size: 8,
        n_critic: 2,
        sample_count: 4,
        seed: 7,
        ..TrainConfig::default()
    }
}

/// A tiny DCGAN config (BatchNorm in the critic, as DCGAN's defaults have).
pub fn tiny_dcgan_config() -> TrainConfig {
    let mut config = TrainConfig::for_algorithm(hitogata::train::Algorithm::Dcgan);
    config.model = tiny_model().with_critic_batch_norm(true);
    config.batch_size = 8;
    config.sample_count = 4;
    config
}

/// A tiny DCGAN whose discriminator wins within a few hundred steps: it learns fast while the
/// generator hardly learns at all (1e-7 is the lowest rate the Training tab's lr field keeps).
pub fn winning_discriminator_config() -> TrainConfig {
    let mut config = tiny_dcgan_config();
    config.optimizer_g = config.optimizer_g.with_lr(1e-7);
    config.optimizer_c = config.optimizer_c.with_lr(2e-3);
    config
}

/// A simple, learnable picture: a coloured disc on white.
pub fn disc_image(i: u32) -> RgbImage {
    let colour = Rgb([
        (40 * i % 256) as u8,
        (90 + 70 * i % 160) as u8,
        (200 - 30 * i % 200) as u8,
    ]);
    let r = 12.0 + (i % 5) as f32 * 3.0;
    RgbImage::from_fn(64, 64, |x, y| {
        let (dx, dy) = (x as f32 - 32.0, y as f32 - 30.0);
        if dx * dx + dy * dy < r * r {
            colour
        } else {
            Rgb([255, 255, 255])
        }
    })
}

/// An in-memory dataset of `n` disc pictures.
pub fn disc_dataset(n: u32) -> Arc<Dataset> {
    let images: Vec<_> = (0..n).map(disc_image).collect();
    Arc::new(Dataset::from_images(&images))
}

/// Writes `n` disc PNGs into `dir`.
pub fn write_disc_folder(dir: &Path, n: u32) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..n {
        disc_image(i)
            .save(dir.join(format!("disc-{i:03}.png")))
            .unwrap();
    }
}

unsafe extern "C" {
    /// glibc's `atexit` that is told the exit status.
    fn on_exit(
        function: extern "C" fn(libc::c_int, *mut libc::c_void),
        arg: *mut libc::c_void,
    ) -> libc::c_int;
}

extern "C" fn exit_now(status: libc::c_int, _: *mut libc::c_void) {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: ends the process at once with the status the test harness chose (101 when a
    // test failed); every test has finished and reported.
    unsafe { libc::_exit(status) }
}

/// Mesa's GL driver can corrupt the heap while tearing down at process exit with wgpu's
/// threads still running (seen here as an occasional SIGSEGV or "malloc_consolidate()" after
/// all tests passed). Registered after the driver loaded, this exit handler runs before the
/// driver's and ends the process with the harness's own exit status.
pub fn exit_without_gpu_teardown() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: registering a plain extern "C" function.
    ONCE.call_once(|| unsafe {
        on_exit(exit_now, std::ptr::null_mut());
    });
}

/// The training state saved in a run directory's checkpoint (`RUN/checkpoint/state.ron`).
pub fn saved_state(run: &Path) -> hitogata::train::TrainState {
    let text = std::fs::read_to_string(run.join("checkpoint/state.ron")).unwrap();
    ron::from_str(&text).unwrap()
}

/// A run directory (`run/checkpoint`) of a tiny DCGAN whose recorded history ends with 250
/// steps of a winning discriminator (loss 1e-4), as a collapsed run's would; its real weights
/// are fresh, so training it on brings the loss straight back up.
pub fn collapsed_history_run(run: &Path) {
    use hitogata::train::{Metrics, TrainState, TrainingSession};
    let session =
        TrainingSession::new(tiny_dcgan_config(), disc_dataset(8), &cpu().device).unwrap();
    let checkpoint = run.join("checkpoint");
    session.save_checkpoint(&checkpoint).unwrap();
    let mut state: TrainState = saved_state(run);
    state.history = (1..=250)
        .map(|step| Metrics {
            step,
            critic_loss: 1e-4,
            generator_loss: 9.0,
            ..Metrics::default()
        })
        .collect();
    state.step = 250;
    std::fs::write(
        checkpoint.join("state.ron"),
        ron::to_string(&state).unwrap(),
    )
    .unwrap();
}

/// Copies a run directory's `checkpoint/` into another run directory (created if needed), to
/// branch a run the way a user would.
pub fn copy_checkpoint(from_run: &Path, to_run: &Path) {
    let to = to_run.join("checkpoint");
    std::fs::create_dir_all(&to).unwrap();
    for entry in std::fs::read_dir(from_run.join("checkpoint")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// A tiny WGAN generator (z 8, ngf 4) trained one step and exported into `dir`: a trained
/// generator to start new runs from.
pub fn trained_tiny_export(dir: &Path) {
    let mut session =
        hitogata::train::TrainingSession::new(tiny_train_config(), disc_dataset(8), &cpu().device)
            .unwrap();
    session.step().unwrap();
    session.export_generator(dir).unwrap();
}

/// A tensor's values as f32, row-major.
pub fn values(t: burn::tensor::Tensor<4>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

/// The largest absolute difference between two equally long lists.
pub fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Exports `generator` into `dir`, in f16 when `half`, else in f32.
pub fn export_as(
    half: bool,
    config: &ModelConfig,
    generator: &hitogata::model::Generator,
    dir: &Path,
) {
    if half {
        hitogata::checkpoint::export_generator_f16(config, generator, dir).unwrap();
    } else {
        hitogata::checkpoint::export_generator(config, generator, dir).unwrap();
    }
}

/// A tiny DCGAN generator trained 30 steps (its pictures depend on z clearly) exported to
/// `dir`, with a critic fitted to it (30 updates) saved beside it in f16; returns the critic.
pub fn tiny_generator_with_critic(dir: &Path) -> hitogata::model::Critic {
    let dev = cpu();
    let mut config = tiny_dcgan_config();
    config.ema_decay = 0.0;
    config.optimizer_g = config.optimizer_g.with_lr(2e-3);
    let mut session =
        hitogata::train::TrainingSession::new(config, disc_dataset(8), &dev.device).unwrap();
    for _ in 0..30 {
        session.step().unwrap();
    }
    session.export_generator(dir).unwrap();
    let critic =
        hitogata::critique::fit_critic(dir, disc_dataset(8), 30, 1, &dev.device, |_, _| {})
            .unwrap();
    hitogata::checkpoint::save_weights_f16(&critic, &dir.join("critic.safetensors")).unwrap();
    critic
}

/// A tiny DCGAN run (learning fast, so that its pictures change between snapshots) trained to
/// the last of `steps`, keeping a snapshot at each of them and saving its checkpoint at the end.
pub fn run_with_snapshots(run: &Path, steps: &[u64]) {
    let mut config = tiny_dcgan_config();
    config.ema_decay = 0.0;
    config.optimizer_g = config.optimizer_g.with_lr(2e-3);
    let mut session =
        hitogata::train::TrainingSession::new(config, disc_dataset(8), &cpu().device).unwrap();
    let dir = hitogata::train::RunDir::new(run);
    while session.step_count() < *steps.iter().max().unwrap() {
        session.step().unwrap();
        if steps.contains(&session.step_count()) {
            dir.save_snapshot(&session).unwrap();
        }
    }
    dir.save(&session).unwrap();
}

/// Waits for a training worker's event matching `want`, returning it (other events are
/// skipped); a failure event ends the test. The limit is a hang guard, not a timing.
pub fn expect(
    w: &hitogata::train::TrainWorker,
    what: &str,
    want: impl Fn(&hitogata::train::TrainEvent) -> bool,
) -> hitogata::train::TrainEvent {
    use hitogata::train::TrainEvent;
    use std::time::{Duration, Instant};
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        if let Some(e) = w.recv_timeout(Duration::from_millis(100)) {
            if let TrainEvent::Failed(m) = &e {
                panic!("worker failed while waiting for {what}: {m}");
            }
            if want(&e) {
                return e;
            }
        }
    }
    panic!("timed out waiting for {what}");
}

/// The shipped generator trained in PyTorch (checkpoints/pytorch-faces), as PyTorch saved it.
pub fn pytorch_faces() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("checkpoints/pytorch-faces/netG_epoch_119.pth")
}

//! Driving the real app with egui_kittest.

use std::path::Path;
use std::time::Duration;

use egui_kittest::Harness;
use hitogata::app::{AppOptions, HitogataApp};
use hitogata::device::DeviceChoice;

/// The app under test.
pub type AppHarness = Harness<'static, HitogataApp>;

/// The real app (wgpu renderer where wgpu runs), its generator on the CPU.
pub fn app_harness(checkpoint: &Path, bookmarks: &Path, size: egui::Vec2) -> AppHarness {
    let options = AppOptions {
        checkpoint: Some(checkpoint.to_path_buf()),
        bookmarks_path: Some(bookmarks.to_path_buf()),
        device: DeviceChoice::Cpu,
        fresh: true,
    };
    let mut builder = Harness::builder().with_size(size);
    if super::wgpu().is_some() {
        builder = builder.wgpu();
    }
    builder.build_eframe(move |cc| HitogataApp::new(cc, options))
}

/// Steps the UI until `done` holds; workers answer from their own threads. The limit is
/// generous wall time, not a performance bound: CI's two cores may be busy.
pub fn wait_until(h: &mut AppHarness, what: &str, done: impl Fn(&HitogataApp) -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    while std::time::Instant::now() < deadline {
        h.step();
        if done(h.state()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!(
        "timed out waiting for {what}; training step {}, error: {:?}",
        h.state().training().step(),
        h.state().training().error()
    );
}

/// Types `text` into the text field labelled `label`.
pub fn type_into(h: &mut AppHarness, label: &str, text: &str) {
    use egui_kittest::kittest::Queryable;
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, label)
        .set_text_value_accesskit(text);
    h.run_steps(2);
}

/// Sets the number field labelled `label`.
pub fn set_number(h: &mut AppHarness, label: &str, value: f64) {
    use egui_kittest::kittest::Queryable;
    h.get_by_label(label).set_value_accesskit(value);
    h.run_steps(2);
}

/// Picks `entry` in the drop-down labelled `combo`.
pub fn choose(h: &mut AppHarness, combo: &str, entry: &str) {
    use egui_kittest::kittest::Queryable;
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, combo)
        .click();
    h.run_steps(2);
    h.get_by_label(entry).click();
    h.run_steps(2);
}

/// Opens the Training tab's "Advanced" section (collapsed at first).
pub fn advanced(h: &mut AppHarness) {
    use egui_kittest::kittest::Queryable;
    if h.query_by_label("ngf").is_none() {
        h.get_by_label("Advanced").click();
        h.run_steps(2);
    }
}

/// The Training tab's Advanced fields for a tiny model (as `TINY_SHAPE`), samples every 2
/// steps and a checkpoint every `checkpoint_every` (0: none).
pub fn tiny_model(h: &mut AppHarness, checkpoint_every: f64) {
    advanced(h);
    for (label, value) in [
        ("ngf", 4.0),
        ("ndf", 4.0),
        ("z", 8.0),
        ("batch", 8.0),
        ("n_critic", 2.0),
        ("checkpoint every", checkpoint_every),
        ("samples every", 2.0),
    ] {
        set_number(h, label, value);
    }
}

/// A file dropped on the window, as the windowing layer would hand it over.
#[derive(Debug)]
pub struct Dropped(pub std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

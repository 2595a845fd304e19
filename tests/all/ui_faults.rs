//! Faults from outside while the app runs, driven through the real app: another program
//! changing or deleting the bookmarks file, the checkpoint folder deleted while loaded.

use crate::common;

use common::ui::{AppHarness, wait_until};
use egui_kittest::kittest::Queryable;
use hitogata::checkpoint::export_generator;

fn harness(checkpoint: &std::path::Path, bookmarks: &std::path::Path) -> AppHarness {
    common::ui::app_harness(checkpoint, bookmarks, egui::vec2(1280.0, 860.0))
}

fn tiny_export(dir: &std::path::Path) {
    let config = common::tiny_model();
    let dev = common::cpu();
    export_generator(&config, &config.init_generator(&dev.device), dir).unwrap();
}

fn loaded(h: &mut AppHarness) {
    wait_until(h, "the first picture", |a| {
        a.model().is_some() && a.explorer().images_shown >= 1
    });
}

fn bookmark(h: &mut AppHarness, name: &str) {
    h.state_mut().bookmarks_mut().new_name = name.into();
    h.get_by_label("Bookmark").click();
    h.run_steps(2);
}

#[test]
fn bookmarks_changed_or_deleted_by_another_program_are_not_overwritten_silently() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("ckpt");
    tiny_export(&checkpoint);
    let path = dir.path().join("bookmarks.ron");
    let mut h = harness(&checkpoint, &path);
    loaded(&mut h);
    bookmark(&mut h, "first");
    let p = path.clone();
    wait_until(&mut h, "the bookmarks file", move |_| p.exists());

    // Another program (a sync tool, an editor) writes its own version.
    let theirs = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"first\"", "\"edited elsewhere\"");
    std::fs::write(&path, &theirs).unwrap();
    bookmark(&mut h, "second");
    wait_until(&mut h, "the notice", |a| {
        a.status()
            .is_some_and(|s| s.contains("changed by another program"))
    });
    let kept = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains("bookmarks.ron.external-"))
        .expect("their version kept beside it");
    assert_eq!(std::fs::read_to_string(kept).unwrap(), theirs);
    h.get_by_label_contains("changed by another program");

    // Deleted: written again, and said.
    std::fs::remove_file(&path).unwrap();
    bookmark(&mut h, "third");
    wait_until(&mut h, "the notice", |a| {
        a.status()
            .is_some_and(|s| s.contains("deleted by another program"))
    });
    let saved = hitogata::bookmarks::BookmarkFile::read(&path).unwrap();
    let names: Vec<&str> = saved.bookmarks.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["first", "second", "third"]);
}

#[test]
fn the_checkpoint_folder_deleted_while_loaded_keeps_the_explorer_working() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("ckpt");
    tiny_export(&checkpoint);
    let mut h = harness(&checkpoint, &dir.path().join("bookmarks.ron"));
    loaded(&mut h);
    std::fs::remove_dir_all(&checkpoint).unwrap();
    // The generator is in memory: new faces, jitter and the layer viewer still work.
    let shown = h.state().explorer().images_shown;
    let before = h.state().explorer().image.clone();
    h.get_by_label("Random").click();
    wait_until(&mut h, "a new picture", move |a| {
        a.explorer().images_shown > shown
    });
    assert_ne!(h.state().explorer().image, before);
    h.get_by_label("Layers").click();
    wait_until(&mut h, "the layer", |a| a.layers().view.is_some());
    assert!(h.state().load_error().is_none());
}

/// A file dropped on the window, as the desktop hands it over: a path.
#[derive(Debug)]
struct DroppedPath(std::path::PathBuf);

impl egui::DroppedFile for DroppedPath {
    fn path(&self) -> &std::path::Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        Err("the app reads dropped files by path".into())
    }
}

#[test]
fn a_dropped_device_or_pipe_and_a_checkpoint_holding_one_are_status_messages() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("ckpt");
    tiny_export(&checkpoint);
    let bookmarks = dir.path().join("bookmarks.ron");
    let mut h = harness(&checkpoint, &bookmarks);
    loaded(&mut h);
    bookmark(&mut h, "kept");
    let b = bookmarks.clone();
    wait_until(&mut h, "the bookmarks file", move |_| b.exists());
    let saved = std::fs::read(&bookmarks).unwrap();

    // Dropped on the window: a link to /dev/zero, then a pipe nobody writes to.
    let zero = dir.path().join("zero.png");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let fifo = dir.path().join("pipe.png");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    for (path, reason) in [(zero, "character device"), (fifo, "named pipe")] {
        h.input_mut()
            .dropped_files
            .push(std::sync::Arc::new(DroppedPath(path.clone())));
        let shown = path.display().to_string();
        wait_until(&mut h, "the refusal", move |a| {
            a.status()
                .is_some_and(|s| s.contains(&shown) && s.contains(reason))
        });
    }

    // A checkpoint whose weights are a link to /dev/zero: refused, the old model stays.
    let broken = dir.path().join("broken");
    tiny_export(&broken);
    std::fs::remove_file(broken.join("generator.safetensors")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", broken.join("generator.safetensors")).unwrap();
    h.state_mut().open_checkpoint(broken);
    wait_until(&mut h, "the load error", |a| {
        a.load_error()
            .is_some_and(|e| e.contains("character device"))
    });

    // The app keeps working, and nothing saved was touched.
    let shown = h.state().explorer().images_shown;
    h.get_by_label("Random").click();
    wait_until(&mut h, "a new picture", move |a| {
        a.explorer().images_shown > shown
    });
    assert_eq!(std::fs::read(&bookmarks).unwrap(), saved);
}

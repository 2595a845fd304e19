//! The panels that look inside the model, driven like a user: every one opened on the
//! shipped model, and the side-by-side panel (a second checkpoint beside the first, one face
//! through a run's snapshots) in detail.

use crate::common;

use std::path::Path;

use common::ui::{AppHarness, type_into, wait_until};
use egui_kittest::kittest::Queryable;
use hitogata::bookmarks::BookmarkStore;
use hitogata::inference::generate_images;
use hitogata::latent::Latent;

fn harness(checkpoint: &Path, bookmarks: &Path) -> AppHarness {
    common::ui::app_harness(checkpoint, bookmarks, egui::vec2(1280.0, 860.0))
}

fn open_panel(h: &mut AppHarness) {
    wait_until(h, "the first picture", |a| {
        a.model().is_some() && a.explorer().images_shown >= 1
    });
    h.get_by_label("Side by side").click();
    h.run_steps(2);
}

/// Compares with `folder` and waits until it is drawn (`pictures` vectors by each generator).
fn compare_with(h: &mut AppHarness, field: &str, folder: &Path) {
    type_into(h, field, folder.to_str().unwrap());
    h.get_by_label("Compare").click();
    wait_until(h, "the comparison", |a| {
        a.compare()
            .loaded
            .as_ref()
            .is_some_and(|l| l.source.path() == folder)
            && a.compare()
                .drawn
                .as_ref()
                .is_some_and(|(_, p)| p.len() == a.compare().loaded.as_ref().unwrap().steps.len())
    });
}

#[test]
fn a_second_checkpoint_draws_the_picture_and_the_bookmarks_beside_the_first() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    common::run_with_snapshots(&run, &[1, 6]);
    let bookmarks = tmp.path().join("bookmarks.ron");
    let mut store = BookmarkStore::open(&bookmarks).store;
    for seed in [11, 12] {
        store
            .add(format!("b{seed}"), Latent::from_seed(seed, 8), None, None)
            .unwrap();
    }
    let mut h = harness(&run.join("generator"), &bookmarks);
    open_panel(&mut h);

    // B = the same generator: every picture matches A's.
    compare_with(&mut h, "Second checkpoint", &run.join("generator"));
    h.run_steps(2);
    let (latents, pictures) = h.state().compare().drawn.clone().unwrap();
    assert_eq!(latents.len(), 3, "the picture and two bookmarks");
    assert_eq!(latents[0], h.state().current().effective_z());
    assert_eq!(Some(&pictures[0][0]), h.state().explorer().image.as_ref());
    let dev = common::cpu();
    let g = hitogata::checkpoint::load_generator(&run.join("generator"), &dev.device).unwrap();
    let direct = generate_images(&g.generator, &latents[1..], &dev.device);
    assert_eq!(pictures[0][1..], direct[..]);
    h.get_by_label("B's picture");

    // B = an early snapshot: another picture for the same z.
    compare_with(
        &mut h,
        "Second checkpoint",
        &run.join("snapshots/step-000001"),
    );
    let state = h.state();
    assert_eq!(state.compare().loaded.as_ref().unwrap().steps, [0]);
    let (_, pictures) = state.compare().drawn.as_ref().unwrap();
    assert_ne!(Some(&pictures[0][0]), state.explorer().image.as_ref());

    // A checkpoint that cannot be read says why and the comparison stays.
    type_into(
        &mut h,
        "Second checkpoint",
        tmp.path().join("nowhere").to_str().unwrap(),
    );
    h.get_by_label("Compare").click();
    wait_until(&mut h, "the error", |a| a.compare().error.is_some());
    assert!(h.state().compare().drawn.is_some());
}

#[test]
fn a_runs_snapshots_draw_the_face_through_training_with_the_changes_between_them() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    common::run_with_snapshots(&run, &[1, 3, 6]);
    let mut h = harness(&run, &tmp.path().join("bookmarks.ron"));
    open_panel(&mut h);
    h.get_by_label("Through training").click();
    h.run_steps(2);
    // The run folder is filled in from the checkpoint that is open.
    assert_eq!(h.state().compare().run, run.display().to_string());
    compare_with(&mut h, "Run folder", &run);
    h.run_steps(2);
    let state = h.state();
    assert_eq!(state.compare().loaded.as_ref().unwrap().steps, [1, 3, 6]);
    let (latents, pictures) = state.compare().drawn.clone().unwrap();
    let frames: Vec<_> = pictures.iter().map(|p| p[0].clone()).collect();
    assert_eq!(
        state.compare().changes,
        hitogata::snapshots::picture_changes(&frames)
    );
    assert_eq!(latents, [state.current().effective_z()]);
    h.get_by_label_contains("3 snapshots, steps 1–6");
    h.get_by_label_contains("Change from the snapshot before");
    h.get_by_label("Save GIF…");

    // A new z is drawn through the snapshots again.
    h.get_by_label("Random").click();
    wait_until(&mut h, "the new face", |a| {
        a.compare()
            .drawn
            .as_ref()
            .is_some_and(|(l, _)| l[0] == a.current().effective_z())
    });
}

#[test]
fn a_checkpoint_with_another_latent_size_is_refused_with_the_sizes() {
    let tmp = tempfile::tempdir().unwrap();
    let dev = common::cpu();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let small = common::tiny_model();
    let wide = common::tiny_model().with_latent_dim(12);
    hitogata::checkpoint::export_generator(&small, &small.init_generator(&dev.device), &a).unwrap();
    hitogata::checkpoint::export_generator(&wide, &wide.init_generator(&dev.device), &b).unwrap();
    let mut h = harness(&a, &tmp.path().join("bookmarks.ron"));
    open_panel(&mut h);
    type_into(&mut h, "Second checkpoint", b.to_str().unwrap());
    h.get_by_label("Compare").click();
    wait_until(&mut h, "B loaded", |a| a.compare().loaded.is_some());
    h.run_steps(2);
    h.get_by_label_contains("takes latent vectors of 12 numbers; this z has 8");
}

#[test]
fn every_panel_opens_on_the_shipped_model() {
    let tmp = tempfile::tempdir().unwrap();
    let faces = hitogata::app::default_checkpoint();
    let mut h = harness(&faces, &tmp.path().join("bookmarks.ron"));
    // The critic shipped beside the generator scores the picture.
    wait_until(&mut h, "the shipped critic's score", |a| {
        a.critic().score.is_some()
    });
    assert_eq!(h.state().critic().available, Ok(true));
    assert_eq!(h.state().critic().gradient.len(), 40);

    h.get_by_label("Layers").click();
    wait_until(&mut h, "the first layer", |a| a.layers().view.is_some());
    let view = h.state().layers().view.clone().unwrap();
    assert_eq!((view.channels.len(), view.side), (8 * 32, 4), "ngf 32");

    // The nearest training faces, from the shipped folder the panel starts with.
    h.get_by_label("Nearest training images").click();
    h.run_steps(2);
    h.get_by_label("Load").click();
    wait_until(&mut h, "the nearest faces", |a| {
        a.nearest().found.len() == 5
    });

    // Folded again, so that the next panel is in view.
    h.get_by_label("Layers").click();
    h.get_by_label("Nearest training images").click();
    h.run_steps(2);
    h.get_by_label("Side by side").click();
    h.run_steps(2);
    let people = faces.with_file_name("people");
    compare_with(&mut h, "Second checkpoint", &people);
    let (_, pictures) = h.state().compare().drawn.clone().unwrap();
    assert_ne!(
        Some(&pictures[0][0]),
        h.state().explorer().image.as_ref(),
        "another model draws another person"
    );
}

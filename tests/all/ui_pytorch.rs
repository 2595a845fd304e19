//! The app on models trained in PyTorch: a `.pth` dropped on the window or given at start
//! opens with its critic, and every debugger panel follows its latent size, picture size and
//! channels.

use crate::common;

use std::path::{Path, PathBuf};

use common::ui::{AppHarness, Dropped, choose, type_into, wait_until};
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use hitogata::app::Sort;

/// A user's folder holding a PyTorch run's two files under the names both code bases use.
fn pytorch_run(dir: &Path, case: &str) -> PathBuf {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pytorch");
    let generator = dir.join("netG_epoch_24.pth");
    std::fs::copy(fixtures.join(format!("{case}.netG.pth")), &generator).unwrap();
    std::fs::copy(
        fixtures.join(format!("{case}.netD.pth")),
        dir.join("netD_epoch_24.pth"),
    )
    .unwrap();
    generator
}

fn harness(checkpoint: &Path, dir: &Path) -> AppHarness {
    common::ui::app_harness(
        checkpoint,
        &dir.join("bookmarks.ron"),
        egui::vec2(1280.0, 900.0),
    )
}

fn is_grey(img: &image::RgbImage) -> bool {
    img.pixels().all(|p| p[0] == p[1] && p[1] == p[2])
}

#[test]
fn a_grey_128_px_wgan_dropped_on_the_window_opens_with_its_critic_and_every_panel_follows() {
    let tmp = tempfile::tempdir().unwrap();
    let mut h = harness(&hitogata::app::default_checkpoint(), tmp.path());
    wait_until(&mut h, "the shipped model", |a| {
        a.explorer().images_shown >= 1
    });
    let wgan = tmp.path().join("wgan");
    std::fs::create_dir(&wgan).unwrap();
    let generator = pytorch_run(&wgan, "wgan-nz40-128-grey-nobn-extra1");
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(generator.clone())));
    wait_until(&mut h, "the PyTorch model's picture", |a| {
        a.model().is_some_and(|m| m.channels() == 1)
            && a.explorer()
                .image
                .as_ref()
                .is_some_and(|i| i.width() == 128)
    });
    let status = h.state().status().unwrap_or_default();
    assert!(
        status.contains("netG_epoch_24.pth (PyTorch)") && status.contains("netD_epoch_24.pth"),
        "{status}"
    );
    assert!(is_grey(h.state().explorer().image.as_ref().unwrap()));
    // Remembered as the file the user opened, not its import in the cache.
    assert_eq!(
        h.state().current().checkpoint_dir.as_ref(),
        Some(&generator)
    );

    // The critic came with it and scores the picture.
    wait_until(&mut h, "the critic's score", |a| a.critic().score.is_some());
    assert_eq!(h.state().critic().available, Ok(true));
    assert_eq!(h.state().critic().gradient.len(), 40);

    // The layer viewer: its first layer is 4×4 with 8·ngf = 16 maps.
    h.get_by_label("Layers").click();
    wait_until(&mut h, "the first layer", |a| a.layers().view.is_some());
    let view = h.state().layers().view.clone().unwrap();
    assert_eq!((view.channels.len(), view.side), (16 * 2, 4));
    h.get_by_label("Layers").click();

    // Nearest training pictures: compared in grey.
    let data = tmp.path().join("data");
    common::write_disc_folder(&data, 12);
    h.get_by_label("Nearest training images").click();
    h.run_steps(2);
    type_into(&mut h, "Training folder", data.to_str().unwrap());
    h.get_by_label("Load").click();
    wait_until(&mut h, "the nearest pictures", |a| {
        a.nearest().found.len() == 5
    });
    assert!(h.state().nearest().index.as_ref().unwrap().grey);
    h.get_by_label("Nearest training images").click();
    h.run_steps(2);

    // Jitter draws grey children at 128 px.
    h.get_by_label("From current z").click();
    wait_until(&mut h, "the children", |a| a.jitter().textures.len() == 16);
    assert_eq!(h.state().jitter().children[0].dim(), 40);

    // Side by side with the tutorial's grey 64 px generator of the same latent size.
    let examples = tmp.path().join("examples");
    std::fs::create_dir(&examples).unwrap();
    let other = pytorch_run(&examples, "examples-nz40-64-grey-dataparallel");
    h.get_by_label("Side by side").click();
    h.run_steps(2);
    type_into(&mut h, "Second checkpoint", other.to_str().unwrap());
    h.get_by_label("Compare").click();
    wait_until(&mut h, "the comparison", |a| a.compare().drawn.is_some());
    let (_, pictures) = h.state().compare().drawn.clone().unwrap();
    assert_eq!(pictures[0][0].width(), 64);
    assert!(is_grey(&pictures[0][0]));
}

#[test]
fn a_100_dimension_model_has_a_slider_per_dimension_and_the_dimensions_view_sorts_them() {
    let tmp = tempfile::tempdir().unwrap();
    let generator = pytorch_run(tmp.path(), "examples-nz100-64-rgb");
    let mut h = harness(&generator, tmp.path());
    wait_until(&mut h, "the first picture", |a| {
        a.explorer().images_shown >= 1
    });
    assert_eq!(h.state().current().z.dim(), 100);
    // A slider for the last dimension moves it and draws again.
    let shown = h.state().explorer().images_shown;
    h.get_by_role_and_label(Role::Slider, "z99")
        .set_value_accesskit(2.5);
    h.run_steps(2);
    assert!((h.state().current().z.0[99] - 2.5).abs() < 1e-4);
    wait_until(&mut h, "the new picture", move |a| {
        a.explorer().images_shown > shown
    });

    // The Dimensions view strips all 100 and sorts them by their effect here.
    h.get_by_label("Dimensions").click();
    h.run_steps(2);
    wait_until(&mut h, "a strip per dimension", |a| {
        a.dimensions().strip_count() >= 100
    });
    choose(&mut h, "sort", "effect here");
    assert_eq!(h.state().dimensions().sort, Sort::Here);
    wait_until(&mut h, "the effects", |a| a.dimensions().here.len() >= 100);
    let here = h.state().dimensions().here.clone();
    let mut by_effect: Vec<usize> = (0..100).collect();
    by_effect.sort_by(|&a, &b| here[b].total_cmp(&here[a]));
    // Rows run from the dimension that changes the picture most down.
    h.run_steps(2);
    let top = |i: usize| {
        h.get_by_role_and_label(Role::Slider, &format!("z{i}"))
            .rect()
            .top()
    };
    let (first, second, last) = (by_effect[0], by_effect[1], by_effect[99]);
    assert!(top(first) < top(second) && top(second) < top(last));
}

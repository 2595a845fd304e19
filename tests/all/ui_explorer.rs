//! egui_kittest drives the real app (wgpu renderer on Mesa's software GL in CI; the generator
//! on the CPU device so the tests stay quick).

use crate::common;

use std::path::{Path, PathBuf};

use common::ui::AppHarness;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use hitogata::checkpoint::export_generator;
use hitogata::latent::Latent;

struct Fixture {
    _dir: tempfile::TempDir,
    checkpoint: PathBuf,
    bookmarks: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("ckpt");
    let config = common::tiny_model();
    let dev = common::cpu();
    dev.device.seed(3);
    export_generator(&config, &config.init_generator(&dev.device), &checkpoint).unwrap();
    let bookmarks = dir.path().join("bookmarks.ron");
    Fixture {
        _dir: dir,
        checkpoint,
        bookmarks,
    }
}

fn harness(checkpoint: &Path, bookmarks: &Path) -> AppHarness {
    common::ui::app_harness(checkpoint, bookmarks, egui::vec2(1280.0, 860.0))
}

use common::ui::wait_until;

fn loaded(h: &mut AppHarness) {
    wait_until(h, "the first picture", |a| {
        a.model().is_some() && a.explorer().images_shown >= 1
    });
}

#[test]
fn moving_a_slider_changes_the_picture() {
    let f = fixture();
    let mut h = harness(&f.checkpoint, &f.bookmarks);
    loaded(&mut h);
    let before = h.state().explorer().image.clone().unwrap();
    let shown = h.state().explorer().images_shown;
    let z3 = h.state().current().z.0[3];
    h.get_all_by_role(Role::Slider)
        .find(|n| format!("{n:?}").contains("z3"))
        .expect("slider z3")
        .focus();
    h.step();
    for _ in 0..10 {
        h.key_press(egui::Key::ArrowRight);
        h.step();
    }
    wait_until(&mut h, "a new picture", move |a| {
        a.explorer().images_shown > shown
    });
    assert!(h.state().current().z.0[3] > z3, "the slider moved z3 up");
    wait_until(&mut h, "the settled picture", |a| {
        a.explorer().image.is_some()
    });
    assert_ne!(h.state().explorer().image.clone().unwrap(), before);
    assert!(h.state().explorer().texture.is_some());
}

#[test]
fn random_with_a_given_seed_gives_the_same_z_twice() {
    let f = fixture();
    let mut h = harness(&f.checkpoint, &f.bookmarks);
    loaded(&mut h);
    let dim = h.state().current().z.dim();
    let roll = |h: &mut AppHarness| {
        h.state_mut().explorer_mut().seed = 41;
        h.get_by_label("Random").click();
        h.step();
        h.state().current().z.clone()
    };
    let a = roll(&mut h);
    let b = roll(&mut h);
    assert_eq!(a, b);
    assert_eq!(a, Latent::from_seed(42, dim));
}

#[test]
fn undo_and_redo_restore_exact_vectors() {
    let f = fixture();
    let mut h = harness(&f.checkpoint, &f.bookmarks);
    loaded(&mut h);
    let z0 = h.state().current().z.clone();
    h.get_by_label("Random").click();
    h.step();
    let z1 = h.state().current().z.clone();
    h.get_by_label("Random").click();
    h.step();
    let z2 = h.state().current().z.clone();
    assert!(z0 != z1 && z1 != z2);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.step();
    assert_eq!(h.state().current().z, z1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.step();
    assert_eq!(h.state().current().z, z0);
    h.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::Z,
    );
    h.step();
    assert_eq!(h.state().current().z, z1);
}

#[test]
fn a_bookmark_survives_a_restart() {
    let f = fixture();
    let z = {
        let mut h = harness(&f.checkpoint, &f.bookmarks);
        loaded(&mut h);
        h.get_by_label("Random").click();
        h.step();
        h.state_mut().bookmarks_mut().new_name = "smiley".into();
        h.get_by_label("Bookmark").click();
        h.step();
        let path = f.bookmarks.clone();
        wait_until(&mut h, "the bookmarks file", move |_| path.exists());
        h.state().current().z.clone()
    };
    let mut h = harness(&f.checkpoint, &f.bookmarks);
    loaded(&mut h);
    let all = h.state().bookmarks().store.all().to_vec();
    assert_eq!(all.len(), 1);
    assert_eq!((all[0].name.as_str(), &all[0].z), ("smiley", &z));
    // Its thumbnail re-renders from z with the current checkpoint.
    wait_until(&mut h, "the thumbnail", |a| {
        a.bookmarks().thumbnails.len() == 1
    });
    // Clicking it loads the vector.
    h.state_mut().set_z(Latent::zeros(z.dim()));
    h.get_by_label("smiley").click();
    h.step();
    assert_eq!(h.state().current().z, z);
}

#[test]
fn a_corrupt_bookmarks_file_is_kept_aside_and_reported() {
    let f = fixture();
    std::fs::write(&f.bookmarks, "this is ( not RON").unwrap();
    let mut h = harness(&f.checkpoint, &f.bookmarks);
    loaded(&mut h);
    let warning = h.state().bookmarks().warning.clone().unwrap_or_default();
    assert!(
        warning.contains("could not be read") && warning.contains("broken-"),
        "{warning}"
    );
    let dir = f.bookmarks.parent().unwrap();
    let aside: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("bookmarks.ron.broken-")
        })
        .collect();
    assert_eq!(aside.len(), 1);
    assert_eq!(
        std::fs::read_to_string(&aside[0]).unwrap(),
        "this is ( not RON"
    );
    assert!(h.state().bookmarks().store.all().is_empty());
}

#[test]
fn jitter_with_a_seed_gives_the_same_children() {
    let f = fixture();
    let mut h = harness(&f.checkpoint, &f.bookmarks);
    loaded(&mut h);
    h.get_by_label("Random").click();
    h.step();
    let parent = h.state().current().z.clone();
    h.get_by_label("From current z").click();
    h.step();
    wait_until(&mut h, "the children", |a| a.jitter().textures.len() == 16);
    let first = h.state().jitter().children.clone();
    assert_eq!(first, parent.jitter(0.5, 16, 1));
    // Re-roll changes them; the same seed brings them back.
    // (accesskit click: the pointer still hovers the previous button, whose tooltip can cover this one)
    h.get_by_label("Re-roll").click_accesskit();
    let before = first.clone();
    wait_until(&mut h, "new children", move |a| {
        a.jitter().children != before
    });
    h.state_mut().jitter_mut().seed = 1;
    h.state_mut().jitter_mut().invalidate();
    h.step();
    assert_eq!(h.state().jitter().children, first);
    // Bookmarking a child keeps its exact vector.
    wait_until(&mut h, "the children again", |a| {
        a.jitter().textures.len() == 16
    });
    // The children's buttons never wrap: two-digit labels stay on one line, as tall as the rest.
    let one_digit = h.get_by_label("Bookmark 2").rect();
    let two_digits = h.get_by_label("Bookmark 10").rect();
    assert_eq!(two_digits.height(), one_digit.height());
    assert!(
        two_digits.width() > one_digit.width(),
        "{one_digit:?} {two_digits:?}"
    );
    h.get_by_label("Bookmark 2").click_accesskit();
    h.step();
    let b = h.state().bookmarks().store.all().last().cloned().unwrap();
    assert_eq!(b.z, first[2]);
}

#[test]
fn a_broken_checkpoint_is_reported_and_the_app_stays_open() {
    let f = fixture();
    std::fs::write(f.checkpoint.join("generator.safetensors"), b"garbage").unwrap();
    let mut h = harness(&f.checkpoint, &f.bookmarks);
    wait_until(&mut h, "the load error", |a| a.load_error().is_some());
    let msg = h.state().load_error().unwrap();
    assert!(msg.contains("generator.safetensors"), "{msg}");
    h.get_by_label("Open another checkpoint...");
}

#[test]
fn main_window_snapshot() {
    if common::wgpu().is_none() {
        return;
    }
    let f = fixture();
    let mut h = harness(&f.checkpoint, &f.bookmarks);
    loaded(&mut h);
    // The checkpoint's analysis enables the jitter's "along" field: wait for it.
    wait_until(&mut h, "the analysis", |a| {
        a.dimensions().notes.mean_sensitivity.is_some()
    });
    // Hide the parts that differ between runs: paths and timings live in the status bar.
    h.state_mut().hide_run_details("CPU (burn flex)");
    h.run_steps(4);
    h.snapshot("main_window");
}

#[test]
fn the_dimensions_view_strips_every_dimension_follows_edits_and_keeps_its_directions() {
    let dir = tempfile::tempdir().unwrap();
    let bookmarks = dir.path().join("bookmarks.ron");
    let faces = hitogata::app::default_checkpoint();
    let mut h = harness(&faces, &bookmarks);
    loaded(&mut h);
    h.get_by_label("Dimensions").click();
    h.run_steps(2);
    wait_until(&mut h, "a strip per dimension", |a| {
        a.dimensions().strip_count() >= 40
    });
    // The shipped model has never been seen with these notes: it is analysed once, and
    // the directions join the rows (with their own strips).
    wait_until(&mut h, "the analysis", |a| {
        a.dimensions().notes.mean_sensitivity.is_some()
    });
    assert_eq!(h.state().dimensions().notes.directions.len(), 20);
    wait_until(&mut h, "strips for the directions too", |a| {
        a.dimensions().strip_count() == 60
    });
    assert!(
        dir.path().join("checkpoint-notes.ron").exists() || {
            // Written by the background writer: give it a moment.
            std::thread::sleep(std::time::Duration::from_millis(500));
            dir.path().join("checkpoint-notes.ron").exists()
        }
    );

    // A row's slider moves z along it, and new strips follow.
    let received = h.state().dimensions().strips_received;
    let before = h.state().current().z.clone();
    h.get_by_role_and_label(Role::Slider, "z0")
        .set_value_accesskit(1.5);
    h.run_steps(2);
    assert!((h.state().current().z.0[0] - 1.5).abs() < 1e-4);
    assert_eq!(
        &h.state().current().z.0[1..],
        &before.0[1..],
        "only z0 moved"
    );
    wait_until(&mut h, "new strips", move |a| {
        a.dimensions().strips_received > received
    });

    // A strip picture sets its value, undoably.
    h.get_by_label("z3 = +2.0").click_accesskit();
    h.run_steps(2);
    assert_eq!(h.state().current().z.0[3], 2.0);
    h.get_by_label("Undo").click();
    h.run_steps(2);
    assert_eq!(h.state().current().z.0[3], before.0[3]);

    // A direction renamed keeps its name across a restart, with the analysis: nothing is
    // recomputed.
    h.get_by_role_and_label(Role::TextInput, "d1")
        .set_text_value_accesskit("hair");
    h.run_steps(2);
    drop(h);
    let mut h = harness(&faces, &bookmarks);
    loaded(&mut h);
    assert!(!h.state().dimensions().analysing);
    assert_eq!(h.state().dimensions().notes.directions[0].name, "hair");
    assert!(h.state().dimensions().notes.mean_sensitivity.is_some());

    // A broken notes file is kept aside, never overwritten.
    drop(h);
    std::fs::write(dir.path().join("checkpoint-notes.ron"), "(checkpoints: [").unwrap();
    let mut h = harness(&faces, &bookmarks);
    loaded(&mut h);
    let aside = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("checkpoint-notes.ron.broken-")
        });
    assert!(aside, "the broken file was moved aside");
    let warning = h.state().dimensions().warning.clone().unwrap_or_default();
    assert!(warning.contains("broken-"), "{warning}");
}

/// A bookmarks file of `groups`: (tag, count, offset along z2) each, written as a user's
/// file would be; returns the vectors in order.
fn tagged_bookmarks(path: &Path, groups: &[(&str, usize, f32)]) -> Vec<Latent> {
    let mut file = hitogata::bookmarks::BookmarkFile {
        version: 1,
        ..Default::default()
    };
    let mut all = Vec::new();
    for (tag, count, offset) in groups {
        for i in 0..*count {
            let mut z = Latent::from_seed(100 + all.len() as u64, 8);
            z.0[2] += offset;
            file.bookmarks.push(hitogata::bookmarks::Bookmark {
                id: file.next_id,
                name: format!("{tag} {i}"),
                note: String::new(),
                z: z.clone(),
                created: "2026-12-03T10:00:00+00:00".into(),
                checkpoint: None,
                parent: None,
                tags: vec![tag.to_string()],
            });
            file.next_id += 1;
            all.push(z);
        }
    }
    file.write(path).unwrap();
    all
}

#[test]
fn tagged_bookmarks_give_an_attribute_direction_that_survives_a_restart() {
    let f = fixture();
    tagged_bookmarks(&f.bookmarks, &[("smile", 6, 6.0), ("plain", 6, 0.0)]);
    let mut h = harness(&f.checkpoint, &f.bookmarks);
    loaded(&mut h);
    h.get_by_label("Dimensions").click();
    h.run_steps(2);
    wait_until(&mut h, "the analysis", |a| {
        a.dimensions().notes.mean_sensitivity.is_some()
    });
    let found = h.state().dimensions().notes.directions.len();
    // "smile" against all others (the plain ones): the default choice.
    h.get_by_label("Add attribute direction").click();
    h.run_steps(2);
    let directions = h.state().dimensions().notes.directions.clone();
    assert_eq!(directions.len(), found + 1);
    let smile = directions.last().unwrap();
    assert_eq!(smile.name, "plain vs others", "the first tag in order");
    assert!(
        smile.vector[2] < -0.9,
        "from the smiles to the plain faces: {:?}",
        smile.vector
    );
    assert!(smile.score > 2.0, "{}", smile.score);
    wait_until(&mut h, "its strip", move |a| {
        a.dimensions().strip_count() == 8 + found + 1
    });
    drop(h);
    let mut h = harness(&f.checkpoint, &f.bookmarks);
    loaded(&mut h);
    let kept = h.state().dimensions().notes.directions.clone();
    assert_eq!(kept.last().unwrap().name, "plain vs others");
    assert_eq!(h.state().bookmarks().store.tags(), ["plain", "smile"]);
}

#[test]
fn interpolation_runs_between_two_bookmarks_and_a_frame_can_be_adopted() {
    let f = fixture();
    let z = tagged_bookmarks(&f.bookmarks, &[("a", 1, 0.0), ("b", 1, 2.0)]);
    let mut h = harness(&f.checkpoint, &f.bookmarks);
    loaded(&mut h);
    let buttons = |h: &AppHarness, label: &str| h.get_all_by_label(label).count();
    assert_eq!(buttons(&h, "From"), 2);
    h.get_all_by_label("From").next().unwrap().click();
    h.run_steps(2);
    h.get_all_by_label("To").nth(1).unwrap().click();
    h.run_steps(2);
    wait_until(&mut h, "the frames", |a| {
        a.interpolation().images.len() == 8
    });
    let frames = h.state().interpolation().latents.clone();
    assert_eq!(
        frames.first(),
        Some(&z[0]),
        "starts exactly at the first bookmark"
    );
    assert_eq!(frames.last(), Some(&z[1]), "ends exactly at the second");
    // Linear instead: the middle frame is the midpoint.
    h.get_by_label("spherical").click();
    h.run_steps(2);
    wait_until(&mut h, "the linear frames", |a| {
        !a.interpolation().spherical && a.interpolation().images.len() == 8
    });
    let mid = &h.state().interpolation().latents[4];
    let expected = z[0].lerp(&z[1], 4.0 / 7.0);
    assert!(common::max_diff(&mid.0, &expected.0) < 1e-6);
    // Scrub to a frame and adopt it; undo goes back.
    let before = h.state().current().z.clone();
    h.get_by_role_and_label(Role::Slider, "frame")
        .set_value_accesskit(5.0);
    h.run_steps(2);
    h.get_by_label("Adopt this frame").click();
    h.run_steps(2);
    assert_eq!(h.state().current().z, h.state().interpolation().latents[5]);
    h.get_by_label("Undo").click();
    h.run_steps(2);
    assert_eq!(h.state().current().z, before);
}

#[test]
fn jitter_can_move_along_the_first_directions_only() {
    let f = fixture();
    let mut h = harness(&f.checkpoint, &f.bookmarks);
    loaded(&mut h);
    h.get_by_label("Dimensions").click();
    wait_until(&mut h, "the analysis", |a| {
        a.dimensions().notes.mean_sensitivity.is_some()
    });
    h.get_by_label("From current z").click();
    h.run_steps(2);
    h.get_by_label("along").set_value_accesskit(2.0);
    h.run_steps(2);
    wait_until(&mut h, "the children", |a| a.jitter().textures.len() == 16);
    let parent = h.state().jitter().source.clone().unwrap().1;
    let d: Vec<Vec<f32>> = h.state().dimensions().notes.directions[..2]
        .iter()
        .map(|d| d.vector.clone())
        .collect();
    for child in &h.state().jitter().children {
        let step: Vec<f32> = child.0.iter().zip(&parent.0).map(|(c, p)| c - p).collect();
        let kept: Vec<f32> = {
            let a: f32 = step.iter().zip(&d[0]).map(|(x, y)| x * y).sum();
            let b: f32 = step.iter().zip(&d[1]).map(|(x, y)| x * y).sum();
            (0..step.len()).map(|i| a * d[0][i] + b * d[1][i]).collect()
        };
        assert!(
            common::max_diff(&step, &kept) < 1e-4,
            "only along the two directions"
        );
        assert!(step.iter().any(|x| x.abs() > 1e-3), "and it does move");
    }
    // Rows ticked in the Dimensions view: only those coordinates move.
    h.get_by_label("vary z3").click();
    h.run_steps(2);
    h.get_by_label("vary z5").click();
    h.run_steps(2);
    wait_until(&mut h, "the new children", |a| {
        let parent = &a.jitter().source.as_ref().unwrap().1;
        a.jitter().textures.len() == 16
            && a.jitter().children.iter().all(|c| {
                (0..8).all(|i| i == 3 || i == 5 || c.0[i] == parent.0[i])
                    && (c.0[3] != parent.0[3] || c.0[5] != parent.0[5])
            })
    });
}

use common::ui::Dropped;

#[test]
fn a_png_dropped_on_the_window_restores_the_z_it_shows() {
    use hitogata::picture_state::{PictureState, save_png_with_state};
    let f = fixture();
    let mut h = harness(&f.checkpoint, &f.bookmarks);
    loaded(&mut h);
    let before = h.state().current().z.clone();
    let shown = Latent::from_seed(77, 8);
    let png = f.checkpoint.with_file_name("shown.png");
    let state = PictureState {
        latents: vec![shown.clone()],
        psi: 0.8,
        checkpoint: None,
        checkpoint_hash: Some("another checkpoint".into()),
        parent: None,
    };
    save_png_with_state(&image::RgbImage::new(8, 8), &state, &png).unwrap();
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(png.clone())));
    wait_until(&mut h, "the restored z", move |a| a.current().z == shown);
    assert_eq!(h.state().current().psi, 0.8);
    let status = h.state().status().unwrap_or_default();
    assert!(status.contains("another checkpoint"), "{status}");
    h.get_by_label("Undo").click();
    h.run_steps(2);
    assert_eq!(h.state().current().z, before);
    // A PNG that does not remember anything says so and changes nothing.
    let plain = f.checkpoint.with_file_name("plain.png");
    image::RgbImage::new(8, 8).save(&plain).unwrap();
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(plain)));
    wait_until(&mut h, "the message", |a| {
        a.status()
            .is_some_and(|s| s.contains("not written by hitogata"))
    });
    assert_eq!(h.state().current().z, before);
}

#[test]
fn the_critic_panel_scores_the_picture_and_nudges_it_undoably() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("ckpt");
    common::tiny_generator_with_critic(&checkpoint);
    let mut h = harness(&checkpoint, &dir.path().join("bookmarks.ron"));
    loaded(&mut h);
    wait_until(&mut h, "the critic's score", |a| a.critic().score.is_some());
    // The score shown is the critic's output for this picture, computed directly.
    let dev = common::cpu();
    let g = hitogata::checkpoint::load_generator(&checkpoint, &dev.device)
        .unwrap()
        .generator;
    let critic = hitogata::critique::critic_beside(&checkpoint, &dev.device)
        .unwrap()
        .unwrap();
    let (z, shown) = h.state().critic().score.clone().unwrap();
    assert_eq!(z, h.state().current().effective_z());
    let direct = hitogata::critique::scores(&g, &critic, std::slice::from_ref(&z), &dev.device)[0];
    assert!((shown - direct).abs() < 1e-5, "{shown} vs {direct}");
    assert_eq!(h.state().critic().gradient.len(), 8);

    // A nudge moves z where the critic finds it more real, in one undo step.
    let before = h.state().current().z.clone();
    h.get_by_label("Nudge towards real").click();
    wait_until(&mut h, "the nudge", |a| a.critic().last_nudge.is_some());
    let (moved, from, to) = h.state().critic().last_nudge.unwrap();
    assert!(to > from, "{from} to {to}");
    assert!(moved > 0.0 && moved <= 5.0 * 0.2 + 1e-4, "{moved}");
    assert_ne!(h.state().current().z, before);
    h.get_by_label("Undo").click();
    h.run_steps(2);
    assert_eq!(h.state().current().z, before, "undo restores z exactly");

    // Jitter children are scored, and can be sorted by the score.
    h.get_by_label("From current z").click();
    wait_until(&mut h, "scored children", |a| a.jitter().scores.len() == 16);
    h.get_by_label("sort by critic").click();
    h.run_steps(2);
    let order = h.state().jitter().order();
    let scores = h.state().jitter().scores.clone();
    assert!(order.windows(2).all(|w| scores[w[0]] >= scores[w[1]]));

    // An export without a critic says so.
    let plain = dir.path().join("plain");
    common::trained_tiny_export(&plain);
    let mut h = harness(&plain, &dir.path().join("bookmarks.ron"));
    loaded(&mut h);
    assert_eq!(h.state().critic().available, Ok(false));
    h.get_by_label_contains("No critic with this checkpoint");
}

#[test]
fn the_nearest_training_images_of_the_picture_are_shown() {
    let f = fixture();
    let data = f.checkpoint.with_file_name("data");
    common::write_disc_folder(&data, 30);
    let mut h = harness(&f.checkpoint, &f.bookmarks);
    loaded(&mut h);
    h.get_by_label("Nearest training images").click();
    h.run_steps(2);
    common::ui::type_into(&mut h, "Training folder", data.to_str().unwrap());
    h.get_by_label("Load").click();
    wait_until(&mut h, "the neighbours", |a| a.nearest().found.len() == 5);
    let found = h.state().nearest().found.clone();
    assert!(found.windows(2).all(|w| w[0].distance <= w[1].distance));
    // Each distance is the picture's to that training picture, at 32×32.
    let index = h.state().nearest().index.clone().unwrap();
    let picture = h.state().explorer().image.clone().unwrap();
    assert_eq!(index.nearest(&picture, 5), found);
    // A new picture gets new neighbours.
    let before = h.state().nearest().found_for;
    h.get_by_label("Random").click();
    wait_until(&mut h, "the new neighbours", move |a| {
        a.nearest().found_for > before
    });
    // A folder without pictures says so.
    let empty = f.checkpoint.with_file_name("empty");
    std::fs::create_dir_all(&empty).unwrap();
    common::ui::type_into(&mut h, "Training folder", empty.to_str().unwrap());
    h.get_by_label("Load").click();
    wait_until(&mut h, "the error", |a| a.nearest().error.is_some());
}

#[test]
fn the_layer_viewer_opens_on_the_picture_and_follows_the_chosen_layer() {
    let f = fixture();
    let mut h = harness(&f.checkpoint, &f.bookmarks);
    loaded(&mut h);
    h.get_by_label("Layers").click();
    wait_until(&mut h, "the first layer", |a| a.layers().view.is_some());
    let view = h.state().layers().view.clone().unwrap();
    assert_eq!(
        (view.channels.len(), view.side),
        (32, 4),
        "tiny ngf 4: 32 maps of 4×4"
    );
    common::ui::choose(&mut h, "layer", "32x32");
    wait_until(&mut h, "the 32×32 layer", |a| {
        a.layers().view.as_ref().is_some_and(|v| v.side == 32)
    });
    assert_eq!(h.state().layers().view.as_ref().unwrap().channels.len(), 4);
    // Pointing at the picture lists the channels most active there.
    assert!(
        h.query_by_label_contains("most active channels here")
            .is_none()
    );
    let picture = h.get_by_label("the picture").rect();
    h.hover_at(picture.left_top() + egui::vec2(picture.width() * 0.25, picture.height() * 0.75));
    h.run();
    let pointer = h
        .state()
        .layers()
        .pointer
        .expect("the pointer is on the picture");
    assert!((pointer.x - 0.25).abs() < 0.05 && (pointer.y - 0.75).abs() < 0.05);
    let expected = h
        .state()
        .layers()
        .view
        .as_ref()
        .unwrap()
        .most_active_at(pointer.x, pointer.y, 5);
    let first = format!(
        "most active channels here: {} ({:.2})",
        expected[0].0, expected[0].1
    );
    assert!(
        h.query_all_by_label_contains(&first).count() >= 1,
        "the panel lists {first}"
    );
}

#[test]
fn a_bookmarks_buttons_rename_delete_undo_load_and_jitter() {
    let f = fixture();
    let z = tagged_bookmarks(&f.bookmarks, &[("a", 1, 0.0), ("b", 1, 2.0)]);
    let mut h = harness(&f.checkpoint, &f.bookmarks);
    loaded(&mut h);
    let ids: Vec<u64> = h
        .state()
        .bookmarks()
        .store
        .all()
        .iter()
        .map(|b| b.id)
        .collect();

    // Rename: the row turns into fields holding the bookmark's name, note and tags.
    h.get_all_by_label("Rename").next().unwrap().click();
    h.run_steps(2);
    let editing = h.state().bookmarks().editing.clone().expect("editing");
    assert_eq!((editing.0, editing.1.as_str()), (ids[0], "a 0"));
    if let Some((_, name, _, tags)) = &mut h.state_mut().bookmarks_mut().editing {
        *name = "renamed".into();
        *tags = "x, y".into();
    }
    h.get_by_label("Save").click();
    h.run_steps(2);
    let saved = h.state().bookmarks().store.get(ids[0]).unwrap().clone();
    assert_eq!(
        (saved.name.as_str(), saved.tags.clone()),
        ("renamed", vec!["x".to_string(), "y".to_string()])
    );
    assert!(h.state().bookmarks().editing.is_none());

    // Clicking a name loads its vector; Jitter jitters around it.
    h.get_by_label("b 0").click();
    h.run_steps(2);
    assert_eq!(h.state().current().z, z[1]);
    h.get_all_by_label("Jitter").nth(1).unwrap().click();
    h.run_steps(2);
    assert_eq!(
        h.state().jitter().source,
        Some((Some(ids[1]), z[1].clone()))
    );

    // Delete, then undo it.
    h.get_all_by_label("Delete").nth(1).unwrap().click();
    h.run_steps(2);
    assert!(h.state().bookmarks().store.get(ids[1]).is_none());
    h.get_by_label("Undo delete of 'b 0'").click();
    h.run_steps(2);
    assert_eq!(h.state().bookmarks().store.get(ids[1]).unwrap().z, z[1]);
}

//! `hitogata directions` and `hitogata sweep` end to end on the shipped faces model.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn hitogata(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hitogata"))
        .args(args)
        .output()
        .expect("run hitogata")
}

fn stdout_of(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn faces() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("checkpoints/faces")
        .display()
        .to_string()
}

#[test]
fn directions_are_listed_saved_and_swept() {
    let tmp = tempfile::tempdir().unwrap();
    let set = tmp.path().join("sefa.ron");
    let text = stdout_of(&hitogata(&[
        "directions",
        "--checkpoint",
        &faces(),
        "--count",
        "5",
        "--device",
        "cpu",
        "--out",
        set.to_str().unwrap(),
    ]));
    let scores: Vec<f32> = text
        .lines()
        .map(|l| l.split('\t').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(scores.len(), 5);
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{text}");
    let saved = hitogata::directions::DirectionSet::load(&set).unwrap();
    assert_eq!(saved.directions.len(), 5);
    assert!(saved.directions.iter().all(|d| d.vector.len() == 40));

    // A strip per direction: 5 rows of 7 pictures of 64 px with 2 px gaps.
    let png = tmp.path().join("sweep.png");
    let text = stdout_of(&hitogata(&[
        "sweep",
        "--checkpoint",
        &faces(),
        "--seed",
        "3",
        "--directions",
        set.to_str().unwrap(),
        "--device",
        "cpu",
        "--out",
        png.to_str().unwrap(),
    ]));
    assert_eq!(text.lines().count(), 5);
    let img = image::open(&png).unwrap();
    assert_eq!((img.width(), img.height()), (7 * 66 + 2, 5 * 66 + 2));

    // Chosen dimensions, PCA, and clear refusals.
    let dims = tmp.path().join("dims.png");
    let text = stdout_of(&hitogata(&[
        "sweep",
        "--checkpoint",
        &faces(),
        "--dims",
        "0,5,39",
        "--steps",
        "5",
        "--device",
        "cpu",
        "--out",
        dims.to_str().unwrap(),
    ]));
    let names: Vec<&str> = text
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(names, ["z0", "z5", "z39"]);
    let text = stdout_of(&hitogata(&[
        "directions",
        "--checkpoint",
        &faces(),
        "--method",
        "pca",
        "--count",
        "3",
        "--samples",
        "256",
        "--device",
        "cpu",
    ]));
    assert_eq!(text.lines().count(), 3);
    let out = hitogata(&[
        "sweep",
        "--checkpoint",
        &faces(),
        "--dims",
        "40",
        "--device",
        "cpu",
        "--out",
        dims.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 to 39"));
}

#[test]
fn generated_pngs_remember_what_they_show_and_draw_it_again() {
    let tmp = tempfile::tempdir().unwrap();
    let grid = tmp.path().join("grid.png");
    stdout_of(&hitogata(&[
        "generate",
        "--checkpoint",
        &faces(),
        "--seed",
        "4",
        "--count",
        "4",
        "--grid",
        "--device",
        "cpu",
        "--out",
        grid.to_str().unwrap(),
    ]));
    let state = hitogata::picture_state::read_state(&grid).unwrap();
    assert_eq!(state.latents, hitogata::latent::sample_batch(4, 4, 40));
    // Drawn again from the picture alone (its checkpoint named inside): the same bytes.
    let again = tmp.path().join("again.png");
    stdout_of(&hitogata(&[
        "generate",
        "--from-png",
        grid.to_str().unwrap(),
        "--grid",
        "--device",
        "cpu",
        "--out",
        again.to_str().unwrap(),
    ]));
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(&grid).unwrap()
    );
    // A PNG that hitogata did not write says so.
    let plain = tmp.path().join("plain.png");
    image::RgbImage::new(4, 4).save(&plain).unwrap();
    let out = hitogata(&[
        "generate",
        "--from-png",
        plain.to_str().unwrap(),
        "--checkpoint",
        &faces(),
        "--out",
        tmp.path().join("x.png").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not written by hitogata"));
}

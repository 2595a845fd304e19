//! `hitogata directions`, `sweep`, `generate --from-png` and `timeline` end to end.

use crate::common;

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

#[test]
fn timeline_draws_one_face_through_a_runs_snapshots() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    common::run_with_snapshots(&run, &[2, 4, 6]);
    let (strip, gif) = (tmp.path().join("strip.png"), tmp.path().join("face.gif"));
    let args = |seed: &str| {
        vec![
            "timeline".to_string(),
            "--run".into(),
            run.display().to_string(),
            "--seed".into(),
            seed.into(),
            "--device".into(),
            "cpu".into(),
            "--scale".into(),
            "1".into(),
            "--out".into(),
            strip.display().to_string(),
            "--gif".into(),
            gif.display().to_string(),
        ]
    };
    let run_with = |seed: &str| {
        let owned = args(seed);
        let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
        stdout_of(&hitogata(&refs))
    };
    let text = run_with("7");
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    let steps: Vec<&str> = lines.iter().map(|l| l[0]).collect();
    assert_eq!(steps, ["2", "4", "6"], "{text}");
    assert_eq!(lines[0][1], "", "no change before the first snapshot");
    // The printed changes are those of the frames drawn directly.
    let dev = common::cpu();
    let timeline = hitogata::snapshots::Timeline::load(&run, &dev.device).unwrap();
    let z = hitogata::latent::Latent::from_seed(7, timeline.latent_dim());
    let frames = timeline.draw(&z);
    let changes = hitogata::snapshots::picture_changes(&frames);
    for (line, change) in lines[1..].iter().zip(&changes) {
        assert_eq!(line[1], format!("{change:.2}"));
    }
    // Three 64 px frames in a row, 2 px apart and from the edges; the first is step 2's.
    let picture = image::open(&strip).unwrap().to_rgb8();
    assert_eq!(picture.dimensions(), (3 * 64 + 4 * 2, 64 + 2 * 2));
    let first = image::imageops::crop_imm(&picture, 2, 2, 64, 64).to_image();
    assert_eq!(first, frames[0]);
    assert!(std::fs::metadata(&gif).unwrap().len() > 0);

    let out = hitogata(&[
        "timeline",
        "--run",
        tmp.path().to_str().unwrap(),
        "--out",
        strip.to_str().unwrap(),
        "--device",
        "cpu",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--snapshot-every"));
}

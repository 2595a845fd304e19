//! Latent vectors: seeds, jitter, truncation, latent files.

use hitogata::latent::{Latent, LatentFile, sample_batch};

#[test]
fn a_seed_reproduces_a_latent_vector() {
    assert_eq!(Latent::from_seed(42, 40), Latent::from_seed(42, 40));
    assert_ne!(Latent::from_seed(42, 40), Latent::from_seed(43, 40));
    assert_eq!(sample_batch(5, 3, 40), sample_batch(5, 3, 40));
}

#[test]
fn jitter_is_reproducible_and_its_spread_matches_sigma() {
    let parent = Latent::from_seed(1, 40);
    let a = parent.jitter(0.5, 400, 9);
    assert_eq!(a, parent.jitter(0.5, 400, 9));
    assert_ne!(a, parent.jitter(0.5, 400, 10));
    let diffs: Vec<f32> = a
        .iter()
        .flat_map(|c| c.0.iter().zip(&parent.0).map(|(x, p)| x - p))
        .collect();
    let n = diffs.len() as f32;
    let mean = diffs.iter().sum::<f32>() / n;
    let sd = (diffs.iter().map(|d| (d - mean).powi(2)).sum::<f32>() / n).sqrt();
    assert!((sd - 0.5).abs() < 0.02, "sd {sd}");
    assert!(mean.abs() < 0.02, "mean {mean}");
}

#[test]
fn prior_norm_and_truncation() {
    let z = Latent::from_seed(3, 40);
    assert!(z.norm_z_score().abs() < 4.0, "a prior sample is typical");
    assert!(
        Latent(vec![3.0; 40]).norm_z_score() > 10.0,
        "‖z‖ = 19 is atypical"
    );
    assert_eq!(z.truncated(0.0), Latent::zeros(40));
    assert_eq!(z.truncated(1.0), z);
    assert_eq!(
        Latent::zeros(2).lerp(&Latent(vec![2.0, 4.0]), 0.5),
        Latent(vec![1.0, 2.0])
    );
}

#[test]
fn latent_files_round_trip_and_reject_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("z.ron");
    let file = LatentFile {
        seed: Some(4),
        checkpoint: None,
        latents: sample_batch(4, 2, 40),
    };
    file.save(&path).unwrap();
    assert_eq!(LatentFile::load(&path).unwrap(), file);
    std::fs::write(&path, "[0.5, -1.0]").unwrap();
    assert_eq!(
        LatentFile::load(&path).unwrap().latents,
        vec![Latent(vec![0.5, -1.0])]
    );
    std::fs::write(&path, "{ not ron").unwrap();
    let msg = LatentFile::load(&path).unwrap_err().to_string();
    assert!(msg.contains("z.ron"), "{msg}");
}

#[test]
fn jitter_along_directions_moves_only_along_them_and_is_seeded() {
    let z = Latent::from_seed(3, 6);
    let d1 = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    let d2 = vec![0.0, 0.6, 0.8, 0.0, 0.0, 0.0];
    let children = z.jitter_along(0.5, &[d1.clone(), d2.clone()], 10, 7);
    assert_eq!(children, z.jitter_along(0.5, &[d1, d2], 10, 7));
    for c in &children {
        // Coordinates 3..6 untouched; 1 and 2 move together in the ratio 0.6 : 0.8.
        assert_eq!(&c.0[3..], &z.0[3..]);
        let (dy, dz) = (c.0[1] - z.0[1], c.0[2] - z.0[2]);
        assert!((dy * 0.8 - dz * 0.6).abs() < 1e-5);
    }
    assert!(children.iter().any(|c| c.0[0] != z.0[0]));
    // No directions: the plain jitter.
    assert_eq!(z.jitter_along(0.5, &[], 4, 7), z.jitter(0.5, 4, 7));
}

#[test]
fn pngs_remember_their_latent_vectors_exactly() {
    use hitogata::picture_state::{PictureState, read_state, save_png_with_state};
    let dir = tempfile::tempdir().unwrap();
    let img = image::RgbImage::from_fn(8, 4, |x, y| image::Rgb([x as u8 * 30, y as u8 * 60, 7]));
    let state = PictureState {
        latents: vec![Latent::from_seed(9, 40), Latent::from_seed(10, 40)],
        psi: 0.7,
        checkpoint: Some("checkpoints/faces".into()),
        checkpoint_hash: Some("abc".into()),
        parent: Some(3),
    };
    let path = dir.path().join("p.png");
    save_png_with_state(&img, &state, &path).unwrap();
    assert_eq!(read_state(&path).unwrap(), state, "bit for bit");
    // Still an ordinary PNG.
    assert_eq!(image::open(&path).unwrap().to_rgb8(), img);

    // Clear messages for the rest.
    let plain = dir.path().join("plain.png");
    img.save(&plain).unwrap();
    let err = read_state(&plain).unwrap_err().to_string();
    assert!(err.contains("not written by hitogata"), "{err}");
    let text = dir.path().join("text.png");
    std::fs::write(&text, "hello").unwrap();
    assert!(
        read_state(&text)
            .unwrap_err()
            .to_string()
            .contains("not a PNG")
    );
    let empty = PictureState {
        latents: vec![],
        ..state.clone()
    };
    let bad = dir.path().join("bad.png");
    save_png_with_state(&img, &empty, &bad).unwrap();
    let err = read_state(&bad).unwrap_err().to_string();
    assert!(err.contains("malformed"), "{err}");
    let nan = PictureState {
        latents: vec![Latent(vec![f32::NAN; 4])],
        ..state
    };
    save_png_with_state(&img, &nan, &bad).unwrap();
    assert!(read_state(&bad).is_err());
}

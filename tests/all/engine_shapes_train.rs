//! Training at the shapes hitogata can open: imported PyTorch generators fine-tune (grey,
//! 32 and 128 px, without BatchNorm, with an extra layer), new runs train at other sizes and
//! grey, and a data folder is read at the model's size.

use crate::common;

use std::path::{Path, PathBuf};

use hitogata::data::{Dataset, PictureShape, SquareMode};
use hitogata::model::ModelConfig;
use hitogata::train::{RunSpec, TrainingSession};
use image::RgbImage;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pytorch")
        .join(format!("{name}.netG.pth"))
}

fn is_grey(img: &RgbImage) -> bool {
    img.pixels().all(|p| p[0] == p[1] && p[1] == p[2])
}

#[test]
fn imported_generators_fine_tune_at_their_own_shape() {
    let dev = common::cpu();
    let cases = [
        ("examples-nz40-64-grey-dataparallel", 64, true),
        ("wgan-nz100-32-rgb-legacy", 32, false),
        ("wgan-nz40-128-grey-nobn-extra1", 128, true),
    ];
    for (case, side, grey) in cases {
        let generator = fixture(case);
        let run = tempfile::tempdir().unwrap();
        // Colour 64 px discs: the session meets them at the generator's size and channels.
        let mut session = TrainingSession::from_generator(
            common::tiny_dcgan_config(),
            &generator,
            common::disc_dataset(8),
            &dev.device,
        )
        .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(session.data().shape.side, side, "{case}");
        let before = session.raw_generator();
        for _ in 0..2 {
            let metrics = session.step().unwrap_or_else(|e| panic!("{case}: {e}"));
            assert!(metrics.generator_loss.is_finite(), "{case}");
        }
        let pictures = session.sample_images();
        assert_eq!(
            pictures[0].dimensions(),
            (side as u32, side as u32),
            "{case}"
        );
        assert_eq!(pictures.iter().all(is_grey), grey, "{case}");
        // The weights moved, and the run saves and resumes at its shape.
        let z = hitogata::latent::sample_batch(3, 2, session.config().model.latent_dim);
        let tensor = |g: &hitogata::model::Generator| {
            common::values(g.forward(hitogata::inference::latents_tensor(&z, &dev.device)))
        };
        assert!(
            common::max_diff(&tensor(&before), &tensor(&session.raw_generator())) > 0.0,
            "{case}: training changed nothing"
        );
        session.save_checkpoint(run.path()).unwrap();
        let resumed =
            TrainingSession::resume(run.path(), session.data().clone(), &dev.device).unwrap();
        assert_eq!(resumed.config().model, session.config().model, "{case}");
    }
}

#[test]
fn new_runs_train_at_32_px_grey_on_every_device() {
    for dev in common::devices() {
        let mut config = common::tiny_train_config();
        config.model = config
            .model
            .with_image_size(Some(32))
            .with_channels(Some(1));
        let mut session =
            TrainingSession::new(config, common::disc_dataset(8), &dev.device).unwrap();
        for _ in 0..2 {
            let metrics = session.step().unwrap();
            assert!(metrics.critic_loss.is_finite(), "{}", dev.description);
        }
        let pictures = session.sample_images();
        assert_eq!(pictures[0].dimensions(), (32, 32), "{}", dev.description);
        assert!(pictures.iter().all(is_grey), "{}", dev.description);
    }
}

#[test]
fn a_folder_is_read_at_the_model_s_size_and_channels() {
    let dir = tempfile::tempdir().unwrap();
    common::write_disc_folder(dir.path(), 4);
    let shape = PictureShape {
        side: 128,
        channels: 1,
    };
    let data = Dataset::load_folder_as(dir.path(), SquareMode::Pad, shape).unwrap();
    assert_eq!((data.len, data.pixels.len()), (4, 4 * 128 * 128));
    let picture = data.image(1);
    assert_eq!(picture.dimensions(), (128, 128));
    assert!(is_grey(&picture));
    // Corners are the white background; the disc's centre is darker than white.
    assert_eq!(picture.get_pixel(0, 0)[0], 255);
    assert!(picture.get_pixel(64, 60)[0] < 250);
    // A batch is [n, 1, 128, 128] in [-1, 1], and mirroring one mirrors its columns.
    let dev = common::cpu();
    let batch = data.batch(&[1, 1], &[false, true], &dev.device);
    assert_eq!(batch.dims(), [2, 1, 128, 128]);
    let v = common::values(batch);
    let plane = 128 * 128;
    for (y, x) in [(60, 10), (64, 70), (100, 127)] {
        assert_eq!(v[y * 128 + x], v[plane + y * 128 + (127 - x)]);
    }
    // The same pictures resized in memory match a fresh read closely.
    let colour = Dataset::load_folder(dir.path(), SquareMode::Pad).unwrap();
    let resized = colour.to_shape(PictureShape {
        side: 32,
        channels: 1,
    });
    let direct = Dataset::load_folder_as(
        dir.path(),
        SquareMode::Pad,
        PictureShape {
            side: 32,
            channels: 1,
        },
    )
    .unwrap();
    let worst = resized
        .pixels
        .iter()
        .zip(&direct.pixels)
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    assert!(worst <= 40, "resizing twice differs by {worst} levels");
}

#[test]
fn a_run_reads_its_data_at_the_shape_it_trains() {
    let mut config = common::tiny_train_config();
    config.model = config.model.with_image_size(Some(128));
    let run = Path::new("/nonexistent-run");
    assert_eq!(
        RunSpec::new(config.clone()).picture_shape(run).unwrap(),
        PictureShape {
            side: 128,
            channels: 3
        }
    );
    let from = RunSpec::from_generator(config, fixture("wgan-nz100-32-rgb-legacy"));
    assert_eq!(
        from.picture_shape(run).unwrap(),
        PictureShape {
            side: 32,
            channels: 3
        }
    );
    // Sizes no model has are refused when the run is built, naming the sizes there are.
    let mut odd = common::tiny_train_config();
    odd.model = ModelConfig {
        image_size: Some(48),
        ..odd.model
    };
    let error = TrainingSession::new(odd, common::disc_dataset(2), &common::cpu().device)
        .err()
        .expect("48 px is not a DCGAN size")
        .to_string();
    assert!(error.contains("32, 64, 128, 256"), "{error}");
}

//! The image-folder loader on odd inputs.

use crate::common;

use std::fs;

use hitogata::data::{DataError, Dataset, SquareMode};
use image::{GrayImage, Luma, Rgba, RgbaImage};

#[test]
fn loads_odd_folder_and_skips_broken_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join("nested/deeper")).unwrap();
    // RGBA with a transparent background → composited onto white.
    RgbaImage::from_fn(32, 32, |x, _| {
        if x < 16 {
            Rgba([255, 0, 0, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    })
    .save(d.join("rgba.png"))
    .unwrap();
    GrayImage::from_pixel(20, 20, Luma([100]))
        .save(d.join("nested/gray.png"))
        .unwrap();
    // Non-square: tall red bar on blue, padded with the border colour.
    image::RgbImage::from_pixel(30, 90, image::Rgb([0, 0, 255]))
        .save(d.join("nested/deeper/tall.bmp"))
        .unwrap();
    image::RgbImage::from_pixel(1, 1, image::Rgb([10, 200, 10]))
        .save(d.join("tiny.png"))
        .unwrap();
    common::disc_image(1).save(d.join("disc.jpg")).unwrap();
    // A PNG with the wrong extension still loads.
    fs::copy(d.join("tiny.png"), d.join("really-a-png.webp")).unwrap();
    fs::write(d.join("zero.png"), b"").unwrap();
    fs::write(d.join("notes.png"), b"this is text, not a picture").unwrap();
    fs::write(d.join("README.txt"), b"ignored: not an image extension").unwrap();

    let data = Dataset::load_folder(d, SquareMode::Pad).unwrap();
    assert_eq!(data.len, 6, "loaded: {:?}", data.sources);
    assert_eq!(data.skipped.len(), 2);
    let skipped: Vec<_> = data
        .skipped
        .iter()
        .map(|s| s.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        skipped.contains(&"zero.png".to_string()) && skipped.contains(&"notes.png".to_string())
    );

    let idx = |name: &str| data.sources.iter().position(|p| p.ends_with(name)).unwrap();
    let rgba = data.image(idx("rgba.png"));
    assert_eq!(rgba.dimensions(), (64, 64));
    assert_eq!(
        rgba.get_pixel(60, 32).0,
        [255, 255, 255],
        "transparent → white"
    );
    assert!(rgba.get_pixel(4, 32).0[0] > 200 && rgba.get_pixel(4, 32).0[1] < 50);
    let gray = data.image(idx("gray.png"));
    assert_eq!(gray.get_pixel(30, 30).0, [100, 100, 100]);
    let tall = data.image(idx("tall.bmp"));
    assert_eq!(
        tall.get_pixel(1, 32).0,
        [0, 0, 255],
        "padded with the border colour"
    );
    let tiny = data.image(idx("tiny.png"));
    assert_eq!(tiny.get_pixel(63, 63).0, [10, 200, 10]);
}

#[test]
fn crop_mode_takes_the_centre() {
    let dir = tempfile::tempdir().unwrap();
    let img = image::RgbImage::from_fn(90, 30, |x, _| {
        if x < 30 {
            image::Rgb([255, 0, 0])
        } else {
            image::Rgb([0, 255, 0])
        }
    });
    img.save(dir.path().join("wide.png")).unwrap();
    let data = Dataset::load_folder(dir.path(), SquareMode::Crop).unwrap();
    assert_eq!(data.image(0).get_pixel(0, 10).0, [0, 255, 0]);
}

#[test]
fn empty_and_missing_folders_are_errors_naming_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("broken.png"), b"nope").unwrap();
    let err = Dataset::load_folder(dir.path(), SquareMode::Pad).unwrap_err();
    assert!(matches!(err, DataError::Empty { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains(&dir.path().display().to_string()) && msg.contains("broken.png"),
        "{msg}"
    );

    let missing = dir.path().join("does-not-exist");
    let msg = Dataset::load_folder(&missing, SquareMode::Pad)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("does-not-exist"), "{msg}");
}

#[test]
fn batches_are_normalised_and_flipped_exactly_on_every_device() {
    // Random bytes (every value, every channel) rather than a drawing: the batch travels
    // packed and is unpacked on the device, so each byte must land in its place.
    let mut state = 12345u32;
    let images: Vec<image::RgbImage> = (0..3)
        .map(|_| {
            image::RgbImage::from_fn(64, 64, |_, _| {
                let mut byte = || {
                    state = state.wrapping_mul(1664525).wrapping_add(1013904223);
                    (state >> 24) as u8
                };
                image::Rgb([byte(), byte(), byte()])
            })
        })
        .collect();
    let data = hitogata::data::Dataset::from_images(&images);
    let expected = |i: usize, c: usize, y: usize, x: usize| -> f32 {
        images[i].get_pixel(x as u32, y as u32)[c] as f32 / 127.5 - 1.0
    };
    for dev in common::devices() {
        let batch = data
            .batch(&[2, 0], &[false, true], &dev.device)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(batch.len(), 2 * 3 * 64 * 64);
        for (k, (i, flip)) in [(2, false), (0, true)].into_iter().enumerate() {
            for c in 0..3 {
                for y in 0..64 {
                    for x in 0..64 {
                        let got = batch[((k * 3 + c) * 64 + y) * 64 + x];
                        let sx = if flip { 63 - x } else { x };
                        let want = expected(i, c, y, sx);
                        assert!(
                            (got - want).abs() <= 1e-6,
                            "{}: image {i} c{c} y{y} x{x}: {got} vs {want}",
                            dev.description
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn timeline_gifs_hold_every_frame() {
    use image::AnimationDecoder;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("timeline.gif");
    let frames: Vec<_> = (0..3).map(common::disc_image).collect();
    hitogata::render::save_gif(&frames, 100, &path).unwrap();
    let decoder = image::codecs::gif::GifDecoder::new(std::io::BufReader::new(
        std::fs::File::open(&path).unwrap(),
    ))
    .unwrap();
    let decoded = decoder.into_frames().collect_frames().unwrap();
    assert_eq!(decoded.len(), 3);
    assert_eq!(decoded[0].buffer().dimensions(), (64, 64));
}

#[test]
fn a_picture_too_large_to_square_is_refused_before_decoding() {
    use hitogata::data::{MAX_IMAGE_SIDE, decode_image};
    // A thin strip: a small file, but padded to a square it would be 5000 × 5000.
    let strip = image::RgbImage::from_pixel(1, 5000, image::Rgb([0, 0, 0]));
    let mut bytes = Vec::new();
    strip
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    let err = decode_image(&bytes, SquareMode::Pad).unwrap_err();
    assert!(err.to_lowercase().contains("limit"), "{err}");
    // The largest allowed side still loads.
    let edge = image::RgbImage::from_pixel(2, MAX_IMAGE_SIDE, image::Rgb([0, 0, 0]));
    let mut bytes = Vec::new();
    edge.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .unwrap();
    assert_eq!(
        decode_image(&bytes, SquareMode::Pad).unwrap().dimensions(),
        (64, 64)
    );
}

#[test]
fn a_picture_that_crashes_the_decoder_costs_that_picture_only() {
    // Found by fuzzing: png 0.18.1 panics on this malformed palette.
    let crash = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions/image/png-palette-panic");
    let dir = tempfile::tempdir().unwrap();
    fs::copy(&crash, dir.path().join("bad.png")).unwrap();
    common::disc_image(2)
        .save(dir.path().join("good.png"))
        .unwrap();
    let data = Dataset::load_folder(dir.path(), SquareMode::Pad).unwrap();
    assert_eq!(data.len, 1);
    assert_eq!(data.skipped.len(), 1);
    assert!(
        data.skipped[0].reason.contains("decoder"),
        "{:?}",
        data.skipped
    );
}

//! Turning generator output into pictures: RGB images, sample grids, PNG and GIF files.

use std::path::Path;

use burn::tensor::Tensor;
use image::{Rgb, RgbImage, RgbaImage};

use crate::engine::files::atomic::write_atomic;

/// Converts a batch of generator outputs [N, C, H, W] in [-1, 1] to 8-bit RGB images; grey
/// ones (C = 1) get three equal channels.
pub fn tensor_to_images(images: Tensor<4>) -> Vec<RgbImage> {
    let [n, c, h, w] = images.dims();
    assert!(
        c == 3 || c == 1,
        "expected RGB or grey images, not {c} channels"
    );
    let values = images
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32 tensor data");
    let plane = h * w;
    (0..n)
        .map(|i| {
            let base = i * c * plane;
            // Grey: every channel reads the one plane.
            let channel = |k: usize| base + if c == 3 { k * plane } else { 0 };
            RgbImage::from_fn(w as u32, h as u32, |x, y| {
                let p = y as usize * w + x as usize;
                Rgb([
                    to_byte(values[channel(0) + p]),
                    to_byte(values[channel(1) + p]),
                    to_byte(values[channel(2) + p]),
                ])
            })
        })
        .collect()
}

/// A generator output value in [-1, 1] as an 8-bit channel value.
pub fn to_byte(v: f32) -> u8 {
    ((v + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8
}

/// Lays images out in a grid of `cols` columns with `pad` white pixels between them.
pub fn grid(images: &[RgbImage], cols: usize, pad: u32) -> RgbImage {
    let cols = cols.max(1);
    let (w, h) = images.first().map(|i| i.dimensions()).unwrap_or((1, 1));
    let rows = images.len().div_ceil(cols).max(1);
    let gw = cols as u32 * w + (cols as u32 + 1) * pad;
    let gh = rows as u32 * h + (rows as u32 + 1) * pad;
    let mut out = RgbImage::from_pixel(gw, gh, Rgb([255, 255, 255]));
    for (i, img) in images.iter().enumerate() {
        let x = pad + (i % cols) as u32 * (w + pad);
        let y = pad + (i / cols) as u32 * (h + pad);
        image::imageops::replace(&mut out, img, x as i64, y as i64);
    }
    out
}

/// Mean absolute difference of two pictures' pixel values (0–255), over every channel.
pub fn mean_abs_difference(a: &RgbImage, b: &RgbImage) -> f32 {
    let (a, b) = (a.as_raw(), b.as_raw());
    let diff: u64 = a.iter().zip(b).map(|(x, y)| x.abs_diff(*y) as u64).sum();
    diff as f32 / a.len().max(1) as f32
}

/// Nearest-neighbour upscaling by an integer factor (keeps the flat, pixel-exact look).
pub fn upscale(img: &RgbImage, factor: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    image::imageops::resize(
        img,
        w * factor,
        h * factor,
        image::imageops::FilterType::Nearest,
    )
}

/// Encodes an image as PNG bytes.
pub fn png_bytes(img: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )?;
    Ok(bytes)
}

/// Writes frames as an endlessly looping animated GIF, `delay_ms` per frame, atomically.
pub fn save_gif(frames: &[RgbImage], delay_ms: u32, path: &Path) -> std::io::Result<()> {
    let mut bytes = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new_with_speed(&mut bytes, 10);
        encoder
            .set_repeat(image::codecs::gif::Repeat::Infinite)
            .map_err(std::io::Error::other)?;
        for frame in frames {
            let rgba: RgbaImage = image::DynamicImage::ImageRgb8(frame.clone()).to_rgba8();
            let delay = image::Delay::from_numer_denom_ms(delay_ms, 1);
            encoder
                .encode_frame(image::Frame::from_parts(rgba, 0, 0, delay))
                .map_err(std::io::Error::other)?;
        }
    }
    write_atomic(path, &bytes)
}

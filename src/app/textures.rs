//! Turning RGB pictures into egui textures.

use image::RgbImage;

/// Uploads (or replaces) a texture from an RGB picture.
pub fn upload(
    ctx: &egui::Context,
    slot: &mut Option<egui::TextureHandle>,
    name: &str,
    image: &RgbImage,
    smooth: bool,
) {
    let (w, h) = image.dimensions();
    let colour = egui::ColorImage::from_rgb([w as usize, h as usize], image.as_raw());
    let options = if smooth {
        egui::TextureOptions::LINEAR
    } else {
        egui::TextureOptions::NEAREST
    };
    match slot {
        Some(handle) => handle.set(colour, options),
        None => *slot = Some(ctx.load_texture(name, colour, options)),
    }
}

/// Uploads each picture as its own texture, named `{prefix}-{i}`.
pub fn upload_all(
    ctx: &egui::Context,
    prefix: &str,
    images: &[RgbImage],
) -> Vec<egui::TextureHandle> {
    images
        .iter()
        .enumerate()
        .filter_map(|(i, img)| {
            let mut slot = None;
            upload(ctx, &mut slot, &format!("{prefix}-{i}"), img, false);
            slot
        })
        .collect()
}

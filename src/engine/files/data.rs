//! Image folders → an in-memory u8 dataset of square pictures (64×64 RGB unless a model asks
//! for another size or grey) → training batches.

use std::path::{Path, PathBuf};

use burn::tensor::{DType, Device, Int, Tensor, TensorData};
use image::{DynamicImage, Rgb, RgbImage, imageops::FilterType};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::model::{DEFAULT_IMAGE_SIZE, ModelConfig};

/// File extensions considered images (case-insensitive). Decoding guesses the real format from
/// the content, so a PNG named `.jpg` still loads.
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "webp", "bmp", "gif"];

/// How non-square pictures become square.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum SquareMode {
    /// Pad the short side with the picture's border colour (keeps the whole figure).
    #[default]
    Pad,
    /// Crop the centre square.
    Crop,
}

/// Why a data folder could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The folder does not exist or cannot be listed.
    #[error("cannot read data folder {path}: {source}")]
    Unreadable {
        /// The folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Nothing in the folder decoded as an image.
    #[error(
        "no usable image in {path} ({candidates} image files tried, {skipped} unreadable{first})"
    )]
    Empty {
        /// The folder.
        path: PathBuf,
        /// Files with image extensions found.
        candidates: usize,
        /// Files that failed to decode.
        skipped: usize,
        /// A few failing names, pre-formatted.
        first: String,
    },
}

/// A file that was skipped, and why.
#[derive(Clone, Debug)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// The decoder's complaint.
    pub reason: String,
}

/// The size and colours pictures are prepared at: a model's pictures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PictureShape {
    /// Width and height in pixels.
    pub side: usize,
    /// 3 (RGB) or 1 (grey).
    pub channels: usize,
}

impl PictureShape {
    /// 64×64 colour: hitogata's own models.
    pub const DEFAULT: Self = Self {
        side: DEFAULT_IMAGE_SIZE,
        channels: 3,
    };

    /// The pictures `model` draws and its critic judges.
    pub fn of(model: &ModelConfig) -> Self {
        Self {
            side: model.image_size(),
            channels: model.channels(),
        }
    }

    /// Bytes of one picture.
    pub fn bytes(&self) -> usize {
        self.side * self.side * self.channels
    }
}

impl std::fmt::Display for PictureShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let colour = if self.channels == 1 { "grey" } else { "colour" };
        write!(f, "{0}×{0} {colour}", self.side)
    }
}

/// Pictures in memory: `len` images of `shape` (row-major, channels interleaved).
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Concatenated pixels.
    pub pixels: Vec<u8>,
    /// Number of images.
    pub len: usize,
    /// Source files, in the same order.
    pub sources: Vec<PathBuf>,
    /// Files that could not be decoded.
    pub skipped: Vec<Skipped>,
    /// The size and channels every picture was prepared at.
    pub shape: PictureShape,
}

/// The picture files under `dir`, recursively; a folder reached twice through links (a link
/// to a parent makes a loop) is read once.
fn collect_candidates(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    seen: &mut std::collections::HashSet<PathBuf>,
) -> std::io::Result<()> {
    if !seen.insert(std::fs::canonicalize(dir)?) {
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let ty = entry.file_type()?;
        if ty.is_dir() || (ty.is_symlink() && path.is_dir()) {
            collect_candidates(&path, out, seen)?;
        } else if path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.as_str()))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Composites alpha onto white.
fn flatten_on_white(img: DynamicImage) -> RgbImage {
    let rgba = img.into_rgba8();
    let (w, h) = rgba.dimensions();
    RgbImage::from_fn(w, h, |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = p[3] as u32;
        let mix = |c: u8| ((c as u32 * a + 255 * (255 - a) + 127) / 255) as u8;
        Rgb([mix(p[0]), mix(p[1]), mix(p[2])])
    })
}

/// Mean colour of the outermost pixels: what surrounds the figure.
fn border_colour(img: &RgbImage) -> Rgb<u8> {
    let (w, h) = img.dimensions();
    let mut sum = [0u64; 3];
    let mut n = 0u64;
    let mut add = |p: &Rgb<u8>| {
        for (total, &v) in sum.iter_mut().zip(&p.0) {
            *total += v as u64;
        }
        n += 1;
    };
    for x in 0..w {
        add(img.get_pixel(x, 0));
        add(img.get_pixel(x, h - 1));
    }
    for y in 0..h {
        add(img.get_pixel(0, y));
        add(img.get_pixel(w - 1, y));
    }
    Rgb([(sum[0] / n) as u8, (sum[1] / n) as u8, (sum[2] / n) as u8])
}

/// Makes a picture square, then `side`×`side`.
pub fn prepare_image(img: DynamicImage, mode: SquareMode, side: usize) -> RgbImage {
    let rgb = flatten_on_white(img);
    let (w, h) = rgb.dimensions();
    let square = if w == h {
        rgb
    } else {
        match mode {
            SquareMode::Pad => {
                let side = w.max(h);
                let mut canvas = RgbImage::from_pixel(side, side, border_colour(&rgb));
                image::imageops::replace(
                    &mut canvas,
                    &rgb,
                    ((side - w) / 2) as i64,
                    ((side - h) / 2) as i64,
                );
                canvas
            }
            SquareMode::Crop => {
                let side = w.min(h);
                image::imageops::crop_imm(&rgb, (w - side) / 2, (h - side) / 2, side, side)
                    .to_image()
            }
        }
    };
    let s = side as u32;
    if square.dimensions() == (s, s) {
        square
    } else {
        image::imageops::resize(&square, s, s, FilterType::Lanczos3)
    }
}

fn decode(path: &Path, mode: SquareMode, shape: PictureShape) -> Result<Vec<u8>, String> {
    let bytes = crate::engine::files::bounded_read::read_bytes(
        path,
        crate::engine::files::bounded_read::FileKind::PICTURE,
    )
    .map_err(|e| e.to_string())?;
    let img = decode_image_at(&bytes, mode, shape.side)?;
    Ok(stored_bytes(img, shape.channels))
}

/// A picture's bytes as a dataset stores them: RGB, or its luma for grey.
fn stored_bytes(img: RgbImage, channels: usize) -> Vec<u8> {
    if channels == 1 {
        DynamicImage::ImageRgb8(img).into_luma8().into_raw()
    } else {
        img.into_raw()
    }
}

/// The longest side a training picture may have: it becomes 64×64, and padding a long thin
/// picture to a square must not take gigabytes.
pub const MAX_IMAGE_SIDE: u32 = 4096;

/// Decodes one picture of a data folder (its format guessed from the content; at most
/// [`MAX_IMAGE_SIDE`] a side, checked before decoding) and makes it a 64×64 training picture.
pub fn decode_image(bytes: &[u8], mode: SquareMode) -> Result<RgbImage, String> {
    decode_image_at(bytes, mode, DEFAULT_IMAGE_SIZE)
}

/// [`decode_image`] at `side`×`side`.
pub fn decode_image_at(bytes: &[u8], mode: SquareMode, side: usize) -> Result<RgbImage, String> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    reader.limits(limits);
    // A decoder bug must cost one picture, not the whole folder: png 0.18.1 panics on some
    // malformed palettes (found by fuzzing; see docs/fuzzing.md).
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.decode()))
        .map_err(|_| "the picture decoder failed on this file (a decoder bug)".to_string())?;
    let img = decoded.map_err(|e| match e {
        image::ImageError::Limits(_) => {
            format!("larger than {MAX_IMAGE_SIDE} pixels a side (a size limit hitogata keeps)")
        }
        other => other.to_string(),
    })?;
    if img.width() == 0 || img.height() == 0 {
        return Err("empty image".into());
    }
    Ok(prepare_image(img, mode, side))
}

impl Dataset {
    /// Loads every image under `dir` (recursively, in parallel). Unreadable files are skipped
    /// and listed in [`skipped`](Self::skipped); a folder with no usable image is an error.
    pub fn load_folder(dir: &Path, mode: SquareMode) -> Result<Self, DataError> {
        Self::load_folder_as(dir, mode, PictureShape::DEFAULT)
    }

    /// [`load_folder`](Self::load_folder) with every picture prepared at `shape`.
    pub fn load_folder_as(
        dir: &Path,
        mode: SquareMode,
        shape: PictureShape,
    ) -> Result<Self, DataError> {
        let mut candidates = Vec::new();
        collect_candidates(dir, &mut candidates, &mut Default::default()).map_err(|source| {
            DataError::Unreadable {
                path: dir.to_path_buf(),
                source,
            }
        })?;
        let decoded: Vec<_> = candidates
            .par_iter()
            .map(|p| (p.clone(), decode(p, mode, shape)))
            .collect();
        let mut pixels = Vec::with_capacity(decoded.len() * shape.bytes());
        let mut sources = Vec::new();
        let mut skipped = Vec::new();
        for (path, result) in decoded {
            match result {
                Ok(bytes) => {
                    pixels.extend_from_slice(&bytes);
                    sources.push(path);
                }
                Err(reason) => skipped.push(Skipped { path, reason }),
            }
        }
        if sources.is_empty() {
            return Err(DataError::Empty {
                path: dir.to_path_buf(),
                candidates: candidates.len(),
                skipped: skipped.len(),
                first: summarize_skipped(&skipped, 3),
            });
        }
        Ok(Self {
            len: sources.len(),
            pixels,
            sources,
            skipped,
            shape,
        })
    }

    /// Builds a colour dataset from already-prepared square images of one size (64×64 unless
    /// there are none).
    pub fn from_images(images: &[RgbImage]) -> Self {
        let side = images
            .first()
            .map_or(DEFAULT_IMAGE_SIZE, |i| i.width() as usize);
        let shape = PictureShape { side, channels: 3 };
        let mut pixels = Vec::with_capacity(images.len() * shape.bytes());
        for img in images {
            assert_eq!(
                img.dimensions(),
                (side as u32, side as u32),
                "square, one size"
            );
            pixels.extend_from_slice(img.as_raw());
        }
        Self {
            len: images.len(),
            pixels,
            sources: Vec::new(),
            skipped: Vec::new(),
            shape,
        }
    }

    /// The same pictures at `shape` (resized from this dataset's pixels, not re-read): for a
    /// model of another size or grey meeting pictures prepared for another.
    pub fn to_shape(&self, shape: PictureShape) -> std::borrow::Cow<'_, Self> {
        if shape == self.shape {
            return std::borrow::Cow::Borrowed(self);
        }
        let s = shape.side as u32;
        let pixels = (0..self.len)
            .into_par_iter()
            .flat_map_iter(|i| {
                let img = self.image(i);
                let img = if img.width() == s {
                    img
                } else {
                    image::imageops::resize(&img, s, s, FilterType::Lanczos3)
                };
                stored_bytes(img, shape.channels)
            })
            .collect();
        std::borrow::Cow::Owned(Self {
            pixels,
            shape,
            sources: self.sources.clone(),
            skipped: self.skipped.clone(),
            len: self.len,
        })
    }

    /// Image `i` as a picture (grey as equal R, G and B).
    pub fn image(&self, i: usize) -> RgbImage {
        let n = self.shape.bytes();
        let bytes = &self.pixels[i * n..(i + 1) * n];
        let rgb = if self.shape.channels == 1 {
            bytes.iter().flat_map(|&v| [v, v, v]).collect()
        } else {
            bytes.to_vec()
        };
        let s = self.shape.side as u32;
        RgbImage::from_raw(s, s, rgb).expect("side × side pixels")
    }

    /// A batch [n, c, side, side] in [-1, 1]; `flip[k]` mirrors image k horizontally. The bytes
    /// go to the device four to a 32-bit word and become floats there: a quarter of the
    /// traffic of f32, which counts when the device is a remote server (wgpu has no 8-bit
    /// tensors, so the words are unpacked with shifts).
    pub fn batch(&self, indices: &[usize], flip: &[bool], device: &Device) -> Tensor<4> {
        let (s, c, per) = (self.shape.side, self.shape.channels, self.shape.bytes());
        let mut bytes = vec![0u8; indices.len() * per];
        for (k, &i) in indices.iter().enumerate() {
            let src = &self.pixels[i * per..(i + 1) * per];
            let dst = &mut bytes[k * per..(k + 1) * per];
            if flip.get(k).copied().unwrap_or(false) {
                for (src_row, dst_row) in src.chunks_exact(s * c).zip(dst.chunks_exact_mut(s * c)) {
                    for (x, px) in dst_row.chunks_exact_mut(c).enumerate() {
                        let sx = (s - 1 - x) * c;
                        px.copy_from_slice(&src_row[sx..sx + c]);
                    }
                }
            } else {
                dst.copy_from_slice(src);
            }
        }
        let n = indices.len();
        let words: Vec<i32> = bytes
            .chunks_exact(4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let words =
            Tensor::<2, Int>::from_data(TensorData::new(words, [n, per / 4]), (device, DType::I32));
        // Byte k of each little-endian word; the mask also drops an arithmetic shift's sign.
        let planes = (0..4)
            .map(|k| {
                words
                    .clone()
                    .bitwise_right_shift_scalar(8 * k)
                    .bitwise_and_scalar(255)
            })
            .collect();
        Tensor::stack::<3>(planes, 2)
            .reshape([n, s, s, c])
            .float()
            .permute([0, 3, 1, 2])
            .div_scalar(127.5)
            .sub_scalar(1.0)
    }
}

/// "a.png: reason; b.jpg: reason; … and N more" for the first `n` skipped files.
pub fn summarize_skipped(skipped: &[Skipped], n: usize) -> String {
    if skipped.is_empty() {
        return String::new();
    }
    let mut parts: Vec<String> = skipped
        .iter()
        .take(n)
        .map(|s| format!("{}: {}", s.path.display(), s.reason))
        .collect();
    if skipped.len() > n {
        parts.push(format!("and {} more", skipped.len() - n));
    }
    format!("; {}", parts.join("; "))
}

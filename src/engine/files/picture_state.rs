//! Pictures that remember: every PNG hitogata writes carries, in an `iTXt` chunk named
//! `hitogata`, the latent vectors it shows (one, or a grid's), ψ, and the checkpoint (path and
//! content hash) and bookmark it came from, as RON. Opening such a PNG restores that state;
//! `hitogata generate --from-png` draws it again.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::engine::files::atomic::write_atomic;
use crate::engine::model::latent::Latent;

/// The chunk's keyword.
pub const KEYWORD: &str = "hitogata";

/// What a picture shows and where it came from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PictureState {
    /// The latent vectors, in the picture's order (a grid row by row).
    pub latents: Vec<Latent>,
    /// Truncation ψ they were drawn with.
    #[serde(default = "one")]
    pub psi: f32,
    /// The checkpoint, as it was given.
    #[serde(default)]
    pub checkpoint: Option<String>,
    /// Its content hash (see `checkpoint_notes::content_hash`).
    #[serde(default)]
    pub checkpoint_hash: Option<String>,
    /// The bookmark it was made from or as.
    #[serde(default)]
    pub parent: Option<u64>,
}

fn one() -> f32 {
    1.0
}

/// A PNG's state could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PictureStateError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not a PNG.
    #[error("{path} is not a PNG: {message}")]
    NotPng {
        /// The file.
        path: PathBuf,
        /// The decoder's complaint.
        message: String,
    },
    /// A PNG without hitogata's chunk.
    #[error(
        "{path} does not say what it shows: it was not written by hitogata (no '{KEYWORD}' text chunk)"
    )]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// The chunk is there but unreadable.
    #[error("{path}: its '{KEYWORD}' text chunk is malformed: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// Encodes `img` as PNG bytes with `state` in its text chunk.
pub fn png_with_state(img: &RgbImage, state: &PictureState) -> std::io::Result<Vec<u8>> {
    let text = ron::to_string(state).map_err(std::io::Error::other)?;
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(Cursor::new(&mut bytes), img.width(), img.height());
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder
            .add_itxt_chunk(KEYWORD.to_string(), text)
            .map_err(std::io::Error::other)?;
        let mut writer = encoder.write_header().map_err(std::io::Error::other)?;
        writer
            .write_image_data(img.as_raw())
            .map_err(std::io::Error::other)?;
        writer.finish().map_err(std::io::Error::other)?;
    }
    Ok(bytes)
}

/// Writes `img` with `state` as a PNG, atomically.
pub fn save_png_with_state(
    img: &RgbImage,
    state: &PictureState,
    path: &Path,
) -> std::io::Result<()> {
    write_atomic(path, &png_with_state(img, state)?)
}

/// The state a PNG carries.
pub fn read_state(path: &Path) -> Result<PictureState, PictureStateError> {
    let bytes = crate::engine::files::bounded_read::read_bytes(
        path,
        crate::engine::files::bounded_read::FileKind::PICTURE,
    )
    .map_err(|source| PictureStateError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    state_of(&bytes, path)
}

/// The state in PNG `bytes` (named `path` in errors).
pub fn state_of(bytes: &[u8], path: &Path) -> Result<PictureState, PictureStateError> {
    let not_png = |e: png::DecodingError| PictureStateError::NotPng {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let decoder = png::Decoder::new(Cursor::new(bytes));
    let reader = decoder.read_info().map_err(not_png)?;
    let chunk = reader
        .info()
        .utf8_text
        .iter()
        .find(|c| c.keyword == KEYWORD)
        .ok_or_else(|| PictureStateError::Missing {
            path: path.to_path_buf(),
        })?;
    let malformed = |message: String| PictureStateError::Malformed {
        path: path.to_path_buf(),
        message,
    };
    let text = chunk.get_text().map_err(|e| malformed(e.to_string()))?;
    let state: PictureState = ron::from_str(&text).map_err(|e| malformed(e.to_string()))?;
    let dim = state.latents.first().map(Latent::dim);
    if state.latents.is_empty()
        || state.latents.iter().any(|z| Some(z.dim()) != dim)
        || state
            .latents
            .iter()
            .flat_map(|z| &z.0)
            .any(|x| !x.is_finite())
        || !state.psi.is_finite()
    {
        return Err(malformed(
            "it must hold latent vectors of one size, all finite".into(),
        ));
    }
    Ok(state)
}

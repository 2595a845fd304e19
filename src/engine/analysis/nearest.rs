//! The training pictures nearest to a generated one (pixels at 32×32), and whether it is
//! closer to one of them than real pictures are to each other: `eval`'s memorisation check,
//! for the picture on screen.

use std::path::Path;

use image::RgbImage;

use crate::engine::analysis::eval::{looks_memorised, nearest_neighbours};
use crate::engine::files::data::{DataError, Dataset, SquareMode};

/// Side the pictures are compared at.
pub const SIDE: u32 = 32;
/// Real pictures held out to measure how close real pictures come to the rest.
const HELD_OUT: usize = 200;

/// A dataset ready for nearest-picture queries.
pub struct NearestImages {
    /// The pictures at full size (64×64), to show.
    pub images: Vec<RgbImage>,
    small: Vec<RgbImage>,
    /// Compared in grey (for a grey model, trained on the pictures' luma).
    pub grey: bool,
    /// The smallest distance from a held-out real picture to the others: real pictures come
    /// no closer than this to each other.
    pub real_min: f32,
}

/// One neighbour.
#[derive(Clone, Debug, PartialEq)]
pub struct Neighbour {
    /// Its index in the dataset.
    pub index: usize,
    /// RMS pixel distance (0–255) at 32×32.
    pub distance: f32,
}

/// A picture as it is compared: at 32×32, and in grey (as equal R, G and B) when `grey`.
fn small(img: &RgbImage, grey: bool) -> RgbImage {
    let small = image::imageops::resize(img, SIDE, SIDE, image::imageops::FilterType::Triangle);
    if grey {
        image::DynamicImage::ImageLuma8(image::DynamicImage::ImageRgb8(small).into_luma8())
            .into_rgb8()
    } else {
        small
    }
}

impl NearestImages {
    /// Loads a folder and measures how close its real pictures come to each other (the last
    /// up to 200 against the rest; seconds on a CPU); `grey` compares their luma, for a grey
    /// model.
    pub fn build(folder: &Path, grey: bool) -> Result<Self, DataError> {
        let data = Dataset::load_folder(folder, SquareMode::Pad)?;
        Ok(Self::from_images(
            (0..data.len).map(|i| data.image(i)).collect(),
            grey,
        ))
    }

    /// The same from pictures in memory (any one size).
    pub fn from_images(images: Vec<RgbImage>, grey: bool) -> Self {
        let small: Vec<RgbImage> = images.iter().map(|i| small(i, grey)).collect();
        let held = HELD_OUT.min(small.len() / 10).max(1).min(small.len());
        let (rest, heldout) = small.split_at(small.len() - held);
        let real_min = if rest.is_empty() {
            f32::INFINITY
        } else {
            nearest_neighbours(heldout, rest)
                .into_iter()
                .map(|(d, _)| d)
                .fold(f32::INFINITY, f32::min)
        };
        Self {
            images,
            small,
            grey,
            real_min,
        }
    }

    /// The `k` pictures nearest to `picture`, nearest first.
    pub fn nearest(&self, picture: &RgbImage, k: usize) -> Vec<Neighbour> {
        let query = small(picture, self.grey);
        let mut all: Vec<Neighbour> = self
            .small
            .iter()
            .enumerate()
            .map(|(index, p)| Neighbour {
                index,
                distance: crate::engine::analysis::eval::pixel_distance(&query, p),
            })
            .collect();
        all.sort_by(|a, b| a.distance.total_cmp(&b.distance));
        all.truncate(k);
        all
    }

    /// Whether a picture this far from its nearest training picture looks memorised (`eval`'s
    /// rule: closer than half of what real pictures come to each other).
    pub fn memorised(&self, distance: f32) -> bool {
        looks_memorised(distance, self.real_min)
    }
}

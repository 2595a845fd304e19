//! The models that ship in checkpoints/: they load with the 40-d latent, draw a figure on white
//! that differs from one latent vector to the next, and the sample grid committed beside each
//! (the README's picture) is what its weights draw.

use crate::common;

use std::path::Path;

use hitogata::checkpoint::load_generator;
use hitogata::eval::pixel_distance;
use hitogata::inference::generate_images;
use hitogata::latent::sample_batch;
use image::{Rgb, RgbImage};

const MODELS: [&str; 2] = ["checkpoints/faces", "checkpoints/people"];
/// `samples.png`: `generate --seed 2026 --count 64 --grid --scale 2`: 8 per row, each 128 px
/// with 4 px of white around.
const GRID_SEED: u64 = 2026;
const GRID_COUNT: usize = 64;
const TILE: u32 = 128;
const GAP: u32 = 4;

/// The grid's people, drawn on the CPU as `generate` draws them (one batch of 64).
fn grid_people(dir: &str) -> Vec<RgbImage> {
    let dev = common::cpu();
    let loaded =
        load_generator(Path::new(dir), &dev.device).unwrap_or_else(|e| panic!("{dir}: {e}"));
    assert_eq!(loaded.config.latent_dim, 40, "{dir}: the 40-d latent");
    let z = sample_batch(GRID_SEED, GRID_COUNT, loaded.config.latent_dim);
    generate_images(&loaded.generator, &z, &dev.device)
}

fn near_white(p: &Rgb<u8>) -> bool {
    p.0.iter().all(|&c| c >= 235)
}

#[test]
fn each_shipped_model_draws_varied_figures_on_white() {
    for dir in MODELS {
        let people = grid_people(dir);
        for (i, img) in people.iter().enumerate() {
            assert_eq!(img.dimensions(), (64, 64));
            // Top row and side columns: figures stand on the bottom edge, not on the others.
            let edge: Vec<&Rgb<u8>> = img
                .enumerate_pixels()
                .filter(|(x, y, _)| *y == 0 || *x == 0 || *x == 63)
                .map(|(_, _, p)| p)
                .collect();
            let white_edge = edge.iter().filter(|p| near_white(p)).count() as f32;
            let figure = img.pixels().filter(|p| !near_white(p)).count() as f32;
            assert!(
                white_edge / edge.len() as f32 > 0.5,
                "{dir} #{i}: a white background ({white_edge} of {} edge pixels)",
                edge.len()
            );
            assert!(
                figure / 4096.0 > 0.05,
                "{dir} #{i}: a figure ({figure} pixels not white)"
            );
        }
        // No collapse: every two people differ clearly (RMS, 0-255).
        let mut closest = f32::MAX;
        for (i, a) in people.iter().enumerate() {
            for b in &people[i + 1..] {
                closest = closest.min(pixel_distance(a, b));
            }
        }
        assert!(closest > 10.0, "{dir}: two people only {closest} apart");
    }
}

#[test]
fn the_committed_sample_grids_are_what_the_shipped_weights_draw() {
    for dir in MODELS {
        let people = grid_people(dir);
        let path = Path::new(dir).join("samples.png");
        let grid = image::open(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .to_rgb8();
        assert_eq!(grid.dimensions(), (8 * TILE + 9 * GAP, 8 * TILE + 9 * GAP));
        let (mut differ, mut largest) = (0usize, 0i32);
        for (i, img) in people.iter().enumerate() {
            let (x0, y0) = (
                GAP + (i as u32 % 8) * (TILE + GAP),
                GAP + (i as u32 / 8) * (TILE + GAP),
            );
            for (x, y, p) in img.enumerate_pixels() {
                // Nearest-neighbour 2× upscaling: the tile's even pixels are the picture's.
                let q = grid.get_pixel(x0 + 2 * x, y0 + 2 * y);
                for c in 0..3 {
                    let d = (p.0[c] as i32 - q.0[c] as i32).abs();
                    largest = largest.max(d);
                    differ += usize::from(d > 0);
                }
            }
        }
        // Exact on the machine that drew it; a level or two apart elsewhere at most.
        assert!(
            largest <= 2 && differ < 64 * 64 * 3 * GRID_COUNT / 100,
            "{dir}: samples.png is not what the weights draw ({differ} channel values differ, by up to {largest}): regenerate it"
        );
    }
}

//! Latent vectors: seeded sampling, jitter ("more like this"), truncation, interpolation.

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// Default latent size of the shipped models (as in the original project).
#[cfg_attr(not(feature = "app"), allow(dead_code))] // the app's alone
pub const DEFAULT_LATENT_DIM: usize = 40;

/// A point in the generator's latent space.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Latent(pub Vec<f32>);

/// A seeded, portable RNG: ChaCha8 gives the same stream on every platform and version.
pub fn seeded_rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// `n` draws from N(0, 1).
pub fn normal_vec(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n)
        .map(|_| rng.sample::<f32, _>(StandardNormal))
        .collect()
}

impl Latent {
    /// The zero vector (the prior's mean).
    pub fn zeros(dim: usize) -> Self {
        Self(vec![0.0; dim])
    }

    /// z ~ N(0, I), reproducible from `seed`.
    pub fn from_seed(seed: u64, dim: usize) -> Self {
        Self(normal_vec(&mut seeded_rng(seed), dim))
    }

    /// Number of dimensions.
    pub fn dim(&self) -> usize {
        self.0.len()
    }

    /// Euclidean norm ‖z‖.
    pub fn norm(&self) -> f32 {
        self.0.iter().map(|v| v * v).sum::<f32>().sqrt()
    }

    /// How atypical ‖z‖ is under N(0, I): for d dimensions ‖z‖ ≈ √d with standard deviation
    /// ≈ 1/√2, so this is (‖z‖ − √d)·√2, in standard deviations.
    pub fn norm_z_score(&self) -> f32 {
        (self.norm() - (self.dim() as f32).sqrt()) * std::f32::consts::SQRT_2
    }

    /// Scales toward the mean (the "truncation trick"): ψ = 1 keeps z, ψ = 0 gives zero.
    pub fn truncated(&self, psi: f32) -> Self {
        Self(self.0.iter().map(|v| v * psi).collect())
    }

    /// Linear interpolation, t = 0 → self, t = 1 → other.
    pub fn lerp(&self, other: &Latent, t: f32) -> Self {
        Self(
            self.0
                .iter()
                .zip(&other.0)
                .map(|(a, b)| a + (b - a) * t)
                .collect(),
        )
    }

    /// `count` children z + ε, ε ~ N(0, σ²I), reproducible from `seed`.
    pub fn jitter(&self, sigma: f32, count: usize, seed: u64) -> Vec<Latent> {
        let mut rng = seeded_rng(seed);
        (0..count)
            .map(|_| {
                Latent(
                    self.0
                        .iter()
                        .map(|v| v + sigma * rng.sample::<f32, _>(StandardNormal))
                        .collect(),
                )
            })
            .collect()
    }
}

impl Latent {
    /// `count` children z + Σ εₖ·dₖ, εₖ ~ N(0, σ²), moving only along the unit `directions`
    /// ("more like this", changing only what those directions change); reproducible from
    /// `seed`. With no directions, the plain [`jitter`](Self::jitter).
    pub fn jitter_along(
        &self,
        sigma: f32,
        directions: &[Vec<f32>],
        count: usize,
        seed: u64,
    ) -> Vec<Latent> {
        if directions.is_empty() {
            return self.jitter(sigma, count, seed);
        }
        let mut rng = seeded_rng(seed);
        (0..count)
            .map(|_| {
                let mut z = self.0.clone();
                for d in directions {
                    let eps = sigma * rng.sample::<f32, _>(StandardNormal);
                    z.iter_mut().zip(d).for_each(|(x, dx)| *x += eps * dx);
                }
                Latent(z)
            })
            .collect()
    }
}

/// `count` vectors z ~ N(0, I) from one seed, as used for sample grids and `generate`.
pub fn sample_batch(seed: u64, count: usize, dim: usize) -> Vec<Latent> {
    let mut rng = seeded_rng(seed);
    (0..count)
        .map(|_| Latent(normal_vec(&mut rng, dim)))
        .collect()
}

/// Latent vectors saved beside generated images, so any output can be drawn again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatentFile {
    /// Seed they were drawn from, if any.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Checkpoint they were drawn with, if known.
    #[serde(default)]
    pub checkpoint: Option<String>,
    /// The vectors, in output order.
    pub latents: Vec<Latent>,
}

/// A latent file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LatentFileError {
    /// I/O.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not a latent file.
    #[error(
        "{path} is not a latent file (expected RON like `(latents: [([0.1, ...])])`): {message}"
    )]
    Malformed {
        /// The file.
        path: std::path::PathBuf,
        /// Parser message.
        message: String,
    },
}

impl LatentFile {
    /// Reads a latent file; a bare vector `[0.1, -0.3, ...]` is accepted as one latent.
    pub fn load(path: &std::path::Path) -> Result<Self, LatentFileError> {
        let text = crate::engine::files::bounded_read::read_text(
            path,
            crate::engine::files::bounded_read::FileKind::LATENTS,
        )
        .map_err(|source| LatentFileError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if let Ok(file) = ron::from_str::<LatentFile>(&text) {
            return Ok(file);
        }
        match ron::from_str::<Vec<f32>>(&text) {
            Ok(v) => Ok(Self {
                seed: None,
                checkpoint: None,
                latents: vec![Latent(v)],
            }),
            Err(e) => Err(LatentFileError::Malformed {
                path: path.to_path_buf(),
                message: e.to_string(),
            }),
        }
    }

    /// Writes the file atomically.
    pub fn save(&self, path: &std::path::Path) -> std::io::Result<()> {
        let text = ron::ser::to_string_pretty(self, ron::ser::PrettyConfig::default())
            .map_err(std::io::Error::other)?;
        crate::engine::files::atomic::write_atomic(path, text.as_bytes())
    }
}

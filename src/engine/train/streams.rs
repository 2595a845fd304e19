//! The random streams of a run. Every random draw of a step comes from an RNG seeded by the run's
//! seed, the step and one of these streams, so a resumed run draws exactly what an uninterrupted
//! one would, with no RNG state to save, and adding a draw to one stream leaves the others alone.

use rand::rngs::ChaCha8Rng;

use crate::engine::model::latent::seeded_rng;

/// Where a random draw belongs within a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// The generator update's latent vectors and augmentation.
    GeneratorUpdate,
    /// The k-th critic update of a step (0-based): its real batch, latents and augmentation.
    CriticUpdate(usize),
    /// The n-th critic-only update at a step (warm-up of a new critic).
    CriticOnly(u64),
    /// The fixed latent vectors of the sample grid (drawn once, at no step).
    SampleLatents,
    /// The weights of a critic started afresh during a run.
    FreshCritic,
}

/// First stream id of critic-only updates: far above the critic updates of one step.
const CRITIC_ONLY_BASE: u64 = 1 << 32;

impl Stream {
    /// The number mixed into the seed (fixed forever: changing one changes every run's draws).
    fn id(self) -> u64 {
        match self {
            Stream::GeneratorUpdate => 0,
            Stream::CriticUpdate(k) => 1 + k as u64,
            Stream::CriticOnly(n) => CRITIC_ONLY_BASE + n,
            Stream::SampleLatents => 7,
            Stream::FreshCritic => 9,
        }
    }
}

/// Mixes the run seed, the step and the stream into one seed (splitmix64's finaliser).
pub fn step_seed(seed: u64, step: u64, stream: Stream) -> u64 {
    let mut x = seed ^ 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(step.wrapping_add(1));
    x ^= stream.id().wrapping_mul(0xD1B5_4A32_D192_ED03);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The RNG of one stream at one step.
pub fn step_rng(seed: u64, step: u64, stream: Stream) -> ChaCha8Rng {
    seeded_rng(step_seed(seed, step, stream))
}

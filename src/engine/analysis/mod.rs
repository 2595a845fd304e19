//! What the debugger measures about a generator: directions and sensitivity, the critic's
//! view, a layer's channels, the nearest training pictures, and `eval`'s statistics.

pub mod critique;
pub mod directions;
pub mod eval;
pub mod layers;
pub mod nearest;

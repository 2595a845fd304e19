//! Fuzz target `pytorch`: see `hitogata::fuzz::load`.
#![no_main]
#[path = "scratch.rs"]
mod scratch;

libfuzzer_sys::fuzz_target!(|data: &[u8]| scratch::run("pytorch", data));

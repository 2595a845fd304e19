//! `hitogata`: the desktop app with no arguments, or a headless command.

use std::io::Write;

use clap::Parser;

mod cli;

fn main() {
    hitogata::allocator::tune_for_tensors();
    let args = cli::Cli::parse();
    let code = match cli::run(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            1
        }
    };
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // Everything is written (files atomically and synced). Skip process teardown: Mesa's GL
    // driver can crash while unloading with wgpu's threads still running.
    // SAFETY: ends the process immediately.
    unsafe { libc::_exit(code) }
}

/// The error and its causes, each said once: most of hitogata's errors already quote their
/// cause ("cannot read F: it is 8.0 GB; …"), which `{:#}` would repeat.
fn describe(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text = format!("{text}: {cause}");
        }
    }
    text
}

//! Command-line interface: one file per subcommand.

use clap::{CommandFactory, Parser, Subcommand};

mod bench;
mod eval;
mod generate;
mod train;

/// hitogata (人形): a latent-space debugger for a GAN that draws flat-style illustrated people.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a GAN on a folder of images (resumable; Ctrl-C saves a checkpoint).
    Train(train::TrainArgs),
    /// Draw people from a checkpoint as PNGs, with the latent vectors used beside them.
    Generate(generate::GenerateArgs),
    /// Score a generator against a dataset: multi-scale SWD and a memorisation check.
    Eval(eval::EvalArgs),
    /// Measure generator latency and training throughput on each available device.
    Bench(bench::BenchArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Train(args)) => train::run(args),
        Some(Command::Generate(args)) => generate::run(args),
        Some(Command::Bench(args)) => bench::run(args),
        Some(Command::Eval(args)) => eval::run(args),
        None => {
            // The desktop app lands in a later issue; until then, say what there is.
            Cli::command().print_help()?;
            println!();
            Ok(())
        }
    }
}

/// Prints the chosen device once, clearly, to stderr.
pub fn announce_device(device: &hitogata::device::ComputeDevice) {
    eprintln!("device: {}", device.description);
}

//! `hitogata export`: a generator-only copy of a checkpoint, optionally in f16, or the state
//! dict PyTorch's DCGAN example loads.

use std::path::PathBuf;

use clap::Args;
use hitogata::checkpoint::{export_generator, export_generator_f16, load_generator};
use hitogata::device::{DeviceChoice, select_device};
use hitogata::pytorch::export_pytorch_generator;

/// Arguments of `hitogata export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Checkpoint, generator export or run directory.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Directory to write (replaced atomically if it exists); with --pytorch, the .pth file.
    #[arg(long)]
    out: PathBuf,
    /// Store convolution weights as f16 (BatchNorm statistics stay f32).
    #[arg(long, conflicts_with = "pytorch")]
    f16: bool,
    /// Write a PyTorch state dict (.pth) that the DCGAN example's / tutorial's `Generator`
    /// loads with `load_state_dict(strict=True)`.
    #[arg(long)]
    pytorch: bool,
    /// Write the copy with this output scale (1–2; see `train --output-scale`), same weights.
    #[arg(long)]
    output_scale: Option<f32>,
}

/// Runs `hitogata export`.
pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let device = select_device(&DeviceChoice::Cpu)?;
    let mut loaded = load_generator(&args.checkpoint, &device.device)?;
    if let Some(scale) = args.output_scale {
        loaded.config = loaded
            .config
            .clone()
            .with_checked_output_scale(scale)
            .map_err(anyhow::Error::msg)?;
        loaded.generator.set_output_scale(scale);
    }
    if args.pytorch {
        let note = export_pytorch_generator(&loaded.config, &loaded.generator, &args.out)?;
        if let Some(note) = note {
            eprintln!("note: {note}");
        }
    } else if args.f16 {
        export_generator_f16(&loaded.config, &loaded.generator, &args.out)?;
    } else {
        export_generator(&loaded.config, &loaded.generator, &args.out)?;
    }
    eprintln!(
        "generator of {} written to {}",
        loaded.dir.display(),
        args.out.display()
    );
    Ok(())
}

//! `hitogata import`: a PyTorch DCGAN or WGAN generator (and its critic) as a hitogata
//! checkpoint.

use std::path::PathBuf;

use clap::Args;
use hitogata::pytorch::import_pytorch;

/// Arguments of `hitogata import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The generator's state dict (`netG_epoch_N.pth`), from PyTorch's DCGAN example or
    /// WassersteinGAN's code, or a dict holding it.
    generator: PathBuf,
    /// The discriminator / critic (default: the `netD…` file beside the generator, if any).
    #[arg(long)]
    critic: Option<PathBuf>,
    /// Checkpoint directory to write (replaced atomically if it exists).
    #[arg(long)]
    out: PathBuf,
}

/// Runs `hitogata import`.
pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    let imported = import_pytorch(&args.generator, args.critic.as_deref(), &args.out)?;
    let c = &imported.config;
    let critic = match &imported.from.critic {
        Some(path) => format!(", critic from {}", path.display()),
        None => ", no critic".to_string(),
    };
    if let Some(why) = &imported.from.critic_refused {
        eprintln!("warning: the critic beside it was left out: {why}");
    }
    eprintln!(
        "{}: z of {}, {}×{} {}, ngf {}{critic}; written to {}",
        args.generator.display(),
        c.latent_dim,
        c.image_size(),
        c.image_size(),
        if c.channels() == 1 { "grey" } else { "colour" },
        c.ngf,
        args.out.display()
    );
    Ok(())
}

//! Opening the GANs people already have: PyTorch checkpoints (`.pth`) of the DCGAN and
//! WassersteinGAN code bases, read with burn's `pytorch-reader` (the pickle is parsed in
//! Rust, never run; anything but tensors and plain containers is refused) and written as a
//! hitogata checkpoint. Every `--checkpoint` and the app open a `.pth` through
//! [`imported_checkpoint`], which imports it once into the cache, keyed by content.

mod export;
mod layout;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::Device;
use pytorch_reader::{DType, PickleValue, PytorchReader};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use export::export_pytorch_generator;
use layout::{Entry, Network, Shapes, read_network};

use crate::engine::files::atomic::replace_dir_atomic;
use crate::engine::files::bounded_read::{FileKind, check_file};
use crate::engine::files::checkpoint_files::{
    CRITIC_FILE, CheckpointError, GENERATOR_FILE, MODEL_FILE, io_err, load_weights_from_bytes,
    write_ron,
};
use crate::engine::model::{DEFAULT_IMAGE_SIZE, ModelConfig};

/// Which network of a GAN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// G (netG).
    Generator,
    /// D, the discriminator or critic (netD).
    Critic,
}

/// Written into an imported checkpoint: where it came from.
pub const IMPORTED_FILE: &str = "imported.ron";

/// The provenance of an imported checkpoint.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ImportedFrom {
    /// The generator's file.
    pub generator: PathBuf,
    /// The critic's file, if one was imported.
    pub critic: Option<PathBuf>,
    /// Why the `netD` file found beside the generator was not imported, if it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critic_refused: Option<String>,
}

/// Where the checkpoint in `dir` was imported from, if it was (read from its imported.ron).
pub fn imported_from(dir: &Path) -> Option<ImportedFrom> {
    let text = std::fs::read_to_string(dir.join(IMPORTED_FILE)).ok()?;
    ron::from_str(&text).ok()
}

/// A `.pth` file holds at most this much (a DCGAN at 256 px with ngf 128 is ~200 MB).
const PTH_FILE: FileKind = FileKind::new("PyTorch checkpoint", 4 << 30);

/// Whether `path` names a PyTorch checkpoint (`.pth` or `.pt`).
pub fn is_pytorch_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("pth") || e.eq_ignore_ascii_case("pt"))
}

fn refused(path: &Path, message: impl Into<String>) -> CheckpointError {
    CheckpointError::Pytorch {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// An opened `.pth`: its tensors, grouped by the network (`main.`) they belong to.
pub struct PthFile {
    path: PathBuf,
    /// Prefix before `main.` (`""`, `"module."`, `"netG."`, `"state_dict.module."`…) →
    /// the tensors under it, keys relative to `main.` with `:` read as `.`.
    groups: BTreeMap<String, Vec<Entry>>,
    tensors: std::collections::HashMap<String, pytorch_reader::Tensor>,
}

/// Refuses any Python object that is not a tensor or a plain value (the reader never runs
/// one, but a file carrying `os.system` or a custom class is not a checkpoint to trust).
fn only_plain_values(value: &PickleValue) -> Result<(), String> {
    match value {
        PickleValue::Unsupported(name) if name == "torch.Tensor" => Ok(()),
        PickleValue::Unsupported(name) => Err(format!(
            "holds a Python object of type '{name}'; hitogata reads only tensors, numbers, \
             strings, lists and dicts (nothing in the file was run)"
        )),
        PickleValue::List(items) => items.iter().try_for_each(only_plain_values),
        PickleValue::Dict(map) => map.values().try_for_each(only_plain_values),
        _ => Ok(()),
    }
}

impl PthFile {
    /// Opens `path`, refusing devices, pipes, oversized files, unknown Python objects and
    /// files without a DCGAN's `main.*` tensors.
    pub fn open(path: &Path) -> Result<Self, CheckpointError> {
        check_file(path, PTH_FILE).map_err(io_err(path))?;
        let error = |e: pytorch_reader::PytorchError| refused(path, e.to_string());
        let pickle = PytorchReader::read_pickle_data(path, None).map_err(error)?;
        only_plain_values(&pickle).map_err(|m| refused(path, m))?;
        let tensors = PytorchReader::new(path).map_err(error)?.into_tensors();
        let mut groups: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
        for (key, tensor) in &tensors {
            let normal = key.replace(':', ".");
            let at = if normal.starts_with("main.") {
                Some(0)
            } else {
                normal.find(".main.").map(|i| i + 1)
            };
            if let Some(at) = at {
                groups
                    .entry(normal[..at].to_string())
                    .or_default()
                    .push(Entry {
                        key: normal[at + "main.".len()..].to_string(),
                        shape: tensor.shape().to_vec(),
                    });
            }
        }
        if groups.is_empty() {
            let mut keys: Vec<&String> = tensors.keys().collect();
            keys.sort();
            keys.truncate(5);
            return Err(refused(
                path,
                format!(
                    "no tensors named main.* (the layout of PyTorch's DCGAN example and of \
                     WassersteinGAN); the first keys are {keys:?}"
                ),
            ));
        }
        Ok(Self {
            path: path.to_path_buf(),
            groups,
            tensors,
        })
    }

    /// The file's network of `role`: the first group that reads as one, or why none does.
    fn network(&self, role: Role) -> Result<(String, Network, Shapes), CheckpointError> {
        let mut why = Vec::new();
        for (prefix, entries) in &self.groups {
            match read_network(entries, role).and_then(|n| Ok((n.shapes()?, n))) {
                Ok((shapes, network)) => return Ok((prefix.clone(), network, shapes)),
                // Layout errors quote keys from `main.`; the user sees the file's own key.
                Err(e) => why.push(e.replace("'main.", &format!("'{prefix}main."))),
            }
        }
        let other = match role {
            Role::Generator => Role::Critic,
            Role::Critic => Role::Generator,
        };
        let is_other = self
            .groups
            .values()
            .any(|e| read_network(e, other).and_then(|n| n.shapes()).is_ok());
        let hint = match (is_other, role) {
            (true, Role::Generator) => {
                " — this is a discriminator (netD): open the generator (netG) and give this file as its critic"
            }
            (true, Role::Critic) => " — this is a generator (netG), not a discriminator",
            (false, _) => "",
        };
        Err(refused(
            &self.path,
            format!(
                "not a DCGAN {role:?} hitogata can open: {}{hint}",
                why.join("; ")
            ),
        ))
    }

    /// The network's tensors under hitogata's names, as a safetensors file in memory.
    fn weights(&self, prefix: &str, network: &Network) -> Result<Vec<u8>, CheckpointError> {
        let mut named: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        for (name, entry) in network.names() {
            let Some(entry) = entry else {
                // A critic's last bias: hitogata's has one, PyTorch's none.
                named.push((name, vec![1], 0f32.to_le_bytes().to_vec()));
                continue;
            };
            let original = self.original_key(prefix, &entry.key);
            let tensor = &self.tensors[&original];
            let bytes = tensor.read().map_err(io_err(&self.path))?;
            let values = to_f32(tensor.dtype(), &bytes).ok_or_else(|| {
                refused(
                    &self.path,
                    format!(
                        "'{original}': {:?} values, not floating point",
                        tensor.dtype()
                    ),
                )
            })?;
            if values.iter().any(|v| !v.is_finite()) {
                return Err(refused(
                    &self.path,
                    format!("'{original}' holds NaN or infinite values"),
                ));
            }
            let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            named.push((name, entry.shape, bytes));
        }
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = named
            .iter()
            .map(|(name, shape, bytes)| {
                let view = safetensors::tensor::TensorView::new(
                    safetensors::Dtype::F32,
                    shape.clone(),
                    bytes,
                )
                .expect("the shape fits the values");
                (name.clone(), view)
            })
            .collect();
        safetensors::serialize(views, None).map_err(|e| refused(&self.path, e.to_string()))
    }

    /// The key as the file spells it (`:` or `.` between module names).
    fn original_key(&self, prefix: &str, relative: &str) -> String {
        let wanted = format!("{prefix}main.{relative}");
        self.tensors
            .keys()
            .find(|k| k.replace(':', ".") == wanted)
            .cloned()
            .unwrap_or(wanted)
    }
}

/// Little-endian floats of any width as f32.
fn to_f32(dtype: DType, bytes: &[u8]) -> Option<Vec<f32>> {
    Some(match dtype {
        DType::F32 => bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect(),
        DType::F64 => bytes
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap()) as f32)
            .collect(),
        DType::F16 => bytes
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        DType::BF16 => bytes
            .chunks_exact(2)
            .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        _ => return None,
    })
}

/// The critic file that goes with a generator file: `netD…` beside `netG…` (the name both
/// code bases save under), if it exists.
pub fn netd_beside(generator: &Path) -> Option<PathBuf> {
    let name = generator.file_name()?.to_str()?;
    let counterpart = name.replacen("netG", "netD", 1);
    (counterpart != name)
        .then(|| generator.with_file_name(counterpart))
        .filter(|p| p.is_file())
}

/// A generator (and optionally a critic) read from PyTorch files, checked against each other.
pub struct Imported {
    /// The shapes, in hitogata's terms.
    pub config: ModelConfig,
    /// generator.safetensors' bytes.
    generator: Vec<u8>,
    /// critic.safetensors' bytes.
    critic: Option<Vec<u8>>,
    /// Where they came from.
    pub from: ImportedFrom,
}

/// Reads a generator from `generator` and a critic from `critic` (or, without one, from the
/// same file when it holds both), and checks that both load into hitogata's model.
pub fn read_pytorch(generator: &Path, critic: Option<&Path>) -> Result<Imported, CheckpointError> {
    let g_file = PthFile::open(generator)?;
    let (g_prefix, g_net, g) = g_file.network(Role::Generator)?;
    let c_file = match critic {
        Some(path) => Some(PthFile::open(path)?),
        None => None,
    };
    let critic_found = match &c_file {
        Some(file) => Some((file, file.network(Role::Critic)?)),
        None => g_file.network(Role::Critic).ok().map(|n| (&g_file, n)),
    };
    let mut config = ModelConfig::new()
        .with_latent_dim(g.latent_dim.unwrap_or_default())
        .with_ngf(g.width)
        .with_ndf(g.width)
        .with_image_size((g.image_size != DEFAULT_IMAGE_SIZE).then_some(g.image_size))
        .with_channels((g.channels != 3).then_some(g.channels))
        .with_generator_batch_norm((!g.batch_norm).then_some(false))
        .with_extra_layers((g.extra_layers > 0).then_some(g.extra_layers));
    if let Some((file, (_, _, c))) = &critic_found {
        if (c.image_size, c.channels, c.extra_layers) != (g.image_size, g.channels, g.extra_layers)
        {
            return Err(refused(
                &file.path,
                format!(
                    "a critic of {0}×{0} pictures with {1} channels and {2} extra layers does not \
                     go with a generator of {3}×{3}, {4} channels, {5} extra layers",
                    c.image_size,
                    c.channels,
                    c.extra_layers,
                    g.image_size,
                    g.channels,
                    g.extra_layers
                ),
            ));
        }
        config = config
            .with_ndf(c.width)
            .with_critic_batch_norm(c.batch_norm);
    }
    config.check().map_err(|m| refused(generator, m))?;
    let cpu = Device::flex();
    let generator_bytes = g_file.weights(&g_prefix, &g_net)?;
    load_weights_from_bytes(
        || config.init_generator(&cpu),
        generator_bytes.clone(),
        generator,
    )?;
    let critic_bytes = match &critic_found {
        Some((file, (prefix, network, _))) => {
            let bytes = file.weights(prefix, network)?;
            load_weights_from_bytes(|| config.init_critic(&cpu), bytes.clone(), &file.path)?;
            Some(bytes)
        }
        None => None,
    };
    Ok(Imported {
        config,
        generator: generator_bytes,
        critic: critic_bytes,
        from: ImportedFrom {
            generator: generator.to_path_buf(),
            critic: critic_found.map(|(file, _)| file.path.clone()),
            critic_refused: None,
        },
    })
}

impl Imported {
    /// Writes the checkpoint (model.ron, generator.safetensors, critic.safetensors when there
    /// is a critic, imported.ron) into `dir`, atomically.
    pub fn write(&self, dir: &Path) -> Result<(), CheckpointError> {
        replace_dir_atomic(dir, |tmp| {
            let wrap = |e: CheckpointError| std::io::Error::other(e.to_string());
            write_ron(&tmp.join(MODEL_FILE), &self.config).map_err(wrap)?;
            write_ron(&tmp.join(IMPORTED_FILE), &self.from).map_err(wrap)?;
            std::fs::write(tmp.join(GENERATOR_FILE), &self.generator)?;
            if let Some(critic) = &self.critic {
                std::fs::write(tmp.join(CRITIC_FILE), critic)?;
            }
            Ok(())
        })
        .map_err(io_err(dir))
    }
}

/// Imports `generator` (with `critic`, or the `netD` file beside it) into `out`. A `netD`
/// found beside it that does not go with it is left out, and why is recorded; a critic the
/// caller names must go with it.
pub fn import_pytorch(
    generator: &Path,
    critic: Option<&Path>,
    out: &Path,
) -> Result<Imported, CheckpointError> {
    let imported = match (critic, netd_beside(generator)) {
        (Some(critic), _) => read_pytorch(generator, Some(critic))?,
        (None, Some(beside)) => match read_pytorch(generator, Some(&beside)) {
            Ok(imported) => imported,
            Err(why) => {
                let mut alone = read_pytorch(generator, None)?;
                alone.from.critic_refused = Some(why.to_string());
                alone
            }
        },
        (None, None) => read_pytorch(generator, None)?,
    };
    imported.write(out)?;
    Ok(imported)
}

/// Where imports are cached: the user's cache folder, else the temporary one.
fn cache_root() -> PathBuf {
    directories::ProjectDirs::from("org", "hitogata", "hitogata")
        .map(|d| d.cache_dir().to_path_buf())
        .unwrap_or_else(std::env::temp_dir)
        .join("imported")
}

/// The hitogata checkpoint a `.pth` opens as: imported once into the cache, under a hash of
/// the generator's and critic's paths and contents (so an edited file is imported afresh, and
/// a copy elsewhere says where it is).
pub fn imported_checkpoint(generator: &Path) -> Result<PathBuf, CheckpointError> {
    // Absolute, so that imported.ron names the file wherever the app was started.
    let generator = &std::path::absolute(generator).unwrap_or_else(|_| generator.to_path_buf());
    let critic = netd_beside(generator);
    let mut hash = Sha256::new();
    for path in std::iter::once(generator.as_path()).chain(critic.as_deref()) {
        check_file(path, PTH_FILE).map_err(io_err(path))?;
        hash.update(path.as_os_str().as_encoded_bytes());
        hash.update(b"\0");
        let mut file = std::fs::File::open(path).map_err(io_err(path))?;
        std::io::copy(&mut file, &mut hash).map_err(io_err(path))?;
        hash.update(b"\0next file\0");
    }
    let key: String = hash.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let root = cache_root();
    let dir = root.join(key);
    if !dir.join(MODEL_FILE).is_file() {
        import_pytorch(generator, critic.as_deref(), &dir)?;
    }
    keep_recent_imports(&root, &dir);
    Ok(dir)
}

/// Imports the cache keeps: the most recently opened (a 256 px model is ~200 MB).
pub const KEPT_IMPORTS: usize = 16;

/// How long an opened import is safe from removal, however many were opened since: another
/// process (the app beside the CLI, tests running at once) may be reading it right now.
pub const IMPORT_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Marks `used` as just opened (its model.ron's modification time) and removes all but the
/// [`KEPT_IMPORTS`] most recently opened imports under `root`, sparing any opened within
/// [`IMPORT_GRACE`]. Best effort: the cache is only a cache, and an import removed here is made
/// again from its `.pth` when next opened.
fn keep_recent_imports(root: &Path, used: &Path) {
    use std::time::{SystemTime, UNIX_EPOCH};
    if let Ok(file) = std::fs::File::options()
        .write(true)
        .open(used.join(MODEL_FILE))
    {
        let _ = file.set_modified(SystemTime::now());
    }
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let mut imports: Vec<(SystemTime, PathBuf)> = entries
        .flatten()
        // `.NAME.tmp-PID` folders are imports being written: never another process's to remove.
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| {
            let opened = std::fs::metadata(e.path().join(MODEL_FILE))
                .and_then(|m| m.modified())
                .unwrap_or(UNIX_EPOCH);
            (opened, e.path())
        })
        .collect();
    imports.sort_by_key(|(opened, _)| std::cmp::Reverse(*opened));
    let now = SystemTime::now();
    for (opened, old) in imports.into_iter().skip(KEPT_IMPORTS) {
        let recent = now
            .duration_since(opened)
            .is_ok_and(|age| age < IMPORT_GRACE);
        if old != used && !recent {
            let _ = std::fs::remove_dir_all(old);
        }
    }
}

//! `export --pytorch`: a generator as the state dict of pytorch/examples' DCGAN `Generator`
//! (`main.0.weight`, `main.1.weight|bias|running_mean|running_var|num_batches_tracked`, …),
//! in the zip container `torch.save` writes, loadable with `torch.load(weights_only=True)` and
//! `load_state_dict(strict=True)`.
//!
//! The pickle is the one `torch.save(state_dict)` writes, protocol 2: an `OrderedDict` of
//! `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)`,
//! each storage a persistent id `('storage', torch.FloatStorage, key, 'cpu', numel)` whose
//! bytes are the archive entry `data/{key}`.

use std::io::Write;
use std::path::Path;

use crate::engine::files::atomic::write_atomic;
use crate::engine::files::checkpoint_files::{CheckpointError, io_err};
use crate::engine::model::{Generator, ModelConfig, Upsampling, host_values};

/// A tensor to write: its key, shape and values.
enum Values {
    Float(Vec<f32>),
    Long(i64),
}

struct Named {
    key: String,
    shape: Vec<usize>,
    values: Values,
}

/// The state dict of the examples' `Generator` for `generator`: its layers are numbered as
/// that `nn.Sequential` numbers them (convolution, BatchNorm, ReLU; … ; convolution, Tanh).
fn state_dict(config: &ModelConfig, generator: &Generator) -> Result<Vec<Named>, String> {
    if config.upsampling() != Upsampling::Transposed
        || !config.generator_batch_norm()
        || config.extra_layers() > 0
    {
        return Err(
            "only DCGAN generators (transposed convolutions, BatchNorm, no extra layers) \
                    have the PyTorch examples' layout"
                .into(),
        );
    }
    let (first, first_bn, steps) = generator
        .transposed_steps()
        .ok_or("the generator has no transposed-convolution layout")?;
    let mut out = Vec::new();
    let convs = std::iter::once((first, first_bn)).chain(steps);
    for (i, (conv, bn)) in convs.enumerate() {
        let index = 3 * i;
        out.push(Named {
            key: format!("main.{index}.weight"),
            shape: conv.weight.dims().to_vec(),
            values: Values::Float(host_values(conv.weight.val())),
        });
        let Some(bn) = bn else { continue };
        let channels = bn.gamma.dims()[0];
        let mut float = |name: &str, values: Vec<f32>| {
            out.push(Named {
                key: format!("main.{}.{name}", index + 1),
                shape: vec![channels],
                values: Values::Float(values),
            })
        };
        float("weight", host_values(bn.gamma.val()));
        float("bias", host_values(bn.beta.val()));
        float("running_mean", host_values(bn.running_mean.value()));
        float("running_var", host_values(bn.running_var.value()));
        out.push(Named {
            key: format!("main.{}.num_batches_tracked", index + 1),
            shape: Vec::new(),
            values: Values::Long(0),
        });
    }
    Ok(out)
}

/// Pickle opcodes (protocol 2) and the few values a state dict needs.
struct Pickle(Vec<u8>);

impl Pickle {
    fn global(&mut self, module: &str, name: &str) {
        self.0.push(b'c');
        self.0
            .extend_from_slice(format!("{module}\n{name}\n").as_bytes());
    }
    fn string(&mut self, s: &str) {
        self.0.push(b'X');
        self.0.extend_from_slice(&(s.len() as u32).to_le_bytes());
        self.0.extend_from_slice(s.as_bytes());
    }
    fn int(&mut self, v: usize) {
        self.0.push(b'J');
        self.0.extend_from_slice(&(v as i32).to_le_bytes());
    }
    fn tuple_of(&mut self, values: &[usize]) {
        if values.is_empty() {
            self.0.push(b')');
            return;
        }
        self.0.push(b'(');
        values.iter().for_each(|&v| self.int(v));
        self.0.push(b't');
    }
    fn empty_ordered_dict(&mut self) {
        self.global("collections", "OrderedDict");
        self.0.extend_from_slice(b")R");
    }
}

/// `data.pkl` for `tensors`, storage `i` holding tensor `i`.
fn pickle(tensors: &[Named]) -> Vec<u8> {
    let mut p = Pickle(b"\x80\x02".to_vec());
    p.empty_ordered_dict();
    p.0.push(b'(');
    for (i, t) in tensors.iter().enumerate() {
        p.string(&t.key);
        p.global("torch._utils", "_rebuild_tensor_v2");
        p.0.push(b'(');
        // The storage, as a persistent id.
        p.0.push(b'(');
        p.string("storage");
        let (storage, numel) = match &t.values {
            Values::Float(v) => ("FloatStorage", v.len()),
            Values::Long(_) => ("LongStorage", 1),
        };
        p.global("torch", storage);
        p.string(&i.to_string());
        p.string("cpu");
        p.int(numel);
        p.0.extend_from_slice(b"tQ");
        p.int(0); // storage offset
        p.tuple_of(&t.shape);
        let mut stride = vec![1usize; t.shape.len()];
        for d in (0..t.shape.len().saturating_sub(1)).rev() {
            stride[d] = stride[d + 1] * t.shape[d + 1];
        }
        p.tuple_of(&stride);
        p.0.push(0x89); // requires_grad = False
        p.empty_ordered_dict(); // backward hooks
        p.0.extend_from_slice(b"tR");
    }
    p.0.extend_from_slice(b"u.");
    p.0
}

/// The zip container: `{root}/data.pkl`, `{root}/data/{i}`, `{root}/version`.
fn container(root: &str, tensors: &[Named]) -> std::io::Result<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // Stored (uncompressed) and 64-byte aligned, as torch.save writes them (torch.load can
    // then map storages straight from the file).
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .with_alignment(64);
    let mut entry = |name: String, bytes: &[u8]| -> std::io::Result<()> {
        zip.start_file(name, options)
            .map_err(std::io::Error::other)?;
        zip.write_all(bytes)
    };
    entry(format!("{root}/data.pkl"), &pickle(tensors))?;
    entry(format!("{root}/byteorder"), b"little")?;
    for (i, t) in tensors.iter().enumerate() {
        let bytes: Vec<u8> = match &t.values {
            Values::Float(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Values::Long(v) => v.to_le_bytes().to_vec(),
        };
        entry(format!("{root}/data/{i}"), &bytes)?;
    }
    entry(format!("{root}/version"), b"3\n")?;
    let cursor = zip.finish().map_err(std::io::Error::other)?;
    Ok(cursor.into_inner())
}

/// Writes `generator` to `path` as the state dict PyTorch's DCGAN example loads, atomically.
/// Returns a note when PyTorch's model will not draw exactly the same pictures.
pub fn export_pytorch_generator(
    config: &ModelConfig,
    generator: &Generator,
    path: &Path,
) -> Result<Option<String>, CheckpointError> {
    let tensors = state_dict(config, generator).map_err(|message| CheckpointError::Pytorch {
        path: path.to_path_buf(),
        message,
    })?;
    let root = path
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty() && s.is_ascii())
        .unwrap_or("archive");
    let bytes = container(root, &tensors).map_err(io_err(path))?;
    write_atomic(path, &bytes).map_err(io_err(path))?;
    let mut notes = Vec::new();
    let size = config.image_size();
    if size != 64 {
        // The examples' Generator is written for 64×64; other sizes add or drop a block.
        notes.push(format!(
            "this model draws {size}×{size}: its state dict has {} transposed convolutions where              the tutorial's 64×64 Generator has 5, so build that Sequential with as many blocks",
            config.doublings() + 1
        ));
    }
    let scale = config.output_scale();
    if scale != 1.0 {
        notes.push(format!(
            "this model draws clamp({scale}·tanh(x), -1, 1) where PyTorch's Generator draws \
             tanh(x): multiply its output by {scale} and clamp to [-1, 1] for the same pictures"
        ));
    }
    Ok((!notes.is_empty()).then(|| notes.join("; ")))
}

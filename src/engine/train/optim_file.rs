//! The optimizer-state files of a checkpoint (`optimizer_g.safetensors`, `optimizer_c.safetensors`):
//! each moment tensor stored flat as F32 under `{parameter path}/{k}`.

use std::path::Path;

use crate::engine::files::checkpoint::CheckpointError;
use crate::engine::train::optim::Optimizer;

/// Writes an optimizer's moments (the caller makes the directory atomic).
pub fn write(optim: &Optimizer, path: &Path) -> std::io::Result<()> {
    let state = optim.export_state();
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = state
        .into_iter()
        .map(|(name, shape, values)| {
            let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            (name, shape, bytes)
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(name, shape, bytes)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                .map(|view| (name.clone(), view))
                .map_err(std::io::Error::other)
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    let file = safetensors::serialize(views, None).map_err(std::io::Error::other)?;
    std::fs::write(path, file)
}

/// Reads moments written by [`write`]: (name, values).
///
/// `weights_at_least` (the model's, see [`ModelConfig::generator_weights_at_least`]) bounds
/// the file: an optimizer keeps at most two moments per weight.
///
/// [`ModelConfig::generator_weights_at_least`]: crate::engine::model::ModelConfig::generator_weights_at_least
pub fn read(
    path: &Path,
    weights_at_least: u64,
) -> Result<Vec<(String, Vec<f32>)>, CheckpointError> {
    let kind =
        crate::engine::files::bounded_read::FileKind::weights(weights_at_least.saturating_mul(2));
    let bytes = crate::engine::files::bounded_read::read_bytes(path, kind).map_err(|source| {
        CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        }
    })?;
    let bad = |message: String| CheckpointError::Weights {
        path: path.to_path_buf(),
        message,
    };
    let file = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| bad(format!("not a valid safetensors file: {e}")))?;
    let mut out = Vec::new();
    for (name, view) in file.tensors() {
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(bad(format!(
                "{name}: expected F32, found {:?}",
                view.dtype()
            )));
        }
        if name
            .rsplit_once('/')
            .is_none_or(|(_, k)| k.parse::<usize>().is_err())
        {
            return Err(bad(format!("{name}: expected a name like 'path/0'")));
        }
        let values = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        out.push((name, values));
    }
    Ok(out)
}

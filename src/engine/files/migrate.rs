//! Reading files written by older versions: the one place that knows which fields were renamed
//! or removed. A field that was only ever an experiment (see the models' REPORT.md, "Removed")
//! is refused when it is switched on, with the version that wrote it and the commit to revive it
//! from; switched off (or absent), it is ignored.

use std::path::Path;

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::engine::files::bounded_read::FileKind;
use crate::engine::files::checkpoint_files::CheckpointError;
use crate::engine::model::ModelConfig;
use crate::engine::train::augment::CriticView;
use crate::engine::train::config::TrainConfig;
use crate::engine::train::state::TrainState;

/// The last commit that had the removed experiments (output palette, latent mapping, layout
/// term, layout anchor, highpass critic, joint critic batch, widening, standing statistics).
pub const REMOVED_IN_COMMIT: &str = "5edf158";

/// The fields older files may hold, all optional.
#[derive(Deserialize, Default)]
#[serde(default)]
struct LegacyModel {
    output_palette: Option<IgnoredAny>,
    latent_mapping: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LegacyAugment {
    lowpass: bool,
    lowpass_block: Option<usize>,
    highpass: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LegacyConfig {
    model: LegacyModel,
    augment: LegacyAugment,
    joint_critic_batch: bool,
    layout_anchor: Option<f32>,
    mapping_lr: Option<f64>,
    layout_sw: Option<f32>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LegacyState {
    config: LegacyConfig,
}

fn malformed(path: &Path, message: String) -> CheckpointError {
    CheckpointError::Malformed {
        path: path.to_path_buf(),
        message,
    }
}

fn parse<T: serde::de::DeserializeOwned>(text: &str, path: &Path) -> Result<T, CheckpointError> {
    ron::from_str(text).map_err(|e| malformed(path, e.to_string()))
}

fn removed(path: &Path, what: &str) -> CheckpointError {
    malformed(
        path,
        format!(
            "written by hitogata 0.1 with {what}, an experiment this version no longer has; \
             use hitogata at commit {REMOVED_IN_COMMIT} for this file"
        ),
    )
}

fn check_model(legacy: &LegacyModel, path: &Path) -> Result<(), CheckpointError> {
    if legacy.output_palette.is_some() {
        return Err(removed(path, "an output palette"));
    }
    if legacy.latent_mapping.is_some() {
        return Err(removed(path, "a latent mapping"));
    }
    Ok(())
}

/// Carries an older config's lowpass augmentation over to [`CriticView`] and refuses the
/// removed options.
fn migrate_config(
    config: &mut TrainConfig,
    legacy: &LegacyConfig,
    path: &Path,
) -> Result<(), CheckpointError> {
    check_model(&legacy.model, path)?;
    let refused = [
        (legacy.augment.highpass, "a highpass critic"),
        (legacy.joint_critic_batch, "a joint critic batch"),
        (legacy.layout_anchor.is_some(), "a layout anchor"),
        (legacy.mapping_lr.is_some(), "a latent mapping rate"),
        (legacy.layout_sw.is_some_and(|w| w > 0.0), "a layout term"),
    ];
    if let Some((_, what)) = refused.into_iter().find(|(on, _)| *on) {
        return Err(removed(path, what));
    }
    if legacy.augment.lowpass {
        config.critic_view = CriticView::Lowpass(legacy.augment.lowpass_block.unwrap_or(4));
    }
    Ok(())
}

fn read_text(path: &Path, kind: FileKind) -> Result<String, CheckpointError> {
    if !path.exists() {
        return Err(CheckpointError::Missing {
            path: path.to_path_buf(),
        });
    }
    crate::engine::files::bounded_read::read_text(path, kind).map_err(|source| {
        CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// Reads a model.ron of any version.
pub fn read_model_file(path: &Path) -> Result<ModelConfig, CheckpointError> {
    let text = read_text(path, FileKind::MODEL)?;
    check_model(&parse(&text, path)?, path)?;
    parse(&text, path)
}

/// Reads a training configuration (a `train --config` file) of any version.
pub fn read_train_config(path: &Path) -> Result<TrainConfig, CheckpointError> {
    let text = read_text(path, FileKind::SETTINGS)?;
    let mut config = parse(&text, path)?;
    migrate_config(&mut config, &parse(&text, path)?, path)?;
    Ok(config)
}

/// Reads a checkpoint's state.ron of any version.
pub fn read_train_state(path: &Path) -> Result<TrainState, CheckpointError> {
    let text = read_text(path, FileKind::TRAIN_STATE)?;
    let mut state: TrainState = parse(&text, path)?;
    let legacy: LegacyState = parse(&text, path)?;
    migrate_config(&mut state.config, &legacy.config, path)?;
    Ok(state)
}

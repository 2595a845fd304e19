//! Every file hitogata reads from outside, by the name of its fuzz target: one entry that the
//! fuzz targets (`fuzz/`, cargo-fuzz) and the regression tests (`tests/all/fuzz_inputs.rs`) share,
//! each calling the loader the app and the CLI call. An input may be refused with an error;
//! it must never panic, hang or allocate without bound.

use std::path::Path;

use burn::tensor::Device;

/// The fuzz targets, one per kind of file.
pub const TARGETS: [&str; 12] = [
    "generator",
    "critic",
    "optimizer",
    "train_state",
    "bookmarks",
    "latents",
    "image",
    "png_state",
    "directions",
    "notes",
    "recipe",
    "pytorch",
];

/// Splits an input in two at its first 0xFF byte (absent: all of it is the first part): a
/// model.ron (text, never 0xFF) and its weights.
fn split(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

fn file(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("scratch folder writable");
    path
}

/// Removes what a loader set aside beside `name` (`NAME.broken-…`), so files do not pile up.
fn remove_aside(dir: &Path, name: &str) {
    let prefix = format!("{name}.");
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Panics a loader catches itself (a decoder bug contained to one file) are answers, not
/// crashes: fuzz targets call this once, replacing libFuzzer's hook that aborts on any panic
/// (a panic that escapes a loader still aborts: libFuzzer catches it at the target).
pub fn tolerate_caught_panics() {
    let _ = std::panic::take_hook();
}

/// Feeds `data` to the loader of `target` (one of [`TARGETS`]) through files in `scratch`
/// (an empty folder of the caller's); `Ok` when the loader accepted it.
pub fn load(target: &str, data: &[u8], scratch: &Path, device: &Device) -> Result<(), String> {
    let text = |e: &dyn std::fmt::Display| e.to_string();
    match target {
        "generator" => {
            let (model, weights) = split(data);
            file(scratch, "model.ron", model);
            file(scratch, "generator.safetensors", weights);
            crate::engine::files::checkpoint::load_generator(scratch, device)
                .map(|_| ())
                .map_err(|e| text(&e))
        }
        "critic" => {
            let (model, weights) = split(data);
            file(scratch, "model.ron", model);
            file(scratch, "critic.safetensors", weights);
            match crate::engine::analysis::critique::critic_beside(scratch, device) {
                Ok(Some(_)) => Ok(()),
                Ok(None) => Err("no critic".into()),
                Err(e) => Err(text(&e)),
            }
        }
        "optimizer" => {
            let path = file(scratch, "optimizer.safetensors", data);
            crate::engine::train::optim_file::read(&path, 1 << 20)
                .map(|_| ())
                .map_err(|e| text(&e))
        }
        "train_state" => {
            let path = file(scratch, "state.ron", data);
            let config = crate::engine::files::migrate::read_train_config(&path).map(|_| ());
            crate::engine::files::migrate::read_train_state(&path)
                .map(|_| ())
                .or(config)
                .map_err(|e| text(&e))
        }
        "bookmarks" => {
            let path = file(scratch, "bookmarks.ron", data);
            let report = crate::engine::files::bookmarks::BookmarkStore::open(&path);
            remove_aside(scratch, "bookmarks.ron");
            match report.recovered {
                Some((e, _)) => Err(text(&e)),
                None => Ok(()),
            }
        }
        "latents" => {
            let path = file(scratch, "latents.z.ron", data);
            crate::engine::model::latent::LatentFile::load(&path)
                .map(|_| ())
                .map_err(|e| text(&e))
        }
        "image" => crate::engine::files::data::decode_image(
            data,
            crate::engine::files::data::SquareMode::Pad,
        )
        .map(|_| ()),
        "png_state" => crate::engine::files::picture_state::state_of(data, Path::new("fuzz.png"))
            .map(|_| ())
            .map_err(|e| text(&e)),
        "directions" => {
            let path = file(scratch, "directions.ron", data);
            crate::engine::analysis::directions::DirectionSet::load(&path)
                .map(|_| ())
                .map_err(|e| text(&e))
        }
        "notes" => {
            let path = file(scratch, "checkpoint-notes.ron", data);
            let (_, warning) = crate::engine::files::checkpoint_notes::NotesStore::open(&path);
            remove_aside(scratch, "checkpoint-notes.ron");
            warning.map_or(Ok(()), Err)
        }
        "recipe" => {
            let path = file(scratch, "recipe.ron", data);
            crate::engine::train::Recipe::load(&path)
                .map(|_| ())
                .map_err(|e| text(&e))
        }
        "pytorch" => {
            // What opening a `.pth` does, written to `scratch` rather than the user's cache.
            let path = file(scratch, "netG.pth", data);
            let imported =
                crate::engine::files::pytorch::read_pytorch(&path, None).map_err(|e| text(&e))?;
            let dir = scratch.join("imported");
            imported.write(&dir).map_err(|e| text(&e))?;
            crate::engine::files::checkpoint::load_generator(&dir, device).map_err(|e| text(&e))?;
            match crate::engine::analysis::critique::critic_beside(&dir, device) {
                Ok(_) => Ok(()),
                Err(e) => Err(text(&e)),
            }
        }
        other => Err(format!("no fuzz target {other}")),
    }
}

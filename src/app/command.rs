//! What panels ask of the app. A panel draws from a read-only [`Current`] and returns
//! commands; [`HitogataApp`](super::HitogataApp) applies them after layout, so no panel reaches
//! into another (the shape of egui's demo app and rerun's `SystemCommand`).

use std::path::PathBuf;

use crate::app::FileEvent;
use crate::app::history::History;
use crate::engine::device::DeviceChoice;
use crate::engine::files::picture_state::PictureState;
use crate::engine::model::ModelConfig;
use crate::engine::model::latent::Latent;
use crate::engine::workers::inference_worker::StripRequest;

/// What every panel may read: the vector on screen and what draws it.
pub struct Current {
    /// The vector the sliders edit.
    pub z: Latent,
    /// Truncation ψ: the picture shows G(ψ·z).
    pub psi: f32,
    /// The loaded generator's shapes.
    pub model: Option<ModelConfig>,
    /// The checkpoint in use.
    pub checkpoint_dir: Option<PathBuf>,
    /// Its content hash (the key of its notes), once loaded.
    pub checkpoint_hash: Option<String>,
    /// Where workers compute.
    pub device_choice: DeviceChoice,
    pub(super) history: History,
}

impl Current {
    /// The vector the generator sees.
    pub fn effective_z(&self) -> Latent {
        self.z.truncated(self.psi)
    }

    /// Whether Undo has something to undo.
    pub fn can_undo(&self) -> bool {
        self.history.can_undo()
    }

    /// Whether Redo has something to redo.
    pub fn can_redo(&self) -> bool {
        self.history.can_redo()
    }

    /// What a PNG of these latent vectors (drawn at ψ `psi`) should remember.
    pub(crate) fn picture_state(&self, latents: Vec<Latent>, psi: f32) -> PictureState {
        PictureState {
            latents,
            psi,
            checkpoint: self
                .checkpoint_dir
                .as_ref()
                .map(|p| p.display().to_string()),
            checkpoint_hash: self.checkpoint_hash.clone(),
            parent: None,
        }
    }
}

/// Where a slider edit of z stands in a drag: a drag is one undo step, not one per frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Drag {
    /// Not a drag (a click, a typed value, a button): one undo step.
    No,
    /// The drag's first frame: the vector before it is the undo step.
    Started,
    /// Later frames of the drag: shown at once, no undo step.
    Continuing,
}

/// The edit a slider over z made this frame, if any: `moved` is z with the slider's value.
pub(crate) fn slider_edit(
    response: &egui::Response,
    z: &Latent,
    moved: impl FnOnce() -> Latent,
) -> Option<Command> {
    let drag = if response.drag_started() {
        Drag::Started
    } else if response.dragged() {
        Drag::Continuing
    } else {
        Drag::No
    };
    if response.changed() {
        Some(Command::EditZ(moved(), drag))
    } else if drag == Drag::Started {
        Some(Command::EditZ(z.clone(), Drag::Started))
    } else {
        None
    }
}

/// Runs on its own thread (a blocking file dialog and what follows it); what it returns is
/// handled as the answer of a file thread.
pub(crate) type DialogWork = Box<dyn FnOnce() -> Option<FileEvent> + Send>;

/// One thing a panel asks for.
pub(crate) enum Command {
    /// Make this the current vector, with an undo step unless a drag is going on.
    EditZ(Latent, Drag),
    /// Undo or redo the last edit of z.
    Undo,
    Redo,
    /// Draw the picture at this ψ.
    SetPsi(f32),
    /// Bookmark this vector (with its parent bookmark, if any) under this name.
    AddBookmark {
        name: String,
        z: Latent,
        parent: Option<u64>,
    },
    /// Jitter around this vector (from this bookmark, if any).
    JitterAround(Option<u64>, Latent),
    /// The jitter children must be drawn again (the rows they vary along changed).
    RedrawJitter,
    /// An end of the interpolation: (is it the start, its name, its vector).
    InterpolationEnd(bool, String, Latent),
    /// Ask the inference worker for these.
    Strips(StripRequest),
    Critique(Latent),
    Layer {
        z: Latent,
        layer: usize,
        per_channel: bool,
    },
    Nudge {
        z: Latent,
        steps: usize,
        size: f32,
    },
    Analyse(String),
    /// Save the Dimensions view's notes of the current checkpoint.
    SaveNotes,
    /// A file dialog (or other blocking file work) off the UI thread.
    Dialog(DialogWork),
    /// A line for the status bar.
    Status(String),
}

/// Commands in the order they were asked for.
pub(crate) type Commands = Vec<Command>;

/// A [`Command::Dialog`] from a closure.
pub(crate) fn dialog(work: impl FnOnce() -> Option<FileEvent> + Send + 'static) -> Command {
    Command::Dialog(Box::new(work))
}

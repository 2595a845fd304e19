//! The generator on its own thread. The UI sends requests and polls events each frame; the
//! worker calls `wake` (the app sets it to `ctx.request_repaint`) after each event, so the
//! engine stays free of UI code. For the main image the newest request wins: while a drag
//! outruns inference, stale vectors are dropped, never queued.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::time::Instant;

use image::RgbImage;

use crate::engine::analysis::critique;
use crate::engine::analysis::directions::{self, Direction};
use crate::engine::analysis::layers::{self, LayerView};
use crate::engine::device::{Backend, ComputeDevice, DeviceChoice, cpu_device, select_device};
use crate::engine::draw::inference::Drawer;
use crate::engine::files::checkpoint::{LoadedGenerator, load_generator};
use crate::engine::files::checkpoint_notes::content_hash;
use crate::engine::files::pytorch::{ImportedFrom, imported_from};
use crate::engine::model::latent::Latent;
use crate::engine::model::{Critic, ModelConfig};
use crate::engine::workers::mailbox::{Mailbox, WorkerThread};

/// Which part of the app a batch of pictures is for, sent with the request and returned with
/// the answer; the number tells a panel's newest request from its older ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchFor {
    /// The bookmarks' thumbnails.
    Thumbnails(u64),
    /// The jitter grid.
    Jitter(u64),
    /// The interpolation's frames.
    Interpolation(u64),
}

/// What the worker reports.
#[derive(Debug)]
pub enum InferenceEvent {
    /// The compute device is ready.
    DeviceReady(String),
    /// A checkpoint loaded.
    Loaded {
        /// Its shapes.
        config: ModelConfig,
        /// Where it came from.
        dir: PathBuf,
        /// Its content hash (see [`content_hash`]), if its files could be read again.
        hash: Option<String>,
        /// Whether a critic came with it, or why the one there could not be read.
        critic: Result<bool, String>,
        /// The PyTorch files it was imported from, if it was.
        imported: Option<ImportedFrom>,
    },
    /// The critic's view of a latent vector (see [`InferenceWorker::critique`]).
    Critique {
        /// The vector (as drawn, ψ applied).
        z: Latent,
        /// D(G(z)).
        score: f32,
        /// ∂D(G(z))/∂z.
        gradient: Vec<f32>,
    },
    /// A generator layer for a latent vector (see [`InferenceWorker::layer`]).
    Layer {
        /// Its channels.
        view: LayerView,
        /// Channels zero for most z (for the ReLU layers; none for the output).
        dead_mostly: Vec<bool>,
    },
    /// A nudge towards real finished (see [`InferenceWorker::nudge`]).
    Nudged {
        /// Where it started (as drawn).
        from: Latent,
        /// Where it ended.
        to: Latent,
        /// D(G(z)) before and after each step.
        trace: Vec<f32>,
    },
    /// A checkpoint failed to load; the previous generator (if any) stays in use.
    LoadFailed {
        /// What was asked for.
        path: PathBuf,
        /// Why it failed.
        message: String,
    },
    /// The main image for request `generation`.
    Main {
        /// The request's generation number.
        generation: u64,
        /// The picture.
        image: RgbImage,
        /// Time spent in the generator, in milliseconds.
        millis: f32,
    },
    /// A part of the preview strips asked for (see [`StripPart`]).
    Strips(StripPart),
    /// What a checkpoint's analysis found (see [`InferenceWorker::analyse`]).
    Analysis {
        /// The checkpoint's content hash it was asked for.
        hash: String,
        /// SeFa directions.
        sefa: Vec<Direction>,
        /// PCA directions.
        pca: Vec<Direction>,
        /// Mean sensitivity of each latent dimension over random z.
        mean_sensitivity: Vec<f32>,
        /// Time it took, in milliseconds.
        millis: f32,
    },
    /// Pictures for a batch request.
    Batch {
        /// Who asked, as given with the request.
        tag: BatchFor,
        /// One picture per latent, in order.
        images: Vec<RgbImage>,
        /// The critic's score of each, when the checkpoint has a critic.
        scores: Option<Vec<f32>>,
    },
}

/// Preview strips to draw: around `z`, along each direction, at `values`; answered in parts
/// of a few rows each, in the order given (the rows on screen first).
#[derive(Clone, Debug)]
pub struct StripRequest {
    /// Answered with this number.
    pub generation: u64,
    /// The latent vector the strips go through.
    pub z: Latent,
    /// Unit directions (axes for plain dimensions).
    pub directions: Vec<Vec<f32>>,
    /// The caller's row number of each direction, handed back with its pictures.
    pub rows: Vec<usize>,
    /// The coordinate values along each.
    pub values: Vec<f32>,
    /// Truncation ψ applied to every picture (as the main picture has it).
    pub psi: f32,
}

/// Some rows of the strips of one request.
#[derive(Debug)]
pub struct StripPart {
    /// The request's generation number.
    pub generation: u64,
    /// The rows (as numbered in the request).
    pub rows: Vec<usize>,
    /// Row after row, `values` pictures each, at thumbnail size (half the side).
    pub images: Vec<RgbImage>,
    /// How much each row's strip changes the picture per unit (see
    /// [`directions::strip_effect`]).
    pub effect: Vec<f32>,
    /// The last part of the request.
    pub done: bool,
    /// Time since the request started, in milliseconds.
    pub millis: f32,
}

#[derive(Default)]
struct Pending {
    load: Option<PathBuf>,
    main: Option<(u64, Latent)>,
    strips: Option<StripRequest>,
    batches: VecDeque<(BatchFor, Vec<Latent>)>,
    analysis: Option<String>,
    critique: Option<Latent>,
    layer: Option<(Latent, usize, bool)>,
    nudge: Option<(Latent, usize, f32)>,
    /// Not a request: the checkpoint loaded last, to load again on the CPU if a remote
    /// server dies.
    loaded: Option<PathBuf>,
}

/// Random latent vectors the mean sensitivity averages over.
const SENSITIVITY_SAMPLES: usize = 16;
/// Latent vectors the PCA directions are measured on.
const PCA_SAMPLES: usize = 1024;
/// Directions each method finds.
const DIRECTIONS: usize = 10;
/// Strip rows per part: one forward pass of 28 pictures, short enough that a main picture
/// waits at most one of them.
const STRIP_ROWS: usize = 4;

/// Handle to the inference thread. Dropping it stops and joins the thread.
pub struct InferenceWorker {
    thread: WorkerThread<Pending, InferenceEvent>,
}

impl InferenceWorker {
    /// Starts the thread; it picks its device first (`choice`), then waits for requests.
    pub fn spawn(choice: DeviceChoice, wake: Box<dyn Fn() + Send>) -> Self {
        Self {
            thread: WorkerThread::spawn(
                "hitogata-inference",
                Pending::default(),
                move |mailbox, tx| serve_jobs(choice, &mailbox, tx, wake),
            ),
        }
    }

    fn update(&self, f: impl FnOnce(&mut Pending)) {
        self.thread.update(f);
    }

    /// Loads a checkpoint (replacing the current generator when it succeeds).
    pub fn load(&self, path: PathBuf) {
        self.update(|p| p.load = Some(path));
    }

    /// Renders the main image; replaces any main request not yet started.
    pub fn render_main(&self, generation: u64, z: Latent) {
        self.update(|p| p.main = Some((generation, z)));
    }

    /// Renders preview strips; replaces any strip request not yet started (the newest wins).
    pub fn render_strips(&self, request: StripRequest) {
        self.update(|p| p.strips = Some(request));
    }

    /// Analyses the current generator (SeFa and PCA directions, mean sensitivity), answered
    /// with `hash` (the checkpoint's content hash) so that a late answer for another
    /// checkpoint can be told apart. Runs after pictures: seconds on a CPU.
    pub fn analyse(&self, hash: String) {
        self.update(|p| p.analysis = Some(hash));
    }

    /// Asks for the critic's score and gradient at `z` (as drawn); the newest request wins.
    pub fn critique(&self, z: Latent) {
        self.update(|p| p.critique = Some(z));
    }

    /// Shows layer `layer` of the generator at `z` (as drawn), normalised per channel or per
    /// layer; the newest request wins.
    pub fn layer(&self, z: Latent, layer: usize, per_channel: bool) {
        self.update(|p| p.layer = Some((z, layer, per_channel)));
    }

    /// Nudges `z` (as drawn) towards what the critic finds real: `steps` steps of `size`.
    pub fn nudge(&self, z: Latent, steps: usize, size: f32) {
        self.update(|p| p.nudge = Some((z, steps, size)));
    }

    /// Renders a batch of pictures, answered with the same `tag`.
    pub fn render_batch(&self, tag: BatchFor, latents: Vec<Latent>) {
        self.update(|p| p.batches.push_back((tag, latents)));
    }

    /// The next event, if one is waiting.
    pub fn try_recv(&self) -> Option<InferenceEvent> {
        self.thread.try_recv()
    }

    /// Blocks for the next event (for tests and headless use).
    pub fn recv_timeout(&self, timeout: std::time::Duration) -> Option<InferenceEvent> {
        self.thread.recv_timeout(timeout)
    }
}

enum Job {
    Load(PathBuf),
    Main(u64, Latent),
    Nudge(Latent, usize, f32),
    Critique(Latent),
    Layer(Latent, usize, bool),
    Strips(StripRequest),
    Batch(BatchFor, Vec<Latent>),
    Analyse(String),
}

/// The most urgent pending request: a load, then what the user is looking at, then strips,
/// batches, and the analysis last.
fn next_job(pending: &mut Pending) -> Option<Job> {
    if let Some(path) = pending.load.take() {
        return Some(Job::Load(path));
    }
    if let Some((g, z)) = pending.main.take() {
        return Some(Job::Main(g, z));
    }
    if let Some((z, steps, size)) = pending.nudge.take() {
        return Some(Job::Nudge(z, steps, size));
    }
    if let Some(z) = pending.critique.take() {
        return Some(Job::Critique(z));
    }
    if let Some((z, layer, per_channel)) = pending.layer.take() {
        return Some(Job::Layer(z, layer, per_channel));
    }
    if let Some(request) = pending.strips.take() {
        return Some(Job::Strips(request));
    }
    if let Some((tag, latents)) = pending.batches.pop_front() {
        return Some(Job::Batch(tag, latents));
    }
    pending.analysis.take().map(Job::Analyse)
}

/// Picks the device and answers requests. On a remote device, a server that dies mid-request
/// makes burn panic: the worker then carries on with the CPU, the checkpoint loaded again, so
/// the explorer keeps working (and says where it now runs).
fn serve_jobs(
    choice: DeviceChoice,
    mailbox: &Mailbox<Pending>,
    tx: Sender<InferenceEvent>,
    wake: Box<dyn Fn() + Send>,
) {
    let mut device: ComputeDevice = match select_device(&choice) {
        Ok(d) => d,
        Err(e) => cpu_device(&format!(" — {e}")),
    };
    loop {
        let remote = device.backend == Backend::Remote;
        let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run(device.clone(), mailbox, &tx, &*wake)
        }));
        match served {
            Ok(()) => return,
            Err(_) if remote => {
                mailbox.with(|pending| {
                    if let Some(path) = pending.loaded.clone() {
                        pending.load.get_or_insert(path);
                    }
                });
                device = cpu_device(" — the remote server stopped answering");
            }
            Err(payload) => std::panic::resume_unwind(payload),
        }
    }
}

fn run(
    device: ComputeDevice,
    mailbox: &Mailbox<Pending>,
    tx: &Sender<InferenceEvent>,
    wake: &dyn Fn(),
) {
    let send = |event: InferenceEvent| {
        let ok = tx.send(event).is_ok();
        wake();
        ok
    };
    if !send(InferenceEvent::DeviceReady(device.description.clone())) {
        return;
    }
    let mut model: Option<Model> = None;
    while let Some(job) = mailbox.next(next_job) {
        let event = match (job, &mut model) {
            (Job::Load(path), _) => match Model::load(&path, &device.device) {
                Ok((loaded, event)) => {
                    mailbox.with(|p| p.loaded = Some(loaded.generator.dir.clone()));
                    model = Some(loaded);
                    Some(event)
                }
                Err(message) => Some(InferenceEvent::LoadFailed { path, message }),
            },
            (Job::Strips(request), Some(m)) => strips(&m.drawer, request, mailbox, &send),
            (job, Some(m)) => m.answer(job, &device.device),
            (_, None) => None,
        };
        if let Some(event) = event
            && !send(event)
        {
            return;
        }
    }
}

/// What the worker holds for the checkpoint it loaded last.
struct Model {
    generator: LoadedGenerator,
    /// The same generator prepared for drawing.
    drawer: Drawer,
    critic: Option<Critic>,
    /// Channels dead for most z, per ReLU layer: measured the first time a layer is shown.
    dead: Option<Vec<Vec<bool>>>,
}

impl Model {
    fn load(
        path: &std::path::Path,
        device: &burn::tensor::Device,
    ) -> Result<(Self, InferenceEvent), String> {
        let loaded = load_generator(path, device).map_err(|e| e.to_string())?;
        let found = critique::critic_beside(&loaded.dir, device);
        let event = InferenceEvent::Loaded {
            config: loaded.config.clone(),
            dir: loaded.dir.clone(),
            hash: content_hash(&loaded.dir, &loaded.config).ok(),
            critic: found
                .as_ref()
                .map(|c| c.is_some())
                .map_err(|e| e.to_string()),
            imported: imported_from(&loaded.dir),
        };
        let model = Self {
            drawer: Drawer::new(&loaded.generator, device),
            generator: loaded,
            critic: found.ok().flatten(),
            dead: None,
        };
        Ok((model, event))
    }

    /// The answer to `job` (not a load or strips); `None` when it does not apply to this
    /// generator (another latent size, no critic).
    fn answer(&mut self, job: Job, device: &burn::tensor::Device) -> Option<InferenceEvent> {
        let g = &self.generator.generator;
        let dim = self.generator.config.latent_dim;
        let critic = self.critic.as_ref();
        Some(match job {
            Job::Main(generation, z) if z.dim() == dim => {
                main_picture(&self.drawer, generation, &z)
            }
            Job::Critique(z) if z.dim() == dim => {
                let (score, gradient) = critique::gradient(g, critic?, &z, device);
                InferenceEvent::Critique { z, score, gradient }
            }
            Job::Layer(z, layer, per_channel) if z.dim() == dim => {
                let dead = self
                    .dead
                    .get_or_insert_with(|| layers::dead_channels(g, device, 0));
                InferenceEvent::Layer {
                    view: layers::view_layer(g, device, &z, layer, per_channel),
                    dead_mostly: dead.get(layer).cloned().unwrap_or_default(),
                }
            }
            Job::Nudge(z, steps, size) if z.dim() == dim => {
                let (to, trace) = critique::nudge(g, critic?, &z, steps, size, device);
                InferenceEvent::Nudged { from: z, to, trace }
            }
            Job::Analyse(hash) => analyse(&self.drawer, device, hash),
            Job::Batch(tag, latents) if latents.iter().all(|l| l.dim() == dim) => {
                let (images, scores) = match critic {
                    // One generator pass for both the pictures and the critic.
                    Some(c) => {
                        let (mut images, mut scores) = (Vec::new(), Vec::new());
                        for chunk in latents.chunks(64) {
                            let (drawn, output) = self.drawer.draw_with_output(chunk);
                            images.extend(drawn);
                            scores.extend(critique::score_output(c, output));
                        }
                        (images, Some(scores))
                    }
                    None => (self.drawer.draw(&latents), None),
                };
                InferenceEvent::Batch {
                    tag,
                    images,
                    scores,
                }
            }
            _ => return None,
        })
    }
}

/// Draws a strip request part by part (four rows each, sent as they finish; the last one is
/// returned). Between parts a main picture goes first (dragging never waits on strips), and
/// a newer strip request replaces this one (`None`).
fn strips(
    drawer: &Drawer,
    request: StripRequest,
    mailbox: &Mailbox<Pending>,
    send: &dyn Fn(InferenceEvent) -> bool,
) -> Option<InferenceEvent> {
    let dim = drawer.generator().latent_dim();
    if request.z.dim() != dim || request.directions.iter().any(|d| d.len() != dim) {
        return None;
    }
    let give_way = || {
        let (main, newer) = mailbox.with(|pending| (pending.main.take(), pending.strips.is_some()));
        if let Some((generation, z)) = main.filter(|(_, z)| z.dim() == dim) {
            send(main_picture(drawer, generation, &z));
        }
        newer
    };
    let started = Instant::now();
    let parts = request.directions.len().div_ceil(STRIP_ROWS);
    for (k, (directions, rows)) in request
        .directions
        .chunks(STRIP_ROWS)
        .zip(request.rows.chunks(STRIP_ROWS))
        .enumerate()
    {
        if give_way() {
            return None;
        }
        let strips = directions::Strips {
            z: &request.z,
            directions,
            values: &request.values,
            psi: request.psi,
        };
        let images =
            directions::draw_strips(drawer, strips, STRIP_ROWS * request.values.len(), || false)
                .unwrap_or_default();
        let part = StripPart {
            generation: request.generation,
            rows: rows.to_vec(),
            effect: directions::strip_effect(&images, &request.values),
            images: images.iter().map(thumbnail).collect(),
            done: k + 1 == parts,
            millis: started.elapsed().as_secs_f32() * 1e3,
        };
        if part.done {
            return Some(InferenceEvent::Strips(part));
        }
        if !send(InferenceEvent::Strips(part)) {
            return None;
        }
    }
    None
}

/// A picture at half its size, each pixel the mean of a 2×2 block.
fn thumbnail(image: &RgbImage) -> RgbImage {
    image::imageops::resize(
        image,
        image.width() / 2,
        image.height() / 2,
        image::imageops::FilterType::Triangle,
    )
}

/// The main picture for request `generation`.
fn main_picture(drawer: &Drawer, generation: u64, z: &Latent) -> InferenceEvent {
    let started = Instant::now();
    let image = drawer
        .draw(std::slice::from_ref(z))
        .pop()
        .expect("one image");
    InferenceEvent::Main {
        generation,
        image,
        millis: started.elapsed().as_secs_f32() * 1e3,
    }
}

/// SeFa, PCA and the mean sensitivity of every latent dimension over seeded random z.
fn analyse(drawer: &Drawer, device: &burn::tensor::Device, hash: String) -> InferenceEvent {
    let started = Instant::now();
    let generator = drawer.generator();
    let dim = generator.latent_dim();
    let axes: Vec<Vec<f32>> = (0..dim).map(|i| directions::axis(dim, i)).collect();
    let zs = crate::engine::model::latent::sample_batch(0, SENSITIVITY_SAMPLES, dim);
    InferenceEvent::Analysis {
        hash,
        sefa: directions::sefa(generator, DIRECTIONS),
        pca: directions::pca(generator, device, PCA_SAMPLES, DIRECTIONS, 0),
        mean_sensitivity: directions::sensitivity_over(drawer, &zs, &axes, 0.5),
        millis: started.elapsed().as_secs_f32() * 1e3,
    }
}

//! The form's widgets: dataset, run folder, mode, algorithm and device on top; everything else
//! in a collapsed "Advanced" section, grouped.

use std::path::Path;

use crate::app::training::TrainingAction;
use crate::app::training::folders::Folders;
use crate::app::training::form::{RunForm, RunMode, shipped_dataset};
use crate::engine::device::DeviceChoice;
use crate::engine::model::{DEFAULT_IMAGE_SIZE, IMAGE_SIZES, OUTPUT_SCALE_RANGE, Upsampling};
use crate::engine::train::{AdaptiveAugment, Algorithm, Augment, CriticView, TrainConfig};

/// A text field with a label that names it (for screen readers and tests).
fn labelled_text(ui: &mut egui::Ui, label: &str, text: &mut String, hover: &str) -> bool {
    let name = ui.label(label);
    ui.add(egui::TextEdit::singleline(text).desired_width(260.0))
        .labelled_by(name.id)
        .on_hover_text(hover)
        .has_focus()
}

/// The top of the tab: what to train on, where, and how it starts.
pub fn basic(
    form: &mut RunForm,
    folders: &mut Folders,
    explorer: Option<&Path>,
    active: bool,
    ui: &mut egui::Ui,
) -> Vec<TrainingAction> {
    let mut actions = Vec::new();
    ui.add_enabled_ui(!active, |ui| {
        ui.horizontal(|ui| {
            let typing = labelled_text(
                ui,
                "Dataset",
                &mut form.data_dir,
                "Folder of images, searched recursively",
            );
            folders.scan_dataset(form, ui.ctx(), typing);
            if ui.button("Browse...").clicked() {
                actions.push(TrainingAction::BrowseData);
            }
            for name in ["faces", "people"] {
                if ui
                    .button(name)
                    .on_hover_text("A dataset shipped with hitogata")
                    .clicked()
                {
                    form.data_dir = shipped_dataset(name).display().to_string();
                    form.run_dir = format!("runs/{name}");
                }
            }
        });
        ui.horizontal(|ui| {
            let typing = labelled_text(
                ui,
                "Run folder",
                &mut form.run_dir,
                "Checkpoints, the generator export and sample grids go here",
            );
            folders.read_run_config(form, ui.ctx(), typing, active);
            mode_selector(form, explorer, ui);
            if let Some(note) = &folders.resume_note {
                ui.weak(note);
            }
        });
        ui.horizontal(|ui| {
            algorithm_selector(form, ui);
            egui::ComboBox::new("train-device", "device")
                .selected_text(match form.device {
                    DeviceChoice::Remote(_) => "remote GPU".to_string(),
                    ref other => other.to_string(),
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut form.device, DeviceChoice::Auto, "auto");
                    ui.selectable_value(&mut form.device, DeviceChoice::Wgpu, "wgpu");
                    ui.selectable_value(&mut form.device, DeviceChoice::Cpu, "cpu");
                    ui.selectable_value(
                        &mut form.device,
                        DeviceChoice::Remote(Default::default()),
                        "remote GPU…",
                    )
                    .on_hover_text("A machine running `hitogata serve`");
                })
                .response
                .on_hover_text("auto: a GPU through wgpu when there is one, else the CPU");
        });
        if matches!(form.device, DeviceChoice::Remote(_)) {
            remote_fields(form, ui);
        }
    });
    actions
}

/// Where the remote server is and its token, as `hitogata serve` printed them.
fn remote_fields(form: &mut RunForm, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        let name = ui.label("server");
        ui.add(
            egui::TextEdit::singleline(&mut form.remote_address)
                .hint_text("ID@HOST:PORT or ws://HOST:PORT")
                .desired_width(320.0),
        )
        .labelled_by(name.id)
        .on_hover_text(
            "What `hitogata serve` printed after --device remote: (iroh: ID@HOST:PORT, \
             encrypted; websocket: ws://HOST:PORT, e.g. through an SSH tunnel)",
        );
        let name = ui.label("token");
        ui.add(
            egui::TextEdit::singleline(&mut form.remote_token)
                .password(true)
                .desired_width(160.0),
        )
        .labelled_by(name.id)
        .on_hover_text(
            "The token `hitogata serve` printed; kept in a file only you can read, not in the \
             app's settings",
        );
    });
}

fn mode_selector(form: &mut RunForm, explorer: Option<&Path>, ui: &mut egui::Ui) {
    let hover = match (form.mode, explorer) {
        (RunMode::FineTune, Some(dir)) => format!(
            "Start from {} with a new critic; its shapes replace the model fields",
            dir.display()
        ),
        _ => "New run, a fine-tune of the explorer's generator, or the run folder's checkpoint continued as saved or with the settings shown".into(),
    };
    egui::ComboBox::new("run-mode", "mode")
        .selected_text(form.mode.label())
        .show_ui(ui, |ui| {
            for mode in RunMode::ALL {
                ui.selectable_value(&mut form.mode, mode, mode.label());
            }
        })
        .response
        .on_hover_text(hover);
}

fn algorithm_selector(form: &mut RunForm, ui: &mut egui::Ui) {
    let config = &mut form.config;
    let before = config.algorithm;
    ui.add_enabled_ui(!form.mode.resumes(), |ui| {
        egui::ComboBox::new("algo", "algorithm")
            .selected_text(format!("{:?}", config.algorithm).to_lowercase())
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut config.algorithm, Algorithm::Wgan, "wgan");
                ui.selectable_value(&mut config.algorithm, Algorithm::Dcgan, "dcgan");
            })
            .response
            .on_hover_text("wgan: weight clipping, RMSProp; dcgan: BCE, Adam");
    });
    if config.algorithm != before {
        // Switching algorithm brings its defaults, keeping sizes, seed and augmentation.
        let mut fresh = TrainConfig::for_algorithm(config.algorithm);
        fresh.model.ngf = config.model.ngf;
        fresh.model.ndf = config.model.ndf;
        fresh.model.latent_dim = config.model.latent_dim;
        fresh.model.upsampling = config.model.upsampling;
        fresh.model.output_scale = config.model.output_scale;
        fresh.model.image_size = config.model.image_size;
        fresh.model.channels = config.model.channels;
        fresh.seed = config.seed;
        fresh.augment = config.augment;
        fresh.critic_view = config.critic_view;
        *config = fresh;
    }
}

/// The collapsed section: model shape, optimisation, augmentation, fine-tuning, cadence.
pub fn advanced(form: &mut RunForm, active: bool, ui: &mut egui::Ui) {
    egui::CollapsingHeader::new("Advanced")
        .default_open(false)
        .show(ui, |ui| {
            ui.add_enabled_ui(!active, |ui| {
                egui::Grid::new("train-advanced")
                    .num_columns(2)
                    .show(ui, |ui| {
                        ui.label("Model shape");
                        ui.horizontal(|ui| model_shape(form, ui));
                        ui.end_row();
                        ui.label("Optimisation");
                        ui.add_enabled_ui(form.mode != RunMode::Resume, |ui| {
                            ui.horizontal(|ui| optimisation(form, ui));
                        });
                        ui.end_row();
                        ui.label("Augmentation");
                        ui.add_enabled_ui(form.mode != RunMode::Resume, |ui| {
                            ui.horizontal(|ui| augmentation(&mut form.config, ui));
                        });
                        ui.end_row();
                        ui.label("Fine-tuning");
                        ui.horizontal(|ui| fine_tuning(form, ui));
                        ui.end_row();
                        ui.label("Cadence");
                        ui.horizontal(|ui| cadence(form, ui));
                        ui.end_row();
                    });
            });
        });
}

/// A new run shapes its generator (a fine-tune takes the explorer's); any new critic can be
/// shaped; the output scale is a new run's or a change to a resumed one.
fn model_shape(form: &mut RunForm, ui: &mut egui::Ui) {
    ui.add_enabled_ui(form.mode == RunMode::New, |ui| {
        generator_shape(&mut form.config, ui)
    });
    let new_critic = match form.mode {
        RunMode::New | RunMode::FineTune => true,
        RunMode::ResumeWithChanges => form.reset_critic,
        RunMode::Resume => false,
    };
    ui.add_enabled_ui(new_critic, |ui| critic_shape(&mut form.config, ui));
    let scalable = matches!(form.mode, RunMode::New | RunMode::ResumeWithChanges);
    ui.add_enabled_ui(scalable, |ui| output_scale(&mut form.config, ui));
}

fn generator_shape(config: &mut TrainConfig, ui: &mut egui::Ui) {
    let model = &mut config.model;
    ui.add(
        egui::DragValue::new(&mut model.ngf)
            .range(1..=512)
            .prefix("ngf "),
    )
    .on_hover_text("Generator width: feature maps of its last hidden layer");
    ui.add(
        egui::DragValue::new(&mut model.latent_dim)
            .range(1..=512)
            .prefix("z "),
    )
    .on_hover_text("Latent size: the number of sliders in the explorer");
    let mut upsampling = model.upsampling();
    let name = |u| match u {
        Upsampling::Transposed => "transposed conv",
        Upsampling::Resize => "resize-conv",
    };
    egui::ComboBox::new("upsampling", "upsampling")
        .selected_text(name(upsampling))
        .show_ui(ui, |ui| {
            for u in [Upsampling::Transposed, Upsampling::Resize] {
                ui.selectable_value(&mut upsampling, u, name(u));
            }
        })
        .response
        .on_hover_text(
            "How the generator doubles its resolution: DCGAN's transposed convolutions, or nearest-neighbour resize then a convolution (no checkerboard speckle, slower)",
        );
    if upsampling != model.upsampling() {
        model.upsampling = Some(upsampling);
    }
    let mut size = model.image_size();
    egui::ComboBox::new("image-size", "px")
        .selected_text(size.to_string())
        .show_ui(ui, |ui| {
            for s in IMAGE_SIZES {
                ui.selectable_value(&mut size, s, s.to_string());
            }
        })
        .response
        .on_hover_text("Picture size: the data folder's pictures are resized to it");
    if size != model.image_size() {
        model.image_size = (size != DEFAULT_IMAGE_SIZE).then_some(size);
    }
    let mut grey = model.channels() == 1;
    if ui
        .checkbox(&mut grey, "grey")
        .on_hover_text("Train on the pictures' luma, for grey data such as MNIST")
        .changed()
    {
        model.channels = grey.then_some(1);
    }
}

fn critic_shape(config: &mut TrainConfig, ui: &mut egui::Ui) {
    let model = &mut config.model;
    ui.add(
        egui::DragValue::new(&mut model.ndf)
            .range(1..=512)
            .prefix("ndf "),
    )
    .on_hover_text("Critic width: feature maps of its first layer");
    ui.checkbox(&mut model.critic_batch_norm, "critic BatchNorm")
        .on_hover_text("BatchNorm in the critic (DCGAN has it; WGAN's critic does not)");
}

fn output_scale(config: &mut TrainConfig, ui: &mut egui::Ui) {
    let mut scale = config.model.output_scale();
    if ui
        .add(
            egui::DragValue::new(&mut scale)
                .speed(0.01)
                .range(OUTPUT_SCALE_RANGE)
                .max_decimals(2)
                .prefix("output scale "),
        )
        .on_hover_text(
            "The generator draws clamp(scale · tanh): above 1, the pure white of flat illustrations' backgrounds becomes reachable; the weights stay",
        )
        .changed()
        && let Ok(model) = config.model.clone().with_checked_output_scale(scale)
    {
        config.model = model;
    }
}

/// A learning-rate field; true when the user changed it.
fn lr_field(ui: &mut egui::Ui, lr: &mut f64, prefix: &str, hover: &str) -> bool {
    ui.add(
        egui::DragValue::new(lr)
            .speed(1e-5)
            .range(1e-7..=1e-1)
            .prefix(prefix),
    )
    .on_hover_text(hover)
    .changed()
}

fn optimisation(form: &mut RunForm, ui: &mut egui::Ui) {
    let config = &mut form.config;
    ui.add(
        egui::DragValue::new(&mut config.batch_size)
            .range(1..=1024)
            .prefix("batch "),
    )
    .on_hover_text("Images per batch");
    // What only a new run can set.
    let new_run = matches!(form.mode, RunMode::New | RunMode::FineTune);
    ui.add_enabled_ui(new_run, |ui| {
        ui.add(
            egui::DragValue::new(&mut config.n_critic)
                .range(1..=100)
                .prefix("n_critic "),
        )
        .on_hover_text("Critic updates per generator update");
    });
    ui.add(
        egui::DragValue::new(&mut config.ema_decay)
            .speed(1e-4)
            .range(0.0..=0.9999)
            .max_decimals(4)
            .prefix("average "),
    )
    .on_hover_text("Decay of the generator weight average that samples and exports use (0: off)");
    // The critic's rate follows the generator's until it is set apart.
    let mut lr = config.optimizer_g.lr();
    let mut critic_lr = config.optimizer_c.lr();
    let together = lr == critic_lr;
    if lr_field(
        ui,
        &mut lr,
        "lr ",
        "Learning rate of the generator (and of the critic while they are equal)",
    ) {
        config.optimizer_g = config.optimizer_g.clone().with_lr(lr);
        if together {
            config.optimizer_c = config.optimizer_c.clone().with_lr(lr);
        }
    }
    if lr_field(
        ui,
        &mut critic_lr,
        "critic lr ",
        "Learning rate of the critic alone: a slower critic helps when it keeps winning",
    ) {
        config.optimizer_c = config.optimizer_c.clone().with_lr(critic_lr);
    }
    ui.add_enabled_ui(new_run, |ui| {
        if config.algorithm == Algorithm::Wgan {
            ui.add(
                egui::DragValue::new(&mut config.clip)
                    .speed(1e-3)
                    .range(1e-4..=1.0)
                    .prefix("clip "),
            )
            .on_hover_text("Critic weights stay within ±clip");
            ui.checkbox(&mut config.warmup_schedule, "warm-up schedule")
                .on_hover_text("The WGAN paper's 100 critic steps early on and every 500th step");
        }
        ui.add(egui::DragValue::new(&mut config.seed).prefix("seed "))
            .on_hover_text("Same seed, same run (on the CPU)");
    });
}

fn augmentation(config: &mut TrainConfig, ui: &mut egui::Ui) {
    let policy = config.augment;
    let mut augment = !policy.is_off();
    if ui
        .checkbox(&mut augment, "augment")
        .on_hover_text(
            "DiffAugment: the critic sees real and generated images with the same random colour, shift and cut-out, so it cannot memorise a small dataset",
        )
        .changed()
    {
        let ops = if augment { Augment::ALL } else { Augment::default() };
        config.augment = Augment {
            color_strength: policy.color_strength,
            ..ops
        };
    }
    if config.augment.is_off() {
        config.adaptive_augment = None;
    } else {
        let mut adaptive = config.adaptive_augment.is_some();
        if ui
            .checkbox(&mut adaptive, "adaptive")
            .on_hover_text(
                "ADA: augment only a share of the images, raised while the critic is too sure of real images and lowered otherwise",
            )
            .changed()
        {
            config.adaptive_augment = adaptive
                .then(|| AdaptiveAugment::with_target(AdaptiveAugment::DEFAULT_TARGET));
        }
    }
    let name = |view: CriticView| match view {
        CriticView::Full => "full".to_string(),
        CriticView::Lowpass(side) => format!("lowpass {side}x{side}"),
    };
    egui::ComboBox::new("critic-view", "critic sees")
        .selected_text(name(config.critic_view))
        .show_ui(ui, |ui| {
            let view = &mut config.critic_view;
            for (choice, hover) in [
                (CriticView::Full, "The whole picture"),
                (
                    CriticView::Lowpass(4),
                    "4x4 block averages: the coarse colour layout only (fine-tuning colours)",
                ),
                (
                    CriticView::Lowpass(2),
                    "2x2 block averages: the 32 px layout",
                ),
            ] {
                ui.selectable_value(view, choice, name(choice))
                    .on_hover_text(hover);
            }
        })
        .response
        .on_hover_text("What the critic sees of every picture, real or generated");
}

fn fine_tuning(form: &mut RunForm, ui: &mut egui::Ui) {
    if form.mode == RunMode::ResumeWithChanges {
        ui.checkbox(&mut form.reset_critic, "fresh critic")
            .on_hover_text(
                "Start the critic afresh (at the ndf above), keeping the generator: for a critic whose loss sits at chance",
            );
    }
    ui.add_enabled_ui(form.fresh_critic_for_trained_generator(), |ui| {
        ui.add(
            egui::DragValue::new(&mut form.critic_warmup)
                .range(0..=100_000)
                .prefix("critic warm-up "),
        )
        .on_hover_text(
            "Critic-only updates first, the generator held still, so a new critic tells real from generated before it steers a trained generator",
        );
    });
    ui.add_enabled_ui(form.anchor_applies(), |ui| {
        ui.add(
            egui::DragValue::new(&mut form.detail_anchor)
                .range(0.0..=100_000.0)
                .speed(10.0)
                .prefix("detail anchor "),
        )
        .on_hover_text(
            "Pull the fine detail (each picture minus its 4x4 block averages) towards the starting generator with this weight (0: off); for a lowpass critic, which cannot see that detail",
        );
    });
}

fn cadence(form: &mut RunForm, ui: &mut egui::Ui) {
    ui.add(egui::DragValue::new(&mut form.checkpoint_every).prefix("checkpoint every "))
        .on_hover_text("Steps between checkpoints (0: only on demand and at the end)");
    ui.add(egui::DragValue::new(&mut form.snapshot_every).prefix("snapshot every "))
        .on_hover_text(
            "Keep a generator export under snapshots/ every this many steps (0: never), to pick the best later",
        );
    ui.add(egui::DragValue::new(&mut form.target_steps).prefix("stop at "))
        .on_hover_text("Total steps to stop at (0: never)");
}

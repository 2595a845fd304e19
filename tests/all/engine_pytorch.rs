//! PyTorch checkpoints of the two DCGAN code bases open as hitogata models and draw what
//! PyTorch draws. The fixtures (tests/fixtures/pytorch) were written by
//! scripts/pytorch_fixtures.py with PyTorch itself: each case's netG/netD files and, for
//! three fixed z, PyTorch's pictures (before quantisation) and critic scores.

use crate::common;

use std::path::{Path, PathBuf};

use hitogata::checkpoint::{CheckpointError, load_generator, read_model_config};
use hitogata::critique::{critic_beside, scores};
use hitogata::inference::{Drawer, latents_tensor};
use hitogata::latent::Latent;
use hitogata::pytorch::{export_pytorch_generator, import_pytorch};
use pytorch_reader::PytorchReader;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pytorch")
}

/// The cases and what they are: (name, latent size, side, channels).
const CASES: [(&str, usize, usize, usize); 5] = [
    ("examples-nz100-64-rgb", 100, 64, 3),
    ("examples-nz40-64-grey-dataparallel", 40, 64, 1),
    ("wgan-nz100-32-rgb-legacy", 100, 32, 3),
    ("wgan-nz40-128-grey-nobn-extra1", 40, 128, 1),
    ("wgan-nz40-64-rgb-extra1", 40, 64, 3),
];

/// PyTorch's z, pictures `[n, c, s, s]` and critic scores for a case.
struct Expected {
    z: Vec<Latent>,
    pictures: Vec<f32>,
    scores: Vec<f32>,
}

fn floats(reader: &PytorchReader, key: &str) -> Vec<f32> {
    let bytes = reader.get(key).unwrap().read().unwrap();
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

fn expected(case: &str) -> Expected {
    let reader = PytorchReader::new(fixtures().join(format!("{case}.expected.pth"))).unwrap();
    let dim = reader.get("z").unwrap().shape()[1];
    Expected {
        z: floats(&reader, "z")
            .chunks(dim)
            .map(|z| Latent(z.to_vec()))
            .collect(),
        pictures: floats(&reader, "pictures"),
        scores: floats(&reader, "scores"),
    }
}

fn netg(case: &str) -> PathBuf {
    fixtures().join(format!("{case}.netG.pth"))
}

fn values(t: burn::tensor::Tensor<4>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

fn max_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn every_layout_opens_and_draws_what_pytorch_draws() {
    let dev = common::cpu();
    for (case, latent, side, channels) in CASES {
        let want = expected(case);
        let loaded = load_generator(&netg(case), &dev.device).unwrap();
        let c = &loaded.config;
        assert_eq!(
            (c.latent_dim, c.image_size(), c.channels()),
            (latent, side, channels),
            "{case}: the shapes read off the file"
        );
        let g = &loaded.generator;
        // The model's own layers, before quantisation: within 1e-4 of PyTorch's.
        let ours = values(g.forward(latents_tensor(&want.z, &dev.device)));
        let worst = max_difference(&ours, &want.pictures);
        assert!(worst < 1e-4, "{case}: pictures differ by up to {worst}");
        // The pictures the app shows (the CPU drawing path where it applies): at most one
        // level from PyTorch's, quantised the same way.
        let pictures = Drawer::new(g, &dev.device).draw(&want.z);
        let plane = side * side;
        for (i, picture) in pictures.iter().enumerate() {
            assert_eq!(picture.dimensions(), (side as u32, side as u32), "{case}");
            for (p, pixel) in picture.pixels().enumerate() {
                for (k, &value) in pixel.0.iter().enumerate() {
                    let channel = if channels == 3 { k } else { 0 };
                    let theirs = want.pictures[(i * channels + channel) * plane + p];
                    let level = ((theirs + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8;
                    assert!(level.abs_diff(value) <= 1, "{case}: {level} vs {value}");
                }
            }
        }
    }
}

#[test]
fn their_critics_open_beside_them_and_score_what_pytorch_scores() {
    let dev = common::cpu();
    for (case, ..) in CASES {
        let want = expected(case);
        let loaded = load_generator(&netg(case), &dev.device).unwrap();
        let critic = critic_beside(&netg(case), &dev.device)
            .unwrap()
            .unwrap_or_else(|| panic!("{case}: the netD file beside it"));
        let ours = scores(&loaded.generator, &critic, &want.z, &dev.device);
        let worst = max_difference(&ours, &want.scores);
        assert!(worst < 1e-4, "{case}: scores {ours:?} vs {:?}", want.scores);
    }
}

#[test]
fn the_shipped_model_trained_in_pytorch_draws_and_scores_what_pytorch_did() {
    // checkpoints/pytorch-faces: the tutorial's model trained by scripts/pytorch_dcgan_faces.py,
    // as PyTorch saved it; PyTorch's pictures and scores for four z beside the fixtures.
    let dev = common::cpu();
    let generator = common::pytorch_faces();
    let want = expected("pytorch-faces");
    let loaded = load_generator(&generator, &dev.device).unwrap();
    assert_eq!((loaded.config.latent_dim, loaded.config.ngf), (100, 32));
    let ours = values(
        loaded
            .generator
            .forward(latents_tensor(&want.z, &dev.device)),
    );
    let worst = max_difference(&ours, &want.pictures);
    assert!(worst < 1e-4, "pictures differ by up to {worst}");
    let critic = critic_beside(&generator, &dev.device).unwrap().unwrap();
    let ours = scores(&loaded.generator, &critic, &want.z, &dev.device);
    // Logits of a confident discriminator are large: compare relative to their size.
    for (a, b) in ours.iter().zip(&want.scores) {
        assert!(
            (a - b).abs() <= 1e-4 * b.abs().max(1.0),
            "{ours:?} vs {:?}",
            want.scores
        );
    }
}

#[test]
fn import_writes_a_checkpoint_that_draws_the_same() {
    let dev = common::cpu();
    let tmp = tempfile::tempdir().unwrap();
    let case = "wgan-nz100-32-rgb-legacy";
    let out = tmp.path().join("imported");
    let imported = import_pytorch(&netg(case), None, &out).unwrap();
    assert_eq!(
        imported.from.critic.as_deref(),
        Some(fixtures().join(format!("{case}.netD.pth")).as_path()),
        "the netD file beside it is taken as the critic"
    );
    assert_eq!(read_model_config(&out).unwrap(), imported.config);
    let want = expected(case);
    let g = load_generator(&out, &dev.device).unwrap().generator;
    let ours = values(g.forward(latents_tensor(&want.z, &dev.device)));
    assert!(max_difference(&ours, &want.pictures) < 1e-4);
    assert!(critic_beside(&out, &dev.device).unwrap().is_some());
}

#[test]
fn export_pytorch_round_trips_through_the_examples_layout() {
    let dev = common::cpu();
    let tmp = tempfile::tempdir().unwrap();
    let case = "examples-nz100-64-rgb";
    let loaded = load_generator(&netg(case), &dev.device).unwrap();
    let out = tmp.path().join("netG_export.pth");
    let note = export_pytorch_generator(&loaded.config, &loaded.generator, &out).unwrap();
    assert_eq!(note, None, "a plain tanh model draws the same in PyTorch");
    // Its keys are the example's, each tensor PyTorch's own.
    let theirs = PytorchReader::new(netg(case)).unwrap();
    let ours = PytorchReader::new(&out).unwrap();
    let mut keys = ours.keys();
    keys.sort();
    let mut want = theirs.keys();
    want.sort();
    assert_eq!(keys, want);
    for key in keys.iter().filter(|k| !k.ends_with("num_batches_tracked")) {
        assert_eq!(
            ours.get(key).unwrap().shape(),
            theirs.get(key).unwrap().shape()
        );
        assert_eq!(floats(&ours, key), floats(&theirs, key), "{key}");
    }
    // And it opens again as the same model.
    let again = load_generator(&out, &dev.device).unwrap();
    assert_eq!(again.config.latent_dim, 100);
    let z = expected(case).z;
    let (a, b) = (
        Drawer::new(&loaded.generator, &dev.device).draw(&z),
        Drawer::new(&again.generator, &dev.device).draw(&z),
    );
    assert_eq!(a, b);
}

#[test]
fn a_scaled_model_exports_with_a_note() {
    let dev = common::cpu();
    let tmp = tempfile::tempdir().unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("checkpoints/people");
    let loaded = load_generator(&shipped, &dev.device).unwrap();
    let out = tmp.path().join("people.pth");
    let note = export_pytorch_generator(&loaded.config, &loaded.generator, &out)
        .unwrap()
        .expect("the people model draws clamp(1.1·tanh)");
    assert!(note.contains("1.1"), "{note}");
    let again = load_generator(&out, &dev.device).unwrap();
    assert_eq!(again.config.ngf, loaded.config.ngf);
}

fn open_error(path: &Path) -> String {
    let dev = common::cpu();
    match load_generator(path, &dev.device) {
        Ok(_) => panic!("{} opened", path.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_discriminator_given_as_the_generator_says_so() {
    let message = open_error(&fixtures().join("examples-nz100-64-rgb.netD.pth"));
    assert!(message.contains("discriminator"), "{message}");
}

#[test]
fn truncated_and_foreign_files_are_refused_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = std::fs::read(netg("examples-nz100-64-rgb")).unwrap();
    for cut in [0, 10, 200, whole.len() / 2, whole.len() - 30] {
        let path = tmp.path().join(format!("cut{cut}.pth"));
        std::fs::write(&path, &whole[..cut]).unwrap();
        let message = open_error(&path);
        assert!(message.contains(&format!("cut{cut}.pth")), "{message}");
    }
    // A safetensors file named .pth.
    let path = tmp.path().join("not_pytorch.pth");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("checkpoints/people/generator.safetensors"),
        &path,
    )
    .unwrap();
    let message = open_error(&path);
    assert!(message.contains("not a PyTorch checkpoint"), "{message}");
}

/// A pickle (protocol 2) that would call `os.system("echo pwned")` if Python unpickled it.
const OS_SYSTEM: &[u8] = b"\x80\x02}q\x00X\x04\x00\x00\x00evilq\x01cos\nsystem\nq\x02X\n\x00\x00\x00echo pwnedq\x03\x85q\x04Rq\x05s.";

#[test]
fn a_pickle_calling_os_system_is_refused_not_run() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("evil.pth");
    std::fs::write(&path, OS_SYSTEM).unwrap();
    let message = open_error(&path);
    assert!(message.contains("os.system"), "{message}");
}

#[test]
fn wrong_shapes_name_the_key_and_what_was_expected() {
    // The examples' generator with its third convolution one feature map too wide.
    let message = open_error(&fixtures().join("broken-width.netG.pth"));
    assert!(
        message.contains("main.6.weight") && message.contains("[8, 5, 4, 4]"),
        "{message}"
    );
}

#[test]
fn a_critic_of_another_size_is_refused_naming_both() {
    let tmp = tempfile::tempdir().unwrap();
    let critic = fixtures().join("wgan-nz100-32-rgb-legacy.netD.pth");
    let error = import_pytorch(&netg("examples-nz100-64-rgb"), Some(&critic), tmp.path())
        .err()
        .expect("a 32 px critic with a 64 px generator");
    let message = error.to_string();
    assert!(
        message.contains("32×32") && message.contains("64×64"),
        "{message}"
    );
    assert!(matches!(error, CheckpointError::Pytorch { .. }));
}

#[test]
fn a_netd_beside_that_does_not_fit_is_left_out_and_said_why() {
    // A user's folder: a 64 px generator beside a 32 px run's discriminator.
    let tmp = tempfile::tempdir().unwrap();
    let generator = tmp.path().join("netG_epoch_3.pth");
    std::fs::copy(netg("examples-nz100-64-rgb"), &generator).unwrap();
    std::fs::copy(
        fixtures().join("wgan-nz100-32-rgb-legacy.netD.pth"),
        tmp.path().join("netD_epoch_3.pth"),
    )
    .unwrap();
    let out = tmp.path().join("imported");
    let imported = import_pytorch(&generator, None, &out).unwrap();
    assert_eq!(imported.from.critic, None);
    let why = imported.from.critic_refused.expect("the reason is kept");
    assert!(why.contains("32×32"), "{why}");
    // The provenance the app shows is in the checkpoint.
    let from = hitogata::pytorch::imported_from(&out).unwrap();
    assert_eq!(from.generator, generator);
    assert!(from.critic_refused.is_some());
    let dev = common::cpu();
    assert!(critic_beside(&out, &dev.device).unwrap().is_none());
}

#[test]
fn a_fifo_named_pth_is_refused_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("netG.pth");
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let message = open_error(&path);
    assert!(message.contains("netG.pth"), "{message}");
}

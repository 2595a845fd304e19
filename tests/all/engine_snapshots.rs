//! "This face through training" and the compare worker, on a real tiny run with snapshots.

use crate::common;

use std::time::Duration;

use hitogata::compare_worker::{CompareEvent, CompareSource, CompareWorker};
use hitogata::device::DeviceChoice;
use hitogata::inference::generate_images;
use hitogata::latent::Latent;
use hitogata::snapshots::{
    SnapshotError, Timeline, list_snapshots, picture_changes, save_timeline_gif,
};

const STEPS: [u64; 3] = [2, 5, 9];

#[test]
fn every_snapshot_draws_the_face_and_the_changes_are_measured_between_them() {
    let dev = common::cpu();
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    common::run_with_snapshots(&run, &STEPS);
    // Something that is not a snapshot is ignored.
    std::fs::create_dir_all(run.join("snapshots/notes")).unwrap();
    let listed = list_snapshots(&run).unwrap();
    assert_eq!(listed.iter().map(|s| s.step).collect::<Vec<_>>(), STEPS);
    assert_eq!(list_snapshots(&run.join("snapshots")).unwrap(), listed);

    let timeline = Timeline::load(&run, &dev.device).unwrap();
    assert_eq!(timeline.steps, STEPS);
    assert!(timeline.skipped.is_empty());
    let z = Latent::from_seed(4, timeline.latent_dim());
    let frames = timeline.draw(&z);
    for (snapshot, frame) in listed.iter().zip(&frames) {
        let g = hitogata::checkpoint::load_generator(&snapshot.dir, &dev.device).unwrap();
        let direct = generate_images(&g.generator, std::slice::from_ref(&z), &dev.device);
        assert_eq!(frame, &direct[0], "step {}", snapshot.step);
    }
    let changes = picture_changes(&frames);
    assert_eq!(changes.len(), 2);
    for (k, change) in changes.iter().enumerate() {
        let (a, b) = (frames[k].as_raw(), frames[k + 1].as_raw());
        let mean = a
            .iter()
            .zip(b)
            .map(|(x, y)| x.abs_diff(*y) as f64)
            .sum::<f64>()
            / a.len() as f64;
        assert!((*change as f64 - mean).abs() < 1e-3);
        assert!(*change > 0.0, "the run learns between snapshots");
    }
    assert_eq!(
        picture_changes(&[frames[0].clone(), frames[0].clone()]),
        [0.0]
    );

    // The GIF: one frame per snapshot, enlarged.
    let gif = tmp.path().join("face.gif");
    save_timeline_gif(&frames, 3, &gif).unwrap();
    use image::AnimationDecoder;
    let decoded = image::codecs::gif::GifDecoder::new(std::io::BufReader::new(
        std::fs::File::open(&gif).unwrap(),
    ))
    .unwrap()
    .into_frames()
    .collect_frames()
    .unwrap();
    assert_eq!(decoded.len(), 3);
    assert_eq!(decoded[0].buffer().dimensions(), (64 * 3, 64 * 3));

    // One checkpoint alone: its step is the run's.
    let single = Timeline::single(&run, &dev.device).unwrap();
    assert_eq!(single.steps, [9]);
}

#[test]
fn a_broken_snapshot_is_skipped_and_a_run_without_any_says_how_to_get_them() {
    let dev = common::cpu();
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    common::run_with_snapshots(&run, &[1, 2]);
    std::fs::write(
        run.join("snapshots/step-000002/generator.safetensors"),
        b"not weights",
    )
    .unwrap();
    let timeline = Timeline::load(&run, &dev.device).unwrap();
    assert_eq!(timeline.steps, [1]);
    assert_eq!(timeline.skipped.len(), 1);
    assert_eq!(timeline.skipped[0].0, 2);
    assert!(
        timeline.skipped[0].1.contains("generator.safetensors"),
        "{:?}",
        timeline.skipped
    );

    std::fs::write(
        run.join("snapshots/step-000001/generator.safetensors"),
        b"not weights",
    )
    .unwrap();
    assert!(matches!(
        Timeline::load(&run, &dev.device),
        Err(SnapshotError::NoneLoaded { .. })
    ));

    let empty = tmp.path().join("empty-run");
    std::fs::create_dir_all(&empty).unwrap();
    let err = Timeline::load(&empty, &dev.device).err().unwrap();
    assert!(matches!(err, SnapshotError::None(_)));
    assert!(err.to_string().contains("--snapshot-every"), "{err}");
}

fn next(worker: &CompareWorker) -> CompareEvent {
    worker
        .recv_timeout(Duration::from_secs(60))
        .expect("the compare worker answers")
}

#[test]
fn the_compare_worker_loads_draws_and_keeps_what_it_had_when_a_load_fails() {
    let dev = common::cpu();
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    common::run_with_snapshots(&run, &[1, 3]);
    let worker = CompareWorker::spawn(DeviceChoice::Cpu, Box::new(|| {}));
    worker.load(CompareSource::Snapshots(run.clone()));
    let CompareEvent::Loaded {
        steps, latent_dim, ..
    } = next(&worker)
    else {
        panic!("loaded")
    };
    assert_eq!(steps, [1, 3]);
    let latents = vec![
        Latent::from_seed(1, latent_dim),
        Latent::from_seed(2, latent_dim),
    ];
    worker.draw(latents.clone());
    let CompareEvent::Drawn { pictures, .. } = next(&worker) else {
        panic!("drawn")
    };
    let timeline = Timeline::load(&run, &dev.device).unwrap();
    assert_eq!(pictures, timeline.draw_all(&latents));
    assert_eq!((pictures.len(), pictures[0].len()), (2, 2));

    worker.load(CompareSource::Checkpoint(tmp.path().join("missing")));
    let CompareEvent::LoadFailed { message, .. } = next(&worker) else {
        panic!("failed")
    };
    assert!(message.contains("missing"), "{message}");
    worker.draw(latents[..1].to_vec());
    let CompareEvent::Drawn { pictures, .. } = next(&worker) else {
        panic!("still drawn")
    };
    assert_eq!(pictures.len(), 2, "the snapshots stay loaded");
}

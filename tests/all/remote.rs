//! Training on another machine through `hitogata serve`, on loopback: a real server process,
//! real connections over iroh and websocket, real training steps.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use hitogata::device::{DeviceChoice, RemoteTarget};
use hitogata::train::{
    CONNECTION_LOST, DivergencePolicy, RunSpec, TrainCommand, TrainEvent, TrainJob, TrainWorker,
};

use common::expect;
use common::serve::{BIN, Server, TOKEN};

fn hitogata(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run hitogata")
}

/// `train --json` of a tiny model for `steps` steps on `device`; the progress events' losses.
fn train_losses(data: &Path, run: &Path, device: &str, token: Option<&Path>) -> Vec<(f64, f64)> {
    let mut args = vec![
        "train",
        "--data",
        data.to_str().unwrap(),
        "--run",
        run.to_str().unwrap(),
        "--steps",
        "3",
        "--sample-every",
        "3",
        "--checkpoint-every",
        "3",
        "--seed",
        "5",
        "--json",
        "--device",
        device,
    ];
    args.extend_from_slice(common::TINY_SHAPE);
    if let Some(t) = token {
        args.extend(["--token-file", t.to_str().unwrap()]);
    }
    let out = hitogata(&args);
    assert!(
        out.status.success(),
        "train on {device} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["event"] == "progress")
        .map(|e| {
            (
                e["critic_loss"].as_f64().unwrap(),
                e["generator_loss"].as_f64().unwrap(),
            )
        })
        .collect()
}

fn assert_close(local: &[(f64, f64)], remote: &[(f64, f64)], what: &str) {
    assert_eq!(local.len(), 3, "{what}: {local:?}");
    assert_eq!(local.len(), remote.len(), "{what}: {remote:?}");
    for (l, r) in local.iter().zip(remote) {
        for (a, b) in [(l.0, r.0), (l.1, r.1)] {
            assert!(
                (a - b).abs() <= 1e-4 + 1e-3 * a.abs(),
                "{what}: local {local:?} vs remote {remote:?}"
            );
        }
    }
}

#[test]
fn a_run_on_the_server_matches_the_local_run_over_both_transports() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    common::write_disc_folder(&data, 12);
    let local = train_losses(&data, &tmp.path().join("local"), "cpu", None);

    for (transport, listen) in [("iroh", "0"), ("websocket", "127.0.0.1:0")] {
        let server = Server::start(&tmp.path().join(transport), transport, listen);
        let run = tmp.path().join(format!("run-{transport}"));
        let token = tmp.path().join(transport).join("token");
        let remote = train_losses(&data, &run, &server.device, Some(&token));
        assert_close(&local, &remote, transport);
        // Checkpoints and samples are written here, and load like any other.
        assert!(run.join("checkpoint/state.ron").exists(), "{transport}");
        assert!(run.join("samples/step-000003.png").exists(), "{transport}");
        hitogata::checkpoint::load_generator(
            &run.join("generator"),
            &hitogata::device::cpu_device("").device,
        )
        .unwrap();
    }
}

#[test]
fn a_wrong_token_or_a_wrong_port_is_a_clear_error_within_seconds() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    common::write_disc_folder(&data, 8);
    let wrong = tmp.path().join("wrong-token");
    std::fs::write(&wrong, "not-the-token").unwrap();
    let iroh = Server::start(&tmp.path().join("iroh"), "iroh", "0");
    let ws = Server::start(&tmp.path().join("ws"), "websocket", "127.0.0.1:0");
    let free_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let iroh_elsewhere = iroh.device.replace(iroh.port(), &free_port.to_string());
    let ws_elsewhere = format!("remote:ws://127.0.0.1:{free_port}");
    let cases = [
        (iroh.device.as_str(), "refused the token"),
        (ws.device.as_str(), "refused the token"),
        (ws_elsewhere.as_str(), "connection refused"),
        (iroh_elsewhere.as_str(), "no answer from"),
    ];
    for (device, says) in cases {
        let started = Instant::now();
        let out = hitogata(&[
            "generate",
            "--checkpoint",
            "checkpoints/faces",
            "--out",
            tmp.path().join("out").to_str().unwrap(),
            "--device",
            device,
            "--token-file",
            wrong.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{device}: should fail");
        assert!(stderr.contains(says), "{device}: no {says:?} in {stderr}");
        // A guard against hanging, not a timing: burn alone retries for ~16 s.
        assert!(
            started.elapsed() < Duration::from_secs(14),
            "{device} took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn the_server_stops_cleanly_on_ctrl_c() {
    let tmp = tempfile::tempdir().unwrap();
    for (transport, listen) in [("iroh", "0"), ("websocket", "127.0.0.1:0")] {
        let mut server = Server::start(&tmp.path().join(transport), transport, listen);
        // burn takes Ctrl-C over once it is serving (a Ctrl-C before that simply ends the
        // process, which holds nothing yet): give it that moment.
        std::thread::sleep(Duration::from_secs(2));
        let (status, last) = server.interrupt();
        assert!(status.success(), "{transport}: {status}");
        assert_eq!(last, "hitogata serve: stopped", "{transport}");
    }
}

/// The reason of the next pause that gives one.
fn pause_reason(w: &TrainWorker, what: &str) -> String {
    match expect(w, what, |e| {
        matches!(
            e,
            TrainEvent::Paused {
                reason: Some(_),
                ..
            }
        )
    }) {
        TrainEvent::Paused {
            reason: Some(r), ..
        } => r,
        _ => unreachable!(),
    }
}

#[test]
fn a_server_killed_mid_run_pauses_it_and_a_restarted_one_resumes_it() {
    for (transport, listen) in [("iroh", "0"), ("websocket", "127.0.0.1:0")] {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        common::write_disc_folder(&data, 8);
        let run = tmp.path().join("run");
        let dir = tmp.path().join("server");
        let mut server = Server::start(&dir, transport, listen);
        let address = server.device.trim_start_matches("remote:").to_string();
        let job = TrainJob {
            device: DeviceChoice::Remote(RemoteTarget {
                address: address.clone(),
                token: Some(TOKEN.into()),
            }),
            sample_every: 0,
            checkpoint_every: 2,
            on_divergence: DivergencePolicy::RollBackAndPause,
            ..TrainJob::new(&data, &run, RunSpec::new(common::tiny_train_config()))
        };
        let w = TrainWorker::start(job, Box::new(|| {}));
        expect(&w, "a checkpoint", |e| {
            matches!(e, TrainEvent::Checkpoint { step: 2, .. })
        });
        server.kill();
        let reason = pause_reason(&w, "the pause");
        assert!(reason.starts_with(CONNECTION_LOST), "{transport}: {reason}");
        // The checkpoint the run wrote before the server died loads.
        let saved = common::saved_state(&run);
        assert!(saved.step >= 2, "{transport}: {}", saved.step);
        hitogata::checkpoint::load_generator(
            &run.join("generator"),
            &hitogata::device::cpu_device("").device,
        )
        .unwrap();

        if transport == "websocket" {
            // burn 0.22 never reopens a websocket session in a process: the run says so.
            w.send(TrainCommand::Resume);
            let r = pause_reason(&w, "the answer to resume");
            assert!(r.contains("restart hitogata"), "{r}");
            w.send(TrainCommand::Stop { save: true });
            expect(&w, "stopped", |e| {
                matches!(e, TrainEvent::Stopped { saved: false, .. })
            });
            continue;
        }
        // Resuming while the server is down says so and stays paused.
        w.send(TrainCommand::Resume);
        let r = pause_reason(&w, "a failed reconnect");
        assert!(r.contains("reconnecting failed"), "{transport}: {r}");

        // The same server back (same key, port and token): the run goes on from its checkpoint.
        let port = server.port().to_string();
        let relisten = if transport == "iroh" {
            port
        } else {
            format!("127.0.0.1:{port}")
        };
        let _back = Server::start(&dir, transport, &relisten);
        w.send(TrainCommand::Resume);
        expect(&w, "resumed", |e| matches!(e, TrainEvent::Resumed));
        expect(
            &w,
            "a step after the reconnect",
            |e| matches!(e, TrainEvent::Progress(m) if m.step > saved.step),
        );
        w.send(TrainCommand::Stop { save: true });
        expect(&w, "stopped", |e| {
            matches!(e, TrainEvent::Stopped { saved: true, .. })
        });
    }
}

/// The next event of `w` that `pick` accepts (others skipped).
fn next_from<T>(
    w: &hitogata::inference_worker::InferenceWorker,
    what: &str,
    pick: impl Fn(hitogata::inference_worker::InferenceEvent) -> Option<T>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(e) = w.recv_timeout(Duration::from_millis(100))
            && let Some(t) = pick(e)
        {
            return t;
        }
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn the_explorers_generator_runs_remotely_and_falls_back_to_the_cpu_when_the_server_dies() {
    use hitogata::inference_worker::{InferenceEvent, InferenceWorker};
    let tmp = tempfile::tempdir().unwrap();
    let mut server = Server::start(&tmp.path().join("server"), "websocket", "127.0.0.1:0");
    let w = InferenceWorker::spawn(
        DeviceChoice::Remote(RemoteTarget {
            address: server.device.trim_start_matches("remote:").into(),
            token: Some(TOKEN.into()),
        }),
        Box::new(|| {}),
    );
    let device = next_from(&w, "the device", |e| match e {
        InferenceEvent::DeviceReady(d) => Some(d),
        _ => None,
    });
    assert!(device.starts_with("remote server"), "{device}");
    let main = |generation: u64| {
        let z = hitogata::latent::Latent::from_seed(3, 40);
        w.render_main(generation, z);
        next_from(&w, "the picture", |e| match e {
            InferenceEvent::Main {
                generation: g,
                image,
                ..
            } if g == generation => Some(image),
            _ => None,
        })
    };
    w.load("checkpoints/faces".into());
    next_from(&w, "the checkpoint", |e| {
        matches!(e, InferenceEvent::Loaded { .. }).then_some(())
    });
    let remote = main(1);
    // The same picture burn's layers draw on the CPU here (the server runs them); after the
    // fallback, the CPU's own drawing path draws it.
    let cpu = hitogata::device::cpu_device("").device;
    let loaded =
        hitogata::checkpoint::load_generator(Path::new("checkpoints/faces"), &cpu).unwrap();
    let z = [hitogata::latent::Latent::from_seed(3, 40)];
    let by_layers = hitogata::inference::Drawer::with_burn_layers(&loaded.generator, &cpu)
        .draw(&z)
        .pop()
        .unwrap();
    assert_eq!(remote, by_layers);
    let local = hitogata::inference::generate_images(&loaded.generator, &z, &cpu)
        .pop()
        .unwrap();

    server.kill();
    let z = hitogata::latent::Latent::from_seed(3, 40);
    w.render_main(2, z);
    let device = next_from(&w, "the fallback", |e| match e {
        InferenceEvent::DeviceReady(d) => Some(d),
        _ => None,
    });
    assert!(device.contains("stopped answering"), "{device}");
    next_from(&w, "the checkpoint again", |e| {
        matches!(e, InferenceEvent::Loaded { .. }).then_some(())
    });
    assert_eq!(main(3), local);
}

//! The Training tab on a remote server: pick "remote GPU…", give the address and token that
//! `hitogata serve` printed, train; a server that dies pauses the run and "Reconnect and
//! resume" carries on once it is back. A real server process on loopback, the real app.

use crate::common;

use common::serve::{Server, TOKEN};
use common::ui::{AppHarness, choose, tiny_model, type_into, wait_until};
use egui_kittest::kittest::Queryable;
use hitogata::app::{RunState, Tab};
use hitogata::train::CONNECTION_LOST;

/// eframe's storage, in memory: what the app would write to disk on closing.
#[derive(Default)]
struct MemoryStorage(std::collections::HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

fn harness(dir: &std::path::Path) -> AppHarness {
    let size = egui::vec2(1280.0, 1000.0);
    let mut h = common::ui::app_harness(
        &dir.join("no-checkpoint-here"),
        &dir.join("bookmarks.ron"),
        size,
    );
    h.state_mut().select_tab(Tab::Training);
    h.step();
    h
}

#[test]
fn training_on_a_remote_server_from_the_tab_survives_the_server_restarting() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    common::write_disc_folder(&data, 8);
    let run = tmp.path().join("run");
    let server_dir = tmp.path().join("server");
    let mut server = Server::start(&server_dir, "iroh", "0");
    let address = server.device.trim_start_matches("remote:").to_string();

    let mut h = harness(tmp.path());
    type_into(&mut h, "Dataset", data.to_str().unwrap());
    type_into(&mut h, "Run folder", run.to_str().unwrap());
    choose(&mut h, "device", "remote GPU…");
    // Pasted as the server printed it, `--device ` and all.
    type_into(&mut h, "server", &format!("--device remote:{address}"));
    // A password field: its characters are not shown.
    h.get_by_role_and_label(egui::accesskit::Role::PasswordInput, "token")
        .set_text_value_accesskit(TOKEN);
    h.run_steps(2);
    tiny_model(&mut h, 2.0);
    h.get_by_label("Start").click();
    wait_until(&mut h, "a checkpoint", |a| {
        a.training().last_checkpoint().is_some_and(|s| s >= 2)
    });
    // Samples and checkpoints are written on this machine.
    assert!(run.join("checkpoint/state.ron").exists());
    assert!(run.join("samples/step-000002.png").exists());

    // The token is kept for next time in a file only its owner reads; the address in the
    // app's settings, which never hold the token.
    let token_file = tmp.path().join("remote-token");
    assert_eq!(std::fs::read_to_string(&token_file).unwrap(), TOKEN);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let mut storage = MemoryStorage::default();
    eframe::App::save(h.state_mut(), &mut storage);
    let saved: String = storage.0.values().cloned().collect();
    assert!(saved.contains(&address), "{saved}");
    assert!(!saved.contains(TOKEN), "{saved}");

    server.kill();
    wait_until(&mut h, "the pause for the lost server", |a| {
        a.training().state() == RunState::Paused
            && a.training()
                .notice()
                .is_some_and(|n| n.starts_with(CONNECTION_LOST))
    });
    let paused_at = h.state().training().step();
    let _back = Server::start(&server_dir, "iroh", server.port());
    h.get_by_label("Reconnect and resume").click();
    wait_until(&mut h, "steps after reconnecting", move |a| {
        a.training().state() == RunState::Running && a.training().step() > paused_at
    });
    h.get_by_label("Stop").click();
    wait_until(&mut h, "the stop", |a| {
        a.training().state() == RunState::Idle
    });
    assert!(common::saved_state(&run).step > paused_at);

    // A new app in the same place finds the token again.
    let h2 = harness(tmp.path());
    assert_eq!(h2.state().training().form().remote_token, TOKEN);
}

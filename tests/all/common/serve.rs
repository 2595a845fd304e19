//! A real `hitogata serve` process on loopback, for the remote-training tests.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const TOKEN: &str = "loopback-test-token";
pub const BIN: &str = env!("CARGO_BIN_EXE_hitogata");

/// A `hitogata serve --device cpu` process; killed when dropped.
pub struct Server {
    child: Child,
    /// What follows `--device ` to reach it on loopback.
    pub device: String,
    log: PathBuf,
    /// The rest of its standard output.
    stdout: Option<BufReader<std::process::ChildStdout>>,
}

impl Server {
    /// Starts a server over `transport` listening at `listen`, its key and token in `dir`.
    pub fn start(dir: &Path, transport: &str, listen: &str) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("token"), TOKEN).unwrap();
        let log = dir.join(format!("serve-{}.log", std::process::id()));
        let mut child = Command::new(BIN)
            .args(["serve", "--device", "cpu", "--transport", transport])
            .args(["--listen", listen])
            .arg("--token-file")
            .arg(dir.join("token"))
            .arg("--identity")
            .arg(dir.join("server.key"))
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start hitogata serve");
        let mut device = None;
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        loop {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap() == 0 {
                break;
            }
            if let Some(d) = line.trim().strip_prefix("--device ")
                && d.contains("127.0.0.1")
            {
                device = Some(d.split_whitespace().next().unwrap().to_string());
            }
            if line.contains("Ctrl-C stops the server") {
                break;
            }
        }
        let device = device.unwrap_or_else(|| {
            panic!(
                "the server printed no loopback address: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
        Self {
            child,
            device,
            log,
            stdout: Some(stdout),
        }
    }

    /// Ctrl-C: waits for the server to stop; its exit status and the last line it printed.
    pub fn interrupt(&mut self) -> (std::process::ExitStatus, String) {
        // SAFETY: signalling a child process we started and have not reaped.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let status = self.child.wait().unwrap();
        let mut rest = String::new();
        if let Some(mut out) = self.stdout.take() {
            let _ = std::io::Read::read_to_string(&mut out, &mut rest);
        }
        (status, rest.lines().last().unwrap_or("").to_string())
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The port it listens on (the last `:N` of its address).
    pub fn port(&self) -> &str {
        self.device.rsplit(':').next().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "server log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

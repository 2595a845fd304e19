//! What the user asks for when choosing where the model runs (`--device`, the Training tab):
//! plain data, parsed and shown; `device` starts it, `remote` dials a server.

use std::fmt;

/// What the user asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DeviceChoice {
    /// A hardware GPU through wgpu when one is present, else the CPU.
    #[default]
    Auto,
    /// wgpu, whatever adapter it finds (a software one too).
    Wgpu,
    /// burn's pure-Rust CPU backend (`flex`).
    Cpu,
    /// Another machine's device, served by `hitogata serve` (see `engine::remote`).
    Remote(RemoteTarget),
}

/// A server to train on: where it is, and the token its authorizer checks.
#[derive(Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RemoteTarget {
    /// What follows `remote:` (see the module's documentation).
    pub address: String,
    /// Never written anywhere by hitogata's settings or run files.
    #[serde(skip)]
    pub token: Option<String>,
}

impl fmt::Debug for RemoteTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteTarget")
            .field("address", &self.address)
            .field("token", &self.token.as_ref().map(|_| ".."))
            .finish()
    }
}

impl DeviceChoice {
    /// Whether a lost connection to this device can be reopened without restarting hitogata:
    /// burn 0.22 keeps one websocket session per server and token for the life of the process
    /// and never reopens it, while hitogata dials each iroh connection from a fresh endpoint.
    pub fn reconnects_in_process(&self) -> bool {
        match self {
            Self::Remote(target) => !target.address.trim().starts_with("ws://"),
            _ => true,
        }
    }
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "wgpu" | "gpu" => Ok(Self::Wgpu),
            "cpu" | "flex" => Ok(Self::Cpu),
            _ => match s.trim().strip_prefix("remote:") {
                Some(address) if !address.trim().is_empty() => Ok(Self::Remote(RemoteTarget {
                    address: address.trim().to_string(),
                    token: None,
                })),
                _ => Err(format!(
                    "unknown device '{s}': expected auto, wgpu, cpu or remote:ADDRESS"
                )),
            },
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Wgpu => "wgpu",
            Self::Cpu => "cpu",
            Self::Remote(target) => return write!(f, "remote:{}", target.address),
        })
    }
}

//! Reaching a `hitogata serve` on another machine through burn's remote backend: the tensors
//! live there, everything else (data, checkpoints, samples, the UI) stays here.
//!
//! Addresses, written after `remote:`:
//! - `ID@HOST:PORT`: iroh (encrypted, authenticated by the server's id), dialled directly: a LAN,
//!   no internet needed. The default, and what `hitogata serve` prints.
//! - `ID`: iroh through n0's public relays, for a server behind NAT (needs the internet).
//! - `ws://HOST:PORT`: websocket, unencrypted; for a trusted network or an SSH tunnel (iroh is
//!   UDP, which `ssh -L` cannot forward).

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::str::FromStr;
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

use burn::tensor::Device;
use burn::tensor::remote::{ConnectError, EndpointId, IrohHost, RemoteHost};

pub use crate::engine::device::choice::RemoteTarget;

/// The environment variable a token is read from when no token file is given.
pub const TOKEN_ENV: &str = "HITOGATA_TOKEN";
/// The port `hitogata serve` listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 7447;
/// How long a connection attempt may take before it is reported as unanswered. burn retries
/// an unreachable server for ~16 s; a user should hear sooner.
pub const CONNECT_WAIT: Duration = Duration::from_secs(8);
/// With no packet from the server for this long, the connection is dead. QUIC never hears of a
/// server killed outright, so this bounds how long a run waits before it pauses.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Which transport an address names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemoteAddress {
    /// iroh to `id`, dialled at `addresses` (none: through the public relays).
    Iroh {
        /// The server's public key, as `hitogata serve` prints it.
        id: EndpointId,
        /// Direct addresses to try.
        addresses: Vec<SocketAddr>,
        /// `HOST:PORT` as written, for messages.
        written: Option<String>,
    },
    /// websocket at `url` (`ws://HOST:PORT`).
    WebSocket {
        /// The URL as written.
        url: String,
        /// `HOST:PORT`.
        host_port: String,
    },
}

impl RemoteAddress {
    /// Parses (and resolves host names in) an address.
    pub fn parse(address: &str) -> Result<Self, String> {
        let address = address.trim();
        if let Some(rest) = address.strip_prefix("ws://") {
            let host_port = rest.trim_end_matches('/').to_string();
            if !host_port.contains(':') {
                return Err(format!(
                    "'{address}' has no port: write ws://HOST:PORT (hitogata serve uses {DEFAULT_PORT})"
                ));
            }
            return Ok(Self::WebSocket {
                url: format!("ws://{host_port}"),
                host_port,
            });
        }
        if address.starts_with("wss://") || address.contains("://") {
            return Err(format!(
                "'{address}': only ws:// (websocket) or an iroh id (ID@HOST:PORT) are understood"
            ));
        }
        let (id, at) = match address.split_once('@') {
            Some((id, at)) => (id, Some(at)),
            None => (address, None),
        };
        let id = EndpointId::from_str(id).map_err(|e| {
            format!("'{id}' is not a server id (the 64 hex digits hitogata serve prints): {e}")
        })?;
        let addresses = match at {
            None => Vec::new(),
            Some(at) => {
                let with_port = if at
                    .rsplit_once(':')
                    .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
                {
                    at.to_string()
                } else {
                    format!("{at}:{DEFAULT_PORT}")
                };
                let found: Vec<SocketAddr> = with_port
                    .to_socket_addrs()
                    .map_err(|e| format!("cannot resolve '{at}': {e}"))?
                    .collect();
                if found.is_empty() {
                    return Err(format!("'{at}' resolves to no address"));
                }
                found
            }
        };
        Ok(Self::Iroh {
            id,
            addresses,
            written: at.map(str::to_string),
        })
    }

    /// How the user would say where the server is.
    pub fn describe(&self) -> String {
        match self {
            Self::Iroh {
                written: Some(at), ..
            } => format!("{at} over iroh (encrypted)"),
            Self::Iroh { id, .. } => format!(
                "server {} through the public relays (encrypted)",
                short_id(id)
            ),
            Self::WebSocket { host_port, .. } => {
                format!("{host_port} over websocket (unencrypted)")
            }
        }
    }
}

fn short_id(id: &EndpointId) -> String {
    id.to_string().chars().take(10).collect()
}

/// Reads a token: `file` if given, else the environment variable [`TOKEN_ENV`].
pub fn read_token(file: Option<&Path>) -> Result<Option<String>, String> {
    if let Some(file) = file {
        let text = crate::engine::files::bounded_read::read_text(
            file,
            crate::engine::files::bounded_read::FileKind::TOKEN,
        )
        .map_err(|e| format!("cannot read the token file {}: {e}", file.display()))?;
        let token = text.trim().to_string();
        if token.is_empty() {
            return Err(format!("the token file {} is empty", file.display()));
        }
        return Ok(Some(token));
    }
    Ok(std::env::var(TOKEN_ENV)
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty()))
}

/// A runtime for the client endpoints: burn blocks on the runtime that bound an endpoint, so it
/// must outlive every device and run on threads of its own.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("hitogata-remote")
            .enable_all()
            .build()
            .expect("start the remote client's runtime")
    })
}

/// A fresh client endpoint. burn keeps one session per (client endpoint, server, token) for the
/// life of the process and never reopens a broken one, so each connection gets its own
/// endpoint: a reconnect after a dropped connection is then a new session.
fn client_endpoint(relays: bool) -> Result<iroh::Endpoint, String> {
    use iroh::endpoint::{QuicTransportConfig, presets};
    let transport = QuicTransportConfig::builder()
        .max_idle_timeout(Some(IDLE_TIMEOUT.try_into().expect("10 s fits")))
        .keep_alive_interval(Duration::from_secs(2))
        .build();
    runtime().block_on(async move {
        let builder = if relays {
            iroh::Endpoint::builder(presets::N0)
        } else {
            iroh::Endpoint::builder(presets::Minimal).relay_mode(iroh::RelayMode::Disabled)
        };
        builder
            .transport_config(transport)
            .bind()
            .await
            .map_err(|e| format!("cannot open a network endpoint here: {e}"))
    })
}

/// Connects to the server `target` names and returns its device (device 0 of the server).
/// Fails within about [`CONNECT_WAIT`] with a message that says what to do.
pub fn connect(target: &RemoteTarget) -> Result<Device, String> {
    let address = RemoteAddress::parse(&target.address)?;
    let token = match &target.token {
        Some(t) => t.clone(),
        None => read_token(None)?.ok_or_else(|| {
            format!(
                "no token for the remote server: give --token-file FILE or set {TOKEN_ENV} \
                 (hitogata serve prints the token when it starts)"
            )
        })?,
    };
    let host = match &address {
        RemoteAddress::WebSocket { url, host_port } => {
            refuse_closed_port(host_port)?;
            RemoteHost::websocket(url)
        }
        RemoteAddress::Iroh { id, addresses, .. } => {
            let endpoint = client_endpoint(addresses.is_empty())?;
            let mut host = IrohHost::new(*id).with_endpoint(endpoint);
            for a in addresses {
                host = host.with_address(*a);
            }
            RemoteHost::iroh(host)
        }
    }
    .with_credential(token);
    // The connect cannot be cancelled: past the wait it finishes (or fails) in the background.
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("hitogata-connect".into())
        .spawn(move || {
            let _ = tx.send(Device::remote_options(&host).init());
        })
        .map_err(|e| e.to_string())?;
    let place = address.describe();
    match rx.recv_timeout(CONNECT_WAIT) {
        Ok(Ok(device)) => Ok(device),
        Ok(Err(e)) => Err(explain(&e, &place)),
        Err(_) => Err(format!(
            "no answer from {place} within {} s: is `hitogata serve` running there, and is the \
             address right (a firewall may drop UDP port {DEFAULT_PORT})?",
            CONNECT_WAIT.as_secs()
        )),
    }
}

/// A closed websocket port is refused at once; burn would retry it for ~16 s.
fn refuse_closed_port(host_port: &str) -> Result<(), String> {
    let addrs: Vec<SocketAddr> = host_port
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve '{host_port}': {e}"))?
        .collect();
    let mut last = None;
    for a in &addrs {
        match TcpStream::connect_timeout(a, Duration::from_secs(3)) {
            Ok(_) => return Ok(()),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => format!(
            "nothing listens at {host_port} (connection refused): start `hitogata serve \
             --transport websocket` there, or check the port"
        ),
        Some(e) => format!("cannot reach {host_port}: {e}"),
        None => format!("'{host_port}' resolves to no address"),
    })
}

/// burn's connect error, said for a hitogata user.
fn explain(e: &ConnectError, place: &str) -> String {
    match e {
        ConnectError::Unauthorized => format!(
            "{place} refused the token: use the one `hitogata serve` printed (or its --token-file)"
        ),
        ConnectError::IncompatibleProtocol {
            client_version,
            server_version,
        } => format!(
            "{place} runs another version of burn's remote protocol (server {server_version}, \
             this app {client_version}): run the same hitogata version on both machines"
        ),
        ConnectError::Handshake { reason } => format!(
            "{place} answered, but the handshake failed ({reason}): is it a hitogata server of \
             the same version?"
        ),
        ConnectError::Unreachable { reason } => format!("cannot reach {place}: {reason}"),
        other => format!("cannot connect to {place}: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "ae58ff8833241ac82d6ff7611046ed67b5072d142c588d0063e942d9a75502b6";

    #[test]
    fn addresses_parse_to_their_transport() {
        match RemoteAddress::parse(&format!("{ID}@127.0.0.1:9000")).unwrap() {
            RemoteAddress::Iroh { addresses, .. } => {
                assert_eq!(addresses, vec!["127.0.0.1:9000".parse().unwrap()])
            }
            other => panic!("{other:?}"),
        }
        match RemoteAddress::parse(&format!("{ID}@127.0.0.1")).unwrap() {
            RemoteAddress::Iroh { addresses, .. } => assert_eq!(addresses[0].port(), DEFAULT_PORT),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            RemoteAddress::parse(ID).unwrap(),
            RemoteAddress::Iroh { addresses, .. } if addresses.is_empty()
        ));
        assert!(matches!(
            RemoteAddress::parse("ws://localhost:7447/").unwrap(),
            RemoteAddress::WebSocket { url, .. } if url == "ws://localhost:7447"
        ));
        for bad in ["ws://host", "wss://h:1", "nothex@1.2.3.4:5", ""] {
            assert!(RemoteAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_token_never_shows_in_debug_or_serialised_form() {
        let t = RemoteTarget {
            address: "ws://h:1".into(),
            token: Some("secret-token".into()),
        };
        assert!(!format!("{t:?}").contains("secret"));
        assert!(!ron::to_string(&t).unwrap().contains("secret"));
    }
}

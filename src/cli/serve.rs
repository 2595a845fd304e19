//! `hitogata serve`: burn's remote server on this machine's device, so hitogata on a laptop
//! trains here. It needs no dataset and no window: the client sends tensor operations.

use std::io::Write;
use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use hitogata::device::{DeviceChoice, select_device};
use hitogata::remote::{DEFAULT_PORT, TOKEN_ENV, read_token};

use burn::tensor::server::{
    IrohIdentity, IrohRelays, IrohTransport, RemoteServer, TokenAuthorizer, WebSocketTransport,
};

/// How clients reach the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Transport {
    /// iroh (QUIC over UDP): encrypted, and the client checks the server's key.
    Iroh,
    /// Plain websocket over TCP: unencrypted; for an SSH tunnel or a trusted network.
    Websocket,
}

/// Arguments of `hitogata serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The device to lend: auto (a hardware GPU through wgpu, else the CPU), wgpu or cpu.
    #[arg(long, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
    /// iroh (default: encrypted, authenticated, UDP) or websocket (unencrypted, TCP).
    #[arg(long, value_enum, default_value_t = Transport::Iroh)]
    transport: Transport,
    /// iroh: the UDP port, on every interface (default 7447; 0 picks a free one).
    /// websocket: HOST:PORT (default 127.0.0.1:7447, reachable only from this machine, as
    /// through an SSH tunnel; naming another address warns).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// iroh: `disabled` (direct connections only: a LAN, no internet needed), `public` (n0's
    /// relays, to reach a server behind NAT) or the URL of a relay you run.
    #[arg(long, default_value = "disabled")]
    relays: String,
    /// Read the token clients must present from this file (else HITOGATA_TOKEN, else a new
    /// random token, printed once).
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// The server's iroh key, kept so its id stays the same across restarts (default: in the
    /// platform's config directory).
    #[arg(long, value_name = "FILE")]
    identity: Option<PathBuf>,
}

/// Runs `hitogata serve` until Ctrl-C or SIGTERM.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    if matches!(args.device, DeviceChoice::Remote(_)) {
        anyhow::bail!("a server lends its own device: --device auto, wgpu or cpu");
    }
    let device = select_device(&args.device)?;
    let (token, generated) =
        match read_token(args.token_file.as_deref()).map_err(anyhow::Error::msg)? {
            Some(t) => (t, false),
            None => (new_token(), true),
        };
    let server = RemoteServer::new([device.device.clone()])
        .with_authorizer(TokenAuthorizer::new(token.as_str()).map_err(|e| anyhow::anyhow!("{e}"))?);
    let mut out = std::io::stdout().lock();
    writeln!(out, "hitogata serve: lending {}", device.description)?;
    match args.transport {
        Transport::Iroh => {
            let (transport, how) = iroh(&args)?;
            announce(out, &how, &token, generated)?;
            server.serve(transport)?;
        }
        Transport::Websocket => {
            let (listener, how) = websocket(&args)?;
            announce(out, &how, &token, generated)?;
            server.serve(WebSocketTransport::from_listener(listener))?;
        }
    }
    println!("hitogata serve: stopped");
    Ok(())
}

/// What a transport tells the user: where it listens, and the `--device` lines that reach it.
struct Connect {
    listening: String,
    lines: Vec<String>,
}

/// Prints how to connect (the token between) and lets go of stdout before serving.
fn announce(
    mut out: std::io::StdoutLock<'_>,
    how: &Connect,
    token: &str,
    generated: bool,
) -> std::io::Result<()> {
    writeln!(out, "{}", how.listening)?;
    print_token(&mut out, token, generated)?;
    writeln!(out, "connect from the other machine with:")?;
    for line in &how.lines {
        writeln!(out, "  {line}")?;
    }
    writeln!(out, "Ctrl-C stops the server.")?;
    out.flush()
}

/// The iroh transport with its identity (kept in the config directory so the id survives
/// restarts), and how to reach it.
fn iroh(args: &ServeArgs) -> anyhow::Result<(IrohTransport, Connect)> {
    let port = iroh_port(args.listen.as_deref())?;
    let relays: IrohRelays = args
        .relays
        .parse()
        .map_err(|e| anyhow::anyhow!("--relays: {e}"))?;
    let key_path = args.identity.clone().unwrap_or_else(default_identity_path);
    if let Some(dir) = key_path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // burn-remote reads the key itself: check what the path is first, so that a device or a
    // pipe given as --identity is refused instead of read without end.
    if std::fs::symlink_metadata(&key_path).is_ok() {
        let key = hitogata::bounded_read::FileKind::new("key file", 4096);
        hitogata::bounded_read::check_file(&key_path, key)
            .map_err(|e| anyhow::anyhow!("{}: {e}", key_path.display()))?;
    }
    let identity = IrohIdentity::load_or_create(&key_path).map_err(|e| {
        anyhow::anyhow!("cannot read or create the key {}: {e}", key_path.display())
    })?;
    let id = identity.id();
    let direct = relays == IrohRelays::Disabled;
    let mut lines: Vec<String> = connect_addresses()
        .into_iter()
        .map(|ip| format!("--device remote:{id}@{ip}:{port}"))
        .collect();
    if !direct {
        lines.push(format!("--device remote:{id}   (through the relays)"));
    }
    let how = Connect {
        listening: format!(
            "listening over iroh (encrypted) on UDP port {port}, {}",
            if direct {
                "direct connections only (no relays, no internet needed)"
            } else {
                "and through relays"
            }
        ),
        lines,
    };
    let transport = IrohTransport::new(identity)
        .with_relays(relays)
        .with_port(port);
    Ok((transport, how))
}

/// The websocket listener (127.0.0.1 unless told otherwise, with a warning for any other
/// address), and how to reach it.
fn websocket(args: &ServeArgs) -> anyhow::Result<(TcpListener, Connect)> {
    let listen = args
        .listen
        .clone()
        .unwrap_or_else(|| format!("127.0.0.1:{DEFAULT_PORT}"));
    let listener = TcpListener::bind(&listen)
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let at = listener.local_addr()?;
    if !at.ip().is_loopback() {
        eprintln!(
            "warning: websocket is unencrypted and {at} is reachable from the network: \
             anyone on the path can read the token and the tensors. Prefer iroh, or an \
             SSH tunnel to 127.0.0.1."
        );
    }
    let mut lines = vec![format!("--device remote:ws://{at}")];
    if at.ip().is_loopback() {
        lines.push(format!(
            "(from another machine: ssh -N -L {p}:127.0.0.1:{p} THIS_HOST, then \
             --device remote:ws://127.0.0.1:{p})",
            p = at.port()
        ));
    }
    let how = Connect {
        listening: format!("listening over websocket (unencrypted) on {at}"),
        lines,
    };
    Ok((listener, how))
}

fn print_token(out: &mut impl Write, token: &str, generated: bool) -> std::io::Result<()> {
    if generated {
        writeln!(out, "token (new, shown only now; keep it secret): {token}")?;
        writeln!(
            out,
            "  on the other machine, put it in a file for --token-file, or set {TOKEN_ENV}"
        )
    } else {
        writeln!(out, "token: the one given (file or {TOKEN_ENV})")
    }
}

/// 32 random bytes from the operating system, as hex.
fn new_token() -> String {
    use rand::TryRng;
    let mut bytes = [0u8; 32];
    rand::rngs::SysRng
        .try_fill_bytes(&mut bytes)
        .expect("the operating system's random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The UDP port to serve iroh on: the one asked for, or a free one for 0. A port another
/// program holds is refused here, before anything is printed.
fn iroh_port(listen: Option<&str>) -> anyhow::Result<u16> {
    let asked = match listen {
        None => DEFAULT_PORT,
        Some(text) => {
            let port = text.rsplit(':').next().unwrap_or(text);
            port.parse().map_err(|_| {
                anyhow::anyhow!(
                    "--listen for iroh is a UDP port (it listens on every interface): '{text}'"
                )
            })?
        }
    };
    let probe = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, asked))
        .map_err(|e| anyhow::anyhow!("cannot use UDP port {asked}: {e}"))?;
    Ok(probe.local_addr()?.port())
}

fn default_identity_path() -> PathBuf {
    directories::ProjectDirs::from("org", "hitogata", "hitogata")
        .map(|d| d.config_dir().join("server.key"))
        .unwrap_or_else(|| PathBuf::from("hitogata-server.key"))
}

/// This machine's IPv4 addresses, the LAN ones first, loopback last.
fn connect_addresses() -> Vec<Ipv4Addr> {
    let mut found = Vec::new();
    // SAFETY: getifaddrs fills a list we walk and free; entries are only read.
    unsafe {
        let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
        if libc::getifaddrs(&mut list) == 0 {
            let mut at = list;
            while !at.is_null() {
                let addr = (*at).ifa_addr;
                if !addr.is_null() && i32::from((*addr).sa_family) == libc::AF_INET {
                    let sin = &*(addr as *const libc::sockaddr_in);
                    found.push(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)));
                }
                at = (*at).ifa_next;
            }
            libc::freeifaddrs(list);
        }
    }
    found.sort_by_key(|ip| ip.is_loopback());
    found.dedup();
    if found.is_empty() {
        found.push(Ipv4Addr::LOCALHOST);
    }
    found
}

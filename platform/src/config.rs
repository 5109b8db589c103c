//! Command-line flags and environment variables: the platform (no subcommand) and the relay-only
//! mode (`platform relay`).

use std::{net::SocketAddr, path::PathBuf};

use libp2p::{Multiaddr, multiaddr::Protocol};

use crate::relay;

/// The command line: the platform's options, or the `relay` subcommand with its own.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "platform",
    version,
    about,
    args_conflicts_with_subcommands = true,
    after_long_help = PLATFORM_STDOUT
)]
pub struct Cli {
    /// Run only the libp2p relay.
    #[command(subcommand)]
    pub mode: Option<Mode>,

    /// The platform's options (when no subcommand is given).
    #[command(flatten)]
    pub platform: Config,
}

const PLATFORM_STDOUT: &str = "Standard output (read by tests and `cargo xtask run`):\n  \
    platform listening on http://ADDR        first line, once the HTTP socket is bound\n  \
    relay listening on MULTIADDR/p2p/PEER_ID  then one line per relay listen address\n\
    Logs go to standard error (RUST_LOG, default info).";

const RELAY_STDOUT: &str = "Standard output: one line per listen address, the WebRTC-direct ones with their /certhash:\n  \
    relay listening on /ip4/127.0.0.1/tcp/4002/ws/p2p/12D3KooW…\n  \
    relay listening on /ip4/127.0.0.1/udp/4002/webrtc-direct/certhash/uEi…/p2p/12D3KooW…\n\
    Relay mode serves no HTTP. Logs go to standard error (RUST_LOG, default info).";

/// What runs instead of the platform.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Mode {
    /// Run only the libp2p relay: no HTTP, no database.
    ///
    /// An independent relay (circuit relay v2, identify, ping) that outlives the platform. Its
    /// identity key and WebRTC certificate live in DATA_DIR/keys/, so its PeerId and /certhash
    /// survive restarts.
    #[command(after_long_help = RELAY_STDOUT)]
    Relay(RelayConfig),
}

/// The central platform: serves the PWA and the HTTP API, keeps its state in SQLite, and runs a
/// libp2p relay.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address and port to listen on (port 0 picks a free port).
    #[arg(long, env = "PLATFORM_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory for the SQLite database and other state; created if missing.
    #[arg(long, env = "PLATFORM_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Directory holding the built PWA (Trunk's output).
    #[arg(long, env = "PLATFORM_DIST", default_value = "dist")]
    pub dist: PathBuf,

    /// Secret for the operator endpoints under /api/operator (sent as `Authorization: Bearer
    /// TOKEN`), at least 16 characters. Without it those endpoints do not exist.
    #[arg(long, env = "PLATFORM_OPERATOR_TOKEN", hide_env_values = true, value_parser = operator_token)]
    pub operator_token: Option<String>,

    /// File with the root key's 32-byte seed (signs the trust list); generated if missing.
    /// Default: DATA_DIR/keys/root.key.
    #[arg(long, env = "PLATFORM_ROOT_KEY")]
    pub root_key: Option<PathBuf>,

    /// File with the issuer key's 32-byte seed (signs vouchers); generated if missing.
    /// Default: DATA_DIR/keys/issuer.key.
    #[arg(long, env = "PLATFORM_ISSUER_KEY")]
    pub issuer_key: Option<PathBuf>,

    /// File with the platform key's 32-byte seed (signs revocation lists and expiry
    /// extensions); generated if missing. Default: DATA_DIR/keys/platform.key.
    #[arg(long, env = "PLATFORM_PLATFORM_KEY")]
    pub platform_key: Option<PathBuf>,

    /// The relay's WebSocket listener, TCP address and port (port 0 picks a free port; 0.0.0.0
    /// listens on every interface and announces each). Served by GET /api/relay.
    #[arg(long, env = "PLATFORM_RELAY_WS_LISTEN", default_value = "127.0.0.1:4001")]
    pub relay_ws_listen: SocketAddr,

    /// The relay's WebRTC-direct listener, UDP address and port. Browsers gather no ICE
    /// candidate on loopback: listen on a real interface for browsers to use it. The
    /// certificate behind its /certhash is DATA_DIR/keys/relay-webrtc.pem.
    #[arg(long, env = "PLATFORM_RELAY_WEBRTC_LISTEN", default_value = "127.0.0.1:4001")]
    pub relay_webrtc_listen: SocketAddr,

    /// Address of another relay (e.g. a `platform relay` that outlives this platform), served to
    /// the app in GET /api/relay beside this one's. Each must end in /p2p/PEER_ID. Repeat the
    /// flag, or separate them with commas in the environment variable.
    #[arg(long = "other-relay", env = "PLATFORM_OTHER_RELAYS", value_delimiter = ',', value_parser = relay_address)]
    pub other_relays: Vec<Multiaddr>,
}

impl Config {
    /// Where the platform's relay listens.
    pub fn relay_listen(&self) -> relay::Listen {
        relay::Listen { websocket: self.relay_ws_listen, webrtc_direct: self.relay_webrtc_listen }
    }
}

/// The relay-only mode's options.
#[derive(Debug, Clone, clap::Args)]
pub struct RelayConfig {
    /// Directory for the relay's identity key (keys/relay.key) and WebRTC certificate
    /// (keys/relay-webrtc.pem); created if missing. Not a platform's data directory: two relays
    /// must not share an identity.
    #[arg(long, env = "RELAY_DATA_DIR", default_value = "relay-data")]
    pub data_dir: PathBuf,

    /// WebSocket listener, TCP address and port (port 0 picks a free port; 0.0.0.0 listens on
    /// every interface and prints each address).
    #[arg(long, env = "RELAY_WS_LISTEN", default_value = "127.0.0.1:4002")]
    pub ws_listen: SocketAddr,

    /// WebRTC-direct listener, UDP address and port (port 0 picks a free port). Browsers gather
    /// no ICE candidate on loopback: listen on a real interface for browsers to use it.
    #[arg(long, env = "RELAY_WEBRTC_LISTEN", default_value = "127.0.0.1:4002")]
    pub webrtc_listen: SocketAddr,
}

impl RelayConfig {
    /// Where the relay listens.
    pub fn listen(&self) -> relay::Listen {
        relay::Listen { websocket: self.ws_listen, webrtc_direct: self.webrtc_listen }
    }
}

fn operator_token(text: &str) -> Result<String, String> {
    if text.chars().count() < 16 {
        return Err("the operator token must be at least 16 characters".into());
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the operator token must not contain spaces or control characters".into());
    }
    Ok(text.to_owned())
}

fn relay_address(text: &str) -> Result<Multiaddr, String> {
    let address: Multiaddr = text.trim().parse().map_err(|error| format!("not a multiaddr ({error})"))?;
    match address.iter().last() {
        Some(Protocol::P2p(_)) => Ok(address),
        _ => Err("a relay address must end in /p2p/PEER_ID".into()),
    }
}

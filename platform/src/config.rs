//! Command-line flags and environment variables: the platform (no subcommand), the relay-only
//! mode (`platform relay`), the offline root's commands (`platform root`) and `platform
//! public-keys`.

use std::{net::SocketAddr, path::PathBuf};

use browser_webrtc::ice::{self, IceServer, IceServerError};
use crypto::{keys::PublicKey, trust::BrandScope, voucher::BrandId};
use libp2p::{Multiaddr, multiaddr::Protocol};

use crate::{keys, relay, trust::TrustSource};

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

    /// The root key, on an offline machine: generate it, sign trust lists.
    ///
    /// The root key signs the trust list: the issuer keys that sign vouchers and the platform keys
    /// that sign revocation lists and expiry extensions. It should never be on a machine that is
    /// online. Steps: `platform root generate` on the offline machine (note the public key it
    /// prints); `platform public-keys` on the server; `platform root sign-trust-list` on the
    /// offline machine with those keys; copy the list to the server and start the platform with
    /// --root-public-key and --trust-list.
    #[command(subcommand)]
    Root(RootCommand),

    /// Print this platform's issuer and platform public keys, generating missing key files.
    ///
    /// Prints two lines, `issuer KEY` and `platform KEY` (base64url), for the root key's holder to
    /// sign into a trust list (`platform root sign-trust-list`).
    PublicKeys(PublicKeysConfig),
}

/// The offline root's commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum RootCommand {
    /// Generate a root key into a new file (mode 0600; an existing file is never replaced) and
    /// print its public key (base64url), which the platform gets as --root-public-key.
    Generate {
        /// The new key file.
        #[arg(long = "root-key")]
        root_key: PathBuf,
    },
    /// Sign a trust list naming the given issuer and platform keys, all valid from --valid-from
    /// to --valid-to, and write it to a new file; print what it lists.
    SignTrustList(SignTrustList),
}

/// What `platform root sign-trust-list` signs.
#[derive(Debug, Clone, clap::Args)]
pub struct SignTrustList {
    /// The root key file (from `platform root generate`).
    #[arg(long = "root-key")]
    pub root_key: PathBuf,

    /// An issuer key (base64url, as `platform public-keys` prints it) that may sign vouchers,
    /// optionally followed by `:` and the brand ids it may issue for, comma-separated (e.g.
    /// `KEY:1,2`); every brand without. Repeat for several keys.
    #[arg(long = "issuer", required = true, allow_hyphen_values = true, value_parser = issuer_entry)]
    pub issuers: Vec<IssuerEntry>,

    /// A platform key (base64url) that may sign revocation lists and expiry extensions. Repeat for
    /// several keys.
    #[arg(long = "platform", required = true, allow_hyphen_values = true, value_parser = public_key)]
    pub platform: Vec<PublicKey>,

    /// Start of every listed key's validity, RFC 3339 (e.g. 2026-01-01T00:00:00Z). Default: now.
    #[arg(long, value_parser = rfc3339_time)]
    pub valid_from: Option<u64>,

    /// End of every listed key's validity, RFC 3339. Merchants refuse a voucher that expires after
    /// its issuer key's window, and the platform refuses to issue one: make it reach past the
    /// longest product validity (stored-value cards: 5 years). The platform refuses to start
    /// after it.
    #[arg(long, value_parser = rfc3339_time)]
    pub valid_to: u64,

    /// Where to write the signed list (binary); a new file, never replacing one.
    #[arg(long)]
    pub out: PathBuf,
}

/// An issuer key and the brands it may issue for.
#[derive(Debug, Clone)]
pub struct IssuerEntry {
    /// The key.
    pub key: PublicKey,
    /// Its brands.
    pub brands: BrandScope,
}

/// `platform public-keys`'s options: where the key files are.
#[derive(Debug, Clone, clap::Args)]
pub struct PublicKeysConfig {
    /// The platform's data directory.
    #[arg(long, env = "PLATFORM_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Where the signing keys are.
    #[command(flatten)]
    pub keys: KeyFiles,
}

impl PublicKeysConfig {
    /// Where each key lives.
    pub fn key_paths(&self) -> keys::KeyPaths {
        self.keys.paths()
    }
}

/// The files of the keys the platform signs with.
#[derive(Debug, Clone, clap::Args)]
pub struct KeyFiles {
    /// File with the issuer key's 32-byte seed (signs vouchers); generated if missing.
    /// Default: DATA_DIR/keys/issuer.key.
    #[arg(long, env = "PLATFORM_ISSUER_KEY")]
    pub issuer_key: Option<PathBuf>,

    /// File with the platform key's 32-byte seed (signs revocation lists and expiry
    /// extensions); generated if missing. Default: DATA_DIR/keys/platform.key.
    #[arg(long, env = "PLATFORM_PLATFORM_KEY")]
    pub platform_key: Option<PathBuf>,
}

impl KeyFiles {
    fn paths(&self) -> keys::KeyPaths {
        keys::KeyPaths { issuer: self.issuer_key.clone(), platform: self.platform_key.clone() }
    }
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

    /// The root's public key (base64url, from `platform root generate`). With --trust-list: the
    /// root key stays offline and the platform publishes that list, refusing to start unless it
    /// verifies under this key and lists this platform's issuer and platform keys as valid now.
    #[arg(long, env = "PLATFORM_ROOT_PUBLIC_KEY", requires = "trust_list", allow_hyphen_values = true, value_parser = public_key)]
    pub root_public_key: Option<PublicKey>,

    /// File with the trust list signed offline (`platform root sign-trust-list`); needs
    /// --root-public-key.
    #[arg(long, env = "PLATFORM_TRUST_LIST", requires = "root_public_key")]
    pub trust_list: Option<PathBuf>,

    /// Development only, without --root-public-key and --trust-list: file with a root key's
    /// 32-byte seed, generated if missing, with which the platform signs its own trust list at
    /// start. Default: DATA_DIR/keys/root.key.
    #[arg(long, env = "PLATFORM_ROOT_KEY", conflicts_with_all = ["root_public_key", "trust_list"])]
    pub root_key: Option<PathBuf>,

    /// Where the signing keys are.
    #[command(flatten)]
    pub keys: KeyFiles,

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

    /// A STUN or TURN server for the app's WebRTC links, served by GET /api/relay:
    /// `stun:HOST[:PORT]`, `turn:HOST[:PORT][?transport=udp|tcp]`, or `stuns:`/`turns:` over TLS.
    /// Repeat the flag, or separate them with commas in the environment variable; at most 8.
    /// Default: none, which is all a local network needs; links across NATs need STUN.
    #[arg(long = "ice-server", env = "PLATFORM_ICE_SERVERS", value_delimiter = ',', value_parser = ice_server_url)]
    pub ice_servers: Vec<String>,

    /// Username for every turn:/turns: server of --ice-server (which refuses a TURN server
    /// without one). Served to every app that asks, like the credential.
    #[arg(long, env = "PLATFORM_TURN_USERNAME", requires = "turn_credential")]
    pub turn_username: Option<String>,

    /// Credential for every turn:/turns: server of --ice-server. Every app that asks receives it:
    /// give one meant to be public (limited to relaying for this app).
    #[arg(long, env = "PLATFORM_TURN_CREDENTIAL", hide_env_values = true, requires = "turn_username")]
    pub turn_credential: Option<String>,
}

impl Config {
    /// Where the trust list comes from: signed offline when both --root-public-key and
    /// --trust-list are given, else development.
    pub fn trust_source(&self) -> TrustSource {
        match (&self.root_public_key, &self.trust_list) {
            (Some(root), Some(list)) => TrustSource::Offline { root: *root, list: list.clone() },
            _ => TrustSource::Development {
                root_key: self.root_key.clone().unwrap_or_else(|| keys::default_path(&self.data_dir, "root")),
            },
        }
    }

    /// Where each signing key lives.
    pub fn key_paths(&self) -> keys::KeyPaths {
        self.keys.paths()
    }

    /// The ICE servers of --ice-server, each TURN one with --turn-username and --turn-credential.
    pub fn ice_servers(&self) -> Result<Vec<IceServer>, IceServerError> {
        let (username, credential) = (self.turn_username.as_deref(), self.turn_credential.as_deref());
        let servers = self.ice_servers.iter().map(|url| IceServer::with_shared_credentials(url, username, credential));
        let servers = servers.collect::<Result<Vec<_>, _>>()?;
        ice::check_count(&servers)?;
        Ok(servers)
    }

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

fn public_key(text: &str) -> Result<PublicKey, String> {
    crate::wire::public_key("public key", text.trim()).map_err(|error| error.to_string())
}

fn issuer_entry(text: &str) -> Result<IssuerEntry, String> {
    let (key, brands) = match text.split_once(':') {
        None => (text, BrandScope::Any),
        Some((key, brands)) => {
            let mut ids = brands
                .split(',')
                .map(|id| id.trim().parse::<u32>().map(BrandId).map_err(|_| format!("brand {id:?} is not a brand id")))
                .collect::<Result<Vec<_>, _>>()?;
            ids.sort_unstable();
            ids.dedup();
            (key, BrandScope::Only(ids))
        }
    };
    Ok(IssuerEntry { key: public_key(key)?, brands })
}

fn rfc3339_time(text: &str) -> Result<u64, String> {
    let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|error| format!("not an RFC 3339 time such as 2026-01-01T00:00:00Z ({error})"))?;
    u64::try_from(at.unix_timestamp()).map_err(|_| "before 1970".to_owned())
}

/// The URL's own checks; the TURN credentials are checked with the whole list
/// ([`Config::ice_servers`]).
fn ice_server_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    ice::check_url(text).map(|_| text.to_owned()).map_err(|error| error.to_string())
}

fn relay_address(text: &str) -> Result<Multiaddr, String> {
    let address: Multiaddr = text.trim().parse().map_err(|error| format!("not a multiaddr ({error})"))?;
    match address.iter().last() {
        Some(Protocol::P2p(_)) => Ok(address),
        _ => Err("a relay address must end in /p2p/PEER_ID".into()),
    }
}

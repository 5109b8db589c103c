//! Command-line flags and environment variables.

use std::{net::SocketAddr, path::PathBuf};

/// The central platform: serves the PWA and the HTTP API, keeps its state in SQLite.
///
/// On start it prints one line `platform listening on http://ADDR` once the socket is bound.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "platform", version, about, long_about = None)]
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

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
}

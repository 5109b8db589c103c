//! Why the relay could not start.

use std::{io, path::PathBuf};

use libp2p::Multiaddr;

/// Why the relay could not start. Every variant about a file names it; a file that exists is
/// never replaced, whatever is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// A file or directory could not be read or written.
    #[error("relay file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
    /// The identity key file is not a libp2p Ed25519 private key whose halves agree.
    #[error("relay identity key {path}: {reason} (restore it from a backup, or delete it to give the relay a new PeerId)")]
    IdentityKey {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The WebRTC certificate file is malformed, does not match its key, or has expired.
    #[error("relay WebRTC certificate {path}: {reason} (restore it from a backup, or delete it to get a new /certhash)")]
    Certificate {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The relay-only mode was pointed at a platform's data directory.
    #[error(
        "{path} is a platform's data directory (it holds platform.sqlite3): an independent relay \
         needs its own, or both would run under one PeerId"
    )]
    PlatformDataDir {
        /// The directory.
        path: PathBuf,
    },
    /// A transport could not be set up.
    #[error("relay transport: {0}")]
    Transport(String),
    /// A listener could not be opened.
    #[error("relay cannot listen on {address}: {reason}")]
    Listen {
        /// The listen address asked for.
        address: Multiaddr,
        /// Why not.
        reason: String,
    },
}

//! The relay's libp2p identity: an Ed25519 key, so its PeerId survives restarts.
//!
//! Stored in libp2p's private-key encoding (protobuf `PrivateKey`, type Ed25519, 64 bytes of
//! data: the seed, then the public key). On load the public half must be the seed's own, so a
//! damaged file is refused rather than turned silently into another PeerId.

use std::path::Path;

use libp2p::identity::Keypair;

use super::RelayError;
use crate::files;

/// Loads the identity from `path`, or generates and stores one (mode 0600) if there is none.
pub(super) fn load_or_generate(path: &Path) -> Result<Keypair, RelayError> {
    let io_error = |source| RelayError::Io { path: path.to_owned(), source };
    if let Some(bytes) = files::read_if_present(path).map_err(io_error)? {
        return decode(&bytes).map_err(|reason| RelayError::IdentityKey { path: path.to_owned(), reason });
    }
    let keypair = Keypair::generate_ed25519();
    let bytes = keypair.to_protobuf_encoding().map_err(|error| RelayError::IdentityKey {
        path: path.to_owned(),
        reason: format!("cannot encode a new key: {error}"),
    })?;
    files::write_private(path, &bytes).map_err(io_error)?;
    tracing::info!(path = %path.display(), peer_id = %keypair.public().to_peer_id(), "generated the relay's identity key");
    Ok(keypair)
}

fn decode(bytes: &[u8]) -> Result<Keypair, String> {
    let keypair = Keypair::from_protobuf_encoding(bytes).map_err(|error| match std::error::Error::source(&error) {
        Some(source) => format!("{error}: {source}"),
        None => error.to_string(),
    })?;
    // Only Ed25519 keys are written; the browser dials by a PeerId that embeds the public key.
    keypair.clone().try_into_ed25519().map_err(|_| format!("a {:?} key, expected Ed25519", keypair.key_type()))?;
    Ok(keypair)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn generated_once_then_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/relay.key");
        let first = load_or_generate(&path).unwrap();
        let again = load_or_generate(&path).unwrap();
        assert_eq!(first.public().to_peer_id(), again.public().to_peer_id());
    }

    #[test]
    fn every_damaged_byte_is_refused_and_the_file_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relay.key");
        load_or_generate(&path).unwrap();
        let good = fs::read(&path).unwrap();
        for index in 0..good.len() {
            let mut bad = good.clone();
            bad[index] ^= 0x01;
            fs::write(&path, &bad).unwrap();
            match load_or_generate(&path) {
                Err(RelayError::IdentityKey { path: named, .. }) => assert_eq!(named, path),
                other => panic!("byte {index}: {other:?}"),
            }
            assert_eq!(fs::read(&path).unwrap(), bad, "byte {index}: the file was replaced");
        }
        for bad in [&good[..good.len() - 1], &[][..], b"not a key at all"] {
            fs::write(&path, bad).unwrap();
            assert!(matches!(load_or_generate(&path), Err(RelayError::IdentityKey { .. })), "{bad:?}");
        }
    }
}

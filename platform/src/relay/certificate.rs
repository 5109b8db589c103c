//! The WebRTC-direct listener's certificate: its SHA-256 is the `/certhash` in the relay's
//! address, so it is kept in the data directory and survives restarts.
//!
//! Stored as libp2p-webrtc writes it (`Certificate::serialize_pem`): an `EXPIRES` block (8 bytes,
//! little-endian unix seconds), the `PRIVATE_KEY` (PKCS#8), then the `CERTIFICATE` (DER). Before
//! libp2p-webrtc reads the file, it is checked here: the blocks in that order, the certificate
//! well-formed, holding the private key's public key, signed by it, and unexpired. A damaged file
//! is refused rather than turned silently into another `/certhash`.

use std::{path::Path, time::SystemTime};

use libp2p_webrtc::tokio::Certificate;
use x509_parser::prelude::FromDer as _;

use super::RelayError;
use crate::files;

/// Loads the certificate from `path`, or generates and stores one (mode 0600) if there is none.
pub(super) fn load_or_generate(path: &Path) -> Result<Certificate, RelayError> {
    let refused = |reason: String| RelayError::Certificate { path: path.to_owned(), reason };
    if let Some(bytes) = files::read_if_present(path).map_err(|source| RelayError::Io { path: path.to_owned(), source })? {
        let text = String::from_utf8(bytes).map_err(|_| refused("not PEM text (invalid UTF-8)".into()))?;
        return decode(&text, SystemTime::now()).map_err(refused);
    }
    // The RNG is ignored by libp2p-webrtc 0.10 (rcgen draws its own), but the API wants one.
    let certificate = Certificate::generate(&mut rand::rng()).map_err(|error| refused(format!("cannot generate: {error}")))?;
    let text = certificate.serialize_pem();
    // What is stored must load: check it now rather than at the next start.
    decode(&text, SystemTime::now()).map_err(|reason| refused(format!("a new certificate fails its own checks: {reason}")))?;
    files::write_private(path, text.as_bytes()).map_err(|source| RelayError::Io { path: path.to_owned(), source })?;
    tracing::info!(path = %path.display(), "generated the relay's WebRTC certificate");
    Ok(certificate)
}

/// Checks the stored form and hands it to libp2p-webrtc.
fn decode(text: &str, now: SystemTime) -> Result<Certificate, String> {
    // libp2p-webrtc takes the text up to the first blank line as the EXPIRES block and slices 8
    // bytes out of it without checking: check exactly that part first.
    let first = text.split("\n\n").next().unwrap_or_default();
    let expires = pem::parse(first).map_err(|error| format!("first block: {error}"))?;
    if expires.tag() != "EXPIRES" {
        return Err(format!("first block is {}, expected EXPIRES", expires.tag()));
    }
    let expires: [u8; 8] = expires
        .contents()
        .try_into()
        .map_err(|_| format!("EXPIRES holds {} bytes, expected 8", expires.contents().len()))?;
    let expires_at = u64::from_le_bytes(expires);
    let now_secs = now.duration_since(SystemTime::UNIX_EPOCH).map(|since| since.as_secs()).unwrap_or_default();
    if expires_at <= now_secs {
        return Err(format!("expired at unix time {expires_at}"));
    }

    let blocks = pem::parse_many(text).map_err(|error| error.to_string())?;
    let tags: Vec<&str> = blocks.iter().map(pem::Pem::tag).collect();
    let [_, key, certificate] = blocks.as_slice() else {
        return Err(format!("blocks {tags:?}, expected [EXPIRES, PRIVATE_KEY, CERTIFICATE]"));
    };
    if (key.tag(), certificate.tag()) != ("PRIVATE_KEY", "CERTIFICATE") {
        return Err(format!("blocks {tags:?}, expected [EXPIRES, PRIVATE_KEY, CERTIFICATE]"));
    }
    let key = rcgen::KeyPair::try_from(key.contents()).map_err(|error| format!("private key: {error}"))?;
    let (rest, parsed) = x509_parser::certificate::X509Certificate::from_der(certificate.contents())
        .map_err(|error| format!("certificate: {error}"))?;
    if !rest.is_empty() {
        return Err(format!("certificate: {} bytes after its end", rest.len()));
    }
    if parsed.public_key().raw != key.public_key_der().as_slice() {
        return Err("the certificate is not for the private key beside it".into());
    }
    parsed.verify_signature(None).map_err(|error| format!("certificate signature: {error}"))?;
    if !parsed.validity().is_valid() {
        return Err(format!(
            "certificate valid from {} to {} only",
            parsed.validity().not_before,
            parsed.validity().not_after
        ));
    }

    Certificate::from_pem(text).map_err(|error| match std::error::Error::source(&error) {
        Some(source) => format!("{error}: {source}"),
        None => error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn stored() -> (tempfile::TempDir, std::path::PathBuf, Certificate) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/relay-webrtc.pem");
        let certificate = load_or_generate(&path).unwrap();
        (dir, path, certificate)
    }

    #[test]
    fn generated_once_then_reloaded_with_the_same_fingerprint() {
        let (_dir, path, first) = stored();
        let again = load_or_generate(&path).unwrap();
        assert_eq!(first.fingerprint(), again.fingerprint());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn damaged_files_are_refused_and_kept() {
        let (_dir, path, _) = stored();
        let good = fs::read_to_string(&path).unwrap();
        let blocks = pem::parse_many(&good).unwrap();
        let short_expiry = good.replacen(
            &pem::encode(&blocks[0]),
            &pem::encode(&pem::Pem::new("EXPIRES", vec![1u8, 2, 3])),
            1,
        );
        // Another certificate's key with this certificate: well-formed, but not a pair.
        let other = Certificate::generate(&mut rand::rng()).unwrap().serialize_pem();
        let other_key = pem::encode(&pem::parse_many(&other).unwrap()[1]);
        let mismatched = good.replacen(&pem::encode(&blocks[1]), &other_key, 1);
        let mut flipped_certificate = blocks[2].contents().to_vec();
        let middle = flipped_certificate.len() / 2;
        flipped_certificate[middle] ^= 0x01;
        let tampered = good.replacen(
            &pem::encode(&blocks[2]),
            &pem::encode(&pem::Pem::new("CERTIFICATE", flipped_certificate)),
            1,
        );
        let expired = good.replacen(
            &pem::encode(&blocks[0]),
            &pem::encode(&pem::Pem::new("EXPIRES", 1_000u64.to_le_bytes().to_vec())),
            1,
        );
        let cases: [(&str, Vec<u8>); 8] = [
            ("empty", Vec::new()),
            ("binary", vec![0xff, 0xfe, 0x00]),
            ("truncated", good.as_bytes()[..good.len() / 2].to_vec()),
            ("EXPIRES of 3 bytes", short_expiry.into_bytes()),
            ("another key", mismatched.into_bytes()),
            ("a flipped certificate bit", tampered.into_bytes()),
            ("expired", expired.into_bytes()),
            ("no certificate", pem::encode_many(&blocks[..2]).into_bytes()),
        ];
        for (name, bytes) in cases {
            fs::write(&path, &bytes).unwrap();
            match load_or_generate(&path) {
                Err(RelayError::Certificate { path: named, reason }) => {
                    assert_eq!(named, path, "{name}");
                    assert!(!reason.is_empty(), "{name}");
                }
                Err(other) => panic!("{name}: {other}"),
                Ok(_) => panic!("{name}: accepted"),
            }
            assert_eq!(fs::read(&path).unwrap(), bytes, "{name}: the file was replaced");
        }
    }
}

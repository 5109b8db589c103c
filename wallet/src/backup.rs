//! The device key's backup: the only way the key leaves the device, encrypted under a
//! passphrase, as text the user can copy, save or print; and its import on a new device.
//! Sans-IO: the caller passes the random source.
//!
//! # Format, version 1
//! Text: `OMKEY:` then the bytes below in unpadded URL-safe Base64 (RFC 4648 §5), 114
//! characters in all. Whitespace anywhere is ignored on import (a wrapped line, a trailing
//! newline); text longer than [`MAX_BACKUP_TEXT_LEN`] is refused before anything else.
//!
//! | bytes | field |
//! |---|---|
//! | 1 | version, `1` |
//! | 16 | salt, random |
//! | 12 | nonce, random |
//! | 48 | the 32-byte key seed encrypted with ChaCha20-Poly1305 (RFC 8439), then its 16-byte tag |
//! | 4 | checksum: the first 4 bytes of SHA-256 of everything before it |
//!
//! The encryption key is Argon2id (RFC 9106, version 0x13) of the passphrase's UTF-8 bytes and
//! the salt, with 19 MiB of memory, 2 passes, 1 lane, 32 bytes out: the OWASP minimum for
//! Argon2id, small enough for a phone's browser (wasm, one thread), where a derivation takes
//! seconds rather than minutes. The associated data is the
//! version, salt and nonce, so none of them can be changed unnoticed. Each backup has its own
//! salt, hence its own key; the random nonce guards against a poor random source as well.
//!
//! The checksum tells a damaged copy ([`BackupError::Corrupted`]) from a wrong passphrase
//! ([`BackupError::WrongPassphrase`]) before the slow key derivation runs. It is no
//! protection: a backup altered on purpose with its checksum recomputed fails authentication,
//! and is reported as a wrong passphrase.

use argon2::{Algorithm, Argon2, Params, Version};
use base64ct::{Base64UrlUnpadded, Encoding};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use crypto::keys::DeviceKey;
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// What every backup's text starts with.
pub const BACKUP_PREFIX: &str = "OMKEY:";
/// The longest text [`import_backup`] reads (a backup is 114 characters; the rest is room for
/// whitespace a mail or chat program added).
pub const MAX_BACKUP_TEXT_LEN: usize = 1024;
/// The shortest passphrase [`export_backup`] accepts, in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 8;
/// The longest passphrase either side accepts, in UTF-8 bytes.
pub const MAX_PASSPHRASE_LEN: usize = 1024;

const VERSION: u8 = 1;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const SEED_LEN: usize = 32;
const TAG_LEN: usize = 16;
const CHECKSUM_LEN: usize = 4;
const HEADER_LEN: usize = 1 + SALT_LEN + NONCE_LEN;
const SEALED_LEN: usize = HEADER_LEN + SEED_LEN + TAG_LEN;
const BACKUP_LEN: usize = SEALED_LEN + CHECKSUM_LEN;
/// Argon2id cost of version 1: memory in KiB, passes, lanes.
const KDF_MEMORY_KIB: u32 = 19 * 1024;
const KDF_PASSES: u32 = 2;
const KDF_LANES: u32 = 1;

/// Why a backup could not be made or read. Nothing is replaced on any of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackupError {
    /// The text does not start with [`BACKUP_PREFIX`].
    #[error("this is not a device key backup")]
    NotABackup,
    /// The text is longer than [`MAX_BACKUP_TEXT_LEN`].
    #[error("the backup text is too long")]
    TooLong,
    /// Not Base64, the wrong length, or the checksum does not match: the copy is damaged.
    #[error("the backup text is damaged; copy it again, whole")]
    Corrupted,
    /// A format version this app does not read.
    #[error("backup format version {0} is not supported by this app")]
    UnknownVersion(u8),
    /// The passphrase does not open the backup (or the backup was altered on purpose).
    #[error("the passphrase is wrong")]
    WrongPassphrase,
    /// A new backup's passphrase is shorter than [`MIN_PASSPHRASE_CHARS`].
    #[error("the passphrase needs at least {MIN_PASSPHRASE_CHARS} characters")]
    PassphraseTooShort,
    /// The passphrase is longer than [`MAX_PASSPHRASE_LEN`].
    #[error("the passphrase is too long")]
    PassphraseTooLong,
}

/// The backup text of `key` under `passphrase`, with salt and nonce from `rng`.
pub fn export_backup(
    key: &DeviceKey,
    passphrase: &str,
    rng: &mut impl CryptoRngCore,
) -> Result<String, BackupError> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(BackupError::PassphraseTooShort);
    }
    let mut salt = [0; SALT_LEN];
    let mut nonce = [0; NONCE_LEN];
    rng.fill_bytes(&mut salt);
    rng.fill_bytes(&mut nonce);
    seal(key, passphrase, salt, nonce)
}

/// The key in backup `text`, opened with `passphrase`.
pub fn import_backup(text: &str, passphrase: &str) -> Result<DeviceKey, BackupError> {
    if text.len() > MAX_BACKUP_TEXT_LEN {
        return Err(BackupError::TooLong);
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let encoded = compact
        .strip_prefix(BACKUP_PREFIX)
        .ok_or(BackupError::NotABackup)?;
    let bytes = Base64UrlUnpadded::decode_vec(encoded).map_err(|_| BackupError::Corrupted)?;
    let (&version, _) = bytes.split_first().ok_or(BackupError::Corrupted)?;
    if version != VERSION {
        return Err(BackupError::UnknownVersion(version));
    }
    if bytes.len() != BACKUP_LEN {
        return Err(BackupError::Corrupted);
    }
    let (sealed, checksum) = bytes.split_at(SEALED_LEN);
    if checksum != checksum_of(sealed) {
        return Err(BackupError::Corrupted);
    }
    let (header, ciphertext) = sealed.split_at(HEADER_LEN);
    let salt = &header[1..1 + SALT_LEN];
    let nonce = Nonce::from_slice(&header[1 + SALT_LEN..]);
    let cipher = ChaCha20Poly1305::new(&*derive_key(passphrase, salt)?);
    let seed = Zeroizing::new(
        cipher
            .decrypt(nonce, Payload { msg: ciphertext, aad: header })
            .map_err(|_| BackupError::WrongPassphrase)?,
    );
    let seed: &[u8; SEED_LEN] = seed
        .as_slice()
        .try_into()
        .map_err(|_| BackupError::Corrupted)?;
    Ok(DeviceKey::from_seed(seed))
}

/// The backup text for this salt and nonce: deterministic, so a known-answer test can pin it.
fn seal(
    key: &DeviceKey,
    passphrase: &str,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
) -> Result<String, BackupError> {
    let mut bytes = Vec::with_capacity(BACKUP_LEN);
    bytes.push(VERSION);
    bytes.extend_from_slice(&salt);
    bytes.extend_from_slice(&nonce);
    let cipher = ChaCha20Poly1305::new(&*derive_key(passphrase, &salt)?);
    let seed = Zeroizing::new(key.to_seed());
    let ciphertext = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: seed.as_slice(), aad: &bytes })
        .map_err(|_| BackupError::PassphraseTooLong)?;
    bytes.extend_from_slice(&ciphertext);
    let checksum = checksum_of(&bytes);
    bytes.extend_from_slice(&checksum);
    Ok(format!("{BACKUP_PREFIX}{}", Base64UrlUnpadded::encode_string(&bytes)))
}

/// Argon2id of version 1. With these fixed costs and a 16-byte salt, the only input Argon2
/// refuses is a passphrase beyond its length limit, which is far above ours.
fn derive_key(passphrase: &str, salt: &[u8]) -> Result<Zeroizing<Key>, BackupError> {
    if passphrase.len() > MAX_PASSPHRASE_LEN {
        return Err(BackupError::PassphraseTooLong);
    }
    let params = Params::new(KDF_MEMORY_KIB, KDF_PASSES, KDF_LANES, Some(SEED_LEN))
        .map_err(|_| BackupError::PassphraseTooLong)?;
    let mut key = Zeroizing::new(Key::default());
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut_slice())
        .map_err(|_| BackupError::PassphraseTooLong)?;
    Ok(key)
}

fn checksum_of(bytes: &[u8]) -> [u8; CHECKSUM_LEN] {
    let digest = Sha256::digest(bytes);
    let mut checksum = [0; CHECKSUM_LEN];
    checksum.copy_from_slice(&digest[..CHECKSUM_LEN]);
    checksum
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crypto::testing::TestRng;

    const PASSPHRASE: &str = "correct horse battery staple";

    fn seed() -> [u8; 32] {
        core::array::from_fn(|i| i as u8)
    }

    /// Fixed seed 00 01 … 1f, passphrase above, salt 16 × 0x11, nonce 12 × 0x22. The expected
    /// text was computed independently (Python: argon2-cffi `hash_secret_raw` type ID and
    /// `cryptography`'s ChaCha20Poly1305, hashlib SHA-256), not by this code.
    #[test]
    fn known_answer() {
        let key = DeviceKey::from_seed(&seed());
        let text = seal(&key, PASSPHRASE, [0x11; 16], [0x22; 12]).unwrap();
        assert_eq!(text, KNOWN_TEXT);
        assert_eq!(text.len(), BACKUP_PREFIX.len() + 108);
        assert_eq!(import_backup(KNOWN_TEXT, PASSPHRASE).unwrap().to_seed(), seed());
    }

    const KNOWN_TEXT: &str = "OMKEY:AREREREREREREREREREREREiIiIiIiIiIiIiIiI9ilQN8RfwZcrXgNZYm-se2ENM1V26PZtIC_mzgb3bkSXLcHe9s6w6rusSKSiW5CDAWn5N";

    #[test]
    fn round_trip_with_random_salt_and_whitespace() {
        let key = DeviceKey::from_seed(&[9; 32]);
        let mut rng = TestRng::new(3);
        let text = export_backup(&key, "비밀번호 여덟 글자", &mut rng).unwrap();
        let other = export_backup(&key, "비밀번호 여덟 글자", &mut rng).unwrap();
        assert_ne!(text, other);
        let (head, tail) = text.split_at(50);
        let wrapped = format!("  {head}\n{tail}\r\n");
        let opened = import_backup(&wrapped, "비밀번호 여덟 글자").unwrap();
        assert_eq!(opened.to_seed(), key.to_seed());
    }

    #[test]
    fn wrong_passphrase_is_named() {
        assert_eq!(
            import_backup(KNOWN_TEXT, "correct horse battery stapler").map(|k| k.to_seed()),
            Err(BackupError::WrongPassphrase)
        );
    }

    /// Every single-bit change anywhere in the bytes is refused, and never opens to a key.
    #[test]
    fn every_flipped_bit_is_refused() {
        let encoded = KNOWN_TEXT.strip_prefix(BACKUP_PREFIX).unwrap();
        let bytes = Base64UrlUnpadded::decode_vec(encoded).unwrap();
        for bit in 0..bytes.len() * 8 {
            let mut damaged = bytes.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            let text = format!("{BACKUP_PREFIX}{}", Base64UrlUnpadded::encode_string(&damaged));
            let expected = if bit < 8 {
                BackupError::UnknownVersion(damaged[0])
            } else {
                BackupError::Corrupted
            };
            assert_eq!(import_backup(&text, PASSPHRASE).map(|k| k.to_seed()), Err(expected), "bit {bit}");
        }
    }

    /// Tampering with the checksum recomputed: authentication still fails.
    #[test]
    fn altered_backup_with_fixed_checksum_is_refused() {
        let encoded = KNOWN_TEXT.strip_prefix(BACKUP_PREFIX).unwrap();
        let mut bytes = Base64UrlUnpadded::decode_vec(encoded).unwrap();
        for at in [1, HEADER_LEN - 1, HEADER_LEN, SEALED_LEN - 1] {
            let mut altered = bytes[..SEALED_LEN].to_vec();
            altered[at] ^= 0x80;
            altered.extend_from_slice(&checksum_of(&altered));
            let text = format!("{BACKUP_PREFIX}{}", Base64UrlUnpadded::encode_string(&altered));
            assert_eq!(
                import_backup(&text, PASSPHRASE).map(|k| k.to_seed()),
                Err(BackupError::WrongPassphrase),
                "byte {at}"
            );
        }
        bytes.truncate(SEALED_LEN - 1);
        let text = format!("{BACKUP_PREFIX}{}", Base64UrlUnpadded::encode_string(&bytes));
        assert_eq!(import_backup(&text, PASSPHRASE).map(|k| k.to_seed()), Err(BackupError::Corrupted));
    }

    #[test]
    fn malformed_texts_are_typed_errors() {
        let cases = [
            ("", BackupError::NotABackup),
            ("GV1:ABC", BackupError::NotABackup),
            ("OMKEY:", BackupError::Corrupted),
            ("OMKEY:not*base64", BackupError::Corrupted),
            ("OMKEY:Ag", BackupError::UnknownVersion(2)),
            ("OMKEY:AQ", BackupError::Corrupted),
        ];
        for (text, expected) in cases {
            assert_eq!(import_backup(text, PASSPHRASE).map(|k| k.to_seed()), Err(expected), "{text:?}");
        }
        let long = format!("{KNOWN_TEXT}{}", " ".repeat(MAX_BACKUP_TEXT_LEN));
        assert_eq!(import_backup(&long, PASSPHRASE).map(|k| k.to_seed()), Err(BackupError::TooLong));
    }

    #[test]
    fn passphrase_bounds() {
        let key = DeviceKey::from_seed(&seed());
        let mut rng = TestRng::new(1);
        let short = export_backup(&key, "seven c", &mut rng).map(|_| ());
        assert_eq!(short, Err(BackupError::PassphraseTooShort));
        let long = "x".repeat(MAX_PASSPHRASE_LEN + 1);
        assert_eq!(export_backup(&key, &long, &mut rng).map(|_| ()), Err(BackupError::PassphraseTooLong));
        assert_eq!(import_backup(KNOWN_TEXT, &long).map(|k| k.to_seed()), Err(BackupError::PassphraseTooLong));
    }
}

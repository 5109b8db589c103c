//! The platform's signing keys: the issuer key (signs vouchers) and the platform key (signs
//! revocation lists and expiry extensions), each a 32-byte Ed25519 seed in a file, given by
//! configuration or generated on first start into the data directory with mode 0600.
//!
//! The root key, which signs the trust list, is not among them: in production it stays offline
//! (`platform root`, [`crate::trust`]).

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use crypto::keys::{DeviceKey, SECRET_KEY_LENGTH};
use rand_core::OsRng;

use crate::files;

/// Why a key file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file could not be read or written.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
    /// The file is not a 32-byte seed.
    #[error("key file {path}: {len} bytes, expected {SECRET_KEY_LENGTH}")]
    WrongLength {
        /// The file.
        path: PathBuf,
        /// Its length.
        len: usize,
    },
    /// A new key was asked for where a key file already exists.
    #[error("key file {path} already exists; refusing to replace a key")]
    Exists {
        /// The file.
        path: PathBuf,
    },
}

/// The two keys the running platform signs with.
#[derive(Debug)]
pub struct PlatformKeys {
    /// Signs vouchers.
    pub issuer: DeviceKey,
    /// Signs revocation lists and expiry extensions.
    pub platform: DeviceKey,
}

/// Where each key lives; `None` means `<data dir>/keys/<role>.key`.
#[derive(Debug, Clone, Default)]
pub struct KeyPaths {
    /// Issuer key file.
    pub issuer: Option<PathBuf>,
    /// Platform key file.
    pub platform: Option<PathBuf>,
}

/// `<data dir>/keys/<role>.key`, where a key lives unless configured elsewhere.
pub fn default_path(data_dir: &Path, role: &str) -> PathBuf {
    data_dir.join("keys").join(format!("{role}.key"))
}

impl PlatformKeys {
    /// Loads each key from its file, generating missing ones (mode 0600).
    pub fn load_or_generate(data_dir: &Path, paths: &KeyPaths) -> Result<Self, KeyFileError> {
        let path = |given: &Option<PathBuf>, role: &str| given.clone().unwrap_or_else(|| default_path(data_dir, role));
        Ok(Self {
            issuer: load_or_generate(&path(&paths.issuer, "issuer"))?,
            platform: load_or_generate(&path(&paths.platform, "platform"))?,
        })
    }
}

/// Loads the key in `path`, or generates one there (mode 0600) if the file does not exist.
pub fn load_or_generate(path: &Path) -> Result<DeviceKey, KeyFileError> {
    match files::read_if_present(path).map_err(|source| KeyFileError::Io { path: path.to_owned(), source })? {
        Some(bytes) => from_seed_file(path, &bytes),
        None => generate(path),
    }
}

/// Loads the key in `path`, which must exist.
pub fn load_existing(path: &Path) -> Result<DeviceKey, KeyFileError> {
    let bytes = fs::read(path).map_err(|source| KeyFileError::Io { path: path.to_owned(), source })?;
    from_seed_file(path, &bytes)
}

fn from_seed_file(path: &Path, bytes: &[u8]) -> Result<DeviceKey, KeyFileError> {
    let seed: [u8; SECRET_KEY_LENGTH] =
        bytes.try_into().map_err(|_| KeyFileError::WrongLength { path: path.to_owned(), len: bytes.len() })?;
    Ok(DeviceKey::from_seed(&seed))
}

/// Generates a key into the new file `path` (mode 0600, written atomically, parent directories
/// created); an existing file is never replaced.
pub fn generate(path: &Path) -> Result<DeviceKey, KeyFileError> {
    let key = DeviceKey::generate(&mut OsRng);
    files::write_private(path, &key.to_seed()).map_err(|source| match source.kind() {
        io::ErrorKind::AlreadyExists => KeyFileError::Exists { path: path.to_owned() },
        _ => KeyFileError::Io { path: path.to_owned(), source },
    })?;
    tracing::info!(path = %path.display(), "generated a new key");
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_generated_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let first = PlatformKeys::load_or_generate(dir.path(), &KeyPaths::default()).unwrap();
        let again = PlatformKeys::load_or_generate(dir.path(), &KeyPaths::default()).unwrap();
        assert_eq!(first.issuer.public(), again.issuer.public());
        assert_ne!(first.platform.public(), first.issuer.public());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(dir.path().join("keys/issuer.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_key_file_of_the_wrong_length_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("issuer.key");
        fs::write(&path, [1u8; 31]).unwrap();
        let paths = KeyPaths { issuer: Some(path), ..KeyPaths::default() };
        assert!(matches!(
            PlatformKeys::load_or_generate(dir.path(), &paths),
            Err(KeyFileError::WrongLength { len: 31, .. })
        ));
    }

    #[test]
    fn generating_never_replaces_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        let key = generate(&path).unwrap();
        assert!(matches!(generate(&path), Err(KeyFileError::Exists { .. })));
        assert_eq!(load_or_generate(&path).unwrap().public(), key.public());
    }
}

//! The platform's keys: the root key (signs the trust list), the issuer key (signs vouchers) and
//! the platform key (signs revocation lists and expiry extensions).
//!
//! Each is a 32-byte Ed25519 seed in a file: given by configuration, or generated on first start
//! into the data directory with mode 0600. In production the root key stays offline: give the
//! platform a pre-signed trust list instead (not yet supported; see the crate's docs).

use std::{
    fs,
    io::{self, Write as _},
    path::{Path, PathBuf},
};

use crypto::{
    keys::{DeviceKey, SECRET_KEY_LENGTH},
    trust::{BrandScope, IssuerKey, PlatformKey, TrustList, VerifiedTrustList},
};
use rand_core::OsRng;
use rusqlite::{Connection, OptionalExtension as _, params};

/// How long issuer and platform keys are valid after the platform's first start.
pub const KEY_VALIDITY_SECS: u64 = 10 * 365 * 24 * 3600;

/// Why the keys could not be loaded.
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
    /// The stored trust list could not be made or read.
    #[error("trust list: {0}")]
    TrustList(String),
    /// The database failed.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// The three keys the platform signs with.
#[derive(Debug)]
pub struct PlatformKeys {
    /// Signs the trust list.
    pub root: DeviceKey,
    /// Signs vouchers.
    pub issuer: DeviceKey,
    /// Signs revocation lists and expiry extensions.
    pub platform: DeviceKey,
}

/// Where each key lives; `None` means `<data dir>/keys/<role>.key`.
#[derive(Debug, Clone, Default)]
pub struct KeyPaths {
    /// Root key file.
    pub root: Option<PathBuf>,
    /// Issuer key file.
    pub issuer: Option<PathBuf>,
    /// Platform key file.
    pub platform: Option<PathBuf>,
}

impl PlatformKeys {
    /// Loads each key from its file, generating missing ones (mode 0600).
    pub fn load_or_generate(data_dir: &Path, paths: &KeyPaths) -> Result<Self, KeyFileError> {
        let default = |role: &str| data_dir.join("keys").join(format!("{role}.key"));
        let path = |given: &Option<PathBuf>, role: &str| given.clone().unwrap_or_else(|| default(role));
        Ok(Self {
            root: load_or_generate(&path(&paths.root, "root"))?,
            issuer: load_or_generate(&path(&paths.issuer, "issuer"))?,
            platform: load_or_generate(&path(&paths.platform, "platform"))?,
        })
    }

    /// The stored trust list if it is signed by this root key and lists this issuer and platform
    /// key; otherwise a new one, stored. Key windows start at the platform's first start, so a
    /// re-signed list still covers every voucher issued before.
    pub fn trust_list(&self, connection: &mut Connection, now: u64) -> Result<VerifiedTrustList, KeyFileError> {
        let root = self.root.public();
        let stored: Option<Vec<u8>> = connection
            .query_row("SELECT bytes FROM signed_documents WHERE kind = 'trust_list'", [], |row| row.get(0))
            .optional()?;
        if let Some(bytes) = stored
            && let Ok(list) = VerifiedTrustList::from_bytes(&bytes, &root)
            && self.listed_in(&list)
        {
            return Ok(list);
        }
        let transaction = connection.transaction()?;
        let epoch: Option<String> = transaction
            .query_row("SELECT value FROM platform_meta WHERE key = 'key_epoch'", [], |row| row.get(0))
            .optional()?;
        let epoch = match epoch.and_then(|text| text.parse::<u64>().ok()) {
            Some(epoch) => epoch,
            None => {
                transaction.execute(
                    "INSERT OR REPLACE INTO platform_meta (key, value) VALUES ('key_epoch', ?1)",
                    params![now.to_string()],
                )?;
                now
            }
        };
        let valid_to = epoch.saturating_add(KEY_VALIDITY_SECS);
        let list = TrustList {
            issued_at: now,
            issuers: vec![IssuerKey {
                key: self.issuer.public(),
                valid_from: epoch,
                valid_to,
                brands: BrandScope::Any,
            }],
            platform: vec![PlatformKey { key: self.platform.public(), valid_from: epoch, valid_to }],
        };
        let bytes = list.sign(&self.root).map_err(|error| KeyFileError::TrustList(error.to_string()))?;
        transaction.execute(
            "INSERT OR REPLACE INTO signed_documents (kind, issued_at, bytes) VALUES ('trust_list', ?1, ?2)",
            params![i64::try_from(now).unwrap_or(i64::MAX), bytes],
        )?;
        transaction.commit()?;
        VerifiedTrustList::from_bytes(&bytes, &root).map_err(|error| KeyFileError::TrustList(error.to_string()))
    }

    fn listed_in(&self, list: &VerifiedTrustList) -> bool {
        let (issuer, platform) = (self.issuer.public(), self.platform.public());
        list.list().issuers.iter().any(|listed| listed.key == issuer)
            && list.list().platform.iter().any(|listed| listed.key == platform)
    }
}

fn load_or_generate(path: &Path) -> Result<DeviceKey, KeyFileError> {
    let io_error = |source| KeyFileError::Io { path: path.to_owned(), source };
    match fs::read(path) {
        Ok(bytes) => {
            let seed: [u8; SECRET_KEY_LENGTH] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| KeyFileError::WrongLength { path: path.to_owned(), len: bytes.len() })?;
            Ok(DeviceKey::from_seed(&seed))
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(io_error)?;
            }
            let key = DeviceKey::generate(&mut OsRng);
            let mut file = create_private(path).map_err(io_error)?;
            file.write_all(&key.to_seed()).map_err(io_error)?;
            file.sync_all().map_err(io_error)?;
            tracing::info!(path = %path.display(), "generated a new key");
            Ok(key)
        }
        Err(error) => Err(io_error(error)),
    }
}

/// Creates a new file readable and writable by its owner only.
fn create_private(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_generated_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let first = PlatformKeys::load_or_generate(dir.path(), &KeyPaths::default()).unwrap();
        let again = PlatformKeys::load_or_generate(dir.path(), &KeyPaths::default()).unwrap();
        assert_eq!(first.root.public(), again.root.public());
        assert_ne!(first.root.public(), first.issuer.public());
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
        let path = dir.path().join("root.key");
        fs::write(&path, [1u8; 31]).unwrap();
        let paths = KeyPaths { root: Some(path), ..KeyPaths::default() };
        assert!(matches!(
            PlatformKeys::load_or_generate(dir.path(), &paths),
            Err(KeyFileError::WrongLength { len: 31, .. })
        ));
    }
}

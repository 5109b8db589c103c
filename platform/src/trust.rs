//! The trust list the platform publishes: where it comes from, and what it must show before the
//! platform starts.
//!
//! Production: the root key stays offline. Its holder signs a trust list on an offline machine
//! (`platform root sign-trust-list`, [`crate::root`]); the platform gets only the root's public
//! key and that file (`--root-public-key`, `--trust-list`). It refuses to start unless the list
//! verifies under that root and lists this platform's issuer and platform keys as valid now.
//!
//! Development (neither flag): a root key generated into the data directory signs the list at
//! start, so `cargo xtask run` and the tests need no set-up. The log says so at every start.

use std::{
    io::{self, Read as _},
    path::{Path, PathBuf},
};

use crypto::{
    keys::{DeviceKey, PublicKey},
    trust::{BrandScope, IssuerKey, ListError, MAX_TRUST_LIST_LEN, PlatformKey, TrustList, VerifiedTrustList},
    voucher::BrandId,
};
use rusqlite::{Connection, OptionalExtension as _, params};

use crate::keys::{self, KeyFileError, PlatformKeys};
use crate::wire::b64;

/// How long issuer and platform keys of a development trust list are valid after the platform's
/// first start.
pub const DEVELOPMENT_KEY_VALIDITY_SECS: u64 = 10 * 365 * 24 * 3600;

/// Where the trust list comes from.
#[derive(Debug, Clone)]
pub enum TrustSource {
    /// A list signed offline, checked against the root's public key.
    Offline {
        /// The root's public key, pinned by configuration.
        root: PublicKey,
        /// The signed list's file.
        list: PathBuf,
    },
    /// Development only: the root key lives in this file (generated if missing) and the platform
    /// signs the list itself.
    Development {
        /// The root key's file.
        root_key: PathBuf,
    },
}

/// The trust list in force and the root it verifies under.
#[derive(Debug, Clone)]
pub struct Trust {
    /// The root's public key.
    pub root: PublicKey,
    /// The verified list.
    pub list: VerifiedTrustList,
}

/// Why the platform cannot start with its trust list.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The list's file could not be read.
    #[error("cannot read the trust list {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
    /// The file is longer than any trust list.
    #[error("{path} is longer than {MAX_TRUST_LIST_LEN} bytes: not a trust list")]
    TooLong {
        /// The file.
        path: PathBuf,
    },
    /// The list does not decode or is not signed by the pinned root.
    #[error(
        "the trust list {path} does not verify under the root public key {root} ({reason}); \
         sign it with that root's key (`platform root sign-trust-list`)"
    )]
    DoesNotVerify {
        /// The file.
        path: PathBuf,
        /// The pinned root key, base64url.
        root: String,
        /// What failed.
        reason: ListError,
    },
    /// The list does not name one of this platform's keys.
    #[error(
        "the trust list does not list this platform's {role} key {key}; `platform public-keys` prints \
         the keys to sign into it"
    )]
    NotListed {
        /// `issuer` or `platform`.
        role: &'static str,
        /// The key, base64url.
        key: String,
    },
    /// Every window of one of this platform's keys ended before now.
    #[error(
        "the trust list has expired: this platform's {role} key {key} was valid until {valid_to} \
         (now {now}); sign a new one (`platform root sign-trust-list`)"
    )]
    Expired {
        /// `issuer` or `platform`.
        role: &'static str,
        /// The key, base64url.
        key: String,
        /// The end of its latest window (RFC 3339).
        valid_to: String,
        /// The platform's clock (RFC 3339).
        now: String,
    },
    /// No window of one of this platform's keys has begun.
    #[error("the trust list is not valid yet: this platform's {role} key {key} is valid from {valid_from} (now {now})")]
    NotYetValid {
        /// `issuer` or `platform`.
        role: &'static str,
        /// The key, base64url.
        key: String,
        /// The start of its earliest window (RFC 3339).
        valid_from: String,
        /// The platform's clock (RFC 3339).
        now: String,
    },
    /// The development root key could not be loaded.
    #[error("development root key: {0}")]
    RootKey(#[from] KeyFileError),
    /// The development list could not be signed.
    #[error("cannot sign the development trust list: {0}")]
    Sign(String),
    /// The database failed.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// The trust list in force: read and checked ([`TrustSource::Offline`]) or signed at start
/// ([`TrustSource::Development`]). Either way it lists `keys` as valid at `now`.
pub fn load(
    source: &TrustSource,
    keys: &PlatformKeys,
    connection: &mut Connection,
    now: u64,
) -> Result<Trust, TrustError> {
    let trust = match source {
        TrustSource::Offline { root, list } => Trust { root: *root, list: read(list, root)? },
        TrustSource::Development { root_key } => {
            let root = keys::load_or_generate(root_key)?;
            tracing::warn!(
                root_key = %root_key.display(),
                "development trust list, signed at start by a root key kept online: for production keep the root \
                 offline and start with --root-public-key and --trust-list (see `platform root --help`)"
            );
            Trust { root: root.public(), list: development(&root, keys, connection, now)? }
        }
    };
    check_lists(trust.list.list(), keys, now)?;
    Ok(trust)
}

/// Reads the list in `path` and checks its signature under `root`.
fn read(path: &Path, root: &PublicKey) -> Result<VerifiedTrustList, TrustError> {
    let read_error = |source| TrustError::Read { path: path.to_owned(), source };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(MAX_TRUST_LIST_LEN as u64 + 1).read_to_end(&mut bytes).map_err(read_error)?;
    if bytes.len() > MAX_TRUST_LIST_LEN {
        return Err(TrustError::TooLong { path: path.to_owned() });
    }
    VerifiedTrustList::from_bytes(&bytes, root).map_err(|reason| TrustError::DoesNotVerify {
        path: path.to_owned(),
        root: b64(&root.to_bytes()),
        reason,
    })
}

/// Checks that `list` names this platform's issuer and platform keys in a window holding `now`.
pub fn check_lists(list: &TrustList, keys: &PlatformKeys, now: u64) -> Result<(), TrustError> {
    let issuer = keys.issuer.public();
    let platform = keys.platform.public();
    let issuer_windows = list.issuers.iter().filter(|listed| listed.key == issuer).map(|k| (k.valid_from, k.valid_to));
    check_windows("issuer", &issuer, issuer_windows.collect(), now)?;
    let platform_windows =
        list.platform.iter().filter(|listed| listed.key == platform).map(|k| (k.valid_from, k.valid_to));
    check_windows("platform", &platform, platform_windows.collect(), now)
}

fn check_windows(role: &'static str, key: &PublicKey, windows: Vec<(u64, u64)>, now: u64) -> Result<(), TrustError> {
    let key_text = || b64(&key.to_bytes());
    if windows.iter().any(|&(from, to)| from <= now && now <= to) {
        return Ok(());
    }
    let latest_end = windows.iter().map(|&(_, to)| to).max();
    let earliest_start = windows.iter().map(|&(from, _)| from).filter(|&from| from > now).min();
    match (latest_end, earliest_start) {
        (None, _) => Err(TrustError::NotListed { role, key: key_text() }),
        (_, Some(from)) => {
            Err(TrustError::NotYetValid { role, key: key_text(), valid_from: rfc3339(from), now: rfc3339(now) })
        }
        (Some(to), None) => Err(TrustError::Expired { role, key: key_text(), valid_to: rfc3339(to), now: rfc3339(now) }),
    }
}

/// Whether `list` lets `issuer` sign a voucher of `brand` issued at `issued_at` that expires at
/// `expires_at`: merchants refuse any other.
pub fn issuer_covers(list: &TrustList, issuer: &PublicKey, brand: BrandId, issued_at: u64, expires_at: u64) -> bool {
    list.issuers
        .iter()
        .any(|listed| listed.key == *issuer && listed.covers(issued_at, expires_at) && listed.brands.allows(brand))
}

/// Unix seconds as RFC 3339 (UTC), for messages and the `root` commands' output.
pub fn rfc3339(secs: u64) -> String {
    let formatted = i64::try_from(secs)
        .ok()
        .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
        .and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok());
    formatted.unwrap_or_else(|| format!("unix {secs}"))
}

/// The development list: the stored one if `root` signed it and it lists both keys; otherwise a
/// new one, stored. Key windows start at the platform's first start, so a re-signed list still
/// covers every voucher issued before.
fn development(
    root: &DeviceKey,
    keys: &PlatformKeys,
    connection: &mut Connection,
    now: u64,
) -> Result<VerifiedTrustList, TrustError> {
    let stored: Option<Vec<u8>> = connection
        .query_row("SELECT bytes FROM signed_documents WHERE kind = 'trust_list'", [], |row| row.get(0))
        .optional()?;
    if let Some(bytes) = stored
        && let Ok(list) = VerifiedTrustList::from_bytes(&bytes, &root.public())
        && check_lists(list.list(), keys, now).is_ok()
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
    let valid_to = epoch.saturating_add(DEVELOPMENT_KEY_VALIDITY_SECS);
    let list = TrustList {
        issued_at: now,
        issuers: vec![IssuerKey { key: keys.issuer.public(), valid_from: epoch, valid_to, brands: BrandScope::Any }],
        platform: vec![PlatformKey { key: keys.platform.public(), valid_from: epoch, valid_to }],
    };
    let bytes = list.sign(root).map_err(|error| TrustError::Sign(error.to_string()))?;
    transaction.execute(
        "INSERT OR REPLACE INTO signed_documents (kind, issued_at, bytes) VALUES ('trust_list', ?1, ?2)",
        params![crate::coupons::int(now), bytes],
    )?;
    transaction.commit()?;
    VerifiedTrustList::from_bytes(&bytes, &root.public()).map_err(|error| TrustError::Sign(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_767_225_600;

    fn keys() -> PlatformKeys {
        PlatformKeys { issuer: DeviceKey::from_seed(&[2; 32]), platform: DeviceKey::from_seed(&[3; 32]) }
    }

    fn list(keys: &PlatformKeys, from: u64, to: u64) -> TrustList {
        TrustList {
            issued_at: NOW,
            issuers: vec![IssuerKey {
                key: keys.issuer.public(),
                valid_from: from,
                valid_to: to,
                brands: BrandScope::Only(vec![BrandId(1)]),
            }],
            platform: vec![PlatformKey { key: keys.platform.public(), valid_from: from, valid_to: to }],
        }
    }

    #[test]
    fn own_keys_must_be_listed_and_valid_now() {
        let keys = keys();
        assert!(check_lists(&list(&keys, NOW - 10, NOW + 10), &keys, NOW).is_ok());
        assert!(matches!(
            check_lists(&list(&keys, NOW - 20, NOW - 10), &keys, NOW),
            Err(TrustError::Expired { role: "issuer", .. })
        ));
        assert!(matches!(
            check_lists(&list(&keys, NOW + 10, NOW + 20), &keys, NOW),
            Err(TrustError::NotYetValid { role: "issuer", .. })
        ));
        let mut no_platform = list(&keys, NOW - 10, NOW + 10);
        no_platform.platform[0].key = DeviceKey::from_seed(&[9; 32]).public();
        assert!(matches!(check_lists(&no_platform, &keys, NOW), Err(TrustError::NotListed { role: "platform", .. })));
    }

    #[test]
    fn an_issuer_covers_only_its_brands_within_its_window() {
        let keys = keys();
        let list = list(&keys, NOW - 10, NOW + 100);
        let issuer = keys.issuer.public();
        assert!(issuer_covers(&list, &issuer, BrandId(1), NOW, NOW + 100));
        assert!(!issuer_covers(&list, &issuer, BrandId(1), NOW, NOW + 101), "expires after the window");
        assert!(!issuer_covers(&list, &issuer, BrandId(2), NOW, NOW + 50), "brand out of scope");
        assert!(!issuer_covers(&list, &keys.platform.public(), BrandId(1), NOW, NOW + 50), "not an issuer");
    }

    #[test]
    fn a_list_signed_by_another_root_or_damaged_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (root, other) = (DeviceKey::from_seed(&[1; 32]), DeviceKey::from_seed(&[8; 32]));
        let path = dir.path().join("trust-list.bin");
        std::fs::write(&path, list(&keys(), NOW - 10, NOW + 10).sign(&other).unwrap()).unwrap();
        assert!(matches!(read(&path, &root.public()), Err(TrustError::DoesNotVerify { .. })));
        std::fs::write(&path, vec![1u8; MAX_TRUST_LIST_LEN + 1]).unwrap();
        assert!(matches!(read(&path, &root.public()), Err(TrustError::TooLong { .. })));
        std::fs::write(&path, list(&keys(), NOW - 10, NOW + 10).sign(&root).unwrap()).unwrap();
        assert!(read(&path, &root.public()).is_ok());
    }
}

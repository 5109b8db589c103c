//! `platform root …`: the root key's work, done on a machine that is never online. The root key
//! is generated there and never leaves it; what leaves is its public key (pinned by the platform
//! and the app) and the trust lists it signs, which name the issuer and platform keys that
//! `platform public-keys` prints on the server.

use std::path::Path;

use anyhow::Context as _;
use crypto::{
    keys::PublicKey,
    trust::{IssuerKey, PlatformKey, TrustList, VerifiedTrustList},
};

use crate::{
    config::{IssuerEntry, SignTrustList},
    keys,
    trust::rfc3339,
    wire::b64,
};

/// Generates the root key into the new file `path` (mode 0600; an existing file is never
/// replaced) and returns its public key.
pub fn generate(path: &Path) -> anyhow::Result<PublicKey> {
    Ok(keys::generate(path)?.public())
}

/// The trust list `request` describes, issued at `now`, signed with the root key and written to
/// its output file (a new file, written atomically); returns it as verified under that root.
pub fn sign_trust_list(request: &SignTrustList, now: u64) -> anyhow::Result<VerifiedTrustList> {
    let root = keys::load_existing(&request.root_key)?;
    let valid_from = request.valid_from.unwrap_or(now);
    let valid_to = request.valid_to;
    anyhow::ensure!(
        valid_from < valid_to,
        "--valid-to ({}) must be after --valid-from ({})",
        rfc3339(valid_to),
        rfc3339(valid_from)
    );
    let list = TrustList {
        issued_at: now,
        issuers: request
            .issuers
            .iter()
            .map(|IssuerEntry { key, brands }| IssuerKey { key: *key, valid_from, valid_to, brands: brands.clone() })
            .collect(),
        platform: request.platform.iter().map(|key| PlatformKey { key: *key, valid_from, valid_to }).collect(),
    };
    let bytes = list.sign(&root).map_err(|error| anyhow::anyhow!("cannot sign this trust list: {error}"))?;
    let verified = VerifiedTrustList::from_bytes(&bytes, &root.public())
        .map_err(|error| anyhow::anyhow!("the signed trust list does not verify: {error}"))?;
    crate::files::write_private(&request.out, &bytes).with_context(|| {
        format!("cannot write the trust list to {} (an existing file is never replaced)", request.out.display())
    })?;
    Ok(verified)
}

/// A trust list as the operator reads it: root, issue time, and every key with its window.
pub fn describe(root: &PublicKey, list: &TrustList) -> String {
    let mut text = format!("root {}\nissued_at {}\n", b64(&root.to_bytes()), rfc3339(list.issued_at));
    for issuer in &list.issuers {
        let brands = match &issuer.brands {
            crypto::trust::BrandScope::Any => "any".to_owned(),
            crypto::trust::BrandScope::Only(brands) => {
                brands.iter().map(|brand| brand.0.to_string()).collect::<Vec<_>>().join(",")
            }
        };
        text.push_str(&format!(
            "issuer {} brands {brands} valid {} to {}\n",
            b64(&issuer.key.to_bytes()),
            rfc3339(issuer.valid_from),
            rfc3339(issuer.valid_to)
        ));
    }
    for platform in &list.platform {
        text.push_str(&format!(
            "platform {} valid {} to {}\n",
            b64(&platform.key.to_bytes()),
            rfc3339(platform.valid_from),
            rfc3339(platform.valid_to)
        ));
    }
    text
}

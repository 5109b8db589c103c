//! The JSON API under `/api`. Every handler decodes and validates its input into typed values
//! (an [`ApiError`] with a 4xx status otherwise), reads the clock once, and calls the domain
//! modules on a blocking task.
//!
//! Bytes (keys, vouchers, receipts, signatures, sealed envelopes) travel as unpadded base64url.

mod coupons;
mod mailbox;
mod operator;
mod registry;
pub(crate) mod relay;

use std::sync::Arc;

use axum::{Router, extract::DefaultBodyLimit};
use crypto::{keys::PublicKey, trust::VerifiedTrustList};
use rusqlite::Connection;

use crate::{error::ApiError, http::AppState, keys::PlatformKeys};

/// Largest body of an ordinary API request.
pub(crate) const MAX_BODY_BYTES: usize = 16 * 1024;
/// Largest mailbox deposit: a sealed envelope of at most `crypto::seal::MAX_SEALED_LENGTH`
/// bytes in base64url, plus the JSON around it.
pub(crate) const MAX_MAILBOX_BODY_BYTES: usize = 96 * 1024;
/// Largest reconciliation upload: [`MAX_BATCH`] receipts of at most
/// `crypto::receipt::MAX_RECEIPT_LEN` bytes in base64url, plus the JSON around them.
pub(crate) const MAX_RECONCILIATION_BODY_BYTES: usize = 1024 * 1024;
/// Most receipts in one reconciliation upload.
pub(crate) const MAX_BATCH: usize = 2000;

/// Signing keys and the trust list they are published under.
#[derive(Debug)]
pub(crate) struct Signing {
    pub(crate) keys: PlatformKeys,
    /// The root the trust list verifies under.
    pub(crate) root: PublicKey,
    pub(crate) trust: VerifiedTrustList,
}

impl AppState {
    /// Runs domain code on the database's blocking task.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Signing) -> Result<T, ApiError> + Send + 'static,
    {
        let signing = Arc::clone(&self.signing);
        self.db.with(move |connection| Ok(work(connection, &signing))).await?
    }
}

/// The API routes; operator routes only when a token is configured.
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    let mut router = Router::new()
        .merge(registry::routes())
        .merge(coupons::routes())
        .merge(mailbox::routes())
        .merge(relay::routes());
    if let Some(token) = &state.operator_token {
        router = router.merge(operator::routes(Arc::clone(token)));
    }
    router.layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

//! JSON at the edge: the body extractor that turns every rejection into an [`ApiError`], bytes as
//! unpadded base64url, and the clock read once per request.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::{
    extract::{FromRequest, Request, rejection::JsonRejection},
    http::StatusCode,
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use crypto::{
    keys::{PUBLIC_KEY_LENGTH, PublicKey, SIGNATURE_LENGTH, Signature},
    request::SignedRequest,
};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body; malformed, oversized or mistyped bodies become an [`ApiError`] with a 4xx status.
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    let message = rejection.body_text();
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(message),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(message),
        _ => ApiError::BadRequest(message),
    }
}

/// Unix seconds now: the only place the API reads the clock; domain code takes `now` as an argument.
pub(crate) fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs())
}

/// Bytes as unpadded base64url.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes `field`, unpadded base64url, of at most `max` bytes.
pub(crate) fn bytes(field: &str, text: &str, max: usize) -> Result<Vec<u8>, ApiError> {
    // Four characters carry three bytes: refuse over-long text before decoding it.
    if text.len() > max.div_ceil(3) * 4 {
        return Err(ApiError::bad(format!("{field}: longer than {max} bytes")));
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|error| ApiError::bad(format!("{field}: not unpadded base64url ({error})")))?;
    if bytes.len() > max {
        return Err(ApiError::bad(format!("{field}: longer than {max} bytes")));
    }
    Ok(bytes)
}

/// Decodes `field` as exactly `N` bytes of unpadded base64url.
pub(crate) fn array<const N: usize>(field: &str, text: &str) -> Result<[u8; N], ApiError> {
    bytes(field, text, N)?
        .try_into()
        .map_err(|bytes: Vec<u8>| ApiError::bad(format!("{field}: {} bytes, expected {N}", bytes.len())))
}

/// Decodes `field` as a valid, non-weak Ed25519 public key.
pub(crate) fn public_key(field: &str, text: &str) -> Result<PublicKey, ApiError> {
    let bytes = array::<PUBLIC_KEY_LENGTH>(field, text)?;
    PublicKey::from_bytes(&bytes).map_err(|error| ApiError::bad(format!("{field}: {error}")))
}

/// Decodes `field` as a 64-byte signature.
pub(crate) fn signature(field: &str, text: &str) -> Result<Signature, ApiError> {
    Ok(Signature(array::<SIGNATURE_LENGTH>(field, text)?))
}

/// Checks `signature` (field `signature`), the signature of `request` by the key it names
/// ([`SignedRequest`]); call it before anything is stored. Not a signature: 400; a signature that
/// does not verify: 401.
pub(crate) fn signed_by_named_key<R: SignedRequest>(request: &R, signer_field: &str, signature: &str) -> Result<(), ApiError> {
    let signature = self::signature("signature", signature)?;
    request.verify(&signature).map_err(|_| {
        ApiError::Unauthorized(format!("signature: does not verify under {signer_field} over this request's fields"))
    })
}

/// Checks a display name: trimmed, 1 to `max` characters, no control characters.
pub(crate) fn name(field: &str, text: &str, max: usize) -> Result<String, ApiError> {
    let trimmed = text.trim();
    let count = trimmed.chars().count();
    if count == 0 || count > max {
        return Err(ApiError::bad(format!("{field}: must be 1 to {max} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ApiError::bad(format!("{field}: control characters are not allowed")));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_refuses_bad_input() {
        let encoded = b64(&[0xfb, 0xff, 0x01]);
        assert_eq!(encoded, "-_8B");
        assert_eq!(bytes("x", &encoded, 3).unwrap(), vec![0xfb, 0xff, 0x01]);
        assert!(bytes("x", &encoded, 2).is_err());
        assert!(bytes("x", "-_8B=", 3).is_err());
        assert!(bytes("x", "+/8B", 3).is_err());
        assert!(array::<4>("x", &encoded).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("n", "  김민지 ", 10).unwrap(), "김민지");
        assert!(name("n", "   ", 10).is_err());
        assert!(name("n", "a\u{7}b", 10).is_err());
        assert!(name("n", &"가".repeat(11), 10).is_err());
    }
}

//! The API's one error type: every failure a request can meet, each with its HTTP status and a
//! stable machine-readable code, rendered as `{"error": code, "message": text}`.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::db::DbError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body or a parameter is malformed or out of range.
    #[error("{0}")]
    BadRequest(String),
    /// The body is larger than this endpoint accepts.
    #[error("request body too large: {0}")]
    TooLarge(String),
    /// The body is not JSON (wrong content type).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Missing or wrong operator token, or a signature that does not prove the key.
    #[error("{0}")]
    Unauthorized(String),
    /// The caller is known but may not do this (e.g. an unapproved merchant).
    #[error("{0}")]
    Forbidden(String),
    /// The thing named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the stored state (already spent, a different retry).
    #[error("{0}")]
    Conflict(String),
    /// A per-recipient or per-request limit is reached.
    #[error("{0}")]
    LimitReached(String),
    /// The platform cannot do this with its configuration (e.g. its trust list has run out).
    #[error("{0}")]
    Unavailable(String),
    /// The platform failed; details are logged, not sent.
    #[error("internal error")]
    Internal(#[from] DbError),
}

impl From<rusqlite::Error> for ApiError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Internal(DbError::Sqlite(error))
    }
}

impl ApiError {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::LimitReached(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable code the app can match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::TooLarge(_) => "too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::LimitReached(_) => "limit_reached",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    pub(crate) fn bad(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }
}

#[derive(Serialize)]
struct ErrorBody {
    error: &'static str,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(error) = &self {
            tracing::error!(%error, "request failed");
        }
        let body = ErrorBody { error: self.code(), message: self.to_string() };
        (self.status(), Json(body)).into_response()
    }
}

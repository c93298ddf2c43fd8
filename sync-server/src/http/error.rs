//! [`ApiError`]: every refusal and failure a handler answers with, as one
//! type that is [`IntoResponse`], so handlers return `Result<T, ApiError>`
//! and use `?`.
//!
//! The response is the status and an [`ErrorBody`] as JSON (a stable code
//! and a message for a person), with `Retry-After` where the client should
//! wait. A server-side failure is logged where it becomes an `ApiError`
//! and answered with a 500 that says nothing of its cause.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hearth_shared::protocol::{ErrorBody, ErrorCode};

use crate::store::StoreError;

/// A refusal or failure, as the client will see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The JSON body.
    pub body: ErrorBody,
    /// Seconds for a `Retry-After` header, if the client should wait.
    pub retry_after: Option<u32>,
}

impl ApiError {
    /// A refusal with a stable code and a message for a person.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self::with_body(
            status,
            ErrorBody {
                error: code,
                message: message.into(),
                revocation: None,
            },
        )
    }

    /// A refusal with a whole body (a revocation carries a signed notice).
    pub fn with_body(status: StatusCode, body: ErrorBody) -> Self {
        Self {
            status,
            body,
            retry_after: None,
        }
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    /// A server-side failure: the details go to the log only.
    pub fn internal(e: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "the server failed; nothing was acknowledged; retry later",
        )
    }

    /// The same refusal, telling the client to wait `secs` first.
    #[must_use]
    pub fn retry_after(mut self, secs: u32) -> Self {
        self.retry_after = Some(secs);
        self
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::internal(&e)
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::internal(&e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = (self.status, Json(self.body));
        match self.retry_after {
            Some(secs) => ([(header::RETRY_AFTER, secs.to_string())], body).into_response(),
            None => body.into_response(),
        }
    }
}

/// Runs `f` on a blocking thread (the store is never called on an async
/// worker); a panic there is an internal error.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await?
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn parts(e: ApiError) -> (StatusCode, Option<String>, serde_json::Value) {
        let r = e.into_response();
        let status = r.status();
        let retry = r
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(
            r.headers().get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        (status, retry, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn a_refusal_is_its_status_and_a_json_body_without_revocation() {
        let (status, retry, body) =
            parts(ApiError::bad_request("the query string is malformed")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(retry, None);
        assert_eq!(
            body,
            serde_json::json!({"error": "bad_request", "message": "the query string is malformed"})
        );
    }

    #[tokio::test]
    async fn busy_carries_retry_after_and_internal_says_nothing_of_its_cause() {
        let busy = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Busy, "retry")
            .retry_after(60);
        let (status, retry, body) = parts(busy).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(retry.as_deref(), Some("60"));
        assert_eq!(body["error"], "busy");
        let (status, _, body) = parts(StoreError::Corrupt("a device key").into()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"], "internal");
        assert!(!body["message"].as_str().unwrap().contains("device key"));
    }
}

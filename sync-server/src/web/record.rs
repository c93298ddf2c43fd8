//! The record behind a line, as a page and as JSON at `GET /v1/records/{id}` (helper B).

use axum::Router;

use crate::backend::Backend;
use crate::http::AppState;

/// This module's routes.
pub fn routes<S: Backend>() -> Router<AppState<S>> {
    Router::new()
}

//! Administration pages: devices, users, families, quarantine, and the
//! access log for auditors (helper D).

use axum::Router;

use crate::backend::Backend;
use crate::http::AppState;

/// This module's routes.
pub fn routes<S: Backend>() -> Router<AppState<S>> {
    Router::new()
}

//! Find a child and break the glass (helper B).

use axum::Router;

use crate::backend::Backend;
use crate::http::AppState;

/// This module's routes.
pub fn routes<S: Backend>() -> Router<AppState<S>> {
    Router::new()
}

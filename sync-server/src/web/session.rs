//! Accounts and sessions (helper A fills this in; see the issue-15 task):
//! [`guard`] runs before every web route.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::backend::Backend;
use crate::http::AppState;

/// The session guard. SKELETON: passes every request through with no
/// viewer, so every page redirects to the sign-in page.
pub async fn guard<S: Backend>(
    State(_state): State<AppState<S>>,
    request: Request,
    next: Next,
) -> Response {
    next.run(request).await
}

//! Protocol 2 on the device routes (`/v1/sync`, `/v1/outbox`,
//! `/v1/caseload`): compressed bodies, negotiated (issue 20). The codec
//! and the header words are [`hearth_shared::wire`]'s.
//!
//! - [`negotiate`], a middleware on those routes: a request whose
//!   `Content-Encoding` is neither absent, `identity` nor `deflate` is
//!   answered 415 `unsupported_encoding` (naming the header and the
//!   encodings accepted) before any handler runs; every answer carries
//!   `Hearth-Protocol: 2` and `Vary: Accept-Encoding`; an answer to a
//!   request that said `Accept-Encoding: deflate` is compressed
//!   (`Content-Encoding: deflate`), unless it is under [`MIN_COMPRESSED`]
//!   bytes.
//! - [`RequestEncoding`], the extractor `/v1/sync` and `/v1/outbox` read
//!   the encoding with; their one body reader ([`super::sync::read_body`])
//!   inflates through [`inflate`] *before* the handler sees the body, so
//!   the handlers, the verification and the store see exactly the bytes an
//!   old agent sends plain: the signed records are never touched.
//! - [`inflate_small`], for `/v1/caseload`'s small JSON request.
//! - [`advertise_batch`], on the device routes and `/v1/enrol`: every
//!   answer says `Hearth-Batch-Records`, how many records one batch may
//!   hold.
//!
//! The in-flight budget ([`super::admit::BodyBudget`]) counts a compressed
//! body twice in turn: its compressed bytes as they arrive (against the
//! same `max_body_bytes` limit), then its inflated bytes as the decoder's
//! buffer grows, capped at `max_body_bytes` too (over it: 413
//! `body_too_large`; budget spent: 503 `busy`). The compressed bytes'
//! budget is returned once the body is inflated; the inflated bytes' when
//! the request ends, as for a plain body.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hearth_shared::protocol::ErrorCode;
use hearth_shared::wire::{
    self, DEFLATE, Encoding, PROTOCOL_HEADER, PROTOCOL_VERSION, UnsupportedEncoding, WireError,
};

use super::ApiError;
use super::admit::{BodyBudget, Held};
use super::metrics::{Counters, Wire};

/// Answers shorter than this go plain even to an agent that accepts
/// `deflate`: the zlib wrapper and block header would outweigh the saving.
pub const MIN_COMPRESSED: usize = 128;

/// Answers longer than this are compressed on a blocking thread (a
/// caseload may be up to 1 MiB), not on an async worker.
const COMPRESS_INLINE: usize = 64 * 1024;

/// A request's `Content-Encoding`, read strictly.
fn encoding_of(headers: &HeaderMap) -> Result<Encoding, UnsupportedEncoding> {
    let value = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    Encoding::from_header(value.as_deref())
}

/// The 415 answer: the header, the value and the encodings accepted. It
/// closes the connection, since the body the client may still be sending
/// is not read.
fn unsupported(e: &UnsupportedEncoding) -> Response {
    (
        [
            (header::ACCEPT_ENCODING, DEFLATE),
            (header::CONNECTION, "close"),
        ],
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedEncoding,
            e.to_string(),
        ),
    )
        .into_response()
}

/// Whether a request asked for compressed answers.
fn accepts_deflate(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .any(|v| v.to_str().is_ok_and(wire::accepts_deflate))
}

/// The middleware on the device routes (see the module's overview).
pub async fn negotiate(
    State(counters): State<Arc<Counters>>,
    req: Request,
    next: Next,
) -> Response {
    let mut res = match encoding_of(req.headers()) {
        Err(e) => unsupported(&e),
        Ok(_) => {
            let compress = accepts_deflate(req.headers());
            let res = next.run(req).await;
            if compress {
                compress_answer(res, &counters).await
            } else {
                res
            }
        }
    };
    let headers = res.headers_mut();
    headers.insert(PROTOCOL_HEADER, HeaderValue::from_static(PROTOCOL_VERSION));
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    res
}

/// The middleware on the enrolment and the device routes that says, on
/// every answer, how many records one batch may hold
/// ([`wire::BATCH_RECORDS_HEADER`], the value of
/// [`crate::config::Limits::batch_records_taken`]): an agent learns it at
/// enrolment, and again from each answer if the server's flags change.
pub async fn advertise_batch(
    State(records): State<HeaderValue>,
    req: Request,
    next: Next,
) -> Response {
    let mut res = next.run(req).await;
    res.headers_mut()
        .insert(wire::BATCH_RECORDS_HEADER, records);
    res
}

/// `res` with its body compressed, if it is long enough and not encoded
/// already.
async fn compress_answer(res: Response, counters: &Counters) -> Response {
    if res.headers().contains_key(header::CONTENT_ENCODING) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    // The handlers' own answers, already in memory: no limit to enforce.
    let plain = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return ApiError::internal(&e).into_response(),
    };
    if plain.len() < MIN_COMPRESSED {
        return Response::from_parts(parts, Body::from(plain));
    }
    let packed = if plain.len() > COMPRESS_INLINE {
        let plain = plain.clone();
        match tokio::task::spawn_blocking(move || wire::compress(&plain)).await {
            Ok(p) => p,
            Err(e) => return ApiError::internal(&e).into_response(),
        }
    } else {
        wire::compress(&plain)
    };
    counters.add(Wire::DeflatedAnswers, 1);
    counters.add(Wire::DeflatedAnswerPlainBytes, plain.len() as u64);
    counters.add(Wire::DeflatedAnswerWireBytes, packed.len() as u64);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static(DEFLATE));
    Response::from_parts(parts, Body::from(packed))
}

/// A request body's encoding, for the handlers that inflate their body
/// themselves (within the body budget). Refuses an unknown encoding with
/// the 415 of [`negotiate`], which has normally answered it already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestEncoding(pub Encoding);

impl<S: Send + Sync> FromRequestParts<S> for RequestEncoding {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        encoding_of(&parts.headers)
            .map(Self)
            .map_err(|e| unsupported(&e))
    }
}

/// A compressed body `packed` inflated, at most `limit` bytes, taking the
/// inflated bytes' budget from `budget` as the decoder's buffer grows;
/// counted on `/v1/metrics`.
pub fn inflate(
    budget: &BodyBudget,
    counters: &Counters,
    packed: &[u8],
    limit: usize,
) -> Result<(Vec<u8>, Held), WireError> {
    let mut held = Held::none();
    let plain = wire::decompress_with(packed, limit, |n| budget.take(&mut held, n).is_ok())?;
    counters.add(Wire::DeflatedRequests, 1);
    counters.add(Wire::DeflatedRequestWireBytes, packed.len() as u64);
    counters.add(Wire::DeflatedRequestPlainBytes, plain.len() as u64);
    Ok((plain, held))
}

/// A small request (`/v1/caseload`'s JSON, at most `limit` bytes: the
/// router passes `caseload::MAX_REQUEST_BYTES`, 4 KiB) inflated before
/// its handler reads it, when it came with `Content-Encoding: deflate`. A
/// body that does not inflate within the limit is 400 `bad_request`, as an
/// oversized plain one is. Small enough to need no budget: axum reads the
/// plain one the same way.
pub async fn inflate_small(State(limit): State<usize>, req: Request, next: Next) -> Response {
    if encoding_of(req.headers()) != Ok(Encoding::Deflate) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let refused = |why: &dyn std::fmt::Display| {
        ApiError::bad_request(format!(
            "the caseload request could not be inflated ({why}); send it as JSON of at most {limit} bytes"
        ))
        .into_response()
    };
    let packed = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(e) => return refused(&e),
    };
    let plain = match wire::decompress(&packed, limit) {
        Ok(p) => p,
        Err(e) => return refused(&e),
    };
    parts.headers.remove(header::CONTENT_ENCODING);
    parts.headers.remove(header::CONTENT_LENGTH);
    next.run(Request::from_parts(parts, Body::from(plain)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(n: usize) -> Vec<u8> {
        (0..n).map(|i| b"seen at home, "[i % 14]).collect()
    }

    /// The inflated bytes are charged to the in-flight budget as they
    /// appear, refused past it, and returned when the guard drops.
    #[test]
    fn inflated_bytes_take_budget_and_give_it_back() {
        let budget = BodyBudget::new(64 * 1024);
        let counters = Counters::default();
        let big = wire::compress(&text(100_000));
        assert_eq!(
            inflate(&budget, &counters, &big, 1 << 20).err(),
            Some(WireError::Refused),
            "100 KB inflated does not fit a 64 KiB budget"
        );
        let small = wire::compress(&text(20_000));
        let (plain, held) = inflate(&budget, &counters, &small, 1 << 20).unwrap();
        assert_eq!(plain, text(20_000));
        let middle = wire::compress(&text(40_000));
        assert_eq!(
            inflate(&budget, &counters, &middle, 1 << 20).err(),
            Some(WireError::Refused),
            "while the first is held, the second does not fit"
        );
        drop(held);
        assert!(inflate(&budget, &counters, &middle, 1 << 20).is_ok());
        assert_eq!(counters.wire(Wire::DeflatedRequests), 2);
        assert_eq!(
            counters.wire(Wire::DeflatedRequestPlainBytes),
            60_000,
            "only whole bodies are counted"
        );
    }

    #[test]
    fn content_encoding_and_accept_encoding_are_read_from_headers() {
        let mut h = HeaderMap::new();
        assert_eq!(encoding_of(&h), Ok(Encoding::Identity));
        assert!(!accepts_deflate(&h));
        h.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static("deflate"),
        );
        h.append(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        h.append(header::ACCEPT_ENCODING, HeaderValue::from_static("deflate"));
        assert_eq!(encoding_of(&h), Ok(Encoding::Deflate));
        assert!(accepts_deflate(&h), "any of several Accept-Encoding lines");
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        let refused = unsupported(&encoding_of(&h).unwrap_err());
        assert_eq!(refused.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(refused.headers()[header::ACCEPT_ENCODING], "deflate");
    }
}

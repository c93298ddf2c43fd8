//! The HTTPS half of sync: [`Transport`], a ureq 3 client over rustls
//! (ring) that trusts only the server certificate saved at enrolment.
//!
//! Every request has a connect timeout and a whole-request timeout, so a
//! dead link fails in bounded time.
//!
//! Protocol 2 (issue 20, [`hearth_shared::wire`]): every request says
//! `Accept-Encoding: deflate`, and an answer is inflated by its own
//! `Content-Encoding` (capped at the same limits as a plain one). Request
//! bodies of `/v1/sync` and `/v1/outbox` are compressed only while the
//! latest answer from this server (remembered between runs,
//! [`Transport::remembering`]) carried `Hearth-Protocol: 2`
//! ([`Transport::speaks_protocol_2`]), so the first request to an old
//! server, and every request to it, is the plain body it reads. Failures are sorted for the exit codes
//! of `docs/sync-protocol.md`: [`TransportError::Unreachable`] (3),
//! [`TransportError::Revoked`] (4), everything else (1).

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use hearth_shared::caseload::{CaseloadRequest, MAX_CASELOAD_BYTES};
use hearth_shared::printable::Escaped;
use hearth_shared::protocol::{
    BATCH_CONTENT_TYPE, EnrolRequest, EnrolResponse, ErrorBody, ErrorCode, OUTBOX_CONTENT_TYPE,
    OutboxUpload, RevocationNotice, UploadBatch, UploadResponse,
};
use hearth_shared::wire::{
    self, BATCH_RECORDS_HEADER, DEFLATE, Encoding, PROTOCOL_HEADER, PROTOCOL_VERSION,
};
use ureq::tls::{RootCerts, TlsConfig, TlsProvider};

/// How long to wait for a TCP connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole request (connect, TLS, upload, response) may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// The largest response body read.
const MAX_RESPONSE: u64 = 4 * 1024 * 1024;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// Connect, TLS, timeout or a dropped connection.
    #[error(
        "the server at {url} is unreachable ({source}); check the connection and try again (nothing is lost: records stay pending)"
    )]
    Unreachable {
        /// The URL.
        url: String,
        /// The cause.
        #[source]
        source: ureq::Error,
    },
    /// The server revoked this device.
    #[error("{message}")]
    Revoked {
        /// The server's message.
        message: String,
        /// The server's signed notice, if it sent one.
        notice: Option<RevocationNotice>,
    },
    /// The server refused the request.
    #[error("the server refused the request (HTTP {status}{}): {message}", shown_code(.code))]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The stable error code, such as `token_invalid`; `None` when the
        /// answer was not a Hearth error body (a proxy's page, say).
        code: Option<ErrorCode>,
        /// The server's message.
        message: String,
    },
    /// The answer was not what the protocol says.
    #[error("the server's answer is not understood (HTTP {status}): {detail}")]
    BadResponse {
        /// The HTTP status.
        status: u16,
        /// What was wrong.
        detail: String,
    },
    /// The client could not be configured.
    #[error("the request to {url} could not be made: {source}")]
    Request {
        /// The URL.
        url: String,
        /// The cause.
        #[source]
        source: ureq::Error,
    },
}

/// Sends one batch: what [`crate::sync::run`] needs from a transport, so it
/// can be tested without a network.
pub trait Uploader {
    /// Uploads `batch` and returns the server's answer.
    fn upload(&self, batch: &UploadBatch) -> Result<UploadResponse, TransportError>;

    /// How many records to put in one batch: what the server last said it
    /// takes, within this agent's cap ([`super::plan::batch_size`]).
    fn batch_size(&self) -> usize {
        super::plan::BATCH_SIZE
    }
}

/// An HTTPS client for one server.
#[derive(Debug)]
pub struct Transport {
    agent: ureq::Agent,
    base: String,
    /// What the latest answer said: while it says protocol 2, request
    /// bodies go compressed. Behind a lock: the sync pipeline sends from a
    /// scoped thread through `&Transport`.
    said: Mutex<Said>,
    /// Where what the latest answer said is kept between runs, if
    /// anywhere ([`Transport::remembering`]).
    memo: Option<PathBuf>,
}

/// The file in the store directory that remembers what the enrolled
/// server's latest answer said ([`Said`]): whether it speaks protocol 2,
/// so that the next run (the tablet app's five-minute sync of a few
/// records, which is one request) sends compressed from its first
/// request; and how many records it takes in one batch, so that a
/// backlog goes in batches that large from the first. Absent when the
/// answer said neither.
pub const PROTOCOL_FILE: &str = "server-protocol";

/// What a server's answer said about how to talk to it, as
/// [`PROTOCOL_FILE`] keeps it: a line `2` if it speaks protocol 2, and a
/// line `batch-records N` if it said how many records it takes in one
/// batch. A file written before issue 20's batch limit holds only `2`,
/// and still reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Said {
    /// `Hearth-Protocol: 2`.
    pub protocol_2: bool,
    /// `Hearth-Batch-Records: N`, if said (and a positive number).
    pub batch_records: Option<usize>,
}

impl Said {
    /// What the headers of an answer say.
    fn of(headers: &ureq::http::HeaderMap) -> Self {
        Self {
            protocol_2: headers
                .get(PROTOCOL_HEADER)
                .is_some_and(|v| v.as_bytes() == PROTOCOL_VERSION.as_bytes()),
            batch_records: headers
                .get(BATCH_RECORDS_HEADER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|&n| n > 0),
        }
    }

    /// Reads what [`Said::to_file`] wrote; anything not understood is
    /// not said (the file is a hint, and the next answer replaces it).
    pub fn from_file(text: &[u8]) -> Self {
        let text = String::from_utf8_lossy(text);
        let mut said = Self::default();
        for line in text.lines().map(str::trim) {
            if line == PROTOCOL_VERSION {
                said.protocol_2 = true;
            } else if let Some(n) = line.strip_prefix("batch-records ") {
                said.batch_records = n.trim().parse().ok().filter(|&n| n > 0);
            }
        }
        said
    }

    /// The file's text; empty when nothing is said.
    pub fn to_file(self) -> String {
        let mut text = String::new();
        if self.protocol_2 {
            text.push_str(PROTOCOL_VERSION);
            text.push('\n');
        }
        if let Some(n) = self.batch_records {
            text.push_str(&format!("batch-records {n}\n"));
        }
        text
    }
}

/// An answer as the calls here read it: status and body, inflated.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Transport {
    /// A client for `base_url` trusting only `trust`.
    pub fn new(base_url: &str, trust: Vec<ureq::tls::Certificate<'static>>) -> Self {
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(crate::tls::provider())
            .root_certs(RootCerts::Specific(std::sync::Arc::new(trust)))
            .build();
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .https_only(true)
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(REQUEST_TIMEOUT))
            .max_redirects(0)
            .build()
            .new_agent();
        Self {
            agent,
            base: base_url.trim_end_matches('/').to_string(),
            said: Mutex::default(),
            memo: None,
        }
    }

    /// This client, starting from what `file` remembers of the server's
    /// protocol and keeping it there as answers change it. A server
    /// rolled back to before protocol 2 since then cannot read a
    /// compressed body and stores nothing from it (400 or 415 without
    /// `Hearth-Protocol`): that request is sent again plain, once, and
    /// the file removed.
    pub fn remembering(mut self, file: PathBuf) -> Self {
        let said = std::fs::read(&file).map_or_else(|_| Said::default(), |b| Said::from_file(&b));
        self.said = Mutex::new(said);
        self.memo = Some(file);
        self
    }

    /// What the latest answer said, as noted.
    pub fn said(&self) -> Said {
        *self.lock()
    }

    /// The lock on what was said (a panic elsewhere cannot leave a
    /// `Said` half written: it is replaced whole).
    fn lock(&self) -> std::sync::MutexGuard<'_, Said> {
        self.said
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Notes what the latest answer said, in memory and, when it changed,
    /// in the file. The file is a hint: failing to write it costs one
    /// plain request, or batches of the old size, next run, so it is
    /// logged, not an error.
    fn note(&self, said: Said) {
        let was = std::mem::replace(&mut *self.lock(), said);
        let Some(file) = self.memo.as_ref().filter(|_| was != said) else {
            return;
        };
        let text = said.to_file();
        let kept = if !text.is_empty() {
            hearth_shared::private_file::write(file, text.as_bytes())
        } else {
            std::fs::remove_file(file).or_else(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Ok(()),
                _ => Err(e),
            })
        };
        if let Err(e) = kept {
            tracing::debug!(file = %file.display(), error = %e, "the server's protocol is not remembered");
        }
    }

    /// Whether the latest answer from this server said `Hearth-Protocol:
    /// 2`, so that it takes compressed request bodies.
    pub fn speaks_protocol_2(&self) -> bool {
        self.said().protocol_2
    }

    /// `POST path` with `body`, compressed if `compressible` and the server
    /// speaks protocol 2; the answer read whole (at most `limit` bytes,
    /// inflated) and the server's protocol noted.
    fn send(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
        compressible: bool,
        limit: u64,
    ) -> Result<Answer, TransportError> {
        let url = format!("{}{path}", self.base);
        let request = self
            .agent
            .post(&url)
            .header("Content-Type", content_type)
            .header("Accept-Encoding", DEFLATE);
        let compressed = compressible && self.speaks_protocol_2();
        let result = if compressed {
            request
                .header("Content-Encoding", DEFLATE)
                .send(&wire::compress(body)[..])
        } else {
            request.send(body)
        };
        let mut response = result.map_err(|source| classify(&url, source))?;
        let status = response.status().as_u16();
        let headers = response.headers();
        // The latest answer decides: one without the headers (a server
        // rolled back, a proxy's own page) sends the next body plain, in
        // batches of the size every server takes.
        let said = Said::of(headers);
        let speaks = said.protocol_2;
        self.note(said);
        if compressed && !speaks && matches!(status, 400 | 415) {
            // A server that no longer speaks protocol 2 refused the
            // compressed body unread: again, plain (`speaks` is now false,
            // so this happens once).
            return self.send(path, content_type, body, compressible, limit);
        }
        let encoding = headers
            .get("content-encoding")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let encoding = Encoding::from_header(encoding.as_deref()).map_err(|e| {
            TransportError::BadResponse {
                status,
                detail: shown(&format!("the answer's {e}")),
            }
        })?;
        let raw = response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|source| classify(&url, source))?;
        let body = match encoding {
            Encoding::Identity => raw,
            Encoding::Deflate => {
                let cap = usize::try_from(limit).unwrap_or(usize::MAX);
                wire::decompress(&raw, cap).map_err(|e| TransportError::BadResponse {
                    status,
                    detail: format!("the answer could not be inflated: {e}"),
                })?
            }
        };
        Ok(Answer { status, body })
    }

    /// `POST` of a JSON or postcard body whose answer is JSON text.
    fn post(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
        compressible: bool,
    ) -> Result<(u16, String), TransportError> {
        let answer = self.send(path, content_type, body, compressible, MAX_RESPONSE)?;
        Ok((
            answer.status,
            String::from_utf8_lossy(&answer.body).into_owned(),
        ))
    }

    /// `POST /v1/enrol`.
    pub fn enrol(&self, request: &EnrolRequest) -> Result<EnrolResponse, TransportError> {
        let body = serde_json::to_vec(request).expect("an EnrolRequest serializes");
        let (status, text) = self.post("/v1/enrol", "application/json", &body, false)?;
        parse_ok(status, &text)
    }
}

/// Fetches the caseload: what [`crate::sync::caseload::fetch`] needs from a
/// transport.
pub trait CaseloadFetcher {
    /// `POST /v1/caseload` with `request`: the signed caseload bytes (not
    /// yet verified), or `None` if the server has no caseloads (404: a
    /// server older than issue 17).
    fn fetch_caseload(&self, request: &CaseloadRequest) -> Result<Option<Vec<u8>>, TransportError>;
}

impl CaseloadFetcher for Transport {
    fn fetch_caseload(&self, request: &CaseloadRequest) -> Result<Option<Vec<u8>>, TransportError> {
        let body = serde_json::to_vec(request).expect("a CaseloadRequest serializes");
        // Sent plain: about 250 bytes of mostly hex signature gain nothing
        // compressed. One byte over the limit, so a too-long caseload is
        // refused by its verification (Malformed) rather than cut short.
        let answer = self.send(
            "/v1/caseload",
            "application/json",
            &body,
            false,
            MAX_CASELOAD_BYTES as u64 + 1,
        )?;
        caseload_answer(answer.status, &answer.body)
    }
}

/// A `POST /v1/caseload` answer: 200 → the bytes, 404 → `None`, anything
/// else the error the other calls give.
fn caseload_answer(status: u16, bytes: &[u8]) -> Result<Option<Vec<u8>>, TransportError> {
    match status {
        200 => Ok(Some(bytes.to_vec())),
        404 => Ok(None),
        _ => parse_ok::<serde_json::Value>(status, &String::from_utf8_lossy(bytes)).map(|_| None),
    }
}

impl Uploader for Transport {
    fn upload(&self, batch: &UploadBatch) -> Result<UploadResponse, TransportError> {
        let body = postcard::to_allocvec(batch).expect("an UploadBatch serializes");
        let (status, text) = self.post("/v1/sync", BATCH_CONTENT_TYPE, &body, true)?;
        parse_ok(status, &text)
    }

    fn batch_size(&self) -> usize {
        super::plan::batch_size(self.said().batch_records)
    }
}

/// Sends one outbox upload: what [`crate::sync::outbox::run_locked`] needs
/// from a transport.
pub trait OutboxSender {
    /// Uploads `upload` to `POST /v1/outbox` and returns the answer.
    fn send_outbox(&self, upload: &OutboxUpload) -> Result<UploadResponse, TransportError>;
}

impl OutboxSender for Transport {
    fn send_outbox(&self, upload: &OutboxUpload) -> Result<UploadResponse, TransportError> {
        let body = postcard::to_allocvec(upload).expect("an OutboxUpload serializes");
        let (status, text) = self.post("/v1/outbox", OUTBOX_CONTENT_TYPE, &body, true)?;
        parse_ok(status, &text)
    }
}

fn classify(url: &str, source: ureq::Error) -> TransportError {
    use ureq::Error as E;
    match source {
        E::BadUri(_)
        | E::Http(_)
        | E::RequireHttpsOnly(_)
        | E::InvalidProxyUrl
        | E::TlsRequired => TransportError::Request {
            url: url.to_string(),
            source,
        },
        _ => TransportError::Unreachable {
            url: url.to_string(),
            source,
        },
    }
}

/// The code as the refusal message shows it: ` token_invalid`, or nothing.
fn shown_code(code: &Option<ErrorCode>) -> String {
    code.map(|c| format!(" {c}")).unwrap_or_default()
}

/// The server's words (its message, a proxy's page, or serde_json's
/// description of a body, which quotes it) as the operator is shown them:
/// one line, every hidden character written visibly ([`Escaped`]), so that
/// no answer can forge lines or send escape sequences to the terminal.
fn shown(text: &str) -> String {
    Escaped(text).to_string()
}

/// A server's answer (`status` and body `text`), as every call here reads
/// it: a `200` body parsed as `T`; a `device_revoked` refusal, with its
/// signed notice if the body holds one, as [`TransportError::Revoked`];
/// `502`-`504` as unreachable; anything else as the refusal it says.
/// Public for the fuzz targets (issue 19), which feed it hostile bodies.
pub fn parse_ok<T: serde::de::DeserializeOwned>(
    status: u16,
    text: &str,
) -> Result<T, TransportError> {
    if status == 200 {
        return serde_json::from_str(text).map_err(|e| TransportError::BadResponse {
            status,
            detail: shown(&e.to_string()),
        });
    }
    let err: Option<ErrorBody> = serde_json::from_str(text).ok();
    let (code, message, notice) = match err {
        Some(e) => (Some(e.error), shown(&e.message), e.revocation),
        None => (
            None,
            shown(&text.chars().take(200).collect::<String>()),
            None,
        ),
    };
    if code == Some(ErrorCode::DeviceRevoked) {
        return Err(TransportError::Revoked {
            message: if message.is_empty() {
                "this device has been revoked".into()
            } else {
                message
            },
            notice,
        });
    }
    // Proxies and load balancers answer 502-504 when the server is down.
    if matches!(status, 502..=504) {
        return Err(TransportError::Unreachable {
            url: String::new(),
            source: ureq::Error::StatusCode(status),
        });
    }
    Err(TransportError::Refused {
        status,
        code,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a server said reads back from the file as written, and a file
    /// from before the batch limit (`2` alone) still reads; what is not
    /// understood is not said.
    #[test]
    fn what_the_server_said_is_remembered_and_read_back() {
        let both = Said {
            protocol_2: true,
            batch_records: Some(256),
        };
        assert_eq!(both.to_file(), "2\nbatch-records 256\n");
        for said in [
            both,
            Said::default(),
            Said {
                protocol_2: false,
                batch_records: Some(7),
            },
        ] {
            assert_eq!(Said::from_file(said.to_file().as_bytes()), said);
        }
        assert_eq!(
            Said::from_file(b"2\n"),
            Said {
                protocol_2: true,
                batch_records: None
            }
        );
        for junk in [
            &b"batch-records 0\n"[..],
            b"batch-records -3",
            b"3\nbatch-records x",
            b"\xff\xfe",
        ] {
            assert_eq!(Said::from_file(junk).batch_records, None, "{junk:?}");
            assert!(!Said::from_file(junk).protocol_2, "{junk:?}");
        }
    }

    /// The headers of an answer: a count must be a positive decimal.
    #[test]
    fn an_answers_batch_records_header_is_read_strictly() {
        let said = |value: &str| {
            let mut h = ureq::http::HeaderMap::new();
            h.insert(BATCH_RECORDS_HEADER, value.parse().unwrap());
            Said::of(&h).batch_records
        };
        assert_eq!(said("256"), Some(256));
        assert_eq!(said(" 12 "), Some(12));
        for bad in ["0", "-1", "1e3", "lots", "99999999999999999999999"] {
            assert_eq!(said(bad), None, "{bad}");
        }
        assert_eq!(Said::of(&ureq::http::HeaderMap::new()), Said::default());
    }

    #[test]
    fn revocation_is_recognised() {
        let r: Result<UploadResponse, _> = parse_ok(
            403,
            r#"{"error":"device_revoked","message":"device 01 was revoked at 2026-11-20T10:00:00Z: lost"}"#,
        );
        assert!(
            matches!(r, Err(TransportError::Revoked { message, .. }) if message.contains("lost"))
        );
    }

    #[test]
    fn a_caseload_answer_is_bytes_nothing_or_the_error() {
        assert_eq!(caseload_answer(200, b"\x01\x02").unwrap(), Some(vec![1, 2]));
        assert_eq!(caseload_answer(404, b"").unwrap(), None);
        assert!(matches!(
            caseload_answer(403, br#"{"error":"device_revoked","message":"gone"}"#),
            Err(TransportError::Revoked { .. })
        ));
        assert!(matches!(
            caseload_answer(401, br#"{"error":"unauthenticated","message":"who?"}"#),
            Err(TransportError::Refused { status: 401, .. })
        ));
    }

    /// Found by the `revocation` fuzz target (issue 19): a body that is not
    /// an error body was shown raw, line breaks and all.
    #[test]
    fn a_refusal_that_is_not_json_is_shown_on_one_line_escaped() {
        let r: Result<UploadResponse, _> =
            parse_ok(403, "{\n  \"error\": \"device_revoked\",\n( \u{1b}[2J");
        let shown = r.unwrap_err().to_string();
        assert!(shown.contains(r"{\u{a}  "), "{shown}");
        assert!(shown.contains(r"\u{1b}[2J"), "{shown}");
        assert!(!shown.contains(['\n', '\u{1b}']), "{shown:?}");
    }

    /// A Hearth error body's message and a revocation's are escaped too.
    #[test]
    fn a_servers_message_is_shown_escaped() {
        for status in [401, 403] {
            let body = if status == 403 {
                r#"{"error":"device_revoked","message":"lost\n\u001b[31mforged"}"#
            } else {
                r#"{"error":"token_invalid","message":"used\u202eevil"}"#
            };
            let shown = parse_ok::<UploadResponse>(status, body)
                .unwrap_err()
                .to_string();
            assert!(!shown.contains(['\n', '\u{1b}', '\u{202e}']), "{shown:?}");
            assert!(shown.contains(r"\u{"), "{shown}");
        }
    }

    /// Found by the `receipt` fuzz target (issue 19): serde_json's
    /// description of a bad answer quotes the server's text, which reached
    /// the terminal raw.
    #[test]
    fn an_answer_not_understood_is_shown_escaped() {
        let body = r#"{"server_time":"2026-11-26T13:48:20Z","clock_offset_seconds":-4,"verdicts":[{"index":0,"status":"accep\t\u001b[2J"}],"receipts":[]}"#;
        let shown = parse_ok::<UploadResponse>(200, body)
            .unwrap_err()
            .to_string();
        assert!(shown.contains("not understood"), "{shown}");
        assert!(!shown.contains(['\t', '\u{1b}']), "{shown:?}");
        assert!(shown.contains(r"accep\u{9}\u{1b}[2J"), "{shown}");
    }

    #[test]
    fn other_errors_keep_code_and_message() {
        let r: Result<EnrolResponse, _> = parse_ok(
            401,
            r#"{"error":"token_invalid","message":"the token was already used"}"#,
        );
        match r {
            Err(TransportError::Refused {
                status,
                code,
                message,
            }) => {
                assert_eq!((status, code), (401, Some(ErrorCode::TokenInvalid)));
                assert!(message.contains("already used"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

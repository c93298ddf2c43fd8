//! [`HttpFaultProxy`]: an HTTP-aware fault proxy between agent and server.
//!
//! [`crate::proxy::FaultProxy`] is TLS-blind: it can cut a connection at a
//! request/response boundary but never read or replay a message. This one
//! terminates TLS with the server's own certificate and key (read from the
//! server's data directory, `tls/cert.pem` and `tls/key.pem`, so the
//! agent's pin holds: it is the same leaf and the proxy proves it holds the
//! key), re-originates TLS to the server (trusting only that certificate),
//! and reads HTTP/1.1 messages whole: heads with [`httparse`], bodies by
//! `Content-Length`, or chunk by chunk for `Transfer-Encoding: chunked`
//! (passed through whole, framing and all), or to the end of the
//! connection for a response with neither.
//!
//! Each request the client sends takes the next [`HttpFault`] from a queue,
//! or a random one ([`HttpFaultProxy::randomly`]):
//!
//! | fault | the server sees | the client sees |
//! | --- | --- | --- |
//! | `Pass` | the request | the response |
//! | `DropRequest` | nothing | its connection closed |
//! | `TruncateRequest(n)` | the first `n` bytes, then the end | its connection closed |
//! | `DropResponse` | the request, answered in full | its connection closed |
//! | `TruncateResponse(n)` | the request | `n` bytes of the answer, then the end |
//! | `Delay(ms)` | the request, `ms` late | the response, `ms` late |
//! | `Duplicate` | the request twice | the answer to the second |
//! | `Reorder` | the request, after the client's next one | its connection closed |
//! | `Stale` | the request | an earlier answer to the same method and path |
//!
//! `Stale` gives the oldest of the last [`STALE_DEPTH`] answers to that
//! method and path (possibly another device's); with no earlier answer to
//! give it passes the real one and counts as `pass`. Client connections are kept alive for as many requests as the
//! client sends, unless a fault closed them or either side asked to close;
//! each request goes to the server on a connection of its own, so what
//! reaches the server is exactly what the fault says. The proxy keeps the
//! last [`LOG_LIMIT`] [`Exchange`]s: what the server answered to each
//! request (a duplicate's two answers, a reordered request's late one)
//! and what the client was given, so a test can show where each fault
//! landed.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, ServerConfig, ServerConnection, StreamOwned};

use crate::rng::Rng;

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpFault {
    /// Forward the request and the response.
    Pass,
    /// Close the client's connection; the server never hears of it.
    DropRequest,
    /// Forward this many bytes of the request, then close both sides.
    TruncateRequest(usize),
    /// Forward the request, read the server's whole answer, and close the
    /// client's connection without any of it.
    DropResponse,
    /// Forward this many bytes of the answer, then close the client's
    /// connection.
    TruncateResponse(usize),
    /// Wait this many milliseconds before forwarding the request, and
    /// again before forwarding the response.
    Delay(u64),
    /// Send the request to the server twice; the client gets the second
    /// answer.
    Duplicate,
    /// Hold the request and close the client's connection; deliver it to
    /// the server once the server has answered the next request.
    Reorder,
    /// Forward the request; give the client an earlier answer to the same
    /// method and path instead of the real one (the oldest of the last
    /// [`STALE_DEPTH`]).
    Stale,
}

impl HttpFault {
    /// Every kind's name, as [`HttpFaultProxy::counts`] counts them.
    pub const KINDS: [&'static str; 9] = [
        "pass",
        "drop_request",
        "truncate_request",
        "drop_response",
        "truncate_response",
        "delay",
        "duplicate",
        "reorder",
        "stale",
    ];

    /// This fault's kind (one of [`HttpFault::KINDS`]).
    pub fn kind(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::DropRequest => "drop_request",
            Self::TruncateRequest(_) => "truncate_request",
            Self::DropResponse => "drop_response",
            Self::TruncateResponse(_) => "truncate_response",
            Self::Delay(_) => "delay",
            Self::Duplicate => "duplicate",
            Self::Reorder => "reorder",
            Self::Stale => "stale",
        }
    }
}

/// How faults are chosen.
#[derive(Debug)]
enum Mode {
    /// In order; [`HttpFault::Pass`] once the queue is empty.
    Queue(VecDeque<HttpFault>),
    /// Pass with probability `pass_percent`, else any other fault.
    Random { rng: Rng, pass_percent: u64 },
}

impl Mode {
    fn next(&mut self) -> HttpFault {
        match self {
            Self::Queue(q) => q.pop_front().unwrap_or(HttpFault::Pass),
            Self::Random { rng, pass_percent } => {
                if rng.below(100) < *pass_percent {
                    return HttpFault::Pass;
                }
                match rng.below(8) {
                    0 => HttpFault::DropRequest,
                    1 => HttpFault::TruncateRequest(rng.below(600) as usize),
                    2 => HttpFault::DropResponse,
                    3 => HttpFault::TruncateResponse(rng.below(300) as usize),
                    4 => HttpFault::Delay(rng.below(40)),
                    5 => HttpFault::Duplicate,
                    6 => HttpFault::Reorder,
                    _ => HttpFault::Stale,
                }
            }
        }
    }
}

/// How many [`Exchange`]s the proxy keeps.
pub const LOG_LIMIT: usize = 1000;

/// One request as it went through the proxy.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The request's method.
    pub method: String,
    /// The request's target (path and query).
    pub target: String,
    /// The fault it met.
    pub fault: HttpFault,
    /// Whether this is a held ([`HttpFault::Reorder`]) request delivered
    /// late; its first entry (held, no answer) is logged when it was held.
    pub late: bool,
    /// The server's answers to it, in order (two for a duplicate; none if
    /// it never reached the server whole).
    pub answers: Vec<Answer>,
    /// The answer the client was sent in full, if any.
    pub delivered: Option<Answer>,
    /// The request's `Content-Encoding` (protocol 2, issue 20), if any.
    pub request_encoding: Option<String>,
    /// The request body's bytes as sent (compressed, if it was).
    pub request_bytes: usize,
}

/// An HTTP response: status and body (de-chunked, and inflated if it came
/// with `Content-Encoding: deflate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The body, inflated.
    pub body: Vec<u8>,
    /// Its `Content-Encoding`, if any.
    pub encoding: Option<String>,
    /// Its `Hearth-Protocol` header, if any.
    pub protocol: Option<String>,
    /// The body's bytes as sent (compressed, if it was).
    pub wire_bytes: usize,
}

impl Answer {
    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// What the connection threads share.
struct Shared {
    upstream: SocketAddr,
    server_tls: Arc<ServerConfig>,
    client_tls: Arc<ClientConfig>,
    mode: Mutex<Mode>,
    counts: Mutex<BTreeMap<&'static str, u64>>,
    /// Reordered requests waiting for the next request to reach the server.
    held: Mutex<Vec<Message>>,
    /// The last [`STALE_DEPTH`] answers (raw) to each method and target,
    /// oldest first.
    history: Mutex<HashMap<(String, String), VecDeque<Message>>>,
    log: Mutex<VecDeque<Exchange>>,
    /// Client connections accepted.
    connections: AtomicUsize,
    /// Headers removed from every answer the client is given
    /// ([`HttpFaultProxy::strip_answer_header`]), lower case.
    strip: Mutex<Vec<String>>,
    /// Whether the proxy plays a server from before protocol 2
    /// ([`HttpFaultProxy::play_old_server`]).
    old_server: AtomicBool,
}

/// A running proxy. Dropping it stops accepting new connections.
pub struct HttpFaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
}

impl HttpFaultProxy {
    /// Listens on a free loopback port and forwards to the server at
    /// `upstream`, whose data directory `server_data` holds its TLS
    /// certificate and key.
    pub fn start(upstream: SocketAddr, server_data: &Path) -> Self {
        let (certs, key) = server_identity(server_data);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut server_tls = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_no_client_auth()
            .with_single_cert(certs.clone(), key)
            .expect("the server's certificate and key");
        server_tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(certs[0].clone())
            .expect("the server's certificate as a trust anchor");
        let mut client_tls = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        client_tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let shared = Arc::new(Shared {
            upstream,
            server_tls: Arc::new(server_tls),
            client_tls: Arc::new(client_tls),
            mode: Mutex::new(Mode::Queue(VecDeque::new())),
            counts: Mutex::default(),
            held: Mutex::default(),
            history: Mutex::default(),
            log: Mutex::default(),
            connections: AtomicUsize::new(0),
            strip: Mutex::default(),
            old_server: AtomicBool::new(false),
        });
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (shared.clone(), stop.clone());
        thread::spawn(move || {
            for client in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                s.connections.fetch_add(1, Ordering::SeqCst);
                let s = s.clone();
                thread::spawn(move || serve(&s, client));
            }
        });
        Self { addr, shared, stop }
    }

    /// The address agents should use.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://` and [`HttpFaultProxy::addr`].
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Queues faults for the next requests, in order (then `Pass`).
    pub fn queue(&self, faults: &[HttpFault]) {
        *self.shared.mode.lock().unwrap() = Mode::Queue(faults.iter().copied().collect());
    }

    /// Chooses faults at random from now on: `Pass` with probability
    /// `pass_percent` (0 to 100), else any other, evenly.
    pub fn randomly(&self, rng: Rng, pass_percent: u64) {
        *self.shared.mode.lock().unwrap() = Mode::Random { rng, pass_percent };
    }

    /// How many requests met each kind of fault (kinds of
    /// [`HttpFault::KINDS`]; those not met are absent).
    pub fn counts(&self) -> BTreeMap<&'static str, u64> {
        self.shared.counts.lock().unwrap().clone()
    }

    /// Client connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// From now on, removes the header `name` (any case) from every
    /// answer the client is given in full; the log keeps what the server
    /// sent. Issue 20: without `Hearth-Protocol`, an agent must take the
    /// server for an old one.
    pub fn strip_answer_header(&self, name: &str) {
        self.shared
            .strip
            .lock()
            .unwrap()
            .push(name.to_ascii_lowercase());
    }

    /// From now on, plays a server from before protocol 2 (issue 20): no
    /// `Hearth-Protocol` or `Hearth-Batch-Records` in any answer, and a
    /// request with a
    /// `Content-Encoding` answered by the proxy itself, never forwarded,
    /// with the 400 `bad_batch` an old server gives a body it cannot
    /// decode.
    pub fn play_old_server(&self) {
        self.strip_answer_header(hearth_shared::wire::PROTOCOL_HEADER);
        self.strip_answer_header(hearth_shared::wire::BATCH_RECORDS_HEADER);
        self.shared.old_server.store(true, Ordering::SeqCst);
    }

    /// Reordered requests not yet delivered.
    pub fn held(&self) -> usize {
        self.shared.held.lock().unwrap().len()
    }

    /// The last [`LOG_LIMIT`] exchanges, oldest first.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.shared.log.lock().unwrap().iter().cloned().collect()
    }
}

impl Drop for HttpFaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// The certificate chain and key in `DATA/tls/` (see the server's
/// `tls::ensure_self_signed`).
fn server_identity(data: &Path) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let cert_path = data.join("tls/cert.pem");
    let key_path = data.join("tls/key.pem");
    let certs: Vec<_> = CertificateDer::pem_file_iter(&cert_path)
        .unwrap_or_else(|e| panic!("read {}: {e:?}", cert_path.display()))
        .collect::<Result<_, _>>()
        .expect("PEM certificates");
    assert!(
        !certs.is_empty(),
        "{} holds a certificate",
        cert_path.display()
    );
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .unwrap_or_else(|e| panic!("read {}: {e:?}", key_path.display()));
    (certs, key)
}

/// How long a connection may sit waiting for the other side.
const IDLE: Duration = Duration::from_secs(60);

type ClientStream = BufReader<StreamOwned<ServerConnection, TcpStream>>;

/// One client connection: TLS, then requests until one side closes.
fn serve(shared: &Shared, tcp: TcpStream) {
    let _ = tcp.set_nodelay(true);
    let _ = tcp.set_read_timeout(Some(IDLE));
    let Ok(conn) = ServerConnection::new(shared.server_tls.clone()) else {
        return;
    };
    let mut client = BufReader::new(StreamOwned::new(conn, tcp));
    loop {
        let request = match read_message(&mut client, Kind::Request) {
            Ok(Some(m)) => m,
            Ok(None) => {
                // The client closed after a whole message: close politely.
                let stream = client.get_mut();
                stream.conn.send_close_notify();
                let _ = stream.flush();
                break;
            }
            Err(_) => break,
        };
        let fault = shared.mode.lock().unwrap().next();
        if !handle(shared, &mut client, request, fault) {
            break;
        }
    }
    // Abrupt: no close_notify, as when a network drops.
    let _ = client.get_ref().sock.shutdown(Shutdown::Both);
}

/// One request's passage: its log entry, and those of held requests
/// delivered after the server answered it (logged after it).
struct Turn {
    entry: Exchange,
    late: Vec<Exchange>,
}

/// Applies `fault` to `request`; returns whether the client's connection
/// stays open. Everything is counted and logged before the client reads
/// a byte of the answer, so a test that has its answer sees the log.
fn handle(shared: &Shared, client: &mut ClientStream, request: Message, fault: HttpFault) -> bool {
    let mut turn = Turn {
        entry: Exchange {
            method: request.method().to_string(),
            target: request.target().to_string(),
            fault,
            late: false,
            answers: Vec::new(),
            delivered: None,
            request_encoding: request.header("content-encoding"),
            request_bytes: request.body().len(),
        },
        late: Vec::new(),
    };
    let mut counted = fault.kind();
    if shared.old_server.load(Ordering::SeqCst) && request.header("content-encoding").is_some() {
        let answer = old_server_refusal();
        turn.entry.delivered = Some(answer.answer());
        turn.entry.answers.push(answer.answer());
        *shared.counts.lock().unwrap().entry(counted).or_insert(0) += 1;
        log(shared, turn.entry);
        return send(client, &answer.raw) && !request.close;
    }
    // What to write to the client, and whether its connection stays open.
    let (reply, keep): (Option<Vec<u8>>, bool) = match fault {
        HttpFault::Pass | HttpFault::Delay(_) | HttpFault::Duplicate | HttpFault::Stale => {
            match relay(shared, &request, &mut turn, &mut counted) {
                Some((given, keep)) => (Some(given), keep),
                None => (None, false),
            }
        }
        HttpFault::DropRequest => (None, false),
        HttpFault::TruncateRequest(n) => {
            truncated_request(shared, &request.raw[..n.min(request.raw.len())]);
            (None, false)
        }
        HttpFault::DropResponse | HttpFault::TruncateResponse(_) => {
            let mut reply = None;
            if let Some(answer) = forward(shared, &request, &mut turn) {
                if let HttpFault::TruncateResponse(n) = fault {
                    reply = Some(answer.raw[..n.min(answer.raw.len())].to_vec());
                }
                remember(shared, &request, answer);
            }
            (reply, false)
        }
        HttpFault::Reorder => {
            shared.held.lock().unwrap().push(request);
            (None, false)
        }
    };
    *shared.counts.lock().unwrap().entry(counted).or_insert(0) += 1;
    log(shared, turn.entry);
    for late in turn.late {
        log(shared, late);
    }
    match reply {
        Some(bytes) => send(client, &bytes) && keep,
        None => false,
    }
}

/// What a server from before protocol 2 answers a compressed batch: it
/// reads the body as postcard, which it is not.
fn old_server_refusal() -> Message {
    let body = br#"{"error":"bad_batch","message":"the body is not a postcard UploadBatch (content type application/x-hearth-batch)"}"#;
    let mut raw = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    let body_at = raw.len();
    raw.extend_from_slice(body);
    Message {
        raw,
        start: Start::Response { status: 400 },
        body_at,
        chunked: false,
        close: false,
    }
}

/// The faults after which the client gets an answer in full: forwards
/// `request` (twice for a duplicate, late for a delay) and chooses the
/// answer to give (an earlier one for `Stale`, when there is one, else
/// `counted` becomes `pass`). Returns its bytes and whether the
/// connection stays open after it; `None` if the server was unreachable.
fn relay(
    shared: &Shared,
    request: &Message,
    turn: &mut Turn,
    counted: &mut &'static str,
) -> Option<(Vec<u8>, bool)> {
    let fault = turn.entry.fault;
    if let HttpFault::Delay(ms) = fault {
        thread::sleep(Duration::from_millis(ms));
    }
    let mut answer = forward(shared, request, turn);
    if fault == HttpFault::Duplicate && answer.is_some() {
        answer = forward(shared, request, turn);
    }
    // The server could not be reached: the client sees its connection
    // end, as it would without the proxy.
    let answer = answer?;
    let mut given = None;
    if fault == HttpFault::Stale {
        given = earlier(shared, request);
        if given.is_none() {
            *counted = HttpFault::Pass.kind();
        }
    }
    let given = given.unwrap_or_else(|| answer.clone());
    remember(shared, request, answer);
    if let HttpFault::Delay(ms) = fault {
        thread::sleep(Duration::from_millis(ms));
    }
    turn.entry.delivered = Some(given.answer());
    let keep = !request.close && !given.close;
    let strip = shared.strip.lock().unwrap().clone();
    let raw = if strip.is_empty() {
        given.raw
    } else {
        given.without_headers(&strip)
    };
    Some((raw, keep))
}

/// Sends `request` to the server on a new connection and reads its
/// answer, kept in `turn`; then delivers any held requests.
fn forward(shared: &Shared, request: &Message, turn: &mut Turn) -> Option<Message> {
    let answer = exchange(shared, request).ok()?;
    turn.entry.answers.push(answer.answer());
    deliver_held(shared, &mut turn.late);
    Some(answer)
}

/// Delivers every held ([`HttpFault::Reorder`]) request, each with the
/// server's answer added to `late`.
fn deliver_held(shared: &Shared, late: &mut Vec<Exchange>) {
    let held = std::mem::take(&mut *shared.held.lock().unwrap());
    for request in held {
        let answers = exchange(shared, &request)
            .map(|a| vec![a.answer()])
            .unwrap_or_default();
        late.push(Exchange {
            method: request.method().to_string(),
            target: request.target().to_string(),
            fault: HttpFault::Reorder,
            late: true,
            answers,
            delivered: None,
            request_encoding: request.header("content-encoding"),
            request_bytes: request.body().len(),
        });
    }
}

/// How many answers to one method and target are kept for `Stale`.
const STALE_DEPTH: usize = 8;

/// The oldest answer kept to the same method and target, if any: the
/// stalest a cache in the way could give.
fn earlier(shared: &Shared, request: &Message) -> Option<Message> {
    let key = (request.method().to_string(), request.target().to_string());
    let history = shared.history.lock().unwrap();
    history.get(&key).and_then(|kept| kept.front().cloned())
}

/// Keeps `answer` among those to `request`'s method and target.
fn remember(shared: &Shared, request: &Message, answer: Message) {
    let key = (request.method().to_string(), request.target().to_string());
    let mut history = shared.history.lock().unwrap();
    let kept = history.entry(key).or_default();
    if kept.len() == STALE_DEPTH {
        kept.pop_front();
    }
    kept.push_back(answer);
}

fn log(shared: &Shared, entry: Exchange) {
    let mut log = shared.log.lock().unwrap();
    if log.len() == LOG_LIMIT {
        log.pop_front();
    }
    log.push_back(entry);
}

/// Writes `bytes` to the client; whether it all went.
fn send(client: &mut ClientStream, bytes: &[u8]) -> bool {
    let stream = client.get_mut();
    stream
        .write_all(bytes)
        .and_then(|()| stream.flush())
        .is_ok()
}

type UpstreamStream = StreamOwned<ClientConnection, TcpStream>;

/// A new TLS connection to the server.
fn connect(shared: &Shared) -> io::Result<UpstreamStream> {
    let tcp = TcpStream::connect(shared.upstream)?;
    tcp.set_nodelay(true)?;
    tcp.set_read_timeout(Some(IDLE))?;
    let name = ServerName::IpAddress(shared.upstream.ip().into());
    let conn = ClientConnection::new(shared.client_tls.clone(), name).map_err(io::Error::other)?;
    Ok(StreamOwned::new(conn, tcp))
}

/// One request and its answer on a connection of their own.
fn exchange(shared: &Shared, request: &Message) -> io::Result<Message> {
    let mut upstream = connect(shared)?;
    upstream.write_all(&request.raw)?;
    upstream.flush()?;
    let head_only = request.method().eq_ignore_ascii_case("HEAD");
    let mut reader = BufReader::new(upstream);
    let answer = read_message(&mut reader, Kind::Response { head_only })?
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "no answer"))?;
    let _ = reader.get_ref().sock.shutdown(Shutdown::Both);
    Ok(answer)
}

/// Sends the first bytes of a request, then ends the connection (a TLS
/// close, so the server reads the end rather than waiting for more).
fn truncated_request(shared: &Shared, bytes: &[u8]) {
    let Ok(mut upstream) = connect(shared) else {
        return;
    };
    if upstream
        .write_all(bytes)
        .and_then(|()| upstream.flush())
        .is_ok()
    {
        upstream.conn.send_close_notify();
        let _ = upstream.flush();
        // Let the server read what came before the end.
        let _ = upstream.sock.shutdown(Shutdown::Write);
        let mut sink = [0u8; 1024];
        let _ = upstream.sock.set_read_timeout(Some(Duration::from_secs(5)));
        while matches!(upstream.sock.read(&mut sink), Ok(n) if n > 0) {}
    }
    let _ = upstream.sock.shutdown(Shutdown::Both);
}

/// Which message is read: a request, or a response (to a `HEAD` request,
/// which has no body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Request,
    Response { head_only: bool },
}

/// One HTTP/1.1 message, as it came (`raw`), with what the proxy needs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Message {
    /// Head and body, byte for byte.
    raw: Vec<u8>,
    /// Request: method and target. Response: status.
    start: Start,
    /// Where the body starts in `raw`.
    body_at: usize,
    /// Whether the body is chunked.
    chunked: bool,
    /// Whether the connection ends after it (`Connection: close`,
    /// HTTP/1.0, or a response delimited by the end of the connection).
    close: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Start {
    Request { method: String, target: String },
    Response { status: u16 },
}

impl Message {
    fn method(&self) -> &str {
        match &self.start {
            Start::Request { method, .. } => method,
            Start::Response { .. } => "",
        }
    }

    fn target(&self) -> &str {
        match &self.start {
            Start::Request { target, .. } => target,
            Start::Response { .. } => "",
        }
    }

    /// The body, de-chunked (as sent: not inflated).
    fn body(&self) -> Vec<u8> {
        let body = &self.raw[self.body_at..];
        if self.chunked {
            dechunk(body)
        } else {
            body.to_vec()
        }
    }

    /// The lines of the (last) head, without the start line.
    fn head_lines(&self) -> impl Iterator<Item = &str> {
        let head = std::str::from_utf8(&self.raw[..self.body_at]).unwrap_or("");
        let start = head.rfind("\r\nHTTP/").map_or(0, |i| i + 2);
        head[start..].split("\r\n").skip(1)
    }

    /// The value of header `name` (lower case), if present.
    fn header(&self, name: &str) -> Option<String> {
        self.head_lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }

    /// The raw message with every line of the headers `names` removed.
    fn without_headers(&self, names: &[String]) -> Vec<u8> {
        let head = String::from_utf8_lossy(&self.raw[..self.body_at]);
        let kept: Vec<&str> = head
            .split("\r\n")
            .filter(|line| {
                line.split_once(':')
                    .is_none_or(|(k, _)| !names.iter().any(|n| k.trim().eq_ignore_ascii_case(n)))
            })
            .collect();
        let mut out = kept.join("\r\n").into_bytes();
        out.extend_from_slice(&self.raw[self.body_at..]);
        out
    }

    /// The response's status and body, inflated if it was deflated.
    fn answer(&self) -> Answer {
        let status = match self.start {
            Start::Response { status } => status,
            Start::Request { .. } => 0,
        };
        let body = self.body();
        let encoding = self.header("content-encoding");
        let wire_bytes = body.len();
        let body = match encoding.as_deref() {
            Some(e) if e.eq_ignore_ascii_case(hearth_shared::wire::DEFLATE) => {
                hearth_shared::wire::decompress(&body, MAX_BODY).unwrap_or(body)
            }
            _ => body,
        };
        Answer {
            status,
            body,
            encoding,
            protocol: self.header(hearth_shared::wire::PROTOCOL_HEADER),
            wire_bytes,
        }
    }
}

/// The longest head read.
const MAX_HEAD: usize = 64 * 1024;
/// The longest body read.
const MAX_BODY: usize = 64 * 1024 * 1024;

fn invalid(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

/// Reads one whole message; `None` if the stream ends before it starts.
/// A `1xx` interim response is kept with the final one that follows it.
fn read_message(r: &mut impl BufRead, kind: Kind) -> io::Result<Option<Message>> {
    let mut raw = Vec::new();
    loop {
        let head_start = raw.len();
        if !read_head(r, &mut raw)? {
            return if raw.is_empty() {
                Ok(None)
            } else {
                Err(invalid("the stream ended inside a message"))
            };
        }
        let head = parse_head(&raw[head_start..], kind)?;
        if matches!(head.start, Start::Response { status } if (100..200).contains(&status)) {
            continue;
        }
        let body_at = raw.len();
        let mut close = head.close;
        match head.body {
            Body::None => {}
            Body::Length(n) => {
                if n > MAX_BODY {
                    return Err(invalid(format!("a body of {n} bytes")));
                }
                let at = raw.len();
                raw.resize(at + n, 0);
                r.read_exact(&mut raw[at..])?;
            }
            Body::Chunked => read_chunks(r, &mut raw)?,
            Body::UntilEnd => {
                read_to_end_lenient(r, &mut raw)?;
                close = true;
            }
        }
        return Ok(Some(Message {
            raw,
            start: head.start,
            body_at,
            chunked: head.body == Body::Chunked,
            close,
        }));
    }
}

/// Appends a head (through its empty line) to `raw`; false if the stream
/// ended before any of it.
fn read_head(r: &mut impl BufRead, raw: &mut Vec<u8>) -> io::Result<bool> {
    let start = raw.len();
    loop {
        let n = r
            .by_ref()
            .take((MAX_HEAD + 1) as u64)
            .read_until(b'\n', raw)?;
        if n == 0 {
            if raw.len() == start {
                return Ok(false);
            }
            return Err(invalid("the stream ended inside a head"));
        }
        if raw.len() - start > MAX_HEAD {
            return Err(invalid("a head over 64 KiB"));
        }
        if raw[start..] == b"\r\n"[..] {
            // A stray empty line before a message: skip it.
            raw.truncate(start);
            continue;
        }
        if raw[start..].ends_with(b"\r\n\r\n") {
            return Ok(true);
        }
    }
}

/// How a message's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    None,
    Length(usize),
    Chunked,
    UntilEnd,
}

struct Head {
    start: Start,
    body: Body,
    close: bool,
}

/// Parses a head with [`httparse`] and works out its body's framing
/// (RFC 9112 section 6.3).
fn parse_head(bytes: &[u8], kind: Kind) -> io::Result<Head> {
    let mut headers = [httparse::EMPTY_HEADER; 100];
    let (start, version, headers): (Start, u8, &[httparse::Header]) = match kind {
        Kind::Request => {
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(bytes).map_err(|e| invalid(e.to_string()))? {
                httparse::Status::Complete(_) => {}
                httparse::Status::Partial => return Err(invalid("a partial request head")),
            }
            let start = Start::Request {
                method: req.method.unwrap_or_default().to_string(),
                target: req.path.unwrap_or_default().to_string(),
            };
            (start, req.version.unwrap_or(1), req.headers)
        }
        Kind::Response { .. } => {
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(bytes).map_err(|e| invalid(e.to_string()))? {
                httparse::Status::Complete(_) => {}
                httparse::Status::Partial => return Err(invalid("a partial response head")),
            }
            let start = Start::Response {
                status: resp.code.unwrap_or(0),
            };
            (start, resp.version.unwrap_or(1), resp.headers)
        }
    };
    let mut close = version == 0;
    let mut chunked = false;
    let mut length: Option<usize> = None;
    for h in headers {
        let value = String::from_utf8_lossy(h.value);
        let tokens = || value.split(',').map(|t| t.trim().to_ascii_lowercase());
        if h.name.eq_ignore_ascii_case("connection") {
            close |= tokens().any(|t| t == "close");
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = tokens().next_back().is_some_and(|t| t == "chunked");
        } else if h.name.eq_ignore_ascii_case("content-length") {
            let n = value
                .trim()
                .parse()
                .map_err(|_| invalid(format!("Content-Length {value:?}")))?;
            if length.is_some_and(|m| m != n) {
                return Err(invalid("two different Content-Lengths"));
            }
            length = Some(n);
        }
    }
    let no_body = match (kind, &start) {
        (Kind::Response { head_only }, Start::Response { status }) => {
            head_only || *status == 204 || *status == 304
        }
        _ => false,
    };
    let body = if no_body {
        Body::None
    } else if chunked {
        Body::Chunked
    } else if let Some(n) = length {
        Body::Length(n)
    } else if kind == Kind::Request {
        Body::None
    } else {
        Body::UntilEnd
    };
    Ok(Head { start, body, close })
}

/// Appends a chunked body, framing, last chunk and trailers included.
fn read_chunks(r: &mut impl BufRead, raw: &mut Vec<u8>) -> io::Result<()> {
    let body_start = raw.len();
    loop {
        let line_at = raw.len();
        read_line(r, raw)?;
        let size = match httparse::parse_chunk_size(&raw[line_at..]) {
            Ok(httparse::Status::Complete((_, size))) => size,
            _ => return Err(invalid("a bad chunk size line")),
        };
        let size = usize::try_from(size).map_err(|_| invalid("a chunk too large"))?;
        if raw.len() - body_start + size > MAX_BODY {
            return Err(invalid("a chunked body over the limit"));
        }
        if size == 0 {
            // Trailers, then the empty line.
            loop {
                let at = raw.len();
                read_line(r, raw)?;
                if raw[at..] == b"\r\n"[..] || raw[at..] == b"\n"[..] {
                    return Ok(());
                }
            }
        }
        let at = raw.len();
        raw.resize(at + size + 2, 0);
        r.read_exact(&mut raw[at..])?;
        if !raw.ends_with(b"\r\n") {
            return Err(invalid("a chunk not ended by CRLF"));
        }
    }
}

/// Appends one line (through `\n`), at most [`MAX_HEAD`] bytes.
fn read_line(r: &mut impl BufRead, raw: &mut Vec<u8>) -> io::Result<()> {
    let n = r.by_ref().take(MAX_HEAD as u64).read_until(b'\n', raw)?;
    if n == 0 || !raw.ends_with(b"\n") {
        return Err(invalid("the stream ended inside a chunked body"));
    }
    Ok(())
}

/// Reads to the end of the stream; a TLS peer that closes without
/// `close_notify` ends the body too (what a browser accepts).
fn read_to_end_lenient(r: &mut impl BufRead, raw: &mut Vec<u8>) -> io::Result<()> {
    let mut limited = r.by_ref().take((MAX_BODY + 1) as u64);
    match limited.read_to_end(raw) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {}
        Err(e) => return Err(e),
    }
    Ok(())
}

/// A chunked body's data, framing removed (best effort: what a test reads).
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Ok(httparse::Status::Complete((used, size))) = httparse::parse_chunk_size(body) {
        let Ok(size) = usize::try_from(size) else {
            break;
        };
        if size == 0 || body.len() < used + size {
            break;
        }
        out.extend_from_slice(&body[used..used + size]);
        body = body.get(used + size + 2..).unwrap_or_default();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8], kind: Kind) -> io::Result<Option<Message>> {
        read_message(&mut &bytes[..], kind)
    }

    const RESPONSE: Kind = Kind::Response { head_only: false };

    #[test]
    fn a_request_with_a_length_is_read_whole_and_the_next_follows() {
        let two = b"POST /v1/sync HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut r = &two[..];
        let first = read_message(&mut r, Kind::Request).unwrap().unwrap();
        assert_eq!((first.method(), first.target()), ("POST", "/v1/sync"));
        assert!(first.raw.ends_with(b"\r\n\r\nabc"));
        assert!(!first.close);
        let second = read_message(&mut r, Kind::Request).unwrap().unwrap();
        assert_eq!((second.method(), second.target()), ("GET", "/v1/health"));
        assert_eq!(
            second.raw.len(),
            second.body_at,
            "a GET without a length has no body"
        );
        assert!(read_message(&mut r, Kind::Request).unwrap().is_none());
    }

    #[test]
    fn a_chunked_response_passes_through_whole() {
        let bytes = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: t\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
        let mut r = &bytes[..];
        let m = read_message(&mut r, RESPONSE).unwrap().unwrap();
        assert_eq!(m.raw, bytes[..bytes.len() - 27]);
        assert_eq!(
            m.answer(),
            Answer {
                status: 200,
                body: b"Wikipedia".to_vec(),
                encoding: None,
                protocol: None,
                wire_bytes: 9,
            }
        );
        let next = read_message(&mut r, RESPONSE).unwrap().unwrap();
        assert_eq!(next.answer().status, 204);
        assert!(next.answer().body.is_empty());
    }

    /// Issue 20: a deflated answer is logged inflated, with its encoding,
    /// protocol and bytes on the wire; a header can be stripped from what
    /// the client is given.
    #[test]
    fn a_deflated_answer_is_logged_inflated_and_a_header_can_be_stripped() {
        let plain = br#"{"verdicts":[],"receipts":[]}"#.repeat(20);
        let packed = hearth_shared::wire::compress(&plain);
        let mut bytes = format!(
            "HTTP/1.1 200 OK\r\nHearth-Protocol: 2\r\nContent-Encoding: deflate\r\nContent-Length: {}\r\n\r\n",
            packed.len()
        )
        .into_bytes();
        bytes.extend_from_slice(&packed);
        let m = read(&bytes, RESPONSE).unwrap().unwrap();
        let a = m.answer();
        assert_eq!(a.body, plain);
        assert_eq!(a.encoding.as_deref(), Some("deflate"));
        assert_eq!(a.protocol.as_deref(), Some("2"));
        assert_eq!(a.wire_bytes, packed.len());
        let stripped = m.without_headers(&["hearth-protocol".to_string()]);
        let again = read(&stripped, RESPONSE).unwrap().unwrap();
        assert_eq!(again.answer().protocol, None);
        assert_eq!(again.answer().body, plain);
        assert_eq!(stripped.len() + "Hearth-Protocol: 2\r\n".len(), bytes.len());
    }

    #[test]
    fn close_and_end_delimited_bodies_end_the_connection() {
        let m = read(
            b"HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n",
            RESPONSE,
        )
        .unwrap()
        .unwrap();
        assert!(m.close);
        let m = read(b"HTTP/1.1 200 OK\r\n\r\nto the end", RESPONSE)
            .unwrap()
            .unwrap();
        assert!(m.close);
        assert_eq!(m.answer().body, b"to the end");
        let m = read(b"GET / HTTP/1.0\r\n\r\n", Kind::Request)
            .unwrap()
            .unwrap();
        assert!(m.close, "HTTP/1.0 closes by default");
    }

    #[test]
    fn a_head_response_and_an_interim_response_have_no_body_of_their_own() {
        let m = read(
            b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n",
            Kind::Response { head_only: true },
        )
        .unwrap()
        .unwrap();
        assert!(m.answer().body.is_empty());
        let m = read(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            RESPONSE,
        )
        .unwrap()
        .unwrap();
        assert_eq!(m.answer().status, 200);
        assert_eq!(m.answer().body, b"ok");
    }

    #[test]
    fn cut_or_malformed_messages_are_errors_not_messages() {
        for bad in [
            &b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort"[..],
            b"POST / HTTP/1.1\r\nHost: x\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
            b"NOT HTTP\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        ] {
            assert!(
                read(bad, Kind::Request).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(read(b"", Kind::Request).unwrap().is_none());
    }

    /// A chunked answer naming how many requests the upstream has seen
    /// and the target asked for.
    fn chunked(n: usize, target: &str) -> Vec<u8> {
        let body = format!("{n} {target}");
        format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
            body.len()
        )
        .into_bytes()
    }

    /// An in-process TLS upstream with a fresh self-signed certificate in
    /// `DIR/tls/`, answering every request with [`chunked`] on kept-alive
    /// connections; returns the directory, its address and its count.
    fn upstream() -> (tempfile::TempDir, SocketAddr, Arc<AtomicUsize>) {
        let dir = tempfile::tempdir().unwrap();
        let generated = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
        std::fs::create_dir(dir.path().join("tls")).unwrap();
        std::fs::write(dir.path().join("tls/cert.pem"), generated.cert.pem()).unwrap();
        let key = generated.signing_key.serialize_pem();
        std::fs::write(dir.path().join("tls/key.pem"), key).unwrap();
        let (certs, key) = server_identity(dir.path());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = Arc::new(
            ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(AtomicUsize::new(0));
        let count = seen.clone();
        thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let (config, count) = (config.clone(), count.clone());
                thread::spawn(move || {
                    let conn = ServerConnection::new(config).unwrap();
                    let mut r = BufReader::new(StreamOwned::new(conn, tcp));
                    while let Ok(Some(request)) = read_message(&mut r, Kind::Request) {
                        let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                        let answer = chunked(n, request.target());
                        let w = r.get_mut();
                        if w.write_all(&answer).and_then(|()| w.flush()).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        (dir, addr, seen)
    }

    /// A client connection to the proxy, trusting the upstream's
    /// certificate (as the agent's pin does).
    fn client(data: &Path, proxy: SocketAddr) -> BufReader<UpstreamStream> {
        let (certs, _) = server_identity(data);
        let mut roots = rustls::RootCertStore::empty();
        roots.add(certs[0].clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::IpAddress(proxy.ip().into());
        let conn = ClientConnection::new(Arc::new(config), name).unwrap();
        BufReader::new(StreamOwned::new(conn, TcpStream::connect(proxy).unwrap()))
    }

    /// A GET of `target` on `c`; the answer as received, byte for byte.
    fn get(c: &mut BufReader<UpstreamStream>, target: &str) -> io::Result<Vec<u8>> {
        let w = c.get_mut();
        w.write_all(format!("GET {target} HTTP/1.1\r\nHost: upstream\r\n\r\n").as_bytes())?;
        w.flush()?;
        let m = read_message(c, RESPONSE)?;
        m.map(|m| m.raw)
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "closed"))
    }

    #[test]
    fn kept_alive_chunked_duplicated_reordered_and_stale_on_one_connection() {
        let (dir, addr, seen) = upstream();
        let proxy = HttpFaultProxy::start(addr, dir.path());
        proxy.queue(&[
            HttpFault::Pass,
            HttpFault::Duplicate,
            HttpFault::Stale,
            HttpFault::Reorder,
        ]);
        let mut c = client(dir.path(), proxy.addr());
        assert_eq!(get(&mut c, "/a").unwrap(), chunked(1, "/a"), "passed whole");
        assert_eq!(
            get(&mut c, "/a").unwrap(),
            chunked(3, "/a"),
            "the second answer to a duplicate"
        );
        assert_eq!(
            get(&mut c, "/a").unwrap(),
            chunked(1, "/a"),
            "the oldest answer to GET /a"
        );
        assert_eq!(
            seen.load(Ordering::SeqCst),
            4,
            "the stale request still went up"
        );
        assert_eq!(proxy.connections(), 1, "three requests on one connection");
        assert!(
            get(&mut c, "/held").is_err(),
            "a reordered request's connection ends"
        );
        assert_eq!(proxy.held(), 1);
        let mut c = client(dir.path(), proxy.addr());
        assert_eq!(get(&mut c, "/b").unwrap(), chunked(5, "/b"));
        assert_eq!(proxy.held(), 0);
        let log = proxy.exchanges();
        let last = log.last().unwrap();
        assert!(last.late && last.target == "/held");
        assert_eq!(last.answers[0].body, b"6 /held", "delivered after /b");
        let counts: Vec<_> = proxy.counts().into_iter().collect();
        assert_eq!(
            counts,
            [("duplicate", 1), ("pass", 2), ("reorder", 1), ("stale", 1)]
        );
    }

    #[test]
    fn random_faults_cover_every_kind_and_respect_the_pass_rate() {
        let mut mode = Mode::Random {
            rng: Rng::new(7),
            pass_percent: 50,
        };
        let mut seen = BTreeMap::new();
        for _ in 0..2000 {
            *seen.entry(mode.next().kind()).or_insert(0u32) += 1;
        }
        assert_eq!(seen.len(), HttpFault::KINDS.len(), "{seen:?}");
        let pass = seen["pass"];
        assert!((900..1100).contains(&pass), "pass {pass} of 2000 at 50%");
        let mut queue = Mode::Queue([HttpFault::Stale].into_iter().collect());
        assert_eq!(queue.next(), HttpFault::Stale);
        assert_eq!(queue.next(), HttpFault::Pass);
    }
}

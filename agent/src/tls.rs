//! Server identity: which certificates the agent trusts for its server.
//!
//! Certificate verification is never disabled. At `enrol` the user gives
//! one of:
//!
//! - `--ca FILE`: a PEM CA (or the server's own self-signed certificate);
//!   it is copied to `server-ca.pem` in the store directory.
//! - `--pin SHA256`: the SHA-256 fingerprint of the server's leaf
//!   certificate, as the server prints it (`sha256:<hex>`). [`fetch_pinned`]
//!   opens one raw rustls connection whose verifier ([`PinVerifier`])
//!   accepts the chain only if SHA-256(leaf DER) equals the pin, while
//!   still checking the handshake signatures with the ring provider, so
//!   the peer proves it holds the certificate's key. The leaf is saved as
//!   `server-cert.der`.
//!
//! From then on [`load_trust`] returns the saved certificate(s) and the
//! HTTPS client uses them as its only trust anchors
//! (`ureq::tls::RootCerts::Specific`), with ordinary webpki validation
//! (names, dates, signatures). A pinned self-signed leaf is its own anchor.

use std::io;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

/// The saved CA PEM's file name.
pub const CA_FILE: &str = "server-ca.pem";
/// The saved pinned leaf's file name (DER).
pub const PINNED_FILE: &str = "server-cert.der";

pub use hearth_shared::fingerprint::Fingerprint;

/// A `--pin` as given: [`Fingerprint`]'s forms (`sha256:<64 hex>`, bare
/// or colon-separated hex), or [`TlsError::BadPin`] quoting it.
pub fn parse_pin(text: &str) -> Result<Fingerprint, TlsError> {
    text.parse().map_err(|_| TlsError::BadPin(text.to_string()))
}

/// Why the server's identity could not be established.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// `--pin` is not a SHA-256 fingerprint.
    #[error(
        "--pin {0:?} is not a SHA-256 fingerprint; give it as the server prints it, sha256:<64 hex digits>"
    )]
    BadPin(String),
    /// The server presented another certificate. The message does not
    /// name the fingerprint presented: printing it would invite copying it
    /// into `--pin`, which trusts whoever is in the middle and defeats the
    /// pin.
    #[error(
        "the server's certificate does not match the pin {pinned}, so nothing was trusted or saved; check the fingerprint with your administrator (the server prints it when it starts), and do not change --pin to whatever this connection shows: that may be someone in between"
    )]
    PinMismatch {
        /// The pin given.
        pinned: Fingerprint,
    },
    /// The URL cannot be used.
    #[error("server URL {0:?} is not usable; give it as https://host[:port]")]
    BadUrl(String),
    /// Connecting or the handshake failed.
    #[error("cannot reach {url}")]
    Connect {
        /// The server.
        url: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A certificate file is unusable.
    #[error("{} holds no usable certificate; give a PEM file with a CERTIFICATE block", .0.display())]
    NoCertificate(PathBuf),
    /// No trust anchor saved.
    #[error("this device is not enrolled (no server certificate saved); run `hearth-agent enrol`")]
    NotEnrolled,
    /// Reading or writing a certificate file failed.
    #[error("cannot access {}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// rustls refused the configuration.
    #[error("TLS setup failed: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The ring provider: the only crypto provider the agent uses.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Installs ring as the process-wide rustls provider (idempotent).
pub fn install_provider() {
    let _already = rustls::crypto::ring::default_provider().install_default();
}

/// The host and port of an `https://` URL (`https://host[:port]`, any
/// path after it ignored), parsed by [`http::Uri`].
pub fn host_port(url: &str) -> Result<(String, u16), TlsError> {
    let bad = || TlsError::BadUrl(url.to_string());
    // The scheme exactly as written: `http::Uri` would also take `HTTPS://`.
    if !url.starts_with("https://") {
        return Err(bad());
    }
    let uri: http::Uri = url.parse().map_err(|_| bad())?;
    let authority = uri.authority().ok_or_else(bad)?.as_str();
    // No user info: credentials in a server URL are refused, not sent.
    if authority.contains('@') {
        return Err(bad());
    }
    let host = uri.host().ok_or_else(bad)?;
    // `Authority::port_u16` is `None` both for no port and for one that is
    // not a number below 65536, and takes `host:` as no port: read what
    // follows the host.
    let port = match &authority[host.len()..] {
        "" => 443,
        written => written
            .strip_prefix(':')
            .and_then(|p| p.parse().ok())
            .ok_or_else(bad)?,
    };
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host.to_string(), port))
}

/// Accepts a server only if its leaf's SHA-256 equals the pin; still
/// verifies the handshake signatures, so the peer must hold the key.
#[derive(Debug)]
pub struct PinVerifier {
    pin: Fingerprint,
    provider: Arc<CryptoProvider>,
    presented: Mutex<Option<Fingerprint>>,
}

impl PinVerifier {
    /// A verifier for `pin`.
    pub fn new(pin: Fingerprint, provider: Arc<CryptoProvider>) -> Self {
        Self {
            pin,
            provider,
            presented: Mutex::new(None),
        }
    }

    /// The fingerprint the server presented, once it has.
    pub fn presented(&self) -> Option<Fingerprint> {
        *self.presented.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // Why the name and dates are not checked here: the pin names one
        // exact certificate, which is stronger than any name check. They
        // are checked on every later connection, which uses the saved leaf
        // as a webpki trust anchor.
        let presented = Fingerprint::of(end_entity.as_ref());
        *self.presented.lock().unwrap_or_else(|e| e.into_inner()) = Some(presented);
        if presented == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Connects to `url`, completes a handshake that accepts only the pinned
/// leaf, and returns that leaf's DER.
pub fn fetch_pinned(url: &str, pin: Fingerprint, timeout: Duration) -> Result<Vec<u8>, TlsError> {
    let (host, port) = host_port(url)?;
    let provider = provider();
    let verifier = Arc::new(PinVerifier::new(pin, provider.clone()));
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    let name = ServerName::try_from(host.clone()).map_err(|_| TlsError::BadUrl(url.to_string()))?;
    let mut conn = ClientConnection::new(Arc::new(config), name)?;
    let connect = |source| TlsError::Connect {
        url: url.to_string(),
        source,
    };
    let addrs: Vec<_> = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
        .map_err(connect)?
        .collect();
    let addr = addrs
        .first()
        .ok_or_else(|| connect(io::Error::new(io::ErrorKind::NotFound, "no address")))?;
    let mut tcp = TcpStream::connect_timeout(addr, timeout).map_err(connect)?;
    tcp.set_read_timeout(Some(timeout)).map_err(connect)?;
    tcp.set_write_timeout(Some(timeout)).map_err(connect)?;
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut tcp) {
            if verifier.presented().is_some_and(|p| p != pin) {
                return Err(TlsError::PinMismatch { pinned: pin });
            }
            return Err(connect(e));
        }
    }
    conn.send_close_notify();
    let _ = conn.complete_io(&mut tcp);
    let leaf = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .ok_or_else(|| {
            connect(io::Error::new(
                io::ErrorKind::InvalidData,
                "the server sent no certificate",
            ))
        })?;
    let der = leaf.as_ref().to_vec();
    // The verifier already checked this; check again at the point of use.
    if Fingerprint::of(&der) != pin {
        return Err(TlsError::PinMismatch { pinned: pin });
    }
    Ok(der)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    std::fs::write(path, bytes).map_err(|source| TlsError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Checks that `pem` holds at least one certificate, then saves it as the
/// server's CA, replacing any earlier trust.
pub fn save_ca(dir: &Path, source: &Path) -> Result<(), TlsError> {
    let pem = std::fs::read(source).map_err(|e| TlsError::Io {
        path: source.to_path_buf(),
        source: e,
    })?;
    if certs_from_pem(&pem).is_empty() {
        return Err(TlsError::NoCertificate(source.to_path_buf()));
    }
    let _ = std::fs::remove_file(dir.join(PINNED_FILE));
    write_file(&dir.join(CA_FILE), &pem)
}

/// Saves a pinned leaf as the server's only trust anchor, replacing any
/// earlier trust.
pub fn save_pinned(dir: &Path, der: &[u8]) -> Result<(), TlsError> {
    let _ = std::fs::remove_file(dir.join(CA_FILE));
    write_file(&dir.join(PINNED_FILE), der)
}

fn certs_from_pem(pem: &[u8]) -> Vec<ureq::tls::Certificate<'static>> {
    ureq::tls::parse_pem(pem)
        .filter_map(Result::ok)
        .filter_map(|item| match item {
            ureq::tls::PemItem::Certificate(c) => Some(c),
            _ => None,
        })
        .collect()
}

/// The saved trust anchors for the server.
pub fn load_trust(dir: &Path) -> Result<Vec<ureq::tls::Certificate<'static>>, TlsError> {
    let pinned = dir.join(PINNED_FILE);
    if let Ok(der) = std::fs::read(&pinned) {
        return Ok(vec![ureq::tls::Certificate::from_der(&der).to_owned()]);
    }
    let ca = dir.join(CA_FILE);
    match std::fs::read(&ca) {
        Ok(pem) => {
            let certs = certs_from_pem(&pem);
            if certs.is_empty() {
                Err(TlsError::NoCertificate(ca))
            } else {
                Ok(certs)
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(TlsError::NotEnrolled),
        Err(source) => Err(TlsError::Io { path: ca, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_parse_in_the_servers_form_and_others() {
        let hex64 = "ab".repeat(32);
        let a: Fingerprint = format!("sha256:{hex64}").parse().unwrap();
        let b: Fingerprint = hex64.parse().unwrap();
        let c: Fingerprint = vec!["AB"; 32].join(":").parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.to_string(), format!("sha256:{hex64}"));
        assert!("sha256:abc".parse::<Fingerprint>().is_err());
    }

    /// Issue 13: the fingerprint is `hearth_shared`'s; a bad `--pin` is
    /// still `TlsError::BadPin` with the same words.
    #[test]
    fn a_bad_pin_says_what_to_give() {
        let hex64 = "ab".repeat(32);
        assert_eq!(
            parse_pin(&format!("SHA256:{hex64}")).unwrap(),
            Fingerprint([0xab; 32])
        );
        let err = parse_pin("sha256:abc").unwrap_err();
        assert!(matches!(&err, TlsError::BadPin(p) if p == "sha256:abc"));
        assert_eq!(
            err.to_string(),
            "--pin \"sha256:abc\" is not a SHA-256 fingerprint; give it as the server prints it, sha256:<64 hex digits>"
        );
    }

    /// Serves one TLS handshake with a fresh self-signed certificate;
    /// returns the URL and the certificate's fingerprint.
    fn one_shot_server() -> (String, Fingerprint, std::thread::JoinHandle<()>) {
        use rustls::ServerConfig;
        use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let der = ck.cert.der().clone();
        let fp = Fingerprint::of(der.as_ref());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![der], key)
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let (mut tcp, _) = listener.accept().unwrap();
            let mut conn = rustls::ServerConnection::new(Arc::new(config)).unwrap();
            while conn.is_handshaking() {
                if conn.complete_io(&mut tcp).is_err() {
                    return;
                }
            }
            let _ = conn.complete_io(&mut tcp);
        });
        (format!("https://localhost:{port}"), fp, handle)
    }

    #[test]
    fn the_right_pin_captures_the_leaf() {
        let (url, fp, server) = one_shot_server();
        let der = fetch_pinned(&url, fp, Duration::from_secs(5)).unwrap();
        assert_eq!(Fingerprint::of(&der), fp);
        server.join().unwrap();
    }

    #[test]
    fn issue_12_a_wrong_pin_does_not_print_the_fingerprint_presented() {
        let (url, fp, server) = one_shot_server();
        let wrong = Fingerprint([0; 32]);
        match fetch_pinned(&url, wrong, Duration::from_secs(5)) {
            Err(e @ TlsError::PinMismatch { .. }) => {
                let text = format!("{e} {e:?}");
                let hex = hex::encode(fp.0);
                assert!(!text.contains(&hex), "{text}");
                assert!(text.contains("does not match"), "{text}");
                assert!(text.contains("administrator"), "{text}");
            }
            other => panic!("expected a pin mismatch, got {other:?}"),
        }
        server.join().unwrap();
    }

    #[test]
    fn urls_split_into_host_and_port() {
        assert_eq!(
            host_port("https://localhost:8443").unwrap(),
            ("localhost".into(), 8443)
        );
        assert_eq!(
            host_port("https://127.0.0.1:1/x").unwrap(),
            ("127.0.0.1".into(), 1)
        );
        assert_eq!(host_port("https://[::1]:9/").unwrap(), ("::1".into(), 9));
        assert_eq!(
            host_port("https://example.org").unwrap(),
            ("example.org".into(), 443)
        );
        assert!(host_port("http://example.org").is_err());
    }

    /// Issue 13: `http::Uri` parses the URL. It accepts what the
    /// hand-written parser did, refuses what it refused, and refuses
    /// early what ureq (which parses with `http::Uri` too) could never
    /// have reached: an empty host, a colon in a bare host, spaces,
    /// non-ASCII.
    #[test]
    fn urls_parse_as_before() {
        let ok = |url: &str, host: &str, port: u16| {
            assert_eq!(host_port(url).unwrap(), (host.to_string(), port), "{url}");
        };
        ok("https://[::1]", "::1", 443);
        ok("https://[::ffff:1.2.3.4]:5", "::ffff:1.2.3.4", 5);
        ok("https://host?x=1", "host", 443);
        ok("https://host:1#x", "host", 1);
        ok("https://host:443/v1/", "host", 443);
        ok("https://HOST:08", "HOST", 8);
        for url in [
            "HTTPS://example.org",
            "https://",
            "https:///x",
            "https://host:",
            "https://[::1]:",
            "https://host:99999",
            "https://host:-1",
            "https://u@host",
            "https://u:p@host:1",
            "https://[::1]x",
            "https://[::1]:x",
            "https://:443",
            "https://a:b:80",
            "https://ex ample.org",
            "https://host/a b",
        ] {
            let err = host_port(url).unwrap_err();
            assert!(matches!(err, TlsError::BadUrl(_)), "{url}");
            assert_eq!(
                err.to_string(),
                format!("server URL {url:?} is not usable; give it as https://host[:port]")
            );
        }
    }
}

//! TLS: [`load_server_config`] gives a rustls `ServerConfig` from a given
//! certificate, or from a self-signed one made with rcgen on first start
//! (`DATA/tls/` mode 0700, `cert.pem` and `key.pem` in it mode 0600), and the leaf
//! certificate's SHA-256 [`Fingerprint`] that agents pin (the type both
//! sides share, from `hearth_shared::fingerprint`).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hearth_shared::fingerprint::Fingerprint;
use rustls::ServerConfig;
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use hearth_shared::private_file;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be read or written.
    #[error("cannot use {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The certificate file holds no certificate.
    #[error("{0} holds no PEM certificate")]
    NoCertificate(PathBuf),
    /// The key file holds no private key.
    #[error("{0} holds no PEM private key")]
    NoKey(PathBuf),
    /// rcgen could not make a certificate.
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the certificate and key.
    #[error("the certificate and key do not form a usable TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// Where the certificate comes from.
#[derive(Debug, Clone)]
pub enum CertSource {
    /// Files the operator gave.
    Files {
        /// PEM certificate chain, leaf first.
        cert: PathBuf,
        /// PEM private key.
        key: PathBuf,
    },
    /// Self-signed in `DATA/tls/`, created on first start with these extra
    /// names beside `localhost`, `127.0.0.1` and `::1`.
    SelfSigned {
        /// Extra subject alternative names.
        names: Vec<String>,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A PEM file that does not parse, as an I/O error of kind `InvalidData`
/// (as `rustls-pemfile` gave it), so the message stays
/// `cannot use PATH: ...`.
fn bad_pem(path: &Path, e: pem::Error) -> TlsError {
    let source = match e {
        pem::Error::Io(e) => e,
        e => std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{e:?}")),
    };
    TlsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Makes sure a self-signed certificate exists in `DATA/tls/`; returns the
/// paths of the certificate and key.
pub fn ensure_self_signed(data: &Path, names: &[String]) -> Result<(PathBuf, PathBuf), TlsError> {
    let dir = data.join("tls");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(io(&dir))?;
    }
    let mut sans = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    sans.extend(names.iter().cloned());
    let generated = rcgen::generate_simple_self_signed(sans)?;
    // Replaced whole (one may be left from an interrupted start).
    private_file::write(&key, generated.signing_key.serialize_pem().as_bytes())
        .map_err(io(&key))?;
    private_file::write(&cert, generated.cert.pem().as_bytes()).map_err(io(&cert))?;
    Ok((cert, key))
}

/// Loads the certificate and key and builds the rustls configuration.
pub fn load_server_config(
    data: &Path,
    source: &CertSource,
) -> Result<(Arc<ServerConfig>, Fingerprint), TlsError> {
    let (cert_path, key_path) = match source {
        CertSource::Files { cert, key } => (cert.clone(), key.clone()),
        CertSource::SelfSigned { names } => ensure_self_signed(data, names)?,
    };
    // Read here rather than with `pem_file_iter`, so that a missing or
    // unreadable file gives the same `cannot use PATH: ...` as before.
    let cert_pem = fs::read(&cert_path).map_err(io(&cert_path))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| bad_pem(&cert_path, e))?;
    let leaf = certs
        .first()
        .ok_or_else(|| TlsError::NoCertificate(cert_path.clone()))?;
    let fingerprint = Fingerprint::of(leaf.as_ref());
    let key_pem = fs::read(&key_path).map_err(io(&key_path))?;
    let key = match PrivateKeyDer::from_pem_slice(&key_pem) {
        Ok(k) => k,
        Err(pem::Error::NoItemsFound) => return Err(TlsError::NoKey(key_path.clone())),
        Err(e) => return Err(bad_pem(&key_path, e)),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // No TLS 1.3 session tickets: agents make a few requests per sync and
    // gain little from resumption, tickets are one more secret to rotate,
    // and without them everything the server writes after a request starts
    // is that request's response (the end-to-end fault proxy relies on it).
    config.send_tls13_tickets = 0;
    Ok((Arc::new(config), fingerprint))
}

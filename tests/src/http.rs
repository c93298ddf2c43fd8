//! A direct HTTPS client for the server, for tests that speak the protocol
//! themselves (hostile input, HTTP pulls): ureq with the server's own
//! certificate as the only trust anchor.

use std::path::Path;
use std::sync::Arc;

use ureq::tls::{Certificate, RootCerts, TlsConfig};

/// An HTTPS agent that trusts only the server whose data directory is `data`.
pub fn client(data: &Path) -> ureq::Agent {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pem = std::fs::read(data.join("tls/cert.pem")).expect("the server wrote tls/cert.pem");
    let cert = Certificate::from_pem(&pem)
        .expect("a PEM certificate")
        .to_owned();
    let tls = TlsConfig::builder()
        .root_certs(RootCerts::Specific(Arc::new(vec![cert])))
        .build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .build()
        .new_agent()
}

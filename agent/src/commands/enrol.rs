//! `enrol`: trust the server (a CA file, or the certificate whose
//! fingerprint the administrator gave), register this device's public key
//! with a one-time token, and keep what the server says this device is.

use std::io::Write;
use std::path::Path;

use ed25519_dalek::VerifyingKey;
use hearth_shared::clock::Clock;
use hearth_shared::protocol::EnrolRequest;

use super::render::emit;
use super::{CommandError, EXIT_OK, open};
use crate::identity::save_staff;
use crate::keys::DeviceKey;
use crate::store::{RecordStore, Registration};
use crate::sync::transport::{PROTOCOL_FILE, Transport};
use crate::tls;

/// The server's receipt key as the enrolment response gives it (hex).
fn server_key(text: &str) -> Result<VerifyingKey, CommandError> {
    Registration::parse_server_key(text).ok_or_else(|| CommandError::BadServerKey(text.to_string()))
}

/// Keeps the server's certificate (`--ca`, or the one `--pin` names).
fn trust_server(
    dir: &Path,
    server: &str,
    ca: Option<&Path>,
    pin: Option<&str>,
) -> Result<(), CommandError> {
    match (ca, pin) {
        (Some(ca), _) => tls::save_ca(dir, ca)?,
        (None, Some(pin)) => {
            let pin = tls::parse_pin(pin)?;
            let der = tls::fetch_pinned(server, pin, crate::sync::transport::CONNECT_TIMEOUT)?;
            tls::save_pinned(dir, &der)?;
        }
        (None, None) => return Err(CommandError::NoServerTrust),
    }
    Ok(())
}

/// `enrol`.
pub(super) fn enrol(
    dir: &Path,
    clock: &dyn Clock,
    server: &str,
    token: &str,
    ca: Option<&Path>,
    pin: Option<&str>,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    if ca.is_none() && pin.is_none() {
        return Err(CommandError::NoServerTrust);
    }
    let (mut store, _settings, key) = open(dir, clock)?;
    let reg = enrol_device(dir, clock, &mut store, &key, server, token, ca, pin)?;
    emit(
        out,
        &format!(
            "enrolled device {} with {} as {} ({})",
            key.device_id(),
            reg.server_url,
            reg.worker,
            reg.agency
        ),
    )?;
    Ok(EXIT_OK)
}

/// What `enrol` does with the store open, for the tablet app's first-run
/// page too: trust the server (the CA file, or the certificate `pin`
/// names), register the device's key with the one-time token, keep the
/// staff list and the registration. Returns the registration.
#[allow(clippy::too_many_arguments)] // the command's own flags, one each
pub fn enrol_device(
    dir: &Path,
    clock: &dyn Clock,
    store: &mut dyn RecordStore,
    key: &DeviceKey,
    server: &str,
    token: &str,
    ca: Option<&Path>,
    pin: Option<&str>,
) -> Result<Registration, CommandError> {
    if ca.is_none() && pin.is_none() {
        return Err(CommandError::NoServerTrust);
    }
    let server = server.trim_end_matches('/');
    tls::host_port(server)?;
    trust_server(dir, server, ca, pin)?;
    // Remembering: the answer says how many records a batch may hold, so
    // the first backlog goes in batches that large.
    let transport =
        Transport::new(server, tls::load_trust(dir)?).remembering(dir.join(PROTOCOL_FILE));
    let response = transport.enrol(&EnrolRequest {
        token: token.to_string(),
        public_key: hex::encode(key.verifying_key().as_bytes()),
    })?;
    if response.device != key.device_id() {
        return Err(CommandError::WrongDevice {
            expected: key.device_id().to_string(),
            found: response.device.to_string(),
        });
    }
    // The staff list first: without a registration it is never read.
    save_staff(dir, &response.staff)?;
    let reg = Registration {
        server_url: server.to_string(),
        server_key: server_key(&response.server_key.to_ascii_lowercase())?,
        agency: response.agency,
        worker: response.worker,
        enrolled_at: clock.now(),
    };
    store.set_registration(&reg)?;
    crate::sync::outbox::pin_enrolled(&mut *store, response.outbox_key.as_deref(), clock)?;
    tracing::info!(device = %key.device_id(), "device enrolled");
    Ok(reg)
}

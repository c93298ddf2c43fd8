//! `revocation`: the agent's revocation notice: the body of a refusal, as
//! the transport parses it ([`hearth_agent::sync::transport::parse_ok`]),
//! and the notice in it checked as `sync` checks it before destroying the
//! data key ([`hearth_shared::protocol::RevocationNotice::verify`] with the
//! pinned server key and this device).
//!
//! Whatever the refusal, the line the agent would print from it must be
//! one line with nothing hidden: the body is the server's (or anyone's the
//! TLS layer trusts), the terminal the operator's.
//!
//! The notice is checked as it came, then re-signed by the server key (as
//! the genuine server would sign it), which must verify exactly when it
//! names this device.
#![no_main]

use hearth_agent::sync::transport::{TransportError, parse_ok};
use hearth_fuzz::{assert_printable, device, server_key};
use hearth_shared::protocol::{RevocationNotice, UploadResponse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data.split_first() {
        Some((&s, rest)) => (400 + u16::from(s % 110), rest),
        None => return,
    };
    let text = String::from_utf8_lossy(body);
    let answer = parse_ok::<UploadResponse>(status, &text);
    if let Err(e) = &answer {
        assert_printable(&e.to_string());
    }
    let Err(TransportError::Revoked { message, notice }) = answer else {
        return;
    };
    assert!(!message.is_empty(), "a revocation with no message");
    let Some(notice) = notice else {
        return;
    };
    let server = server_key();
    let ours = device();
    if notice.verify(&server.verifying_key(), ours) {
        assert_eq!(notice.device, ours, "a notice for another device verified");
    }
    let genuine = RevocationNotice::sign(&server, notice.device, notice.revoked_at);
    assert_eq!(
        genuine.verify(&server.verifying_key(), ours),
        notice.device == ours,
        "the server's own notice is judged wrongly"
    );
});

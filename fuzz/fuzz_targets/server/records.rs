//! Valid signed records from fuzzer-chosen plans: the kinds the chronology
//! treats differently (plain records, amendments and revisions, which may
//! correct a record of their own device, of another, one not yet sent, or
//! form a cycle), with children, dates, agency and author drawn from small
//! sets so that records meet each other; and ways to break one part of a
//! record after it was built (re-signed, so the signature still verifies,
//! or not).

use arbitrary::Arbitrary;
use ed25519_dalek::SigningKey;
use hearth_shared::json::{Defaults, parse_body};
use hearth_shared::signed::{chain_hash, sign_envelope_bytes, split_signed};
use hearth_shared::validate::Validate;
use hearth_shared::{DeviceId, Envelope, RecordHash, RecordId, Seq, SignedRecord, Timestamp};

use super::NOW;

/// The children records name.
pub const CHILDREN: [&str; 4] = [
    "nhs:9434765919",
    "nhs:9876543210",
    "local:NURSERY-12:amy-b",
    "nhs:4010232137",
];

/// What kind of record, and what a correction corrects.
#[derive(Arbitrary, Debug, Clone)]
pub enum KindPlan {
    /// A concern.
    Concern,
    /// A child's voice.
    Voice,
    /// An amendment of `target`.
    Amendment(Target),
    /// A revision of `target`; a retraction if `entered_in_error`.
    Revision {
        /// What it corrects.
        target: Target,
        /// Whether it retracts the record.
        entered_in_error: bool,
    },
}

/// The record a correction names.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct Target {
    /// Its device: an index into the plan's devices (wrapping).
    pub device: u8,
    /// Its sequence number.
    pub seq: u8,
}

/// One record's fields.
#[derive(Arbitrary, Debug, Clone)]
pub struct BodyPlan {
    /// The kind.
    pub kind: KindPlan,
    /// Which of [`CHILDREN`] it names (bits; none becomes the first).
    pub children: u8,
    /// When it happened, in minutes from [`NOW`] (negative: before).
    pub occurred_minutes: i16,
    /// A headline: one of a few, or a short text.
    pub headline: u8,
    /// The agency: `A` (the enrolled one) unless set.
    pub other_agency: bool,
    /// The author: 0 the worker `w`, 1 the staff member `s`, else a
    /// stranger.
    pub author: u8,
}

const HEADLINES: [&str; 4] = [
    "Seen at nursery",
    "Bruise on arm",
    "Ça va \u{e9}t\u{e9} \"quoted\"",
    "Home visit, no answer",
];

impl BodyPlan {
    /// The record's JSON form, as `hearth-agent record --json` takes it.
    pub fn json(&self, devices: &[DeviceId]) -> String {
        let mut children: Vec<String> = CHILDREN
            .iter()
            .enumerate()
            .filter(|(i, _)| self.children & (1 << i) != 0)
            .map(|(_, c)| format!("\"{c}\""))
            .collect();
        if children.is_empty() {
            children.push(format!("\"{}\"", CHILDREN[0]));
        }
        let at = Timestamp(NOW.0 + i64::from(self.occurred_minutes) * 60);
        let headline = HEADLINES[usize::from(self.headline) % HEADLINES.len()];
        let head = format!(
            r#""children":[{}],"occurred_at":"{at}","headline":"{}""#,
            children.join(","),
            headline.replace('"', "\\\"")
        );
        let corrects = |t: Target| {
            let device = devices[usize::from(t.device) % devices.len()];
            RecordId {
                device,
                seq: Seq(u64::from(t.seq).max(1)),
            }
        };
        match &self.kind {
            KindPlan::Concern => format!(
                r#"{{"kind":"concern",{head},"category":"neglect","seen_or_said":"x","action":"shared","action_detail":"SW"}}"#
            ),
            KindPlan::Voice => {
                format!(r#"{{"kind":"voice",{head},"mode":"behaviour","behaviour":"hid"}}"#)
            }
            KindPlan::Amendment(t) => format!(
                r#"{{"kind":"amendment",{head},"corrects":"{}","reason":"date typed wrongly"}}"#,
                corrects(*t)
            ),
            KindPlan::Revision {
                target,
                entered_in_error: true,
            } => format!(
                r#"{{"kind":"revision",{head},"corrects":"{}","reason":"wrong family","entered_in_error":true}}"#,
                corrects(*target)
            ),
            KindPlan::Revision { target, .. } => format!(
                r#"{{"kind":"revision",{head},"corrects":"{}","reason":"more detail","revised":{{"kind":"voice","mode":"behaviour","behaviour":"hid","action":"Shared with the GP"}}}}"#,
                corrects(*target)
            ),
        }
    }

    /// The envelope for record `seq` of the device with `key`, after
    /// `prev`, captured `device_minutes` from [`NOW`]; `None` if the core
    /// refuses the body (a plan the agent could not capture either).
    pub fn envelope(
        &self,
        key: &SigningKey,
        devices: &[DeviceId],
        seq: Seq,
        prev: RecordHash,
        device_minutes: i16,
    ) -> Option<Envelope> {
        let defaults = Defaults {
            author: match self.author {
                0 => "w",
                1 => "s",
                _ => "stranger",
            }
            .try_into()
            .ok()?,
            agency: if self.other_agency { "B" } else { "A" }.try_into().ok()?,
        };
        let body = parse_body(&self.json(devices), &defaults).ok()?;
        let env = Envelope {
            version: body.format_version(),
            device: DeviceId::from_public_key(key.verifying_key().as_bytes()),
            seq,
            prev,
            device_time: Timestamp(NOW.0 + i64::from(device_minutes) * 60),
            body,
        };
        env.validate().ok()?;
        Some(env)
    }
}

/// How one record is broken after it was built.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Corrupt {
    /// Not at all.
    None,
    /// A byte of the envelope changed, then signed again: the signature
    /// verifies, decoding or validation must refuse it (or accept a
    /// record that is still valid).
    Resigned {
        /// Where (wrapping).
        at: u16,
        /// XORed in (zero is made one).
        xor: u8,
    },
    /// A byte of the signed bytes changed after signing.
    Flipped {
        /// Where (wrapping).
        at: u16,
        /// XORed in (zero is made one).
        xor: u8,
    },
    /// Cut short.
    Truncated(u16),
    /// Signed by another key.
    ForeignKey,
}

/// The signed bytes of `env`, broken as `how` says.
pub fn signed_bytes(key: &SigningKey, env: &Envelope, how: Corrupt) -> Vec<u8> {
    let signed = SignedRecord::sign(key, env)
        .expect("a validated envelope signs")
        .into_bytes();
    let flip = |mut b: Vec<u8>, at: u16, xor: u8| {
        if !b.is_empty() {
            let i = usize::from(at) % b.len();
            b[i] ^= xor.max(1);
        }
        b
    };
    match how {
        Corrupt::None => signed,
        Corrupt::Resigned { at, xor } => {
            let (envelope, _) = split_signed(&signed).expect("our own signed bytes split");
            let envelope = flip(envelope.to_vec(), at, xor);
            let sig = sign_envelope_bytes(key, &envelope);
            let mut out = envelope;
            out.extend_from_slice(&sig.to_bytes());
            out
        }
        Corrupt::Flipped { at, xor } => flip(signed, at, xor),
        Corrupt::Truncated(n) => {
            let mut b = signed;
            b.truncate(usize::from(n) % b.len().max(1));
            b
        }
        Corrupt::ForeignKey => SignedRecord::sign(&super::key(super::STRANGER), env)
            .expect("a validated envelope signs")
            .into_bytes(),
    }
}

/// The chain hash of signed bytes (zero if they do not split).
pub fn hash_of(signed: &[u8]) -> RecordHash {
    split_signed(signed)
        .map(|(envelope, _)| chain_hash(envelope))
        .unwrap_or(RecordHash([0; 32]))
}

//! The record itself: [`Body`], what every observation carries, inside an
//! [`Envelope`], which places it in its device's chain.
//!
//! Field order here is wire order (`docs/wire-format.md`); changing it, or
//! any type inside, is a new [`FORMAT_VERSION`].

use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

use crate::bounded::{List, Text};
use crate::child::ChildRef;
use crate::error::{Field, Problem, ValidationError};
use crate::ids::{AgencyCode, DeviceId, RecordHash, RecordId, Seq, WorkerId};
use crate::kinds::Detail;
use crate::time::Timestamp;
use crate::validate::{Validate, ensure, one_line, require};

/// The wire format version this build writes for every kind but a
/// revision, and reads.
pub const FORMAT_VERSION: u8 = 1;

/// The wire format version of a record of the `revision` kind (issue 12):
/// version 1 with the `Detail` variant 9 added. Every other record stays
/// version 1, byte for byte; a decoder that knows only version 1 refuses a
/// revision with `UnknownVersion` rather than misreading it.
pub const REVISION_FORMAT_VERSION: u8 = 2;

/// Whether this build reads envelopes of version `v`.
pub const fn is_known_version(v: u8) -> bool {
    v == FORMAT_VERSION || v == REVISION_FORMAT_VERSION
}

/// A short plain-English line for the chronology: at most 120 bytes.
pub type Headline = Text<120>;

/// What every record says: which children, when it happened, who recorded
/// it for which agency, a headline, and the kind's own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, MaxSize)]
pub struct Body {
    /// The children it concerns: 1 to 8.
    pub children: List<ChildRef, 8>,
    /// When the event happened, which may be well before capture.
    pub occurred_at: Timestamp,
    /// Who recorded it.
    pub author: WorkerId,
    /// For which agency.
    pub agency: AgencyCode,
    /// The chronology line: factual and non-judgemental, since families may
    /// read it.
    pub headline: Headline,
    /// The kind and its fields.
    pub detail: Detail,
}

impl Body {
    /// The format version its envelope carries: [`REVISION_FORMAT_VERSION`]
    /// for a revision, [`FORMAT_VERSION`] for everything else.
    pub const fn format_version(&self) -> u8 {
        match self.detail {
            Detail::Revision(_) => REVISION_FORMAT_VERSION,
            _ => FORMAT_VERSION,
        }
    }
}

impl Validate for Body {
    fn validate(&self) -> Result<(), ValidationError> {
        ensure(
            !self.children.is_empty(),
            Field::common("children"),
            "is empty; name at least one child, as nhs:<10 digits> or local:<issuer>:<id>",
        )?;
        for (i, child) in self.children.iter().enumerate() {
            child
                .check()
                .map_err(|p| ValidationError::new(Field::common("children[]").at(i), p))?;
            if self.children[..i].contains(child) {
                return Err(ValidationError::new(
                    Field::common("children[]").at(i),
                    Problem::Inconsistent("names the same child twice; list each child once"),
                ));
            }
        }
        self.occurred_at
            .check()
            .map_err(|p| ValidationError::new(Field::common("occurred_at"), p))?;
        require(
            Field::common("author"),
            &self.author,
            "set the worker at init, or name the author",
        )?;
        require(
            Field::common("agency"),
            &self.agency,
            "set the agency at init, or name it",
        )?;
        require(
            Field::common("headline"),
            &self.headline,
            "write a short factual line for the chronology",
        )?;
        ensure(
            !self.headline.contains(['\n', '\r']),
            Field::common("headline"),
            "has a line break; a headline is one line",
        )?;
        one_line(Field::common("headline"), &self.headline)?;
        one_line(Field::common("author"), &self.author)?;
        one_line(Field::common("agency"), &self.agency)?;
        self.detail.validate()
    }
}

/// A body placed in its device's chain: the unit that is signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, MaxSize)]
pub struct Envelope {
    /// [`FORMAT_VERSION`]; the first byte on the wire.
    pub version: u8,
    /// The device that captured and signed it.
    pub device: DeviceId,
    /// Its number on that device, from 1.
    pub seq: Seq,
    /// The chain hash of the same device's previous record, or
    /// [`RecordHash::GENESIS`] for the first.
    pub prev: RecordHash,
    /// The device's clock when it was captured. The server compares device
    /// clocks with its own to correct for drift.
    pub device_time: Timestamp,
    /// The observation.
    pub body: Body,
}

impl Envelope {
    /// This record's id.
    pub const fn id(&self) -> RecordId {
        RecordId {
            device: self.device,
            seq: self.seq,
        }
    }
}

impl Validate for Envelope {
    fn validate(&self) -> Result<(), ValidationError> {
        ensure(
            self.version == self.body.format_version(),
            Field::common("version"),
            "does not match the kind: a revision is version 2, every other kind version 1",
        )?;
        ensure(
            self.seq.0 >= 1,
            Field::common("seq"),
            "is 0; sequence numbers start at 1",
        )?;
        // Stores with signed 64-bit integers (SQLite, PostgreSQL) must hold
        // every sequence number exactly.
        ensure(
            self.seq.0 <= i64::MAX as u64,
            Field::common("seq"),
            "is above 2^63 - 1, the largest sequence number a store can hold",
        )?;
        ensure(
            self.seq != Seq::FIRST || self.prev == RecordHash::GENESIS,
            Field::common("prev"),
            "is not all zeros, but this is the device's first record",
        )?;
        self.device_time
            .check()
            .map_err(|p| ValidationError::new(Field::common("device_time"), p))?;
        self.body.validate()
    }
}

//! Who this device may record as: [`Identity`] and the pure check
//! [`Identity::check`], applied before a record is signed.
//!
//! The server files a record under the device's enrolment, never under the
//! names written in it, and rejects a record whose agency is not the
//! device's, whose author is neither its worker nor on its staff list, or
//! which amends another device's record (issue 11). The agent refuses such
//! a record at capture, with a message that says what to change, so that
//! nothing is signed that the server would put in quarantine.
//!
//! Before enrolment the identity is the one given to `init`; after, the one
//! the server confirmed, with the staff list of a shared device (a
//! nursery's door tablet). The staff list is kept in [`STAFF_FILE`] in the
//! store directory, written at enrolment ([`save_staff`]).

use std::path::{Path, PathBuf};

use hearth_shared::{Body, DeviceId, RecordId};

/// The staff list file in the store directory (a JSON array of worker ids).
pub const STAFF_FILE: &str = "staff.json";

/// Who this device may record as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// This device.
    pub device: DeviceId,
    /// Its agency.
    pub agency: String,
    /// Its worker (for a shared device, the device's own name).
    pub worker: String,
    /// Who else may author its records (a shared device's staff).
    pub staff: Vec<String>,
}

/// Why a record may not be captured on this device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The record names another agency.
    #[error(
        "agency is \"{given}\", but this device records for \"{device}\"; remove \"agency\" from the record (it defaults to the device's) or use a device enrolled for {given}"
    )]
    Agency {
        /// What the record says.
        given: String,
        /// The device's.
        device: String,
    },
    /// The author is not this device's worker or on its staff list.
    #[error(
        "author is \"{given}\", who is neither this device's worker \"{worker}\" nor on its staff list{}; remove \"author\" (it defaults to the worker) or ask an administrator to add them: `hearth-server staff add DEVICE {given}`",
        staff_text(.staff)
    )]
    Author {
        /// What the record says.
        given: String,
        /// The device's worker.
        worker: String,
        /// Its staff list.
        staff: Vec<String>,
    },
    /// An amendment of another device's record.
    #[error(
        "corrects {0}, a record of another device; a device may amend only its own records; to dispute another agency's record, record something new (for example a concern)"
    )]
    ForeignAmendment(RecordId),
}

fn staff_text(staff: &[String]) -> String {
    if staff.is_empty() {
        String::new()
    } else {
        format!(" ({})", staff.join(", "))
    }
}

impl Identity {
    /// Whether `body` may be captured on this device.
    pub fn check(&self, body: &Body) -> Result<(), IdentityError> {
        let agency = body.agency.as_str();
        if agency != self.agency {
            return Err(IdentityError::Agency {
                given: agency.to_string(),
                device: self.agency.clone(),
            });
        }
        let author = body.author.as_str();
        if author != self.worker && !self.staff.iter().any(|s| s == author) {
            return Err(IdentityError::Author {
                given: author.to_string(),
                worker: self.worker.clone(),
                staff: self.staff.clone(),
            });
        }
        if let Some((corrects, _)) = body.detail.corrects()
            && corrects.device != self.device
        {
            return Err(IdentityError::ForeignAmendment(corrects));
        }
        Ok(())
    }
}

/// Why the staff list could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("cannot use the staff list {}: {problem}; enrol the device again", .path.display())]
pub struct StaffFileError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub problem: String,
}

/// The staff list saved at enrolment; empty if there is none (a worker's
/// own tablet, or a server that sends none).
pub fn load_staff(dir: &Path) -> Result<Vec<String>, StaffFileError> {
    let path = dir.join(STAFF_FILE);
    let err = |problem: String| StaffFileError {
        path: path.clone(),
        problem,
    };
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| err(e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(err(e.to_string())),
    }
}

/// Saves the staff list the server sent at enrolment (owner-only, like the
/// rest of the store directory).
pub fn save_staff(dir: &Path, staff: &[String]) -> Result<(), StaffFileError> {
    let path = dir.join(STAFF_FILE);
    let json = serde_json::to_vec(staff).expect("a list of strings serializes");
    crate::private_file::write(&path, &json).map_err(|e| StaffFileError {
        path: path.clone(),
        problem: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_shared::Seq;
    use hearth_shared::json::{Defaults, parse_body};

    fn identity(staff: &[&str]) -> Identity {
        Identity {
            device: DeviceId([1; 8]),
            agency: "NURSERY-12".into(),
            worker: "door-tablet".into(),
            staff: staff.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn body(extra: &str) -> Body {
        parse_body(
            &format!(
                r#"{{"kind":"concern","children":["nhs:9434765919"],"occurred_at":"2026-01-01T09:00:00Z","headline":"h","category":"neglect","seen_or_said":"x","action":"shared","action_detail":"SW"{extra}}}"#
            ),
            &Defaults {
                author: "door-tablet".try_into().unwrap(),
                agency: "NURSERY-12".try_into().unwrap(),
            },
        )
        .unwrap()
    }

    #[test]
    fn issue_11_the_device_records_only_as_itself_or_its_staff() {
        let id = identity(&["dsl.patel"]);
        assert_eq!(id.check(&body("")), Ok(()));
        assert_eq!(id.check(&body(r#","author":"dsl.patel""#)), Ok(()));
        let e = id.check(&body(r#","agency":"POLICE-CAIT""#)).unwrap_err();
        assert!(matches!(e, IdentityError::Agency { .. }), "{e}");
        assert!(e.to_string().contains("\"POLICE-CAIT\""), "{e}");
        let e = id.check(&body(r#","author":"ds.nobody""#)).unwrap_err();
        assert!(e.to_string().contains("staff add"), "{e}");
    }

    #[test]
    fn issue_11_only_own_records_can_be_amended() {
        let id = identity(&[]);
        let amend = |device: DeviceId| {
            let corrects = RecordId {
                device,
                seq: Seq(1),
            };
            parse_body(
                &format!(
                    r#"{{"kind":"amendment","children":["nhs:9434765919"],"occurred_at":"2026-01-01T09:00:00Z","headline":"h","corrects":"{corrects}","reason":"typed wrongly"}}"#
                ),
                &Defaults {
                    author: "door-tablet".try_into().unwrap(),
                    agency: "NURSERY-12".try_into().unwrap(),
                },
            )
            .unwrap()
        };
        assert_eq!(id.check(&amend(DeviceId([1; 8]))), Ok(()));
        assert!(matches!(
            id.check(&amend(DeviceId([2; 8]))),
            Err(IdentityError::ForeignAmendment(_))
        ));
    }

    #[test]
    fn the_staff_list_round_trips_and_defaults_to_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_staff(dir.path()).unwrap().is_empty());
        save_staff(dir.path(), &["a.b".into(), "c.d".into()]).unwrap();
        assert_eq!(load_staff(dir.path()).unwrap(), ["a.b", "c.d"]);
    }
}

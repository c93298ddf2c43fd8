//! Caseload changes with their input checked (the CLI's, and any later
//! HTTP form's): names of groups and workers, a plan's frequency and label.
//! Each change goes through [`Store::change_caseload`], which writes it to
//! the register log in the same transaction.

use hearth_shared::printable::{Lines, check};
use hearth_shared::{ChildRef, DeviceId};

use super::{Assignee, CaseloadChange, VisitPlan};
use crate::clock::Clock;
use crate::store::{Device, Store, StoreError};

/// The most working days between visits a plan may give.
pub const MAX_VISIT_EVERY: u16 = 60;

/// The longest group name, worker id or plan label, in characters.
const MAX_NAME: usize = 100;

/// Why a caseload change was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum CaseloadError {
    /// Bad input: the field and what to do.
    #[error("{field}: {message}")]
    BadInput {
        /// The field (`group`, `worker`, `visit-every`, `label`, `device`).
        field: &'static str,
        /// What is wrong, and the fix.
        message: String,
    },
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `text` trimmed, if it is 1–100 printable characters on one line.
pub fn name(field: &'static str, text: &str) -> Result<String, CaseloadError> {
    let bad = |message: String| CaseloadError::BadInput { field, message };
    let text = text.trim();
    if text.is_empty() {
        return Err(bad("is empty; give a name".into()));
    }
    if text.chars().count() > MAX_NAME {
        return Err(bad(format!(
            "is longer than {MAX_NAME} characters; shorten it"
        )));
    }
    check(text, Lines::One).map_err(|f| bad(f.to_string()))?;
    Ok(text.to_string())
}

/// A worker or a group, from the CLI's `--worker` or `--group`.
pub fn assignee(worker: Option<&str>, group: Option<&str>) -> Result<Assignee, CaseloadError> {
    match (worker, group) {
        (Some(w), None) => Ok(Assignee::Worker(name("worker", w)?)),
        (None, Some(g)) => Ok(Assignee::Group(name("group", g)?)),
        _ => Err(CaseloadError::BadInput {
            field: "worker",
            message: "give --worker ID or --group NAME (one of them)".into(),
        }),
    }
}

/// A plan of a home visit every `every` working days, checked.
pub fn plan(
    child: ChildRef,
    every: u16,
    label: &str,
    clock: &dyn Clock,
) -> Result<VisitPlan, CaseloadError> {
    if !(1..=MAX_VISIT_EVERY).contains(&every) {
        return Err(CaseloadError::BadInput {
            field: "visit-every",
            message: format!(
                "{every} is not between 1 and {MAX_VISIT_EVERY} working days; give how many working days apart the plan's home visits are"
            ),
        });
    }
    Ok(VisitPlan {
        child,
        every_working_days: every,
        label: name("label", label)?,
        since: super::tasks::day_of(clock.now()),
    })
}

/// The enrolled device `device` (a group change for a device not enrolled
/// here would never reach a tablet).
pub fn enrolled<S: Store + ?Sized>(store: &S, device: DeviceId) -> Result<Device, CaseloadError> {
    store
        .device(device)?
        .ok_or_else(|| CaseloadError::BadInput {
            field: "device",
            message: format!(
                "no device {device} is enrolled here; `hearth-server devices` lists them"
            ),
        })
}

/// Applies `change` as `who`; whether it changed anything.
pub fn change<S: Store + ?Sized>(
    store: &S,
    clock: &dyn Clock,
    who: &str,
    change: &CaseloadChange,
) -> Result<bool, CaseloadError> {
    if let CaseloadChange::Join(d, _) | CaseloadChange::Leave(d, _) = change {
        enrolled(store, *d)?;
    }
    Ok(store.change_caseload(change, who, clock.now())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_plans_are_checked_naming_the_field() {
        assert_eq!(name("group", "  Rainbow room ").unwrap(), "Rainbow room");
        for (text, why) in [
            ("", "is empty"),
            ("a\u{202E}b", "remove it"),
            ("line\nbreak", "one line"),
        ] {
            let e = name("group", text).unwrap_err().to_string();
            assert!(e.starts_with("group: ") && e.contains(why), "{e}");
        }
        assert!(name("label", &"x".repeat(101)).is_err());
        assert!(name("label", &"x".repeat(100)).is_ok());
        let clock = hearth_shared::clock::FixedClock(hearth_shared::Timestamp(86_400 * 3 + 5));
        let child: ChildRef = "nhs:9434765919".parse().unwrap();
        let p = plan(child.clone(), 10, "child protection plan", &clock).unwrap();
        assert_eq!(p.since, hearth_shared::Timestamp(86_400 * 3));
        for every in [0, 61] {
            let e = plan(child.clone(), every, "x", &clock)
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("visit-every: ") && e.contains("between 1 and 60"),
                "{e}"
            );
        }
        let e = assignee(Some("a"), Some("b")).unwrap_err().to_string();
        assert!(e.contains("--worker ID or --group NAME"), "{e}");
        assert_eq!(
            assignee(None, Some("Rainbow room")).unwrap(),
            Assignee::Group("Rainbow room".into())
        );
    }
}

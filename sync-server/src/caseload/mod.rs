//! Caseloads: which children each device works with, and what is due for
//! them (issue 17). `docs/people.md` explains the model.
//!
//! - **Assignment.** An administrator assigns a child to a worker (the
//!   worker or a staff member a device is enrolled for), or to a group (a
//!   nursery room, a school class) that several devices share.
//! - **Delivery.** At each sync a device asks for its caseload
//!   (`POST /v1/caseload`, [`hearth_shared::caseload`]) and gets the
//!   children assigned to its worker, its staff and its groups, signed
//!   with the receipt key.
//! - **Tasks.** Visits by each child's plan, developmental reviews by age,
//!   a rebooking after "was not brought": worked out by pure rules over
//!   the child's register entry and chronology.
//!
//! This module holds the plain data ([`CaseloadSetup`], read whole from the
//! store, and [`CaseloadChange`]) and the pure rules; the store keeps it
//! (`store::sqlite::caseload`).

use hearth_shared::{ChildRef, DeviceId, Timestamp};

pub mod build;
pub mod load;
pub mod ops;
pub mod show;
pub mod tasks;

/// Who a child is assigned to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Assignee {
    /// A worker (an enrolment's worker or staff id).
    Worker(String),
    /// A group of devices (a nursery room, a school class).
    Group(String),
}

/// A child assigned to a worker or a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The child (any of its references).
    pub child: ChildRef,
    /// To whom.
    pub to: Assignee,
    /// When.
    pub at: Timestamp,
    /// By whom.
    pub by: String,
}

/// A device in a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceGroup {
    /// The device.
    pub device: DeviceId,
    /// The group.
    pub group: String,
}

/// A child's visiting plan: a home visit every so many working days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitPlan {
    /// The child.
    pub child: ChildRef,
    /// How often, in working days (Monday to Friday).
    pub every_working_days: u16,
    /// What the plan is, for the alerts line ("child protection plan").
    pub label: String,
    /// Since when.
    pub since: Timestamp,
}

/// Everything that decides caseloads, as the store reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseloadSetup {
    /// Assignments in force.
    pub assignments: Vec<Assignment>,
    /// Devices' groups.
    pub groups: Vec<DeviceGroup>,
    /// Visiting plans in force.
    pub plans: Vec<VisitPlan>,
}

/// One change to caseloads, written to the register log with who and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseloadChange {
    /// Assign a child.
    Assign(ChildRef, Assignee),
    /// Undo an assignment.
    Unassign(ChildRef, Assignee),
    /// Put a device in a group.
    Join(DeviceId, String),
    /// Take a device out of a group.
    Leave(DeviceId, String),
    /// Set (or replace) a child's visiting plan.
    Plan(VisitPlan),
    /// End a child's visiting plan.
    EndPlan(ChildRef),
}

//! The held caseload's tasks as this device sees them (issue 17; pure).
//!
//! The server lists what is due for each child on the caseload and drops a
//! task once a synced record clears it. Between syncs the device knows
//! better: a record captured here that clears a task (by
//! [`Task::cleared_by`], the one matching rule the server uses too) shows
//! the task done at once. [`Captured`] is what a record of this device
//! contributes; [`states`] puts each child's tasks in their [`TaskState`];
//! [`due_list`] orders them for the home screen (overdue first).
//!
//! The `caseload` command and the tablet app's home screen both read
//! through here; the store I/O (opening the records) is theirs.

use hearth_shared::caseload::{Caseload, CaseloadChild, Task};
use hearth_shared::kinds::Detail;
use hearth_shared::{Envelope, Timestamp};

use crate::store::{LocalRecord, SyncStatus};

/// Seconds in a day: a task is overdue after the whole of its due day.
const DAY: i64 = 86_400;

/// What one record captured on this device says for the tasks.
#[derive(Debug, Clone)]
pub struct Captured {
    /// The children it names (text form of each reference).
    pub children: Vec<String>,
    /// Its kind and fields.
    pub detail: Detail,
    /// When the event happened.
    pub occurred_at: Timestamp,
    /// When it was captured (device clock).
    pub captured_at: Timestamp,
    /// Whether the server holds it yet.
    pub synced: bool,
}

impl Captured {
    /// What `record` contributes, or `None` for a record the server
    /// refused or set aside (it clears nothing).
    pub fn from_record(record: &LocalRecord, envelope: &Envelope) -> Option<Self> {
        if matches!(
            record.status,
            SyncStatus::Rejected | SyncStatus::Quarantined
        ) {
            return None;
        }
        Some(Self {
            children: envelope
                .body
                .children
                .iter()
                .map(|c| c.to_string())
                .collect(),
            detail: envelope.body.detail.clone(),
            occurred_at: envelope.body.occurred_at,
            captured_at: record.captured_at,
            synced: record.status == SyncStatus::Synced,
        })
    }
}

/// Where a task stands on this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Not yet due, or due today.
    Due,
    /// Past the end of its due day.
    Overdue,
    /// A record captured here clears it.
    Done {
        /// When that record was captured.
        captured: Timestamp,
        /// Whether the server holds it yet.
        synced: bool,
    },
}

impl TaskState {
    /// The word `--json` shows: `due`, `overdue` or `done`.
    pub const fn word(self) -> &'static str {
        match self {
            Self::Due => "due",
            Self::Overdue => "overdue",
            Self::Done { .. } => "done",
        }
    }
}

/// The state of `task` for a child with references `refs` at `now`.
pub fn task_state(
    task: &Task,
    refs: &[String],
    captures: &[Captured],
    now: Timestamp,
) -> TaskState {
    let clearing = captures
        .iter()
        .filter(|c| c.children.iter().any(|r| refs.contains(r)))
        .filter(|c| task.cleared_by(&c.detail, c.occurred_at))
        .min_by_key(|c| c.captured_at);
    if let Some(c) = clearing {
        return TaskState::Done {
            captured: c.captured_at,
            synced: c.synced,
        };
    }
    if now.0 >= task.due.0.saturating_add(DAY) {
        TaskState::Overdue
    } else {
        TaskState::Due
    }
}

/// A child on the caseload and the state of each of its tasks.
#[derive(Debug)]
pub struct ChildTasks<'a> {
    /// The child.
    pub child: &'a CaseloadChild,
    /// Its tasks, in the server's order, each with its state here.
    pub tasks: Vec<(&'a Task, TaskState)>,
}

/// Every child of `caseload` with its tasks' states, in the caseload's
/// order (by name).
pub fn states<'a>(
    caseload: &'a Caseload,
    captures: &[Captured],
    now: Timestamp,
) -> Vec<ChildTasks<'a>> {
    caseload
        .children
        .iter()
        .map(|child| {
            let refs = refs_of(child);
            ChildTasks {
                child,
                tasks: child
                    .tasks
                    .iter()
                    .map(|t| (t, task_state(t, &refs, captures, now)))
                    .collect(),
            }
        })
        .collect()
}

/// A child's references: `child` and every one in `refs`.
fn refs_of(child: &CaseloadChild) -> Vec<String> {
    let mut refs = child.refs.clone();
    if !refs.contains(&child.child) {
        refs.push(child.child.clone());
    }
    refs
}

/// One line of the home screen's "Due" list.
#[derive(Debug, Clone, Copy)]
pub struct DueItem<'a> {
    /// The child.
    pub child: &'a CaseloadChild,
    /// The task.
    pub task: &'a Task,
    /// Its state.
    pub state: TaskState,
}

/// Every task of every child, overdue first (longest overdue first), then
/// due (soonest first), then done.
pub fn due_list<'a>(children: &[ChildTasks<'a>]) -> Vec<DueItem<'a>> {
    let mut items: Vec<DueItem<'a>> = children
        .iter()
        .flat_map(|c| {
            c.tasks.iter().map(|(task, state)| DueItem {
                child: c.child,
                task,
                state: *state,
            })
        })
        .collect();
    let rank = |s: TaskState| match s {
        TaskState::Overdue => 0,
        TaskState::Due => 1,
        TaskState::Done { .. } => 2,
    };
    items.sort_by(|a, b| {
        (rank(a.state), a.task.due, &a.child.name).cmp(&(rank(b.state), b.task.due, &b.child.name))
    });
    items
}

/// A child a form offers by name: what the picker shows and fills in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildChoice {
    /// The name shown.
    pub name: String,
    /// The reference filled in (the preferred one).
    pub child: String,
    /// Every reference of the child (a typed one of these is this child).
    pub refs: Vec<String>,
    /// Born or expected, as a date, to tell two children of one name apart.
    pub born: Option<Timestamp>,
    /// The group (room) it is on the caseload through.
    pub group: Option<String>,
}

/// The caseload's children as a form offers them, by name.
pub fn choices(caseload: &Caseload) -> Vec<ChildChoice> {
    caseload
        .children
        .iter()
        .map(|c| ChildChoice {
            name: c.name.clone(),
            child: c.child.clone(),
            refs: refs_of(c),
            born: c.born.or(c.expected),
            group: c.group.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests;

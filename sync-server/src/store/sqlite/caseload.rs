//! Caseload assignments, device groups and visiting plans over SQLite
//! (migration 0011). Each change is applied and written to the register
//! log (0010's `register_log`) in one transaction; a change that changes
//! nothing (assigning twice) is not logged. A plan's change marks the
//! child's signals stale (`child_not_seen` reads the plan).

use hearth_shared::Timestamp;
use rusqlite::{Connection, TransactionBehavior, params};

use super::rows::{dev, parse_child, parse_dev};
use crate::caseload::{
    Assignee, Assignment, CaseloadChange, CaseloadSetup, DeviceGroup, VisitPlan,
};
use crate::store::StoreError;

/// The `kind` and `assignee` columns of an assignee.
fn columns(to: &Assignee) -> (&'static str, &str) {
    match to {
        Assignee::Worker(w) => ("worker", w),
        Assignee::Group(g) => ("group", g),
    }
}

pub(super) fn caseload_setup(conn: &Connection) -> Result<CaseloadSetup, StoreError> {
    let mut setup = CaseloadSetup::default();
    let mut stmt = conn.prepare(
        "SELECT child, kind, assignee, at, by FROM caseload_assignments ORDER BY child, kind, assignee",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let name: String = r.get(2)?;
        setup.assignments.push(Assignment {
            child: parse_child(&r.get::<_, String>(0)?)?,
            to: match r.get::<_, String>(1)?.as_str() {
                "worker" => Assignee::Worker(name),
                "group" => Assignee::Group(name),
                _ => return Err(StoreError::Corrupt("an assignment's kind")),
            },
            at: Timestamp(r.get(3)?),
            by: r.get(4)?,
        });
    }
    let mut stmt = conn.prepare("SELECT device, grp FROM device_groups ORDER BY device, grp")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        setup.groups.push(DeviceGroup {
            device: parse_dev(&r.get::<_, Vec<u8>>(0)?)?,
            group: r.get(1)?,
        });
    }
    let mut stmt = conn.prepare(
        "SELECT child, every_working_days, label, since FROM visit_plans ORDER BY child",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        setup.plans.push(VisitPlan {
            child: parse_child(&r.get::<_, String>(0)?)?,
            every_working_days: u16::try_from(r.get::<_, i64>(1)?)
                .map_err(|_| StoreError::Corrupt("a plan's visiting frequency"))?,
            label: r.get(2)?,
            since: Timestamp(r.get(3)?),
        });
    }
    Ok(setup)
}

/// Applies `change` on `tx`; returns the register log's action and detail
/// if it changed anything.
fn apply(
    tx: &Connection,
    change: &CaseloadChange,
    who: &str,
    at: Timestamp,
) -> Result<Option<(&'static str, String)>, StoreError> {
    let (action, detail, changed) = match change {
        CaseloadChange::Assign(child, to) => {
            let (kind, name) = columns(to);
            let n = tx.execute(
                "INSERT OR IGNORE INTO caseload_assignments (child, kind, assignee, at, by) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![child.to_string(), kind, name, at.0, who],
            )?;
            ("assign", format!("{child} to {kind} {name}"), n)
        }
        CaseloadChange::Unassign(child, to) => {
            let (kind, name) = columns(to);
            let n = tx.execute(
                "DELETE FROM caseload_assignments WHERE child = ?1 AND kind = ?2 AND assignee = ?3",
                params![child.to_string(), kind, name],
            )?;
            ("unassign", format!("{child} from {kind} {name}"), n)
        }
        CaseloadChange::Join(device, group) => {
            let n = tx.execute(
                "INSERT OR IGNORE INTO device_groups (device, grp, at, by) VALUES (?1, ?2, ?3, ?4)",
                params![dev(*device), group, at.0, who],
            )?;
            (
                "group_join",
                format!("device {device} joins group {group}"),
                n,
            )
        }
        CaseloadChange::Leave(device, group) => {
            let n = tx.execute(
                "DELETE FROM device_groups WHERE device = ?1 AND grp = ?2",
                params![dev(*device), group],
            )?;
            (
                "group_leave",
                format!("device {device} leaves group {group}"),
                n,
            )
        }
        CaseloadChange::Plan(p) => {
            let n = tx.execute(
                "INSERT INTO visit_plans (child, every_working_days, label, since, by) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (child) DO UPDATE
                 SET every_working_days = excluded.every_working_days, label = excluded.label,
                     since = excluded.since, by = excluded.by
                 WHERE every_working_days != excluded.every_working_days OR label != excluded.label",
                params![p.child.to_string(), p.every_working_days, p.label, p.since.0, who],
            )?;
            let detail = format!(
                "{}: a home visit every {} working days ({})",
                p.child, p.every_working_days, p.label
            );
            ("plan", detail, n)
        }
        CaseloadChange::EndPlan(child) => {
            let n = tx.execute(
                "DELETE FROM visit_plans WHERE child = ?1",
                [child.to_string()],
            )?;
            ("end_plan", child.to_string(), n)
        }
    };
    Ok((changed > 0).then_some((action, detail)))
}

pub(super) fn change_caseload(
    conn: &Connection,
    change: &CaseloadChange,
    who: &str,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let Some((action, detail)) = apply(&tx, change, who, at)? else {
        return Ok(false);
    };
    tx.execute(
        "INSERT INTO register_log (at, who, action, detail, reason) VALUES (?1, ?2, ?3, ?4, '')",
        params![at.0, who, action, detail],
    )?;
    if let CaseloadChange::Plan(VisitPlan { child, .. }) | CaseloadChange::EndPlan(child) = change {
        // `child_not_seen` reads the plan: the child's signals are stale.
        super::signals::mark_stale(&tx, &child.to_string())?;
    }
    tx.commit()?;
    Ok(true)
}

//! Caseload assignments, device groups and visiting plans over PostgreSQL
//! (the counterpart of `store/sqlite/caseload.rs`, with the same
//! behaviour). Each change is applied and written to the register log in
//! one transaction, under the register log's lock (see
//! [`super::people::lock_register`]); a change that changes nothing
//! (assigning twice) is not logged. A plan's change marks the child's
//! signals stale (`child_not_seen` reads the plan).

use ::postgres::{Client, GenericClient};
use hearth_shared::Timestamp;

use super::rows::{parse_child, parse_dev};
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

pub(super) fn caseload_setup(c: &mut Client) -> Result<CaseloadSetup, StoreError> {
    let mut setup = CaseloadSetup::default();
    for r in c.query(
        "SELECT child, kind, assignee, at, by FROM caseload_assignments
         ORDER BY child COLLATE \"C\", kind COLLATE \"C\", assignee COLLATE \"C\"",
        &[],
    )? {
        let name: String = r.try_get(2)?;
        setup.assignments.push(Assignment {
            child: parse_child(r.try_get(0)?)?,
            to: match r.try_get::<_, &str>(1)? {
                "worker" => Assignee::Worker(name),
                "group" => Assignee::Group(name),
                _ => return Err(StoreError::Corrupt("an assignment's kind")),
            },
            at: Timestamp(r.try_get(3)?),
            by: r.try_get(4)?,
        });
    }
    for r in c.query(
        "SELECT device, grp FROM device_groups ORDER BY device, grp COLLATE \"C\"",
        &[],
    )? {
        setup.groups.push(DeviceGroup {
            device: parse_dev(r.try_get(0)?)?,
            group: r.try_get(1)?,
        });
    }
    for r in c.query(
        "SELECT child, every_working_days, label, since FROM visit_plans
         ORDER BY child COLLATE \"C\"",
        &[],
    )? {
        setup.plans.push(VisitPlan {
            child: parse_child(r.try_get(0)?)?,
            every_working_days: u16::try_from(r.try_get::<_, i64>(1)?)
                .map_err(|_| StoreError::Corrupt("a plan's visiting frequency"))?,
            label: r.try_get(2)?,
            since: Timestamp(r.try_get(3)?),
        });
    }
    Ok(setup)
}

/// Applies `change` on `tx`; returns the register log's action and detail
/// if it changed anything. Each change is one statement, atomic on its
/// own (`ON CONFLICT`, `DELETE`): two instances making the same change
/// change the row once, and only that one is logged.
fn apply(
    tx: &mut impl GenericClient,
    change: &CaseloadChange,
    who: &str,
    at: Timestamp,
) -> Result<Option<(&'static str, String)>, StoreError> {
    let (action, detail, changed) = match change {
        CaseloadChange::Assign(child, to) => {
            let (kind, name) = columns(to);
            let n = tx.execute(
                "INSERT INTO caseload_assignments (child, kind, assignee, at, by)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                &[&child.to_string(), &kind, &name, &at.0, &who],
            )?;
            ("assign", format!("{child} to {kind} {name}"), n)
        }
        CaseloadChange::Unassign(child, to) => {
            let (kind, name) = columns(to);
            let n = tx.execute(
                "DELETE FROM caseload_assignments WHERE child = $1 AND kind = $2 AND assignee = $3",
                &[&child.to_string(), &kind, &name],
            )?;
            ("unassign", format!("{child} from {kind} {name}"), n)
        }
        CaseloadChange::Join(device, group) => {
            let d: &[u8] = &device.0;
            let n = tx.execute(
                "INSERT INTO device_groups (device, grp, at, by) VALUES ($1, $2, $3, $4)
                 ON CONFLICT DO NOTHING",
                &[&d, group, &at.0, &who],
            )?;
            let detail = format!("device {device} joins group {group}");
            ("group_join", detail, n)
        }
        CaseloadChange::Leave(device, group) => {
            let d: &[u8] = &device.0;
            let n = tx.execute(
                "DELETE FROM device_groups WHERE device = $1 AND grp = $2",
                &[&d, group],
            )?;
            let detail = format!("device {device} leaves group {group}");
            ("group_leave", detail, n)
        }
        CaseloadChange::Plan(p) => {
            let n = tx.execute(
                "INSERT INTO visit_plans (child, every_working_days, label, since, by)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (child) DO UPDATE
                 SET every_working_days = excluded.every_working_days, label = excluded.label,
                     since = excluded.since, by = excluded.by
                 WHERE visit_plans.every_working_days <> excluded.every_working_days
                    OR visit_plans.label <> excluded.label",
                &[
                    &p.child.to_string(),
                    &i64::from(p.every_working_days),
                    &p.label,
                    &p.since.0,
                    &who,
                ],
            )?;
            let detail = format!(
                "{}: a home visit every {} working days ({})",
                p.child, p.every_working_days, p.label
            );
            ("plan", detail, n)
        }
        CaseloadChange::EndPlan(child) => {
            let n = tx.execute(
                "DELETE FROM visit_plans WHERE child = $1",
                &[&child.to_string()],
            )?;
            ("end_plan", child.to_string(), n)
        }
    };
    Ok((changed > 0).then_some((action, detail)))
}

pub(super) fn change_caseload(
    c: &mut Client,
    change: &CaseloadChange,
    who: &str,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let mut tx = c.transaction()?;
    super::people::lock_register(&mut tx)?;
    let Some((action, detail)) = apply(&mut tx, change, who, at)? else {
        return Ok(false);
    };
    tx.execute(
        "INSERT INTO register_log (at, who, action, detail, reason) VALUES ($1, $2, $3, $4, '')",
        &[&at.0, &who, &action, &detail],
    )?;
    if let CaseloadChange::Plan(VisitPlan { child, .. }) | CaseloadChange::EndPlan(child) = change {
        // `child_not_seen` reads the plan: the child's signals are stale.
        super::signals::mark_stale(&mut tx, &child.to_string())?;
    }
    tx.commit()?;
    Ok(true)
}

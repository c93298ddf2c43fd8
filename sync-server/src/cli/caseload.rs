//! `caseload assign|unassign|group|plan|show`: which children each device
//! gets, and their visiting plans. Every change, and every `show` (a read
//! of names), is written to the register log as the `--as` user.

use hearth_shared::DeviceId;

use super::args::{AssigneeArgs, CaseloadCommand, WhoseArgs};
use super::{CliError, Context, child, out, reader};
use crate::backend::Backend;
use crate::caseload::build::For;
use crate::caseload::ops::{self, assignee};
use crate::caseload::{Assignee, CaseloadChange, load, show};
use crate::store::Store;

fn device_id(device: &str) -> Result<DeviceId, CliError> {
    device
        .parse()
        .map_err(|_| CliError::BadDevice(device.to_string()))
}

fn to(a: &AssigneeArgs) -> Result<Assignee, CliError> {
    Ok(assignee(a.worker.as_deref(), a.group.as_deref())?)
}

/// "worker hv.jones" / "group Rainbow room".
fn whom(a: &Assignee) -> String {
    match a {
        Assignee::Worker(w) => format!("worker {w}"),
        Assignee::Group(g) => format!("group {g}"),
    }
}

/// Runs a `caseload` subcommand.
pub fn run<S: Backend>(ctx: &Context, action: CaseloadCommand) -> Result<(), CliError> {
    let store = S::open(&ctx.store)?;
    let clock = ctx.clock.as_ref();
    let (change, done, same, as_user) = match action {
        CaseloadCommand::Show {
            whose,
            json,
            as_user,
        } => return show_caseload(ctx, &store, &whose, json, as_user.as_deref()),
        CaseloadCommand::Assign {
            child: c,
            to: a,
            as_user,
        } => {
            let (c, a) = (child(&c)?, to(&a)?);
            let (done, same) = (
                format!("assigned {c} to {}", whom(&a)),
                format!("{c} was already assigned to {}; nothing changed", whom(&a)),
            );
            (CaseloadChange::Assign(c, a), done, same, as_user)
        }
        CaseloadCommand::Unassign {
            child: c,
            from: a,
            as_user,
        } => {
            let (c, a) = (child(&c)?, to(&a)?);
            let (done, same) = (
                format!("unassigned {c} from {}", whom(&a)),
                format!("{c} was not assigned to {}; nothing changed", whom(&a)),
            );
            (CaseloadChange::Unassign(c, a), done, same, as_user)
        }
        CaseloadCommand::Group {
            device,
            group,
            leave,
            as_user,
        } => {
            let (d, g) = (device_id(&device)?, ops::name("group", &group)?);
            if leave {
                let done = format!("device {d} left group {g}");
                let same = format!("device {d} was not in group {g}; nothing changed");
                (CaseloadChange::Leave(d, g), done, same, as_user)
            } else {
                let done = format!("device {d} joined group {g}");
                let same = format!("device {d} was already in group {g}; nothing changed");
                (CaseloadChange::Join(d, g), done, same, as_user)
            }
        }
        CaseloadCommand::Plan {
            child: c,
            visit_every,
            label,
            end,
            as_user,
        } => {
            let c = child(&c)?;
            match (end, visit_every, label) {
                (false, Some(every), Some(label)) => {
                    let p = ops::plan(c, every, &label, clock)?;
                    let done = format!(
                        "plan for {}: a home visit every {} working days ({})",
                        p.child, p.every_working_days, p.label
                    );
                    let same = format!("{done} was already the plan; nothing changed");
                    (CaseloadChange::Plan(p), done, same, as_user)
                }
                _ => {
                    let done = format!("ended the plan for {c}");
                    let same = format!("{c} has no plan; nothing changed");
                    (CaseloadChange::EndPlan(c), done, same, as_user)
                }
            }
        }
    };
    let who = reader(as_user.as_deref())?;
    let changed = ops::change(&store, clock, &who, &change)?;
    out(format_args!("{}\n", if changed { done } else { same }))
}

/// `caseload show`: the caseload a device would get (or a worker's, or a
/// group's), its read logged first.
fn show_caseload<S: Store>(
    ctx: &Context,
    store: &S,
    whose: &WhoseArgs,
    json: bool,
    as_user: Option<&str>,
) -> Result<(), CliError> {
    let who = reader(as_user)?;
    let now = ctx.clock.now();
    let (of, device, title) = match (&whose.device, &whose.worker, &whose.group) {
        (Some(d), ..) => {
            let id = device_id(d)?;
            let dev = ops::enrolled(store, id)?;
            let of = For::device(id, &dev.worker, &dev.staff, &store.caseload_setup()?);
            (of, id, format!("caseload of device {id}"))
        }
        (None, Some(w), _) => {
            let w = ops::name("worker", w)?;
            let title = format!("caseload of worker {w}");
            let of = For {
                workers: [w].into(),
                ..For::default()
            };
            (of, DeviceId([0; 8]), title)
        }
        (None, None, Some(g)) => {
            let g = ops::name("group", g)?;
            let title = format!("caseload of group {g}");
            let of = For {
                groups: [g].into(),
                ..For::default()
            };
            (of, DeviceId([0; 8]), title)
        }
        (None, None, None) => {
            return Err(ops::CaseloadError::BadInput {
                field: "device",
                message: "give --device DEVICE, --worker ID or --group NAME".into(),
            }
            .into());
        }
    };
    let caseload = load::read(store, |_| of, device, &who, now)?;
    if json {
        let text = serde_json::to_string_pretty(&show::json(&caseload, now))
            .map_err(|e| CliError::Output(std::io::Error::other(e)))?;
        out(format_args!("{text}\n"))
    } else {
        out(format_args!("{}", show::text(&title, &caseload, now)))
    }
}

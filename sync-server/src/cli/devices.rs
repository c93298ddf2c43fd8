//! Device commands: `enrol-token`, `staff add|remove`, `devices` and
//! `revoke`.

use hearth_shared::DeviceId;

use super::args::{EnrolTokenArgs, StaffCommand};
use super::{CliError, Context, out, out_once};
use crate::admin;
use crate::backend::Backend;

fn device_id(device: &str) -> Result<DeviceId, CliError> {
    device
        .parse()
        .map_err(|_| CliError::BadDevice(device.to_string()))
}

/// `enrol-token`: prints the token alone on stdout, details on stderr.
pub fn enrol_token<S: Backend>(ctx: &Context, a: EnrolTokenArgs) -> Result<(), CliError> {
    let store = S::open(&ctx.store)?;
    let (token, until) = admin::issue_enrol_token(
        &store,
        ctx.clock.as_ref(),
        &a.agency,
        &a.worker,
        &a.staff,
        a.expires,
    )?;
    out_once(format_args!("{}\n", token.expose()))?;
    eprintln!(
        "enrolment token for {}/{}, valid once until {}; it is not shown again",
        a.agency,
        a.worker,
        ctx.zone.show(until)
    );
    Ok(())
}

/// `staff add|remove`: prints the device's staff list after the change.
pub fn staff<S: Backend>(ctx: &Context, action: StaffCommand) -> Result<(), CliError> {
    let (device, workers, on) = match action {
        StaffCommand::Add { device, workers } => (device, workers, true),
        StaffCommand::Remove { device, workers } => (device, workers, false),
    };
    let id = device_id(&device)?;
    let store = S::open(&ctx.store)?;
    admin::set_staff(&store, ctx.clock.as_ref(), id, &workers, on)?;
    let staff = store.device(id)?.map(|d| d.staff).unwrap_or_default();
    out(format_args!("staff of {id}: {}\n", staff.join(", ")))?;
    Ok(())
}

/// `devices`.
pub fn list<S: Backend>(ctx: &Context, json: bool) -> Result<(), CliError> {
    let store = S::open(&ctx.store)?;
    out(format_args!("{}", admin::devices(&store, json, &ctx.zone)?))?;
    Ok(())
}

/// `revoke`.
pub fn revoke<S: Backend>(ctx: &Context, device: &str, reason: &str) -> Result<(), CliError> {
    let id = device_id(device)?;
    let store = S::open(&ctx.store)?;
    admin::revoke(&store, ctx.clock.as_ref(), id, reason)?;
    out(format_args!("revoked {id}\n"))?;
    Ok(())
}

//! Audited and logged reads: `chronology`, `access-log` and `quarantine`.
//! A chronology or quarantine read states a reason and is written to the
//! access log, under the operating-system user, before it is printed.

use super::args::{AccessLogArgs, ChronologyArgs, QuarantineArgs};
use super::{CliError, Context, child, out, reader};
use crate::admin;
use crate::audit::{PullRequest, day_range, pull};
use crate::backend::Backend;
use crate::record;
use crate::store::Via;

/// `chronology`.
pub fn chronology<S: Backend>(ctx: &Context, a: ChronologyArgs) -> Result<(), CliError> {
    let who = reader(a.as_user.as_deref())?;
    let req = PullRequest {
        child: child(&a.child)?,
        family: a.family,
        range: day_range(
            &ctx.zone,
            a.from.as_deref(),
            a.to.as_deref(),
            ["--from", "--to"],
        )?,
        reason: a.reason,
        who,
        via: Via::Cli,
        purpose: None,
    };
    let store = S::open(&ctx.store)?;
    let rules = crate::signals::Config::load(&ctx.store.data)?;
    let mut chron = pull(&store, ctx.clock.as_ref(), &rules, &req)?;
    if a.format.shows_detail() {
        record::attach(&store, &mut chron)?;
    }
    out(format_args!("{}", a.format.render_in(&chron, &ctx.zone)))?;
    Ok(())
}

/// `access-log`.
pub fn access_log<S: Backend>(ctx: &Context, a: AccessLogArgs) -> Result<(), CliError> {
    let filter = admin::AccessFilter {
        child: a.child.as_deref().map(child).transpose()?,
        user: a.user,
        range: day_range(
            &ctx.zone,
            a.since.as_deref(),
            a.until.as_deref(),
            ["--since", "--until"],
        )?,
    };
    let store = S::open(&ctx.store)?;
    out(format_args!(
        "{}",
        admin::access_log(&store, a.json, &filter, &ctx.zone)?
    ))?;
    Ok(())
}

/// `quarantine`.
pub fn quarantine<S: Backend>(ctx: &Context, a: QuarantineArgs) -> Result<(), CliError> {
    let who = reader(a.as_user.as_deref())?;
    let store = S::open(&ctx.store)?;
    let read = admin::QuarantineRead {
        who: &who,
        reason: &a.reason,
        json: a.json,
        bytes: a.bytes,
        zone: &ctx.zone,
    };
    out(format_args!(
        "{}",
        admin::quarantine(&store, ctx.clock.as_ref(), &read)?
    ))?;
    Ok(())
}

//! `family link|unlink|history`: the administrators' family links.

use hearth_shared::ChildRef;

use super::args::FamilyCommand;
use super::{CliError, Context, child, out, reader};
use crate::admin::{self, FamilyRequest};
use crate::backend::Backend;

/// The two children and who is changing their link.
fn parties(
    a: &str,
    b: &str,
    as_user: Option<&str>,
) -> Result<(ChildRef, ChildRef, String), CliError> {
    Ok((child(a)?, child(b)?, reader(as_user)?))
}

fn request<'a>(
    a: &'a ChildRef,
    b: &'a ChildRef,
    who: &'a str,
    reason: Option<&'a str>,
) -> FamilyRequest<'a> {
    FamilyRequest { a, b, who, reason }
}

/// Runs a `family` subcommand.
pub fn run<S: Backend>(ctx: &Context, action: FamilyCommand) -> Result<(), CliError> {
    let store = S::open(&ctx.data)?;
    let clock = ctx.clock.as_ref();
    match action {
        FamilyCommand::Link {
            a,
            b,
            reason,
            as_user,
        } => {
            let (a, b, who) = parties(&a, &b, as_user.as_deref())?;
            let req = request(&a, &b, &who, reason.as_deref());
            admin::link_family(&store, clock, &req)?;
            out(format_args!("linked {a} and {b}\n"))?;
        }
        FamilyCommand::Unlink {
            a,
            b,
            reason,
            as_user,
        } => {
            let (a, b, who) = parties(&a, &b, as_user.as_deref())?;
            let req = request(&a, &b, &who, Some(&reason));
            let through = admin::unlink_family(&store, clock, &req)?;
            out(format_args!(
                "unlinked {a} and {b}; records naming both no longer link them until `family link`\n"
            ))?;
            if !through.is_empty() {
                let names: Vec<String> = through.iter().map(ToString::to_string).collect();
                out(format_args!(
                    "note: they are still in one family through {}; unlink those pairs too to separate them\n",
                    names.join(", ")
                ))?;
            }
        }
        FamilyCommand::History { json } => {
            out(format_args!(
                "{}",
                admin::family_history(&store, json, &ctx.zone)?
            ))?;
        }
    }
    Ok(())
}

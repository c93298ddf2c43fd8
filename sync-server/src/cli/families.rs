//! `family link|unlink|history`: the administrators' family links.

use super::args::FamilyCommand;
use super::{CliError, Context, child, reader};
use crate::admin::{self, FamilyRequest};
use crate::backend::Backend;

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
            let (a, b) = (child(&a)?, child(&b)?);
            let who = reader(as_user.as_deref())?;
            let req = FamilyRequest {
                a: &a,
                b: &b,
                who: &who,
                reason: reason.as_deref(),
            };
            admin::link_family(&store, clock, &req)?;
            println!("linked {a} and {b}");
        }
        FamilyCommand::Unlink {
            a,
            b,
            reason,
            as_user,
        } => {
            let (a, b) = (child(&a)?, child(&b)?);
            let who = reader(as_user.as_deref())?;
            let req = FamilyRequest {
                a: &a,
                b: &b,
                who: &who,
                reason: Some(&reason),
            };
            let through = admin::unlink_family(&store, clock, &req)?;
            println!(
                "unlinked {a} and {b}; records naming both no longer link them until `family link`"
            );
            if !through.is_empty() {
                let names: Vec<String> = through.iter().map(ToString::to_string).collect();
                println!(
                    "note: they are still in one family through {}; unlink those pairs too to separate them",
                    names.join(", ")
                );
            }
        }
        FamilyCommand::History { json } => {
            print!("{}", admin::family_history(&store, json, &ctx.zone)?);
        }
    }
    Ok(())
}

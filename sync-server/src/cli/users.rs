//! `user add|list|revoke|rotate`: API users. A new token is printed alone
//! on one stdout line; details go to stderr.

use super::args::UserCommand;
use super::{CliError, Context, out, out_once};
use crate::admin;
use crate::backend::Backend;

/// Runs a `user` subcommand.
pub fn run<S: Backend>(ctx: &Context, action: UserCommand) -> Result<(), CliError> {
    let store = S::open(&ctx.data)?;
    let clock = ctx.clock.as_ref();
    match action {
        UserCommand::Add { name, role } => {
            let token = admin::add_user(&store, clock, &name, role)?;
            out_once(format_args!("{}\n", token.expose()))?;
            eprintln!(
                "API token for {name} ({}); it is not shown again",
                role.as_str()
            );
        }
        UserCommand::List { json } => {
            out(format_args!("{}", admin::users(&store, json, &ctx.zone)?))?
        }
        UserCommand::Revoke { name, reason } => {
            admin::revoke_user(&store, clock, &name, &reason)?;
            out(format_args!(
                "revoked user {name}; their API token no longer works\n"
            ))?;
        }
        UserCommand::Rotate { name } => {
            let token = admin::rotate_user(&store, &name)?;
            out_once(format_args!("{}\n", token.expose()))?;
            eprintln!(
                "new API token for {name}; the old one no longer works; it is not shown again"
            );
        }
    }
    Ok(())
}

//! `user add|list|revoke|rotate|passwd`: users. A new token is printed
//! alone on one stdout line; details go to stderr. `passwd` reads the new
//! web-app password from the first line of standard input.

use std::io::BufRead;

use super::args::UserCommand;
use super::{CliError, Context, out, out_once};
use crate::admin::{self, AdminError};
use crate::backend::Backend;
use crate::store::{Store, UserChange};
use crate::web::login::password;

/// The first line of `input`, without its line ending.
fn first_line(mut input: impl BufRead) -> Result<String, CliError> {
    let mut line = String::new();
    input.read_line(&mut line).map_err(CliError::Stdin)?;
    let end = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(end);
    Ok(line)
}

/// Sets `name`'s password to the first line of `input`.
fn passwd<S: Store>(
    store: &S,
    ctx: &Context,
    name: &str,
    input: impl BufRead,
) -> Result<(), CliError> {
    let hash = password::hash(&first_line(input)?)?;
    match store.set_password(name, &hash, ctx.clock.now())? {
        UserChange::Done => Ok(()),
        UserChange::NoSuchUser => Err(AdminError::UnknownUser(name.to_string()).into()),
        UserChange::Revoked(at) => Err(AdminError::UserRevoked(name.to_string(), at).into()),
    }
}

/// Runs a `user` subcommand.
pub fn run<S: Backend>(ctx: &Context, action: UserCommand) -> Result<(), CliError> {
    let store = S::open(&ctx.store)?;
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
                "revoked user {name}; their API token and web sessions no longer work\n"
            ))?;
        }
        UserCommand::Rotate { name } => {
            let token = admin::rotate_user(&store, &name)?;
            out_once(format_args!("{}\n", token.expose()))?;
            eprintln!(
                "new API token for {name}; the old one no longer works; it is not shown again"
            );
        }
        UserCommand::Passwd { name } => {
            passwd(&store, ctx, &name, std::io::stdin().lock())?;
            out(format_args!(
                "password set for {name}; their web sessions have ended\n"
            ))?;
        }
    }
    Ok(())
}

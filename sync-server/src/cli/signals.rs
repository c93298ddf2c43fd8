//! `signals`: a child's (or family's) practice signals through an audited
//! pull, the caseload (`--all`, one access-log row naming every child
//! disclosed), and `signals ack` (an acknowledgement, kept for ever).

use std::fmt::Write as _;

use super::args::{AckArgs, SignalsArgs, SignalsCommand, SignalsFormat};
use super::{CliError, Context, child, out, reader};
use crate::audit::{self, AckRequest, PullRequest};
use crate::backend::Backend;
use crate::chronology::format::{signals_json, signals_table};
use crate::http::signals::caseload_json;
use crate::localtime::Zone;
use crate::signals::refresh::CaseloadRow;
use crate::signals::{Config, Rule};
use crate::store::Via;

/// `signals`.
pub fn run<S: Backend>(ctx: &Context, a: SignalsArgs) -> Result<(), CliError> {
    if let Some(SignalsCommand::Ack(ack)) = a.action {
        return acknowledge::<S>(ctx, ack);
    }
    let who = reader(a.as_user.as_deref())?;
    let rules = Config::load(&ctx.store.data)?;
    let Some(c) = a.child else {
        let store = S::open(&ctx.store)?;
        let rows = audit::caseload(
            &store,
            ctx.clock.as_ref(),
            &rules,
            &who,
            &a.reason,
            None,
            Via::Cli,
        )?;
        return out(format_args!(
            "{}",
            match a.format {
                SignalsFormat::Table => caseload_table(&rows, &ctx.zone),
                SignalsFormat::Json => pretty(&caseload_json(&rows)),
            }
        ));
    };
    let req = PullRequest {
        child: child(&c)?,
        family: a.family,
        range: Default::default(),
        reason: a.reason,
        who,
        via: Via::Cli,
        purpose: None,
    };
    let store = S::open(&ctx.store)?;
    let chron = audit::pull(&store, ctx.clock.as_ref(), &rules, &req)?;
    out(format_args!(
        "{}",
        match a.format {
            SignalsFormat::Table => match signals_table(&chron.signals, &ctx.zone) {
                t if t.is_empty() => "No signals.\n".to_string(),
                t => t,
            },
            SignalsFormat::Json => pretty(&signals_json(&chron.signals)),
        }
    ))
}

/// `signals ack`.
fn acknowledge<S: Backend>(ctx: &Context, a: AckArgs) -> Result<(), CliError> {
    let who = reader(a.as_user.as_deref())?;
    let req = AckRequest {
        child: child(&a.child)?,
        rule: a
            .rule
            .parse::<Rule>()
            .map_err(|_| CliError::BadRule(a.rule.clone()))?,
        note: a.note,
        who,
        via: Via::Cli,
    };
    let store = S::open(&ctx.store)?;
    let rules = Config::load(&ctx.store.data)?;
    let ack = audit::acknowledge(&store, ctx.clock.as_ref(), &rules, &req)?;
    out(format_args!(
        "Acknowledged {} for {} by {} at {}, covering {} evidence records\n",
        ack.rule,
        ack.child,
        ack.by,
        ctx.zone.show(ack.at),
        ack.evidence.len()
    ))
}

fn pretty(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// The caseload as text: one line per child (newest evidence first).
fn caseload_table(rows: &[CaseloadRow], zone: &Zone) -> String {
    if rows.is_empty() {
        return "No child has an open signal.\n".to_string();
    }
    let mut s = format!("{:<30}  {:<10}  RULES\n", "CHILD", "NEWEST");
    for r in rows {
        let rules: Vec<&str> = r.rules.iter().map(|r| r.as_str()).collect();
        let _ = writeln!(
            s,
            "{:<30}  {:<10}  {}",
            r.child.to_string(),
            zone.date(r.newest_evidence),
            rules.join(", ")
        );
    }
    s
}

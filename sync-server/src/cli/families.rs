//! `family link|unlink|history`: the administrators' family links; and
//! `family proposals|confirm|reject`: the pairs that records of other
//! kinds named together, confirmed (a link) or rejected (an unlink).

use hearth_shared::ChildRef;

use super::args::{FamilyCommand, FamilyLinkArgs, FamilyUnlinkArgs};
use super::{CliError, Context, child, out, reader};
use crate::admin::{self, FamilyRequest};
use crate::backend::Backend;
use crate::chronology::family::{Proposal, joined_by_register};

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
    let store = S::open(&ctx.store)?;
    let clock = ctx.clock.as_ref();
    match action {
        FamilyCommand::Link(l) | FamilyCommand::Confirm(l) => {
            let FamilyLinkArgs {
                a,
                b,
                reason,
                as_user,
            } = l;
            let (a, b, who) = parties(&a, &b, as_user.as_deref())?;
            let req = request(&a, &b, &who, reason.as_deref());
            admin::link_family(&store, clock, &req)?;
            out(format_args!("linked {a} and {b}\n"))?;
        }
        FamilyCommand::Unlink(u) | FamilyCommand::Reject(u) => {
            let FamilyUnlinkArgs {
                a,
                b,
                reason,
                as_user,
            } = u;
            let (a, b, who) = parties(&a, &b, as_user.as_deref())?;
            let req = request(&a, &b, &who, Some(&reason));
            let through = admin::unlink_family(&store, clock, &req)?;
            out(format_args!(
                "unlinked {a} and {b}; records naming both no longer link them until `family link`\n"
            ))?;
            if joined_by_register(&a, &b, &store.family_links()?) {
                out(format_args!(
                    "note: the people register still joins them (one household at the same time, or one child); end a membership to separate them\n"
                ))?;
            } else if !through.is_empty() {
                let names: Vec<String> = through.iter().map(ToString::to_string).collect();
                out(format_args!(
                    "note: they are still in one family through {}; unlink those pairs too to separate them\n",
                    names.join(", ")
                ))?;
            }
        }
        FamilyCommand::Proposals { json } => {
            out(format_args!("{}", proposals(&store.family_links()?, json)))?;
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

/// `family proposals`: one line per pair, "A and B: named together by N
/// records (kind, kind)", or JSON.
fn proposals(links: &crate::links::FamilyLinks, json: bool) -> String {
    let all = crate::chronology::family::proposals(links);
    if json {
        let v: Vec<_> = all
            .iter()
            .map(|p| {
                serde_json::json!({
                    "a": p.a.to_string(),
                    "b": p.b.to_string(),
                    "records": p.records.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "kinds": p.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
                })
            })
            .collect();
        let mut s = hearth_shared::printable::json_escaped(
            serde_json::to_string_pretty(&serde_json::json!({ "proposals": v })).expect("JSON"),
        );
        s.push('\n');
        return s;
    }
    all.iter().map(proposal_line).collect()
}

fn proposal_line(p: &Proposal) -> String {
    let n = p.records.len();
    let kinds: Vec<&str> = p.kinds.iter().map(|k| k.as_str()).collect();
    format!(
        "{} and {}: named together by {n} records ({})\n",
        p.a,
        p.b,
        kinds.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use hearth_shared::{DeviceId, RecordId, RecordKind, Seq};

    use super::*;
    use crate::links::{FamilyLinks, NamedTogether};

    #[test]
    fn proposals_print_one_line_per_pair_with_the_count_and_kinds() {
        let (a, b): (ChildRef, ChildRef) = (
            "nhs:9434765919".parse().unwrap(),
            "local:NURSERY-12:cara".parse().unwrap(),
        );
        let record = |seq, kind| NamedTogether {
            id: RecordId {
                device: DeviceId([3; 8]),
                seq: Seq(seq),
            },
            kind,
            children: vec![a.clone(), b.clone()],
        };
        let links = FamilyLinks {
            named_together: vec![
                record(1, RecordKind::DailyPresentation),
                record(2, RecordKind::DailyPresentation),
                record(3, RecordKind::Concern),
            ],
            ..FamilyLinks::default()
        };
        assert_eq!(
            proposals(&links, false),
            "nhs:9434765919 and local:NURSERY-12:cara: named together by 3 records (daily_presentation, concern)\n"
        );
        let json: serde_json::Value = serde_json::from_str(&proposals(&links, true)).unwrap();
        assert_eq!(json["proposals"][0]["records"].as_array().unwrap().len(), 3);
        assert_eq!(proposals(&FamilyLinks::default(), false), "");
    }
}

//! `/access-log`, for auditors and administrators
//! ([`crate::web::Auditor`]): every read of children's records, newest
//! first, filtered as `hearth-server access-log` filters
//! ([`AccessFilter`]): by child (asked for or disclosed), by who (an API
//! or web user, an operating-system user, or an `--as` name), and by local
//! days from and to. The filters are a GET form, so a view is a URL that
//! can be shared and audited in turn.

use axum::extract::{Query, State};
use axum::response::Response;
use hearth_shared::ChildRef;
use maud::{Markup, html};
use serde::Deserialize;

use super::{Answer, Problem, admin_page, answer, status_of, text_field};
use crate::admin::AccessFilter;
use crate::audit::{PullError, day_range};
use crate::backend::Backend;
use crate::http::AppState;
use crate::localtime::Zone;
use crate::store::{Access, Store};
use crate::web::{Auditor, Viewer};

/// The filters, as the query string gives them (blank is no filter).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AccessQuery {
    /// A child reference.
    pub child: Option<String>,
    /// A reader's name.
    pub who: Option<String>,
    /// The first local day, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// The last local day, `YYYY-MM-DD`.
    pub to: Option<String>,
}

/// `GET /access-log`.
pub async fn page<S: Backend>(
    Auditor(viewer): Auditor,
    State(state): State<AppState<S>>,
    Query(q): Query<AccessQuery>,
) -> Response {
    answer(state, move |st| list(st.store(), &st.zone, &viewer, &q)).await
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The filter the query asks for, or the problems with it by field id.
pub fn filter(zone: &Zone, q: &AccessQuery) -> Result<AccessFilter, Vec<Problem>> {
    let mut problems = Vec::new();
    let child = given(&q.child).and_then(|c| match c.parse::<ChildRef>() {
        Ok(c) => Some(c),
        Err(problem) => {
            problems.push(("child".into(), format!("child \"{c}\": {problem}")));
            None
        }
    });
    let range = match day_range(zone, given(&q.from), given(&q.to), ["from", "to"]) {
        Ok(r) => Some(r),
        Err(e) => {
            let field = match &e {
                PullError::BadDate { which, .. } => which,
                _ => "from",
            };
            problems.push((field.to_string(), e.to_string()));
            None
        }
    };
    match range {
        Some(range) if problems.is_empty() => Ok(AccessFilter {
            child,
            user: given(&q.who).map(str::to_string),
            range,
        }),
        _ => Err(problems),
    }
}

/// The access-log page over what the store holds: the rows the query's
/// filter matches, newest first, or the problems with the filter (400).
pub fn list<S: Store>(store: &S, zone: &Zone, viewer: &Viewer, q: &AccessQuery) -> Answer {
    let (rows, problems) = match filter(zone, q) {
        Ok(f) => {
            let mut log = store.access_log()?;
            log.retain(|a| f.matches(a));
            log.reverse();
            (Some(log), Vec::new())
        }
        Err(problems) => (None, problems),
    };
    let status = status_of(&problems);
    Ok((status, render(viewer, zone, q, rows.as_deref(), &problems)))
}

/// The access-log page: the filter form, then the rows (`None` when the
/// filter was refused).
pub fn render(
    viewer: &Viewer,
    zone: &Zone,
    q: &AccessQuery,
    rows: Option<&[Access]>,
    problems: &[Problem],
) -> Markup {
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let content = html! {
        h1 class="heading-l" { "Access log" }
        p { "Every read of children's records: who, how, why, and which children it disclosed. "
            "Times are local (" (zone.name()) "); days are whole local days." }
        form class="filters" method="get" action="/access-log" novalidate {
            div class="filters__fields" {
                (text_field("child", "Child", "nhs:9434765919 or local:ISSUER:ID", &value(&q.child), problems))
                (text_field("who", "Who", "A user name", &value(&q.who), problems))
                (text_field("from", "From", "YYYY-MM-DD", &value(&q.from), problems))
                (text_field("to", "To", "YYYY-MM-DD", &value(&q.to), problems))
            }
            button class="button" type="submit" { "Apply filters" }
            " " a href="/access-log" { "Clear filters" }
        }
        @if let Some(rows) = rows { (table(zone, rows)) }
    };
    admin_page(viewer, "Access log", problems, content)
}

fn table(zone: &Zone, rows: &[Access]) -> Markup {
    html! {
        p id="access-log-count" role="status" {
            (rows.len()) @if rows.len() == 1 { " read" } @else { " reads" } ", newest first"
        }
        @if !rows.is_empty() {
            table class="table table--admin" id="access-log" {
                caption class="visually-hidden" { "Reads of children's records, newest first" }
                thead { tr {
                    th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "How" }
                    th scope="col" { "Child" } th scope="col" { "Family" } th scope="col" { "Purpose" }
                    th scope="col" { "Reason" } th scope="col" { "Children disclosed" }
                } }
                tbody {
                    @for a in rows {
                        tr {
                            td { (zone.show(a.at)) }
                            td { (a.who) }
                            td { (a.via.as_str()) }
                            td { @match &a.child { Some(c) => (c), None => "-" } }
                            td { @if a.family { "yes" } @else { "no" } }
                            td { @match a.purpose { Some(p) => (p.label()), None => "-" } }
                            td { (a.reason) }
                            td {
                                @if a.children.is_empty() { "none" } @else {
                                    ul class="list-plain" { @for c in &a.children { li { (c) } } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use hearth_shared::Timestamp;

    use super::*;
    use crate::store::{Purpose, Role, Via};
    use crate::web::admin::testing::{INJECTIONS, NOW, inert, store, viewer};

    const ANNA: &str = "nhs:9434765919";
    // A local id may hold a space: the access log still reads back.
    const BEN: &str = "local:LA-NORTH:C 0042";

    fn query(child: &str, who: &str, from: &str, to: &str) -> AccessQuery {
        let some = |s: &str| Some(s.to_string());
        AccessQuery {
            child: some(child),
            who: some(who),
            from: some(from),
            to: some(to),
        }
    }

    #[test]
    fn a_bad_filter_names_its_field() {
        let zone = Zone::default();
        for (q, field) in [
            (query("9434765918", "", "", ""), "child"),
            (query("", "", "2026-02-30", ""), "from"),
            (query("", "", "", "yesterday"), "to"),
            (query("", "", "2026-03-02", "2026-03-01"), "from"),
        ] {
            let problems = filter(&zone, &q).unwrap_err();
            assert_eq!(problems[0].0, field, "{q:?}: {problems:?}");
        }
        let all = filter(&zone, &query(" ", "", "", "")).unwrap();
        assert!(all.child.is_none() && all.user.is_none() && all.range.from.is_none());
        assert!(filter(&zone, &AccessQuery::default()).is_ok());
    }

    fn access(at: i64, who: &str, child: &str, reason: &str, purpose: Option<Purpose>) -> Access {
        let child: ChildRef = child.parse().unwrap();
        Access {
            at: Timestamp(at),
            who: who.into(),
            via: Via::Web,
            child: Some(child.clone()),
            family: purpose.is_some(),
            reason: reason.into(),
            purpose,
            children: vec![child],
        }
    }

    #[test]
    fn the_log_is_filtered_newest_first_with_every_text_inert() {
        let (_dir, store) = store();
        let day = 86_400;
        store
            .log_access(&access(
                NOW.0 - 2 * day,
                "dsl.lead",
                ANNA,
                "strategy meeting 12 March",
                Some(Purpose::StrategyDiscussion),
            ))
            .unwrap();
        store
            .log_access(&access(NOW.0, INJECTIONS[1], BEN, INJECTIONS[0], None))
            .unwrap();
        let (zone, auditor) = (Zone::default(), viewer("audit", Role::Auditor));

        let (status, page) = list(&store, &zone, &auditor, &AccessQuery::default()).unwrap();
        assert_eq!(status, StatusCode::OK);
        let page = page.into_string();
        assert!(inert(&page), "{page}");
        assert!(page.contains("2 reads, newest first"), "{page}");
        let (newest, oldest) = (page.find(BEN).unwrap(), page.find("dsl.lead").unwrap());
        assert!(newest < oldest, "newest first: {page}");
        assert!(
            page.contains("Strategy discussion") && page.contains(">web<"),
            "{page}"
        );

        let (_, page) = list(&store, &zone, &auditor, &query(ANNA, "", "", "")).unwrap();
        assert!(page.into_string().contains("1 read, newest first"));
        let (_, page) = list(&store, &zone, &auditor, &query("", "dsl.lead", "", "")).unwrap();
        let page = page.into_string();
        assert!(
            page.contains("1 read,") && page.contains("strategy meeting"),
            "{page}"
        );
        let (_, page) = list(
            &store,
            &zone,
            &auditor,
            &query("", "", "2027-01-15", "2027-01-15"),
        )
        .unwrap();
        let page = page.into_string();
        assert!(
            page.contains("1 read,") && !page.contains("dsl.lead"),
            "{page}"
        );

        let (status, page) =
            list(&store, &zone, &auditor, &query("", "", "15/01/2027", "")).unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let page = page.into_string();
        assert!(
            page.contains("href=\"#from\"") && !page.contains("id=\"access-log\""),
            "{page}"
        );
    }
}

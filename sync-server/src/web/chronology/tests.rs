//! Tests of the chronology page: the grant checked before anything is
//! read, every page read logged, filters and counts, hostile text inert.

use axum::http::StatusCode;
use hearth_shared::Timestamp;

use super::*;
use crate::store::any::AnyStore;
use crate::store::testing;
use crate::store::{Purpose, Role, Store};
use crate::web::find::tests::{
    ANNA, BEN, CARL, HOSTILE, NOW, break_glass, get, harness, ids_unique, viewer,
};

fn grant(user: &str, child: &str, expires_at: i64) -> ReadGrant {
    ReadGrant {
        id: format!("{user}-{child}-{expires_at}").replace(':', ""),
        user: user.into(),
        child: child.parse().unwrap(),
        family: false,
        reason: "strategy meeting 12 March".into(),
        purpose: Purpose::CaseReview,
        created_at: Timestamp(NOW - 60),
        expires_at: Timestamp(expires_at),
    }
}

fn rows(body: &str) -> usize {
    body.matches(r#"class="record-link""#).count()
}

fn logged(store: &AnyStore) -> usize {
    // Off the test's runtime: the PostgreSQL client blocks.
    testing::blocking(move || store.access_log().unwrap().len())
}

#[tokio::test]
async fn without_a_good_grant_the_glass_form_shows_nothing_of_the_child() {
    let h = harness(viewer("dsl", Role::Manager));
    let (status, _, body) = get(&h.app, &format!("/children/{ANNA}/chronology")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(r#"id="reason""#) && !body.contains("Arrived with grandmother"),
        "{body}"
    );
    let bad = [
        grant("someone.else", ANNA, NOW + 3_600),
        grant("dsl", ANNA, NOW),
        grant("dsl", CARL, NOW + 3_600),
    ];
    for g in &bad {
        testing::blocking(|| h.store.add_grant(g)).unwrap();
        let (status, _, body) = get(
            &h.app,
            &format!("/children/{ANNA}/chronology?grant={}", g.id),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{g:?}");
        assert!(body.contains(r#"id="reason""#), "{body}");
        assert!(
            !body.contains("Arrived with grandmother") && !body.contains("table"),
            "{body}"
        );
    }
    let (status, _, _) = get(
        &h.app,
        &format!("/children/{ANNA}/chronology?grant=nonesuch"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(logged(&h.store), 0, "nothing read, nothing logged");
}

#[tokio::test]
async fn a_family_chronology_of_three_agencies_is_logged_before_it_is_shown() {
    let h = harness(viewer("dsl", Role::Manager));
    let url = break_glass(&h.app, ANNA, true).await;
    let (status, _, body) = get(&h.app, &url).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Anna's five entries and Ben's review; not Carl's concern.
    assert_eq!(rows(&body), 6, "{body}");
    ids_unique(&body);
    assert!(!body.contains("another family"));
    for agency in ["HV-NORTH", "NURSERY-12", "GP-7"] {
        assert!(
            body.contains(&format!("<th scope=\"row\">{agency}</th>")),
            "{agency}: {body}"
        );
    }
    assert!(body.contains(r#"id="counts-agency""#) && body.contains(r#"id="counts-kind""#));
    assert!(body.contains(r#"<table class="table chronology-table" id="chronology">"#));
    assert!(
        body.contains("2026-03-03 08:05 GMT"),
        "local time with zone: {body}"
    );
    let grant = url.rsplit('=').next().unwrap();
    assert!(
        body.contains(&format!(r#"href="/records/{}-1?grant={grant}""#, h.nursery)),
        "{body}"
    );
    // The revision folded in: the corrected headline, flagged amended.
    assert!(body.contains("Anna spoke about home (time corrected)"));
    assert!(body.contains(r##"href="#flag-amended""##) && body.contains(r#"id="flag-amended""#));
    let log = testing::blocking(|| h.store.access_log()).unwrap();
    assert_eq!(log.len(), 1);
    let a = &log[0];
    assert_eq!((a.who.as_str(), a.via, a.family), ("dsl", Via::Web, true));
    assert_eq!(a.purpose, Some(Purpose::StrategyDiscussion));
    assert_eq!(a.reason, "strategy meeting 12 March");
    assert_eq!(a.children.len(), 2, "Anna and Ben: {:?}", a.children);
    // Every page read is logged: a second view, a second line.
    get(&h.app, &url).await;
    assert_eq!(logged(&h.store), 2);
}

#[tokio::test]
async fn filters_are_in_the_url_and_counts_follow_them() {
    let h = harness(viewer("dsl", Role::Manager));
    let url = break_glass(&h.app, ANNA, true).await;
    let (_, _, body) = get(&h.app, &format!("{url}&agency=NURSERY-12")).await;
    assert_eq!(rows(&body), 1, "{body}");
    assert!(
        body.contains(r#"<option value="NURSERY-12" selected>"#),
        "{body}"
    );
    let (_, _, body) = get(&h.app, &format!("{url}&kind=meeting&agency=")).await;
    assert_eq!(rows(&body), 1);
    assert!(
        body.contains("<th scope=\"row\">Meeting</th><td class=\"numeric\">1</td>"),
        "{body}"
    );
    let (_, _, body) = get(&h.app, &format!("{url}&flag=unresolved")).await;
    assert_eq!(rows(&body), 1);
    let (_, _, body) = get(&h.app, &format!("{url}&from=2026-03-04&to=2026-03-05")).await;
    assert_eq!(rows(&body), 2, "the voice record and the meeting: {body}");
    let before = logged(&h.store);
    for (q, field) in [
        ("from=2026-02-30", "from"),
        ("to=4%20March", "to"),
        ("kind=gossip", "kind"),
        ("flag=odd", "flag"),
    ] {
        let (status, _, body) = get(&h.app, &format!("{url}&{q}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}");
        assert!(body.contains(&format!("href=\"#{field}\"")), "{q}: {body}");
        assert!(!body.contains("Arrived with grandmother"));
    }
    let (status, _, body) = get(&h.app, &format!("{url}&from=2026-03-05&to=2026-03-01")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("The dates are the wrong way round"), "{body}");
    assert_eq!(logged(&h.store), before, "a refused filter reads nothing");
}

#[tokio::test]
async fn one_childs_grant_shows_that_child_alone() {
    let h = harness(viewer("dsl", Role::Manager));
    let url = break_glass(&h.app, BEN, false).await;
    let (status, _, body) = get(&h.app, &url).await;
    assert_eq!(status, StatusCode::OK);
    // The home visit and the meeting name Ben; the review is his.
    assert_eq!(rows(&body), 3, "{body}");
}

/// A chronology with hostile text in every field the page shows.
fn hostile_view() -> (Chronology, ReadGrant) {
    let anna: ChildRef = ANNA.parse().unwrap();
    let entry = |i: u64, flags: Vec<Flag>| Entry {
        record_id: format!("0102030405060708-{i}").parse().unwrap(),
        occurred_at: Timestamp(NOW - 86_400 * i as i64),
        agency: format!("AG{HOSTILE}"),
        author: format!("au{HOSTILE}"),
        worker: format!("wk{HOSTILE}"),
        kind: RecordKind::Concern,
        headline: format!("headline {HOSTILE}"),
        children: vec![anna.clone()],
        flags,
        amended: None,
        received_at: Timestamp(NOW),
    };
    let c = Chronology {
        child: anna.clone(),
        details: Default::default(),
        signals: Vec::new(),
        names: Default::default(),
        family: false,
        children: vec![anna.clone()],
        entries: vec![
            entry(1, vec![]),
            entry(2, vec![Flag::EnteredInError, Flag::Disputed]),
        ],
    };
    let mut g = grant("dsl", ANNA, NOW + 60);
    g.id = format!("id{HOSTILE}");
    g.reason = format!("reason {HOSTILE}");
    (c, g)
}

#[test]
fn hostile_text_in_every_field_is_rendered_inert() {
    let (c, g) = hostile_view();
    let v = viewer(&format!("name{HOSTILE}"), Role::Manager);
    let filters = Filters {
        agency: Some(format!("AG{HOSTILE}")),
        from: Some(format!("x{HOSTILE}")),
        ..Filters::default()
    };
    let zone = Zone::default();
    let page = render(&ChronologyView {
        viewer: &v,
        grant: &g,
        chronology: &c,
        filters: &filters,
        zone: &zone,
        range: DateRange::default(),
        now: Timestamp(NOW),
    })
    .into_string();
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains("<img src=x"), "{page}");
    assert!(!page.contains("\"><img"), "{page}");
    assert!(page.contains(
        "headline &lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"
    ));
    assert!(page.contains("reason &lt;script&gt;"));
    // A retracted entry is struck through, and says so in words.
    assert!(
        page.contains("Entered in error: </span><del>headline"),
        "{page}"
    );
    assert_eq!(rows(&page), 2);
}

#[test]
fn the_query_of_a_view_is_escaped_for_the_url() {
    let f = Filters {
        agency: Some("A&B C".into()),
        kind: Some(RecordKind::Meeting),
        flag: Some(Flag::LateEntry),
        ..Filters::default()
    };
    assert_eq!(
        f.query("g1"),
        "grant=g1&agency=A%26B%20C&kind=meeting&flag=late_entry"
    );
}

#[test]
fn issue_17_the_heading_rows_and_summary_show_the_registers_names() {
    let (mut c, g) = hostile_view();
    let anna: ChildRef = ANNA.parse().unwrap();
    c.names.insert(
        anna.clone(),
        crate::people::Label {
            person: crate::people::PersonId(3),
            name: format!("Anna {HOSTILE}"),
            born: Timestamp::from_civil(2024, 3, 3, 0, 0, 0),
            expected: None,
        },
    );
    let v = viewer("dsl", Role::Manager);
    let zone = Zone::default();
    let draw = |c: &Chronology| {
        render(&ChronologyView {
            viewer: &v,
            grant: &g,
            chronology: c,
            filters: &Filters::default(),
            zone: &zone,
            range: DateRange::default(),
            now: Timestamp(NOW),
        })
        .into_string()
    };
    let page = draw(&c);
    let name = maud::html! { (format!("Anna {HOSTILE}")) }.into_string();
    assert!(
        page.contains(&format!(
            "<h1>Chronology for {name}, born 3 March 2024 ({ANNA})</h1>"
        )),
        "{page}"
    );
    // Each row and the summary: the name, then the reference.
    let cell = format!(
        r#"<span class="child-name">{name}</span> <span class="child-ref">({ANNA})</span>"#
    );
    assert_eq!(page.matches(&cell).count(), 2 + 1, "{page}");
    assert!(!page.contains("<script>alert"), "{page}");
    // Unknown to the register: the reference alone.
    c.names.clear();
    let page = draw(&c);
    assert!(page.contains(&format!("<h1>Chronology for {ANNA}</h1>")));
    assert!(!page.contains("child-name"));
}

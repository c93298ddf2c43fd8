//! Breaking the glass and reading a family's chronology in the manager's
//! web app (issue 15): a refused reason, the three agencies' records with
//! their counts, and filters kept in the URL.

use hearth_e2e::browser::Browser;
use hearth_e2e::manager::{CHILD_A, CHILD_B, CSC, HV, MANAGER, NURSERY, sign_in};

use crate::manager::{
    all_in_order, choose, count_of, find, names, open_chronology, path, query, row_records,
    row_texts, site, state_reason,
};

pub fn a_short_reason_is_refused_and_nothing_is_shown(browser: &mut Browser) {
    let site = site(browser);
    sign_in(browser, &site, MANAGER);
    find(browser, &site, CHILD_A);
    for purpose in [
        "strategy_discussion",
        "case_review",
        "supervision",
        "court_or_statutory",
    ] {
        assert!(
            browser.exists(&format!(
                "input[type=radio][name=purpose]#purpose-{purpose}"
            )),
            "the purpose {purpose} is offered"
        );
    }
    browser.check_screen("manager-break-glass");

    // Nine characters: one short of a reason.
    state_reason(browser, "too short", "case_review", true);
    browser.wait_for(".error-summary");
    let focused = browser.js(
        "var s = document.querySelector('.error-summary'); \
         var r = s.getBoundingClientRect(); \
         return { focused: s.contains(document.activeElement), \
                  visible: r.width > 0 && r.height > 0 && getComputedStyle(s).visibility !== 'hidden' };",
        vec![],
    );
    assert_eq!(focused["visible"], true, "the error summary is visible");
    let message = browser.text("#reason-error");
    assert!(
        !message.trim().is_empty(),
        "#reason-error says what is wrong"
    );
    assert!(
        browser.exists(".error-summary a[href=\"#reason\"]"),
        "the summary links to the reason field"
    );
    assert!(!path(browser).contains("/chronology"), "{}", browser.url());
    assert!(
        !browser.exists("table#chronology") && !browser.exists("svg#timeline"),
        "nothing of the child is shown before a reason is accepted"
    );
    let page = browser.page_text();
    assert!(!page.contains("Arrived with grandmother"), "{page}");
    browser.check_screen("manager-reason-refused");
    assert_eq!(
        focused["focused"], true,
        "the error summary has the focus (as the tablet app's app.js gives it)"
    );
}

pub fn a_family_chronology_holds_three_agencies_with_counts(browser: &mut Browser) {
    let site = site(browser);
    let r = &site.records;
    sign_in(browser, &site, MANAGER);
    open_chronology(browser, &site, CHILD_A, "case_review", true);
    let shown = row_records(browser);
    assert_eq!(
        shown,
        all_in_order(r),
        "the family view: every record, by when it happened ({:?})",
        names(r, &shown)
    );
    let rows = row_texts(browser);
    for (agency, ids) in [
        (HV, vec![&r.home_visit]),
        (NURSERY, vec![&r.daily, &r.voice]),
        (CSC, vec![&r.meeting, &r.concern]),
    ] {
        for id in ids {
            let at = shown.iter().position(|s| s == id).expect("shown");
            assert!(
                rows[at].contains(agency),
                "row {at} is {agency}'s: {}",
                rows[at]
            );
        }
    }
    // The brother's own record is in the family view.
    let concern = shown.iter().position(|s| *s == r.concern).expect("shown");
    let b = &CHILD_B[CHILD_B.len() - 4..];
    assert!(
        rows[concern].replace(' ', "").contains(b),
        "the concern's row names child B: {}",
        rows[concern]
    );
    for (agency, n) in [(HV, 1), (NURSERY, 2), (CSC, 2)] {
        assert_eq!(
            count_of(browser, "#counts-agency", agency),
            Some(n),
            "{agency}"
        );
    }
    for (kind, n) in [("isit", 1), ("eeting", 1), ("oncern", 1)] {
        assert_eq!(count_of(browser, "#counts-kind", kind), Some(n), "*{kind}*");
    }
    // Flags are in words, with an explanation to hover or tap.
    let voice = shown.iter().position(|s| *s == r.voice).expect("shown");
    assert!(
        rows[voice].to_lowercase().contains("no action"),
        "the voice record is flagged: {}",
        rows[voice]
    );
    let explained = browser.js(
        "var rows = document.querySelectorAll('table#chronology tbody tr'); \
         return rows[arguments[0]].querySelector('abbr[title], [title], details') !== null;",
        vec![serde_json::json!(voice)],
    );
    assert_eq!(
        explained, true,
        "the flag has an explanation (title or details)"
    );
    browser.check_screen("manager-chronology");
    browser.check_screen_at("manager-chronology-table", "table#chronology");
}

pub fn filters_change_the_rows_and_stay_in_the_url(browser: &mut Browser) {
    let site = site(browser);
    let r = site.records.clone();
    sign_in(browser, &site, MANAGER);
    open_chronology(browser, &site, CHILD_A, "supervision", true);
    let grant = query(browser, "grant").expect("the grant is in the URL");
    let everything = browser.url();

    choose(browser, "#agency", NURSERY);
    browser.tap_text("Apply filters");
    browser.wait_until("the agency filter in the URL", |b| {
        query(b, "agency").as_deref() == Some(NURSERY)
    });
    assert_eq!(row_records(browser), vec![r.daily.clone(), r.voice.clone()]);
    assert_eq!(query(browser, "grant").as_deref(), Some(grant.as_str()));
    assert_eq!(count_of(browser, "#counts-agency", HV).unwrap_or(0), 0);
    assert_eq!(count_of(browser, "#counts-agency", NURSERY), Some(2));

    choose(browser, "#kind", "voice");
    browser.tap_text("Apply filters");
    browser.wait_until("the kind filter in the URL", |b| {
        query(b, "kind").as_deref() == Some("voice")
    });
    assert_eq!(
        query(browser, "agency").as_deref(),
        Some(NURSERY),
        "filters add up"
    );
    assert_eq!(row_records(browser), vec![r.voice.clone()]);
    browser.check_screen("manager-chronology-filtered");

    // A shared link shows the same view: open it again from the address.
    let shared = browser.url();
    browser.goto(&everything);
    browser.wait_for("table#chronology");
    assert_eq!(row_records(browser).len(), 5);
    browser.goto(&shared);
    browser.wait_for("table#chronology");
    assert_eq!(row_records(browser), vec![r.voice.clone()]);

    // Dates: from five days ago, the meeting and the concern; up to two
    // days ago, the meeting alone.
    browser.goto(&everything);
    choose(browser, "#from", &r.date_days_ago(5));
    browser.tap_text("Apply filters");
    browser.wait_until("the from date in the URL", |b| query(b, "from").is_some());
    assert_eq!(query(browser, "from"), Some(r.date_days_ago(5)));
    assert_eq!(
        row_records(browser),
        vec![r.meeting.clone(), r.concern.clone()]
    );
    choose(browser, "#to", &r.date_days_ago(2));
    browser.tap_text("Apply filters");
    browser.wait_until("the to date in the URL", |b| query(b, "to").is_some());
    assert_eq!(row_records(browser), vec![r.meeting.clone()]);

    // A flag: the voice record has no action.
    browser.goto(&everything);
    choose(browser, "#flag", "no_action");
    browser.tap_text("Apply filters");
    browser.wait_until("the flag filter in the URL", |b| {
        query(b, "flag").as_deref() == Some("no_action")
    });
    assert_eq!(row_records(browser), vec![r.voice.clone()]);
}

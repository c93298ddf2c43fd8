//! Browser tests of the tablet app (`hearth-agent app`, issue 14) and of
//! the manager's web app (`hearth-server serve`, issue 15): a real headless
//! Chromium driven over WebDriver, each screen checked with axe-core and
//! screenshotted to `docs/screenshots/`. The tablet's scenarios run on a
//! portrait-tablet viewport, the manager's (`manager*`) on a desktop one.
//!
//! One browser session serves every scenario, so this binary has its own
//! runner (`harness = false`): it starts the browser once, runs the
//! scenarios one after another (a failure is caught and reported, and the
//! next scenario goes on), closes the browser, and ends with libtest's
//! summary line. `cargo test --test browser -- NAME` runs the scenarios
//! whose names contain NAME; `--list` lists them.
//!
//! | module | what it proves |
//! | --- | --- |
//! | `harness` | the axe check fails on a page with serious violations and passes a clean one; taps are counted (the harness can fail) |
//! | `security` | a wrong Host (DNS rebinding), a cross-origin POST, a missing, wrong or another session's CSRF token are refused by the real app process, our own POST accepted; a non-loopback address is refused |
//! | `forms` | a home visit with two children and a grade-4 observation, captured only on Confirm, delivered by background sync to the real server's chronology; every field error at once, in the summary and beside its field; an injury through the body map; a voice record finished from a draft that survived kill -9 of the agent; an amendment from the record's page, starting from the original |
//! | `register` | 12 children, 2 exceptions, within 12 + 2 x 5 taps (the count is printed) |
//! | `tablet_caseload` | with a caseload: home's "Due" list overdue first in words, a name shown as text; a child picked by name in a home visit, named on check your answers, its task then done before any sync; the register lists the room's children by name |
//! | `screens` | first run in the browser (set up, mismatched passphrases refused, enrol with a real server's token and fingerprint); unlock (a wrong passphrase shows an error and stays locked); the home screen |
//! | `manager_login` | the manager's sign-in: a page without a session sends the browser to sign in; a wrong password refused with the error summary; the right one lands on Find a child; sign-out ends the session |
//! | `manager_chronology` | a reason under 10 characters refused (the error summary visible and focused, nothing of the child shown); a family chronology from three agencies' enrolled tablets (every record, in order, per-agency and per-kind counts, flags in words with an explanation); agency, kind, date and flag filters change the rows and are kept in the URL (a shared link shows the same view) |
//! | `manager_record` | the record behind a line: the child's words verbatim, an injury with its region and both explanations, care grades, "Signature verified on receipt"; the timeline (one mark per record, each linking to it with the grant; a lane per agency; labelled and described) opens a meeting's record with its absent agency and decisions; `<script>` and `"><img onerror>` in a headline shown as text, no dialog, no element made |
//! | `manager_admin` | an admin unlinks two children with a reason, and the family view then holds only the first child's records; the devices, users and quarantine pages; a manager refused every admin page and the access log |
//! | `manager_pdf` | the panel pack: the family chronology printed to PDF by the browser, read back with `pdftotext`: "Page N of M" on every page, title, children, reason, purpose and who printed it with the timeline on page 1, the table's header repeated, no navigation, forms or link addresses |
//! | `manager_audit` | an auditor refused a chronology, a record and the find page, but reads the access log, which shows the manager's read with its reason and purpose |
//! | `manager_people` | an admin adds a child by name and date of birth (and an adult whose name holds markup, shown as text), finds her by name (adults not listed), opens her person page, breaks the glass from her reference; the chronology's heading and rows show her name beside the NHS number |
//! | `manager_signals` | the Signals panel above a family chronology (concerns accumulating, a core group without minutes, naming both children; not a score); an evidence link jumps to its row; evidence ringed on the timeline; a short note refused beside its field, a good one recorded and shown with who acknowledged; the caseload page behind a reason lists both children, each leading to the break-the-glass form; an auditor refused it |

mod fixture;
mod forms;
mod harness;
mod manager;
mod manager_admin;
mod manager_audit;
mod manager_chronology;
mod manager_login;
mod manager_pdf;
mod manager_people;
mod manager_record;
mod manager_signals;
mod register;
mod screens;
mod security;
mod tablet_caseload;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use hearth_e2e::browser::{Browser, Viewport};

/// A scenario: its name and its body, given the shared browser.
type Scenario = (&'static str, fn(&mut Browser));

/// `module::function` for each scenario, named by its path.
macro_rules! scenarios {
    ($($module:ident :: $name:ident),* $(,)?) => {
        &[$((concat!(stringify!($module), "::", stringify!($name)), $module::$name as fn(&mut Browser))),*]
    };
}

/// Every scenario, in the order they run.
const SCENARIOS: &[Scenario] = scenarios![
    harness::axe_fails_on_serious_violations,
    harness::taps_are_counted,
    security::wrong_host_cross_origin_and_bad_csrf_are_refused,
    security::non_loopback_listen_is_refused_unless_forced,
    screens::first_run_set_up_and_enrol,
    screens::unlock_wrong_then_right_passphrase,
    forms::every_field_error_at_once,
    forms::home_visit_two_children_grade_4_reaches_the_server,
    forms::injury_through_the_body_map,
    forms::voice_record_from_a_draft_that_survived_kill_9,
    forms::amendment_from_the_record_page,
    register::twelve_children_two_exceptions_within_the_tap_bound,
    tablet_caseload::due_list_pick_by_name_and_the_rooms_register,
    manager_login::sign_in_wrong_then_right_then_out,
    manager_chronology::a_short_reason_is_refused_and_nothing_is_shown,
    manager_chronology::a_family_chronology_holds_three_agencies_with_counts,
    manager_chronology::filters_change_the_rows_and_stay_in_the_url,
    manager_record::record_detail_shows_the_childs_words_and_an_injury,
    manager_record::a_timeline_mark_opens_its_record,
    manager_record::html_in_a_headline_is_shown_as_text,
    manager_admin::an_admin_unlinks_a_family,
    manager_admin::admin_pages_list_devices_users_and_quarantine,
    manager_admin::a_manager_cannot_reach_the_admin_pages,
    manager_audit::an_auditor_cannot_read_a_chronology_but_reads_the_access_log,
    manager_pdf::the_panel_pack_prints_to_pdf,
    manager_signals::the_panel_links_evidence_and_takes_an_acknowledgement,
    manager_signals::the_caseload_lists_children_with_open_signals,
    manager_people::find_a_child_by_name_and_read_her_chronology,
];

/// libtest's flags that take a value (the value is not a filter).
const VALUED_FLAGS: &[&str] = &[
    "--test-threads",
    "--skip",
    "--format",
    "--color",
    "--logfile",
    "-Z",
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in SCENARIOS {
            println!("{name}: test");
        }
        return;
    }
    let mut filters = Vec::new();
    let mut skip_next = false;
    for arg in &args {
        if skip_next {
            skip_next = false;
        } else if VALUED_FLAGS.contains(&arg.as_str()) {
            skip_next = true;
        } else if !arg.starts_with('-') {
            filters.push(arg.as_str());
        }
    }
    let selected: Vec<&Scenario> = SCENARIOS
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f)))
        .collect();
    let filtered_out = SCENARIOS.len() - selected.len();
    let start = Instant::now();
    println!("\nrunning {} tests", selected.len());
    if selected.is_empty() {
        summary(0, &[], 0, filtered_out, start);
        return;
    }
    let Some(mut browser) = Browser::launch() else {
        summary(0, &[], selected.len(), filtered_out, start);
        return;
    };
    let mut passed = 0;
    let mut failed = Vec::new();
    for (name, body) in selected {
        let began = Instant::now();
        browser.reset_taps();
        // The manager's web app on a desktop, the tablet app on a tablet.
        let viewport = if name.starts_with("manager") {
            Viewport::Desktop
        } else {
            Viewport::Tablet
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            browser.use_viewport(viewport);
            body(&mut browser)
        }));
        let secs = began.elapsed().as_secs_f32();
        match outcome {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok ({secs:.1} s)");
            }
            Err(_) => {
                failed.push(*name);
                println!("test {name} ... FAILED ({secs:.1} s)");
            }
        }
    }
    browser.close();
    summary(passed, &failed, 0, filtered_out, start);
    if !failed.is_empty() {
        std::process::exit(101);
    }
}

/// libtest's closing lines, so that readers of `cargo test` output see
/// this binary's result like any other's.
fn summary(passed: usize, failed: &[&str], ignored: usize, filtered_out: usize, start: Instant) {
    if !failed.is_empty() {
        println!("\nfailures:");
        for name in failed {
            println!("    {name}");
        }
    }
    println!(
        "\ntest result: {}. {passed} passed; {} failed; {ignored} ignored; 0 measured; {filtered_out} filtered out; finished in {:.2}s\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        failed.len(),
        start.elapsed().as_secs_f64()
    );
}

//! Tests of the chronology formats: golden files (`tests/golden/`), CSV
//! quoting and formula guards, hostile text in every format, local times.

use std::collections::BTreeSet;

use ed25519_dalek::SigningKey;
use expect_test::expect_file;
use hearth_shared::{DeviceId, Timestamp};

use super::super::family::{FamilyLinks, NamedTogether};
use super::super::tests::{ANNA, BEN, record};
use super::super::{DateRange, family_of, reconcile};
use super::*;
use crate::people::{Label, PersonId};
use crate::store::FiledRecord;

/// A fixed fixture: two agencies' devices (fixed keys), siblings, an
/// amendment, a late entry, a fork-disputed record and every flag.
fn fixture() -> Chronology {
    let dev = |seed: u8| {
        DeviceId::from_public_key(
            SigningKey::from_bytes(&[seed; 32])
                .verifying_key()
                .as_bytes(),
        )
    };
    let hv = dev(1);
    let nursery = dev(2);
    let rec = |device: DeviceId, seq: u64, json: String| -> FiledRecord {
        let mut r = record(0, seq, &json);
        r.line.id.device = device;
        r
    };
    let sources = [
        (
            hv,
            1,
            format!(
                r#"{{"kind":"home_visit","children":["{ANNA}","{BEN}"],"occurred_at":"2026-03-02T10:30:00Z","headline":"Unannounced visit, \"home cold\", children seen","access":"unannounced","child_seen":"awake","observations":[{{"domain":"nutrition","grade":4}},{{"domain":"housing","grade":5,"note":"no heating"}},{{"domain":"hygiene","grade":2}}]}}"#
            ),
        ),
        (
            nursery,
            1,
            format!(
                r#"{{"kind":"daily_presentation","children":["{ANNA}"],"occurred_at":"2026-03-03T08:05:00Z","headline":"Arrived hungry, same clothes as Friday","agency":"NURSERY-12","author":"dsl.patel","attendance":"present","hungry":true,"injuries":[{{"body_region":"face","description":"bruise under left eye","carer_explanation":"fell at home","child_account":"Daddy was cross"}}]}}"#
            ),
        ),
        (
            nursery,
            2,
            format!(
                r#"{{"kind":"voice","children":["{ANNA}"],"occurred_at":"2026-03-03T11:00:00Z","headline":"Hid under table when tidy-up bell rang","agency":"NURSERY-12","author":"dsl.patel","mode":"behaviour","behaviour":"hid"}}"#
            ),
        ),
        (
            hv,
            2,
            format!(
                r#"{{"kind":"meeting","children":["{ANNA}","{BEN}"],"occurred_at":"2026-03-05T14:00:00Z","headline":"Core group meeting","meeting_type":"core_group","attendees":[{{"name":"SW","agency":"CSC"}}],"minutes":"not_recorded"}}"#
            ),
        ),
        (
            hv,
            3,
            format!(
                r#"{{"kind":"developmental_review","children":["{BEN}"],"occurred_at":"2026-03-06T09:30:00Z","headline":"2-year review: not brought","contact":"2_2half_years","was_not_brought":true}}"#
            ),
        ),
        (
            hv,
            4,
            format!(
                r#"{{"kind":"escalation","children":["{ANNA}"],"occurred_at":"2026-03-07T12:00:00Z","headline":"Escalated lack of response, stage 1","stage":1,"raised_by":"HV","raised_with":"CSC team manager","disputed":"inaction","disagreement":"no reply"}}"#
            ),
        ),
        (
            hv,
            5,
            format!(
                r#"{{"kind":"concern","children":["{ANNA}"],"occurred_at":"2026-03-04T16:00:00Z","headline":"Bruise on forearm, explanation: fell","category":"physical","seen_or_said":"bruise","action":"referred","action_detail":"CSC front door"}}"#
            ),
        ),
        (
            hv,
            6,
            format!(
                r#"{{"kind":"amendment","children":["{ANNA}"],"occurred_at":"2026-03-04T15:00:00Z","headline":"Bruise on left forearm, explanation: fell off sofa","corrects":"{hv}-5","reason":"time and detail corrected"}}"#
            ),
        ),
    ];
    let mut records: Vec<FiledRecord> = sources
        .iter()
        .map(|(device, seq, json)| rec(*device, *seq, json.clone()))
        .collect();
    records[4].late_entry = true;
    records[5].disputed = true;
    for r in &mut records {
        r.received_at = Timestamp(r.line.occurred_at.0 + 7_200);
    }
    let anna = ANNA.parse().unwrap();
    let links = FamilyLinks {
        named_together: records
            .iter()
            .filter(|r| r.line.children.len() > 1)
            .map(|r| NamedTogether {
                id: r.line.id,
                kind: r.line.kind,
                children: r.line.children.clone(),
            })
            .collect(),
        ..FamilyLinks::default()
    };
    let view: BTreeSet<_> = family_of(&anna, &links);
    let mut c = Chronology {
        child: anna,
        details: Default::default(),
        signals: Vec::new(),
        names: Default::default(),
        family: true,
        children: view.iter().cloned().collect(),
        entries: reconcile(&records, &view, DateRange::default()),
    };
    let decoded = sources
        .iter()
        .map(|(device, seq, json)| {
            let id = hearth_shared::RecordId {
                device: *device,
                seq: hearth_shared::Seq(*seq),
            };
            (id, body_of(json).detail)
        })
        .collect();
    crate::record::fill_all(&mut c, decoded);
    c.signals = fixture_signals(&c);
    // The register knows Anna (issue 17); Ben is not in it, so he is
    // shown by reference alone.
    c.names.insert(
        ANNA.parse().unwrap(),
        Label {
            person: PersonId(1),
            name: "Anna Brown".into(),
            born: Timestamp::from_civil(2024, 3, 3, 0, 0, 0),
            expected: None,
        },
    );
    c
}

/// The fixture's signals as the rules raise them a year on, kept to two:
/// concerns building up (open) and the unminuted core group
/// (acknowledged by a manager).
fn fixture_signals(c: &Chronology) -> Vec<crate::signals::Signal> {
    use crate::signals::{Acknowledgement, Config, Rule, ack, rules};
    let now = Timestamp(c.entries[0].occurred_at.0 + 365 * 86_400);
    let mut signals: Vec<_> =
        rules::evaluate(&c.child, &c.entries, &c.details, &Config::default(), now)
            .signals
            .into_iter()
            .filter(|s| {
                matches!(
                    s.rule,
                    Rule::ConcernsAccumulating | Rule::MeetingsWithoutMinutes
                )
            })
            .collect();
    assert_eq!(signals.len(), 2, "{signals:?}");
    let minutes = &signals[1];
    let acks = [Acknowledgement {
        child: c.child.clone(),
        rule: minutes.rule,
        by: "tm.khan".into(),
        at: Timestamp(minutes.last_seen.0 + 3 * 86_400),
        note: "Chair asked to circulate minutes; checked at the next core group".into(),
        evidence: minutes.evidence.clone(),
    }];
    ack::apply(&c.child, &mut signals, &acks);
    assert!(signals[1].acknowledged.is_some() && signals[0].acknowledged.is_none());
    signals
}

/// The body of a fixture's JSON (defaults as the fixture's records).
fn body_of(json: &str) -> hearth_shared::Body {
    hearth_shared::json::parse_body(
        json,
        &hearth_shared::json::Defaults {
            author: "hv.jones".try_into().unwrap(),
            agency: "HV-NORTH".try_into().unwrap(),
        },
    )
    .unwrap()
}

/// One cell as it is written in a row: guarded, then quoted.
fn field(s: &str) -> String {
    let mut w = csv_writer("");
    w.write_record([cell(s)]).unwrap();
    let row = String::from_utf8(w.into_inner().unwrap()).unwrap();
    row.strip_suffix("\r\n").unwrap().to_string()
}

// The golden files are `tests/golden/*`, checked with expect-test:
// `UPDATE_EXPECT=1 cargo test` rewrites them after a deliberate change.

#[test]
fn golden_table() {
    expect_file!["../../../tests/golden/chronology.table.txt"]
        .assert_eq(&Format::Table.render(&fixture()));
}

#[test]
fn golden_csv() {
    let actual = Format::Csv.render(&fixture());
    // expect-test reads a file with its CRLF line ends made LF, so the
    // text is compared that way, and the CRLF every CSV row ends with
    // (RFC 4180) is checked here.
    assert!(
        actual
            .split_inclusive('\n')
            .all(|row| row.ends_with("\r\n")),
        "every CSV row ends with CRLF: {actual:?}"
    );
    expect_file!["../../../tests/golden/chronology.csv"].assert_eq(&actual.replace("\r\n", "\n"));
}

#[test]
fn golden_json() {
    expect_file!["../../../tests/golden/chronology.json"]
        .assert_eq(&Format::Json.render(&fixture()));
}

#[test]
fn csv_quotes_commas_quotes_and_line_breaks() {
    assert_eq!(field("plain"), "plain");
    assert_eq!(field("a,b"), "\"a,b\"");
    assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    // A line break is shown escaped (issue 11), so a cell never spans
    // lines; a file opened in a terminal shows one row per entry.
    assert_eq!(field("a\nb"), "a\\u{a}b");
}

/// The fixture with hostile text in every field a renderer shows, as a
/// store holding records from before capture refused it would have.
fn hostile() -> Chronology {
    let mut c = fixture();
    let forged = "typo\n2026-11-01 08:30 | Concern: FORGED LINE | CSC-SOCIAL (sw.smith)";
    for e in &mut c.entries {
        e.headline = format!("Seen \u{1b}[2J\u{7}\u{8}\u{202e}gnihton\r{}", e.headline);
        e.agency.push_str("\u{2066}\t");
        e.author.push_str("\u{85}\u{2028}=cmd");
        if let Some(a) = &mut e.amended {
            a.reason = forged.to_string();
            a.original_headline.push_str("\u{200b}\u{feff}\u{7f}");
        }
    }
    assert!(c.entries.iter().any(|e| e.amended.is_some()));
    // The panel columns' text too (an injury as a store holding records
    // from before capture refused hidden characters would have it).
    let mut injured = false;
    for d in c.details.values_mut() {
        if let hearth_shared::kinds::Detail::DailyPresentation(p) = d {
            let mut injuries: Vec<_> = p.injuries.to_vec();
            for i in &mut injuries {
                i.description = forged.try_into().unwrap();
                i.carer_explanation = "=HYPERLINK(\"http://x\")\r\u{202e}".try_into().unwrap();
                injured = true;
            }
            p.injuries = hearth_shared::List::try_from_slice(&injuries).unwrap();
        }
    }
    assert!(injured);
    for s in &mut c.signals {
        s.explanation = format!("{forged} \u{1b}[2J\u{202e}");
        if let Some(a) = &mut s.acknowledged {
            a.note = forged.to_string();
            a.by.push_str("\u{2028}\r");
        }
    }
    assert!(c.signals.iter().any(|s| s.acknowledged.is_some()));
    c
}

fn no_hidden_but_line_ends(out: &str) {
    let bad: Vec<char> = out
        .chars()
        .filter(|&c| c != '\n' && c != '\r' && hearth_shared::printable::hidden(c).is_some())
        .collect();
    assert!(bad.is_empty(), "raw hidden characters {bad:?} in {out}");
}

#[test]
fn hostile_text_cannot_forge_a_table_row_or_move_the_cursor() {
    let c = hostile();
    let out = Format::Table.render(&c);
    // Title, the signals (heading, a blank line, then 7 lines and a blank
    // line each), header, rule, then exactly one line per entry.
    let signal_lines = 2 + 8 * c.signals.len();
    assert_eq!(
        out.lines().count(),
        3 + signal_lines + c.entries.len(),
        "{out}"
    );
    assert!(
        !out.contains("\n2026-11-01 08:30 | Concern: FORGED"),
        "{out}"
    );
    assert_eq!(
        signals_table(&c.signals, &Zone::default()).lines().count(),
        signal_lines
    );
    assert!(
        !out.contains("\n2026-11-01 08:30 | Concern: FORGED"),
        "{out}"
    );
    assert!(out.contains("typo\\u{a}2026-11-01 08:30 | Concern: FORGED LINE"));
    assert!(out.contains("\\u{1b}[2J\\u{7}\\u{8}\\u{202e}gnihton\\u{d}"));
    assert!(!out.contains('\r'));
    no_hidden_but_line_ends(&out);
}

#[test]
fn hostile_text_cannot_forge_a_csv_row() {
    let c = hostile();
    let out = Format::Csv.render(&c);
    assert_eq!(out.matches('\n').count(), 1 + c.entries.len(), "{out}");
    assert_eq!(out.matches("\r\n").count(), 1 + c.entries.len(), "{out}");
    no_hidden_but_line_ends(&out);
    assert!(out.contains("typo\\u{a}2026-11-01 08:30 | Concern: FORGED LINE"));
    // The injuries cell: escaped, and not a formula (it starts with the
    // region, so a formula inside it is text).
    assert!(
        out.contains("\"face: typo\\u{a}2026-11-01 08:30 | Concern: FORGED LINE | CSC-SOCIAL (sw.smith) (carer: =HYPERLINK(\"\"http://x\"\")\\u{d}\\u{202e}; child: Daddy was cross)\""),
        "{out}"
    );
}

#[test]
fn hostile_text_in_json_is_escaped_and_reads_back_unchanged() {
    let c = hostile();
    for out in [
        Format::Json.render(&c),
        Format::Json.render_compact(&c, &Zone::default()),
    ] {
        no_hidden_but_line_ends(&out);
        assert!(!out.contains('\r'));
        let back: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, json(&c));
    }
}

#[test]
fn csv_cells_that_a_spreadsheet_would_run_are_made_text() {
    assert_eq!(
        field("=HYPERLINK(\"http://x\")"),
        "\"'=HYPERLINK(\"\"http://x\"\")\""
    );
    assert_eq!(field("+1"), "'+1");
    assert_eq!(field("-2+3"), "'-2+3");
    assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
    assert_eq!(field("Arrived hungry"), "Arrived hungry");
}

#[test]
fn json_entries_carry_the_required_fields() {
    let v = json(&fixture());
    for e in v["entries"].as_array().unwrap() {
        for k in [
            "record_id",
            "occurred_at",
            "agency",
            "author",
            "kind",
            "headline",
            "children",
            "flags",
            "amended",
        ] {
            assert!(e.get(k).is_some(), "missing {k} in {e}");
        }
    }
}

#[test]
fn issue_11_a_shared_devices_worker_is_shown_beside_the_author() {
    let mut c = fixture();
    let e = &mut c.entries[1];
    assert_eq!(e.author, "dsl.patel");
    e.worker = "door-tablet".into();
    assert!(
        table(&c).contains("| NURSERY-12 (dsl.patel via door-tablet)"),
        "{}",
        table(&c)
    );
    assert!(table(&c).contains("| HV-NORTH (hv.jones)\n"));
    let csv = csv(&c);
    let row = csv.lines().nth(2).unwrap();
    // device_worker, then the panel columns (this entry: hungry, an injury).
    assert!(
        row.ends_with(&format!(",door-tablet,yes,face: bruise under left eye (carer: fell at home; child: Daddy was cross),,,,Anna Brown ({ANNA})")),
        "{row}"
    );
    let j = json(&c);
    assert_eq!(j["entries"][1]["device_worker"], "door-tablet");
    assert!(j["entries"][0].get("device_worker").is_none());
}

#[test]
fn issue_12_a_family_table_and_csv_say_which_children_each_entry_is_about() {
    let c = fixture();
    let out = table(&c);
    // After the title and the signals.
    let mut lines = out.lines().skip_while(|l| !l.starts_with("DATE "));
    let head = lines.next().unwrap();
    assert!(
        head.starts_with("DATE                 | CHILDREN "),
        "{out}"
    );
    let rows: Vec<&str> = lines.skip(1).collect();
    assert_eq!(rows.len(), c.entries.len());
    for (row, e) in rows.iter().zip(&c.entries) {
        let cell = row.split(" | ").nth(1).unwrap().trim_end();
        assert_eq!(cell, children_cell(e, &c), "{row}");
    }
    assert!(
        rows[0].contains(&format!("| Anna Brown ({ANNA}), {BEN} ")),
        "{out}"
    );
    assert!(
        rows[1].contains(&format!("| Anna Brown ({ANNA}) ")),
        "{out}"
    );
    // A single child's table keeps its three columns.
    let mut single = c.clone();
    single.family = false;
    single.signals.clear();
    assert!(
        table(&single)
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("DATE                 | ACTIVITY ")
    );
    // CSV: the `children` column, `;`-separated, after the headline.
    let csv = csv(&c);
    assert!(csv.starts_with(
        "date,time,zone,occurred_at_utc,record_id,agency,author,kind,headline,children,"
    ));
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert!(
        rows[0].contains(&format!("children seen\",{ANNA};{BEN},")),
        "{csv}"
    );
    assert!(rows[1].contains(&format!("Friday\",{ANNA},")), "{csv}");
}

#[test]
fn issue_12_times_are_local_with_their_zone_and_json_stays_utc() {
    let mut c = fixture();
    // One child's view: DATE is the table's first column, ACTIVITY next.
    c.family = false;
    // 09:30 UTC on 1 July is 10:30 in a British summer; the second
    // entry stays in winter (GMT).
    c.entries[0].occurred_at = Timestamp::from_civil(2026, 7, 1, 9, 30, 0).unwrap();
    c.entries[1].occurred_at = Timestamp::from_civil(2026, 12, 1, 10, 30, 0).unwrap();
    let t = table(&c);
    assert!(t.contains("\n2026-07-01 10:30 BST | Home visit"), "{t}");
    assert!(
        t.contains("\n2026-12-01 10:30 GMT | Daily presentation"),
        "{t}"
    );
    let out = csv(&c);
    let rows: Vec<&str> = out.lines().take(3).collect();
    assert!(
        rows[0].starts_with("date,time,zone,occurred_at_utc,record_id,"),
        "{}",
        rows[0]
    );
    assert!(
        rows[1].starts_with("2026-07-01,10:30,BST,2026-07-01T09:30:00Z,"),
        "{}",
        rows[1]
    );
    assert!(
        rows[2].starts_with("2026-12-01,10:30,GMT,2026-12-01T10:30:00Z,"),
        "{}",
        rows[2]
    );
    // Another zone, by its IANA name.
    let ny = Zone::parse("America/New_York").unwrap();
    let t = Format::Table.render_in(&c, &ny);
    assert!(t.contains("\n2026-07-01 05:30 EDT | Home visit"), "{t}");
    assert!(
        t.contains("\n2026-12-01 05:30 EST | Daily presentation"),
        "{t}"
    );
    let csv_ny = Format::Csv.render_in(&c, &ny);
    assert!(
        csv_ny.contains("\n2026-07-01,05:30,EDT,2026-07-01T09:30:00Z,"),
        "{csv_ny}"
    );
    // JSON is the same in every zone: RFC 3339 UTC.
    let j = Format::Json.render_in(&c, &ny);
    assert_eq!(j, Format::Json.render(&c));
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert_eq!(v["entries"][0]["occurred_at"], "2026-07-01T09:30:00Z");
}

#[test]
fn a_retracted_entry_keeps_its_other_flags_in_the_table() {
    // Found in review: the table dropped every other flag of an entry
    // entered in error, which the CSV and JSON still carried.
    let mut c = fixture();
    c.family = false;
    let e = &mut c.entries[0];
    e.flags = vec![
        super::super::Flag::LateEntry,
        super::super::Flag::Disputed,
        super::super::Flag::EnteredInError,
    ];
    let t = table(&c);
    let row = t
        .lines()
        .skip_while(|l| !l.starts_with("DATE "))
        .nth(2)
        .unwrap();
    assert!(row.contains(ENTERED_IN_ERROR_MARK), "{row}");
    assert!(row.contains("[late_entry, disputed]"), "{row}");
}

#[test]
fn issue_12_an_amended_entrys_original_date_is_a_local_date() {
    let mut c = fixture();
    let e = c.entries.iter_mut().find(|e| e.amended.is_some()).unwrap();
    // 23:30 UTC on 30 June is already 1 July in London.
    e.amended.as_mut().unwrap().original_occurred_at =
        Timestamp::from_civil(2026, 6, 30, 23, 30, 0).unwrap();
    let t = table(&c);
    assert!(t.contains("fell\" on 2026-07-01)"), "{t}");
}

#[test]
fn issue_16_signals_in_json_carry_the_contracts_fields() {
    let c = fixture();
    let v = json(&c);
    assert_eq!(v["signals"], signals_json(&c.signals));
    let all = v["signals"].as_array().unwrap();
    assert_eq!(all.len(), 2);
    let keys: Vec<&str> = all[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut want = [
        "rule",
        "title",
        "explanation",
        "learning_point",
        "children",
        "evidence",
        "first_seen",
        "last_seen",
        "acknowledged",
    ];
    want.sort();
    assert_eq!(keys, want);
    assert_eq!(all[0]["rule"], "concerns_accumulating");
    assert_eq!(all[0]["acknowledged"], Value::Null);
    assert_eq!(all[0]["first_seen"], "2026-03-02T10:30:00Z");
    let evidence = all[0]["evidence"].as_array().unwrap();
    assert_eq!(
        evidence[0], v["entries"][0]["record_id"],
        "ids as entries show them"
    );
    let ack = &all[1]["acknowledged"];
    assert_eq!(ack["by"], "tm.khan");
    assert_eq!(
        ack.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["at", "by", "note"]
    );
    // No signals: an empty array, always present; an empty table section.
    let mut quiet = fixture();
    quiet.signals.clear();
    assert_eq!(json(&quiet)["signals"], serde_json::json!([]));
    assert_eq!(signals_table(&quiet.signals, &Zone::default()), "");
    assert!(!Format::Table.render(&quiet).contains("Signals"));
}

#[test]
fn issue_16_the_table_shows_signals_above_the_lines_in_the_zone() {
    let c = fixture();
    let out = Format::Table.render_in(&c, &Zone::parse("America/New_York").unwrap());
    let signals = out.find("Signals (").unwrap();
    let header = out.find("DATE ").unwrap();
    assert!(signals < header, "{out}");
    assert!(out.contains("* Concerns are building up across agencies (concerns_accumulating)"));
    assert!(out.contains("  Open: not acknowledged\n"));
    assert!(
        out.contains("  Acknowledged by tm.khan on 2026-03-08 10:00 EDT: Chair asked"),
        "{out}"
    );
    assert!(out.contains("  First seen 2026-03-02 05:30 EST"), "{out}");
}

/// The fixture with a name for Ben too, expected rather than born.
fn named_both() -> Chronology {
    let mut c = fixture();
    c.names.insert(
        BEN.parse().unwrap(),
        Label {
            person: PersonId(7),
            name: "Baby Brown".into(),
            born: None,
            expected: Timestamp::from_civil(2026, 12, 1, 0, 0, 0),
        },
    );
    c
}

#[test]
fn issue_17_the_table_shows_names_and_dates_of_birth_beside_references() {
    let c = named_both();
    let out = table(&c);
    assert!(
        out.starts_with(&format!(
            "Family chronology for Anna Brown, born 3 March 2024 ({ANNA}) (children: Baby Brown ({BEN}), Anna Brown ({ANNA}))\n"
        )),
        "{out}"
    );
    let rows: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("DATE "))
        .skip(2)
        .collect();
    assert!(
        rows[0].contains(&format!("| Anna Brown ({ANNA}), Baby Brown ({BEN}) ")),
        "{out}"
    );
    assert!(rows[5].contains(&format!("| Baby Brown ({BEN}) ")), "{out}");
    // One child's table: the heading names the child.
    let mut single = c.clone();
    single.family = false;
    assert!(
        table(&single).starts_with(&format!(
            "Chronology for Anna Brown, born 3 March 2024 ({ANNA})\n"
        )),
        "{}",
        table(&single)
    );
    // Not in the register: the reference alone, as before.
    single.names.clear();
    assert!(table(&single).starts_with(&format!("Chronology for {ANNA}\n")));
}

#[test]
fn issue_17_a_date_of_birth_is_the_registers_date_in_every_zone() {
    // Stored as midnight UTC: New York must not show the day before.
    let mut c = fixture();
    c.family = false;
    let t = Format::Table.render_in(&c, &Zone::parse("America/New_York").unwrap());
    assert!(t.contains("Anna Brown, born 3 March 2024"), "{t}");
    assert_eq!(
        names::date_iso(Timestamp::from_civil(2024, 3, 3, 0, 0, 0).unwrap()),
        "2024-03-03"
    );
}

#[test]
fn issue_17_csv_appends_child_names_at_the_end() {
    let c = named_both();
    let out = csv(&c);
    let mut lines = out.lines();
    let head = lines.next().unwrap();
    // Every earlier column stays where it was.
    assert_eq!(
        head,
        "date,time,zone,occurred_at_utc,record_id,agency,author,kind,headline,children,flags,amended,original_headline,amended_by,amendment_reason,device_worker,hungry,injuries,grades_4_or_5,below_threshold,action,child_names"
    );
    let rows: Vec<&str> = lines.collect();
    assert!(
        rows[0].ends_with(&format!(",Anna Brown ({ANNA}); Baby Brown ({BEN})")),
        "{}",
        rows[0]
    );
    // A child the register does not know: the reference alone.
    let mut unknown = c.clone();
    unknown.names.remove(&BEN.parse().unwrap());
    let out = csv(&unknown);
    let row = out.lines().nth(1).unwrap();
    assert!(
        row.ends_with(&format!(",Anna Brown ({ANNA}); {BEN}")),
        "{row}"
    );
}

#[test]
fn issue_17_json_has_a_names_object() {
    let v = json(&named_both());
    assert_eq!(
        v["names"],
        serde_json::json!({
            ANNA: {"person": "P1", "name": "Anna Brown", "born": "2024-03-03", "expected": null},
            BEN: {"person": "P7", "name": "Baby Brown", "born": null, "expected": "2026-12-01"},
        })
    );
    // Always present.
    let mut none = fixture();
    none.names.clear();
    assert_eq!(json(&none)["names"], serde_json::json!({}));
}

/// A name as hostile as a CSV import from another system could make it.
const HOSTILE_NAME: &str =
    "=cmd|' /C calc'!A0,\"Amy\"\n2026-11-01 08:30 | Concern: FORGED \u{202e}nworB\u{1b}[2J";

#[test]
fn issue_17_a_hostile_name_cannot_forge_a_row_run_a_formula_or_reorder_text() {
    let mut c = fixture();
    for l in c.names.values_mut() {
        l.name = HOSTILE_NAME.into();
    }
    let t = Format::Table.render(&c);
    no_hidden_but_line_ends(&t);
    assert!(!t.contains('\r'));
    assert!(!t.contains("\n2026-11-01 08:30 | Concern: FORGED"), "{t}");
    assert!(t.contains("\\u{a}2026-11-01 08:30 | Concern: FORGED \\u{202e}nworB\\u{1b}[2J"));
    assert_eq!(
        t.lines().count(),
        3 + 2 + 8 * c.signals.len() + c.entries.len(),
        "{t}"
    );

    let out = Format::Csv.render(&c);
    no_hidden_but_line_ends(&out);
    assert_eq!(out.matches("\r\n").count(), 1 + c.entries.len(), "{out}");
    assert_eq!(out.matches('\n').count(), 1 + c.entries.len(), "{out}");
    // The cell starts with the name: made text, then quoted (comma, quotes).
    let row = out.lines().nth(2).unwrap();
    assert!(
        row.ends_with(&format!(
            ",\"'=cmd|' /C calc'!A0,\"\"Amy\"\"\\u{{a}}2026-11-01 08:30 | Concern: FORGED \\u{{202e}}nworB\\u{{1b}}[2J ({ANNA})\"\r"
        )) || row.ends_with(&format!(
            ",\"'=cmd|' /C calc'!A0,\"\"Amy\"\"\\u{{a}}2026-11-01 08:30 | Concern: FORGED \\u{{202e}}nworB\\u{{1b}}[2J ({ANNA})\""
        )),
        "{row:?}"
    );
    let mut reader = csv::ReaderBuilder::new().from_reader(out.as_bytes());
    for r in reader.records() {
        let r = r.unwrap();
        assert_eq!(r.len(), 22);
        // Every entry but Ben's alone names Anna first.
        assert!(r[21].starts_with("'=cmd|") || &r[21] == BEN, "{:?}", &r[21]);
    }

    for out in [
        Format::Json.render(&c),
        Format::Json.render_compact(&c, &Zone::default()),
    ] {
        no_hidden_but_line_ends(&out);
        assert!(!out.contains('\r'));
        let back: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["names"][ANNA]["name"], HOSTILE_NAME);
        assert_eq!(back, json(&c));
    }
}

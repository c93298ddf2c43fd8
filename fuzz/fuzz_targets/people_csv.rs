//! The people register's CSV import as a manager's file arrives:
//! `POST /v1/people/import` (text/csv) through the real router and a fresh
//! SQLite store per input (see `server/mod.rs`), which runs
//! `people::import::parse` and `people::ops::import_csv`.
//!
//! The first byte picks the mode: even, the rest is the file as sent; odd,
//! the rest builds a file from rows of real-looking values (children and
//! adults, references, dates, households, relations, quotes, commas and
//! line breaks inside values, and arbitrary text in any cell), with its
//! header in a chosen order, sent by an administrator or an auditor.
//!
//! Invariants, beyond "no panic": no file gets a server error; an auditor
//! may not import (403); on success every data row is either imported or
//! refused, once (`imported` + refused rows = rows, row numbers within the
//! file); the register then holds one person per imported row, plus one
//! per row refused after its person was added (which the refusal says).

#![no_main]

#[allow(dead_code)]
mod server;

use arbitrary::{Arbitrary, Unstructured};
use axum::http::StatusCode;
use hearth_sync_server::people::import::COLUMNS;
use hearth_sync_server::store::Store;
use libfuzzer_sys::fuzz_target;

use server::{ADMIN_TOKEN, AUDITOR_TOKEN, Instance, no_server_error};

/// Values that pass, or nearly pass, each column's checks.
const VALUES: [&[&str]; 10] = [
    &["child", "adult", "Child", ""],
    &[
        "nhs:9434765919",
        "nhs:9434765919;local:NURSERY-12:amy-b",
        "local:HV:baby-brown",
        "nhs:9434765910",
        ";",
        "",
    ],
    &["Amy Brown", "Smith, Lee", "Dean \"D\" Brown", "", "   "],
    &["2024-05-01", "2026-12-31", "2024-02-30", "01/05/2024", ""],
    &["2026-12-01", "2025-01-01", ""],
    &["female", "male", "indeterminate", "F", ""],
    &["Brown", "Smith", ""],
    &["2024-05-01", "2023-01-01", "2099-01-01", ""],
    &["nhs:9434765919", "local:HV:baby-brown", "P1", "P99", ""],
    &["father", "mother", "grandparent", "male_carer", "uncle", ""],
];

#[derive(Arbitrary, Debug)]
enum Cell {
    Pick(u8),
    Text(String),
}

#[derive(Arbitrary, Debug)]
struct File {
    order: [u8; 10],
    drop_column: Option<u8>,
    rows: Vec<[Cell; 10]>,
    auditor: bool,
    crlf: bool,
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl File {
    /// The file's text, and whether its header names every column once.
    fn text(&self) -> (String, bool) {
        let mut order: Vec<usize> = (0..10).collect();
        order.sort_by_key(|i| (self.order[*i], *i));
        if let Some(d) = self.drop_column {
            order.remove(usize::from(d) % order.len());
        }
        let nl = if self.crlf { "\r\n" } else { "\n" };
        let mut out: String = order
            .iter()
            .map(|i| COLUMNS[*i])
            .collect::<Vec<_>>()
            .join(",");
        for row in self.rows.iter().take(16) {
            out.push_str(nl);
            let cells: Vec<String> = order
                .iter()
                .map(|i| match &row[*i] {
                    Cell::Pick(p) => quote(VALUES[*i][usize::from(*p) % VALUES[*i].len()]),
                    Cell::Text(t) => quote(t),
                })
                .collect();
            out.push_str(&cells.join(","));
        }
        (out, self.drop_column.is_none())
    }
}

/// The data rows a CSV reader finds in `text` (the server's settings).
fn data_rows(text: &str) -> usize {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes())
        .records()
        .count()
}

fn import(server: &Instance, text: Vec<u8>, token: &str) -> (StatusCode, serde_json::Value) {
    let (status, answer) = server.post("/v1/people/import", Some(token), text);
    no_server_error("people import", status, &answer);
    let body = serde_json::from_slice(&answer).unwrap_or(serde_json::Value::Null);
    (status, body)
}

fn check_report(server: &Instance, text: &str, report: &serde_json::Value) {
    let imported = report["imported"].as_u64().expect("imported") as usize;
    let refused = report["refused"].as_array().expect("refused");
    let rows = data_rows(text);
    assert_eq!(
        imported + refused.len(),
        rows,
        "every row imported or refused: {report}"
    );
    let mut numbers: Vec<u64> = refused.iter().map(|r| r["row"].as_u64().unwrap()).collect();
    numbers.dedup();
    assert_eq!(
        numbers.len(),
        refused.len(),
        "a row refused twice: {report}"
    );
    assert!(
        numbers.iter().all(|n| (1..=rows as u64).contains(n)),
        "a refused row outside the file: {report}"
    );
    // By the structured `added`, never by the words: a file's own text is
    // echoed in messages and can imitate them (found by this target).
    let added_then_refused = refused.iter().filter(|r| r["added"].is_string()).count();
    let people = server.store.register().unwrap().people.len();
    assert_eq!(
        people,
        imported + added_then_refused,
        "people stored: {report}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let server = Instance::fresh();
    if mode % 2 == 0 {
        let (status, report) = import(&server, rest.to_vec(), ADMIN_TOKEN);
        if status == StatusCode::OK {
            check_report(&server, std::str::from_utf8(rest).unwrap(), &report);
        }
        return;
    }
    let Ok(file) = File::arbitrary(&mut Unstructured::new(rest)) else {
        return;
    };
    let (text, whole_header) = file.text();
    let token = if file.auditor {
        AUDITOR_TOKEN
    } else {
        ADMIN_TOKEN
    };
    let (status, report) = import(&server, text.clone().into_bytes(), token);
    if file.auditor {
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "an auditor imported: {report}"
        );
        return;
    }
    if whole_header {
        assert_eq!(status, StatusCode::OK, "{report}");
    }
    if status == StatusCode::OK {
        check_report(&server, &text, &report);
    }
});

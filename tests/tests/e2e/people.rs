//! Issue 17, the people register (ISSUE17-CONTRACT.md, "Interfaces"):
//!
//! - a round trip through the CLI (`person add/relate/show/list/edit`,
//!   `household add-member/end-member/show`) and HTTP (`/v1/people…`,
//!   `/v1/households…`), every read and change in `person log --json`;
//! - a CSV import whose bad rows (a bad date, a missing name, an unknown
//!   relationship, a reference already taken) are refused and reported by
//!   row and field (exit 1) while its good rows are stored;
//! - identity link and unlink: records a nursery made under `local:…` and
//!   a health visitor under `nhs:…` are one chronology after the link, two
//!   again after the unlink, both audited in the register log;
//! - an unborn child: records made under the local reference before birth
//!   join the NHS number's chronology after the link, with the child's
//!   name and expected date beside the reference in the table, CSV and
//!   JSON.

use hearth_e2e::people::{
    ADMIN, Api, DAY, Logged, admin, assert_logged_in_order, date, encode, midnight, register_log,
};
use hearth_e2e::server::Server;
use serde_json::{Value, json};

use crate::fixture::{concern, daily, enrolled, entries, home_visit, now};

/// Who the CLI's changes are made as (`--as`).
const AMY: &str = "nhs:8645428415";
const CARA: &str = "nhs:8023288350";
const BEA: &str = "nhs:8114618795";
const PULL: &str = "end-to-end test of the people register";

/// `hearth-server ARGS --as admin.okafor`, which must fail; stderr.
fn refused(server: &Server, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.extend(["--as", ADMIN]);
    let out = server.admin(&all);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "hearth-server {all:?} should be refused; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

/// The id in `person add`'s line `added P1 NAME (WHAT)`, checking the
/// whole line.
fn added(out: &str, name: &str, what: &str) -> String {
    let line = out
        .lines()
        .find(|l| l.starts_with("added "))
        .unwrap_or_else(|| panic!("`person add` prints `added Pn {name} ({what})`: {out:?}"));
    let id = line.split_whitespace().nth(1).unwrap_or("").to_string();
    assert!(
        id.len() > 1 && id.starts_with('P') && id[1..].bytes().all(|b| b.is_ascii_digit()),
        "`person add` prints the id as P and a number: {line:?}"
    );
    assert_eq!(line, format!("added {id} {name} ({what})"), "{out}");
    id
}

/// `person add` of a child; its id.
fn add_child(server: &Server, child: &str, name: &str, dob: &str) -> String {
    let out = admin(
        server,
        &[
            "person", "add", "--ref", child, "--name", name, "--dob", dob,
        ],
    );
    added(&out, name, child)
}

/// The record ids of `child`'s chronology, in its order.
fn ids(server: &Server, child: &str) -> Vec<String> {
    entries(&server.chronology_json(child, false))
        .iter()
        .map(|e| e["record_id"].as_str().unwrap().to_string())
        .collect()
}

/// The names of `{"people": [...]}` (the HTTP list).
fn names_of(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list["people"]
        .as_array()
        .unwrap_or_else(|| panic!("GET /v1/people answers {{\"people\": [...]}}: {list}"))
        .iter()
        .map(|p| p["name"].as_str().expect("a person has a name").to_string())
        .collect();
    names.sort();
    names
}

/// Asserts that `body` (a 2xx answer to a change) succeeded.
fn changed(reply: &hearth_e2e::people::Reply, what: &str) {
    assert!(
        (200..300).contains(&reply.status),
        "{what}: HTTP {}: {}",
        reply.status,
        reply.body
    );
}

/// The parts of one register-log entry the scenario expects (`detail`:
/// texts of which the entry's detail holds one; empty: any).
fn logged<'a>(action: &'a str, detail: &'a [&'a str], who: &'a str, reason: &'a str) -> Logged<'a> {
    Logged {
        action,
        detail,
        who,
        reason,
    }
}

#[test]
fn the_register_round_trips_through_the_cli_and_http_and_logs_every_read_and_change() {
    let server = Server::start();

    // The CLI: a child, an adult, their relationship and household.
    let amy = add_child(&server, AMY, "Amy Brown", "2024-05-01");
    let out = admin(
        &server,
        &["person", "add", "--adult", "--name", "Dean Brown"],
    );
    let dean = added(&out, "Dean Brown", "adult");
    assert_ne!(amy, dean);
    admin(
        &server,
        &[
            "person",
            "relate",
            "--adult",
            &dean,
            "--child",
            AMY,
            "--relationship",
            "father",
        ],
    );
    for (who, from) in [(AMY, "2024-05-01"), (dean.as_str(), "2023-01-01")] {
        admin(
            &server,
            &[
                "household",
                "add-member",
                "--household",
                "Brown household",
                "--person",
                who,
                "--from",
                from,
            ],
        );
    }

    // Refused, and nothing stored: a date of birth in the future, a
    // reference already Amy's, an edit without a reason.
    let err = refused(
        &server,
        &[
            "person",
            "add",
            "--ref",
            BEA,
            "--name",
            "Bea Brown",
            "--dob",
            "2099-01-01",
        ],
    );
    assert!(
        err.contains("dob") && err.contains("--edd"),
        "a future dob names the field and the fix (--edd): {err}"
    );
    let err = refused(
        &server,
        &[
            "person",
            "add",
            "--ref",
            AMY,
            "--name",
            "Someone Else",
            "--dob",
            "2024-01-01",
        ],
    );
    assert!(err.contains(AMY), "a taken reference is named: {err}");
    refused(&server, &["person", "edit", &amy, "--name", "No Reason"]);

    // Reads: show (by reference), list --find.
    let shown = admin(&server, &["person", "show", AMY]);
    for part in [
        amy.as_str(),
        "Amy Brown",
        "2024-05-01",
        AMY,
        "Dean Brown",
        "father",
        "Brown household",
    ] {
        assert!(shown.contains(part), "`person show` shows {part}: {shown}");
    }
    assert!(!shown.contains("Someone Else"), "{shown}");
    let found = admin(&server, &["person", "list", "--find", "Amy"]);
    assert!(
        found.lines().any(|l| l.contains(&amy)
            && l.contains("Amy Brown")
            && l.contains("2024-05-01")
            && l.contains(AMY)),
        "`person list --find Amy`: one line with id, name, dob, refs: {found}"
    );
    assert!(!found.contains("Dean Brown"), "{found}");
    let found = admin(&server, &["person", "list", "--find", "Brown"]);
    assert!(
        found.contains("Amy Brown") && found.contains("Dean Brown"),
        "{found}"
    );
    assert!(
        !found.contains("Bea Brown"),
        "a refused add stored nothing: {found}"
    );

    // A change with its reason; the end of a membership.
    admin(
        &server,
        &[
            "person",
            "edit",
            &amy,
            "--name",
            "Amy Brown-Clarke",
            "--reason",
            "name changed by deed poll",
        ],
    );
    admin(
        &server,
        &[
            "household",
            "end-member",
            "--household",
            "Brown household",
            "--person",
            &dean,
            "--until",
            "2025-06-30",
        ],
    );
    let household = admin(&server, &["household", "show", "Brown household"]);
    for part in ["Amy Brown-Clarke", "Dean Brown", "2025-06-30"] {
        assert!(
            household.contains(part),
            "`household show` shows {part}: {household}"
        );
    }
    assert!(admin(&server, &["person", "show", &amy]).contains("Amy Brown-Clarke"));

    // HTTP: an administrator changes, a manager reads, an auditor neither.
    let admin_api = Api::new(&server, &server.add_user("a.admin", "admin"));
    let manager = Api::new(&server, &server.add_user("m.reed", "manager"));
    let auditor = Api::new(&server, &server.add_user("au.lee", "auditor"));
    let cara_body = json!({"refs": [CARA], "name": "Cara Brown", "dob": "2025-02-03", "sex": "female", "adult": false});
    let reply = manager.post("/v1/people", &cara_body);
    assert_eq!(reply.status, 403, "a manager may not add: {}", reply.body);
    let reply = admin_api.post(
        "/v1/people",
        &json!({"refs": [BEA], "name": "Bea Brown", "dob": "2025-13-01", "adult": false}),
    );
    assert_eq!(reply.status, 400, "a bad date: {}", reply.body);
    assert!(
        reply.body["message"].as_str().unwrap_or("").contains("dob"),
        "the refusal names the field: {}",
        reply.body
    );
    let cara = admin_api
        .post("/v1/people", &cara_body)
        .expect(201, "POST /v1/people")["id"]
        .as_str()
        .unwrap_or_else(|| panic!("POST /v1/people answers {{\"id\": \"Pn\"}}"))
        .to_string();
    assert!(
        cara.starts_with('P') && cara != amy && cara != dean,
        "{cara}"
    );

    let got = manager.get(&format!("/v1/people/{}", encode(CARA)));
    let person = got.expect(200, "GET /v1/people/{ref}");
    assert_eq!(person["id"], cara.as_str(), "{person}");
    assert_eq!(person["name"], "Cara Brown", "{person}");
    assert!(
        person["refs"]
            .as_array()
            .is_some_and(|r| r.contains(&json!(CARA))),
        "{person}"
    );
    let by_id = manager.get(&format!("/v1/people/{amy}"));
    let text = by_id.expect(200, "GET /v1/people/{Pn}").to_string();
    for part in [
        "Amy Brown-Clarke",
        AMY,
        "Dean Brown",
        "father",
        "Brown household",
    ] {
        assert!(
            text.contains(part),
            "GET /v1/people/{amy} has {part}: {text}"
        );
    }
    let listed = manager.get("/v1/people?find=Brown");
    assert_eq!(
        names_of(listed.expect(200, "GET /v1/people?find=Brown")),
        ["Amy Brown-Clarke", "Cara Brown", "Dean Brown"]
    );
    assert_eq!(auditor.get("/v1/people?find=Brown").status, 403);

    let reply = admin_api.post(
        &format!("/v1/people/{cara}/edit"),
        &json!({"name": "Cara Brown-Clarke", "reason": "name changed with her sister's"}),
    );
    changed(&reply, "POST /v1/people/{Pn}/edit");
    let reply = admin_api.post(
        &format!("/v1/people/{dean}/relations"),
        &json!({"child": CARA, "relationship": "father"}),
    );
    changed(&reply, "POST /v1/people/{Pn}/relations");
    let members = format!("/v1/households/{}/members", encode("Brown household"));
    changed(
        &admin_api.post(&members, &json!({"person": CARA, "from": "2025-02-03"})),
        "POST /v1/households/{name}/members",
    );
    changed(
        &admin_api.post(
            &format!("{members}/end"),
            &json!({"person": cara, "until": "2025-12-31"}),
        ),
        "POST /v1/households/{name}/members/end",
    );
    let text = manager.get(&format!("/v1/people/{cara}")).body.to_string();
    for part in ["Cara Brown-Clarke", "Dean Brown", "father", "2025-12-31"] {
        assert!(
            text.contains(part),
            "GET /v1/people/{cara} has {part}: {text}"
        );
    }

    // The register log: every change and every read, in order, by whom,
    // with the edit's reason; nothing for a refused change.
    let log = register_log(&server);
    let household = "Brown household";
    let (amy_any, dean_any, cara_any) = ([&*amy, AMY], [&*dean, "father"], [&*cara, CARA]);
    let add_member = [household, AMY, &*amy];
    let end_member = [household, &*dean];
    let shown = [&*amy, AMY];
    assert_logged_in_order(
        &log,
        &[
            logged("add", &[&amy, "Amy Brown"], ADMIN, ""),
            logged("add", &[&dean, "Dean Brown"], ADMIN, ""),
            logged("relate", &dean_any, ADMIN, ""),
            logged("add_member", &add_member, ADMIN, ""),
            logged("add_member", &[household, &*dean], ADMIN, ""),
            logged("read", &shown, ADMIN, ""),
            logged("read", &[], ADMIN, ""),
            logged("read", &[], ADMIN, ""),
            logged("edit", &amy_any, ADMIN, "name changed by deed poll"),
            logged("end_member", &end_member, ADMIN, ""),
            logged("read", &[household], ADMIN, ""),
            logged("add", &[&cara, "Cara Brown"], "a.admin", ""),
            logged("read", &cara_any, "m.reed", ""),
            logged("read", &[&*amy, AMY], "m.reed", ""),
            logged("read", &[], "m.reed", ""),
            logged(
                "edit",
                &cara_any,
                "a.admin",
                "name changed with her sister's",
            ),
            logged("relate", &dean_any, "a.admin", ""),
            logged("add_member", &[household, CARA, &*cara], "a.admin", ""),
            logged("end_member", &[household, &*cara], "a.admin", ""),
            logged("read", &cara_any, "m.reed", ""),
        ],
    );
    let adds = log.iter().filter(|e| e["action"] == "add").count();
    assert_eq!(
        adds, 3,
        "three people added, refusals not logged as adds: {log:?}"
    );
    let text = server.admin_ok(&["person", "log"]);
    assert!(text.contains("name changed by deed poll"), "{text}");
}

/// The import file: rows 1, 6 and 7 are good; 2 has a bad date, 3 no
/// name, 4 an unknown relationship, 5 a reference already registered.
fn import_csv(lily: &str, taken: &str, rosa: &str) -> String {
    [
        "kind,refs,name,dob,edd,sex,household,from,related_to,relationship".to_string(),
        format!("child,{lily},Lily Green,2023-04-02,,female,Green household,2023-04-02,,"),
        "child,local:NURSERY-12:tom-g,Tom Green,2023-13-45,,male,Green household,2023-04-02,,"
            .to_string(),
        "child,local:NURSERY-12:nn-g,,2022-01-09,,,,,,".to_string(),
        format!("adult,,Sam Green,,,,Green household,2023-04-02,{lily},uncle"),
        format!("child,{taken},Tia Green,2021-07-07,,,,,,"),
        format!("adult,,Jo Green,,,,Green household,2022-01-01,{lily},mother"),
        format!(
            "child,local:NURSERY-12:rosa-g;{rosa},Rosa Green,2024-09-10,,female,Green household,2024-09-10,,"
        ),
    ]
    .join("\n")
        + "\n"
}

#[test]
fn a_csv_import_stores_the_good_rows_and_reports_each_refused_row_and_field() {
    let server = Server::start();
    let (lily, taken, rosa) = ("nhs:2685065903", "nhs:5075906311", "nhs:3988824453");
    add_child(&server, taken, "Tia Grey", "2021-07-07");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("register.csv");
    std::fs::write(&file, import_csv(lily, taken, rosa)).unwrap();

    let out = server.admin(&["person", "import", file.to_str().unwrap(), "--as", ADMIN]);
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "an import with refused rows exits 1: {report}"
    );
    assert!(
        report.contains("imported 3 rows; refused 4 rows"),
        "{report}"
    );
    // The taken reference's field is the column (`refs`) or the CLI
    // option's name (`ref`, as `person add --ref` reports it).
    let wanted: [(usize, &[&str]); 4] = [
        (2, &["dob"]),
        (3, &["name"]),
        (4, &["relationship"]),
        (5, &["refs", "ref"]),
    ];
    for (row, fields) in wanted {
        let prefixes: Vec<String> = fields.iter().map(|f| format!("row {row}: {f}: ")).collect();
        assert!(
            report
                .lines()
                .any(|l| prefixes.iter().any(|p| l.trim_start().starts_with(p))),
            "the report has `{}…`: {report}",
            prefixes[0]
        );
    }
    for row in [1, 6, 7] {
        assert!(
            !report.contains(&format!("row {row}:")),
            "row {row} is good: {report}"
        );
    }

    // The good rows are stored, with their relationship and household;
    // the refused ones are not; the taken reference is still Tia Grey's.
    let found = admin(&server, &["person", "list", "--find", "Green"]);
    for name in ["Lily Green", "Jo Green", "Rosa Green"] {
        assert!(found.contains(name), "{name} imported: {found}");
    }
    for name in ["Tom Green", "Sam Green", "Tia Green"] {
        assert!(!found.contains(name), "{name} refused: {found}");
    }
    let shown = admin(&server, &["person", "show", lily]);
    assert!(
        shown.contains("Jo Green") && shown.contains("mother"),
        "{shown}"
    );
    let shown = admin(&server, &["person", "show", "local:NURSERY-12:rosa-g"]);
    assert!(
        shown.contains("Rosa Green") && shown.contains(rosa),
        "both refs: {shown}"
    );
    let shown = admin(&server, &["person", "show", taken]);
    assert!(
        shown.contains("Tia Grey") && !shown.contains("Tia Green"),
        "{shown}"
    );
    let household = admin(&server, &["household", "show", "Green household"]);
    for name in ["Lily Green", "Jo Green", "Rosa Green"] {
        assert!(household.contains(name), "{household}");
    }
    assert!(!household.contains("Sam Green"), "{household}");
    assert!(
        register_log(&server)
            .iter()
            .any(|e| e["action"] == "import"),
        "the import is in the register log"
    );

    // The same through HTTP: a report by row and field; administrators only.
    let body = format!(
        "kind,refs,name,dob,edd,sex,household,from,related_to,relationship\n\
         child,local:NURSERY-12:ada-g,Ada Green,2024-01-05,,,,,,\n\
         adult,,Kim Green,,,,,,{lily},cousin\n"
    );
    let manager = Api::new(&server, &server.add_user("m.reed", "manager"));
    let reply = manager.post_raw("/v1/people/import", "text/csv", body.clone());
    assert_eq!(reply.status, 403, "{}", reply.body);
    let admin_api = Api::new(&server, &server.add_user("a.admin", "admin"));
    let reply = admin_api.post_raw("/v1/people/import", "text/csv", body);
    let answer = reply.expect(200, "POST /v1/people/import");
    assert_eq!(answer["imported"], 1, "{answer}");
    let refused = answer["refused"].as_array().expect("a refused array");
    assert_eq!(refused.len(), 1, "{answer}");
    assert_eq!(refused[0]["row"], 2, "{answer}");
    assert_eq!(refused[0]["field"], "relationship", "{answer}");
    assert!(
        refused[0]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{answer}"
    );
    let found = admin(&server, &["person", "list", "--find", "Green"]);
    assert!(
        found.contains("Ada Green") && !found.contains("Kim Green"),
        "{found}"
    );

    // A clean file exits 0.
    std::fs::write(
        &file,
        "kind,refs,name,dob,edd,sex,household,from,related_to,relationship\n\
         child,local:NURSERY-12:eli-g,Eli Green,2024-03-03,,,,,,\n",
    )
    .unwrap();
    let out = admin(&server, &["person", "import", file.to_str().unwrap()]);
    assert!(out.contains("refused 0 rows"), "{out}");
}

#[test]
fn an_identity_link_joins_two_agencies_records_of_one_child_and_an_unlink_parts_them() {
    let server = Server::start();
    let hv = enrolled(&server, "HV-NORTH", "hv.jones", 0, None);
    let nursery = enrolled(&server, "NURSERY-12", "dsl.patel", 0, None);
    let (nhs, local) = ("nhs:8338504149", "local:NURSERY-12:maya-p");
    let t = now();
    add_child(&server, nhs, "Maya Patel", "2023-08-14");
    let at_nursery = nursery.record(&daily(local, t - 3 * DAY, "Arrived hungry"));
    let at_home = hv.record(&home_visit(&[nhs], t - 2 * DAY, "Maya seen at home"));
    assert_eq!(nursery.sync(), 0);
    assert_eq!(hv.sync(), 0);
    assert_eq!(ids(&server, nhs), [at_home.as_str()]);
    assert_eq!(ids(&server, local), [at_nursery.as_str()]);

    // A reason shorter than 10 characters is refused; nothing changes.
    let err = refused(
        &server,
        &["identity", "link", nhs, local, "--reason", "same"],
    );
    assert!(err.contains("reason"), "{err}");
    assert_eq!(ids(&server, nhs), [at_home.as_str()]);

    let link_reason = "same child: nursery registration matched on date of birth";
    admin(
        &server,
        &["identity", "link", local, nhs, "--reason", link_reason],
    );
    let both = [at_nursery.as_str(), at_home.as_str()];
    assert_eq!(
        ids(&server, nhs),
        both,
        "the NHS number's chronology after the link"
    );
    assert_eq!(
        ids(&server, local),
        both,
        "the local reference's after the link"
    );
    let shown = admin(&server, &["person", "show", nhs]);
    assert!(
        shown.contains(local),
        "`person show` lists every ref of the class: {shown}"
    );

    let unlink_reason = "linked in error: a different child of the same name";
    admin(
        &server,
        &["identity", "unlink", nhs, local, "--reason", unlink_reason],
    );
    assert_eq!(ids(&server, nhs), [at_home]);
    assert_eq!(ids(&server, local), [at_nursery]);

    assert_logged_in_order(
        &register_log(&server),
        &[
            logged("link", &["maya-p", "8338504149"], ADMIN, link_reason),
            logged("unlink", &["maya-p", "8338504149"], ADMIN, unlink_reason),
        ],
    );
    let history: Value =
        serde_json::from_str(&server.admin_ok(&["family", "history", "--json"])).unwrap();
    assert_eq!(
        history,
        json!([]),
        "identity links are not family links: the family history is untouched"
    );
}

#[test]
fn an_unborn_childs_records_join_the_nhs_number_after_birth_with_the_name_beside_them() {
    let server = Server::start();
    let hv = enrolled(&server, "HV-NORTH", "hv.jones", 0, None);
    let (local, nhs) = ("local:HV:baby-brown", "nhs:5251994508");
    let t = now();
    let edd = date(midnight(t) + 10 * DAY);
    let out = admin(
        &server,
        &[
            "person",
            "add",
            "--ref",
            local,
            "--name",
            "Baby Brown",
            "--edd",
            &edd,
        ],
    );
    let baby = added(&out, "Baby Brown", local);

    let antenatal = hv.record(&concern(
        local,
        t - 5 * DAY,
        "Antenatal contact: mother disclosed abuse",
    ));
    let mut birth_visit = home_visit(&[nhs], t - 3_600, "New birth visit");
    birth_visit["present"] = json!([{"role": "mother"}]);
    let new_birth = hv.record(&birth_visit);
    assert_eq!(hv.sync(), 0);
    assert_eq!(ids(&server, nhs), [new_birth.as_str()], "before the link");

    let reason = format!("born {}, NHS number issued", date(t - DAY));
    admin(
        &server,
        &["identity", "link", local, nhs, "--reason", &reason],
    );
    let json = server.chronology_json(nhs, false);
    let got: Vec<&str> = entries(&json)
        .iter()
        .map(|e| e["record_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        [antenatal.as_str(), new_birth.as_str()],
        "the antenatal record joins the NHS number's chronology"
    );

    // JSON: `names` for every ref in view, with the expected date.
    for r in [nhs, local] {
        let name = &json["names"][r];
        assert_eq!(name["person"], baby.as_str(), "names[{r}]: {json}");
        assert_eq!(name["name"], "Baby Brown", "names[{r}]: {}", json["names"]);
        assert!(name["born"].is_null(), "names[{r}]: {}", json["names"]);
        assert_eq!(
            name["expected"],
            edd.as_str(),
            "names[{r}]: {}",
            json["names"]
        );
    }

    // CSV: `child_names` last, `Name (ref)` for each entry's children.
    let csv = admin(
        &server,
        &[
            "chronology",
            "--child",
            nhs,
            "--format",
            "csv",
            "--reason",
            PULL,
        ],
    );
    let mut lines = csv.lines();
    let header = lines.next().unwrap_or("");
    assert!(header.ends_with(",child_names"), "{header}");
    for (id, r) in [(&antenatal, local), (&new_birth, nhs)] {
        let row = csv
            .lines()
            .find(|l| l.contains(id.as_str()))
            .unwrap_or_else(|| panic!("a CSV row for {id}: {csv}"));
        assert!(
            row.ends_with(&format!(",Baby Brown ({r})")),
            "the row's child_names: {row}"
        );
    }

    // The table: the name and "expected" beside the reference.
    let table = admin(&server, &["chronology", "--child", nhs, "--reason", PULL]);
    assert!(
        table.contains("Baby Brown") && table.contains("expected"),
        "{table}"
    );
    // The record made before birth is still under its own reference.
    assert!(csv.contains(local), "{csv}");
}

//! The same calls on SQLite and on PostgreSQL give the same answers:
//! every method of the administration modules (devices, tokens, users,
//! family links, the web app's accounts, read grants, signal states and
//! acknowledgements), refusals and orders included, written as one script
//! run on both backends and compared step by step.

use hearth_shared::{ChildRef, DeviceId, RecordId, Seq, Timestamp};

use crate::signals::{Acknowledgement, Rule, Signal};
use crate::store::{
    FamilyChange, Grant, Purpose, ReadGrant, Role, SignalState, Store, User, WebSession,
};

const ANNA: &str = "nhs:9434765919";
const BEN: &str = "local:LA-NORTH:C 0042";
const CARL: &str = "local:la-north:a 7";
const T: i64 = 1_790_000_000;

fn child(s: &str) -> ChildRef {
    s.parse().unwrap()
}

/// Runs the script on `s`; one line a step, for comparing.
fn script(s: &impl Store) -> Vec<String> {
    let mut out = Vec::new();
    let mut say = |what: &str, v: String| out.push(format!("{what}: {v}"));
    let grant = |w: &str, staff: &[&str]| Grant {
        agency: "HV-NORTH".into(),
        worker: w.into(),
        staff: staff.iter().map(|m| m.to_string()).collect(),
    };
    // Devices and tokens.
    s.add_enrol_token(
        "t1",
        &grant("hv.jones", &["hv.b", "hv.a"]),
        Timestamp(T),
        Timestamp(T + 60),
    )
    .unwrap();
    s.add_enrol_token("t2", &grant("hv.lee", &[]), Timestamp(T), Timestamp(T + 60))
        .unwrap();
    s.add_enrol_token("t3", &grant("hv.kim", &[]), Timestamp(T), Timestamp(T + 10))
        .unwrap();
    let (d1, d2) = (DeviceId([1; 8]), DeviceId([2; 8]));
    say(
        "enrol unknown",
        format!("{:?}", s.enrol("nope", d1, [1; 32], Timestamp(T))),
    );
    say(
        "enrol expired",
        format!("{:?}", s.enrol("t3", d1, [1; 32], Timestamp(T + 10))),
    );
    say(
        "enrol",
        format!("{:?}", s.enrol("t1", d1, [1; 32], Timestamp(T + 1))),
    );
    say(
        "enrol used",
        format!("{:?}", s.enrol("t1", d2, [2; 32], Timestamp(T + 2))),
    );
    say(
        "enrol exists",
        format!("{:?}", s.enrol("t2", d1, [1; 32], Timestamp(T + 2))),
    );
    say(
        "enrol 2",
        format!("{:?}", s.enrol("t2", d2, [2; 32], Timestamp(T))),
    );
    say(
        "staff on",
        format!("{:?}", s.set_staff(d2, "hv.c", true, Timestamp(T + 3))),
    );
    say(
        "staff off",
        format!("{:?}", s.set_staff(d1, "hv.a", false, Timestamp(T + 4))),
    );
    say(
        "staff off again",
        format!("{:?}", s.set_staff(d1, "hv.a", false, Timestamp(T + 5))),
    );
    say(
        "staff back",
        format!("{:?}", s.set_staff(d1, "hv.a", true, Timestamp(T + 6))),
    );
    say(
        "staff no device",
        format!(
            "{:?}",
            s.set_staff(DeviceId([9; 8]), "x", true, Timestamp(T))
        ),
    );
    say(
        "revoke",
        format!("{:?}", s.revoke(d2, "lost", Timestamp(T + 7))),
    );
    say(
        "revoke again",
        format!("{:?}", s.revoke(d2, "found", Timestamp(T + 8))),
    );
    say(
        "revoke none",
        format!("{:?}", s.revoke(DeviceId([9; 8]), "x", Timestamp(T))),
    );
    say("devices", format!("{:?}", s.devices()));
    say("device", format!("{:?}", s.device(d1)));
    say("device none", format!("{:?}", s.device(DeviceId([9; 8]))));
    // Users.
    for (name, role, token) in [
        ("zed", Role::Admin, "h1"),
        ("Amy", Role::Manager, "h2"),
        ("bob", Role::Auditor, "h3"),
    ] {
        say(
            "add user",
            format!("{:?}", s.add_user(name, role, token, Timestamp(T))),
        );
    }
    say(
        "add user same name",
        format!("{:?}", s.add_user("zed", Role::Manager, "h9", Timestamp(T))),
    );
    say(
        "add user same token",
        format!("{:?}", s.add_user("new", Role::Manager, "h1", Timestamp(T))),
    );
    say("by token", format!("{:?}", s.user_by_token("h2")));
    say(
        "revoke user",
        format!("{:?}", s.revoke_user("bob", "left", Timestamp(T + 1))),
    );
    say(
        "revoke user again",
        format!("{:?}", s.revoke_user("bob", "again", Timestamp(T + 2))),
    );
    say(
        "revoke no user",
        format!("{:?}", s.revoke_user("nobody", "x", Timestamp(T))),
    );
    say("by revoked token", format!("{:?}", s.user_by_token("h3")));
    say(
        "replace token",
        format!("{:?}", s.replace_user_token("Amy", "h4")),
    );
    say(
        "replace revoked",
        format!("{:?}", s.replace_user_token("bob", "h5")),
    );
    say(
        "replace none",
        format!("{:?}", s.replace_user_token("nobody", "h6")),
    );
    say("old token", format!("{:?}", s.user_by_token("h2")));
    // The web app.
    let session = |id: &str, name: &str, role: Role, at: i64| WebSession {
        id_hash: id.into(),
        user: User {
            name: name.into(),
            role,
        },
        csrf: format!("csrf-{id}"),
        created_at: Timestamp(at),
        last_seen: Timestamp(at),
    };
    say("login none", format!("{:?}", s.login_user("Amy")));
    say(
        "password",
        format!("{:?}", s.set_password("Amy", "argon", Timestamp(T + 3))),
    );
    say(
        "password revoked",
        format!("{:?}", s.set_password("bob", "argon", Timestamp(T + 3))),
    );
    say("login", format!("{:?}", s.login_user("Amy")));
    say("login revoked", format!("{:?}", s.login_user("bob")));
    s.add_session(&session("s1", "Amy", Role::Manager, T))
        .unwrap();
    s.add_session(&session("s2", "Amy", Role::Manager, T))
        .unwrap();
    s.add_session(&session("s3", "zed", Role::Admin, T))
        .unwrap();
    say(
        "touch",
        format!(
            "{:?}",
            s.touch_session("s1", Timestamp(T - 5), Timestamp(T + 10))
        ),
    );
    say(
        "touch earlier",
        format!(
            "{:?}",
            s.touch_session("s1", Timestamp(T - 5), Timestamp(T + 5))
        ),
    );
    say(
        "touch idle",
        format!(
            "{:?}",
            s.touch_session("s2", Timestamp(T + 1), Timestamp(T + 10))
        ),
    );
    say(
        "touch idle gone",
        format!(
            "{:?}",
            s.touch_session("s2", Timestamp(0), Timestamp(T + 10))
        ),
    );
    s.end_session("s1").unwrap();
    say(
        "ended",
        format!("{:?}", s.touch_session("s1", Timestamp(0), Timestamp(T))),
    );
    s.end_sessions_of("zed").unwrap();
    say(
        "ended of",
        format!("{:?}", s.touch_session("s3", Timestamp(0), Timestamp(T))),
    );
    s.add_session(&session("s4", "Amy", Role::Manager, T))
        .unwrap();
    say(
        "password again",
        format!("{:?}", s.set_password("Amy", "argon2", Timestamp(T + 4))),
    );
    say(
        "signed out by password",
        format!("{:?}", s.touch_session("s4", Timestamp(0), Timestamp(T))),
    );
    s.add_session(&session("s5", "zed", Role::Admin, T))
        .unwrap();
    s.revoke_user("zed", "gone", Timestamp(T + 5)).unwrap();
    say(
        "signed out by revocation",
        format!("{:?}", s.touch_session("s5", Timestamp(0), Timestamp(T))),
    );
    say("users", format!("{:?}", s.users()));
    for (name, peer, at) in [
        ("Amy", "10.0.0.1", T - 90_000),
        ("Amy", "10.0.0.2", T),
        ("x", "10.0.0.1", T + 1),
        ("Amy", "10.0.0.1", T + 2),
    ] {
        s.add_login_failure(name, peer, Timestamp(at)).unwrap();
    }
    say(
        "failures",
        format!(
            "{:?}",
            s.login_failures("Amy", "10.0.0.1", Timestamp(T - 100_000))
        ),
    );
    say(
        "failures since",
        format!(
            "{:?}",
            s.login_failures("Amy", "10.0.0.1", Timestamp(T + 1))
        ),
    );
    // Read grants.
    let g = ReadGrant {
        id: "00ff".into(),
        user: "Amy".into(),
        child: child(BEN),
        family: true,
        reason: "strategy meeting".into(),
        purpose: Purpose::StrategyDiscussion,
        created_at: Timestamp(T),
        expires_at: Timestamp(T + 3600),
    };
    s.add_grant(&g).unwrap();
    say("grant", format!("{:?}", s.grant("00ff")));
    say("grant none", format!("{:?}", s.grant("0000")));
    // Family links: the history in order, both children stale.
    for (linked, a, b) in [
        (true, BEN, ANNA),
        (false, ANNA, BEN),
        (true, CARL, ANNA),
        (true, CARL, ANNA),
    ] {
        let change = FamilyChange {
            at: Timestamp(T),
            linked,
            a: child(a),
            b: child(b),
            who: "lead".into(),
            reason: "r".into(),
        };
        say("family", format!("{:?}", s.change_family(&change)));
    }
    say("history", format!("{:?}", s.family_history()));
    // Signals: states, compare-and-set, stale, raised, acknowledgements.
    let kids = [
        child(CARL),
        child(ANNA),
        child("nhs:4010232137"),
        child(BEN),
    ];
    say("states", format!("{:?}", s.signal_states(&kids)));
    let raised = Signal {
        rule: Rule::VoiceNotActedOn,
        title: "t".into(),
        explanation: "e".into(),
        learning_point: "l".into(),
        children: vec![child(ANNA)],
        evidence: vec![RecordId {
            device: d1,
            seq: Seq(3),
        }],
        first_seen: Timestamp(1),
        last_seen: Timestamp(2),
        acknowledged: None,
    };
    let state = |c: &str, dirty: i64, signals: Vec<Signal>| SignalState {
        child: child(c),
        dirty,
        signals,
        computed_at: Some(Timestamp(T)),
        recheck_at: Some(Timestamp(T + 100)),
        fingerprint: "f1".into(),
    };
    say(
        "save stale value",
        format!("{:?}", s.save_signal_state(&state(ANNA, 1, vec![]))),
    );
    say(
        "save",
        format!(
            "{:?}",
            s.save_signal_state(&state(ANNA, 3, vec![raised.clone()]))
        ),
    );
    say(
        "save new child",
        format!(
            "{:?}",
            s.save_signal_state(&state("nhs:4010232137", 0, vec![]))
        ),
    );
    say(
        "save new child again",
        format!(
            "{:?}",
            s.save_signal_state(&state("nhs:4010232137", 5, vec![]))
        ),
    );
    say(
        "save many",
        format!(
            "{:?}",
            s.save_signal_states(&[
                state(BEN, 1, vec![]),
                state(CARL, 0, vec![]),
                state(CARL, 2, vec![raised.clone()])
            ])
        ),
    );
    say("states after", format!("{:?}", s.signal_states(&kids)));
    let mut stale = s.stale_children(Timestamp(T + 50), "f1", 100).unwrap();
    stale.sort();
    say("stale", format!("{stale:?}"));
    let mut stale = s.stale_children(Timestamp(T + 100), "f2", 100).unwrap();
    stale.sort();
    say("stale by time and config", format!("{stale:?}"));
    say(
        "stale limit",
        format!(
            "{:?}",
            s.stale_children(Timestamp(T + 100), "f2", 1)
                .map(|v| v.len())
        ),
    );
    let mut raised_states = s.raised_signal_states().unwrap();
    raised_states.sort_by(|a, b| a.child.cmp(&b.child));
    say("raised", format!("{raised_states:?}"));
    for (c, rule, at) in [
        (BEN, Rule::VoiceNotActedOn, 3),
        (ANNA, Rule::MaleCarerUnseen, 1),
        (BEN, Rule::MaleCarerUnseen, 2),
        (CARL, Rule::VoiceNotActedOn, 4),
    ] {
        let ack = Acknowledgement {
            child: child(c),
            rule,
            by: "tm".into(),
            at: Timestamp(at),
            note: format!("n{at}"),
            evidence: vec![RecordId {
                device: d2,
                seq: Seq(at as u64),
            }],
        };
        s.add_signal_ack(&ack).unwrap();
    }
    say("acks", format!("{:?}", s.signal_acks(None)));
    say(
        "acks of",
        format!(
            "{:?}",
            s.signal_acks(Some(&[child(ANNA), child(BEN), child(ANNA)]))
        ),
    );
    say("acks of none", format!("{:?}", s.signal_acks(Some(&[]))));
    out
}

#[test]
fn the_same_calls_give_the_same_answers_on_both_backends() {
    let Some(db) = super::TestDb::new() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = crate::store::sqlite::SqliteStore::open(dir.path()).unwrap();
    let (want, got) = (script(&sqlite), script(&db.store));
    for (w, g) in want.iter().zip(&got) {
        assert_eq!(g, w, "PostgreSQL, then SQLite");
    }
    assert_eq!(got.len(), want.len());
}

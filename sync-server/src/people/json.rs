//! The JSON form of a person ([`person_json`]) and of a register log
//! entry ([`entry_json`]), for `person show/list/log --json` and HTTP.
//! Dates are `YYYY-MM-DD`, times RFC 3339 UTC.

use serde_json::{Value, json};

use super::ops::PersonView;
use super::{Membership, RegisterEntry};

fn date(t: Option<hearth_shared::Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.date().to_string()))
}

/// A membership: household, from, until (`null` while current).
pub fn membership_json(m: &Membership) -> Value {
    json!({
        "household": m.household,
        "person": m.person.to_string(),
        "from": m.from.date().to_string(),
        "until": date(m.until),
    })
}

/// A person with every reference of its class, its relations and its
/// memberships.
pub fn person_json(v: &PersonView) -> Value {
    let p = &v.person;
    json!({
        "id": p.id.to_string(),
        "adult": !p.child,
        "name": p.name,
        "dob": date(p.born),
        "edd": date(p.expected),
        "sex": p.sex.map(|s| s.as_str()),
        "refs": v.refs.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "relations": v.relations.iter().map(|(rel, other)| json!({
            "person": other.id.to_string(),
            "name": other.name,
            "relationship": rel.as_str(),
        })).collect::<Vec<_>>(),
        "memberships": v.memberships.iter().map(membership_json).collect::<Vec<_>>(),
    })
}

/// A register log entry.
pub fn entry_json(e: &RegisterEntry) -> Value {
    json!({
        "at": e.at.to_string(),
        "who": e.who,
        "action": e.action,
        "detail": e.detail,
        "reason": e.reason,
    })
}

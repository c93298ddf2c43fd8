//! The people register over HTTP (issue 17), for the manager's web app and
//! scripts: every route is a call of [`people::ops`] (or, for family
//! proposals, of [`crate::admin`]'s `family link`/`unlink`), so the CLI
//! and the API check the same rules, give the same messages and write the
//! same register log (every read is logged before it is answered).
//!
//! | route | call | role |
//! | --- | --- | --- |
//! | `GET /v1/people?find=TEXT` | [`ops::find`] | reads |
//! | `GET /v1/people/{REF\|Pn}` | [`ops::show`] | reads |
//! | `POST /v1/people` | [`ops::add_person`] | administers |
//! | `POST /v1/people/{Pn}/edit` | [`ops::edit_person`] | administers |
//! | `POST /v1/people/{Pn}/relations` | [`ops::relate`] | administers |
//! | `POST /v1/people/import` (text/csv) | [`ops::import_csv`] | administers |
//! | `POST /v1/households/{NAME}/members` | [`ops::add_member`] | administers |
//! | `POST /v1/households/{NAME}/members/end` | [`ops::end_member`] | administers |
//! | `POST /v1/identity/link`, `/unlink` | [`ops::link_identity`], [`ops::unlink_identity`] | administers |
//! | `GET /v1/family/proposals` | [`family::proposals`] | reads |
//! | `POST /v1/family/proposals/confirm`, `/reject` | [`admin::link_family`], [`admin::unlink_family`] | reads |
//!
//! "Reads" is a role that reads chronologies or administers (a manager,
//! an administrator); an auditor gets 403. Callers send an API token
//! (`Authorization: Bearer`), as for the chronology. JSON bodies are read
//! field by field ([`Fields`]): an unknown or wrong field is a 400 that
//! names it and says what it takes, as `hearth_shared::json::parse_body`
//! does for records.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use hearth_shared::protocol::ErrorCode;
use hearth_shared::{ChildRef, Timestamp};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::chronology::bearer;
use super::{ApiError, AppState, Peer, error::blocking};
use crate::admin::{self, AdminError, FamilyRequest};
use crate::backend::Backend;
use crate::chronology::family;
use crate::chronology::format::names::date_iso;
use crate::people::ops::{self, PersonView, RegisterError};
use crate::people::{
    Membership, NewPerson, Person, PersonEdit, PersonId, RegisterRefusal, Relation, Relationship,
    Sex,
};
use crate::store::{Store, User};

/// The most bytes a register CSV import may have: a first load of a
/// few thousand people is well under this.
pub const MAX_IMPORT_BYTES: usize = 4 * 1024 * 1024;

/// This module's routes (merged into [`super::router`]).
pub fn routes<S: Backend>() -> Router<AppState<S>> {
    Router::new()
        .route("/v1/people", get(find::<S>).post(add::<S>))
        .route(
            "/v1/people/import",
            post(import::<S>).layer(axum::extract::DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
        .route("/v1/people/{key}", get(show::<S>))
        .route("/v1/people/{key}/edit", post(edit::<S>))
        .route("/v1/people/{key}/relations", post(relate::<S>))
        .route("/v1/households/{name}/members", post(add_member::<S>))
        .route("/v1/households/{name}/members/end", post(end_member::<S>))
        .route("/v1/identity/link", post(link::<S>))
        .route("/v1/identity/unlink", post(unlink::<S>))
        .route("/v1/family/proposals", get(proposals::<S>))
        .route("/v1/family/proposals/confirm", post(confirm::<S>))
        .route("/v1/family/proposals/reject", post(reject::<S>))
}

/// What a caller may do with the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Read it, or confirm and reject proposals: a manager or an
    /// administrator.
    Read,
    /// Change it: an administrator.
    Change,
}

/// The caller holding the token `hash`, if their role may do `need`.
fn caller<S: Backend>(
    st: &AppState<S>,
    peer: &Peer,
    hash: &str,
    need: Need,
) -> Result<User, ApiError> {
    let Some(user) = st.store().user_by_token(hash)? else {
        tracing::warn!(%peer, "register request refused: the API token is not valid");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "the API token is not valid",
        ));
    };
    let may = match need {
        Need::Read => user.role.reads_chronologies() || user.role.administers(),
        Need::Change => user.role.administers(),
    };
    if !may {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            match need {
                Need::Read => {
                    "this account may not read the people register (a manager or an administrator may)"
                }
                Need::Change => "only an administrator may change the people register",
            },
        ));
    }
    Ok(user)
}

/// Runs `work` for an authorised caller on a blocking thread.
async fn run<S: Backend, T: Send + 'static>(
    st: AppState<S>,
    peer: Peer,
    headers: &HeaderMap,
    need: Need,
    work: impl FnOnce(&AppState<S>, &User) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let hash = bearer(headers, &st.counters, &peer)?;
    blocking(move || {
        let user = caller(&st, &peer, &hash, need)?;
        work(&st, &user)
    })
    .await
}

impl From<RegisterError> for ApiError {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::Store(e) => e.into(),
            RegisterError::Refused(r @ RegisterRefusal::NoSuchPerson(_)) => {
                ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, r.to_string())
            }
            e => ApiError::bad_request(e.to_string()),
        }
    }
}

fn admin_error(e: AdminError) -> ApiError {
    match e {
        AdminError::Store(e) => e.into(),
        AdminError::Reason(e) => ApiError::bad_request(format!("reason: {e}")),
        e => ApiError::bad_request(e.to_string()),
    }
}

/// A JSON body's fields, read one by one so that every refusal names its
/// field and says what it takes.
pub struct Fields(Map<String, Value>);

impl Fields {
    /// The body as an object with only `allowed` fields, or the refusal.
    pub fn parse(body: &[u8], allowed: &[&str]) -> Result<Self, ApiError> {
        let shape = format!(
            "the body must be a JSON object with the fields {}; see docs/api.md",
            allowed.join(", ")
        );
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("the body is not JSON ({e}); {shape}")))?;
        let Value::Object(map) = value else {
            return Err(ApiError::bad_request(shape));
        };
        if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(ApiError::bad_request(format!(
                "{}: is not a field of this request; the fields are {}",
                hearth_shared::printable::Escaped(k),
                allowed.join(", ")
            )));
        }
        Ok(Self(map))
    }

    fn bad(field: &str, message: &str) -> ApiError {
        ApiError::bad_request(format!("{field}: {message}"))
    }

    /// A text field, `None` when absent or null.
    pub fn text(&self, field: &str) -> Result<Option<String>, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Self::bad(field, "must be a string")),
        }
    }

    /// A text field that must be there.
    pub fn required(&self, field: &str) -> Result<String, ApiError> {
        self.text(field)?
            .ok_or_else(|| Self::bad(field, "is required"))
    }

    /// A `YYYY-MM-DD` date field, checked as the CLI checks it.
    pub fn date(&self, field: &'static str) -> Result<Option<Timestamp>, ApiError> {
        self.text(field)?
            .map(|s| ops::parse_date(field, &s).map_err(ApiError::from))
            .transpose()
    }

    /// An optional field that an edit may also clear: absent = keep,
    /// null = clear, a value = set.
    fn edit<T>(
        &self,
        field: &'static str,
        parse: impl FnOnce(&Self) -> Result<Option<T>, ApiError>,
    ) -> Result<Option<Option<T>>, ApiError> {
        match self.0.get(field) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(_) => parse(self).map(|v| v.map(Some)),
        }
    }

    /// A `true`/`false` field (absent = false).
    pub fn flag(&self, field: &str) -> Result<bool, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(Self::bad(field, "must be true or false")),
        }
    }

    /// A child reference field.
    pub fn child(&self, field: &str) -> Result<ChildRef, ApiError> {
        parse_ref(field, &self.required(field)?)
    }

    /// A word field (`sex`, `relationship`).
    fn word<W: std::str::FromStr>(
        &self,
        field: &str,
        words: &[&str],
    ) -> Result<Option<W>, ApiError> {
        self.text(field)?
            .map(|s| {
                s.parse::<W>()
                    .map_err(|_| Self::bad(field, &format!("must be one of {}", words.join(", "))))
            })
            .transpose()
    }
}

/// A reference, or the refusal naming `field`.
fn parse_ref(field: &str, s: &str) -> Result<ChildRef, ApiError> {
    s.trim().parse::<ChildRef>().map_err(|p| {
        ApiError::bad_request(format!(
            "{field}: the reference {p}; give nhs:<10 digits> or local:<issuer>:<id>"
        ))
    })
}

/// A person as JSON (the register's fields; dates `YYYY-MM-DD`).
pub fn person_json(p: &Person) -> Value {
    json!({
        "id": p.id.to_string(),
        "child": p.child,
        "name": p.name,
        "born": p.born.map(date_iso),
        "expected": p.expected.map(date_iso),
        "sex": p.sex.map(|s| s.as_str()),
        "refs": p.refs.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

/// A household membership as JSON.
fn membership_json(m: &Membership) -> Value {
    json!({
        "household": m.household,
        "person": m.person.to_string(),
        "from": date_iso(m.from),
        "until": m.until.map(date_iso),
    })
}

/// A person with their class's references, relations and memberships:
/// the answer of `GET /v1/people/{key}` and each of `GET /v1/people`.
pub fn view_json(v: &PersonView) -> Value {
    let mut j = person_json(&v.person);
    j["refs"] = v.refs.iter().map(ToString::to_string).collect();
    j["relations"] = v
        .relations
        .iter()
        .map(|(r, p)| json!({"relationship": r.as_str(), "person": person_json(p)}))
        .collect();
    j["memberships"] = v.memberships.iter().map(membership_json).collect();
    j
}

/// The query of `GET /v1/people`.
#[derive(Debug, Deserialize)]
struct FindQuery {
    find: Option<String>,
}

/// `GET /v1/people?find=TEXT`.
async fn find<S: Backend>(
    State(st): State<AppState<S>>,
    peer: Peer,
    headers: HeaderMap,
    q: Result<Query<FindQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Ok(Query(q)) = q else {
        return Err(ApiError::bad_request(
            "the query string is malformed; see docs/api.md",
        ));
    };
    run(st, peer, &headers, Need::Read, move |st, user| {
        let found = ops::find(
            st.store(),
            st.clock.as_ref(),
            &user.name,
            q.find.as_deref().unwrap_or_default(),
        )?;
        Ok(Json(
            json!({"people": found.iter().map(view_json).collect::<Vec<_>>()}),
        ))
    })
    .await
}

/// `GET /v1/people/{REF|Pn}`.
async fn show<S: Backend>(
    State(st): State<AppState<S>>,
    peer: Peer,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    run(st, peer, &headers, Need::Read, move |st, user| {
        let v = ops::show(st.store(), st.clock.as_ref(), &user.name, &key)?;
        Ok(Json(view_json(&v)))
    })
    .await
}

/// A new person from a `POST /v1/people` body.
pub fn new_person(body: &[u8]) -> Result<NewPerson, ApiError> {
    let f = Fields::parse(body, &["refs", "name", "dob", "edd", "sex", "adult"])?;
    let refs = match f.0.get("refs") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, r)| match r {
                Value::String(s) => parse_ref(&format!("refs[{i}]"), s),
                _ => Err(ApiError::bad_request(format!(
                    "refs[{i}]: must be a string"
                ))),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(ApiError::bad_request(
                "refs: must be an array of references, [\"nhs:…\", \"local:…\"]",
            ));
        }
    };
    Ok(NewPerson {
        refs,
        child: !f.flag("adult")?,
        name: f.required("name")?,
        born: f.date("dob")?,
        expected: f.date("edd")?,
        sex: f.word("sex", Sex::WORDS)?,
    })
}

/// `POST /v1/people` → 201 `{"id": "P3"}`.
async fn add<S: Backend>(
    State(st): State<AppState<S>>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    run(st, peer, &headers, Need::Change, move |st, user| {
        let p = new_person(&body)?;
        let id = ops::add_person(st.store(), st.clock.as_ref(), &user.name, p)?;
        Ok((StatusCode::CREATED, Json(json!({"id": id.to_string()}))))
    })
    .await
}

/// The person a path or a field names (`Pn` or a reference).
fn resolve<S: Store>(store: &S, key: &str) -> Result<PersonId, ApiError> {
    Ok(ops::resolve(&store.register()?, key.trim())?)
}

/// An edit and its reason from a `POST /v1/people/{Pn}/edit` body.
pub fn person_edit(body: &[u8]) -> Result<(PersonEdit, String), ApiError> {
    let f = Fields::parse(body, &["name", "dob", "edd", "sex", "reason"])?;
    let edit = PersonEdit {
        name: f.text("name")?,
        born: f.edit("dob", |f| f.date("dob"))?,
        expected: f.edit("edd", |f| f.date("edd"))?,
        sex: f.edit("sex", |f| f.word("sex", Sex::WORDS))?,
    };
    Ok((edit, f.required("reason")?))
}

/// `POST /v1/people/{Pn}/edit`.
async fn edit<S: Backend>(
    State(st): State<AppState<S>>,
    peer: Peer,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    run(st, peer, &headers, Need::Change, move |st, user| {
        let (e, reason) = person_edit(&body)?;
        let id = resolve(st.store(), &key)?;
        ops::edit_person(st.store(), st.clock.as_ref(), &user.name, id, e, &reason)?;
        Ok(Json(json!({"id": id.to_string()})))
    })
    .await
}

/// `POST /v1/people/{Pn}/relations` `{"child", "relationship"}`.
async fn relate<S: Backend>(
    State(st): State<AppState<S>>,
    peer: Peer,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    run(st, peer, &headers, Need::Change, move |st, user| {
        let f = Fields::parse(&body, &["child", "relationship"])?;
        let relationship = f
            .word::<Relationship>("relationship", Relationship::WORDS)?
            .ok_or_else(|| Fields::bad("relationship", "is required"))?;
        let child = f.required("child")?;
        let adult = resolve(st.store(), &key)?;
        let child = resolve(st.store(), &child)?;
        let r = Relation {
            adult,
            child,
            relationship,
        };
        ops::relate(st.store(), st.clock.as_ref(), &user.name, r)?;
        Ok(Json(
            json!({"adult": adult.to_string(), "child": child.to_string()}),
        ))
    })
    .await
}

/// `POST /v1/people/import` (text/csv) → `{"imported", "refused"}`.
async fn import<S: Backend>(
    State(st): State<AppState<S>>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    run(st, peer, &headers, Need::Change, move |st, user| {
        let csv = std::str::from_utf8(&body)
            .map_err(|_| ApiError::bad_request("the body must be CSV in UTF-8"))?;
        let report = ops::import_csv(st.store(), st.clock.as_ref(), &user.name, csv)?;
        let refused: Vec<Value> = report
            .refused
            .iter()
            .map(|r| {
                let mut refusal = json!({"row": r.row, "field": r.field, "message": r.message});
                if let Some(id) = r.added {
                    refusal["added"] = json!(id.to_string());
                }
                refusal
            })
            .collect();
        Ok(Json(
            json!({"imported": report.imported, "refused": refused}),
        ))
    })
    .await
}

/// `POST /v1/households/{NAME}/members` `{"person", "from"}`, or with
/// `end`, `.../members/end` `{"person", "until"}`.
fn membership<S: Backend>(
    st: &AppState<S>,
    user: &User,
    household: &str,
    body: &[u8],
    end: bool,
) -> Result<Json<Value>, ApiError> {
    let date_field = if end { "until" } else { "from" };
    let f = Fields::parse(body, &["person", date_field])?;
    let person = f.required("person")?;
    let date = f
        .date(date_field)?
        .ok_or_else(|| Fields::bad(date_field, "is required (YYYY-MM-DD)"))?;
    let id = resolve(st.store(), &person)?;
    let (store, clock) = (st.store(), st.clock.as_ref());
    if end {
        ops::end_member(store, clock, &user.name, household, id, date)?;
    } else {
        ops::add_member(store, clock, &user.name, household, id, date)?;
    }
    Ok(Json(
        json!({"household": household, "person": id.to_string()}),
    ))
}

/// The `{"a", "b", "reason"}` body of an identity or proposal change.
pub fn pair_body(body: &[u8]) -> Result<(ChildRef, ChildRef, String), ApiError> {
    let f = Fields::parse(body, &["a", "b", "reason"])?;
    Ok((
        f.child("a")?,
        f.child("b")?,
        f.text("reason")?.unwrap_or_default(),
    ))
}

/// `POST /v1/identity/link` or `unlink`.
fn identity<S: Backend>(
    st: &AppState<S>,
    user: &User,
    body: &[u8],
    linked: bool,
) -> Result<Json<Value>, ApiError> {
    let (a, b, reason) = pair_body(body)?;
    let (store, clock) = (st.store(), st.clock.as_ref());
    if linked {
        ops::link_identity(store, clock, &user.name, &a, &b, &reason)?;
    } else {
        ops::unlink_identity(store, clock, &user.name, &a, &b, &reason)?;
    }
    Ok(Json(
        json!({"a": a.to_string(), "b": b.to_string(), "linked": linked}),
    ))
}

/// The proposals in force as JSON: `{"proposals": [{"a", "b", "records"}]}`.
pub fn proposals_json<S: Store>(store: &S) -> Result<Value, ApiError> {
    let links = store.family_links()?;
    let all: Vec<Value> = family::proposals(&links)
        .iter()
        .map(|p| {
            json!({
                "a": p.a.to_string(),
                "b": p.b.to_string(),
                "records": p.records.iter().map(ToString::to_string).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(json!({ "proposals": all }))
}

/// `GET /v1/family/proposals`.
async fn proposals<S: Backend>(
    State(st): State<AppState<S>>,
    peer: Peer,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    run(st, peer, &headers, Need::Read, move |st, _| {
        Ok(Json(proposals_json(st.store())?))
    })
    .await
}

/// Confirms (`family link`) or rejects (`family unlink`) a proposal.
fn decide<S: Backend>(
    st: &AppState<S>,
    user: &User,
    body: &[u8],
    confirmed: bool,
) -> Result<Json<Value>, ApiError> {
    let (a, b, reason) = pair_body(body)?;
    let req = FamilyRequest {
        a: &a,
        b: &b,
        who: &user.name,
        reason: (!reason.is_empty() || !confirmed).then_some(reason.as_str()),
    };
    let (store, clock) = (st.store(), st.clock.as_ref());
    let through = if confirmed {
        admin::link_family(store, clock, &req).map(|()| Vec::new())
    } else {
        admin::unlink_family(store, clock, &req)
    }
    .map_err(admin_error)?;
    Ok(Json(json!({
        "a": a.to_string(),
        "b": b.to_string(),
        "linked": confirmed,
        "still_joined_through": through.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })))
}

/// A `POST` handler whose body `work(state, user, body, flag)` answers
/// (`path`: with the path's one segment first).
macro_rules! post_handler {
    ($(#[$m:meta])* $name:ident, $need:expr, $work:ident, $flag:expr) => {
        $(#[$m])*
        async fn $name<S: Backend>(
            State(st): State<AppState<S>>,
            peer: Peer,
            headers: HeaderMap,
            body: Bytes,
        ) -> Result<Json<Value>, ApiError> {
            run(st, peer, &headers, $need, move |st, user| $work(st, user, &body, $flag)).await
        }
    };
    ($(#[$m:meta])* path $name:ident, $need:expr, $work:ident, $flag:expr) => {
        $(#[$m])*
        async fn $name<S: Backend>(
            State(st): State<AppState<S>>,
            peer: Peer,
            headers: HeaderMap,
            Path(segment): Path<String>,
            body: Bytes,
        ) -> Result<Json<Value>, ApiError> {
            run(st, peer, &headers, $need, move |st, user| {
                $work(st, user, &segment, &body, $flag)
            })
            .await
        }
    };
}

post_handler!(
    /// `POST /v1/households/{NAME}/members`.
    path add_member, Need::Change, membership, false
);
post_handler!(
    /// `POST /v1/households/{NAME}/members/end`.
    path end_member, Need::Change, membership, true
);
post_handler!(
    /// `POST /v1/identity/link`.
    link, Need::Change, identity, true
);
post_handler!(
    /// `POST /v1/identity/unlink`.
    unlink, Need::Change, identity, false
);
post_handler!(
    /// `POST /v1/family/proposals/confirm`.
    confirm, Need::Read, decide, true
);
post_handler!(
    /// `POST /v1/family/proposals/reject`.
    reject, Need::Read, decide, false
);

#[cfg(test)]
mod tests;

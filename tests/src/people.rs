//! Helpers for the people register's scenarios (issue 17): an HTTP client
//! that speaks the register's JSON API with a user's bearer token
//! ([`Api`]), the register log as `person log --json` prints it
//! ([`register_log`], [`assert_logged_in_order`]), and civil dates
//! (`YYYY-MM-DD`, working days) worked out here, apart from the server, so
//! that a test states what it expects without asking the code under test.

use serde_json::Value;

use crate::http;
use crate::server::Server;

/// The administrator the register scenarios act as (`--as`).
pub const ADMIN: &str = "admin.okafor";

/// `hearth-server ARGS --as admin.okafor`, which must succeed; stdout.
pub fn admin(server: &Server, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.extend(["--as", ADMIN]);
    server.admin_ok(&all)
}

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// A user's view of the server's JSON API: the server's pinned client and
/// a bearer token.
pub struct Api {
    client: ureq::Agent,
    base: String,
    token: String,
}

/// A response: its status and its body (JSON, or `Value::String` of the
/// raw text when it is not JSON, so a failure message shows it).
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
}

impl Reply {
    /// The body, asserting the status first (the message shows the body).
    pub fn expect(&self, status: u16, what: &str) -> &Value {
        assert_eq!(
            self.status, status,
            "{what}: HTTP {} (wanted {status}): {}",
            self.status, self.body
        );
        &self.body
    }

    /// The `error` code of an `ErrorBody`, if the body is one.
    pub fn error_code(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }
}

impl Api {
    /// The API as the user whose token is `token`.
    pub fn new(server: &Server, token: &str) -> Self {
        Self {
            client: http::client(server.data()),
            base: server.url(),
            token: token.to_string(),
        }
    }

    fn reply(mut resp: ureq::http::Response<ureq::Body>) -> Reply {
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, body }
    }

    /// `GET path` (path and query, already encoded: see [`encode`]).
    pub fn get(&self, path: &str) -> Reply {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .call()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        Self::reply(resp)
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.post_raw(path, "application/json", body.to_string())
    }

    /// `POST path` with a body of `content_type` (a CSV import, say).
    pub fn post_raw(&self, path: &str, content_type: &str, body: String) -> Reply {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Content-Type", content_type)
            .send(body)
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        Self::reply(resp)
    }
}

/// Percent-encodes a path segment or query value (a household's name with
/// spaces, a reference's colons).
pub fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The register log, oldest first, as `person log --json` prints it: a
/// JSON array of `{at, who, action, detail, reason}` (an object holding
/// one array, such as `{"entries": [...]}`, is accepted too).
pub fn register_log(server: &Server) -> Vec<Value> {
    let out = server.admin_ok(&["person", "log", "--json"]);
    let log: Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("`person log --json` prints JSON ({e}): {out}"));
    let list = match &log {
        Value::Array(_) => &log,
        Value::Object(o) => o
            .values()
            .find(|v| v.is_array())
            .unwrap_or_else(|| panic!("`person log --json` holds an array: {log}")),
        _ => panic!("`person log --json` prints an array: {log}"),
    };
    list.as_array().unwrap().clone()
}

/// One register-log entry a scenario expects: its action, texts of which
/// its `detail` must contain one (a person id, a reference, a household;
/// none given: any detail), a part of `who` and, if not empty, its exact
/// reason.
pub struct Logged<'a> {
    /// `read`, `add`, `edit`, `relate`, `add_member`, `end_member`,
    /// `link`, `unlink`, `import`, ...
    pub action: &'a str,
    /// The entry's `detail` contains one of these (or any, if empty).
    pub detail: &'a [&'a str],
    /// A part of the entry's `who`.
    pub who: &'a str,
    /// The exact reason, if one was given.
    pub reason: &'a str,
}

impl Logged<'_> {
    fn matches(&self, e: &Value) -> bool {
        let detail = e["detail"].as_str().unwrap_or("");
        e["action"] == self.action
            && (self.detail.is_empty() || self.detail.iter().any(|d| detail.contains(d)))
            && e["who"].as_str().is_some_and(|who| who.contains(self.who))
            && (self.reason.is_empty() || e["reason"] == self.reason)
    }
}

/// Asserts that `want` appear in `log` in this order (other entries may
/// come between them), each matching its action, detail, who and reason.
/// The message names the first expected entry not found and prints the
/// log.
pub fn assert_logged_in_order(log: &[Value], want: &[Logged<'_>]) {
    let mut from = 0;
    for (n, w) in want.iter().enumerate() {
        match log[from..].iter().position(|e| w.matches(e)) {
            Some(i) => from += i + 1,
            None => panic!(
                "register log: expected entry #{n} (action {:?}, detail containing one of {:?}, who containing {:?}, reason {:?}) after entry {from}; the log:\n{}",
                w.action,
                w.detail,
                w.who,
                w.reason,
                serde_json::to_string_pretty(log).unwrap()
            ),
        }
    }
}

/// Real seconds since the epoch.
#[allow(clippy::disallowed_methods)] // the test decides what real time is
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

/// Midnight UTC of the day `secs` falls in.
pub fn midnight(secs: i64) -> i64 {
    secs.div_euclid(DAY) * DAY
}

/// `YYYY-MM-DD` (UTC) of `secs`: what the register's dates look like.
pub fn date(secs: i64) -> String {
    hearth_shared::Timestamp(secs).to_string()[..10].to_string()
}

/// Whether the UTC day of `secs` is Monday to Friday (1 January 1970 was
/// a Thursday).
pub fn is_working_day(secs: i64) -> bool {
    // 0 Thursday, 1 Friday, 2 Saturday, 3 Sunday, 4 Monday, ...
    !matches!(secs.div_euclid(DAY).rem_euclid(7), 2 | 3)
}

/// Midnight UTC `n` working days (Monday to Friday) after the day of
/// `secs`: the day after it counts as the first if it is a working day.
pub fn add_working_days(secs: i64, n: u32) -> i64 {
    let mut day = midnight(secs);
    let mut left = n;
    while left > 0 {
        day += DAY;
        if is_working_day(day) {
            left -= 1;
        }
    }
    day
}

/// Every file under `dir` (recursively) whose bytes contain `needle`.
pub fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("read {}: {e}", d.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            // Every file is read: one skipped could hide the needle.
            let bytes =
                std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            if bytes.windows(needle.len()).any(|w| w == needle) {
                found.push(path);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_days_skip_weekends() {
        // Friday 27 November 2026 + 1 working day = Monday 30 November.
        let friday = hearth_shared::Timestamp::from_civil(2026, 11, 27, 15, 0, 0)
            .unwrap()
            .0;
        assert!(is_working_day(friday));
        assert!(!is_working_day(friday + DAY));
        assert!(!is_working_day(friday + 2 * DAY));
        assert_eq!(date(add_working_days(friday, 1)), "2026-11-30");
        assert_eq!(date(add_working_days(friday, 10)), "2026-12-11");
        // From a Saturday: Monday is the first.
        assert_eq!(date(add_working_days(friday + DAY, 1)), "2026-11-30");
        assert_eq!(date(midnight(friday)), "2026-11-27");
        assert_eq!(encode("Brown household"), "Brown%20household");
    }
}

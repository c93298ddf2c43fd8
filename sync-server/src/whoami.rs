//! Who is running a command: the operating-system user, for the access
//! log of a CLI read (a chronology or the quarantine).
//!
//! The name comes from the real user id ([`rustix::process::getuid`]) looked
//! up in `/etc/passwd`, never from `$USER` or `$LOGNAME`, which whoever
//! runs the command sets as they like. A uid that `/etc/passwd` does not
//! name (a container, a directory service) is recorded as `uid:1000`.
//! `--as NAME` cannot replace it: the log records both, as
//! `os-user (as NAME)` ([`reader`]).

use std::path::Path;

/// The name of `uid` in a passwd file's text, if it has one.
pub fn name_in_passwd(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let _password = fields.next()?;
        let id: u32 = fields.next()?.trim().parse().ok()?;
        (id == uid && !name.is_empty() && !line.starts_with(['#', '+', '-']))
            .then(|| name.to_string())
    })
}

/// The operating-system user running this process: their name from
/// `passwd` (normally `/etc/passwd`), else `uid:N`.
pub fn os_user_from(passwd: &Path) -> String {
    let uid = rustix::process::getuid().as_raw();
    std::fs::read_to_string(passwd)
        .ok()
        .and_then(|text| name_in_passwd(&text, uid))
        .unwrap_or_else(|| format!("uid:{uid}"))
}

/// The operating-system user running this process.
pub fn os_user() -> String {
    os_user_from(Path::new("/etc/passwd"))
}

/// The name the access log records for a CLI read by `os_user`: theirs
/// alone, or `os_user (as NAME)` when `--as NAME` was given.
pub fn reader(os_user: &str, as_user: Option<&str>) -> String {
    match as_user {
        Some(name) => format!("{os_user} (as {name})"),
        None => os_user.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_comes_from_the_uid_not_the_environment() {
        let passwd = "# comment\nroot:x:0:0:root:/root:/bin/bash\nhv:x:1000:1000::/home/hv:/bin/sh\n\
                      bad line\nshort:x\n";
        assert_eq!(name_in_passwd(passwd, 0).as_deref(), Some("root"));
        assert_eq!(name_in_passwd(passwd, 1000).as_deref(), Some("hv"));
        assert_eq!(name_in_passwd(passwd, 1001), None);
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("passwd");
        let uid = rustix::process::getuid().as_raw();
        assert_eq!(os_user_from(&missing), format!("uid:{uid}"));
        std::fs::write(&missing, format!("someone:x:{uid}:0::/:/bin/sh\n")).unwrap();
        assert_eq!(os_user_from(&missing), "someone");
    }

    #[test]
    fn as_adds_a_name_beside_the_os_user() {
        assert_eq!(reader("hv", None), "hv");
        assert_eq!(reader("hv", Some("dsl.lead")), "hv (as dsl.lead)");
    }
}

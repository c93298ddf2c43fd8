//! The few parts of a `postgres://user:password@host:port/database?options`
//! URL the cluster changes: the credentials and the database. Names made by
//! this crate are plain identifiers, so nothing here needs percent-encoding;
//! a URL given from outside is kept as written.

use std::fmt;

/// A PostgreSQL connection URL, split where the cluster changes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DbUrl {
    scheme: String,
    /// `user` or `user:password`, as written; empty when absent.
    userinfo: String,
    /// `host:port` (or a bracketed address), as written.
    host: String,
    database: String,
    /// `?…` or empty.
    query: String,
}

impl DbUrl {
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        let bad =
            |why: &str| format!("{url:?} is not a postgres://user@host:port/database URL: {why}");
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
        if scheme != "postgres" && scheme != "postgresql" {
            return Err(bad("the scheme is not postgres"));
        }
        let (rest, query) = match rest.find('?') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let (authority, database) = rest.split_once('/').ok_or_else(|| bad("no database"))?;
        if database.is_empty() {
            return Err(bad("no database"));
        }
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((userinfo, host)) => (userinfo, host),
            None => ("", authority),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(Self {
            scheme: scheme.to_owned(),
            userinfo: userinfo.to_owned(),
            host: host.to_owned(),
            database: database.to_owned(),
            query: query.to_owned(),
        })
    }

    pub(crate) fn database(&self) -> &str {
        &self.database
    }

    /// The same server and options as `user`/`password` on `database`.
    pub(crate) fn with(&self, user: &str, password: &str, database: &str) -> Self {
        Self {
            userinfo: format!("{user}:{password}"),
            ..self.with_database(database)
        }
    }

    /// The same server, credentials and options on `database`.
    pub(crate) fn with_database(&self, database: &str) -> Self {
        Self {
            database: database.to_owned(),
            ..self.clone()
        }
    }
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.userinfo.is_empty() { "" } else { "@" };
        write!(
            f,
            "{}://{}{at}{}/{}{}",
            self.scheme, self.userinfo, self.host, self.database, self.query
        )
    }
}

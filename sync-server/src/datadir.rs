//! The data directory's permissions: [`prepare`], run before every command.
//!
//! `hearth.db` holds every record in plaintext, the access log and the
//! token hashes; `server_key` signs receipts. Only the server's own user
//! may read them, whatever the umask it was started with:
//!
//! - the process umask becomes `077`, so everything created later (SQLite's
//!   `-wal` and `-shm`, keys, the certificate) is private;
//! - a missing data directory is created `0700`;
//! - an existing one that its group or others can use is refused, with the
//!   command that fixes it (files inside may already have been read, so
//!   this is for the operator to notice, not to repair silently);
//! - files and directories already inside (from an older version, or
//!   copied in) are tightened to `0600` and `0700`. Symbolic links are
//!   left alone and not followed.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Why the data directory cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataDirError {
    /// Group or others have access.
    #[error(
        "the data directory {path} is open to other users (mode {mode:04o}); it holds every record in plaintext: run `chmod 700 {path}` and check who could read it"
    )]
    Exposed {
        /// The directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Not a directory.
    #[error("{0} is not a directory; give --data a directory")]
    NotADirectory(PathBuf),
    /// A file system call failed.
    #[error("cannot use the data directory {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Group and others: the bits a private file or directory must not have.
const OTHERS: u32 = 0o077;

/// Whether permission bits give group or others any access.
pub const fn exposed(mode: u32) -> bool {
    mode & OTHERS != 0
}

/// Makes the process umask `077`; returns the old one.
pub fn restrict_umask() -> u32 {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(OTHERS)).as_raw_mode()
}

/// Creates `data` (`0700`) if missing, refuses it if open to others, and
/// tightens what is inside.
pub fn prepare(data: &Path) -> Result<(), DataDirError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DataDirError::Io { path, source }
    };
    match fs::metadata(data) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(data)
                .map_err(io(data));
        }
        Err(e) => return Err(io(data)(e)),
        Ok(m) if !m.is_dir() => return Err(DataDirError::NotADirectory(data.to_path_buf())),
        Ok(m) if exposed(m.permissions().mode()) => {
            return Err(DataDirError::Exposed {
                path: data.to_path_buf(),
                mode: m.permissions().mode() & 0o7777,
            });
        }
        Ok(_) => {}
    }
    tighten(data)
}

/// Takes group and other access away from every file and directory under
/// `dir` (so `0644` becomes `0600` and `0755` becomes `0700`).
fn tighten(dir: &Path) -> Result<(), DataDirError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DataDirError::Io { path, source }
    };
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        let meta = fs::symlink_metadata(&path).map_err(io(&path))?;
        if !(meta.is_dir() || meta.is_file()) {
            continue;
        }
        let mode = meta.permissions().mode();
        if exposed(mode) {
            // The owner's bits stay as they were (0600 and 0700 here).
            fs::set_permissions(&path, fs::Permissions::from_mode(mode & 0o700))
                .map_err(io(&path))?;
        }
        if meta.is_dir() {
            tighten(&path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_group_or_other_bit_is_exposed() {
        assert!(!exposed(0o700));
        assert!(!exposed(0o600));
        assert!(exposed(0o755));
        assert!(exposed(0o710));
        assert!(exposed(0o701));
        assert!(exposed(0o640));
    }

    #[test]
    fn files_inside_are_tightened_and_links_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        prepare(&data).unwrap();
        assert_eq!(
            fs::metadata(&data).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let db = data.join("hearth.db");
        fs::write(&db, b"").unwrap();
        fs::set_permissions(&db, fs::Permissions::from_mode(0o644)).unwrap();
        let tls = data.join("tls");
        fs::create_dir(&tls).unwrap();
        fs::set_permissions(&tls, fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(tls.join("cert.pem"), b"").unwrap();
        fs::set_permissions(tls.join("cert.pem"), fs::Permissions::from_mode(0o664)).unwrap();
        let outside = dir.path().join("outside");
        fs::write(&outside, b"").unwrap();
        fs::set_permissions(&outside, fs::Permissions::from_mode(0o644)).unwrap();
        std::os::unix::fs::symlink(&outside, data.join("link")).unwrap();
        prepare(&data).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&tls), 0o700);
        assert_eq!(mode(&tls.join("cert.pem")), 0o600);
        assert_eq!(mode(&outside), 0o644, "a link is not followed");
    }

    #[test]
    fn a_directory_open_to_others_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let err = prepare(dir.path()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("chmod 700 {}", dir.path().display())),
            "{text}"
        );
        assert!(text.contains("0755"), "{text}");
    }
}

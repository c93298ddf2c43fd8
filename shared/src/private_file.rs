//! Owner-only files (mode 0600), written whole or not at all: the agent's
//! files beside its database (`keyring.json`, `staff.json`,
//! `unlock-failures`, `revoked`) and its unlock session, and the server's
//! keys and self-signed TLS material. One mechanism for both sides
//! (feature `std`).
//!
//! [`write()`] replaces a file: a `tempfile` in the same directory, made
//! owner-only, written and synced, then persisted (renamed) over the old
//! file, and the directory synced so the rename survives a power cut. A
//! reader sees the old content or the new, never a torn file.
//!
//! [`write_new`] is the same but never replaces: a key that exists is
//! kept (the server's receipt and outbox keys).
//!
//! [`write_in_place`] is for the one file that must exist under its own
//! name from its first byte: the agent's `keyring.json.new`, the new
//! keyring a passphrase change writes before renaming it over
//! `keyring.json`. Revocation zeroes it and `init` refuses to run beside it
//! *by that name*; a temporary file of a random name left by a crash would
//! hold a wrapped data key that neither sees.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The mode of every file this module writes: read and write by the owner.
const OWNER_ONLY: u32 = 0o600;

/// Replaces `path` with `bytes`, atomically and durably, mode 0600.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (dir, tmp) = written(path, bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Writes `bytes` to `path` like [`write()`], but only if `path` does not
/// exist: an existing file is kept and the error is `AlreadyExists`.
pub fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (dir, tmp) = written(path, bytes)?;
    tmp.persist_noclobber(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// `bytes` in a synced, owner-only temporary file beside `path`.
fn written<'a>(path: &'a Path, bytes: &[u8]) -> io::Result<(&'a Path, tempfile::NamedTempFile)> {
    let dir = parent(path);
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    // tempfile creates its files 0600 already; the mode is the point of
    // this module, so it is set here rather than trusted to a default.
    tmp.as_file()
        .set_permissions(Permissions::from_mode(OWNER_ONLY))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    Ok((dir, tmp))
}

/// Writes `bytes` to `path` itself (created 0600, or truncated) and syncs
/// it: only for `keyring.json.new` (see the module comment).
pub fn write_in_place(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(OWNER_ONLY)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Syncs the directory `dir`, so that a rename or removal in it is on disk.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The directory holding `path` (`.` for a bare file name).
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_the_file_whole_and_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("staff.json");
        std::fs::write(&path, "old and longer content").unwrap();
        std::fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        write(&path, b"[\"a\"]").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"[\"a\"]");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, OWNER_ONLY);
        // Nothing left beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_write_in_place_creates_the_named_file_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyring.json.new");
        write_in_place(&path, b"{}").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{}");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, OWNER_ONLY);
    }

    #[test]
    fn a_new_file_is_written_whole_owner_only_and_never_over_another() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        write_new(&path, b"first").unwrap();
        let e = write_new(&path, b"second").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, OWNER_ONLY);
        // No temporary file is left beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}

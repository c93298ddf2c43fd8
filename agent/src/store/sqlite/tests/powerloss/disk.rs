//! The crash model: a directory of files as a disk holds them, and what
//! survives when the power goes. Pure (no I/O), deterministic from a seed.
//!
//! - Every byte `sync`ed survives.
//! - Each write or truncate since the last sync of that file survives, is
//!   lost, or (a write) is torn at a 512-byte sector boundary (each of its
//!   sectors lands or not), each at random; a later one may land while an
//!   earlier one is lost, so writes are in effect reordered. Bytes never
//!   written are never changed (SQLite's "powersafe overwrite", which the
//!   unix VFS reports by default).
//! - A name created or deleted survives only once the directory is synced.
//!   SQLite's unix VFS (the tablet's) syncs the directory on the first sync
//!   of a WAL or journal it opened with "create"; a deleted WAL (at close)
//!   is not followed by a directory sync. [`Disk::open`] takes that flag.
//! - The power goes right after the `crash_at`-th write, truncate, sync or
//!   delete (that call completes); every call after it fails, as if the
//!   process had stopped there.

use std::collections::BTreeMap;
use std::io;

/// The sector size at which an unsynced write may tear.
pub(super) const SECTOR: usize = 512;

/// A small deterministic generator (SplitMix64): seeds → crash choices.
#[derive(Debug, Clone)]
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A change not yet synced.
#[derive(Debug, Clone)]
enum Pending {
    Write { offset: usize, data: Vec<u8> },
    Truncate(usize),
}

/// One file's bytes (an inode: a deleted name's file lives on until the
/// deletion is durable).
#[derive(Debug, Default)]
struct Inode {
    durable: Vec<u8>,
    current: Vec<u8>,
    pending: Vec<Pending>,
    /// Its next sync also syncs the directory (see the module comment).
    syncs_dir: bool,
}

/// What the crash left of each write since its file's last sync.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fate {
    pub(super) kept: u64,
    pub(super) lost: u64,
    pub(super) torn: u64,
}

impl Fate {
    /// Adds `other`'s counts to these.
    pub(super) fn add(&mut self, other: Self) {
        self.kept += other.kept;
        self.lost += other.lost;
        self.torn += other.torn;
    }
}

/// A directory of files, and what is left of it after a crash.
#[derive(Debug)]
pub(super) struct Disk {
    inodes: Vec<Inode>,
    names: BTreeMap<String, usize>,
    durable_names: BTreeMap<String, usize>,
    calls: u64,
    crash_at: Option<u64>,
    rng: Rng,
    image: Option<BTreeMap<String, Vec<u8>>>,
    fate: Fate,
}

fn dead() -> io::Error {
    io::Error::other("the power is off (simulated crash)")
}

fn write_at(buf: &mut Vec<u8>, offset: usize, data: &[u8]) {
    let end = offset + data.len();
    if buf.len() < end {
        buf.resize(end, 0);
    }
    buf[offset..end].copy_from_slice(data);
}

impl Disk {
    /// A disk holding `files`, all durable (written and synced long ago),
    /// that loses power after the `crash_at`-th call (never if `None`).
    pub(super) fn new(files: BTreeMap<String, Vec<u8>>, crash_at: Option<u64>, seed: u64) -> Self {
        let mut disk = Self {
            inodes: Vec::new(),
            names: BTreeMap::new(),
            durable_names: BTreeMap::new(),
            calls: 0,
            crash_at,
            rng: Rng::new(seed),
            image: None,
            fate: Fate::default(),
        };
        for (name, bytes) in files {
            disk.inodes.push(Inode {
                durable: bytes.clone(),
                current: bytes,
                ..Inode::default()
            });
            disk.names.insert(name, disk.inodes.len() - 1);
        }
        disk.durable_names = disk.names.clone();
        disk
    }

    /// Write, truncate, sync and delete calls made so far.
    pub(super) fn calls(&self) -> u64 {
        self.calls
    }

    /// The files as they stand after the crash, or `None` while powered.
    pub(super) fn image(&self) -> Option<&BTreeMap<String, Vec<u8>>> {
        self.image.as_ref()
    }

    /// What happened to the unsynced writes at the crash.
    pub(super) fn fate(&self) -> Fate {
        self.fate
    }

    fn alive(&self) -> io::Result<()> {
        if self.image.is_some() {
            return Err(dead());
        }
        Ok(())
    }

    /// Counts a completed call; the power goes if it was the chosen one.
    fn count(&mut self) {
        self.calls += 1;
        if self.crash_at == Some(self.calls) {
            self.crash();
        }
    }

    /// The file `name`, created if `create` and missing. `syncs_dir`: its
    /// next sync syncs the directory too.
    pub(super) fn open(&mut self, name: &str, create: bool, syncs_dir: bool) -> io::Result<usize> {
        self.alive()?;
        let id = match self.names.get(name) {
            Some(&id) => id,
            None if create => {
                self.inodes.push(Inode::default());
                let id = self.inodes.len() - 1;
                self.names.insert(name.to_owned(), id);
                id
            }
            None => return Err(io::ErrorKind::NotFound.into()),
        };
        self.inodes[id].syncs_dir |= syncs_dir;
        Ok(id)
    }

    pub(super) fn exists(&self, name: &str) -> io::Result<bool> {
        self.alive()?;
        Ok(self.names.contains_key(name))
    }

    pub(super) fn delete(&mut self, name: &str) -> io::Result<()> {
        self.alive()?;
        self.names.remove(name).ok_or(io::ErrorKind::NotFound)?;
        self.count();
        Ok(())
    }

    pub(super) fn size(&self, id: usize) -> io::Result<u64> {
        self.alive()?;
        Ok(self.inodes[id].current.len() as u64)
    }

    /// Fills `buf` from `offset`; past the end, zeros and `UnexpectedEof`
    /// (SQLite wants the rest of a short read zeroed).
    pub(super) fn read(&self, id: usize, offset: usize, buf: &mut [u8]) -> io::Result<()> {
        self.alive()?;
        let bytes = &self.inodes[id].current;
        let available = bytes.len().saturating_sub(offset).min(buf.len());
        buf[..available].copy_from_slice(&bytes[offset..offset + available]);
        buf[available..].fill(0);
        if available < buf.len() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    pub(super) fn write(&mut self, id: usize, offset: usize, data: &[u8]) -> io::Result<()> {
        self.alive()?;
        let inode = &mut self.inodes[id];
        write_at(&mut inode.current, offset, data);
        inode.pending.push(Pending::Write {
            offset,
            data: data.to_vec(),
        });
        self.count();
        Ok(())
    }

    pub(super) fn truncate(&mut self, id: usize, len: usize) -> io::Result<()> {
        self.alive()?;
        let inode = &mut self.inodes[id];
        inode.current.resize(len, 0);
        inode.pending.push(Pending::Truncate(len));
        self.count();
        Ok(())
    }

    pub(super) fn sync(&mut self, id: usize) -> io::Result<()> {
        self.alive()?;
        let inode = &mut self.inodes[id];
        inode.durable.clone_from(&inode.current);
        inode.pending.clear();
        if std::mem::take(&mut inode.syncs_dir) {
            self.durable_names = self.names.clone();
        }
        self.count();
        Ok(())
    }

    /// The power goes: each name the directory durably holds keeps its
    /// file's synced bytes plus what survives of each later change.
    fn crash(&mut self) {
        let mut image = BTreeMap::new();
        let durable_names = self.durable_names.clone();
        for (name, id) in durable_names {
            let pending = std::mem::take(&mut self.inodes[id].pending);
            let mut bytes = self.inodes[id].durable.clone();
            for change in &pending {
                self.survive(&mut bytes, change);
            }
            image.insert(name, bytes);
        }
        self.image = Some(image);
    }

    fn survive(&mut self, bytes: &mut Vec<u8>, change: &Pending) {
        let roll = self.rng.below(3);
        match change {
            _ if roll == 0 => self.fate.lost += 1,
            Pending::Truncate(len) => {
                self.fate.kept += 1;
                bytes.resize(*len, 0);
            }
            Pending::Write { offset, data } if roll == 1 => {
                self.fate.kept += 1;
                write_at(bytes, *offset, data);
            }
            Pending::Write { offset, data } => {
                self.fate.torn += 1;
                self.tear(bytes, *offset, data);
            }
        }
    }

    /// Each sector-aligned piece of the write lands or not.
    fn tear(&mut self, bytes: &mut Vec<u8>, offset: usize, data: &[u8]) {
        let mut start = 0;
        while start < data.len() {
            let boundary = (offset + start) / SECTOR * SECTOR + SECTOR;
            let end = (boundary - offset).min(data.len());
            if self.rng.below(2) == 0 {
                write_at(bytes, offset + start, &data[start..end]);
            }
            start = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_file(bytes: &[u8], crash_at: Option<u64>, seed: u64) -> Disk {
        Disk::new(
            BTreeMap::from([("db".to_owned(), bytes.to_vec())]),
            crash_at,
            seed,
        )
    }

    #[test]
    fn synced_bytes_survive_every_crash() {
        for seed in 0..50 {
            let mut disk = one_file(b"old", Some(3), seed);
            let id = disk.open("db", false, false).unwrap();
            disk.write(id, 0, b"new!").unwrap();
            disk.sync(id).unwrap();
            disk.write(id, 0, b"lost?").unwrap();
            let image = disk.image().expect("crashed after the third call");
            let db = &image["db"];
            assert!(db == b"new!" || db == b"lost?", "seed {seed}: {db:?}");
            assert!(disk.write(id, 0, b"x").is_err(), "the power stays off");
            assert!(disk.sync(id).is_err());
        }
    }

    #[test]
    fn unsynced_writes_are_kept_lost_or_torn_at_sectors() {
        let mut seen = [false; 3];
        for seed in 0..200 {
            let mut disk = one_file(&[0; 2 * SECTOR], Some(1), seed);
            let id = disk.open("db", false, false).unwrap();
            disk.write(id, 0, &[1; 2 * SECTOR]).unwrap();
            let db = &disk.image().unwrap()["db"];
            let (a, b) = (db[0], db[SECTOR]);
            assert!(db[..SECTOR].iter().all(|&x| x == a), "a sector is whole");
            assert!(db[SECTOR..].iter().all(|&x| x == b), "a sector is whole");
            let fate = disk.fate();
            seen[0] |= fate.kept == 1;
            seen[1] |= fate.lost == 1;
            seen[2] |= fate.torn == 1 && a != b;
        }
        assert_eq!(seen, [true; 3], "kept, lost and torn (one sector of two)");
    }

    #[test]
    fn a_new_file_survives_only_once_the_directory_is_synced() {
        let mut lost = 0;
        for seed in 0..20 {
            let mut disk = one_file(b"db", Some(2), seed);
            let wal = disk.open("db-wal", true, false).unwrap();
            disk.write(wal, 0, b"frame").unwrap();
            disk.sync(wal).unwrap();
            lost += u32::from(!disk.image().unwrap().contains_key("db-wal"));
        }
        assert_eq!(lost, 20, "never synced the directory: the name is gone");
        for seed in 0..20 {
            let mut disk = one_file(b"db", Some(2), seed);
            let wal = disk.open("db-wal", true, true).unwrap();
            disk.write(wal, 0, b"frame").unwrap();
            disk.sync(wal).unwrap();
            assert_eq!(disk.image().unwrap()["db-wal"], b"frame");
        }
    }

    #[test]
    fn a_deletion_is_undone_by_a_crash_until_the_directory_is_synced() {
        let mut disk = one_file(b"db", Some(1), 1);
        disk.delete("db").unwrap();
        assert_eq!(disk.image().unwrap()["db"], b"db");
    }

    #[test]
    fn no_crash_point_means_no_crash() {
        let mut disk = one_file(b"db", None, 1);
        let id = disk.open("db", false, false).unwrap();
        for _ in 0..100 {
            disk.write(id, 0, b"x").unwrap();
        }
        assert!(disk.image().is_none());
        assert_eq!(disk.calls(), 100);
    }
}

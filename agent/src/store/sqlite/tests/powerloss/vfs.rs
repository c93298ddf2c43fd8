//! The crash VFS: SQLite's file calls, through `sqlite-vfs`'s safe trait,
//! onto a [`Disk`]. One VFS per trial, registered under its own name.
//!
//! The WAL index (`-shm`) lives in memory per connection, as the unix VFS's
//! does in effect after a power loss: SQLite rebuilds it from the WAL on
//! the next open. A trial has one connection at a time. Locks always
//! succeed for the same reason.

use std::io;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sqlite_vfs::wip::{WalIndex, WalIndexLock};
use sqlite_vfs::{DatabaseHandle, LockKind, OpenAccess, OpenKind, OpenOptions, Vfs};

use super::disk::{Disk, Rng};

/// The disk a trial's VFS writes to.
pub(super) type SharedDisk = Arc<Mutex<Disk>>;

fn lock(disk: &SharedDisk) -> MutexGuard<'_, Disk> {
    // A panic inside SQLite's call leaves the disk as it was; go on.
    disk.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Registers a new crash VFS over `disk`; returns its name.
pub(super) fn register(disk: SharedDisk, seed: u64) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = format!("hearth-crash-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let vfs = CrashVfs {
        disk,
        rng: Mutex::new(Rng::new(seed ^ 0x5EED)),
    };
    sqlite_vfs::register(&name, vfs, false).expect("register the crash VFS");
    name
}

struct CrashVfs {
    disk: SharedDisk,
    rng: Mutex<Rng>,
}

impl Vfs for CrashVfs {
    type Handle = Handle;

    fn open(&self, db: &str, opts: OpenOptions) -> io::Result<Handle> {
        let create = matches!(opts.access, OpenAccess::Create | OpenAccess::CreateNew);
        let journal = matches!(
            opts.kind,
            OpenKind::Wal | OpenKind::MainJournal | OpenKind::SuperJournal
        );
        let mut disk = lock(&self.disk);
        if opts.access == OpenAccess::CreateNew && disk.exists(db)? {
            return Err(io::ErrorKind::AlreadyExists.into());
        }
        let inode = disk.open(db, create, create && journal)?;
        Ok(Handle {
            disk: Arc::clone(&self.disk),
            inode,
            lock: LockKind::None,
        })
    }

    fn delete(&self, db: &str) -> io::Result<()> {
        lock(&self.disk).delete(db)
    }

    fn exists(&self, db: &str) -> io::Result<bool> {
        lock(&self.disk).exists(db)
    }

    fn temporary_name(&self) -> String {
        format!("temp-{}", self.rng.lock().map_or(0, |mut r| r.next()))
    }

    fn random(&self, buffer: &mut [i8]) {
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for b in buffer {
            *b = i8::from_ne_bytes([rng.next().to_ne_bytes()[0]]);
        }
    }

    fn sleep(&self, duration: Duration) -> Duration {
        std::thread::sleep(duration);
        duration
    }
}

/// An open file of the crash VFS.
pub(super) struct Handle {
    disk: SharedDisk,
    inode: usize,
    lock: LockKind,
}

fn offset(at: u64) -> io::Result<usize> {
    usize::try_from(at).map_err(|_| io::ErrorKind::InvalidInput.into())
}

impl DatabaseHandle for Handle {
    type WalIndex = MemoryShm;

    fn size(&self) -> io::Result<u64> {
        lock(&self.disk).size(self.inode)
    }

    fn read_exact_at(&mut self, buf: &mut [u8], at: u64) -> io::Result<()> {
        lock(&self.disk).read(self.inode, offset(at)?, buf)
    }

    fn write_all_at(&mut self, buf: &[u8], at: u64) -> io::Result<()> {
        lock(&self.disk).write(self.inode, offset(at)?, buf)
    }

    fn sync(&mut self, _data_only: bool) -> io::Result<()> {
        lock(&self.disk).sync(self.inode)
    }

    fn set_len(&mut self, size: u64) -> io::Result<()> {
        lock(&self.disk).truncate(self.inode, offset(size)?)
    }

    fn lock(&mut self, lock: LockKind) -> io::Result<bool> {
        self.lock = lock;
        Ok(true)
    }

    fn reserved(&mut self) -> io::Result<bool> {
        Ok(matches!(
            self.lock,
            LockKind::Reserved | LockKind::Pending | LockKind::Exclusive
        ))
    }

    fn current_lock(&self) -> io::Result<LockKind> {
        Ok(self.lock)
    }

    fn wal_index(&self, _readonly: bool) -> io::Result<MemoryShm> {
        Ok(MemoryShm)
    }
}

/// The WAL index of one connection, in memory (see the module comment).
pub(super) struct MemoryShm;

impl WalIndex for MemoryShm {
    fn map(&mut self, _region: u32) -> io::Result<[u8; 32768]> {
        Ok([0; 32768])
    }

    fn lock(&mut self, _locks: Range<u8>, _lock: WalIndexLock) -> io::Result<bool> {
        Ok(true)
    }

    fn delete(self) -> io::Result<()> {
        Ok(())
    }
}

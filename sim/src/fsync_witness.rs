//! What really reached an fsync, as the kernel was asked, not as a store's
//! `sync` reported it.
//!
//! A power loss must honour what fjall fsynced: a store that flushes its
//! journal to the OS but never fsyncs it (`PersistMode::Buffer`) looks
//! durable on every kill and on tmpfs, and loses acknowledged writes on a
//! real power cut. So the simulator binary interposes `fsync` and
//! `fdatasync` (the calls std's `File::sync_all` and `sync_data` make on
//! Linux), the way madsim interposes libc calls: the executable's own
//! definition wins over glibc's for every call std makes, fjall's
//! included. Each hook makes the real system call and, if it succeeded,
//! records the file's length for a watched file.
//!
//! Why it stays sound:
//! - Files are known by (device, inode) from `fstat` at the call, never by
//!   descriptor number, which parallel runs reuse.
//! - Watching is per thread: a run's thread watches its own nodes'
//!   journals, so a sync on a fjall worker thread (or another run's
//!   thread) never reaches this run's record, and the record stays
//!   deterministic.
//! - The harness stops watching a journal before it drops a killed
//!   store's handle (fjall syncs on drop; a killed process never does).
//! - A build that bypasses the hook (a static libc, an `LD_PRELOAD` of
//!   its own, madsim's `--cfg madsim`) is caught by [`self_test`], which
//!   the harness runs before every run on fjall (a harness error, exit
//!   2), instead of silently honouring nothing.
//! - It errs on the side of losing data: an fsync it cannot see (another
//!   thread's, `sync_file_range`, `O_DSYNC` writes) counts as none, so a
//!   store that relied on one would show as losing acknowledged writes.
//!   fjall, as the harness runs it (one worker, no flush or compaction,
//!   checked at every crash copy), syncs its journal with `sync_all` on
//!   the caller's thread.
//! - It lives in the simulator crate only: the library under test never
//!   links it.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;

/// A file as the kernel knows it: (device, inode).
pub type FileId = (u64, u64);

thread_local! {
    /// Watched files of this thread -> their length at the last fsync
    /// that covered them (at the watch: the length then, taken as durable).
    static WATCHED: RefCell<BTreeMap<FileId, u64>> = const { RefCell::new(BTreeMap::new()) };
}

/// The id of an open file.
pub fn file_id(file: &std::fs::File) -> std::io::Result<FileId> {
    let m = file.metadata()?;
    Ok((m.dev(), m.ino()))
}

/// Starts recording fsyncs of `id` on this thread, from `durable` bytes.
pub fn watch(id: FileId, durable: u64) {
    WATCHED.with(|w| w.borrow_mut().insert(id, durable));
}

/// Stops recording fsyncs of `id` on this thread.
pub fn unwatch(id: FileId) {
    // try_with: harmless during thread teardown.
    let _ = WATCHED.try_with(|w| w.borrow_mut().remove(&id));
}

/// The length `id` had at its last fsync on this thread since the watch
/// (`None` if unwatched).
pub fn fsynced_len(id: FileId) -> Option<u64> {
    WATCHED.with(|w| w.borrow().get(&id).copied())
}

/// After a successful fsync or fdatasync of `fd`: records its length if
/// this thread watches it.
#[cfg(all(target_os = "linux", not(madsim)))]
fn witness(fd: libc::c_int) {
    let _ = WATCHED.try_with(|w| {
        let Ok(mut w) = w.try_borrow_mut() else {
            return;
        };
        if w.is_empty() {
            return;
        }
        // SAFETY: an all-zero `stat` is a valid value; fstat fills it.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `st` is a valid, writable stat buffer.
        if unsafe { libc::fstat(fd, &mut st) } != 0 {
            return;
        }
        let id = (st.st_dev, st.st_ino);
        if let Some(len) = w.get_mut(&id) {
            *len = u64::try_from(st.st_size).unwrap_or(0);
        }
    });
}

/// The interposed `fsync(2)`: the real system call, then the record.
///
/// # Safety
/// As `fsync(2)`: `fd` is any integer; an invalid one fails with `EBADF`.
#[cfg(all(target_os = "linux", not(madsim)))]
#[no_mangle]
pub unsafe extern "C" fn fsync(fd: libc::c_int) -> libc::c_int {
    witnessed(libc::SYS_fsync, fd)
}

/// The interposed `fdatasync(2)`: the real system call, then the record
/// (fdatasync covers the file's data and its length).
///
/// # Safety
/// As `fdatasync(2)`.
#[cfg(all(target_os = "linux", not(madsim)))]
#[no_mangle]
pub unsafe extern "C" fn fdatasync(fd: libc::c_int) -> libc::c_int {
    witnessed(libc::SYS_fdatasync, fd)
}

/// Makes the sync system call `call` on `fd` and, if it succeeded,
/// records it; returns what the call returned (errno set as libc sets it).
#[cfg(all(target_os = "linux", not(madsim)))]
fn witnessed(call: libc::c_long, fd: libc::c_int) -> libc::c_int {
    // SAFETY: the raw sync system calls take any descriptor value.
    let r = unsafe { libc::syscall(call, libc::c_long::from(fd)) } as libc::c_int;
    if r == 0 {
        witness(fd);
    }
    r
}

/// Proves the hook sees this build's fsyncs: a temporary file is watched,
/// grown, and synced through std (as fjall syncs); the record must show
/// the new length. A pass is remembered for the process; a failure is not
/// (it may be a passing shortage, such as no free descriptor). The engine
/// asks before any run on fjall and reports a failure as the harness's
/// environment, never as the system's fault.
pub fn self_test() -> Result<(), String> {
    static PASSED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    if PASSED.get().is_some() {
        return Ok(());
    }
    // The machine failing a file operation is not the hook failing: say
    // which it was (the caller names an exhausted resource).
    fn io(what: &'static str) -> impl Fn(std::io::Error) -> String {
        move |e| format!("the fsync witness's self-test could not {what}: {e}")
    }
    let mut file = tempfile::tempfile().map_err(io("make a temporary file"))?;
    let id = file_id(&file).map_err(io("stat its file"))?;
    watch(id, 0);
    let synced = std::io::Write::write_all(&mut file, b"witness")
        .and_then(|()| file.sync_all())
        .and_then(|()| file.sync_data());
    let seen = fsynced_len(id);
    unwatch(id);
    synced.map_err(io("write and sync its file"))?;
    match seen {
        Some(7) => {
            let _ = PASSED.set(());
            Ok(())
        }
        other => Err(format!(
            "the fsync witness saw no fsync of a file it synced (recorded {other:?}): this build does not route fsync through the simulator's hook (a static libc, madsim's cfg, or a preloaded library of its own), so a power loss cannot honour what fjall really synced; use the memory registry or a default build"
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn the_hook_sees_this_builds_fsyncs() {
        self_test().expect("the interposed fsync must see std's sync_all");
    }

    /// What the record holds is what the last fsync covered: a write with
    /// no fsync after it is not counted, another thread's fsync is not
    /// counted, an unwatched file is not recorded.
    #[test]
    fn only_this_threads_fsyncs_of_a_watched_file_count() {
        let mut file = tempfile::tempfile().unwrap();
        let id = file_id(&file).unwrap();
        watch(id, 0);
        file.write_all(b"0123").unwrap();
        file.sync_all().unwrap();
        assert_eq!(fsynced_len(id), Some(4));
        file.write_all(b"4567").unwrap();
        file.flush().unwrap();
        assert_eq!(fsynced_len(id), Some(4), "written, never fsynced");
        let other = file.try_clone().unwrap();
        std::thread::spawn(move || other.sync_all().unwrap())
            .join()
            .unwrap();
        assert_eq!(fsynced_len(id), Some(4), "another thread's fsync");
        file.sync_data().unwrap();
        assert_eq!(fsynced_len(id), Some(8), "fdatasync counts");
        unwatch(id);
        file.sync_all().unwrap();
        assert_eq!(fsynced_len(id), None);
    }
}

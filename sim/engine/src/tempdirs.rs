//! Where runs keep their fjall directories, and cleaning up after them.
//!
//! Every process puts its runs' directories in one session directory,
//! `regsim-session-<pid>` under `/dev/shm` (or the temp directory), which
//! holds a lock file the process keeps locked while it lives. A run's own
//! directory is removed when the run ends (also when it panics); the
//! session directory when `regsim` exits, also after Ctrl-C. A killed
//! process (SIGKILL, OOM) leaves its session behind with its lock released
//! by the kernel: the next `regsim` sweep proves such sessions stale by
//! taking their lock and removes them. A directory whose lock it cannot
//! take, or that has no lock file, is left alone.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const PREFIX: &str = "regsim-session-";
const LOCK: &str = ".lock";

/// Room a sweep wants in `/dev/shm` per parallel run (a fjall run of
/// nine nodes uses a few MiB; this leaves a wide margin).
pub const ROOM_PER_JOB: u64 = 64 << 20;

static SESSION: OnceLock<Session> = OnceLock::new();

struct Session {
    dir: PathBuf,
    /// Held for the process's life: its lock marks the session live.
    _lock: Option<File>,
}

/// Free bytes on the file system holding `path`, if the OS says.
pub fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `c` is a valid NUL-terminated path and `st` points to
    // writable memory of the type statvfs fills.
    let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it filled the struct.
    let st = unsafe { st.assume_init() };
    // The field types differ across platforms (u32 on some).
    #[allow(clippy::unnecessary_cast)]
    Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

/// The base directory for sessions: `/dev/shm` when it exists and has
/// `room` bytes free, else the temp directory (with a note saying why).
fn choose_base(room: u64) -> (PathBuf, Option<String>) {
    let shm = Path::new("/dev/shm");
    let tmp = std::env::temp_dir();
    if !shm.is_dir() {
        return (tmp, None);
    }
    match free_bytes(shm) {
        Some(free) if free < room => (
            tmp.clone(),
            Some(format!(
                "/dev/shm has {} MiB free, less than the {} MiB this sweep wants: run directories go to {} (slower; raise the container's --shm-size)",
                free >> 20,
                room >> 20,
                tmp.display()
            )),
        ),
        _ => (shm.to_path_buf(), None),
    }
}

/// Prepares the session for a sweep of `jobs` parallel runs: picks its
/// base by free space and removes stale sessions there. Returns notes for
/// the user. Later calls (and runs that never called it) use the session
/// the first call made.
pub fn prepare(jobs: usize) -> Vec<String> {
    let mut notes = Vec::new();
    if SESSION.get().is_none() {
        // Stale sessions first, on both bases: they may be what filled
        // /dev/shm.
        for candidate in [Path::new("/dev/shm").to_path_buf(), std::env::temp_dir()] {
            let removed = remove_stale(&candidate);
            if !removed.is_empty() {
                notes.push(format!(
                    "removed {} run directories left by killed regsim processes under {}",
                    removed.len(),
                    candidate.display()
                ));
            }
        }
        let (base, note) = choose_base(ROOM_PER_JOB * jobs.max(1) as u64);
        notes.extend(note);
        let _ = SESSION.set(open_session(&base));
    }
    notes
}

/// Makes the session directory with its lock already held: it is built
/// under another name and renamed into place, so no other process ever
/// sees a session whose lock it could take.
fn open_session(base: &Path) -> Session {
    let pid = std::process::id();
    let dir = base.join(format!("{PREFIX}{pid}"));
    let building = base.join(format!("regsim-building-{pid}"));
    let _ = std::fs::remove_dir_all(&building);
    let lock = std::fs::create_dir_all(&building)
        .and_then(|_| File::create(building.join(LOCK)))
        .ok()
        .filter(|f| f.try_lock().is_ok());
    // A session under our pid is a dead process's (pids are reused).
    let _ = std::fs::remove_dir_all(&dir);
    if std::fs::rename(&building, &dir).is_err() {
        let _ = std::fs::create_dir_all(&dir);
    }
    Session { dir, _lock: lock }
}

/// This process's session directory (made on first use).
pub fn session_dir() -> PathBuf {
    SESSION
        .get_or_init(|| {
            let shm = Path::new("/dev/shm");
            let base = if shm.is_dir() {
                shm.to_path_buf()
            } else {
                std::env::temp_dir()
            };
            open_session(&base)
        })
        .dir
        .clone()
}

/// Removes this process's session directory (at exit).
pub fn remove_session() {
    if let Some(s) = SESSION.get() {
        let _ = std::fs::remove_dir_all(&s.dir);
    }
}

/// Moves a run's kept directory out of the session (which is removed at
/// exit) to `dst`: a rename where it can, else a copy (`/dev/shm` is
/// another file system) and a removal.
pub fn move_out(src: &Path, dst: &Path) -> std::io::Result<()> {
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let _ = std::fs::remove_dir_all(dst);
    if std::fs::rename(src, dst).is_ok() {
        return Ok(());
    }
    copy_tree(src, dst)?;
    std::fs::remove_dir_all(src)
}

fn copy_tree(src: &Path, dst: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dst)?;
    for e in std::fs::read_dir(src)? {
        let e = e?;
        let to = dst.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_tree(&e.path(), &to)?;
        } else {
            std::fs::copy(e.path(), to)?;
        }
    }
    Ok(())
}

/// Removes the sessions under `base` whose owner is gone (their lock can
/// be taken); returns what it removed.
pub fn remove_stale(base: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(base) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.starts_with(PREFIX) {
            continue;
        }
        let dir = e.path();
        if SESSION.get().is_some_and(|s| s.dir == dir) {
            continue;
        }
        let Ok(lock) = File::options().write(true).open(dir.join(LOCK)) else {
            continue;
        };
        if lock.try_lock().is_ok() && std::fs::remove_dir_all(&dir).is_ok() {
            removed.push(dir);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_whose_lock_is_free_is_stale_and_a_locked_one_is_not() {
        let base = tempfile::tempdir().unwrap();
        let live = base.path().join(format!("{PREFIX}1"));
        let dead = base.path().join(format!("{PREFIX}2"));
        let unknown = base.path().join(format!("{PREFIX}3"));
        for d in [&live, &dead, &unknown] {
            std::fs::create_dir_all(d.join("run/n1")).unwrap();
        }
        let held = File::create(live.join(LOCK)).unwrap();
        held.try_lock().unwrap();
        File::create(dead.join(LOCK)).unwrap();
        let removed = remove_stale(base.path());
        assert_eq!(removed, vec![dead.clone()]);
        assert!(live.exists() && unknown.exists() && !dead.exists());
        drop(held);
        assert_eq!(remove_stale(base.path()), vec![live]);
    }

    #[test]
    fn free_space_is_read() {
        assert!(free_bytes(&std::env::temp_dir()).is_some_and(|b| b > 0));
        assert!(free_bytes(Path::new("/no/such/dir")).is_none());
    }
}

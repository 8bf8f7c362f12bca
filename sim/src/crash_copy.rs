//! What a killed process and a power loss leave of a fjall directory.
//!
//! A crash of a fjall node is a kill: the directory is copied at the crash
//! instant, before the handle is dropped (fjall's journal flushes and syncs
//! when dropped; a killed process never gets there), and the node reopens
//! from the copy, so fjall runs its own recovery over what the files held.
//! fjall hands every committed batch to the OS at once (its default
//! durability for a batch is `PersistMode::Buffer`), so a kill keeps a
//! batch committed but never synced; only a power loss can take it.
//!
//! A power loss resets the journal to the bytes it held at the last fsync
//! that really reached it (as [`crate::fsync_witness`] saw the system call,
//! not as the store's `sync` reported it), plus a seeded number of the
//! whole batches written after it and a seeded torn prefix of the next
//! (for recovery to cut). The
//! memory store keeps the same whole batches, so both stores reach the same
//! state; what they hold is judged by the checkers' model, not by this
//! code.
//!
//! Both rest on fjall running no flush or compaction during a run, so that
//! its files change only by journal appends and no background thread can
//! change what a copy sees. A fresh directory is settled (opened, closed
//! and reopened, so that recovery trims the preallocated journal to its
//! data) and its file list recorded; every copy checks that the store is
//! quiescent and the list unchanged, and fails otherwise, which the engine
//! reports as a harness error.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

use writer_registry::FjallRegistry;

use crate::fsync_witness::{self, FileId};

/// No file a settled registry holds comes near this; a bigger one is a
/// journal fjall preallocated (a rotation, so a flush ran).
const MAX_FILE_BYTES: u64 = 16 << 20;

/// The files of one node's fjall directory as the harness tracks them.
#[derive(Debug, Clone)]
pub struct FjallFiles {
    /// Every file of the directory (relative paths) when it was opened.
    files: BTreeSet<PathBuf>,
    /// The journal (a settled directory has exactly one).
    journal: PathBuf,
    /// It, open for reading its length: an fstat per write and per sync
    /// instead of a path lookup (the harness's cost, not the system's).
    handle: std::sync::Arc<std::fs::File>,
    /// It as the kernel knows it, for the fsync witness.
    id: FileId,
    /// Its length at the last fsync that reached it (as the fsync
    /// witness saw it, never as the store's `sync` reported it).
    synced: u64,
    /// Its length after each batch written since, in write order.
    ends: Vec<u64>,
}

fn is_journal(p: &Path) -> bool {
    p.extension().is_some_and(|x| x == "jnl")
}

/// Every regular file under `dir`, relative to it, in order.
fn list(dir: &Path) -> io::Result<BTreeSet<PathBuf>> {
    let mut out = BTreeSet::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        for entry in std::fs::read_dir(dir.join(&rel))? {
            let entry = entry?;
            let path = rel.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                pending.push(path);
            } else {
                out.insert(path);
            }
        }
    }
    Ok(out)
}

fn with_path<'a>(dir: &'a Path, what: &str) -> impl Fn(io::Error) -> String + 'a {
    let what = what.to_string();
    move |e| format!("{what} {}: {e}", dir.display())
}

impl FjallFiles {
    /// A directory fjall has just opened (settled or recovered):
    /// everything in it is the durable baseline. Fails if the fsync
    /// witness cannot see this build's fsyncs.
    pub fn after_open(dir: &Path) -> Result<Self, String> {
        fsync_witness::self_test()?;
        let files = list(dir).map_err(with_path(dir, "listing"))?;
        let journals: Vec<&PathBuf> = files.iter().filter(|f| is_journal(f)).collect();
        let [journal] = journals.as_slice() else {
            return Err(format!(
                "{}: {} journals where a settled registry has one ({journals:?}): fjall rotated its journal, so a flush ran",
                dir.display(),
                journals.len()
            ));
        };
        let journal = (*journal).clone();
        let handle = std::fs::File::open(dir.join(&journal))
            .map_err(with_path(dir, "opening the journal in"))?;
        let synced = handle
            .metadata()
            .map_err(with_path(dir, "reading the journal length in"))?
            .len();
        let id =
            fsync_witness::file_id(&handle).map_err(with_path(dir, "reading the journal in"))?;
        Ok(FjallFiles {
            files,
            journal,
            handle: std::sync::Arc::new(handle),
            id,
            synced,
            ends: Vec::new(),
        })
    }

    fn journal_len(&self) -> io::Result<u64> {
        Ok(self.handle.metadata()?.len())
    }

    /// A batch was committed (written, not synced): where it ends.
    pub fn written(&mut self) -> io::Result<()> {
        let len = self.journal_len()?;
        self.ends.push(len);
        Ok(())
    }

    /// The store's sync returned: what is durable now is what the last
    /// fsync of the journal covered, as the witness saw it (a store that
    /// reports a sync it never made keeps its batches unsynced here).
    pub fn synced(&mut self) {
        if let Some(len) = fsync_witness::fsynced_len(self.id) {
            self.synced = len;
        }
        let synced = self.synced;
        self.ends.retain(|&end| end > synced);
    }

    /// Batches written past what the last fsync covered.
    pub fn unsynced_batches(&self) -> usize {
        self.ends.len()
    }

    /// Records this thread's fsyncs of the journal from now on.
    fn watch(&self) {
        fsync_witness::watch(self.id, self.synced);
    }

    /// The handle is about to drop: fjall syncs its journal on the way
    /// out, which no killed process and no power cut ever does, so no
    /// fsync from here on counts.
    pub fn unwatch(&self) {
        fsync_witness::unwatch(self.id);
    }

    /// Kills the process holding `store`: captures the directory as it is
    /// now, drops the handle (fjall flushes and syncs its journal on the
    /// way out, which a killed process never does), and puts the capture
    /// back, so that the next open recovers from what the kill left.
    ///
    /// The capture is the journal's bytes: it is the only file that
    /// changes in place. Every other file is written once (fjall replaces
    /// version and pointer files by rename), and the file list is checked
    /// unchanged before and after the drop, with the store quiescent.
    pub fn kill(&self, store: FjallRegistry) -> Result<(), String> {
        let dir = store.path().to_path_buf();
        let captured = self.capture(&store, &dir);
        self.unwatch();
        drop(store);
        let journal = captured?;
        self.check_files(&dir, "after the handle was dropped")?;
        std::fs::write(dir.join(&self.journal), journal)
            .map_err(with_path(&dir, "restoring the killed journal in"))
    }

    fn capture(&self, store: &FjallRegistry, dir: &Path) -> Result<Vec<u8>, String> {
        if !store.quiescent() {
            return Err(format!(
                "{}: fjall was flushing or compacting at a crash: the crash copy needs a quiescent store",
                dir.display()
            ));
        }
        self.check_files(dir, "at the crash")?;
        let journal = self
            .journal_len()
            .map_err(with_path(dir, "reading the journal in"))?;
        if journal > MAX_FILE_BYTES {
            return Err(format!(
                "{}: the journal holds {journal} bytes: a preallocated journal, so fjall rotated it (a flush ran)",
                dir.display()
            ));
        }
        std::fs::read(dir.join(&self.journal)).map_err(with_path(dir, "copying the journal in"))
    }

    fn check_files(&self, dir: &Path, when: &str) -> Result<(), String> {
        let now = list(dir).map_err(with_path(dir, "listing"))?;
        if now != self.files {
            let appeared: Vec<_> = now.difference(&self.files).collect();
            let gone: Vec<_> = self.files.difference(&now).collect();
            return Err(format!(
                "{}: fjall changed its files {when} (new {appeared:?}, gone {gone:?}): a flush or compaction ran; the crash copy needs journal appends only",
                dir.display()
            ));
        }
        Ok(())
    }

    /// Power loss on the closed directory `dir`: the journal back to its
    /// synced length plus the first `keep` batches written after it and
    /// `torn` (0.0..1.0) of the next one's bytes. Returns the bytes cut.
    /// A reopen then holds the synced state and those batches: recovery
    /// cuts the torn one.
    pub fn power_loss(&mut self, dir: &Path, keep: usize, torn: f64) -> Result<u64, String> {
        let path = dir.join(&self.journal);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(with_path(&path, "opening"))?;
        let len = file.metadata().map_err(with_path(&path, "reading"))?.len();
        let keep = keep.min(self.ends.len());
        let kept_end = match keep {
            0 => self.synced,
            k => self.ends[k - 1],
        };
        let next_end = self.ends.get(keep).copied().unwrap_or(len).min(len);
        let torn_bytes = (next_end.saturating_sub(kept_end) as f64 * torn.clamp(0.0, 1.0)) as u64;
        let cut_at = (kept_end + torn_bytes).min(len);
        file.set_len(cut_at)
            .map_err(with_path(&path, "truncating"))?;
        self.ends.truncate(keep);
        Ok(len - cut_at)
    }
}

/// A directory's files: (relative path, bytes).
type Template = Vec<(PathBuf, Vec<u8>)>;

/// An empty, settled registry directory, as (relative path, bytes): made
/// once per process (opened, closed, reopened so that recovery trims the
/// preallocated journal to its data, closed) and kept in memory, so that a
/// fresh node's directory is written from it instead of paying fjall's
/// create and settle at every node of every run.
fn settled_template() -> Result<&'static [(PathBuf, Vec<u8>)], String> {
    static TEMPLATE: std::sync::OnceLock<Result<Template, String>> = std::sync::OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let dir = crate::tempdirs::session_dir()
                .join(format!("regsim-settled-template-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let made = (|| {
                for _ in 0..2 {
                    drop(FjallRegistry::open(&dir).map_err(|e| e.to_string())?);
                }
                list(&dir)
                    .and_then(|files| {
                        files
                            .into_iter()
                            .map(|f| Ok((f.clone(), std::fs::read(dir.join(&f))?)))
                            .collect::<io::Result<Vec<_>>>()
                    })
                    .map_err(with_path(&dir, "reading the settled template"))
            })();
            let _ = std::fs::remove_dir_all(&dir);
            made
        })
        .as_ref()
        .map(Vec::as_slice)
        .map_err(Clone::clone)
}

/// Opens a registry at `dir`; a fresh directory is first written from the
/// settled template, so that its journal holds only data. `before`: the
/// files as tracked when it last closed: what was synced then is what is
/// synced now (recovery does not make a page-cache write durable), less
/// any tail recovery cut.
pub fn open_settled(
    dir: &Path,
    before: Option<FjallFiles>,
    mutant: writer_registry::MutantSlot,
) -> Result<(FjallRegistry, FjallFiles), writer_registry::registry::StoreError> {
    let open_error = |message: String| writer_registry::registry::StoreError::Open {
        path: dir.to_path_buf(),
        message,
    };
    if !dir.exists() {
        for (f, bytes) in settled_template().map_err(open_error)? {
            let path = dir.join(f);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| open_error(e.to_string()))?;
            }
            std::fs::write(&path, bytes).map_err(|e| open_error(e.to_string()))?;
        }
    }
    let store = FjallRegistry::open_with(dir, mutant)?;
    let mut files = FjallFiles::after_open(dir).map_err(open_error)?;
    if let Some(before) = before.filter(|b| b.journal == files.journal) {
        let len = files.synced;
        files.synced = before.synced.min(len);
        files.ends = before.ends.into_iter().filter(|&end| end <= len).collect();
    }
    files.watch();
    Ok((store, files))
}

#[cfg(test)]
mod tests {
    //! fjall's real behaviour under a kill and a power loss, pinned: the
    //! memory store's crash semantics are built to match these.
    use super::*;
    use writer_registry::registry::{Batch, Space, WriterRegistryStore};

    fn dir(name: &str) -> PathBuf {
        let d = crate::tempdirs::session_dir()
            .join(format!("regsim-crash-copy-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn put(store: &mut FjallRegistry, key: &[u8], value_len: usize) {
        let mut b = Batch::new();
        b.put(Space::Kv, key.to_vec(), vec![0x5a; value_len]);
        store.write(&b).unwrap();
    }

    fn keys(store: &FjallRegistry) -> Vec<Vec<u8>> {
        store
            .scan(Space::Kv)
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    }

    /// A fresh registry at `d` with "a" written and synced, then "b"
    /// written (committed to the OS, not synced).
    fn a_synced_b_written(d: &Path) -> (FjallRegistry, FjallFiles) {
        let (mut s, mut files) = open_settled(d, None, Default::default()).unwrap();
        put(&mut s, b"a", 10);
        s.sync().unwrap();
        files.synced();
        put(&mut s, b"b", 10);
        files.written().unwrap();
        (s, files)
    }

    #[test]
    fn a_killed_process_keeps_a_committed_batch_it_never_synced() {
        let d = dir("kill");
        let (s, files) = a_synced_b_written(&d);
        files.kill(s).unwrap();
        let (s, files) = open_settled(&d, Some(files), Default::default()).unwrap();
        // fjall hands each committed batch to the OS: a kill keeps it, and
        // it is still not durable after the reopen.
        assert_eq!(keys(&s), vec![b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(files.unsynced_batches(), 1);
        drop(s);
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// After a sync of "a", batches "b" and "c" are written and never
    /// synced; the power loss keeps `keep` of them and tears the next.
    /// Returns what a reopen holds and how far its journal reaches past
    /// the synced length.
    fn power_loss(name: &str, keep: usize, torn: f64) -> (Vec<Vec<u8>>, u64, u64) {
        let d = dir(name);
        let (mut s, mut files) = open_settled(&d, None, Default::default()).unwrap();
        put(&mut s, b"a", 10);
        s.sync().unwrap();
        files.synced();
        let synced = files.synced;
        for k in [b"b", b"c"] {
            put(&mut s, k, 3000);
            files.written().unwrap();
        }
        let first_end = files.ends[0];
        files.kill(s).unwrap();
        files.power_loss(&d, keep, torn).unwrap();
        let (s, after) = open_settled(&d, None, Default::default()).unwrap();
        let held = keys(&s);
        drop(s);
        std::fs::remove_dir_all(&d).unwrap();
        (held, after.synced - synced, first_end - synced)
    }

    /// A store whose sync returns without an fsync (fjall's
    /// `PersistMode::Buffer`: flushed to the OS, never made durable): the
    /// harness's record keeps its batch unsynced, a kill keeps it (the OS
    /// has it), a power loss takes it.
    #[test]
    fn a_sync_that_never_fsyncs_leaves_its_batch_to_the_power_loss() {
        let d = dir("buffer-only");
        let (s, mut files) = a_synced_b_written(&d);
        // The store said it synced "b", and never called fsync.
        files.synced();
        assert_eq!(files.unsynced_batches(), 1);
        files.kill(s).unwrap();
        let (s, mut files) = open_settled(&d, Some(files), Default::default()).unwrap();
        assert_eq!(keys(&s), vec![b"a".to_vec(), b"b".to_vec()]);
        files.kill(s).unwrap();
        files.power_loss(&d, 0, 0.0).unwrap();
        let (s, _) = open_settled(&d, None, Default::default()).unwrap();
        assert_eq!(keys(&s), vec![b"a".to_vec()]);
        drop(s);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_power_loss_keeps_the_synced_state_and_whole_batches_only() {
        let a = || b"a".to_vec();
        let (held, extra, _) = power_loss("p0", 0, 0.0);
        assert_eq!((held, extra), (vec![a()], 0));
        // Half of "b" reached the disk: recovery truncates the torn batch.
        let (held, extra, _) = power_loss("p0t", 0, 0.5);
        assert_eq!((held, extra), (vec![a()], 0), "the torn tail is cut");
        let (held, extra, b_len) = power_loss("p1t", 1, 0.7);
        assert_eq!((held, extra), (vec![a(), b"b".to_vec()], b_len));
        let (held, _, _) = power_loss("p2", 2, 0.0);
        assert_eq!(held, vec![a(), b"b".to_vec(), b"c".to_vec()]);
    }

    #[test]
    fn a_copy_refuses_a_directory_whose_files_changed() {
        let d = dir("changed");
        let (s, files) = open_settled(&d, None, Default::default()).unwrap();
        std::fs::write(d.join("stray"), b"x").unwrap();
        let err = files.kill(s).unwrap_err();
        assert!(err.contains("changed its files"), "{err}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}

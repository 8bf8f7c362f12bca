//! The native engine's disks: per member its simulated Raft log, its
//! epoch file and, while it is down, its closed registry store, with the
//! disk model's two draws: how long a sync takes (in order behind the
//! node's earlier syncs) and what a power loss keeps of unsynced writes.
//! Each draw comes from the node's own storage stream, keyed by a
//! sequence number kept here, so a new draw elsewhere never shifts one.

use std::cell::{Ref, RefCell};
use std::rc::Rc;

use crate::disk::{EpochFile, RaftDisk};
use crate::rng::{KeyedRng, Streams, Subsystem};
use crate::store::{ClosedStore, Journal};
use crate::world::cluster::name;
use crate::world::SimOptions;

/// One member's disk.
struct Disk {
    log: Rc<RefCell<RaftDisk>>,
    epoch_file: EpochFile,
    /// The store while the node is down (None while up: the FSM has it).
    closed: Option<(ClosedStore, Journal)>,
    /// Power losses so far: keys the draw of what each one keeps.
    power_seq: u64,
    /// Syncs so far: keys the draw of each one's latency.
    sync_seq: u64,
    /// When the last sync asked for completes: the next one waits for it.
    sync_free_at: u64,
    /// The log's sync count when the checkers last saw its synced part.
    seen_syncs: u64,
}

/// Every member's disk and the disk model's draws.
pub(super) struct Disks {
    disks: Vec<Disk>,
    /// Per node: sync latencies.
    latency: Vec<KeyedRng>,
    /// Per node: what each power loss keeps of the unsynced writes.
    power: Vec<KeyedRng>,
}

/// A node's store, closed, with no files tracked yet: in its own
/// directory under the run's (a fjall store opens whatever that holds; a
/// memory store starts empty).
pub(super) fn untracked_store(opts: &SimOptions, node: u8) -> ClosedStore {
    ClosedStore::new(opts.registry, &opts.data_dir.join(name(node)))
}

/// What a power loss kept of a down node's unsynced registry writes.
pub(super) struct Kept {
    /// Whole batches kept.
    pub batches: u64,
    /// Unsynced batches there were.
    pub unsynced: u64,
    /// Registry rows the kept batches hold.
    pub rows: usize,
}

impl Disks {
    /// Empty disks for `n` members, each store in its own directory.
    pub fn new(n: u8, opts: &SimOptions, streams: &Streams) -> Disks {
        let voters: Vec<u64> = (1..=u64::from(n)).collect();
        let disks = (0..n)
            .map(|i| Disk {
                log: Rc::new(RefCell::new(RaftDisk::new(voters.clone()))),
                epoch_file: EpochFile::default(),
                closed: Some((untracked_store(opts, i), Journal::default())),
                power_seq: 0,
                sync_seq: 0,
                sync_free_at: 0,
                seen_syncs: 0,
            })
            .collect();
        let nn = usize::from(n);
        Disks {
            disks,
            latency: streams.family(Subsystem::Storage, 0, nn),
            power: streams.family(Subsystem::Storage, 2_000, nn),
        }
    }

    /// The node's Raft log, shared with its node core while it runs.
    pub fn log(&self, node: u8) -> &Rc<RefCell<RaftDisk>> {
        &self.disks[usize::from(node)].log
    }

    /// The node's Raft log, to read.
    pub fn read(&self, node: u8) -> Ref<'_, RaftDisk> {
        self.log(node).borrow()
    }

    pub fn epoch_file(&mut self, node: u8) -> &mut EpochFile {
        &mut self.disks[usize::from(node)].epoch_file
    }

    /// The epoch file as read and as synced.
    pub fn epoch(&self, node: u8) -> (u16, u16) {
        self.disks[usize::from(node)].epoch_file.read_and_synced()
    }

    /// When a sync asked for `now` completes: after the disk's latency
    /// (drawn in `sync_us`), and never before the node's earlier syncs.
    pub fn sync_done_at(&mut self, node: u8, now: u64, sync_us: [u64; 2]) -> u64 {
        let i = usize::from(node);
        let d = &mut self.disks[i];
        let seq = d.sync_seq;
        d.sync_seq += 1;
        let latency = self.latency[i].draw(seq).range(0, sync_us[0], sync_us[1]);
        let at = (now + latency).max(d.sync_free_at);
        d.sync_free_at = at;
        at
    }

    /// The log synced since the checkers last saw it: marks it seen.
    pub fn take_unseen_sync(&mut self, node: u8) -> bool {
        let d = &mut self.disks[usize::from(node)];
        let syncs = d.log.borrow().syncs();
        let unseen = syncs != d.seen_syncs;
        d.seen_syncs = syncs;
        unseen
    }

    /// The closed store of a down node, to reopen.
    pub fn take_closed(&mut self, node: u8) -> (ClosedStore, Journal) {
        self.disks[usize::from(node)]
            .closed
            .take()
            .expect("a down node holds its closed store")
    }

    /// Keeps a stopped node's closed store for its time down.
    pub fn keep_closed(&mut self, node: u8, closed: ClosedStore, journal: Journal) {
        self.disks[usize::from(node)].closed = Some((closed, journal));
    }

    /// Power goes out on a down node: its log and epoch file lose what
    /// did not sync, its store keeps what synced and a seeded whole-batch
    /// prefix of what did not (fjall: and a torn part of the next batch,
    /// for its recovery to cut). `None`: no closed store (its reopen
    /// failed: the node is broken).
    pub fn power_loss(&mut self, node: u8) -> Option<Result<Kept, String>> {
        let i = usize::from(node);
        let d = &mut self.disks[i];
        d.log.borrow_mut().power_loss();
        d.epoch_file.power_loss();
        let seq = d.power_seq;
        d.power_seq += 1;
        let (closed, journal) = d.closed.as_mut()?;
        let unsynced = journal.unsynced_batches() as u64;
        let draw = self.power[i].draw(seq);
        let keep = draw.range(0, 0, unsynced);
        let torn = draw.range(1, 0, 1_000) as f64 / 1_000.0;
        Some(
            closed
                .power_loss(journal, keep as usize, torn)
                .map(|rows| Kept {
                    batches: keep,
                    unsynced,
                    rows,
                }),
        )
    }
}

//! What a node core reported, handled by the native engine: messages go
//! to the transport, syncs to the disk model's latency, everything else
//! to the [`Observer`](super::observe::Observer) with what this engine
//! knows (its disks, its clock).

use super::*;

impl Sim<'_> {
    /// Shows the checkers the node's synced log, if a sync moved it since
    /// they last saw it (before the outputs that followed the sync).
    pub(super) fn observe_synced(&mut self, node: u8) {
        let i = usize::from(node);
        if !self.c.obs.checkers.on() {
            return;
        }
        let disk = self.slots[i].disk.clone();
        let disk = disk.borrow();
        if disk.syncs() != self.slots[i].seen_syncs {
            self.slots[i].seen_syncs = disk.syncs();
            let synced = Observation::Synced {
                node,
                log: disk.synced(),
            };
            self.c.obs.checkers.observe(self.clock.now(), synced);
        }
    }

    /// Shows the checkers a message as it leaves, with the sender's disk.
    fn observe_send(&mut self, from: u8, msg: &raft::eraftpb::Message) {
        if !self.c.obs.checkers.on() {
            return;
        }
        let disk = self.slots[usize::from(from)].disk.clone();
        let disk = disk.borrow();
        let sent = Observation::Sent {
            from,
            msg,
            synced: disk.synced(),
            written: disk.written(),
        };
        self.c.obs.checkers.observe(self.clock.now(), sent);
    }

    /// Schedules the sync of Ready `ready` after the disk's latency, in
    /// order behind the node's earlier syncs.
    fn schedule_sync(&mut self, node: u8, ready: u64) {
        let i = usize::from(node);
        let s = &mut self.slots[i];
        let seq = s.sync_seq;
        s.sync_seq += 1;
        let st = &self.c.sc.storage;
        let lat = self.storage[i]
            .draw(seq)
            .range(0, st.sync_us[0], st.sync_us[1]);
        let at = (self.clock.now() + lat).max(s.sync_free_at);
        s.sync_free_at = at;
        let inc = self.c.incarnation(node);
        self.push(at, Ev::SyncDone { node, inc, ready });
    }

    pub(super) fn process_outputs(&mut self, node: u8, out: &mut Vec<Output<TrackedStore>>) {
        let (i, now) = (usize::from(node), self.clock.now());
        for o in out.drain(..) {
            match o {
                Output::Send(m) => {
                    self.observe_send(node, &m);
                    self.send(node, m)
                }
                Output::Sync { ready } => self.schedule_sync(node, ready),
                Output::Applied(rec) => self.c.applied(node, rec),
                Output::Halted(h) => self.c.halted(node, &h),
                Output::Note(note) => self.c.note(node, note),
                Output::SnapshotRestored { index, replay } => {
                    // The snapshot a start restores is the one its disk holds.
                    let disk_hash = self.slots[i]
                        .disk
                        .borrow()
                        .written()
                        .snapshot_hash_at(index);
                    self.c.restored(node, (index, replay), disk_hash)
                }
                Output::BecameLeader { term } => {
                    let in_flight = self.c.registrations_in_flight();
                    let disk = self.slots[i].disk.clone();
                    let disk = disk.borrow();
                    self.c
                        .obs
                        .leader(now, node, term, Some(disk.written()), in_flight);
                }
            }
        }
    }
}

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
        if !self.obs.checkers.on() {
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
            self.obs.checkers.observe(self.clock.now(), synced);
        }
    }

    /// After a registration applied on `node`: its encryption gates.
    pub(super) fn probe_encryption(&mut self, node: u8) {
        let s = &self.slots[usize::from(node)];
        let Process::Up(core) = &s.state else { return };
        self.obs
            .gates(self.clock.now(), s.member.who(node), core.app());
    }

    /// Shows the checkers a message as it leaves, with the sender's disk.
    fn observe_send(&mut self, from: u8, msg: &raft::eraftpb::Message) {
        if !self.obs.checkers.on() {
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
        self.obs.checkers.observe(self.clock.now(), sent);
    }

    /// Hands the row changes the node's store synced to the checkers.
    pub(super) fn drain_row_changes(&mut self, node: u8) {
        let rows = &self.slots[usize::from(node)].synced_rows;
        self.obs.rows_synced(self.clock.now(), node, rows);
    }

    /// Schedules the sync of Ready `ready` after the disk's latency, in
    /// order behind the node's earlier syncs.
    fn schedule_sync(&mut self, node: u8, ready: u64) {
        let i = usize::from(node);
        let s = &mut self.slots[i];
        let seq = s.sync_seq;
        s.sync_seq += 1;
        let st = &self.sc.storage;
        let lat = self.storage[i]
            .draw(seq)
            .range(0, st.sync_us[0], st.sync_us[1]);
        let at = (self.clock.now() + lat).max(s.sync_free_at);
        s.sync_free_at = at;
        let inc = s.member.incarnation;
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
                Output::Applied(rec) => {
                    let epoch = self.slots[i].state.core().map(|core| core.app().epoch());
                    let member = &mut self.slots[i].member;
                    self.obs
                        .applied(now, node, member, rec, epoch, &mut self.clients);
                }
                Output::Halted(h) => self.obs.halted(now, node, &mut self.slots[i].member, &h),
                Output::Note(note) => self.obs.note(now, node, &self.slots[i].member, note),
                Output::SnapshotRestored { index, replay } => self.on_restored(node, index, replay),
                Output::BecameLeader { term } => {
                    let in_flight = self.states().any(|p| {
                        p.core()
                            .is_some_and(|c| !c.app().unregistered_deks().is_empty())
                    });
                    let disk = self.slots[i].disk.clone();
                    let disk = disk.borrow();
                    self.obs
                        .leader(now, node, term, Some(disk.written()), in_flight);
                }
            }
        }
    }

    fn on_restored(&mut self, node: u8, index: u64, replay: bool) {
        let i = usize::from(node);
        self.obs
            .restoring(self.clock.now(), node, &self.slots[i].member, index, replay);
        if let Some(core) = self.slots[i].state.core() {
            // Into the trace: every byte the restore left.
            let digest = crate::store::state_digest(core.app().fsm().store());
            // A report folds row changes onto the last scan; a restore
            // replaces every row at once, so it needs a scan of its own
            // (kept, never hashed: the digest above covers the bytes).
            let image = self
                .obs
                .trace
                .keeps_events()
                .then(|| scan_image(core.app().fsm().store()).ok())
                .flatten();
            self.record_state(node, digest);
            self.obs.note_rows(self.clock.now(), node, image.as_ref());
        }
        // The snapshot a start restores is the one its disk holds.
        let disk_hash = self.slots[i]
            .disk
            .borrow()
            .written()
            .snapshot_hash_at(index);
        let member = &mut self.slots[i].member;
        self.obs
            .restored(self.clock.now(), node, member, (index, replay), disk_hash);
    }
}

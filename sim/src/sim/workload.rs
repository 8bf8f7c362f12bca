//! What clients and nodes ask of the cluster: encrypted KV commands with
//! their retries, and each incarnation's registrations until they apply.

use super::*;

impl Sim<'_> {
    pub(super) fn next_pid(&mut self) -> u64 {
        let pid = self.next_pid;
        self.next_pid += 1;
        pid
    }

    /// Proposes through `node` if it is up; true if raft accepted it.
    pub(super) fn propose(&mut self, node: u8, data: Vec<u8>) -> bool {
        let mut accepted = false;
        self.with_core(node, |core, out, crash| {
            accepted = core.propose(data, out, crash)?;
            Ok(false)
        });
        accepted
    }

    pub(super) fn client_attempt(&mut self, cmd: usize) {
        let n = self.sc.nodes;
        let c = &mut self.clients[cmd];
        if c.done || c.attempts >= self.sc.workload.client_attempts {
            return;
        }
        c.attempts += 1;
        // Each retry goes to the next node round the cluster.
        let node = ((u32::from(c.node) + c.attempts - 1) % u32::from(n)) as u8;
        let dek = c.dek;
        // Encrypt once, at the first node able to: a retry resends the same bytes.
        if c.data.is_none() {
            let s = &mut self.slots[usize::from(node)];
            if let State::Up(core) = &s.state {
                if core.can_encrypt(dek) {
                    let epoch = core.epoch();
                    let counter = s.counters.entry(dek).or_insert(0);
                    *counter += 1;
                    let mut payload = vec![0x10];
                    payload.extend(dek.to_be_bytes());
                    payload.extend(node16(s.full).to_be_bytes());
                    payload.extend(epoch.to_be_bytes());
                    payload.extend(counter.to_be_bytes());
                    let n16 = node16(s.full);
                    let who = (node, s.incarnation);
                    let c = &mut self.clients[cmd];
                    c.data = Some(wire::encode_entry(c.proposal_id, &payload));
                    self.checkers.observe(
                        self.now,
                        Observation::Nonce {
                            who,
                            dek,
                            node16: n16,
                            epoch,
                        },
                    );
                }
            }
        }
        if let Some(data) = self.clients[cmd].data.clone() {
            self.stats.kv_proposed += 1;
            self.record(Some(node), "kv-propose", self.clients[cmd].proposal_id, 0);
            self.propose(node, data);
        }
        let timeout = self.sc.workload.client_timeout_ms * 1000;
        self.push(self.now + timeout, Ev::ClientRetry { cmd });
    }

    pub(super) fn client_retry(&mut self, cmd: usize) {
        if !self.clients[cmd].done {
            self.client_attempt(cmd);
        }
    }

    /// Step 6: proposes this incarnation's registration for every dek not
    /// yet applied locally, and retries until all have (a paused node
    /// retries after it resumes).
    pub(super) fn propose_registrations(&mut self, node: u8) {
        let i = usize::from(node);
        let deks = match &self.slots[i].state {
            State::Up(core) | State::Paused(core) => core.unregistered_deks(),
            State::Down(_) => return,
        };
        if deks.is_empty() {
            return;
        }
        if matches!(self.slots[i].state, State::Up(_)) {
            for dek in deks {
                let pid = self.next_pid();
                let data = match &self.slots[i].state {
                    State::Up(core) => core.registration_entry(dek, pid),
                    _ => break,
                };
                self.record(Some(node), "register", u64::from(dek), pid);
                self.propose(node, data);
            }
        }
        let inc = self.slots[i].incarnation;
        let retry = self.sc.workload.registration_retry_ms * 1000;
        self.push(self.now + retry, Ev::RegRetry { node, inc });
    }
}

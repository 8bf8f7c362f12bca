//! What clients and nodes ask of the cluster: encrypted KV commands with
//! their retries, and each incarnation's registrations until they apply.

use super::*;

impl Sim<'_> {
    pub(super) fn next_pid(&mut self) -> u64 {
        self.clients.next_pid()
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
        let Some(attempt) = self.clients.attempt(cmd, self.sc.nodes) else {
            return;
        };
        let node = attempt.node;
        let mut data = attempt.data;
        // Encrypt once, at the first node able to: a retry resends the same bytes.
        if data.is_none() {
            let s = &self.slots[usize::from(node)];
            if let Process::Up(core) = &s.state {
                if core.app().can_encrypt(attempt.dek) {
                    let (full, epoch) = (s.member.full, core.app().epoch());
                    let who = (node, s.member.incarnation);
                    data = Some(self.clients.encrypt(cmd, node, full, epoch));
                    self.obs.checkers.observe(
                        self.now,
                        Observation::Nonce {
                            who,
                            dek: attempt.dek,
                            node16: node16(full),
                            epoch,
                        },
                    );
                }
            }
        }
        if let Some(data) = data {
            self.obs.stats.kv_proposed += 1;
            self.record(Some(node), &kinds::KV_PROPOSE, attempt.proposal_id, 0);
            self.propose(node, data);
        }
        let timeout = self.sc.workload.client_timeout_ms * 1000;
        self.push(self.now + timeout, Ev::ClientRetry { cmd });
    }

    pub(super) fn client_retry(&mut self, cmd: usize) {
        if !self.clients.is_done(cmd) {
            self.client_attempt(cmd);
        }
    }

    /// Step 6: proposes this incarnation's registration for every dek not
    /// yet applied locally, and retries until all have (a paused node
    /// retries after it resumes).
    pub(super) fn propose_registrations(&mut self, node: u8) {
        let i = usize::from(node);
        let mut deks = match &self.slots[i].state {
            Process::Up(core) | Process::Paused(core) => core.app().unregistered_deks(),
            Process::Down(_) => return,
        };
        if deks.is_empty() {
            return;
        }
        if matches!(self.slots[i].state, Process::Up(_)) {
            self.proposal_order.arrange(node, &mut deks);
            for dek in deks {
                let pid = self.next_pid();
                let data = match &self.slots[i].state {
                    Process::Up(core) => core.app().registration_entry(dek, pid),
                    _ => break,
                };
                let member = &self.slots[i].member;
                self.obs
                    .registration_proposed(self.now, node, member, (dek, pid), &data);
                self.propose(node, data);
            }
        }
        let inc = self.slots[i].member.incarnation;
        let retry = self.sc.workload.registration_retry_ms * 1000;
        self.push(self.now + retry, Ev::RegRetry { node, inc });
    }
}

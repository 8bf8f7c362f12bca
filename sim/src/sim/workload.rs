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
        let s = &self.slots[usize::from(node)];
        let at = (node, &s.member, s.state.running().map(|core| core.app()));
        let data = self
            .obs
            .client_proposal(self.clock.now(), &mut self.clients, at, cmd, attempt);
        if let Some(data) = data {
            self.propose(node, data);
        }
        let timeout = self.sc.workload.client_timeout_ms * 1000;
        self.push(self.clock.now() + timeout, Ev::ClientRetry { cmd });
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
        let Some(core) = self.slots[i].state.core() else {
            return;
        };
        let mut deks = core.app().unregistered_deks();
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
                    .registration_proposed(self.clock.now(), node, member, (dek, pid), &data);
                self.propose(node, data);
            }
        }
        let inc = self.slots[i].member.incarnation;
        let retry = self.sc.workload.registration_retry_ms * 1000;
        self.push(self.clock.now() + retry, Ev::RegRetry { node, inc });
    }
}

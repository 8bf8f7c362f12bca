//! What clients and nodes ask of the cluster: encrypted KV commands with
//! their retries, and each incarnation's registrations until they apply.

use super::*;

impl Sim<'_> {
    pub(super) fn next_pid(&mut self) -> u64 {
        self.c.clients.next_pid()
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
        let Some(attempt) = self.c.clients.attempt(cmd, self.c.sc.nodes) else {
            return;
        };
        let node = attempt.node;
        let s = &self.c.nodes[usize::from(node)];
        let at = (node, &s.member, s.state.running().map(|core| core.app()));
        let (obs, clients) = (&mut self.c.obs, &mut self.c.clients);
        let data = obs.client_proposal(self.c.now, clients, at, cmd, attempt);
        if let Some(data) = data {
            self.propose(node, data);
        }
        let timeout = self.c.sc.workload.client_timeout_ms * 1000;
        self.push(self.clock.now() + timeout, Ev::ClientRetry { cmd });
    }

    pub(super) fn client_retry(&mut self, cmd: usize) {
        if !self.c.clients.is_done(cmd) {
            self.client_attempt(cmd);
        }
    }

    /// Step 6: proposes this incarnation's registration for every dek not
    /// yet applied locally, and retries until all have (a paused node
    /// retries after it resumes).
    pub(super) fn propose_registrations(&mut self, node: u8) {
        let i = usize::from(node);
        let Some(core) = self.c.nodes[i].state.core() else {
            return;
        };
        let mut deks = core.app().unregistered_deks();
        if deks.is_empty() {
            return;
        }
        if matches!(self.c.nodes[i].state, Process::Up(_)) {
            self.c.proposal_order.arrange(node, &mut deks);
            for dek in deks {
                let pid = self.next_pid();
                let data = match &self.c.nodes[i].state {
                    Process::Up(core) => core.app().registration_entry(dek, pid),
                    _ => break,
                };
                let member = &self.c.nodes[i].member;
                self.c
                    .obs
                    .registration_proposed(self.clock.now(), node, member, (dek, pid), &data);
                self.propose(node, data);
            }
        }
        let inc = self.c.nodes[i].member.incarnation;
        let retry = self.c.sc.workload.registration_retry_ms * 1000;
        self.push(self.clock.now() + retry, Ev::RegRetry { node, inc });
    }
}

//! What clients and nodes ask of the cluster: encrypted KV commands with
//! their retries, and each incarnation's registrations until they apply.

use super::*;

impl Sim<'_> {
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
        let Some(deks) = self.c.registrations_due(node) else {
            return;
        };
        for dek in deks {
            let Some(data) = self.c.registration(node, dek) else {
                break;
            };
            self.propose(node, data);
        }
        let inc = self.c.incarnation(node);
        let retry = self.c.sc.workload.registration_retry_ms * 1000;
        self.push(self.clock.now() + retry, Ev::RegRetry { node, inc });
    }
}

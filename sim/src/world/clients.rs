//! The clients' side of the workload: every KV command with its attempts
//! and its encrypted bytes, the proposal ids handed out, and each node's
//! nonce counters. It owns that state; the world asks it which node a
//! command's next attempt goes to, and tells it what applied.

use std::collections::BTreeMap;

use writer_registry::ids::node16;

/// A client KV command and its retries.
struct Command {
    proposal_id: u64,
    dek: u32,
    /// The entry bytes, encrypted once at the first node able to: every
    /// retry resends the same bytes, so a command can commit twice.
    data: Option<Vec<u8>>,
    node: u8,
    attempts: u32,
    done: bool,
}

/// The next attempt of a command: which node, and the bytes if it was
/// encrypted already.
pub(crate) struct Attempt {
    pub node: u8,
    pub dek: u32,
    pub proposal_id: u64,
    pub data: Option<Vec<u8>>,
}

pub(crate) struct Clients {
    commands: Vec<Command>,
    by_pid: BTreeMap<u64, usize>,
    next_pid: u64,
    /// Nonce counters of each node's current incarnation, per dek.
    counters: Vec<BTreeMap<u32, u64>>,
    max_attempts: u32,
}

impl Clients {
    pub(crate) fn new(nodes: u8, max_attempts: u32) -> Self {
        Clients {
            commands: Vec::new(),
            by_pid: BTreeMap::new(),
            next_pid: 1,
            counters: (0..nodes).map(|_| BTreeMap::new()).collect(),
            max_attempts,
        }
    }

    /// A fresh proposal id (client commands, registrations, injections).
    pub(crate) fn next_pid(&mut self) -> u64 {
        let pid = self.next_pid;
        self.next_pid += 1;
        pid
    }

    /// A new command sent to `node` under `dek`; its number.
    pub(crate) fn command(&mut self, node: u8, dek: u32) -> usize {
        let cmd = self.commands.len();
        let proposal_id = self.next_pid();
        self.by_pid.insert(proposal_id, cmd);
        self.commands.push(Command {
            proposal_id,
            dek,
            data: None,
            node,
            attempts: 0,
            done: false,
        });
        cmd
    }

    /// The command's next attempt (each retry goes to the next node round
    /// a cluster of `nodes`), or `None` once it is done or out of tries.
    pub(crate) fn attempt(&mut self, cmd: usize, nodes: u8) -> Option<Attempt> {
        let c = &mut self.commands[cmd];
        if c.done || c.attempts >= self.max_attempts {
            return None;
        }
        c.attempts += 1;
        Some(Attempt {
            node: ((u32::from(c.node) + c.attempts - 1) % u32::from(nodes)) as u8,
            dek: c.dek,
            proposal_id: c.proposal_id,
            data: c.data.clone(),
        })
    }

    /// Encrypts the command's payload as `full`'s incarnation at `epoch`
    /// would, with that node's next nonce counter; keeps and returns the
    /// entry bytes.
    pub(crate) fn encrypt(&mut self, cmd: usize, node: u8, full: u64, epoch: u16) -> Vec<u8> {
        let c = &mut self.commands[cmd];
        let counter = self.counters[usize::from(node)].entry(c.dek).or_insert(0);
        *counter += 1;
        let mut payload = vec![0x10];
        payload.extend(c.dek.to_be_bytes());
        payload.extend(node16(full).to_be_bytes());
        payload.extend(epoch.to_be_bytes());
        payload.extend(counter.to_be_bytes());
        let data = writer_registry::wire::encode_entry(c.proposal_id, &payload);
        c.data = Some(data.clone());
        data
    }

    /// A new incarnation of `node` counts its nonces from 1 again.
    pub(crate) fn restarted(&mut self, node: u8) {
        self.counters[usize::from(node)].clear();
    }

    /// The KV entry with `proposal_id` applied: its command is done.
    pub(crate) fn applied(&mut self, proposal_id: u64) {
        if let Some(&cmd) = self.by_pid.get(&proposal_id) {
            self.commands[cmd].done = true;
        }
    }

    /// The command's entry bytes, once encrypted.
    pub(crate) fn data(&self, cmd: usize) -> Option<Vec<u8>> {
        self.commands[cmd].data.clone()
    }

    pub(crate) fn is_done(&self, cmd: usize) -> bool {
        self.commands[cmd].done
    }
}

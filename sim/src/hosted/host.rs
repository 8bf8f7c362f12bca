//! A node's software on an async-host runtime, written once for turmoil
//! and madsim: idle until the driver starts an incarnation, then
//! datagrams, Raft ticks from the runtime's clock and the driver's work
//! until the incarnation stops.
//!
//! The loop owns no state of its own: each incarnation's core lives in
//! the shared [`World`] so the driver can stop it. A runtime supplies only
//! its socket and its clock ([`HostIo`]); a process crash restarts the
//! runtime's task from the top.

use std::cell::RefCell;
use std::future::Future;
use std::ops::{Add, AddAssign};
use std::rc::Rc;
use std::time::Duration;

use super::world::{World, TAG_CLIENT};
use super::NodeFiles;

/// Largest datagram read (a snapshot of the whole registry and KV data).
pub(crate) const MAX_DATAGRAM: usize = 8 << 20;

/// What a node's loop needs of its runtime: a socket and a clock.
pub(crate) trait HostIo {
    /// The runtime's clock reading.
    type Instant: Copy + Add<Duration, Output = Self::Instant> + AddAssign<Duration>;
    /// The runtime's time now.
    fn now(&self) -> Self::Instant;
    /// Receives one datagram into `buf`; its length.
    fn recv(&self, buf: &mut [u8]) -> impl Future<Output = std::io::Result<usize>>;
    /// Sleeps until `at` on the runtime's clock.
    fn sleep_until(&self, at: Self::Instant) -> impl Future<Output = ()>;
    /// Hands what the node's last calls queued, `(to, bytes)`, to the
    /// network.
    fn send_all(&self, out: Vec<(u8, Vec<u8>)>) -> impl Future<Output = std::io::Result<()>>;
}

/// Runs node `node`'s software over `io` until its socket fails.
pub(crate) async fn run<F: NodeFiles, H: HostIo>(
    world: &Rc<RefCell<World<F>>>,
    node: u8,
    io: &H,
) -> std::io::Result<()> {
    let notify = world.borrow().slots[usize::from(node)].notify.clone();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let delay = || Duration::from_micros(world.borrow_mut().c.tick_delay_us(node));
    loop {
        // Down: wait for the driver's restart. What arrives meanwhile is
        // read and dropped, as a dead process's socket would.
        while !world.borrow().slots[usize::from(node)].start_requested {
            // `biased`: an unbiased select draws from tokio's own RNG,
            // seeded per process.
            tokio::select! {
                biased;
                _ = notify.notified() => {}
                r = io.recv(&mut buf) => {
                    let n = r?;
                    world.borrow_mut().arrive_down(node, &buf[..n]);
                }
            }
        }
        let joined = world.borrow_mut().start(node);
        flush(world, node, io).await?;
        if !joined {
            continue;
        }
        let mut next_tick = io.now() + delay();
        while world.borrow().is_up(node) {
            if world.borrow().c.nodes[usize::from(node)].state.is_paused() {
                // A paused process handles nothing: datagrams are held (as
                // they arrive) for its resume, ticks are not taken.
                tokio::select! {
                    biased;
                    _ = notify.notified() => next_tick = io.now() + delay(),
                    r = io.recv(&mut buf) => {
                        let n = r?;
                        world.borrow_mut().hold(node, &buf[..n]);
                    }
                }
                continue;
            }
            // Work the driver queued (some of it while paused).
            world.borrow_mut().work(node);
            flush(world, node, io).await?;
            if !world.borrow().is_up(node) {
                break;
            }
            tokio::select! {
                biased;
                _ = notify.notified() => {}
                r = io.recv(&mut buf) => {
                    let n = r?;
                    world.borrow_mut().receive(node, &buf[..n]);
                }
                _ = io.sleep_until(next_tick) => {
                    world.borrow_mut().tick(node);
                    next_tick += delay();
                }
            }
            flush(world, node, io).await?;
        }
    }
}

/// The client host's software: sends each command attempt the driver
/// hands it (a token) to its node through `send`; returns when a send fails.
pub(crate) async fn run_client<F: NodeFiles, S>(
    world: &Rc<RefCell<World<F>>>,
    mut send: impl FnMut(u8, Vec<u8>) -> S,
) -> std::io::Result<()>
where
    S: Future<Output = std::io::Result<()>>,
{
    let notify = world.borrow().client_notify.clone();
    loop {
        notify.notified().await;
        let out = std::mem::take(&mut world.borrow_mut().client_out);
        for (node, token) in out {
            let mut bytes = vec![TAG_CLIENT];
            bytes.extend(token.to_be_bytes());
            send(node, bytes).await?;
        }
    }
}

/// Sends what the node's last calls queued.
async fn flush<F: NodeFiles, H: HostIo>(
    world: &Rc<RefCell<World<F>>>,
    node: u8,
    io: &H,
) -> std::io::Result<()> {
    let out = std::mem::take(&mut world.borrow_mut().slots[usize::from(node)].outbox);
    io.send_all(out).await
}

//! The software of turmoil's hosts: each node's loop, and the client that
//! carries the workload's commands to the nodes over turmoil's network.
//!
//! A node's loop owns no state of its own: each incarnation's core lives
//! in the shared [`World`] so the driver can stop it. The loop waits for
//! the driver to start an incarnation, then feeds it datagrams, Raft ticks
//! from turmoil's clock and the driver's work, and sends what it asks to
//! send. A `bounce` (a process crash) restarts the loop from the top.

use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use std::time::Duration;

use tokio::time::Instant;
use turmoil::net::UdpSocket;

use super::files::TurmoilFiles;
use crate::hosted::world::{name, TAG_CLIENT};

type World = crate::hosted::world::World<TurmoilFiles>;

/// The port every host listens on.
pub(crate) const PORT: u16 = 7000;

/// Largest datagram read (a snapshot of the whole registry and KV data).
const MAX_DATAGRAM: usize = 8 << 20;

pub(crate) async fn node(world: Rc<RefCell<World>>, node: u8) -> turmoil::Result {
    let sock = UdpSocket::bind((IpAddr::V4(Ipv4Addr::UNSPECIFIED), PORT)).await?;
    let notify = world.borrow().slots[usize::from(node)].notify.clone();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        // Down: wait for the driver's restart. What arrives meanwhile is
        // read and dropped, as a dead process's socket would.
        while !world.borrow().slots[usize::from(node)].start_requested {
            // `biased`: an unbiased select draws from tokio's own RNG,
            // seeded per process.
            tokio::select! {
                biased;
                _ = notify.notified() => {}
                r = sock.recv_from(&mut buf) => { r?; }
            }
        }
        let joined = world.borrow_mut().start(node);
        flush(&world, node, &sock).await?;
        if !joined {
            continue;
        }
        let mut next_tick = Instant::now() + delay(&world, node);
        while world.borrow().is_up(node) {
            if world.borrow().slots[usize::from(node)].paused {
                // A paused process handles nothing; datagrams wait in the
                // socket's buffer, ticks are not taken.
                notify.notified().await;
                next_tick = Instant::now() + delay(&world, node);
                continue;
            }
            // Work the driver queued (some of it while paused).
            world.borrow_mut().work(node);
            flush(&world, node, &sock).await?;
            if !world.borrow().is_up(node) {
                break;
            }
            tokio::select! {
                biased;
                _ = notify.notified() => {}
                r = sock.recv_from(&mut buf) => {
                    let (n, _) = r?;
                    world.borrow_mut().receive(node, &buf[..n]);
                }
                _ = tokio::time::sleep_until(next_tick) => {
                    world.borrow_mut().tick(node);
                    next_tick += delay(&world, node);
                }
            }
            flush(&world, node, &sock).await?;
        }
    }
}

fn delay(world: &Rc<RefCell<World>>, node: u8) -> Duration {
    Duration::from_micros(world.borrow_mut().tick_delay_us(node))
}

/// Sends what the node's last calls queued.
async fn flush(world: &Rc<RefCell<World>>, node: u8, sock: &UdpSocket) -> turmoil::Result {
    let out = std::mem::take(&mut world.borrow_mut().slots[usize::from(node)].outbox);
    for (to, bytes) in out {
        sock.send_to(&bytes, (turmoil::lookup(name(to)), PORT))
            .await?;
    }
    Ok(())
}

/// The client host: sends each command attempt the driver hands it to its
/// node.
pub(crate) async fn client(world: Rc<RefCell<World>>) -> turmoil::Result {
    let sock = UdpSocket::bind((IpAddr::V4(Ipv4Addr::UNSPECIFIED), PORT)).await?;
    let notify = world.borrow().client_notify.clone();
    loop {
        notify.notified().await;
        let out = std::mem::take(&mut world.borrow_mut().client_out);
        for (node, token) in out {
            let mut bytes = vec![TAG_CLIENT];
            bytes.extend(token.to_be_bytes());
            sock.send_to(&bytes, (turmoil::lookup(name(node)), PORT))
                .await?;
        }
    }
}

//! The software of turmoil's hosts: each node runs the hosted runtimes'
//! node loop ([`crate::hosted::host`]) over a turmoil socket and turmoil's
//! clock, and the client carries the workload's commands to the nodes
//! over turmoil's network. A `bounce` (a process crash) restarts a node's
//! loop from the top.

use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;

use tokio::time::Instant;
use turmoil::net::UdpSocket;

use super::files::TurmoilFiles;
use crate::hosted::host::HostIo;
use crate::world::cluster::name;

type World = crate::hosted::world::World<TurmoilFiles>;

/// The port every host listens on.
pub(crate) const PORT: u16 = 7000;

pub(crate) async fn node(world: Rc<RefCell<World>>, node: u8) -> turmoil::Result {
    let sock = UdpSocket::bind((IpAddr::V4(Ipv4Addr::UNSPECIFIED), PORT)).await?;
    crate::hosted::host::run(&world, node, &Io(sock)).await?;
    Ok(())
}

/// A turmoil host's socket and clock.
struct Io(UdpSocket);

impl HostIo for Io {
    type Instant = Instant;

    fn now(&self) -> Instant {
        Instant::now()
    }

    async fn recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.recv_from(buf).await.map(|(n, _)| n)
    }

    async fn sleep_until(&self, at: Instant) {
        tokio::time::sleep_until(at).await;
    }

    async fn send_all(&self, out: Vec<(u8, Vec<u8>)>) -> std::io::Result<()> {
        for (to, bytes) in out {
            self.0
                .send_to(&bytes, (turmoil::lookup(name(to)), PORT))
                .await?;
        }
        Ok(())
    }
}

/// The client host: sends each command attempt the driver hands it to its
/// node.
pub(crate) async fn client(world: Rc<RefCell<World>>) -> turmoil::Result {
    let sock = UdpSocket::bind((IpAddr::V4(Ipv4Addr::UNSPECIFIED), PORT)).await?;
    let sock = &sock;
    crate::hosted::host::run_client(&world, |node, bytes| async move {
        let to = (turmoil::lookup(name(node)), PORT);
        sock.send_to(&bytes, to).await.map(drop)
    })
    .await?;
    Ok(())
}

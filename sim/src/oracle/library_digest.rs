//! `library-digest`: the FSM's incremental digest, as a running FSM
//! reports it when its process stops, is the digest of the bytes its
//! store holds (every space but the node-local meta space), computed by
//! the harness from the store it read back.

use regsim_engine::oracle::checker::Checker;
use writer_registry::registry::Space;
use writer_registry::StateDigest;

use super::observation::Observation;
use super::reference::Shown;
use super::Violations;

/// Judges each stop of a running FSM. Keeps no state.
#[derive(Debug, Default)]
pub struct LibraryDigest;

impl Checker<Shown<'_>> for LibraryDigest {
    fn observe(&mut self, at_us: u64, shown: &Shown<'_>, v: &mut Violations) {
        let Observation::Stopped {
            node,
            store,
            library_digest: Some(digest),
            ..
        } = *shown.what
        else {
            return;
        };
        let mut of_store = StateDigest::default();
        for ((space, k), value) in store.iter().filter(|((s, _), _)| *s != Space::Meta) {
            of_store.update(*space, k, value, true);
        }
        if of_store != digest {
            v.push(
                "library-digest",
                Some(node),
                at_us,
                format!("the FSM's incremental digest {digest} is not the digest of its stored bytes {of_store}"),
            );
        }
    }
}

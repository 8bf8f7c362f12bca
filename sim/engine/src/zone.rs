//! Whose code a thread is running: the world marks every call into the
//! system under test (the node core, and through it raft-rs and the
//! state machine) so that a panic with no caller location of its own (a
//! capacity overflow inside the standard library, say) can be blamed on
//! the zone it happened in. The panic hook that reads it is the
//! harness's (`writer-registry-sim`'s `panics` module).

use std::cell::Cell;

thread_local! {
    /// Set while the world is inside the system under test.
    static IN_SYSTEM: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` as a call into the system under test: a panic without a
/// caller location inside it is the system's. Nests, and restores the
/// zone it found also when `f` panics.
pub fn in_system<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            IN_SYSTEM.with(|z| z.set(self.0));
        }
    }
    let _restore = Restore(IN_SYSTEM.with(|z| z.replace(true)));
    f()
}

/// Whether this thread is inside the system under test now.
pub fn inside_system() -> bool {
    IN_SYSTEM.with(Cell::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zone_nests_and_is_restored_after_a_panic() {
        assert!(!inside_system());
        in_system(|| {
            assert!(inside_system());
            in_system(|| assert!(inside_system()));
            assert!(
                inside_system(),
                "an inner call leaves the zone as it found it"
            );
        });
        let panicked = std::panic::catch_unwind(|| in_system(|| panic!("deep")));
        assert!(panicked.is_err());
        assert!(!inside_system(), "restored by the unwinding");
    }
}

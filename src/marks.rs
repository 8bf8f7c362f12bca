//! Coverage marks: named counters fired at the code point where a
//! situation happens, so a simulator can show its sweeps reach the
//! dangerous paths (compiled only with the `marks` feature).
//!
//! Counters are thread-local: a simulated run executes on one thread, so
//! a driver clears them before a run ([`take`]) and reads them after.

use std::cell::Cell;

/// A situation in the library's own code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mark {
    /// Applier case 1: a registration inserted a new row.
    ApplierInsert,
    /// Applier case 2: a registration advanced last_seen.
    ApplierAdvance,
    /// Applier case 5: equal epoch, nothing written.
    ApplierNoOp,
    /// Applier case 3: a lower epoch halted.
    ApplierRollback,
    /// Applier case 4: a different full id owns the slot.
    ApplierCollision,
    /// Applier step 3: the stored row is malformed.
    ApplierCorruptRow,
}

impl Mark {
    pub const ALL: [Mark; 6] = [
        Mark::ApplierInsert,
        Mark::ApplierAdvance,
        Mark::ApplierNoOp,
        Mark::ApplierRollback,
        Mark::ApplierCollision,
        Mark::ApplierCorruptRow,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mark::ApplierInsert => "applier-insert",
            Mark::ApplierAdvance => "applier-advance",
            Mark::ApplierNoOp => "applier-no-op",
            Mark::ApplierRollback => "applier-rollback",
            Mark::ApplierCollision => "applier-collision",
            Mark::ApplierCorruptRow => "applier-corrupt-row",
        }
    }
}

thread_local! {
    static COUNTS: Cell<[u64; Mark::ALL.len()]> = const { Cell::new([0; Mark::ALL.len()]) };
}

/// Records one hit of `mark` on this thread.
pub fn hit(mark: Mark) {
    COUNTS.with(|c| {
        let mut counts = c.get();
        counts[mark as usize] += 1;
        c.set(counts);
    });
}

/// Returns this thread's counts (every mark, in [`Mark::ALL`] order) and
/// clears them.
pub fn take() -> Vec<(Mark, u64)> {
    let counts = COUNTS.with(|c| c.replace([0; Mark::ALL.len()]));
    Mark::ALL.iter().map(|&m| (m, counts[m as usize])).collect()
}

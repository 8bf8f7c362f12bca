//! The run's trace: every simulator decision as (virtual time, node, kind,
//! two numbers), folded into a hash that is part of every run result.
//!
//! Recording is numeric so that hashing costs no formatting; text is made
//! only when asked for (`--trace`, `RUST_LOG`, or a determinism check).
//! Only the simulator records here, so fjall's background threads and
//! raft-rs's own logging can never reach the hash.

/// Tracing target of the simulator's events.
pub const TARGET: &str = "regsim";

/// The trace of one run.
#[derive(Debug)]
pub struct Trace {
    hash: u64,
    events: u64,
    lines: Option<Vec<String>>,
    emit: bool,
}

impl Trace {
    /// `keep_lines` keeps every event as text (for `--check-determinism`);
    /// events also go to tracing when a subscriber wants the target.
    pub fn new(keep_lines: bool) -> Self {
        Trace {
            hash: 0xcbf2_9ce4_8422_2325,
            events: 0,
            lines: keep_lines.then(Vec::new),
            emit: tracing::enabled!(target: TARGET, tracing::Level::DEBUG),
        }
    }

    #[inline]
    fn eat(&mut self, v: u64) {
        for b in v.to_le_bytes() {
            self.hash = (self.hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// Records one event. `node` is the 0-based node or `None` for the
    /// cluster; `a` and `b` are the event's numbers.
    #[inline]
    pub fn record(&mut self, at_us: u64, node: Option<u8>, kind: &'static str, a: u64, b: u64) {
        self.events += 1;
        self.eat(at_us);
        self.eat(node.map_or(u64::MAX, u64::from));
        for &c in kind.as_bytes() {
            self.hash = (self.hash ^ u64::from(c)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.eat(a);
        self.eat(b);
        if self.emit || self.lines.is_some() {
            let who = node.map_or_else(|| "-".to_string(), |n| format!("n{}", n + 1));
            let line = format!("{:>10.6}s {who:>3} {kind} {a} {b}", at_us as f64 / 1e6);
            if self.emit {
                tracing::debug!(target: TARGET, "{line}");
            }
            if let Some(lines) = &mut self.lines {
                lines.push(line);
            }
        }
    }

    pub fn hash(&self) -> u64 {
        self.hash
    }

    pub fn events(&self) -> u64 {
        self.events
    }

    pub fn take_lines(&mut self) -> Vec<String> {
        self.lines.take().unwrap_or_default()
    }
}

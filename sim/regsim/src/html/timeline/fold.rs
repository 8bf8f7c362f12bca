//! A run's events folded, in order, into what the lanes draw: spans that
//! open at one event and close at another (down, paused, leading, a
//! network cut), marks with their hover text, and apply counts per bin.

use std::fmt::Write;

use writer_registry::hex;

use super::glyph::{Glyph, DOWN};
use super::{Mark, Span, Timeline};
use crate::html::text::secs;
use writer_registry_sim::run::RunResult;
use writer_registry_sim::trace::kinds::{self, Kind};
use writer_registry_sim::trace::{Event, ROWS};

/// Fills `t`'s lanes from `r`'s events; every span still open at the
/// run's end closes there.
pub(super) fn fold(t: Timeline, r: &RunResult) -> Timeline {
    let nodes = t.nodes;
    let mut b = Builder {
        t,
        events: &r.events,
        run_end_us: r.stats.virtual_us,
        down_since: vec![None; nodes],
        paused_since: vec![None; nodes],
        leading: None,
        cut: None,
        last_crash_cause: vec![String::new(); nodes],
        last_halt: vec![None; nodes],
    };
    for (i, e) in r.events.iter().enumerate() {
        match e.node.map(usize::from) {
            None => b.cluster_event(e),
            Some(n) if n < nodes => b.node_event(i, e, n),
            Some(_) => {}
        }
    }
    b.finish()
}

/// Folds a run's events, in order, into a [`Timeline`]: what is open on
/// each lane (down, paused, leading, a cut) until the event that closes it.
struct Builder<'a> {
    t: Timeline,
    events: &'a [Event],
    /// The run's end: the stops there end the run, not a crash.
    run_end_us: u64,
    /// Per node: since when down (reason code, hover text).
    down_since: Vec<Option<(u64, u64, String)>>,
    paused_since: Vec<Option<u64>>,
    /// The leader: (node, since, term).
    leading: Option<(usize, u64, u64)>,
    /// The links cut since when, as text.
    cut: Option<(u64, Vec<String>)>,
    last_crash_cause: Vec<String>,
    last_halt: Vec<Option<(u64, &'a str)>>,
}

impl<'a> Builder<'a> {
    /// Partitions, one-way cuts, heals and the end of the fault phase.
    fn cluster_event(&mut self, e: &Event) {
        let nodes = self.t.nodes;
        let is = |k: &Kind| e.kind == k.name();
        if is(&kinds::PARTITION) {
            let side: Vec<String> = (0..nodes)
                .filter(|k| e.a >> k & 1 == 1)
                .map(|k| format!("n{}", k + 1))
                .collect();
            let rest: Vec<String> = (0..nodes)
                .filter(|k| e.a >> k & 1 == 0)
                .map(|k| format!("n{}", k + 1))
                .collect();
            let text = format!("{} | {}", side.join(" "), rest.join(" "));
            self.cut.get_or_insert((e.at_us, Vec::new())).1.push(text);
        } else if is(&kinds::ONE_WAY) {
            let text = format!("n{} -/-> n{}", e.a + 1, e.b + 1);
            self.cut.get_or_insert((e.at_us, Vec::new())).1.push(text);
        } else if is(&kinds::HEAL) || is(&kinds::END_OF_FAULTS) {
            if let Some((from, parts)) = self.cut.take() {
                self.t.links.push(link_span(from, e.at_us, &parts));
            }
            if is(&kinds::END_OF_FAULTS) {
                self.t.end_of_faults = Some(e.at_us);
            }
        }
    }

    /// The `i`-th event, on node `n`'s lane.
    fn node_event(&mut self, i: usize, e: &'a Event, n: usize) {
        let name = format!("n{}", n + 1);
        let is = |k: &Kind| e.kind == k.name();
        if is(&kinds::START) {
            self.started(i, e, n, &name);
        } else if is(&kinds::ARMED_CRASH_FIRED) {
            self.last_crash_cause[n] = format!(
                "an armed crash point fired{}",
                if e.a == 1 { " with power loss" } else { "" }
            );
        } else if is(&kinds::STOP) || is(&kinds::START_FAILED) {
            self.stopped(e, n, &name);
        } else if is(&kinds::POWER_LOSS) {
            let kept = self.events[i + 1..]
                .iter()
                .take(4)
                .find(|x| x.node == e.node && x.kind == kinds::POWER_LOSS_KEPT.name())
                .map(|k| format!(": kept {} of {} unsynced store batches", k.a, k.b))
                .unwrap_or_default();
            let tip = format!("{name} loses power at {}{kept}", secs(e.at_us));
            self.mark(n, e.at_us, Glyph::PowerLoss, tip);
        } else if is(&kinds::PAUSE) {
            self.paused_since[n].get_or_insert(e.at_us);
        } else if is(&kinds::RESUME) {
            if let Some(since) = self.paused_since[n].take() {
                self.t.lanes[n]
                    .paused
                    .push(paused_span(&name, since, e.at_us));
            }
        } else if is(&kinds::LEADER) {
            if let Some((leader, from, term)) = self.leading.take() {
                let span = leader_span(&format!("n{}", leader + 1), from, e.at_us, term);
                self.t.lanes[leader].leader.push(span);
            }
            self.leading = Some((n, e.at_us, e.a));
        } else if is(&kinds::SNAPSHOT_RESTORED) {
            let whose = if e.b == 1 {
                " (its own, at start)"
            } else {
                " (installed from the leader)"
            };
            let tip = format!(
                "{name} restores a snapshot at index {} at {}{whose}",
                e.a,
                secs(e.at_us)
            );
            self.mark(n, e.at_us, Glyph::Snapshot, tip);
        } else if is(&kinds::APPLY) || is(&kinds::REPLAY) {
            self.applied(i, e, n, &name);
        } else {
            self.registry_event(i, e, n, &name);
        }
    }

    /// The writer registry's own events: refusals, rollbacks, damaged and
    /// injected rows, injected entries and store faults.
    fn registry_event(&mut self, i: usize, e: &Event, n: usize, name: &str) {
        let is = |k: &Kind| e.kind == k.name();
        if is(&kinds::GUARD_REFUSED) {
            let next = self.events.get(i + 1);
            let refusal = next.filter(|x| x.node == e.node).map_or("?", |x| x.kind);
            let tip = format!(
                "{name} refuses to start: {refusal} ({} guard, epoch {}) at {}",
                if e.a == 1 { "after-replay" } else { "first" },
                e.b,
                secs(e.at_us)
            );
            self.mark(n, e.at_us, Glyph::Refusal, tip);
        } else if is(&kinds::EPOCH_ROLLBACK) {
            let tip = format!(
                "{name}'s epoch file rolled back to {} at {}",
                e.a,
                secs(e.at_us)
            );
            self.mark(n, e.at_us, Glyph::Rollback, tip);
        } else if e.kind == kinds::ROW_CORRUPTED.name() {
            self.t.has_row_events = true;
            let tip = format!(
                "{name}'s registry row damaged at {}{}",
                secs(e.at_us),
                row_text(&e.bytes)
            );
            self.mark(n, e.at_us, Glyph::Corrupted, tip);
        } else if let Some(what) = injected(e) {
            let tip = format!("{name} {what} at {}", secs(e.at_us));
            self.mark(n, e.at_us, Glyph::Injected, tip);
        } else if e.kind == ROWS || e.kind == kinds::ROW.name() {
            self.t.has_row_events = true;
        }
    }

    fn mark(&mut self, n: usize, at: u64, glyph: Glyph, tip: String) {
        self.t.lanes[n].marks.push(Mark { at, glyph, tip });
    }

    /// A start: the down period before it ends; the restart mark says
    /// its incarnation, election timeout and epoch bump.
    fn started(&mut self, i: usize, e: &Event, n: usize, name: &str) {
        if let Some((from, code, tip)) = self.down_since[n].take() {
            self.t.lanes[n].down.push(Span {
                from,
                to: e.at_us,
                code,
                tip,
                label: String::new(),
            });
        }
        let mut tip = format!(
            "{name} starts at {} (incarnation {}, election timeout {} ticks)",
            secs(e.at_us),
            e.a,
            e.b
        );
        // The start's epoch bump follows it in the trace.
        if let Some(bump) = self.events[i + 1..]
            .iter()
            .take(8)
            .find(|x| x.node == e.node && x.kind == kinds::EPOCH_BUMP.name())
        {
            let _ = write!(tip, "; local epoch {} -> {}", bump.a, bump.b);
        }
        self.mark(n, e.at_us, Glyph::Restart, tip);
    }

    /// A stop or a failed start: pause and leadership end, a down period
    /// begins (a crash mark unless the run's end stopped it).
    fn stopped(&mut self, e: &Event, n: usize, name: &str) {
        let reason = DOWN.get(e.a as usize).map_or("down", |d| d.0);
        if let Some(since) = self.paused_since[n].take() {
            self.t.lanes[n]
                .paused
                .push(paused_span(name, since, e.at_us));
        }
        if let Some((leader, from, term)) = self.leading {
            if leader == n {
                let span = leader_span(name, from, e.at_us, term);
                self.t.lanes[n].leader.push(span);
                self.leading = None;
            }
        }
        let cause = std::mem::take(&mut self.last_crash_cause[n]);
        let mut tip = format!("{name} {reason} at {}", secs(e.at_us));
        if e.kind == kinds::START_FAILED.name() {
            tip.push_str(" (its start failed)");
        }
        if let Some((index, kind)) = self.last_halt[n].filter(|_| e.a == 1) {
            let _ = write!(tip, ": halt {kind} at index {index}");
        }
        if !cause.is_empty() {
            let _ = write!(tip, ": {cause}");
        }
        // The run's end stops every node that is still up: no crash to
        // draw there.
        let final_stop = e.at_us >= self.run_end_us && e.a == 0;
        if e.a == 0 && !final_stop {
            self.mark(n, e.at_us, Glyph::Crash, tip.clone());
        }
        self.down_since[n] = Some((e.at_us, e.a, tip));
    }

    /// An apply or a replay: counted in its bin, or a glyph for a
    /// registration or a halt (its outcome is the next event).
    fn applied(&mut self, i: usize, e: &Event, n: usize, name: &str) {
        let next = self.events.get(i + 1);
        let outcome = next.filter(|x| x.node == e.node).map_or("?", |x| x.kind);
        let replay = e.kind == kinds::REPLAY.name();
        let verb = if replay { "replays" } else { "applies" };
        let glyph = match outcome {
            "insert" => Some(Glyph::Insert),
            "advance" => Some(Glyph::Advance),
            "no-op" => Some(Glyph::NoOp),
            "kv" | "empty" => None,
            _ => Some(Glyph::Halt),
        };
        match glyph {
            None => {
                let bin_us = self.t.bin_us;
                let bin = self.t.lanes[n].bins.entry(e.at_us / bin_us).or_default();
                if bin.kv + bin.empty == 0 {
                    bin.first_index = e.a;
                }
                bin.last_index = e.a;
                if outcome == "kv" {
                    bin.kv += 1;
                } else {
                    bin.empty += 1;
                }
                bin.replays += u64::from(replay);
            }
            Some(Glyph::Halt) => {
                self.last_halt[n] = Some((e.a, outcome));
                let tip = format!(
                    "{name} halts: {outcome} at index {} (term {}) at {}{}",
                    e.a,
                    e.b,
                    secs(e.at_us),
                    if replay {
                        ", in its startup replay"
                    } else {
                        ""
                    }
                );
                self.mark(n, e.at_us, Glyph::Halt, tip);
            }
            Some(glyph) => {
                let row = self
                    .events
                    .get(i + 2)
                    .filter(|x| x.node == e.node && x.kind == kinds::ROW.name())
                    .map(|x| row_text(&x.bytes))
                    .unwrap_or_default();
                let tip = format!(
                    "{name} {verb} a registration at index {} (term {}): {outcome} at {}{row}",
                    e.a,
                    e.b,
                    secs(e.at_us)
                );
                self.mark(n, e.at_us, glyph, tip);
            }
        }
    }

    /// Closes what is still open at the run's end.
    fn finish(mut self) -> Timeline {
        let end_us = self.t.end_us;
        for n in 0..self.t.nodes {
            let name = format!("n{}", n + 1);
            if let Some((from, code, tip)) = self.down_since[n].take() {
                self.t.lanes[n].down.push(Span {
                    from,
                    to: end_us,
                    code,
                    tip,
                    label: String::new(),
                });
            }
            if let Some(since) = self.paused_since[n].take() {
                self.t.lanes[n]
                    .paused
                    .push(paused_span(&name, since, end_us));
            }
        }
        if let Some((leader, from, term)) = self.leading {
            let span = leader_span(&format!("n{}", leader + 1), from, end_us, term);
            self.t.lanes[leader].leader.push(span);
        }
        if let Some((from, parts)) = self.cut {
            self.t.links.push(link_span(from, end_us, &parts));
        }
        self.t
    }
}

/// What an injected fault did, for its mark's hover text (`None`: not an
/// injection).
fn injected(e: &Event) -> Option<String> {
    let is = |k: &Kind| e.kind == k.name();
    Some(if is(&kinds::INJECT_COLLISION) {
        format!(
            "proposes a colliding registration (full id {:#018x}, dek {})",
            e.a, e.b
        )
    } else if is(&kinds::INJECT_MALFORMED) {
        format!("proposes a malformed entry (variant {})", e.a)
    } else if is(&kinds::INJECT_EXOTIC) {
        format!("proposes an entry with opcode {:#04x}", e.a)
    } else if is(&kinds::EPOCH_PRESET) {
        format!("has its epoch file preset to {:#06x}", e.a)
    } else if is(&kinds::STORE_FAULT_FIRED) {
        format!(
            "store fault fires on a {}",
            if e.a == 1 { "sync" } else { "write" }
        )
    } else {
        return None;
    })
}

fn link_span(from: u64, to: u64, parts: &[String]) -> Span {
    Span {
        from,
        to,
        code: 0,
        tip: format!(
            "network cut from {} to {}: {}",
            secs(from),
            secs(to),
            parts.join("; ")
        ),
        label: parts.join("; "),
    }
}

fn paused_span(name: &str, from: u64, to: u64) -> Span {
    Span {
        from,
        to,
        code: 0,
        tip: format!("{name} paused from {} to {}", secs(from), secs(to)),
        label: String::new(),
    }
}

fn leader_span(name: &str, from: u64, to: u64, term: u64) -> Span {
    Span {
        from,
        to,
        code: term,
        tip: format!(
            "{name} leader in term {term} from {} (until the next election or its stop, {})",
            secs(from),
            secs(to)
        ),
        label: String::new(),
    }
}

fn row_text(bytes: &[Vec<u8>]) -> String {
    match bytes {
        [k, v] => format!("; row {} {}", hex::encode(k), hex::encode(v)),
        [k] => format!("; no row at {}", hex::encode(k)),
        _ => String::new(),
    }
}

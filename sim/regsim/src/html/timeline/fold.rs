//! A run's events folded, in order, into what the lanes draw: spans that
//! open at one event and close at another (down, paused, leading, a
//! network cut), marks with their hover text, and apply counts per bin.

use std::fmt::Write;

use writer_registry::hex;

use super::glyph::{Glyph, DOWN};
use super::{Mark, Span, Timeline};
use crate::html::text::secs;
use writer_registry_sim::run::RunResult;
use writer_registry_sim::trace::happened::{self, Down, Happened, Outcome};
use writer_registry_sim::trace::Event;

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
    last_halt: Vec<Option<(u64, &'static str)>>,
}

impl<'a> Builder<'a> {
    /// Partitions, one-way cuts, heals and the end of the fault phase.
    fn cluster_event(&mut self, e: &Event) {
        let nodes = self.t.nodes;
        match Happened::of(e) {
            Happened::Partition { side } => {
                let side_names: Vec<String> = (0..nodes)
                    .filter(|k| side >> k & 1 == 1)
                    .map(|k| format!("n{}", k + 1))
                    .collect();
                let rest: Vec<String> = (0..nodes)
                    .filter(|k| side >> k & 1 == 0)
                    .map(|k| format!("n{}", k + 1))
                    .collect();
                let text = format!("{} | {}", side_names.join(" "), rest.join(" "));
                self.cut.get_or_insert((e.at_us, Vec::new())).1.push(text);
            }
            Happened::OneWay { from, to } => {
                let text = format!("n{} -/-> n{}", from + 1, to + 1);
                self.cut.get_or_insert((e.at_us, Vec::new())).1.push(text);
            }
            h @ (Happened::Heal | Happened::EndOfFaults) => {
                if let Some((from, parts)) = self.cut.take() {
                    self.t.links.push(link_span(from, e.at_us, &parts));
                }
                if h == Happened::EndOfFaults {
                    self.t.end_of_faults = Some(e.at_us);
                }
            }
            _ => {}
        }
    }

    /// The `i`-th event, on node `n`'s lane.
    fn node_event(&mut self, i: usize, e: &'a Event, n: usize) {
        let name = format!("n{}", n + 1);
        match Happened::of(e) {
            Happened::Start {
                incarnation,
                election_ticks,
            } => self.started(i, e, n, &name, (incarnation, election_ticks)),
            Happened::ArmedCrashFired { power_loss } => {
                self.last_crash_cause[n] = format!(
                    "an armed crash point fired{}",
                    if power_loss { " with power loss" } else { "" }
                );
            }
            stop @ Happened::Stop { .. } => self.stopped(e.at_us, n, &name, stop),
            Happened::PowerLoss => {
                let kept = self.events[i + 1..]
                    .iter()
                    .take(4)
                    .filter(|x| x.node == e.node)
                    .find_map(|x| match Happened::of(x) {
                        Happened::PowerLossKept { kept, unsynced } => Some(format!(
                            ": kept {kept} of {unsynced} unsynced store batches"
                        )),
                        _ => None,
                    })
                    .unwrap_or_default();
                let tip = format!("{name} loses power at {}{kept}", secs(e.at_us));
                self.mark(n, e.at_us, Glyph::PowerLoss, tip);
            }
            Happened::Pause => {
                self.paused_since[n].get_or_insert(e.at_us);
            }
            Happened::Resume => {
                if let Some(since) = self.paused_since[n].take() {
                    self.t.lanes[n]
                        .paused
                        .push(paused_span(&name, since, e.at_us));
                }
            }
            Happened::Leader { term } => {
                if let Some((leader, from, term)) = self.leading.take() {
                    let span = leader_span(&format!("n{}", leader + 1), from, e.at_us, term);
                    self.t.lanes[leader].leader.push(span);
                }
                self.leading = Some((n, e.at_us, term));
            }
            Happened::SnapshotRestored { index, at_start } => {
                let whose = if at_start {
                    " (its own, at start)"
                } else {
                    " (installed from the leader)"
                };
                let tip = format!(
                    "{name} restores a snapshot at index {index} at {}{whose}",
                    secs(e.at_us)
                );
                self.mark(n, e.at_us, Glyph::Snapshot, tip);
            }
            Happened::Apply {
                index,
                term,
                replay,
            } => self.applied(i, e, n, &name, (index, term, replay)),
            h => self.registry_event(i, e, h, n, &name),
        }
    }

    /// The writer registry's own events: refusals, rollbacks, damaged and
    /// injected rows, injected entries and store faults.
    fn registry_event(&mut self, i: usize, e: &Event, h: Happened<'_>, n: usize, name: &str) {
        match h {
            Happened::GuardRefused {
                after_replay,
                epoch,
            } => {
                let next = self.events.get(i + 1).filter(|x| x.node == e.node);
                let refusal = next.and_then(happened::refusal).unwrap_or("?");
                let tip = format!(
                    "{name} refuses to start: {refusal} ({} guard, epoch {epoch}) at {}",
                    if after_replay {
                        "after-replay"
                    } else {
                        "first"
                    },
                    secs(e.at_us)
                );
                self.mark(n, e.at_us, Glyph::Refusal, tip);
            }
            Happened::EpochRollback { to } => {
                let tip = format!(
                    "{name}'s epoch file rolled back to {to} at {}",
                    secs(e.at_us)
                );
                self.mark(n, e.at_us, Glyph::Rollback, tip);
            }
            Happened::RowCorrupted { bytes } => {
                self.t.has_row_events = true;
                let tip = format!(
                    "{name}'s registry row damaged at {}{}",
                    secs(e.at_us),
                    row_text(bytes)
                );
                self.mark(n, e.at_us, Glyph::Corrupted, tip);
            }
            Happened::Rows { .. } | Happened::Row { .. } => self.t.has_row_events = true,
            h => {
                if let Some(what) = injected(h) {
                    let tip = format!("{name} {what} at {}", secs(e.at_us));
                    self.mark(n, e.at_us, Glyph::Injected, tip);
                }
            }
        }
    }

    fn mark(&mut self, n: usize, at: u64, glyph: Glyph, tip: String) {
        self.t.lanes[n].marks.push(Mark { at, glyph, tip });
    }

    /// A start: the down period before it ends; the restart mark says
    /// its incarnation, election timeout and epoch bump.
    fn started(&mut self, i: usize, e: &Event, n: usize, name: &str, (inc, ticks): (u64, u64)) {
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
            "{name} starts at {} (incarnation {inc}, election timeout {ticks} ticks)",
            secs(e.at_us),
        );
        // The start's epoch bump follows it in the trace.
        let bump = self.events[i + 1..]
            .iter()
            .take(8)
            .filter(|x| x.node == e.node)
            .find_map(|x| match Happened::of(x) {
                Happened::EpochBump { from, to } => Some((from, to)),
                _ => None,
            });
        if let Some((from, to)) = bump {
            let _ = write!(tip, "; local epoch {from} -> {to}");
        }
        self.mark(n, e.at_us, Glyph::Restart, tip);
    }

    /// A stop or a failed start: pause and leadership end, a down period
    /// begins (a crash mark unless the run's end stopped it).
    fn stopped(&mut self, at: u64, n: usize, name: &str, stop: Happened<'_>) {
        let Happened::Stop {
            reason,
            failed_start: failed,
        } = stop
        else {
            return;
        };
        let code = reason.map_or(u64::MAX, |r| r as u64);
        let reason_text = DOWN.get(code as usize).map_or("down", |d| d.0);
        if let Some(since) = self.paused_since[n].take() {
            self.t.lanes[n].paused.push(paused_span(name, since, at));
        }
        if let Some((leader, from, term)) = self.leading {
            if leader == n {
                let span = leader_span(name, from, at, term);
                self.t.lanes[n].leader.push(span);
                self.leading = None;
            }
        }
        let cause = std::mem::take(&mut self.last_crash_cause[n]);
        let mut tip = format!("{name} {reason_text} at {}", secs(at));
        if failed {
            tip.push_str(" (its start failed)");
        }
        let halted = reason == Some(Down::Halted);
        if let Some((index, kind)) = self.last_halt[n].filter(|_| halted) {
            let _ = write!(tip, ": halt {kind} at index {index}");
        }
        if !cause.is_empty() {
            let _ = write!(tip, ": {cause}");
        }
        // The run's end stops every node that is still up: no crash to
        // draw there.
        if reason == Some(Down::Crashed) && !stop.is_run_end_stop(at, self.run_end_us) {
            self.mark(n, at, Glyph::Crash, tip.clone());
        }
        self.down_since[n] = Some((at, code, tip));
    }

    /// An apply or a replay: counted in its bin, or a glyph for a
    /// registration or a halt (its outcome is the next event).
    fn applied(
        &mut self,
        i: usize,
        e: &Event,
        n: usize,
        name: &str,
        (index, term, replay): (u64, u64, bool),
    ) {
        let next = self.events.get(i + 1).filter(|x| x.node == e.node);
        let outcome = next.and_then(happened::outcome);
        let verb = if replay { "replays" } else { "applies" };
        match outcome {
            Some(o @ (Outcome::Kv | Outcome::Empty)) => {
                let bin_us = self.t.bin_us;
                let bin = self.t.lanes[n].bins.entry(e.at_us / bin_us).or_default();
                if bin.kv + bin.empty == 0 {
                    bin.first_index = index;
                }
                bin.last_index = index;
                if o == Outcome::Kv {
                    bin.kv += 1;
                } else {
                    bin.empty += 1;
                }
                bin.replays += u64::from(replay);
            }
            Some(o) if o.is_registration() => {
                let glyph = match o {
                    Outcome::Insert => Glyph::Insert,
                    Outcome::Advance => Glyph::Advance,
                    _ => Glyph::NoOp,
                };
                let row = self
                    .events
                    .get(i + 2)
                    .filter(|x| x.node == e.node)
                    .and_then(|x| match Happened::of(x) {
                        Happened::Row { bytes } => Some(row_text(bytes)),
                        _ => None,
                    })
                    .unwrap_or_default();
                let tip = format!(
                    "{name} {verb} a registration at index {index} (term {term}): {} at {}{row}",
                    o.name(),
                    secs(e.at_us)
                );
                self.mark(n, e.at_us, glyph, tip);
            }
            // A halt, or an outcome the run did not get to record.
            halt => {
                let what = halt.map_or("?", Outcome::name);
                self.last_halt[n] = Some((index, what));
                let tip = format!(
                    "{name} halts: {what} at index {index} (term {term}) at {}{}",
                    secs(e.at_us),
                    if replay {
                        ", in its startup replay"
                    } else {
                        ""
                    }
                );
                self.mark(n, e.at_us, Glyph::Halt, tip);
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
fn injected(h: Happened<'_>) -> Option<String> {
    Some(match h {
        Happened::InjectCollision { writer, dek } => {
            format!("proposes a colliding registration (full id {writer:#018x}, dek {dek})")
        }
        Happened::InjectMalformed { variant } => {
            format!("proposes a malformed entry (variant {variant})")
        }
        Happened::InjectExotic { opcode } => format!("proposes an entry with opcode {opcode:#04x}"),
        Happened::EpochPreset { epoch } => format!("has its epoch file preset to {epoch:#06x}"),
        Happened::StoreFaultFired { sync } => format!(
            "store fault fires on a {}",
            if sync { "sync" } else { "write" }
        ),
        _ => return None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use writer_registry_sim::scenario::Scenario;
    use writer_registry_sim::trace::kinds::{self, Kind};

    fn event(at_us: u64, node: u8, kind: &Kind, a: u64) -> Event {
        Event {
            at_us,
            node: Some(node),
            kind: kind.name(),
            a,
            b: 0,
            bytes: Vec::new(),
        }
    }

    fn crashes(t: &Timeline, node: usize) -> usize {
        let lane = &t.lanes[node];
        lane.marks
            .iter()
            .filter(|m| m.glyph == Glyph::Crash)
            .count()
    }

    /// The run's end (at 10 s) stops n1, still up, as a crash: nothing to
    /// draw. n2's start, failed by an armed crash at that same instant,
    /// is a crash; so is n3's before the end.
    #[test]
    fn the_run_s_end_draws_no_crash_but_a_start_it_failed_does() {
        let text = include_str!("../../../../../scenarios/default.toml");
        let sc = Scenario::parse(text, "default.toml").expect("the default scenario parses");
        let end = 10_000_000;
        let crashed = Down::Crashed as u64;
        let r = RunResult {
            seed: 0,
            runtime: Default::default(),
            trace_hash: 0,
            stats: writer_registry_sim::sim::Stats {
                virtual_us: end,
                ..Default::default()
            },
            violations: Vec::new(),
            findings: Vec::new(),
            justified_halts: 0,
            justified_refusals: 0,
            justifications: Vec::new(),
            ending: String::new(),
            trace_lines: Vec::new(),
            events: vec![
                event(0, 0, &kinds::START, 0),
                event(0, 2, &kinds::START, 0),
                event(5_000_000, 2, &kinds::STOP, crashed),
                event(end, 0, &kinds::STOP, crashed),
                event(end, 1, &kinds::START_FAILED, crashed),
            ],
            kept_data: None,
            marks: Default::default(),
        };
        let t = Timeline::build(&sc, &r);
        assert_eq!(crashes(&t, 0), 0, "stopped by the run's end");
        assert_eq!(crashes(&t, 1), 1, "a start the crash failed");
        assert_eq!(crashes(&t, 2), 1, "a crash before the end");
    }
}

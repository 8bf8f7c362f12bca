//! `start-sequence`: the judge of START-1..START-5. For each start it runs
//! the spec's sequence itself, on the node's model rows and the epoch file
//! on the harness's disk, and holds the node's outcome to it: a refusal
//! before any bump or replay where START-1/START-2 refuse; otherwise the
//! epoch file bumped and synced (START-3), a replay up to the commit index
//! on the harness's disk before a join (START-4), and the strict guard's
//! verdict after the replay (START-5), whatever order the node runs its
//! steps in.

use regsim_engine::oracle::checker::Checker;

use super::model::NodeModel;
use super::observation::{Observation, StartOutcome};
use super::reference::{Found, Shown};
use super::Violations;

/// The start judge of every node: the start each has in progress, judged
/// when it ends. It reads the node's model (the reference's) as the start
/// began, as each replayed entry applied and as the start ended.
#[derive(Debug)]
pub struct StartJudges {
    starts: Vec<Option<StartJudge>>,
}

impl StartJudges {
    /// No start in progress on any of `nodes`.
    pub fn new(nodes: u8) -> Self {
        StartJudges {
            starts: vec![None; usize::from(nodes)],
        }
    }
}

impl Checker<Shown<'_>> for StartJudges {
    fn observe(&mut self, at_us: u64, shown: &Shown<'_>, v: &mut Violations) {
        match (shown.what, shown.found) {
            // The reference has checked the reopened store and started
            // the model: START-1 and START-2 run on its rows.
            (
                &Observation::Started {
                    node,
                    full,
                    deks,
                    epoch,
                    disk_commit,
                    ..
                },
                _,
            ) => {
                let model = shown.reference.model(node);
                let judge = StartJudge::new(model, (full, deks), epoch, disk_commit);
                self.starts[usize::from(node)] = Some(judge);
            }
            (&Observation::Applied { node, rec, .. }, &Found::Apply(expected)) if rec.replay => {
                if let Some(judge) = &mut self.starts[usize::from(node)] {
                    judge.replayed(expected.halts());
                }
            }
            (
                &Observation::StartEnded {
                    node,
                    outcome,
                    epoch_file,
                },
                _,
            ) => {
                if let Some(judge) = self.starts[usize::from(node)].take() {
                    let model = shown.reference.model(node);
                    judge.ended((v, at_us, node), model, outcome, epoch_file);
                }
            }
            _ => {}
        }
    }
}

/// What the judge knows of a start in progress.
#[derive(Debug, Clone)]
struct StartJudge {
    full: u64,
    deks: Vec<u32>,
    /// The epoch file as START-1 reads it.
    epoch: u16,
    /// START-1/START-2's decision on the model's rows.
    before: Option<&'static str>,
    /// Entries the node applied during this start (its replay).
    replayed: u64,
    /// The commit index on the harness's disk as the start read it.
    disk_commit: u64,
    /// The model expects the replay to halt.
    model_halted: bool,
}

impl StartJudge {
    /// A start of the writer `full` under `deks` begins with its epoch
    /// file at `epoch` and `disk_commit` on its disk; `model` holds the
    /// rows it starts from.
    fn new(model: &NodeModel, (full, deks): (u64, &[u32]), epoch: u16, disk_commit: u64) -> Self {
        StartJudge {
            full,
            deks: deks.to_vec(),
            epoch,
            before: model.guard(full, deks, epoch, false),
            replayed: 0,
            disk_commit,
            model_halted: false,
        }
    }

    /// The start's replay applied an entry; the model expects it to halt
    /// (`halts`) or not.
    fn replayed(&mut self, halts: bool) {
        self.replayed += 1;
        self.model_halted |= halts;
    }

    /// The start ended with `outcome` and the epoch file at `epoch_file`
    /// (written, synced): was that the outcome the spec's sequence, run on
    /// `model`, gives?
    fn ended(
        self,
        (v, at_us, node): (&mut Violations, u64, u8),
        model: &NodeModel,
        outcome: StartOutcome,
        epoch_file: (u16, u16),
    ) {
        let j = self;
        let e = j.epoch;
        let mut wrong = |detail: String| v.push("start-sequence", Some(node), at_us, detail);
        if let Some(refusal) = j.before {
            let refused_first = outcome == StartOutcome::Refused(refusal)
                && j.replayed == 0
                && epoch_file == (e, e);
            if !refused_first {
                wrong(format!(
                    "epoch file {e}: START-1/START-2 refuse ({refusal}) before any bump or replay; the node ended {outcome:?} after {} replayed entries with its epoch file at {epoch_file:?}",
                    j.replayed
                ));
            }
            return;
        }
        if outcome == StartOutcome::Broken {
            return;
        }
        if epoch_file != (e + 1, e + 1) {
            wrong(format!(
                "epoch file {e}: START-3 bumps it to {} and syncs it before the replay; it holds {epoch_file:?} (written, synced)",
                e + 1
            ));
        }
        let applied = model.applied();
        if outcome == StartOutcome::Joined && applied < j.disk_commit {
            wrong(format!(
                "START-4 replays the held entries up to the commit index on disk ({}) before the join; the node joined with entries applied up to {applied}",
                j.disk_commit
            ));
        }
        let after = model.guard(j.full, &j.deks, e + 1, true);
        let agrees = match outcome {
            StartOutcome::Refused(r) => !j.model_halted && after == Some(r),
            StartOutcome::Joined => !j.model_halted && after.is_none(),
            StartOutcome::Halted => j.model_halted,
            StartOutcome::Crashed | StartOutcome::Broken => true,
        };
        if !agrees {
            let expected = if j.model_halted {
                "a halt in the replay".to_string()
            } else {
                match after {
                    Some(r) => format!("a START-5 refusal ({r})"),
                    None => "a join".to_string(),
                }
            };
            wrong(format!(
                "epoch file {e}: the spec's sequence on the model's rows gives {expected}; the node ended {outcome:?}"
            ));
        }
    }
}

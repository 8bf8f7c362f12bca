//! Replays every entry of the regression corpus in `seeds/`. A stale
//! entry (its scenario or the schedule format changed) is reported, not
//! failed; an entry that no longer shows what it records fails.

use std::path::Path;

use writer_registry_sim::corpus::{SeedEntry, Verdict};

#[test]
fn corpus_entries_still_hold() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files: Vec<_> = std::fs::read_dir(root.join("seeds"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "seeds/ holds no entries");
    let mut broken = Vec::new();
    for path in &files {
        let shown = path.display().to_string();
        let entry = SeedEntry::parse(&std::fs::read_to_string(path).unwrap(), &shown).unwrap();
        match entry.check(&root) {
            Verdict::Holds(r) => eprintln!("ok     {shown} (trace {:016x})", r.trace_hash),
            Verdict::Stale(why) => {
                eprintln!("STALE  {shown}: {why} (re-record it with regsim record)")
            }
            Verdict::NeedsMutants => eprintln!(
                "SKIP   {shown}: runs a mutant; replayed by `cargo test -p writer-registry-sim --features mutants`"
            ),
            Verdict::Harness(e) => {
                eprintln!("HARNESS {shown}: {e}");
                broken.push(format!("{shown}: harness error: {e}"));
            }
            Verdict::Broken(why) => {
                eprintln!("BROKEN {shown}: {why}");
                broken.push(format!("{shown}: {why}"));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "corpus entries no longer hold:\n{}",
        broken.join("\n")
    );
}

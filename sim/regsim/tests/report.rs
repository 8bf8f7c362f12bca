//! The HTML report of one run, checked as a reader would use it: a lane
//! per node, the violation marked on the timeline and explained below it,
//! each node's registry rows at that moment (decoded, and in the hex
//! `regsim inspect row` takes), a well-formed page that needs nothing
//! from the network, and text that cannot break out of it.

use std::process::Command;

use regsim::html::{render, rows_at, Meta};
use writer_registry_sim::oracle::Violation;
use writer_registry_sim::run::{run_seed, schedule_for, RunOptions, RunResult};
use writer_registry_sim::scenario::Scenario;

// The integration tests' helpers, shared with the simulator's own tests
// (sim/tests) rather than copied.
#[path = "../../tests/common/mod.rs"]
mod common;
use common::{root, scenario};

/// restart-storm with nothing allowed: its replay-window finding (seed 0
/// shows it) becomes a `finding-not-allowed:` violation, a failing run
/// without the mutants feature.
fn strict_restart_storm() -> Scenario {
    let mut sc = scenario("restart-storm");
    sc.findings.allowed.clear();
    sc.findings.expected.clear();
    sc
}

fn run(sc: &Scenario, seed: u64, keep_events: bool) -> RunResult {
    let mut opts = RunOptions::for_scenario(sc);
    opts.keep_events = keep_events;
    run_seed(sc, seed, &opts).unwrap()
}

fn page(sc: &Scenario, r: &RunResult) -> String {
    let schedule = schedule_for(sc, r.seed).unwrap();
    let meta = Meta {
        source: "scenarios/restart-storm.toml",
        replay: "regsim replay --scenario scenarios/restart-storm.toml --seed 0",
        mutant: None,
        registry: sc.registry,
        schedule: &schedule,
    };
    render(&meta, sc, r)
}

/// The opening tag of the element whose attributes hold `needle`, through
/// its matching closing tag.
fn element<'a>(html: &'a str, needle: &str) -> &'a str {
    let at = html
        .find(needle)
        .unwrap_or_else(|| panic!("no element with {needle}"));
    let open = html[..at].rfind('<').unwrap();
    let name: String = html[open + 1..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let mut depth = 0;
    for (i, tag) in tags(&html[open..]) {
        match tag {
            Tag::Open(n) if n == name => depth += 1,
            Tag::Close(n) if n == name => {
                depth -= 1;
                if depth == 0 {
                    let end = open + i + html[open + i..].find('>').unwrap() + 1;
                    return &html[open..end];
                }
            }
            _ => {}
        }
    }
    panic!("{name} with {needle} is never closed")
}

#[derive(Debug, PartialEq)]
enum Tag {
    Open(String),
    Close(String),
}

/// HTML void elements: never closed.
const VOID: [&str; 4] = ["meta", "br", "!doctype", "input"];

/// The tags of a document, each with its byte offset: self-closing tags
/// (`<x/>`) and void elements are left out, comments and text skipped.
fn tags(html: &str) -> Vec<(usize, Tag)> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(lt) = html[i..].find('<') {
        let at = i + lt;
        let gt = at
            + html[at..]
                .find('>')
                .unwrap_or_else(|| panic!("unterminated tag at byte {at}"));
        let inner = &html[at + 1..gt];
        i = gt + 1;
        if inner.ends_with('/') {
            continue;
        }
        let (closing, rest) = match inner.strip_prefix('/') {
            Some(rest) => (true, rest),
            None => (false, inner),
        };
        let name: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        if VOID.contains(&name.as_str()) {
            continue;
        }
        if name == "style" && !closing {
            // CSS is text: jump to its end.
            i = at + html[at..].find("</style>").expect("style closed");
        }
        out.push((
            at,
            if closing {
                Tag::Close(name)
            } else {
                Tag::Open(name)
            },
        ));
    }
    out
}

/// Every opened tag is closed, in order: the first mismatch, if any.
fn balanced(html: &str) -> Result<(), String> {
    let mut stack: Vec<(usize, String)> = Vec::new();
    for (at, tag) in tags(html) {
        match tag {
            Tag::Open(name) => stack.push((at, name)),
            Tag::Close(name) => match stack.pop() {
                Some((_, open)) if open == name => {}
                Some((oat, open)) => {
                    return Err(format!(
                        "</{name}> at byte {at} closes <{open}> opened at byte {oat}"
                    ))
                }
                None => return Err(format!("</{name}> at byte {at} closes nothing")),
            },
        }
    }
    match stack.pop() {
        Some((at, name)) => Err(format!("<{name}> at byte {at} is never closed")),
        None => Ok(()),
    }
}

fn count(html: &str, needle: &str) -> usize {
    html.matches(needle).count()
}

#[test]
fn a_failing_run_shows_lanes_the_marked_violation_and_the_rows() {
    let sc = strict_restart_storm();
    let r = run(&sc, 0, true);
    assert!(!r.passed(), "seed 0 shows the replay-window finding");
    let v = &r.violations[0];
    assert!(
        v.oracle
            .starts_with("finding-not-allowed:unjustified-halt:rollback"),
        "{v}"
    );
    let html = page(&sc, &r);

    // The seed's own schedule: its events, its scenario's fault phase.
    let events = schedule_for(&sc, 0).unwrap().events.len();
    assert!(
        html.contains(&format!("<dt>schedule</dt><dd>{events} events (")),
        "{events} events"
    );
    assert!(html.contains(&format!(
        "faults end at {:.3} s",
        sc.duration_ms as f64 / 1e3
    )));
    assert!(!html.contains("shrunk or edited"));

    // One lane per node, in order, and no other.
    let svg = element(&html, "id=\"timeline\"");
    assert_eq!(count(svg, "class=\"lane node\""), usize::from(sc.nodes));
    for n in 1..=sc.nodes {
        let lane = element(svg, &format!("id=\"lane-n{n}\""));
        assert!(
            lane.contains(&format!(">n{n}</text>")),
            "lane n{n} labelled"
        );
        // Every node of a restart storm starts, and registers.
        assert!(lane.contains(&format!("n{n} starts at")), "n{n}: no start");
        assert!(
            lane.contains("a registration at index"),
            "n{n}: no registration"
        );
    }
    assert!(!svg.contains(&format!("id=\"lane-n{}\"", sc.nodes + 1)));
    // The halts the finding is about are drawn on the halted node's lane.
    let halted = usize::from(v.node.expect("the finding names its node")) + 1;
    assert!(element(svg, &format!("id=\"lane-n{halted}\"")).contains(" halts: rollback at index"));

    // The violation: a marker on the timeline that links to its
    // explanation, which names the oracle, the detail and what it means.
    let marker = element(svg, "id=\"marker-v1\"");
    assert!(marker.contains("class=\"violation-marker\""), "{marker}");
    assert!(marker.contains(&v.oracle), "{marker}");
    assert_eq!(
        count(svg, "class=\"violation-marker\""),
        r.violations.len().min(40)
    );
    assert!(html.contains("<a href=\"#violation-1\">"));
    let explained = element(&html, "id=\"violation-1\"");
    assert!(explained.contains(&v.oracle), "{explained}");
    assert!(explained.contains(&v.detail), "{explained}");
    assert!(explained.contains(&format!("on n{halted}")), "{explained}");
    assert!(
        explained.contains("does not allow"),
        "the meaning of the oracle: {explained}"
    );

    // The rows at the violation: the halted writer's own row holds the
    // last_seen its replayed registration fell below ("below its
    // last_seen 3 (owner 0x...)" in the detail), decoded and in hex.
    let owner = v
        .detail
        .split("(owner ")
        .nth(1)
        .unwrap()
        .trim_end_matches(')');
    let last_seen: u16 = v.detail.split("last_seen ").nth(1).unwrap()[..1]
        .parse()
        .unwrap();
    // Each node's applied index beside its rows: the halted node's is the
    // one before its halt ("halt at index N" in the detail), and it is
    // down (its start failed); another's is its last apply or replay by
    // then that did not halt.
    let halt_index: u64 = v
        .detail
        .strip_prefix("halt at index ")
        .and_then(|d| d.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no halt index in {}", v.detail));
    assert!(
        html.contains(&format!(
            "<h3>n{halted} <span class=\"note\">(3 rows; applied index {}, down; the node the verdict names)",
            halt_index - 1
        )),
        "{:?}",
        html.lines()
            .filter(|l| l.starts_with("<h3>"))
            .collect::<Vec<_>>()
    );
    for n in (0..sc.nodes).filter(|&n| usize::from(n) + 1 != halted) {
        let e = &r.events;
        let last = (0..e.len() - 1)
            .rfind(|&i| {
                e[i].node == Some(n)
                    && e[i].at_us <= v.at_us
                    && (e[i].kind == "apply" || e[i].kind == "replay")
                    && ["kv", "empty", "insert", "advance", "no-op"].contains(&e[i + 1].kind)
            })
            .map(|i| e[i].a)
            .unwrap();
        assert!(
            html.contains(&format!(
                "<h3>n{} <span class=\"note\">(3 rows; applied index {last})",
                n + 1
            )),
            "n{}: applied index {last}",
            n + 1
        );
    }
    let table = element(&html, &format!("id=\"rows-n{halted}\""));
    let row = table
        .split("<tr title=")
        .find(|tr| tr.contains(owner))
        .unwrap_or_else(|| panic!("no row of {owner} in {table}"));
    assert!(row.contains(&format!("<td>{last_seen}</td>")), "{row}");
    assert!(row.contains(&format!("(n{halted})")), "owner named: {row}");
    // Every row's hex is what `regsim inspect row` takes, and decodes to
    // the fields shown beside it.
    let mut rows = 0;
    for n in 1..=sc.nodes {
        let table = element(&html, &format!("id=\"rows-n{n}\""));
        for tr in table.split("<tr title=\"regsim inspect row ").skip(1) {
            rows += 1;
            let (key, rest) = tr.split_once(' ').unwrap();
            let value = &rest[..rest.find('"').unwrap()];
            let decoded = writer_registry_sim::inspect::row(key, value).unwrap();
            assert!(decoded.starts_with("key: dek 1 "), "{decoded}");
            assert!(
                tr.contains(&format!("<td class=\"hex\">{key}</td>")),
                "{tr}"
            );
            assert!(
                tr.contains(&format!("<td class=\"hex\">{value}</td>")),
                "{tr}"
            );
            let seen = decoded
                .lines()
                .find(|l| l.starts_with("first_seen"))
                .unwrap();
            let (first, last) = seen
                .strip_prefix("first_seen: ")
                .and_then(|s| s.split_once(" last_seen: "))
                .unwrap();
            assert!(
                tr.contains(&format!("<td>{first}</td><td>{last}</td>")),
                "{seen} vs {tr}"
            );
        }
    }
    assert!(
        rows >= usize::from(sc.nodes),
        "every node's own row, on some node"
    );

    // A document that stands alone.
    assert!(html.starts_with("<!DOCTYPE html>"));
    balanced(&html).unwrap();
    balanced(svg).unwrap();
    let external: Vec<&str> = html
        .match_indices("http")
        .map(|(i, _)| &html[i..(i + 40).min(html.len())])
        .filter(|s| s.starts_with("http://") || s.starts_with("https://"))
        .filter(|s| !s.starts_with("http://www.w3.org/2000/svg\""))
        .collect();
    assert!(external.is_empty(), "external references: {external:?}");
    for needle in ["<script", "<link", "<img", "<iframe", "src=", "@import"] {
        assert!(!html.contains(needle), "{needle} in the page");
    }
    assert_eq!(
        count(&html, "url("),
        count(&html, "url(#"),
        "only local urls"
    );
}

/// The labels above the timeline: (x, baseline, anchored at its end,
/// text), text unescaped.
fn labels(svg: &str) -> Vec<(f64, f64, bool, String)> {
    let attr = |tag: &str, name: &str| -> String {
        let at = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        tag[at..at + tag[at..].find('"').unwrap()].to_string()
    };
    svg.split("<text class=\"label\"")
        .skip(1)
        .map(|t| {
            let (tag, rest) = t.split_once('>').unwrap();
            let text = rest[..rest.find("</text>").unwrap()]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&amp;", "&");
            (
                attr(tag, "x").parse().unwrap(),
                attr(tag, "y").parse().unwrap(),
                attr(tag, "text-anchor") == "end",
                text,
            )
        })
        .collect()
}

/// The ids a label names: `V1`, `V3 V4`, `V5–V8` (a range).
fn named_ids(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text.split([' ', ',']) {
        let range = word.split_once('\u{2013}');
        let (from, to) = range.unwrap_or((word, word));
        let number = |id: &str| id.get(1..).and_then(|n| n.parse::<usize>().ok());
        if let (Some(a), Some(b)) = (number(from), number(to)) {
            let letter = &from[..1];
            out.extend((a..=b).map(|n| format!("{letter}{n}")));
        }
    }
    out
}

#[test]
fn labels_of_verdicts_close_in_time_do_not_overlap() {
    // Seed 0's nine violations: V2 to V8 within two seconds of a
    // twenty-second run, a few pixels apart.
    let sc = strict_restart_storm();
    let r = run(&sc, 0, true);
    assert_eq!(r.violations.len(), 9);
    let html = page(&sc, &r);
    // The labels are in a monospace face: no character is wider than
    // 0.62 em at 11 px whatever the face, so a label's width is known.
    assert!(html.contains(
        "svg text.label{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}"
    ));
    let svg = element(&html, "id=\"timeline\"");
    let labels = labels(svg);
    let boxes: Vec<(f64, f64, f64, &str)> = labels
        .iter()
        .map(|(x, y, end, text)| {
            let w = text.chars().count() as f64 * 11.0 * 0.62;
            let (a, b) = if *end { (x - w, *x) } else { (*x, x + w) };
            (*y, a, b, text.as_str())
        })
        .collect();
    for (i, &(y, a, b, text)) in boxes.iter().enumerate() {
        for &(y2, a2, b2, text2) in &boxes[i + 1..] {
            assert!(
                y != y2 || b <= a2 || b2 <= a,
                "{text:?} ({a:.1}..{b:.1}) overlaps {text2:?} ({a2:.1}..{b2:.1}) at y {y}"
            );
        }
    }
    // Every violation is named by a label, once.
    let mut named: Vec<String> = labels.iter().flat_map(|l| named_ids(&l.3)).collect();
    named.sort_by_key(|id| id[1..].parse::<usize>().unwrap());
    let all: Vec<String> = (1..=9).map(|n| format!("V{n}")).collect();
    assert_eq!(named, all, "{labels:?}");
    // And the timeline leaves room above the lanes for every row.
    let lowest = labels.iter().map(|l| l.1).fold(0.0, f64::max);
    let network = element(svg, "id=\"lane-cluster\"");
    let lane_top: f64 = network
        .split("<rect x=\"56\" y=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .and_then(|y| y.parse().ok())
        .unwrap_or_else(|| panic!("{network}"));
    assert!(
        lowest + 3.0 <= lane_top,
        "labels down to {lowest}, lanes from {lane_top}"
    );
}

#[test]
fn the_checker_catches_an_unclosed_tag() {
    assert!(balanced("<p><b>x</b></p><br><meta charset=x><svg><g/></svg>").is_ok());
    assert!(balanced("<p><b>x</p>").is_err());
    assert!(balanced("<svg><g></svg>").is_err());
    assert!(balanced("<p>").is_err());
}

#[test]
fn text_from_the_run_cannot_break_out_of_the_page() {
    let sc = strict_restart_storm();
    let mut r = run(&sc, 0, true);
    let hostile = "<script>alert('x')</script> & \"quoted\"";
    r.violations.insert(
        0,
        Violation {
            oracle: "conformance</text><script>".into(),
            node: Some(0),
            at_us: 1_000_000,
            detail: hostile.into(),
        },
    );
    let html = page(&sc, &r);
    assert!(!html.contains("<script"), "raw markup reached the page");
    // maud escapes `&`, `<`, `>` and `"`; every attribute it writes is
    // in double quotes, so `'` stays as it is.
    assert!(html.contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; &quot;quoted&quot;"));
    balanced(&html).unwrap();
}

#[test]
fn a_passing_default_run_renders_small_and_its_rows_track_the_stores() {
    let sc = scenario("default");
    let r = run(&sc, 0, true);
    // Keeping events (and the restores' row scans) changes nothing the
    // run hashes.
    assert_eq!(r.trace_hash, run(&sc, 0, false).trace_hash);
    assert!(r.passed(), "{:?}", r.violations);
    assert!(r.stats.snapshot_installs > 0, "seed 0 installs snapshots");
    let html = page(&sc, &r);
    assert!(
        html.len() < 400_000,
        "{} bytes for a default seed",
        html.len()
    );
    balanced(&html).unwrap();
    assert_eq!(count(&html, "class=\"lane node\""), usize::from(sc.nodes));
    assert!(html.contains("installed from the leader"));
    assert!(html.contains("Every oracle passed"));
    assert!(!html.contains("violation-marker"));
    // The rows a page shows fold row changes onto the last scan; at every
    // stop of a running node the store's own scan must equal that fold
    // (seed 7 installs a snapshot that brings rows the node never applied).
    // An armed crash that fired inside an apply left a write without its
    // row event: the scan at that stop is what corrects the fold.
    let mut checked = 0;
    for seed in [0, 7] {
        let r = run(&sc, seed, true);
        let e = &r.events;
        for (j, scan) in e.iter().enumerate().filter(|(_, x)| x.kind == "rows") {
            let node = scan.node.unwrap();
            let before: Vec<&str> = e[..j]
                .iter()
                .rev()
                .filter(|x| x.node == Some(node))
                .take(3)
                .map(|x| x.kind)
                .collect();
            if before.starts_with(&["state", "stop"]) && before.get(2) != Some(&"armed-crash-fired")
            {
                checked += 1;
                let folded = rows_at(&e[..j], node, u64::MAX);
                let scanned = rows_at(std::slice::from_ref(scan), node, u64::MAX);
                assert_eq!(
                    folded,
                    scanned,
                    "seed {seed}: n{} at {}us",
                    node + 1,
                    scan.at_us
                );
            }
        }
    }
    assert!(checked >= 10, "only {checked} stops checked");
}

fn regsim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_regsim"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

#[test]
fn the_command_writes_the_page_and_exits_like_replay() {
    let dir = tempfile::tempdir().unwrap();
    let strict = common::strict_restart_storm_file(dir.path());
    let out = dir.path().join("run.html");
    let o = regsim(&[
        "report",
        "--scenario",
        strict.to_str().unwrap(),
        "--seed",
        "0",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("wrote report"), "{stdout}");
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("id=\"marker-v1\""));
    assert!(html.contains("replay --scenario"), "the replay command");

    // A seeds/ entry.
    let out = dir.path().join("entry.html");
    let o = regsim(&[
        "report",
        "--schedule",
        "seeds/restart-storm-0-shrunk.toml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(out.exists(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("wrote report"));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("regsim -- replay --scenario scenarios/restart-storm.toml --schedule seeds/restart-storm-0-shrunk.toml"));
    // The page describes the shrunk run (its events and where its fault
    // phase ended, read here from the file), not the scenario's runs.
    let entry: toml::Table =
        std::fs::read_to_string(root().join("seeds/restart-storm-0-shrunk.toml"))
            .unwrap()
            .parse()
            .unwrap();
    let events = entry["schedule"]["events"].as_array().unwrap();
    let end = events
        .iter()
        .find(|e| e["kind"].as_str() == Some("end-of-faults"))
        .and_then(|e| e["at_us"].as_integer())
        .unwrap();
    let dd = &html[html.find("<dt>schedule</dt>").unwrap()..];
    let dd = &dd[..dd.find("</dd>").unwrap()];
    assert!(dd.contains(&format!("{} events (", events.len())), "{dd}");
    assert!(
        dd.contains(&format!("faults end at {:.3} s", end as f64 / 1e6)),
        "{dd}"
    );
    let nominal = format!(
        "{:.3} s",
        scenario("restart-storm").duration_ms as f64 / 1e3
    );
    assert!(
        dd.contains(&format!("the scenario's fault phase is {nominal}")),
        "{dd}"
    );
    assert!(
        html.contains(&format!(
            "Of the scenario's {nominal} runs (not this one): "
        )),
        "the description is the scenario's"
    );

    // Bad input: one line naming the file, exit 2, no page.
    let missing = dir.path().join("missing.toml");
    let o = regsim(&[
        "report",
        "--scenario",
        missing.to_str().unwrap(),
        "--seed",
        "0",
        "--out",
        dir.path().join("x.html").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("missing.toml"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let unwritable = dir.path().join("no-such-dir/run.html");
    let o = regsim(&[
        "report",
        "--seed",
        "0",
        "--out",
        unwritable.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no-such-dir/run.html"), "{stderr}");
    assert!(stderr.contains("cannot write the report"), "{stderr}");
}

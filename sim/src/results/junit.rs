//! `junit.xml`: one test case per run, one suite per scenario and
//! runtime, for CI systems that show test results.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{Outcome, Record, Source};

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 allows no other control characters.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

#[derive(Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    ms: u64,
}

impl Counts {
    fn add(&mut self, r: &Record) {
        self.tests += 1;
        self.ms += r.wall_ms;
        match r.outcome {
            Outcome::Pass => {}
            Outcome::Fail => self.failures += 1,
            Outcome::Interrupted => self.skipped += 1,
            Outcome::HarnessError | Outcome::Timeout | Outcome::Nondeterministic => {
                self.errors += 1
            }
        }
    }

    fn attrs(&self) -> String {
        format!(
            "tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\"",
            self.tests,
            self.failures,
            self.errors,
            self.skipped,
            self.ms as f64 / 1000.0
        )
    }
}

fn testcase(x: &mut String, r: &Record) {
    let scenario = escape(&r.scenario);
    let runtime = r.runtime.name();
    let mutant = r
        .mutant
        .as_deref()
        .map(|m| format!(" mutant {m}"))
        .unwrap_or_default();
    let _ = write!(
        x,
        "    <testcase name=\"seed {}{}\" classname=\"regsim.{scenario}.{runtime}\" time=\"{:.3}\"",
        r.seed,
        escape(&mutant),
        r.wall_ms as f64 / 1000.0
    );
    let body = || {
        let mut b = String::new();
        for v in &r.violations {
            let node = v.node.map(|n| format!(" n{}", n + 1)).unwrap_or_default();
            // As the run's own report prints it: seconds of virtual time.
            let at = v.at_us as f64 / 1e6;
            let _ = writeln!(b, "{}{node} at {at:.6}s: {}", v.oracle, v.detail);
        }
        if let Some(e) = &r.error {
            let _ = writeln!(b, "{e}");
        }
        let _ = write!(b, "replay: {}", r.replay);
        escape(&b)
    };
    let message = escape(r.signature.as_deref().or(r.error.as_deref()).unwrap_or(""));
    let kind = escape(r.oracle.as_deref().unwrap_or("harness"));
    match r.outcome {
        Outcome::Pass => x.push_str("/>\n"),
        Outcome::Fail => {
            let _ = writeln!(
                x,
                ">\n      <failure message=\"{message}\" type=\"{kind}\">{}</failure>\n    </testcase>",
                body()
            );
        }
        Outcome::Interrupted => x.push_str(
            ">\n      <skipped message=\"interrupted before it ended\"/>\n    </testcase>\n",
        ),
        Outcome::HarnessError | Outcome::Timeout | Outcome::Nondeterministic => {
            let _ = writeln!(
                x,
                ">\n      <error message=\"{message}\" type=\"{kind}\">{}</error>\n    </testcase>",
                body()
            );
        }
    }
}

/// The JUnit XML of the records in `source`: one suite per scenario and
/// runtime, one test case per run. It reads the source once to count and
/// once per suite, so a long sweep's records are never all in memory.
pub fn junit_xml(source: Source) -> Result<String, String> {
    let mut total = Counts::default();
    let mut suites: BTreeMap<(String, &'static str), Counts> = BTreeMap::new();
    source.each(&mut |r| {
        total.add(r);
        suites
            .entry((r.scenario.clone(), r.runtime.name()))
            .or_default()
            .add(r);
    })?;
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(x, "<testsuites name=\"regsim\" {}>", total.attrs());
    for ((scenario, runtime), counts) in &suites {
        let _ = writeln!(
            x,
            "  <testsuite name=\"{} ({runtime})\" {}>",
            escape(scenario),
            counts.attrs()
        );
        source.each(&mut |r| {
            if &r.scenario == scenario && r.runtime.name() == *runtime {
                testcase(&mut x, r);
            }
        })?;
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::HarnessError;
    use crate::results::{Issue, Origin};
    use crate::run::Runtime;

    #[test]
    fn every_run_is_a_test_case_and_text_is_escaped() {
        let origin = Origin {
            scenario: "a<b".into(),
            scenario_path: "scenarios/x.toml".into(),
            runtime: Runtime::Native,
            registry: "memory".into(),
            mutant: None,
        };
        let mut fail =
            origin.harness_error(2, &HarnessError::Environment("x".into()), 5, "r".into());
        fail.outcome = Outcome::Fail;
        fail.oracle = Some("durability".into());
        fail.signature = Some("durability: row & \"key\"".into());
        fail.violations = vec![Issue {
            oracle: "durability".into(),
            node: Some(1),
            at_us: 9,
            detail: "lost <row>".into(),
        }];
        let mut pass = fail.clone();
        pass.outcome = Outcome::Pass;
        pass.seed = 1;
        let err = origin.harness_error(
            3,
            &HarnessError::Timeout(std::time::Duration::from_secs(1)),
            5,
            "r".into(),
        );
        let x = junit_xml(Source::Memory(&[pass, fail, err])).unwrap();
        assert!(x.contains("tests=\"3\" failures=\"1\" errors=\"1\""), "{x}");
        assert_eq!(x.matches("<testcase ").count(), 3);
        assert!(x.contains("name=\"a&lt;b (native)\""));
        assert!(x.contains("durability: row &amp; &quot;key&quot;"));
        assert!(x.contains("n2 at 0.000009s: lost &lt;row&gt;"), "{x}");
        assert!(!x.contains("<row>"));
        assert_eq!(
            x.matches("<testsuite ").count(),
            x.matches("</testsuite>").count()
        );
    }
}

//! `junit.xml`: one test case per run, one suite per scenario and
//! runtime, for CI systems that show test results. quick-junit holds the
//! model, counts the outcomes and escapes the XML.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{Outcome, Record, Source};

/// A run as a test case: named by its seed (and mutant), classed by its
/// scenario and runtime; a failure or an error carries the signature,
/// the violations in the run's own words and the replay command.
fn testcase(r: &Record) -> TestCase {
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
        b
    };
    let not_passed = |kind| {
        let mut status = TestCaseStatus::non_success(kind);
        status
            .set_message(r.signature.as_deref().or(r.error.as_deref()).unwrap_or(""))
            .set_type(r.oracle.as_deref().unwrap_or("harness"))
            .set_description(body());
        status
    };
    let status = match r.outcome {
        Outcome::Pass => TestCaseStatus::success(),
        Outcome::Fail => not_passed(NonSuccessKind::Failure),
        Outcome::Interrupted => {
            let mut status = TestCaseStatus::skipped();
            status.set_message("interrupted before it ended");
            status
        }
        Outcome::HarnessError | Outcome::Timeout | Outcome::Nondeterministic => {
            not_passed(NonSuccessKind::Error)
        }
    };
    let mutant = r
        .mutant
        .as_deref()
        .map(|m| format!(" mutant {m}"))
        .unwrap_or_default();
    let mut case = TestCase::new(format!("seed {}{mutant}", r.seed), status);
    case.set_classname(format!("regsim.{}.{}", r.scenario, r.runtime.name()))
        .set_time(Duration::from_millis(r.wall_ms));
    case
}

/// The JUnit XML of the records in `source`: one suite per scenario and
/// runtime, one test case per run, read in one pass. The test cases are
/// held until the file is written (a few hundred bytes a run, not the
/// records themselves).
pub fn junit_xml(source: Source) -> Result<String, String> {
    let mut suites: BTreeMap<(String, &'static str), (TestSuite, u64)> = BTreeMap::new();
    source.each(&mut |r| {
        let (suite, ms) = suites
            .entry((r.scenario.clone(), r.runtime.name()))
            .or_insert_with(|| {
                let name = format!("{} ({})", r.scenario, r.runtime.name());
                (TestSuite::new(name), 0)
            });
        suite.add_test_case(testcase(r));
        *ms += r.wall_ms;
    })?;
    let mut report = Report::new("regsim");
    let mut total_ms = 0;
    for (mut suite, ms) in suites.into_values() {
        suite.set_time(Duration::from_millis(ms));
        total_ms += ms;
        report.add_test_suite(suite);
    }
    report.set_time(Duration::from_millis(total_ms));
    report
        .to_string()
        .map_err(|e| format!("junit.xml: cannot write: {e}"))
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
        fail.signature = Some("durability: row & \"key\" 'k'".into());
        fail.violations = vec![Issue {
            oracle: "durability".into(),
            node: Some(1),
            at_us: 9,
            // A bell and a terminal colour: no XML 1.0 document may hold
            // either.
            detail: "lost <row>\u{7} \u{1b}[31mred".into(),
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
        assert!(x.contains("tests=\"3\""), "{x}");
        assert!(x.contains("failures=\"1\" errors=\"1\""), "{x}");
        assert_eq!(x.matches("<testcase ").count(), 3);
        assert!(x.contains("name=\"a&lt;b (native)\""), "{x}");
        assert!(
            x.contains("durability: row &amp; &quot;key&quot; &apos;k&apos;"),
            "{x}"
        );
        assert!(x.contains("n2 at 0.000009s: lost &lt;row&gt; red"), "{x}");
        assert!(!x.contains("<row>"));
        assert!(
            !x.chars()
                .any(|c| c < ' ' && !matches!(c, '\n' | '\t' | '\r')),
            "a control character: {x:?}"
        );
        assert_eq!(
            x.matches("<testsuite ").count(),
            x.matches("</testsuite>").count()
        );
        // What a CI system reads back is the text as written (less the
        // control characters), escaped once, not twice.
        let back = quick_junit::Report::deserialize_from_str(&x).unwrap();
        let suite = &back.test_suites[0];
        assert_eq!(suite.name.as_str(), "a<b (native)");
        let failed = suite
            .test_cases
            .iter()
            .find(|c| c.name.as_str() == "seed 2")
            .unwrap();
        let TestCaseStatus::NonSuccess {
            message,
            description,
            ..
        } = &failed.status
        else {
            panic!("{failed:?}")
        };
        assert_eq!(message.as_deref(), Some("durability: row & \"key\" 'k'"));
        assert_eq!(
            description.as_deref(),
            Some("durability n2 at 0.000009s: lost <row> red\nenvironment: x\nreplay: r")
        );
        assert_eq!(failed.time, Some(std::time::Duration::from_millis(5)));
    }
}

//! Bad scenario files get errors naming the file, the key and what was
//! expected; unknown keys are rejected.

use writer_registry_sim::scenario::Scenario;

const GOOD: &str = r#"
name = "t"
nodes = 3
duration_ms = 1000
tick_ms = 10
election_ticks = [10, 20]
heartbeat_ticks = 2
deks = [1]
policy = "atomic"
registry = "memory"
liveness_bound_ms = 1000
"#;

fn err(text: &str) -> String {
    Scenario::parse(text, "scenarios/t.toml")
        .unwrap_err()
        .to_string()
}

#[test]
fn a_minimal_file_parses_with_defaults() {
    let sc = Scenario::parse(GOOD, "t").unwrap();
    assert_eq!(sc.faults.crashes, 0);
    assert_eq!(sc.network.drop_rate, 0.0);
}

#[test]
fn unknown_keys_are_rejected_with_the_file_and_key() {
    let e = err(&format!("{GOOD}\ncrashes = 3\n"));
    assert!(
        e.contains("scenarios/t.toml") && e.contains("crashes"),
        "{e}"
    );
    let e = err(&format!("{GOOD}\n[faults]\ncrash = 3\n"));
    assert!(e.contains("crash") && e.contains("unknown field"), "{e}");
}

#[test]
fn wrong_types_name_the_key_and_the_expected_type() {
    let e = err(&GOOD.replace("nodes = 3", "nodes = \"three\""));
    assert!(
        e.contains("scenarios/t.toml") && e.contains("nodes") && e.contains("u8"),
        "{e}"
    );
    let e = err(&GOOD.replace("policy = \"atomic\"", "policy = \"eventual\""));
    assert!(e.contains("policy") && e.contains("faithful"), "{e}");
}

#[test]
fn out_of_range_values_name_the_key() {
    let e = err(&GOOD.replace("nodes = 3", "nodes = 2"));
    assert!(e.contains("key `nodes`"), "{e}");
    let e = err(&format!("{GOOD}\n[network]\ndrop_rate = 1.5\n"));
    assert!(e.contains("network.drop_rate"), "{e}");
    let e = err(&GOOD.replace("deks = [1]", "deks = []"));
    assert!(e.contains("key `deks`"), "{e}");
}

#[test]
fn a_missing_file_names_the_path() {
    let e = Scenario::load(std::path::Path::new("scenarios/nope.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("scenarios/nope.toml"), "{e}");
}

//! End to end: a gate that checks nothing does not pass quietly. A selection that leaves
//! no policy is an error naming the flags (or configuration keys) that emptied it; an
//! input without a data store is said on stderr and in the reports, and fails the run
//! with `--min-datastores`; `scan` of an account with no data store behaves the same.

mod collect_support;

use collect_support::*;
use hlaudit_e2e::{hlaudit, run};
use hlaudit_emulator::Faults;
use serde_json::Value;

const DEMO: &str = "fixtures/demo/snapshot.json";
/// `aws healthlake list-fhir-datastores` of a region without data stores.
const EMPTY_LIST: &str = "fixtures/snapshots/empty-list.json";

#[test]
fn a_selection_that_leaves_no_policy_exits_2_naming_its_flags() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["--skip", "HL-*"],
            "`--skip HL-*` removes every one of the 39 policies loaded",
        ),
        (&["--only", "NOPE-*"], "`--only NOPE-*` removes every one"),
        // The built-in pack has no critical policy.
        (
            &["--only", "HL-ENC-*", "--min-severity", "critical"],
            "`--only HL-ENC-*`, `--min-severity critical` together remove every one",
        ),
        (&["--framework", "PCI-DSS"], "`--framework PCI-DSS` removes"),
    ];
    for (flags, want) in cases {
        let out = run(hlaudit().args(["check", DEMO]).args(flags));
        assert_eq!(out.code, Some(2), "{flags:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("error: no policy to evaluate: ") && out.stderr.contains(want),
            "{flags:?}: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "no report: {}", out.stdout);
    }
}

#[test]
fn a_configuration_file_that_skips_everything_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hlaudit.yaml");
    std::fs::write(&config, "skip: [\"HL-*\"]\n").unwrap();
    let out = run(hlaudit().args(["check", DEMO, "--config"]).arg(&config));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    let want = format!("`skip: [HL-*]` in {} removes every one", config.display());
    assert!(out.stderr.contains(&want), "{}", out.stderr);
}

#[test]
fn an_input_without_data_stores_is_loud_and_passes_unless_min_datastores() {
    let out = run(hlaudit().args(["check", "--format", "json", EMPTY_LIST]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "warning[nothing-checked]: Nothing was checked: the input holds no data store."
        ) && out.stderr.contains("--min-datastores 1"),
        "{}",
        out.stderr
    );
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["summary"]["nothingChecked"], "no-data-stores");
    assert_eq!(report["summary"]["dataStores"], 0);

    let out = run(hlaudit().args(["check", EMPTY_LIST]));
    assert!(
        out.stdout
            .contains("Nothing was checked: the input holds no data store."),
        "the terminal report says so too: {}",
        out.stdout
    );

    // With --min-datastores the run fails, and the reports are still written.
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("hlaudit.sarif");
    let out = run(hlaudit()
        .args(["check", "--format", "none", "--min-datastores", "1", "-o"])
        .arg(format!("sarif={}", sarif.display()))
        .arg(EMPTY_LIST));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("error: the inventory holds 0 data stores, fewer than --min-datastores 1"),
        "{}",
        out.stderr
    );
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let note = &log["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
    assert_eq!(note["level"], "warning", "{log}");
    assert_eq!(note["descriptor"]["id"], "hlaudit/no-data-stores");
}

#[test]
fn min_datastores_counts_the_inventory_and_can_come_from_the_configuration() {
    // The demo holds 40 data stores and fails policies on purpose (exit 1).
    let out = run(hlaudit().args(["check", "--format", "none", "--min-datastores", "40", DEMO]));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let out = run(hlaudit().args(["check", "--format", "none", "--min-datastores", "41", DEMO]));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("the inventory holds 40 data stores, fewer than --min-datastores 41"),
        "{}",
        out.stderr
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hlaudit.yaml");
    std::fs::write(&config, "min_datastores: 1\n").unwrap();
    let out = run(hlaudit()
        .args(["check", "--format", "none", EMPTY_LIST, "--config"])
        .arg(&config));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    // The flag wins over the file.
    let out = run(hlaudit()
        .args([
            "check",
            "--format",
            "none",
            "--min-datastores",
            "0",
            EMPTY_LIST,
            "--config",
        ])
        .arg(&config));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

#[test]
fn scan_of_an_account_without_data_stores_is_loud_and_fails_with_min_datastores() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(Vec::new(), Faults::default());
    let out = run(aws_command("scan", &emu.endpoint_url(), dir.path()).args([
        "--regions",
        "us-east-1",
        "--format",
        "json",
    ]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains("warning[nothing-checked]"),
        "{}",
        out.stderr
    );
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["summary"]["nothingChecked"], "no-data-stores");

    let out = run(aws_command("scan", &emu.endpoint_url(), dir.path()).args([
        "--regions",
        "us-east-1",
        "--format",
        "none",
        "--min-datastores",
        "1",
    ]));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("fewer than --min-datastores 1"),
        "{}",
        out.stderr
    );
}

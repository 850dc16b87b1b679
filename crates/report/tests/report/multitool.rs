//! Every SARIF file the suite writes passes Microsoft's SARIF multitool `validate` with
//! the SARIF and GitHub Advanced Security (`Ghas`) rule kinds, without errors.
//!
//! The multitool is installed by `.ci/setup-node.sh` into `.ci/node_modules`; when it is
//! missing this test fails and says so (it never passes without validating).

use std::path::{Path, PathBuf};
use std::process::Command;

use hlaudit_model::report::Report;
use hlaudit_model::{Severity, Status};
use hlaudit_report::baseline::{apply_baseline, Baseline};
use hlaudit_report::json::JsonReport;
use hlaudit_report::sarif::{self, SarifOptions};
use serde_json::Value;

use crate::{fixture, repo_root, FIXTURES};

/// The multitool's rule kinds: the SARIF spec rules and GitHub's ingestion rules. The
/// npm package's launcher passes its arguments through a shell, so the `;` is quoted.
const RULE_KINDS: &str = "\"Sarif;Ghas\"";

fn multitool_installed(root: &Path) -> bool {
    root.join(".ci/node_modules/.bin/sarif-multitool").exists()
}

/// Runs `validate` on the files and returns the validator's error-level results.
fn validate(root: &Path, files: &[PathBuf], out: &Path) -> Vec<String> {
    let mut cmd = Command::new("npx");
    cmd.current_dir(root)
        .args([
            "--prefix",
            ".ci",
            "--no",
            "--",
            "sarif-multitool",
            "validate",
        ])
        .args(["--rule-kind", RULE_KINDS])
        .args(["--log", "ForceOverwrite"])
        .arg("--output")
        .arg(out)
        .args(files);
    let output = cmd.output().expect("npx runs");
    let log_text = std::fs::read_to_string(out).unwrap_or_else(|e| {
        panic!(
            "the multitool wrote no log ({e}); status {}\nstdout:\n{}\nstderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let log: Value = serde_json::from_str(&log_text).unwrap();
    let mut problems = Vec::new();
    for run in log["runs"].as_array().into_iter().flatten() {
        // The validator's own execution problems (an unreadable file, a crash) count too.
        for inv in run["invocations"].as_array().into_iter().flatten() {
            for n in inv["toolExecutionNotifications"]
                .as_array()
                .into_iter()
                .flatten()
            {
                problems.push(format!("tool notification: {}", n["message"]["text"]));
            }
        }
        for r in sarif::results_of(&serde_json::json!({ "runs": [run] })) {
            let level = r["level"].as_str().unwrap_or("warning");
            if level == "error" {
                let file = &r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
                problems.push(format!(
                    "{} {} in {file}: {}",
                    r["ruleId"].as_str().unwrap_or("?"),
                    level,
                    r["message"]
                ));
            }
        }
    }
    problems
}

#[test]
fn every_sarif_the_suite_writes_passes_the_multitool_with_github_rules() {
    let root = repo_root();
    assert!(
        multitool_installed(&root),
        "the SARIF multitool is not installed: run `bash .ci/setup-node.sh` (it installs \
         @microsoft/sarif-multitool into .ci/node_modules)"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let options = SarifOptions {
        working_dir: Some(root.clone()),
        base_dir: Some(root.clone()),
        ..SarifOptions::default()
    };
    for name in FIXTURES {
        let report = fixture(name);
        for part in sarif::write_all(&report, &options).unwrap() {
            let path = sarif::part_path(&dir.path().join(format!("{name}.sarif")), &part.suffix);
            std::fs::write(&path, &part.bytes).unwrap();
            files.push(path);
        }
    }
    // A report compared with a baseline: new, unchanged, updated and absent (fixed)
    // results, the last written as passes.
    let compared = with_baseline_states(fixture("mixed"));
    let mut states = std::collections::BTreeSet::new();
    for part in sarif::write_all(&compared, &options).unwrap() {
        let log: Value = serde_json::from_slice(&part.bytes).unwrap();
        for run in log["runs"].as_array().unwrap() {
            for r in run["results"].as_array().unwrap() {
                states.insert(r["baselineState"].as_str().unwrap_or("-").to_owned());
            }
        }
        let path = sarif::part_path(&dir.path().join("baseline.sarif"), &part.suffix);
        std::fs::write(&path, &part.bytes).unwrap();
        files.push(path);
    }
    assert_eq!(
        states.into_iter().collect::<Vec<_>>(),
        ["absent", "new", "unchanged", "updated"]
    );
    // A split report: several runs and files.
    let split = SarifOptions {
        max_results_per_run: 4,
        max_runs_per_file: 3,
        ..options.clone()
    };
    let parts = sarif::write_all(&crate::sarif::big_report(30), &split).unwrap();
    assert!(parts.len() > 1);
    for part in parts {
        let path = sarif::part_path(&dir.path().join("split.sarif"), &part.suffix);
        std::fs::write(&path, &part.bytes).unwrap();
        files.push(path);
    }
    let problems = validate(&root, &files, &dir.path().join("validation.sarif"));
    assert!(
        problems.is_empty(),
        "the SARIF multitool found errors:\n{}",
        problems.join("\n")
    );
}

/// `report` compared with an earlier run in which every PASS was a FAIL (so those are now
/// fixed: `absent`), one FAIL had another severity (`updated`) and one FAIL was missing
/// (`new`); the other failures are `unchanged`.
fn with_baseline_states(mut report: Report) -> Report {
    let mut earlier = report.clone();
    let mut fails = earlier
        .findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.status == Status::Fail)
        .map(|(i, _)| i);
    let (updated, new) = (fails.next().unwrap(), fails.next().unwrap());
    earlier.findings[updated].severity = Severity::Info;
    for f in &mut earlier.findings {
        if f.status == Status::Pass {
            f.status = Status::Fail;
        }
    }
    earlier.findings.remove(new);
    let baseline = Baseline::from_report(&JsonReport::from_report(&earlier, None).unwrap());
    let outcome = apply_baseline(&mut report, &baseline);
    assert!(outcome.new >= 1 && outcome.updated >= 1 && outcome.unchanged >= 1);
    assert!(
        outcome.fixed >= 1,
        "the fixture has passing findings to turn absent"
    );
    report
}

#[test]
fn the_multitool_check_can_fail() {
    // A log GitHub would refuse (no results' locations, no rules, a wrong schema) must be
    // reported, or the test above proves nothing.
    let root = repo_root();
    assert!(
        multitool_installed(&root),
        "the SARIF multitool is not installed: run `bash .ci/setup-node.sh`"
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.sarif");
    std::fs::write(
        &bad,
        r#"{"version":"2.1.0","$schema":"https://example.com/x.json","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"ruleId":"R1","message":{"text":"m"}}]}]}"#,
    )
    .unwrap();
    let problems = validate(&root, &[bad], &dir.path().join("validation.sarif"));
    assert!(!problems.is_empty());
}

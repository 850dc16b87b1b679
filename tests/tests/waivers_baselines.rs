//! End to end: waivers, the configuration file, baselines, `--fail-on-new` and `diff`,
//! through the real binary, each shown by the exit code it changes.
//!
//! The fixtures (`fixtures/waivers/`): three data stores, two policies. At the pinned
//! evaluation time, `b` fails WV-ENC-01 (high), `c` fails WV-ENC-01 (high) and WV-AUTH-01
//! (medium); `fixtures/baselines/before.json` is the same inventory when only `b` failed.

// Test helpers: a test cannot go on without the report it reads, so failing loudly is right.
#![allow(clippy::expect_used)]

use std::path::Path;

use hlaudit_e2e::{hlaudit, run, Run};
use hlaudit_testkit::report::{Report, Status};

const SNAPSHOT: &str = "fixtures/waivers/snapshot.json";
const BEFORE: &str = "fixtures/baselines/before.json";
const AS_OF: &str = "2026-06-01T00:00:00Z";

/// `hlaudit check SNAPSHOT` with the fixture policies, the pinned time and no
/// configuration file, plus `extra`.
fn check(snapshot: &str, extra: &[&str]) -> Run {
    let mut cmd = hlaudit();
    cmd.args([
        "check",
        snapshot,
        "--no-builtin",
        "--rules",
        "fixtures/waivers/policies.yaml",
        "--as-of",
        AS_OF,
        "--no-config",
    ]);
    cmd.args(extra);
    run(&mut cmd)
}

fn json_report(path: &Path) -> Report {
    Report::read(path)
}

/// (policy id, data store id) -> (status, baseline state) of a JSON report.
fn states(report: &Report) -> Vec<(String, String, String)> {
    report
        .findings
        .iter()
        .filter_map(|f| {
            let baseline = f.baseline.clone()?;
            Some((
                format!("{}@{}", f.policy.id, &f.resource().id[..1]),
                f.status.to_string(),
                baseline,
            ))
        })
        .collect()
}

#[test]
fn a_waiver_turns_exit_1_into_0_and_marks_findings_waived() {
    let plain = check(SNAPSHOT, &[]);
    assert_eq!(plain.code, Some(1), "{}{}", plain.stdout, plain.stderr);

    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("r.json");
    let o = format!("json={}", json.display());
    let waived = check(
        SNAPSHOT,
        &["--waivers", "fixtures/waivers/waivers.yaml", "-o", &o],
    );
    assert_eq!(waived.code, Some(0), "{}{}", waived.stdout, waived.stderr);
    assert!(waived.stdout.contains("WAIVED (3)"), "{}", waived.stdout);
    // The sandbox waiver ends on June 10: within the 14-day window.
    assert!(
        waived.stdout.contains("expiring-waiver"),
        "{}",
        waived.stdout
    );
    assert!(
        waived.stdout.contains("fixtures/waivers/waivers.yaml:9"),
        "{}",
        waived.stdout
    );
    let report = json_report(&json);
    let w: Vec<_> = report.with_status(Status::Waived).collect();
    assert_eq!(w.len(), 3);
    assert!(
        w.iter().all(|f| f
            .waiver
            .as_ref()
            .is_some_and(|w| !w.approved_by.is_empty() && !w.reason.is_empty())),
        "{w:?}"
    );

    // A shorter window lists nothing as expiring; --no-waivers brings the failure back.
    let quiet = check(
        SNAPSHOT,
        &[
            "--waivers",
            "fixtures/waivers/waivers.yaml",
            "--warn-expiring",
            "3",
        ],
    );
    assert_eq!(quiet.code, Some(0));
    assert!(
        !quiet.stdout.contains("expiring-waiver"),
        "{}",
        quiet.stdout
    );
    let none = check(
        SNAPSHOT,
        &["--waivers", "fixtures/waivers/waivers.yaml", "--no-waivers"],
    );
    assert_eq!(
        none.code,
        Some(2),
        "--waivers and --no-waivers conflict: {}",
        none.stderr
    );
}

#[test]
fn an_expired_waiver_keeps_exit_1_and_warns_with_its_location() {
    let out = check(SNAPSHOT, &["--waivers", "fixtures/waivers/expired.yaml"]);
    assert_eq!(out.code, Some(1), "{}{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("WAIVED"), "{}", out.stdout);
    assert!(out.stdout.contains("expired-waiver"), "{}", out.stdout);
    assert!(
        out.stdout.contains("fixtures/waivers/expired.yaml:3:5"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("2 findings are FAIL again"),
        "{}",
        out.stdout
    );

    // The same run replayed at the end of the last day: the waivers still apply.
    let mut cmd = hlaudit();
    cmd.args([
        "check",
        SNAPSHOT,
        "--no-builtin",
        "--rules",
        "fixtures/waivers/policies.yaml",
        "--no-config",
        "--waivers",
        "fixtures/waivers/expired.yaml",
        "--as-of",
        "2026-01-31T23:59:59Z",
        "--format",
        "json",
    ]);
    let replay = run(&mut cmd);
    assert_eq!(replay.code, Some(0), "{}", replay.stderr);
    // With JSON on stdout the waiver warnings go to stderr.
    assert!(
        replay.stderr.contains("warning[expiring-waiver]"),
        "{}",
        replay.stderr
    );
}

#[test]
fn the_configuration_file_drives_the_run_and_flags_override_it() {
    let base = [
        "check",
        SNAPSHOT,
        "--as-of",
        AS_OF,
        "--config",
        "fixtures/waivers/hlaudit.yaml",
    ];
    let out = run(hlaudit().args(base));
    assert_eq!(
        out.code,
        Some(0),
        "waivers from the configuration: {}{}",
        out.stdout,
        out.stderr
    );
    let out = run(hlaudit().args(base).arg("--no-waivers"));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let out = run(hlaudit()
        .args(base)
        .args(["--no-waivers", "--fail-on", "critical"]));
    assert_eq!(
        out.code,
        Some(0),
        "--fail-on overrides the file's fail_on: {}",
        out.stderr
    );

    let bad = run(hlaudit().args(["check", SNAPSHOT, "--config", "fixtures/config/bad.yaml"]));
    assert_eq!(bad.code, Some(2));
    assert!(
        bad.stderr.contains("fixtures/config/bad.yaml:2:1"),
        "{}",
        bad.stderr
    );
    assert!(
        bad.stderr.contains("did you mean `fail_on`?"),
        "{}",
        bad.stderr
    );
    assert!(
        bad.stderr
            .contains("8 problems found in the configuration file"),
        "{}",
        bad.stderr
    );
}

#[test]
fn baselines_mark_states_and_fail_on_new_gates_only_new_failures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let before = dir.path().join("before.json");
    let after = dir.path().join("after.json");
    let out = check(
        BEFORE,
        &[
            "--format",
            "none",
            "-o",
            &format!("json={}", before.display()),
        ],
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let out = check(
        SNAPSHOT,
        &[
            "--format",
            "none",
            "-o",
            &format!("json={}", after.display()),
        ],
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);

    // A baseline that already holds every finding: 0 with --fail-on-new, 1 without.
    let b = after.display().to_string();
    assert_eq!(
        check(SNAPSHOT, &["--baseline", &b, "--fail-on-new"]).code,
        Some(0)
    );
    assert_eq!(check(SNAPSHOT, &["--baseline", &b]).code, Some(1));

    // Against the earlier run, c's failures are new: 1 even with --fail-on-new.
    let marked = dir.path().join("marked.json");
    let out = check(
        SNAPSHOT,
        &[
            "--baseline",
            &before.display().to_string(),
            "--fail-on-new",
            "-o",
            &format!("json={}", marked.display()),
        ],
    );
    assert_eq!(out.code, Some(1), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("2 new, 1 unchanged, 0 updated, 0 fixed"),
        "{}",
        out.stderr
    );
    // New findings come first in the terminal report.
    let high = out.stdout.split("HIGH (2)").nth(1).unwrap_or_default();
    let first = high
        .lines()
        .find(|l| l.contains("WV-ENC-01"))
        .unwrap_or_default();
    assert!(first.contains("[new]"), "{}", out.stdout);
    assert_eq!(
        states(&json_report(&marked)),
        [
            // Report order: policy id, then ARN (eu-west-2 sorts before us-east-1).
            (
                "WV-AUTH-01@c".to_owned(),
                "FAIL".to_owned(),
                "new".to_owned()
            ),
            (
                "WV-ENC-01@c".to_owned(),
                "FAIL".to_owned(),
                "new".to_owned()
            ),
            (
                "WV-ENC-01@b".to_owned(),
                "FAIL".to_owned(),
                "unchanged".to_owned()
            ),
        ]
    );
    // With --fail-on critical nothing new is severe enough.
    let out = check(
        SNAPSHOT,
        &[
            "--baseline",
            &before.display().to_string(),
            "--fail-on-new",
            "--fail-on",
            "critical",
        ],
    );
    assert_eq!(out.code, Some(0));

    // Going back: c's findings are fixed (absent), carried by its PASS findings.
    let back = dir.path().join("back.json");
    let out = check(
        BEFORE,
        &[
            "--baseline",
            &b,
            "--format",
            "none",
            "-o",
            &format!("json={}", back.display()),
        ],
    );
    assert_eq!(out.code, Some(1));
    let s = states(&json_report(&back));
    assert!(
        s.contains(&(
            "WV-ENC-01@c".to_owned(),
            "PASS".to_owned(),
            "absent".to_owned()
        )),
        "{s:?}"
    );
    assert!(
        s.contains(&(
            "WV-AUTH-01@c".to_owned(),
            "PASS".to_owned(),
            "absent".to_owned()
        )),
        "{s:?}"
    );

    // --fail-on-new without a baseline is a usage error.
    let out = check(SNAPSHOT, &["--fail-on-new"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("needs a baseline"), "{}", out.stderr);
}

#[test]
fn diff_lists_new_fixed_and_changed_and_gates_on_new_failures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let before = dir.path().join("before.json");
    let after = dir.path().join("after.json");
    let waived = dir.path().join("waived.json");
    check(
        BEFORE,
        &[
            "--format",
            "none",
            "-o",
            &format!("json={}", before.display()),
        ],
    );
    check(
        SNAPSHOT,
        &[
            "--format",
            "none",
            "-o",
            &format!("json={}", after.display()),
        ],
    );
    check(
        SNAPSHOT,
        &[
            "--waivers",
            "fixtures/waivers/waivers.yaml",
            "--format",
            "none",
            "-o",
            &format!("json={}", waived.display()),
        ],
    );
    let (b, a, w) = (
        before.display().to_string(),
        after.display().to_string(),
        waived.display().to_string(),
    );

    let out = run(hlaudit().args(["diff", &b, &a]));
    assert_eq!(
        out.code,
        Some(1),
        "a new high FAIL: {}{}",
        out.stdout,
        out.stderr
    );
    assert!(
        out.stdout.contains("NEW (2)") && out.stdout.contains("FIXED (0)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .ends_with("2 new, 0 fixed, 0 changed, 1 unchanged\n"),
        "{}",
        out.stdout
    );

    let out = run(hlaudit().args(["diff", &a, &b, "--format", "json"]));
    assert_eq!(out.code, Some(0), "only fixes: {}", out.stderr);
    let d: serde_json::Value = serde_json::from_str(&out.stdout).expect("diff JSON");
    assert_eq!(d["fixed"].as_array().map(Vec::len), Some(2));
    assert_eq!(d["new"].as_array().map(Vec::len), Some(0));

    // Waived, then no longer waived: changed, and it gates.
    let out = run(hlaudit().args(["diff", &w, &a, "--format", "markdown"]));
    assert_eq!(out.code, Some(1), "{}", out.stdout);
    assert!(out.stdout.contains("### Changed"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("| FAIL high | WAIVED high | WV-ENC-01 |"),
        "{}",
        out.stdout
    );
    let out = run(hlaudit().args(["diff", &a, &w]));
    assert_eq!(out.code, Some(0), "{}", out.stdout);

    let out = run(hlaudit().args(["diff", &b, "fixtures/waivers/snapshot.json"]));
    assert_eq!(
        out.code,
        Some(2),
        "a snapshot is not a report: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("not an hlaudit JSON report"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_json_report_written_as_version_2_holds_every_pair_and_diffs_clean_against_version_3() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v2 = dir.path().join("v2.json");
    let v3 = dir.path().join("v3.json");
    for (path, version) in [(&v2, "2"), (&v3, "3")] {
        let out = check(
            SNAPSHOT,
            &[
                "--format",
                "none",
                "--json-version",
                version,
                "-o",
                &format!("json={}", path.display()),
            ],
        );
        assert_eq!(out.code, Some(1), "{}", out.stderr);
    }
    let text = |p: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).expect("report")).expect("JSON")
    };
    let (old, new) = (text(&v2), text(&v3));
    assert_eq!(old["hlauditReport"], 2);
    assert_eq!(new["hlauditReport"], 3);
    // Version 2 lists every (policy, data store) pair as a finding, PASS ones included.
    let listed = |v: &serde_json::Value| v["findings"].as_array().map_or(0, Vec::len);
    assert_eq!(listed(&old), 6);
    assert!(listed(&new) < listed(&old), "{new}");
    assert!(old.get("outcomes").is_none());
    // Both read back as the same pairs.
    assert_eq!(
        states_and_statuses(&json_report(&v2)),
        states_and_statuses(&json_report(&v3))
    );
    let (a, b) = (v2.display().to_string(), v3.display().to_string());
    let out = run(hlaudit().args(["diff", &a, &b]));
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .ends_with("0 new, 0 fixed, 0 changed, 3 unchanged\n"),
        "{}",
        out.stdout
    );
    let out = run(hlaudit().args(["check", SNAPSHOT, "--json-version", "4"]));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("--json-version"), "{}", out.stderr);
}

/// (policy id, data store id, status) of every pair of a report, sorted.
fn states_and_statuses(report: &Report) -> Vec<(String, String, String)> {
    let mut pairs: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.policy.id.clone(),
                f.resource().id.clone(),
                f.status.to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

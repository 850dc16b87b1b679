//! End to end: `hlaudit check` exit codes (0 clean, 1 findings at or above `--fail-on`,
//! 2 anything unread or unevaluated, whatever `--fail-on` says) and the reports one run
//! writes with `-o FORMAT=PATH`, through the real binary.

use hlaudit_e2e::{hlaudit, run};
use hlaudit_testkit::report::{Report, Severity, Status};
use serde_json::Value;

const DEMO: &str = "fixtures/demo/snapshot.json";
/// An hlaudit snapshot whose collection failed in one region.
const WITH_COLLECTION_ERROR: &str = "fixtures/snapshots/hlaudit-snapshot.json";

fn json_report(args: &[&str]) -> (Option<i32>, Report) {
    let out = run(hlaudit().args(["check", "--format", "json"]).args(args));
    assert!(
        !out.stdout.is_empty(),
        "check --format json printed no JSON: {}",
        out.stderr
    );
    (out.code, Report::parse(&out.stdout))
}

/// FAIL findings of a JSON report at or above a severity.
fn fails_at_or_above(report: &Report, threshold: Severity) -> usize {
    report
        .with_status(Status::Fail)
        .filter(|f| f.severity >= threshold)
        .count()
}

#[test]
fn the_fail_on_threshold_decides_between_0_and_1() {
    let (code, report) = json_report(&[DEMO]);
    assert!(!report.summary.incomplete, "the demo reads completely");
    assert!(
        fails_at_or_above(&report, Severity::High) > 0,
        "the demo breaks high policies"
    );
    assert_eq!(code, Some(1), "default --fail-on high");
    for (threshold, severity) in [
        ("critical", Severity::Critical),
        ("high", Severity::High),
        ("medium", Severity::Medium),
        ("low", Severity::Low),
        ("info", Severity::Info),
    ] {
        let want = if fails_at_or_above(&report, severity) > 0 {
            1
        } else {
            0
        };
        let out = run(hlaudit().args(["check", "--format", "none", "--fail-on", threshold, DEMO]));
        assert_eq!(
            out.code,
            Some(want),
            "--fail-on {threshold}: {}",
            out.stderr
        );
    }
    let out = run(hlaudit().args(["check", "--fail-on", "none", DEMO]));
    assert_eq!(out.code, Some(0), "--fail-on none: {}", out.stderr);
    // The terminal report ends with the one-line summary.
    let last = out.stdout.lines().last().unwrap_or_default();
    assert!(
        last.contains("data stores") && last.contains("failed"),
        "{last}"
    );
}

#[test]
fn a_collection_error_exits_2_whatever_fail_on_says() {
    for fail_on in ["none", "critical", "high"] {
        let out = run(hlaudit().args(["check", "--fail-on", fail_on, WITH_COLLECTION_ERROR]));
        assert_eq!(out.code, Some(2), "--fail-on {fail_on}: {}", out.stderr);
        assert!(out.stdout.contains("ListFHIRDatastores"), "{}", out.stdout);
    }
    let (code, report) = json_report(&["--fail-on", "none", WITH_COLLECTION_ERROR]);
    assert_eq!(code, Some(2));
    assert!(report.summary.incomplete);
    assert!(report.summary.by_status["ERROR"] >= 1);
    assert!(report.with_status(Status::Error).count() >= 1);
}

#[test]
fn a_collection_error_is_on_stderr_when_the_report_is_not_for_a_person() {
    // The terminal view lists it itself; every other format (and none) leaves it to
    // stderr, so a CI log says why the run exits 2.
    for format in ["none", "json", "sarif"] {
        let out = run(hlaudit().args(["check", "--format", format, WITH_COLLECTION_ERROR]));
        assert_eq!(out.code, Some(2), "--format {format}: {}", out.stderr);
        let said: Vec<&str> = out.stderr.lines().collect();
        assert!(
            said.iter()
                .any(|l| l.starts_with("error[") && l.contains("ListFHIRDatastores")),
            "--format {format}: {}",
            out.stderr
        );
        assert!(
            said.iter()
                .any(|l| l.starts_with("error: 1 ERROR finding:") && l.contains("exits 2")),
            "--format {format}: {}",
            out.stderr
        );
    }
    let out = run(hlaudit().args(["check", WITH_COLLECTION_ERROR]));
    assert_eq!(out.code, Some(2));
    assert!(out.stdout.contains("ListFHIRDatastores"), "{}", out.stdout);
    assert!(!out.stderr.contains("ERROR finding"), "{}", out.stderr);
    // A complete input says nothing of the kind.
    let out = run(hlaudit().args(["check", "--format", "none", DEMO]));
    assert_eq!(out.code, Some(1));
    assert!(!out.stderr.contains("error"), "{}", out.stderr);
}

#[test]
fn an_unreadable_input_exits_2_and_names_it() {
    let out = run(hlaudit().args([
        "check",
        "--fail-on",
        "none",
        "fixtures/no-such-snapshot.json",
    ]));
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("no-such-snapshot.json"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_bad_output_spec_is_a_usage_error() {
    let out = run(hlaudit().args(["check", "-o", "pdf=report.pdf", DEMO]));
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("unknown report format"),
        "{}",
        out.stderr
    );
}

#[test]
fn one_run_writes_every_report_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let spec = |format: &str, name: &str| format!("{format}={}", path(name).display());
    let out = run(hlaudit().args([
        "check",
        "--format",
        "none",
        "-o",
        &spec("sarif", "hl.sarif"),
        "-o",
        &spec("junit", "hl.xml"),
        "-o",
        &spec("html", "hl.html"),
        "-o",
        &spec("json", "hl.json"),
        "-o",
        &spec("markdown", "hl.md"),
        DEMO,
    ]));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "--format none prints nothing");

    let report = Report::read(path("hl.json"));
    assert_eq!(report.hlaudit_report, Some(3));
    let results = report
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Error | Status::Waived))
        .count();
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(path("hl.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let sarif_results: usize = sarif["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["results"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(sarif_results, results);
    // Snapshot paths are relative to the working directory (the repository root).
    let uri = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
        ["artifactLocation"]["uri"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!uri.starts_with('/') && !uri.starts_with("file:"), "{uri}");

    let junit = std::fs::read_to_string(path("hl.xml")).unwrap();
    assert!(junit.starts_with("<?xml") && junit.contains("<failure"));
    let html = std::fs::read_to_string(path("hl.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("id=\"findings\""));
    let md = std::fs::read_to_string(path("hl.md")).unwrap();
    assert!(md.contains("### Failing policies"));
    // Nothing but the reports is left in the directory (no temporary files).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 5);
}

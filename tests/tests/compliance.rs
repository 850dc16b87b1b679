//! The compliance view in every report of one run: the JSON report's `compliance` field
//! says what the compliance CSV of the same run says (same controls in the same order,
//! same statuses, policies and counts), a control the demo fails is failing, a control no
//! policy maps to is NOT COVERED, and the HTML page and Markdown summary show the section.

// Test helpers: a report that lacks what the test reads is a failure, so failing loudly is right.
#![allow(clippy::expect_used, clippy::panic)]

use hlaudit_e2e::{hlaudit, run};
use hlaudit_testkit::report::Report;

const DEMO: &str = "fixtures/demo/snapshot.json";
const AS_OF: &str = "2026-11-28T09:30:00Z";

/// A control the demo fails: data stores encrypted with an AWS-owned key (HL-ENC-01).
const FAILING: (&str, &str) = ("HIPAA", "164.312(a)(2)(iv)");
/// A control no built-in policy maps to.
const NOT_COVERED: (&str, &str) = ("HIPAA", "164.308(a)(5)(i)");

/// The rows of an RFC 4180 file (quoted fields, doubled quotes, CRLF line ends).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

/// The CSV's label of a JSON status: `not-covered` -> `NOT COVERED`.
fn label(status: &str) -> String {
    status.replace('-', " ").to_uppercase()
}

#[test]
fn every_report_of_a_run_shows_the_same_compliance_view() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let out = run(hlaudit().args([
        "check",
        DEMO,
        "--as-of",
        AS_OF,
        "--format",
        "none",
        "-o",
        &format!("json={}", path("r.json")),
        "-o",
        &format!("html={}", path("r.html")),
        "-o",
        &format!("markdown={}", path("r.md")),
        "-o",
        &format!("compliance-csv={}", path("c.csv")),
    ]));
    assert_eq!(out.code, Some(1), "stderr:\n{}", out.stderr);

    let report = Report::read(path("r.json"));
    let view = report
        .compliance
        .as_ref()
        .expect("the JSON report has a `compliance` field");
    let csv = std::fs::read_to_string(path("c.csv")).unwrap();
    let rows = csv_rows(&csv);
    let json_rows: Vec<Vec<String>> = view
        .frameworks
        .iter()
        .flat_map(|f| {
            f.controls.iter().map(|c| {
                let n = c.counts;
                vec![
                    f.framework.clone(),
                    c.id.clone(),
                    c.title.clone(),
                    label(&c.status),
                    c.policies.join(" "),
                    n.passing.to_string(),
                    n.failing.to_string(),
                    n.waived.to_string(),
                    n.erroring.to_string(),
                    n.not_evaluated.to_string(),
                    f.title.clone(),
                    f.scope.clone(),
                ]
            })
        })
        .collect();
    assert!(json_rows.len() > 100, "both catalogues are listed");
    // A CSV cell starting like a formula gets an apostrophe; the catalogues have none.
    assert_eq!(rows[1..], json_rows[..]);

    let failing = view.control(FAILING.0, FAILING.1).unwrap();
    assert_eq!(failing.status, "failing");
    assert!(failing.policies.iter().any(|p| p == "HL-ENC-01"));
    assert!(failing.counts.failing > 0);
    let uncovered = view.control(NOT_COVERED.0, NOT_COVERED.1).unwrap();
    assert_eq!(uncovered.status, "not-covered");
    assert!(uncovered.policies.is_empty());
    assert_eq!(uncovered.counts, Default::default());

    let html = std::fs::read_to_string(path("r.html")).unwrap();
    assert!(html.contains("<section class=\"compliance\" id=\"compliance\">"));
    for (framework, id, status) in [
        (FAILING.0, FAILING.1, "failing"),
        (NOT_COVERED.0, NOT_COVERED.1, "not-covered"),
    ] {
        assert!(html.contains(&format!("data-framework=\"{framework}\"")));
        assert!(
            html.contains(&format!(
                "<tr data-control-status=\"{status}\"><td><span class=\"badge {status}\">{}</span></td><td class=\"nw\">{id}</td>",
                label(status)
            )),
            "{id} is shown {status}"
        );
    }

    let md = std::fs::read_to_string(path("r.md")).unwrap();
    assert!(md.contains("\n### Compliance\n"));
    assert!(md.contains(&format!("| FAILING | {} | ", FAILING.1)));
    assert!(md.contains(&format!("- {} ", NOT_COVERED.1)));
    assert!(md.contains("<details><summary>Not covered by any evaluated policy ("));
}

/// `--framework` chooses the frameworks the view shows, in the JSON report and the CSV
/// alike, and the view counts only the policies that map to them.
#[test]
fn the_framework_flag_chooses_the_frameworks_shown() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let out = run(hlaudit().args([
        "check",
        DEMO,
        "--as-of",
        AS_OF,
        "--framework",
        "hipaa",
        "--format",
        "none",
        "-o",
        &format!("json={}", path("r.json")),
        "-o",
        &format!("compliance-csv={}", path("c.csv")),
    ]));
    assert_eq!(out.code, Some(1), "stderr:\n{}", out.stderr);
    let report = Report::read(path("r.json"));
    let view = report.compliance.as_ref().unwrap();
    let names: Vec<&str> = view
        .frameworks
        .iter()
        .map(|f| f.framework.as_str())
        .collect();
    assert_eq!(names, ["HIPAA"]);
    let csv = std::fs::read_to_string(path("c.csv")).unwrap();
    let rows = csv_rows(&csv);
    assert!(rows.len() > 2);
    assert!(rows[1..].iter().all(|r| r[0] == "HIPAA"), "{csv}");
    let failing = view.control(FAILING.0, FAILING.1).unwrap();
    assert_eq!(failing.status, "failing");
}

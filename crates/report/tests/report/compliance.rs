//! The compliance CSV: a snapshot on the mixed fixture, and a real CSV reader's view of it.

use hlaudit_model::compliance::ComplianceView;
use hlaudit_report::compliance_csv;

use crate::{catalogue, fixture, render};

fn csv() -> String {
    let view = ComplianceView::build(&fixture("mixed"), &catalogue(), &[]);
    render(|out| compliance_csv::write(&view, out))
}

#[test]
fn compliance_csv_snapshot() {
    insta::assert_snapshot!(csv());
}

/// Python's `csv` module reads the file back as written: the same number of cells on every
/// row, quotes and line breaks restored, formulas defused.
#[test]
fn a_csv_reader_parses_it() {
    let text = csv();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.csv");
    std::fs::write(&path, &text).unwrap();
    let script = "import csv, json, sys\n\
                  rows = list(csv.reader(open(sys.argv[1], newline='')))\n\
                  print(json.dumps(rows))";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Vec<String>> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0], compliance_csv::HEADER);
    assert!(rows.iter().all(|r| r.len() == compliance_csv::HEADER.len()));
    let by_id = |id: &str| rows.iter().find(|r| r[1] == id).unwrap().clone();
    assert_eq!(by_id("164.316(a)")[2], "Policies, \"procedures\"\nand more");
    assert_eq!(by_id("164.316(a)")[3], "NOT COVERED");
    assert_eq!(by_id("164.310(b)")[2], "'=HYPERLINK(\"http://x\")");
}

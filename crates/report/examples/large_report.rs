//! Renders a synthetic report of N findings (default 100,000) in every format and prints
//! the time and size of each; run by `bench/report-formats.sh`.
//!
//! ```text
//! cargo run --release -p hlaudit-report --example large_report -- 100000 [--all-fail] [--out DIR]
//! ```
//!
//! `--all-fail` makes every finding a FAIL (so SARIF carries N results and splits at
//! GitHub's limits); `--out DIR` also writes the outputs there.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::time::Instant;

use hlaudit_model::finding::{Evidence, Finding, Severity, Status, Subject};
use hlaudit_model::report::{PolicyMeta, Report, Resource};
use hlaudit_model::{Inventory, Source, Timestamp};
use hlaudit_report::sarif::{self, SarifOptions};
use hlaudit_report::terminal::TerminalOptions;
use hlaudit_report::ReportError;

/// Every status in a realistic mix: mostly PASS, some FAIL, a few of the others.
fn status_of(i: usize, all_fail: bool) -> Status {
    if all_fail {
        return Status::Fail;
    }
    match i % 20 {
        0..=3 => Status::Fail,
        4 => Status::Skip,
        5 if i % 40 == 5 => Status::Waived,
        6 if i % 200 == 6 => Status::Error,
        _ => Status::Pass,
    }
}

fn build(findings: usize, all_fail: bool) -> Report {
    let mut report = Report::for_inventory(&Inventory::default(), Timestamp::now());
    let policies = 20;
    for p in 0..policies {
        report.policies.push(PolicyMeta {
            id: format!("HL-BENCH-{p:02}"),
            title: format!("Benchmark policy {p}"),
            severity: Severity::ALL[p % 5],
            description: "A policy of the benchmark.".into(),
            rationale: "Why it matters.".into(),
            remediation: "How to fix it.".into(),
            references: vec!["https://docs.aws.amazon.com/healthlake/".into()],
            compliance: BTreeMap::from([("HIPAA".to_owned(), vec!["164.312".to_owned()])]),
            tags: vec!["bench".into()],
            source: Some(Source {
                file: "rules/bench.yaml".into(),
                line: 10 + p as u32,
                column: 5,
            }),
        });
    }
    let stores = findings.div_ceil(policies);
    let regions = ["us-east-1", "us-west-2", "eu-west-2", "ap-southeast-2"];
    for i in 0..stores {
        let account = format!("{:012}", 100_000_000_000u64 + (i % 3) as u64);
        let region = regions[i % regions.len()];
        let id = format!("{i:032x}");
        report.resources.push(Resource {
            name: Some(format!("store-{i}")),
            status: Some("ACTIVE".into()),
            source: Some(Source {
                file: "snapshots/bench.json".into(),
                line: 1 + 40 * i as u32,
                column: 5,
            }),
            tags: None,
            ..Resource::datastore(&format!(
                "arn:aws:healthlake:{region}:{account}:datastore/fhir/{id}"
            ))
        });
    }
    for n in 0..findings {
        let policy = n % policies;
        let index = n / policies;
        let status = status_of(n, all_fail);
        let failing = matches!(status, Status::Fail | Status::Error | Status::Waived);
        let f = Finding::new(
            policy,
            Subject::Record { index },
            status,
            report.policies[policy].severity,
        );
        report.findings.push(if failing {
            f.with_detail(
                format!("Data store store-{index} violates policy {policy}."),
                vec![Evidence {
                    pointer: "/SseConfiguration/KmsEncryptionConfig/CmkType".into(),
                    found: Some(serde_json::json!("AWS_OWNED_KMS_KEY")),
                    expected: "equal to \"CUSTOMER_MANAGED_KMS_KEY\"".into(),
                    note: None,
                }],
            )
        } else {
            f
        });
    }
    report
}

fn measure(
    name: &str,
    out_dir: Option<&std::path::Path>,
    f: impl FnOnce() -> Result<Vec<Vec<u8>>, ReportError>,
) -> Result<(), ReportError> {
    let start = Instant::now();
    let files = f()?;
    let elapsed = start.elapsed();
    let bytes: usize = files.iter().map(Vec::len).sum();
    println!(
        "{name:<10} {:>8.1} ms {:>10.1} MiB in {} file(s)",
        elapsed.as_secs_f64() * 1000.0,
        bytes as f64 / (1024.0 * 1024.0),
        files.len()
    );
    if let Some(dir) = out_dir {
        for (i, data) in files.iter().enumerate() {
            let path = dir.join(format!("{name}.{i}"));
            std::fs::write(&path, data).map_err(|source| ReportError::Io {
                format: "benchmark",
                source,
            })?;
        }
    }
    Ok(())
}

fn one(
    f: impl FnOnce(&mut Vec<u8>) -> Result<(), ReportError>,
) -> Result<Vec<Vec<u8>>, ReportError> {
    let mut out = Vec::new();
    f(&mut out)?;
    Ok(vec![out])
}

fn main() -> Result<(), ReportError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let all_fail = args.iter().any(|a| a == "--all-fail");
    let out_dir = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from);
    let out_dir = out_dir.as_deref();
    let start = Instant::now();
    let report = build(n, all_fail);
    let results = report
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Error | Status::Waived))
        .count();
    println!(
        "{n} findings ({results} SARIF results), {} data stores, {} policies; built in {:.1} ms",
        report.resources.len(),
        report.policies.len(),
        start.elapsed().as_secs_f64() * 1000.0
    );
    let options = SarifOptions::default();
    measure("sarif", out_dir, || {
        Ok(sarif::write_all(&report, &options)?
            .into_iter()
            .map(|p| p.bytes)
            .collect())
    })?;
    measure("json", out_dir, || {
        one(|o| hlaudit_report::json::write(&report, None, o))
    })?;
    measure("junit", out_dir, || {
        one(|o| hlaudit_report::junit::write(&report, o))
    })?;
    measure("markdown", out_dir, || {
        one(|o| hlaudit_report::markdown::write(&report, None, o))
    })?;
    measure("html", out_dir, || {
        one(|o| hlaudit_report::html::write(&report, None, &Default::default(), o))
    })?;
    measure("terminal", out_dir, || {
        one(|o| hlaudit_report::terminal::write(&report, &TerminalOptions::default(), o))
    })?;
    Ok(())
}

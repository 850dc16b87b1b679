//! Nothing lost silently (issue 6): a region whose `NextToken` repeats and a region that
//! refuses access are recorded as collection errors, become ERROR findings and make the
//! run exit 2; with `--allow-partial` the rest is still collected and audited.

mod collect_support;

use collect_support::*;
use hlaudit_e2e::run;
use hlaudit_emulator::{Faults, RegionSet};
use hlaudit_testkit::report::{Report, Status};

const GOOD: &str = "us-east-1";
const LOOPING: &str = "eu-west-2";
const DENIED: &str = "ap-south-1";
const COUNT: usize = 250;

fn faulty_emulator() -> hlaudit_emulator::RunningEmulator {
    emulator(
        datastores(ACCOUNT, &[GOOD, LOOPING, DENIED], COUNT),
        Faults {
            next_token_loop: RegionSet::only([LOOPING]),
            access_denied: RegionSet::only([DENIED]),
            ..Faults::default()
        },
    )
}

fn regions() -> String {
    [GOOD, LOOPING, DENIED].join(",")
}

#[test]
fn a_pagination_loop_and_a_denied_region_are_errors_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let emu = faulty_emulator();
    let path = dir.path().join("partial.json");
    let out = run(aws_command("collect", &emu.endpoint_url(), dir.path())
        .args(["--regions", &regions(), "--page-size", "100", "-o"])
        .arg(&path));
    assert_eq!(out.code, Some(2), "stderr:\n{}", out.stderr);
    assert!(out.stderr.contains("pagination-loop"), "{}", out.stderr);
    assert!(
        out.stderr.contains("AccessDeniedException"),
        "{}",
        out.stderr
    );

    // The snapshot is still written: what was collected, and what was not.
    let inv = read_snapshot(&path);
    let mut errors: Vec<(&str, &str, &str)> = inv
        .errors
        .iter()
        .map(|e| {
            (
                e.region.as_deref().unwrap_or(""),
                e.operation.as_str(),
                e.code.as_str(),
            )
        })
        .collect();
    errors.sort_unstable();
    assert_eq!(
        errors,
        [
            (DENIED, "ListFHIRDatastores", "AccessDeniedException"),
            (LOOPING, "ListFHIRDatastores", "pagination-loop"),
        ]
    );
    let good: Vec<_> = inv
        .records
        .iter()
        .filter(|r| r.region() == Some(GOOD))
        .collect();
    assert_eq!(good.len(), COUNT, "the healthy region is complete");
    assert!(inv.records.iter().all(|r| r.region() != Some(DENIED)));
    // The looping region stopped at the first repeated token, without duplicates.
    let looped = inv
        .records
        .iter()
        .filter(|r| r.region() == Some(LOOPING))
        .count();
    assert!(looped < COUNT, "{looped}");
    let mut arns: Vec<&str> = inv.records.iter().filter_map(|r| r.arn()).collect();
    arns.sort_unstable();
    arns.dedup();
    assert_eq!(arns.len(), inv.records.len());
    // The loop guard stopped the listing: the looping region's requests are few.
    let looping_requests = emu
        .log()
        .iter()
        .filter(|e| e.region.as_deref() == Some(LOOPING) && e.operation == "ListFHIRDatastores")
        .count();
    assert!(looping_requests <= 3, "{looping_requests} requests");
    assert!(inv.coverage.regions.iter().any(|r| r == DENIED));

    // Checking that snapshot reports the same errors and exits 2.
    let check = run(hlaudit_e2e::hlaudit().arg("check").arg(&path));
    assert_eq!(
        check.code,
        Some(2),
        "stdout:\n{}\nstderr:\n{}",
        check.stdout,
        check.stderr
    );
}

#[test]
fn allow_partial_writes_the_rest_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let emu = faulty_emulator();
    let path = dir.path().join("partial.json");
    let out = run(aws_command("collect", &emu.endpoint_url(), dir.path())
        .args(["--regions", &regions(), "--allow-partial", "-o"])
        .arg(&path));
    assert_eq!(out.code, Some(0), "stderr:\n{}", out.stderr);
    assert!(out.stderr.contains("collection error"), "{}", out.stderr);
    let inv = read_snapshot(&path);
    assert_eq!(inv.errors.len(), 2);
    assert_eq!(
        inv.records
            .iter()
            .filter(|r| r.region() == Some(GOOD))
            .count(),
        COUNT
    );
}

/// The HLAUDIT-COLLECTION ERROR findings and the other findings of a JSON report.
fn split_findings(stdout: &str) -> (usize, usize) {
    let report = Report::parse(stdout);
    let errors = report
        .findings_of("HLAUDIT-COLLECTION")
        .filter(|f| f.status == Status::Error)
        .count();
    (errors, report.findings.len() - errors)
}

#[test]
fn scan_reports_collection_errors_and_exits_2_unless_allow_partial() {
    let dir = tempfile::tempdir().unwrap();
    let emu = faulty_emulator();
    let saved = dir.path().join("scan.json");
    let out = run(aws_command("scan", &emu.endpoint_url(), dir.path())
        .args([
            "--regions",
            &regions(),
            "--format",
            "json",
            "--save-snapshot",
        ])
        .arg(&saved));
    assert_eq!(
        out.code,
        Some(2),
        "stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(read_snapshot(&saved).errors.len(), 2);
    let (errors, others) = split_findings(&out.stdout);
    assert_eq!(errors, 2, "one ERROR finding per failed region");
    assert!(others > 0, "the collected data stores are audited");

    let out = run(aws_command("scan", &emu.endpoint_url(), dir.path()).args([
        "--regions",
        &regions(),
        "--format",
        "json",
        "--allow-partial",
    ]));
    assert!(
        matches!(out.code, Some(0 | 1)),
        "with --allow-partial the exit code follows the findings\nstderr:\n{}",
        out.stderr
    );
    let (errors, others) = split_findings(&out.stdout);
    assert_eq!(
        errors, 2,
        "the ERROR findings stay in the report with --allow-partial"
    );
    assert!(others > 0);
}

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

/// Rust debug renderings that must never reach a user's terminal (issue 17).
fn assert_no_debug_text(stderr: &str) {
    for debug in [
        "DispatchFailure(",
        "ConnectorError {",
        "CredentialsNotLoaded(",
        "{ source:",
    ] {
        assert!(
            !stderr.contains(debug),
            "debug text `{debug}` in:\n{stderr}"
        );
    }
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// No credentials anywhere: one line says what is missing and how to provide it, for
/// every region and STS at once; `-v` keeps the SDK's chain (issue 17).
#[test]
fn missing_credentials_are_said_once_with_how_to_provide_them() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(datastores(ACCOUNT, &[GOOD], 3), Faults::default());
    let collect = |verbose: bool| {
        let mut cmd = hlaudit_e2e::hlaudit();
        clean_aws_env(&mut cmd, dir.path());
        if verbose {
            cmd.arg("-v");
        }
        run(cmd
            .args([
                "collect",
                "--regions",
                &regions(),
                "--initial-backoff-ms",
                "1",
            ])
            .args(["--endpoint-url", &emu.endpoint_url(), "-o"])
            .arg(dir.path().join("none.json")))
    };
    let out = collect(false);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert_eq!(
        count(&out.stderr, "no AWS credentials found"),
        1,
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("aws sso login"), "{}", out.stderr);
    assert!(out.stderr.contains("AWS_ACCESS_KEY_ID"), "{}", out.stderr);
    assert!(
        out.stderr.contains("error[no-credentials]"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("caller-identity"), "{}", out.stderr);
    assert_no_debug_text(&out.stderr);
    assert!(emu.log().is_empty(), "nothing is sent without credentials");

    let verbose = collect(true);
    assert!(
        verbose.stderr.contains("no credentials found in chain"),
        "-v shows the SDK's chain:\n{}",
        verbose.stderr
    );
}

/// A closed port: the endpoint and "connection refused", once (issue 17).
#[test]
fn an_unreachable_endpoint_is_named_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let out = run(aws_command("collect", &endpoint, dir.path())
        .args(["--regions", &regions(), "--max-attempts", "2", "-o"])
        .arg(dir.path().join("refused.json")));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    let said = format!("cannot connect to the HealthLake endpoint {endpoint}: connection refused");
    assert_eq!(count(&out.stderr, &said), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("error[endpoint-unreachable]"),
        "{}",
        out.stderr
    );
    assert_no_debug_text(&out.stderr);
}

/// An expired session token and a denied action: the cause, the fix, once (issue 17).
#[test]
fn expired_credentials_and_denied_actions_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(
        datastores(ACCOUNT, &[GOOD, LOOPING, DENIED], 3),
        Faults {
            expired_token: RegionSet::only([GOOD, LOOPING]),
            access_denied: RegionSet::only([DENIED]),
            ..Faults::default()
        },
    );
    let out = run(aws_command("collect", &emu.endpoint_url(), dir.path())
        .args(["--regions", &regions(), "-o"])
        .arg(dir.path().join("expired.json")));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert_eq!(
        count(&out.stderr, "the credentials have expired"),
        1,
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("aws sso login"), "{}", out.stderr);
    assert!(
        out.stderr.contains("error[ExpiredTokenException]"),
        "{}",
        out.stderr
    );
    assert_eq!(
        count(
            &out.stderr,
            "may not call healthlake:ListFHIRDatastores in ap-south-1"
        ),
        1,
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("docs/collect.md"), "{}", out.stderr);
    assert_no_debug_text(&out.stderr);
}

/// A region where HealthLake has no endpoint (the name does not resolve, or there is no
/// network): named, with the regions that have one (issue 17).
#[test]
fn a_region_without_healthlake_is_named_with_the_offered_regions() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = hlaudit_e2e::hlaudit();
    clean_aws_env(&mut cmd, dir.path());
    let out = run(cmd
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .args([
            "collect",
            "--region",
            "xx-nowhere-1",
            "--no-caller-identity",
            "--no-kms",
        ])
        .args(["--max-attempts", "1", "-o"])
        .arg(dir.path().join("nowhere.json")));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("HealthLake has no endpoint in `xx-nowhere-1`")
            && out.stderr.contains("us-east-1"),
        "{}",
        out.stderr
    );
    assert_no_debug_text(&out.stderr);
}

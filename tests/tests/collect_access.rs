//! `hlaudit collect --check-access` against the emulator (issue 14): the cheapest call of
//! every permission in every region, what was denied named with its code and hint,
//! what could not be tested and why, nothing written, and exit 2 only when a permission
//! is missing. The organization and role case is in `collect_org.rs`.

mod collect_support;

use std::collections::BTreeSet;

use collect_support::*;
use hlaudit_collector::Permission;
use hlaudit_e2e::{repo_root, run};
use hlaudit_emulator::{Faults, RegionSet};
use serde_json::Value;

const LISTED: &str = "us-east-1";
const DENIED: &str = "eu-west-2";
const EMPTY: &str = "ca-central-1";

/// The (region, permission, result) of each check of a JSON answer, in order.
fn results(checks: &Value) -> Vec<(String, String, String)> {
    checks
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or("-").to_owned();
            (s("region"), s("permission"), s("result"))
        })
        .collect()
}

fn check(region: &str, permission: &str, result: &str) -> (String, String, String) {
    (region.to_owned(), permission.to_owned(), result.to_owned())
}

#[test]
fn denied_calls_are_named_untestable_ones_explained_and_nothing_is_written() {
    let records = datastores(ACCOUNT, &[LISTED, DENIED], 3);
    // Every data store of the listed region refuses its tags, so whichever is listed
    // first is refused.
    let denied_tags: BTreeSet<String> = records
        .iter()
        .filter(|r| r.region() == Some(LISTED))
        .filter_map(|r| r.arn().map(str::to_owned))
        .collect();
    let emu = emulator(
        records,
        Faults {
            access_denied: RegionSet::only([DENIED]),
            denied_resources: denied_tags.clone(),
            ..Faults::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let regions = [LISTED, DENIED, EMPTY].join(",");
    let mut cmd = aws_command("collect", &emu.endpoint_url(), dir.path());
    cmd.args(["--regions", &regions, "--check-access", "--format", "json"]);
    let out = run(&mut cmd);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    let checks: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        results(&checks),
        [
            check(LISTED, "healthlake:ListFHIRDatastores", "granted"),
            check(LISTED, "healthlake:ListTagsForResource", "denied"),
            check(LISTED, "healthlake:ListFHIRExportJobs", "granted"),
            check(LISTED, "healthlake:ListFHIRImportJobs", "granted"),
            check(
                LISTED,
                "healthlake:ListDataTransformationProfiles",
                "granted"
            ),
            check(DENIED, "healthlake:ListFHIRDatastores", "denied"),
            check(DENIED, "healthlake:ListTagsForResource", "not-tested"),
            check(DENIED, "healthlake:ListFHIRExportJobs", "not-tested"),
            check(DENIED, "healthlake:ListFHIRImportJobs", "not-tested"),
            check(
                DENIED,
                "healthlake:ListDataTransformationProfiles",
                "denied"
            ),
            check(EMPTY, "healthlake:ListFHIRDatastores", "granted"),
            check(EMPTY, "healthlake:ListTagsForResource", "not-tested"),
            check(EMPTY, "healthlake:ListFHIRExportJobs", "not-tested"),
            check(EMPTY, "healthlake:ListFHIRImportJobs", "not-tested"),
            check(
                EMPTY,
                "healthlake:ListDataTransformationProfiles",
                "granted"
            ),
        ]
    );
    let tags = &checks[1];
    assert_eq!(tags["account"], ACCOUNT);
    assert_eq!(tags["code"], "AccessDeniedException");
    assert!(
        denied_tags.contains(tags["resource"].as_str().unwrap()),
        "{tags}"
    );
    // The jobs are checked on the data store the listing gave first.
    assert_eq!(checks[2]["resource"], tags["resource"]);
    let listing = &checks[5];
    let message = listing["message"].as_str().unwrap();
    assert!(
        message.contains("healthlake:ListFHIRDatastores") && message.contains("docs/collect.md"),
        "the denial names the action and where the policy is: {message}"
    );
    assert_eq!(checks[6]["reason"], "ListFHIRDatastores failed");
    assert_eq!(checks[7]["reason"], "ListFHIRDatastores failed");
    assert_eq!(checks[11]["reason"], "no data store in this region");
    assert_eq!(checks[12]["reason"], "no data store in this region");
    assert!(
        out.stderr
            .contains("15 permission check(s): 6 granted, 3 denied, 0 failed, 6 not tested"),
        "{}",
        out.stderr
    );

    // One request per permission and region, one page of the listing each.
    let log = emu.log();
    let ops: Vec<(&str, &str)> = log
        .iter()
        .map(|e| (e.operation.as_str(), e.region.as_deref().unwrap_or("-")))
        .collect();
    let count = |op: &str| ops.iter().filter(|(o, _)| *o == op).count();
    assert_eq!(count("ListFHIRDatastores"), 3, "{ops:?}");
    assert_eq!(count("ListTagsForResource"), 1, "{ops:?}");
    assert_eq!(count("ListFHIRExportJobs"), 1, "{ops:?}");
    assert_eq!(count("ListFHIRImportJobs"), 1, "{ops:?}");
    assert_eq!(count("ListDataTransformationProfiles"), 3, "{ops:?}");
    assert_eq!(log.len(), 9, "{ops:?}");
    // Nothing written beside the (absent) configuration files.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    assert!(!out.stdout.contains(SECRET) && !out.stderr.contains(SECRET));
    assert!(!out.stdout.contains(SESSION_TOKEN) && !out.stderr.contains(SESSION_TOKEN));
}

#[test]
fn every_permission_granted_exits_0_and_prints_a_table() {
    let emu = emulator(datastores(ACCOUNT, &[LISTED], 2), Faults::default());
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = aws_command("collect", &emu.endpoint_url(), dir.path());
    cmd.args(["--regions", &format!("{LISTED},{EMPTY}"), "--check-access"]);
    let out = run(&mut cmd);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    for want in [
        "Account",
        "Permission",
        ACCOUNT,
        "healthlake:ListFHIRDatastores",
        "healthlake:ListTagsForResource",
        "healthlake:ListFHIRExportJobs",
        "healthlake:ListDataTransformationProfiles",
        "not tested: no data store in this region",
    ] {
        assert!(out.stdout.contains(want), "{want} in\n{}", out.stdout);
    }
    assert!(!out.stdout.contains("DENIED"), "{}", out.stdout);
    assert!(
        out.stderr
            .contains("10 permission check(s): 7 granted, 0 denied, 0 failed, 3 not tested"),
        "{}",
        out.stderr
    );

    // --no-tags, --no-jobs and --no-transformation-profiles leave those out of the
    // check, as out of the collection.
    let mut cmd = aws_command("collect", &emu.endpoint_url(), dir.path());
    cmd.args(["--region", LISTED, "--no-tags", "--check-access"])
        .args(["--no-jobs", "--no-transformation-profiles"])
        .args(["--format", "json"]);
    let out = run(&mut cmd);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let checks: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        results(&checks),
        [check(LISTED, "healthlake:ListFHIRDatastores", "granted")]
    );
}

#[test]
fn check_access_and_a_snapshot_file_exclude_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = aws_command("collect", "http://127.0.0.1:9", dir.path());
    cmd.args(["--region", LISTED, "--check-access", "-o"])
        .arg(dir.path().join("x.json"));
    let out = run(&mut cmd);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("cannot be used with"), "{}", out.stderr);

    let mut cmd = aws_command("collect", "http://127.0.0.1:9", dir.path());
    cmd.args(["--region", LISTED, "--format", "json", "-o"])
        .arg(dir.path().join("x.json"));
    let out = run(&mut cmd);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("cannot be used with"), "{}", out.stderr);
}

#[test]
fn the_docs_name_every_permission_and_the_role_template_grants_exactly_the_reads() {
    let read = |path: &str| std::fs::read_to_string(repo_root().join(path)).unwrap();
    let docs = read("docs/collect.md");
    for p in Permission::ALL {
        assert!(
            docs.contains(p.action()),
            "docs/collect.md names {}",
            p.action()
        );
    }
    // The member role: every HealthLake, KMS and CloudTrail action the collection calls,
    // no other.
    let template = read("docs/cloudformation/hlaudit-audit-role.yaml");
    let granted: BTreeSet<&str> = template
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .filter(|a| {
            ["healthlake:", "kms:", "cloudtrail:"]
                .iter()
                .any(|s| a.starts_with(s))
        })
        .collect();
    let needed: BTreeSet<&str> = [
        Permission::ListFhirDatastores,
        Permission::ListTagsForResource,
        Permission::DescribeKey,
        Permission::GetKeyRotationStatus,
        Permission::ListFhirExportJobs,
        Permission::ListFhirImportJobs,
        Permission::ListDataTransformationProfiles,
        Permission::DescribeTrails,
        Permission::GetTrailStatus,
        Permission::GetEventSelectors,
    ]
    .into_iter()
    .map(Permission::action)
    .collect();
    assert_eq!(granted, needed);
}

//! The end-to-end run: `hlaudit scan --org --role-name hlaudit-audit --regions all`
//! against moto's Organizations and STS and the emulator (which tells accounts apart by
//! the credentials each request is signed with). Every ACTIVE account is entered with its
//! assumed role in every HealthLake region, the policies are evaluated over what was
//! collected, and the terminal, Markdown and JSON reports show the coverage; members
//! whose role cannot be entered fail alone, and the run exits 2.

mod collect_support;

use std::collections::BTreeSet;

use collect_support::{datastore, moto_base_command};
use hlaudit_collector::HEALTHLAKE_REGIONS;
use hlaudit_e2e::moto::{self, python_json};
use hlaudit_e2e::run;
use hlaudit_emulator::{Emulator, Faults};
use serde_json::Value;

#[test]
fn scan_org_regions_all_collects_every_account_and_region_and_reports_coverage() {
    let moto = moto::start();
    let org = python_json("org_moto.py", &[&moto.endpoint]);
    let id = |p: &str| org.pointer(p).and_then(Value::as_str).unwrap().to_owned();
    let members = [
        id("/management"),
        id("/accounts/clinical"),
        id("/accounts/research"),
        id("/accounts/root"),
    ];
    // Two data stores in two regions of each account, one in the rest.
    let mut records = Vec::new();
    for account in &members {
        for (r, region) in HEALTHLAKE_REGIONS.iter().enumerate() {
            for i in 0..(1 + usize::from(r < 2)) {
                records.push(datastore(account, region, i));
            }
        }
    }
    let emu = Emulator::builder()
        .records(records.clone())
        .sts_endpoint(&moto.endpoint)
        .faults(Faults::default())
        .start_blocking()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let markdown = dir.path().join("report.md");
    let scan = |role_arn: &str| {
        let mut cmd = moto_base_command(dir.path(), &moto.endpoint);
        cmd.args(["scan", "--endpoint-url", &emu.endpoint_url()])
            .args(["--org", "--role-arn", role_arn, "--regions", "all"])
            .args(["--no-kms", "--initial-backoff-ms", "1"])
            .args(["--as-of", "2026-11-28T09:30:00Z", "--color", "never"])
            .args(["--format", "terminal", "-o"])
            .arg(format!("json={}", json.display()))
            .arg("-o")
            .arg(format!("markdown={}", markdown.display()));
        run(&mut cmd)
    };

    let out = scan("arn:{partition}:iam::{account}:role/hlaudit-audit");
    // The demo data stores fail policies (exit 1), and nothing failed to collect.
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let text = std::fs::read_to_string(&json).unwrap();
    let report: Value = serde_json::from_str(&text).unwrap();
    // Every pair's data store, the PASS and SKIP pairs rebuilt from the compact section.
    let pairs = hlaudit_testkit::report::Report::parse(&text);
    let resources: BTreeSet<&str> = pairs
        .findings
        .iter()
        .filter_map(|f| f.resource.as_ref())
        .map(|r| r.arn.as_str())
        .filter(|arn| !arn.is_empty())
        .collect();
    let want: BTreeSet<&str> = records.iter().filter_map(|r| r.arn()).collect();
    assert_eq!(
        resources, want,
        "every data store of every account and region"
    );
    let scopes = report["coverage"]["scopes"].as_array().unwrap();
    assert_eq!(scopes.len(), members.len() * HEALTHLAKE_REGIONS.len());
    assert!(scopes.iter().all(|s| s["state"] == "read"), "{scopes:?}");
    assert!(
        out.stdout
            .contains("account-regions         32        32         0"),
        "{}",
        out.stdout
    );
    let md = std::fs::read_to_string(&markdown).unwrap();
    assert!(md.contains("| account-regions | 32 | 32 | 0 |"), "{md}");

    // A role template that names the wrong account (moto assumes any role it is asked
    // for; hlaudit checks the assumed identity's account): the management account is
    // still read with the base credentials, each member fails alone, and the run exits 2.
    let out = scan("arn:{partition}:iam::x{account}:role/hlaudit-audit");
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("accounts                 4         1         3"),
        "{}",
        out.stdout
    );
    for member in &members[1..] {
        assert!(
            out.stdout
                .contains(&format!("failed: account {member} in ")),
            "{}",
            out.stdout
        );
    }
}

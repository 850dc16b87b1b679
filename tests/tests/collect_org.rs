//! Organization-wide collection against moto's server (Organizations and STS) and the
//! emulator, which learns the account of every request from moto's STS: a request
//! signed with account A's assumed credentials sees A's data stores only, so a
//! collector that mixed credentials up would list the wrong data stores and fail here.

mod collect_support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use collect_support::{
    clean_aws_env, datastore, encrypted_datastore, moto_base_command, read_snapshot,
};
use hlaudit_e2e::moto::{self, venv_bin, Moto};
use hlaudit_e2e::{hlaudit, run, Run};
use hlaudit_emulator::{Emulator, Faults, RunningEmulator};
use hlaudit_model::Record;
use serde_json::Value;

const REGIONS: [&str; 2] = ["us-east-1", "eu-west-2"];

/// The organization moto holds (see tests/python/org_moto.py).
struct Org {
    management: String,
    clinical_ou: String,
    clinical: String,
    research: String,
    root: String,
    closed: String,
}

fn organization(moto: &Moto) -> Org {
    let v = moto::python_json("org_moto.py", &[&moto.endpoint]);
    let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap().to_owned();
    Org {
        management: s("/management"),
        clinical_ou: s("/ous/clinical"),
        clinical: s("/accounts/clinical"),
        research: s("/accounts/research"),
        root: s("/accounts/root"),
        closed: s("/accounts/closed"),
    }
}

/// Data stores in every account of the organization (the closed one too): account
/// number `n` has `n + 1` data stores in each region.
fn records(org: &Org) -> Vec<Record> {
    let accounts = [
        &org.management,
        &org.clinical,
        &org.research,
        &org.root,
        &org.closed,
    ];
    let mut out = Vec::new();
    for (n, account) in accounts.iter().enumerate() {
        for region in REGIONS {
            for i in 0..=n {
                out.push(datastore(account, region, i));
            }
        }
    }
    out
}

fn emulator(records: Vec<Record>, moto: &Moto) -> RunningEmulator {
    Emulator::builder()
        .records(records)
        .sts_endpoint(&moto.endpoint)
        .faults(Faults::default())
        .start_blocking()
        .unwrap()
}

/// `hlaudit collect --role-name hlaudit-audit ... -o FILE` with base credentials moto
/// takes for its management account.
fn collect(
    moto: &Moto,
    emu: &RunningEmulator,
    dir: &Path,
    args: &[&str],
) -> (Run, BTreeSet<String>) {
    let path = dir.join("org.json");
    let _ = std::fs::remove_file(&path);
    let mut cmd = moto_base_command(dir, &moto.endpoint);
    cmd.args(["collect", "--endpoint-url", &emu.endpoint_url()])
        .args(["--regions", &REGIONS.join(","), "--no-kms"])
        .args(["--initial-backoff-ms", "1"])
        .args(args)
        .arg("-o")
        .arg(&path);
    if !args.contains(&"--role-arn") {
        cmd.args(["--role-name", "hlaudit-audit"]);
    }
    let out = run(&mut cmd);
    let arns = if path.exists() {
        read_snapshot(&path)
            .records
            .iter()
            .filter_map(|r| r.arn().map(str::to_owned))
            .collect()
    } else {
        BTreeSet::new()
    };
    (out, arns)
}

fn arns_of(records: &[Record], accounts: &[&String]) -> BTreeSet<String> {
    records
        .iter()
        .filter(|r| accounts.iter().any(|a| r.account() == Some(a.as_str())))
        .filter_map(|r| r.arn().map(str::to_owned))
        .collect()
}

#[test]
fn org_collects_every_active_account_with_its_own_credentials() {
    let moto = moto::start();
    let org = organization(&moto);
    let all = records(&org);
    let emu = emulator(all.clone(), &moto);
    let dir = tempfile::tempdir().unwrap();

    let (out, got) = collect(&moto, &emu, dir.path(), &["--org"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let want = arns_of(
        &all,
        &[&org.management, &org.clinical, &org.research, &org.root],
    );
    assert_eq!(
        got, want,
        "every ACTIVE account's data stores, exactly once"
    );
    assert!(!out.stderr.contains("duplicate-arn"), "{}", out.stderr);
    // Every listing was signed with the credentials of the account it listed.
    let listed: BTreeSet<String> = emu
        .log()
        .iter()
        .filter(|e| e.operation == "ListFHIRDatastores")
        .filter_map(|e| e.account.clone())
        .collect();
    let expected: BTreeSet<String> = [&org.management, &org.clinical, &org.research, &org.root]
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(listed, expected);

    // Under the clinical OU, recursively: clinical and research.
    let ou = org.clinical_ou.clone();
    let (out, got) = collect(&moto, &emu, dir.path(), &["--org", "--ou", &ou]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(got, arns_of(&all, &[&org.clinical, &org.research]));

    // Excluding the management account and one member.
    let excluded = format!("{},{}", org.management, org.root);
    let (out, got) = collect(
        &moto,
        &emu,
        dir.path(),
        &["--org", "--exclude-accounts", &excluded],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(got, arns_of(&all, &[&org.clinical, &org.research]));

    // Without --org: the accounts named.
    let (out, got) = collect(&moto, &emu, dir.path(), &["--accounts", &org.research]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(got, arns_of(&all, &[&org.research]));
}

#[test]
fn org_flags_that_cannot_work_are_refused_before_any_request() {
    let moto = moto::start();
    let emu = emulator(Vec::new(), &moto);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = hlaudit();
    clean_aws_env(&mut cmd, dir.path());
    cmd.args([
        "collect",
        "--org",
        "--region",
        "us-east-1",
        "--endpoint-url",
    ])
    .arg(emu.endpoint_url())
    .arg("-o")
    .arg(dir.path().join("x.json"));
    let out = run(&mut cmd);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr
            .contains("--role-name NAME or --role-arn TEMPLATE"),
        "{}",
        out.stderr
    );

    let mut cmd = hlaudit();
    clean_aws_env(&mut cmd, dir.path());
    cmd.args([
        "collect",
        "--accounts",
        "1234",
        "--role-name",
        "r",
        "--region",
        "us-east-1",
    ])
    .arg("-o")
    .arg(dir.path().join("x.json"));
    let out = run(&mut cmd);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("12-digit account ids"),
        "{}",
        out.stderr
    );
    assert!(emu.log().is_empty());
}

#[test]
fn an_organization_that_cannot_be_listed_fails_the_run_and_writes_nothing() {
    // moto holds no organization, and its ListAccounts answers an empty list (AWS answers
    // AWSOrganizationsNotInUseException). An organization always holds its management
    // account, so an empty answer is not one: nothing is collected, no snapshot written.
    let moto = moto::start();
    let emu = emulator(vec![datastore("123456789012", REGIONS[0], 0)], &moto);
    let dir = tempfile::tempdir().unwrap();
    let (out, arns) = collect(&moto, &emu, dir.path(), &["--org"]);
    assert_eq!(out.code, Some(2), "{}{}", out.stdout, out.stderr);
    assert!(arns.is_empty());
    assert!(!dir.path().join("org.json").exists());
    assert!(
        out.stderr.contains("organizations:ListAccounts failed")
            && out.stderr.contains("listed no ACTIVE account"),
        "{}",
        out.stderr
    );
    assert!(
        emu.log()
            .iter()
            .all(|r| r.operation != "ListFHIRDatastores"),
        "{:?}",
        emu.log()
    );
}

#[test]
fn an_account_that_cannot_be_entered_fails_alone_and_every_report_shows_coverage() {
    let moto = moto::start();
    let org = organization(&moto);
    let all = records(&org);
    let emu = emulator(all.clone(), &moto);
    let dir = tempfile::tempdir().unwrap();

    // A malformed role ARN makes moto hand out the caller's own credentials: hlaudit
    // must notice they belong to another account and list nothing with them.
    let (out, got) = collect(
        &moto,
        &emu,
        dir.path(),
        &[
            "--org",
            "--role-arn",
            "arn:{partition}:iam::x{account}:role/hlaudit-audit",
        ],
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert_eq!(
        got,
        arns_of(&all, &[&org.management]),
        "the management account is still read"
    );
    for member in [&org.clinical, &org.research, &org.root] {
        assert!(
            out.stderr.contains(member.as_str()),
            "{member} is named: {}",
            out.stderr
        );
    }

    let snapshot = dir.path().join("org.json");
    let inv = read_snapshot(&snapshot);
    let states: Vec<(String, String, &str)> = inv
        .coverage
        .scopes
        .iter()
        .map(|s| (s.account.clone(), s.region.clone(), s.state.as_str()))
        .collect();
    assert_eq!(states.len(), 4 * REGIONS.len(), "{states:?}");
    for (account, _, state) in &states {
        let want = if *account == org.management {
            "read"
        } else {
            "failed"
        };
        assert_eq!(*state, want, "{states:?}");
    }
    let wrong = inv
        .errors
        .iter()
        .find(|e| e.account.as_deref() == Some(org.root.as_str()))
        .unwrap();
    assert_eq!(wrong.operation, "AssumeRole");
    assert_eq!(wrong.code, "wrong-account");

    // Every report of a check of that snapshot carries the coverage.
    let json = dir.path().join("r.json");
    let md = dir.path().join("r.md");
    let sarif = dir.path().join("r.sarif");
    let mut cmd = hlaudit();
    cmd.arg("check")
        .arg(&snapshot)
        .args(["--format", "none", "-o"])
        .arg(format!("json={}", json.display()))
        .arg("-o")
        .arg(format!("markdown={}", md.display()))
        .arg("-o")
        .arg(format!("sarif={}", sarif.display()));
    let out = run(&mut cmd);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(
        report["coverage"]["scopes"].as_array().map(Vec::len),
        Some(4 * REGIONS.len())
    );
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.contains("### Coverage"), "{md}");
    assert!(md.contains("| accounts | 4 | 1 | 3 |"), "{md}");
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let cov = &sarif["runs"][0]["properties"]["hlaudit/coverage"];
    assert_eq!(cov["counts"]["accountsFailed"], 3, "{cov}");
    assert_eq!(
        cov["failed"].as_array().map(Vec::len),
        Some(3 * REGIONS.len())
    );
}

/// `hlaudit collect --check-access --format json --role-name hlaudit-audit ...` with
/// the management account's base credentials, KMS at moto.
fn check_access(moto: &Moto, emu: &RunningEmulator, dir: &Path, args: &[&str]) -> (Run, Value) {
    let mut cmd = moto_base_command(dir, &moto.endpoint);
    cmd.args(["collect", "--endpoint-url", &emu.endpoint_url()])
        .args(["--regions", &REGIONS.join(","), "--initial-backoff-ms", "1"])
        .args(["--check-access", "--format", "json"])
        .args(args);
    if !args.contains(&"--role-arn") {
        cmd.args(["--role-name", "hlaudit-audit"]);
    }
    let out = run(&mut cmd);
    let checks = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", out.stdout, out.stderr));
    (out, checks)
}

/// The (account, permission, result) of each check, in order.
fn access_results(checks: &Value) -> Vec<(String, String, String)> {
    checks
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or("-").to_owned();
            (s("account"), s("permission"), s("result"))
        })
        .collect()
}

/// A customer managed key of moto's default account (the management account).
fn create_key(moto: &Moto) -> String {
    let out = Command::new(venv_bin("python"))
        .args([
            "-c",
            "import boto3, sys; print(boto3.client('kms', endpoint_url=sys.argv[1], \
             region_name='us-east-1', aws_access_key_id='AKIDMANAGEMENTBASE01', \
             aws_secret_access_key='base-secret').create_key()['KeyMetadata']['Arn'])",
            &moto.endpoint,
        ])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

// Issue 14: `--check-access` walks the organization and enters every account as a
// collection would, and only checks.
#[test]
fn check_access_enters_every_account_and_tries_each_permission_once() {
    let moto = moto::start();
    let org = organization(&moto);
    let key = create_key(&moto);
    let mut all = records(&org);
    all.push(encrypted_datastore(
        &org.management,
        REGIONS[0],
        7,
        Some(&key),
    ));
    let emu = emulator(all, &moto);
    let dir = tempfile::tempdir().unwrap();

    let (out, checks) = check_access(
        &moto,
        &emu,
        dir.path(),
        &["--org", "--ou", &org.clinical_ou],
    );
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let results = access_results(&checks);
    let granted = |account: &str, permission: &str| {
        (
            account.to_owned(),
            permission.to_owned(),
            "granted".to_owned(),
        )
    };
    assert_eq!(
        results[..4],
        [
            granted(&org.management, "sts:GetCallerIdentity"),
            granted(&org.management, "organizations:ListAccounts"),
            granted(&org.management, "organizations:ListAccountsForParent"),
            granted(
                &org.management,
                "organizations:ListOrganizationalUnitsForParent"
            ),
        ]
    );
    // Under the clinical OU: clinical and research, each entered with its role.
    for member in [&org.clinical, &org.research] {
        assert!(
            results.contains(&granted(member, "sts:AssumeRole")),
            "{results:?}"
        );
        assert!(
            results.contains(&granted(member, "healthlake:ListFHIRDatastores")),
            "{results:?}"
        );
        assert!(
            results.contains(&granted(member, "healthlake:ListTagsForResource")),
            "{results:?}"
        );
    }
    assert!(!results
        .iter()
        .any(|(a, _, _)| *a == org.root || *a == org.closed));

    // The whole organization: the management account's key is described with its own
    // credentials, and no account is listed with another's.
    let (out, checks) = check_access(&moto, &emu, dir.path(), &["--org"]);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let results = access_results(&checks);
    for permission in ["kms:DescribeKey", "kms:GetKeyRotationStatus"] {
        let row = checks
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["permission"] == permission && c["result"] == "granted")
            .unwrap_or_else(|| panic!("{permission} granted: {results:?}"));
        assert_eq!(row["account"], org.management.as_str());
        assert_eq!(row["resource"], key.as_str());
    }
    let assumed: BTreeSet<&str> = results
        .iter()
        .filter(|(_, p, r)| p == "sts:AssumeRole" && r == "granted")
        .map(|(a, _, _)| a.as_str())
        .collect();
    let members: BTreeSet<&str> = [&org.clinical, &org.research, &org.root]
        .iter()
        .map(|a| a.as_str())
        .collect();
    assert_eq!(assumed, members);
    let listings: Vec<(String, String)> = emu
        .log()
        .iter()
        .filter(|e| e.operation == "ListFHIRDatastores")
        .map(|e| {
            (
                e.account.clone().unwrap_or_default(),
                e.region.clone().unwrap_or_default(),
            )
        })
        .collect();
    // Two runs: 2 accounts, then 4, in each region, one page each.
    assert_eq!(listings.len(), (2 + 4) * REGIONS.len(), "{listings:?}");
    assert!(!listings.iter().any(|(a, _)| *a == org.closed));
    assert!(!dir.path().join("org.json").exists());

    // Roles that cannot be entered: each member is one failed AssumeRole, the
    // management account is still checked, and the run exits 2.
    let (out, checks) = check_access(
        &moto,
        &emu,
        dir.path(),
        &[
            "--org",
            "--role-arn",
            "arn:{partition}:iam::x{account}:role/hlaudit-audit",
        ],
    );
    assert_eq!(out.code, Some(2), "{}", out.stdout);
    let failed: Vec<&Value> = checks
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["result"] == "failed")
        .collect();
    assert_eq!(failed.len(), 3, "{checks:#}");
    for f in failed {
        assert_eq!(f["permission"], "sts:AssumeRole");
        assert_eq!(f["code"], "wrong-account");
    }
    let results = access_results(&checks);
    assert!(results.contains(&granted(&org.management, "healthlake:ListFHIRDatastores")));
    assert!(out.stderr.contains("3 failed"), "{}", out.stderr);
}

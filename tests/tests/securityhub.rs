//! `--securityhub` against moto's Security Hub and STS (PyPI, installed by
//! `.ci/setup-python.sh`): the demo's findings are imported into each data store's own
//! account and region with that account's credentials, read back with boto3, updated
//! in place when imported again (no duplicate), resolved when fixed, and never resolved
//! when the run could not have seen them. Findings that cannot be imported (no
//! credentials for their account, Security Hub not enabled) exit 2 and are named.

mod collect_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use collect_support::{clean_aws_env, datastore, moto_base_command};
use hlaudit_e2e::moto::{self, venv_bin, Moto};
use hlaudit_e2e::{hlaudit, repo_root, run, Run};
use hlaudit_emulator::{Emulator, Faults};
use hlaudit_model::Record;
use serde_json::{json, Value};

const AS_OF: &str = "2026-11-28T09:30:00Z";
const ACCOUNTS: [&str; 3] = ["111122223333", "444455556666", "777788889999"];
const REGIONS: &str = "us-east-1,us-west-2,eu-west-2,ap-southeast-2";

/// Assumes a role in each account through moto, writes the credentials as profiles
/// `acct-ACCOUNT`, and enables Security Hub where `specs` say (`ACCOUNT=REGION,...`).
fn setup(moto: &Moto, dir: &Path, specs: &[String]) {
    let out = Command::new(venv_bin("python"))
        .arg(repo_root().join("tests/python/securityhub_moto.py"))
        .arg("setup")
        .arg(&moto.endpoint)
        .arg(dir.join("credentials"))
        .args(specs)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "setup failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every finding in moto's Security Hub of `account` in `region`.
fn stored(moto: &Moto, dir: &Path, account: &str, region: &str) -> Vec<Value> {
    let out = Command::new(venv_bin("python"))
        .arg(repo_root().join("tests/python/securityhub_moto.py"))
        .args(["findings", &moto.endpoint])
        .arg(dir.join("credentials"))
        .args([account, region])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "reading findings failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON array of findings")
}

/// `hlaudit check SNAPSHOT --securityhub` with moto for STS and Security Hub, the
/// profiles of the credentials file, and nothing inherited from the machine.
fn check(moto: &Moto, dir: &Path, snapshot: &Path, extra: &[&str]) -> Run {
    let mut cmd = hlaudit();
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("AWS_CONFIG_FILE", dir.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL_STS", &moto.endpoint)
        .env("AWS_ENDPOINT_URL_SECURITYHUB", &moto.endpoint)
        .arg("check")
        .arg(snapshot)
        .args(["--as-of", AS_OF, "--format", "none", "--securityhub"])
        .args(extra);
    run(&mut cmd)
}

fn profiles(accounts: &[&str]) -> Vec<String> {
    accounts
        .iter()
        .flat_map(|a| ["--profile".to_owned(), format!("acct-{a}")])
        .collect()
}

fn all_enabled() -> Vec<String> {
    ACCOUNTS.iter().map(|a| format!("{a}={REGIONS}")).collect()
}

/// The ASFF findings a run wrote, by id.
fn asff(path: &Path) -> BTreeMap<String, Value> {
    let text = std::fs::read_to_string(path).expect("the ASFF report");
    let findings: Vec<Value> = serde_json::from_str(&text).expect("a JSON array");
    findings
        .into_iter()
        .map(|f| (f["Id"].as_str().unwrap().to_owned(), f))
        .collect()
}

/// (account, region) of a finding as imported: its account and its resource's region.
fn place(f: &Value) -> (String, String) {
    (
        f["AwsAccountId"].as_str().unwrap().to_owned(),
        f["Resources"][0]["Region"]
            .as_str()
            .or(f["Region"].as_str())
            .unwrap()
            .to_owned(),
    )
}

fn stored_by_id(moto: &Moto, dir: &Path) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    for account in ACCOUNTS {
        for region in REGIONS.split(',') {
            for f in stored(moto, dir, account, region) {
                assert_eq!(
                    f["AwsAccountId"], account,
                    "a finding in another account's hub"
                );
                let id = f["Id"].as_str().unwrap().to_owned();
                assert!(
                    all.insert(id.clone(), f).is_none(),
                    "finding {id} stored twice"
                );
            }
        }
    }
    all
}

#[test]
fn findings_are_imported_updated_in_place_and_resolved_when_fixed() {
    let moto = moto::start();
    let dir = tempfile::tempdir().unwrap();
    setup(&moto, dir.path(), &all_enabled());
    let snapshot = dir.path().join("snapshot.json");
    std::fs::copy(repo_root().join("fixtures/demo/snapshot.json"), &snapshot).unwrap();

    // First import: every FAIL, ERROR and WAIVED finding, in its own account and region.
    let first = dir.path().join("first.asff.json");
    let mut args = profiles(&ACCOUNTS);
    args.extend(["-o".to_owned(), format!("asff={}", first.display())]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = check(&moto, dir.path(), &snapshot, &args);
    assert_eq!(out.code, Some(1), "the demo has findings: {}", out.stderr);
    let written = asff(&first);
    assert!(written.len() > 10, "the demo has more findings than that");
    let held = stored_by_id(&moto, dir.path());
    assert_eq!(
        held.keys().collect::<BTreeSet<_>>(),
        written.keys().collect::<BTreeSet<_>>(),
        "Security Hub holds exactly the run's findings"
    );
    for (id, f) in &held {
        assert_eq!(
            place(f),
            place(&written[id]),
            "{id} is in its own account and region"
        );
        assert_eq!(f["RecordState"], "ACTIVE");
        assert_eq!(f["ProductName"], "hlaudit");
        let (account, region) = place(f);
        assert_eq!(
            f["ProductArn"],
            format!("arn:aws:securityhub:{region}:{account}:product/{account}/default")
        );
    }
    assert!(out.stderr.contains("imported"), "{}", out.stderr);

    // Fix one data store's encryption, drop another data store from the snapshot.
    let mut snap: Value =
        serde_json::from_str(&std::fs::read_to_string(&snapshot).unwrap()).unwrap();
    let fixed = held
        .values()
        .find(|f| f["GeneratorId"] == "HL-ENC-01")
        .expect("the demo has an HL-ENC-01 finding");
    let fixed_arn = fixed["Resources"][0]["Id"].as_str().unwrap().to_owned();
    let dropped = held
        .values()
        .find(|f| f["Resources"][0]["Id"] != fixed_arn.as_str())
        .unwrap();
    let dropped_arn = dropped["Resources"][0]["Id"].as_str().unwrap().to_owned();
    let records = snap["records"].as_array_mut().unwrap();
    records.retain(|r| r["properties"]["DatastoreArn"] != dropped_arn.as_str());
    let record = records
        .iter_mut()
        .find(|r| r["properties"]["DatastoreArn"] == fixed_arn.as_str())
        .unwrap();
    let (account, region) = place(fixed);
    record["properties"]["SseConfiguration"] = json!({"KmsEncryptionConfig": {
        "CmkType": "CUSTOMER_MANAGED_KMS_KEY",
        "KmsKeyId": format!("arn:aws:kms:{region}:{account}:key/5d2f7a3c-1b4e-4c8f-9a6d-2e7b8c9d0f1a"),
    }});
    std::fs::write(&snapshot, serde_json::to_string(&snap).unwrap()).unwrap();

    // Second import.
    let second = dir.path().join("second.asff.json");
    let mut args = profiles(&ACCOUNTS);
    args.extend([
        "-o".to_owned(),
        format!("asff={}", second.display()),
        "--asff-passed".to_owned(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = check(&moto, dir.path(), &snapshot, &args);
    assert_ne!(out.code, Some(2), "{}", out.stderr);
    let now = asff(&second);
    let fixed_id = fixed["Id"].as_str().unwrap();
    assert_eq!(
        now[fixed_id]["Compliance"]["Status"], "PASSED",
        "the fix makes HL-ENC-01 pass"
    );
    let after = stored_by_id(&moto, dir.path());
    for (id, before) in &held {
        let f = &after[id];
        match now.get(id) {
            Some(n) if n["Compliance"]["Status"] == "PASSED" => {
                assert_eq!(f["RecordState"], "ARCHIVED", "{id} was fixed");
                assert_eq!(f["Compliance"]["Status"], "PASSED", "{id} was fixed");
                assert_eq!(f["Workflow"]["Status"], "RESOLVED", "{id} was fixed");
            }
            Some(n) => {
                assert_eq!(f["RecordState"], "ACTIVE", "{id} is still open");
                assert_eq!(f["Compliance"]["Status"], n["Compliance"]["Status"]);
                assert_ne!(f["UpdatedAt"], before["UpdatedAt"], "{id} was updated");
            }
            // The dropped data store: an offline snapshot cannot tell gone from left out.
            None => {
                assert_eq!(f["Resources"][0]["Id"], dropped_arn.as_str());
                assert_eq!(f["RecordState"], "ACTIVE", "{id} is left as it was");
            }
        }
    }
    let new_open: BTreeSet<&String> = now
        .iter()
        .filter(|(_, f)| f["Compliance"]["Status"] != "PASSED")
        .map(|(id, _)| id)
        .collect();
    assert!(
        new_open.iter().all(|id| held.contains_key(*id)),
        "no finding is new"
    );
    // PASS findings of pairs Security Hub never held are imported too (--asff-passed).
    assert!(after.len() >= held.len());
    assert!(after
        .keys()
        .all(|id| now.contains_key(id) || held.contains_key(id)));
}

#[test]
fn a_dry_run_imports_nothing_and_says_what_it_would_do() {
    let moto = moto::start();
    let dir = tempfile::tempdir().unwrap();
    setup(&moto, dir.path(), &all_enabled());
    let snapshot = repo_root().join("fixtures/demo/snapshot.json");
    let mut args = profiles(&ACCOUNTS);
    args.push("--dry-run".to_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = check(&moto, dir.path(), &snapshot, &args);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("(dry run): would import"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("    import   "), "{}", out.stderr);
    assert!(stored_by_id(&moto, dir.path()).is_empty());
}

#[test]
fn findings_that_cannot_be_imported_are_named_and_exit_2() {
    let moto = moto::start();
    let dir = tempfile::tempdir().unwrap();
    // 777788889999 has Security Hub nowhere; no profile is given for 444455556666.
    let specs = vec![
        format!("111122223333={REGIONS}"),
        format!("444455556666={REGIONS}"),
        "777788889999=".to_owned(),
    ];
    setup(&moto, dir.path(), &specs);
    let snapshot = repo_root().join("fixtures/demo/snapshot.json");
    let args = profiles(&["111122223333", "777788889999"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = check(&moto, dir.path(), &snapshot, &args);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("no credential set given is for account 444455556666"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("Security Hub is not enabled for account 777788889999 in us-east-1")
            && out.stderr.contains("--securityhub-region"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("not imported"), "{}", out.stderr);
    // The account with credentials and a hub got its findings all the same.
    let held: usize = REGIONS
        .split(',')
        .map(|r| stored(&moto, dir.path(), "111122223333", r).len())
        .sum();
    assert!(held > 0);
    for secret in ["SecretAccessKey", "aws_secret_access_key"] {
        assert!(!out.stderr.contains(secret));
    }
}

#[test]
fn an_aggregation_region_takes_every_finding_of_its_account() {
    let moto = moto::start();
    let dir = tempfile::tempdir().unwrap();
    let specs: Vec<String> = ACCOUNTS.iter().map(|a| format!("{a}=eu-west-2")).collect();
    setup(&moto, dir.path(), &specs);
    let snapshot = repo_root().join("fixtures/demo/snapshot.json");
    let file = dir.path().join("a.json");
    let mut args = profiles(&ACCOUNTS);
    args.extend([
        "--securityhub-region".to_owned(),
        "eu-west-2".to_owned(),
        "-o".to_owned(),
        format!("asff={}", file.display()),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = check(&moto, dir.path(), &snapshot, &args);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let written = asff(&file);
    let mut held = 0;
    for account in ACCOUNTS {
        for f in stored(&moto, dir.path(), account, "eu-west-2") {
            held += 1;
            assert_eq!(
                f["ProductArn"],
                format!("arn:aws:securityhub:eu-west-2:{account}:product/{account}/default")
            );
            // The finding still names its data store's region.
            let id = f["Id"].as_str().unwrap();
            assert_eq!(
                f["Resources"][0]["Region"],
                written[id]["Resources"][0]["Region"]
            );
        }
    }
    assert_eq!(held, written.len());
}

/// `hlaudit scan --securityhub` of one account's us-east-1, served by the emulator, with
/// moto for STS and Security Hub.
fn scan(moto: &Moto, dir: &Path, records: Vec<Record>, extra: &[&str]) -> Run {
    let emulator = Emulator::builder()
        .records(records)
        .default_account(ACCOUNTS[0])
        .faults(Faults::default())
        .start_blocking()
        .unwrap();
    let mut cmd = hlaudit();
    clean_aws_env(&mut cmd, dir);
    cmd.env("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"))
        .env("AWS_ENDPOINT_URL_STS", &moto.endpoint)
        .env("AWS_ENDPOINT_URL_SECURITYHUB", &moto.endpoint)
        .env("AWS_ENDPOINT_URL_CLOUDTRAIL", &moto.endpoint)
        .args(["scan", "--endpoint-url", &emulator.endpoint_url()])
        .args(["--region", "us-east-1", "--no-kms", "--format", "none"])
        .args([
            "--profile",
            &format!("acct-{}", ACCOUNTS[0]),
            "--securityhub",
        ])
        .args(["--as-of", AS_OF])
        .args(extra);
    run(&mut cmd)
}

#[test]
fn a_scan_resolves_the_findings_of_data_stores_gone_from_a_region_it_listed_whole() {
    let moto = moto::start();
    let dir = tempfile::tempdir().unwrap();
    setup(&moto, dir.path(), &[format!("{}=us-east-1", ACCOUNTS[0])]);
    let stores: Vec<Record> = (0..4)
        .map(|i| datastore(ACCOUNTS[0], "us-east-1", i))
        .collect();
    let out = scan(&moto, dir.path(), stores.clone(), &[]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let held = stored(&moto, dir.path(), ACCOUNTS[0], "us-east-1");
    let gone_arn = stores[0].arn().unwrap().to_owned();
    let of_gone: BTreeSet<String> = held
        .iter()
        .filter(|f| f["Resources"][0]["Id"] == gone_arn.as_str())
        .map(|f| f["Id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!of_gone.is_empty(), "data store 0 has findings");

    // A filtered listing cannot tell a deleted data store from one it did not ask for.
    let out = scan(
        &moto,
        dir.path(),
        stores[1..].to_vec(),
        &["--status", "ACTIVE"],
    );
    assert_ne!(out.code, Some(2), "{}", out.stderr);
    for f in stored(&moto, dir.path(), ACCOUNTS[0], "us-east-1") {
        assert_eq!(
            f["RecordState"], "ACTIVE",
            "nothing resolved after a filtered scan"
        );
    }

    // The whole region listed without data store 0: its findings are resolved.
    let out = scan(&moto, dir.path(), stores[1..].to_vec(), &[]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let after = stored(&moto, dir.path(), ACCOUNTS[0], "us-east-1");
    assert_eq!(after.len(), held.len(), "no finding added or duplicated");
    for f in after {
        let id = f["Id"].as_str().unwrap();
        if of_gone.contains(id) {
            assert_eq!(f["RecordState"], "ARCHIVED", "{id}");
            assert_eq!(f["Compliance"]["Status"], "PASSED", "{id}");
            assert_eq!(f["ProductFields"]["hlaudit/Resolution"], "data-store-gone");
        } else {
            assert_eq!(f["RecordState"], "ACTIVE", "{id}");
        }
    }
}

/// `hlaudit scan --accounts A,B --role-name R --securityhub`: the role assumed in each
/// account collects it and imports its findings there, so each account's Security Hub
/// holds its own data stores' findings and no other's; `check` of the saved snapshot
/// with the same flags updates them in place.
#[test]
fn a_scan_of_several_accounts_imports_each_accounts_findings_with_its_assumed_role() {
    let moto = moto::start();
    let dir = tempfile::tempdir().unwrap();
    let accounts = &ACCOUNTS[..2];
    let specs: Vec<String> = accounts.iter().map(|a| format!("{a}=us-east-1")).collect();
    setup(&moto, dir.path(), &specs);
    let stores: Vec<Record> = accounts
        .iter()
        .flat_map(|a| (0..3).map(move |i| datastore(a, "us-east-1", i)))
        .collect();
    let emulator = Emulator::builder()
        .records(stores.clone())
        .sts_endpoint(&moto.endpoint)
        .faults(Faults::default())
        .start_blocking()
        .unwrap();
    let mut cmd = moto_base_command(dir.path(), &moto.endpoint);
    cmd.args(["scan", "--endpoint-url", &emulator.endpoint_url()])
        .args(["--region", "us-east-1", "--no-kms", "--format", "none"])
        .args([
            "--accounts",
            &accounts.join(","),
            "--role-name",
            "hlaudit-audit",
        ])
        .args(["--securityhub", "--as-of", AS_OF])
        .arg("--save-snapshot")
        .arg(dir.path().join("snapshot.json"));
    let out = run(&mut cmd);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let mut held_by_account = BTreeMap::new();
    for account in accounts {
        let held = stored(&moto, dir.path(), account, "us-east-1");
        assert!(!held.is_empty(), "nothing imported into {account}");
        for f in &held {
            assert_eq!(f["AwsAccountId"], *account, "{f}");
            let resource = f["Resources"][0]["Id"].as_str().unwrap();
            assert!(resource.contains(&format!(":{account}:")), "{resource}");
        }
        held_by_account.insert(account.to_string(), held.len());
    }

    // `check` of the saved snapshot with the same accounts and role: updated in place.
    let check = |extra: &[&str]| {
        let mut cmd = moto_base_command(dir.path(), &moto.endpoint);
        cmd.arg("check")
            .arg(dir.path().join("snapshot.json"))
            .args(["--format", "none", "--as-of", AS_OF])
            .args([
                "--accounts",
                &accounts.join(","),
                "--role-name",
                "hlaudit-audit",
            ])
            .args(extra);
        run(&mut cmd)
    };
    let out = check(&["--securityhub"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    for account in accounts {
        let held = stored(&moto, dir.path(), account, "us-east-1");
        assert_eq!(
            held.len(),
            held_by_account[*account],
            "no duplicate in {account}"
        );
    }
    let out = check(&[]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("add --securityhub"), "{}", out.stderr);
}

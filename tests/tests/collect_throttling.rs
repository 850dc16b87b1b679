//! Collection that survives throttling (issue 14, "Throttling and retries"), against the
//! emulator over HTTP through the real SDK: throttled calls and 5xx answers are retried
//! until a time budget per call, malformed and cut-short answers are retried like them
//! (a page is asked again with the same `NextToken`, never skipped or repeated), a
//! region that throttles everything for a while is still read in full once it recovers,
//! and an access denied fails at once, without retries. The headline measurement runs
//! over 3 accounts, one profile each, with customer managed KMS keys held by moto's
//! server in each data store's own account.

mod collect_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use collect_support::*;
use hlaudit_collector::KMS_KEY_ENRICHMENT;
use hlaudit_e2e::moto::{python_json, start as start_moto, Moto};
use hlaudit_e2e::{hlaudit, run, Run};
use hlaudit_emulator::{Emulator, FaultKind, Faults, LogEntry, RunningEmulator};
use hlaudit_model::Inventory;
use serde_json::Value;

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-2", "ap-southeast-2"];

/// Collects every region of `regions` with the default retry settings (plus `extra`
/// flags) into a snapshot, and reads it back.
fn collect(
    emu: &RunningEmulator,
    dir: &Path,
    regions: &[&str],
    extra: &[&str],
) -> (Run, Option<Inventory>, Duration) {
    let path = dir.join("snapshot.json");
    let started = Instant::now();
    let out = run(default_retries_command("collect", &emu.endpoint_url(), dir)
        .args(["--regions", &regions.join(",")])
        .args(extra)
        .arg("-o")
        .arg(&path));
    let took = started.elapsed();
    let inv = path.exists().then(|| read_snapshot(&path));
    (out, inv, took)
}

/// Every data store the emulator serves to `accounts` in `regions` was collected
/// exactly once, as served, with exactly its tags.
fn assert_complete(
    emu: &RunningEmulator,
    inv: &Inventory,
    accounts: &[&str],
    regions: &[&str],
    per_region: usize,
) {
    assert!(inv.errors.is_empty(), "{:#?}", inv.errors);
    assert_eq!(
        inv.records.len(),
        accounts.len() * regions.len() * per_region
    );
    let collected: BTreeMap<&str, &hlaudit_model::Record> = inv
        .records
        .iter()
        .filter_map(|r| Some((r.arn()?, r)))
        .collect();
    assert_eq!(
        collected.len(),
        inv.records.len(),
        "an ARN was collected twice"
    );
    for (account, region) in accounts
        .iter()
        .flat_map(|a| regions.iter().map(move |r| (a, r)))
    {
        let served = emu.datastores(account, region);
        assert_eq!(served.len(), per_region);
        for wire in &served {
            let arn = wire["DatastoreArn"].as_str().unwrap();
            let record = collected
                .get(arn)
                .unwrap_or_else(|| panic!("{arn} was not collected"));
            assert_eq!(
                &record.properties(),
                wire,
                "{arn} differs from what was served"
            );
            assert_eq!(record.tags, emu.tags(arn), "tags of {arn}");
        }
    }
}

fn count(log: &[LogEntry], operation: &str, fault: Option<FaultKind>) -> usize {
    log.iter()
        .filter(|e| e.operation == operation && e.fault == fault)
        .count()
}

/// Every page that failed was asked again with the same `NextToken` and then came
/// whole; each token was answered successfully exactly once.
fn assert_pages_retried_with_the_same_token(log: &[LogEntry]) {
    let pages: Vec<&LogEntry> = log
        .iter()
        .filter(|e| e.operation == "ListFHIRDatastores")
        .collect();
    let mut answered: BTreeMap<(Option<&str>, Option<&str>), usize> = BTreeMap::new();
    for page in pages
        .iter()
        .filter(|e| e.status == 200 && e.fault.is_none())
    {
        *answered
            .entry((page.region.as_deref(), page.request_token.as_deref()))
            .or_default() += 1;
    }
    assert!(
        answered.values().all(|n| *n == 1),
        "a page was read twice: {answered:?}"
    );
    for failed in pages.iter().filter(|e| e.fault.is_some()) {
        let key = (failed.region.as_deref(), failed.request_token.as_deref());
        assert!(
            answered.contains_key(&key),
            "the page asked with {key:?} failed and was never asked again"
        );
    }
}

/// The first measurement: 5% malformed and 5% cut-short answers over 1,200 data
/// stores lost 300 of them (whole pages) and gave 39 collection errors. Now every one is
/// collected and the run exits 0, in the default settings.
#[test]
fn malformed_and_truncated_answers_are_retried_and_no_page_is_lost_or_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let per_region = 1_200;
    let emu = emulator(
        datastores(ACCOUNT, &REGIONS[..1], per_region),
        Faults {
            seed: 14,
            malformed_body_rate: 0.05,
            truncated_body_rate: 0.05,
            ..Faults::default()
        },
    );
    let (out, inv, took) = collect(&emu, dir.path(), &REGIONS[..1], &["--page-size", "50"]);
    assert_eq!(out.code, Some(0), "stderr:\n{}", out.stderr);
    let inv = inv.expect("the snapshot is written");
    assert_complete(&emu, &inv, &[ACCOUNT], &REGIONS[..1], per_region);

    let log = emu.log();
    let broken: usize = [FaultKind::MalformedBody, FaultKind::TruncatedBody]
        .into_iter()
        .map(|f| count(&log, "ListFHIRDatastores", Some(f)))
        .sum();
    assert!(broken > 0, "no page was broken: the test proves nothing");
    for fault in [FaultKind::MalformedBody, FaultKind::TruncatedBody] {
        assert!(
            count(&log, "ListTagsForResource", Some(fault)) > 20,
            "{fault:?}"
        );
    }
    assert_pages_retried_with_the_same_token(&log);
    eprintln!("malformed and truncated: {per_region} data stores in {took:.1?}");
}

/// The accounts of the headline measurement.
const ACCOUNTS: [&str; 3] = ["111122223333", "444455556666", "777788889999"];

/// One account of the headline measurement, as moto holds it: an access key of an IAM
/// user in that account, and two customer managed KMS keys in each region.
struct KmsAccount {
    account: String,
    access_key: String,
    secret_key: String,
    /// Region -> (enabled and rotating key ARN, disabled key ARN).
    keys: BTreeMap<String, (String, String)>,
}

impl KmsAccount {
    /// The key of data store `i` of `region`: three in four are encrypted with a
    /// customer managed key (two with the rotating one, one with the disabled one),
    /// the fourth with an AWS owned key, which has nothing to describe.
    fn key_of(&self, region: &str, i: usize) -> Option<&str> {
        let (rotating, disabled) = &self.keys[region];
        match i % 4 {
            0 | 1 => Some(rotating),
            2 => Some(disabled),
            _ => None,
        }
    }
}

/// Builds the accounts in moto with tests/python/kms_accounts_moto.py.
///
/// Each account gets its own static access key, issued by moto's IAM in that account,
/// because moto files a KMS key under the account of the credentials that create it
/// and answers `DescribeKey` only to credentials of that account: one static key for
/// every profile would put every key in moto's default account. With a key per account,
/// a collector that described account A's key with account B's credentials gets
/// `NotFoundException`, as on AWS, and this test fails.
fn kms_accounts(moto: &Moto, regions: &[&str]) -> Vec<KmsAccount> {
    let region_list = regions.join(",");
    let mut args = vec![moto.endpoint.as_str(), region_list.as_str()];
    args.extend(ACCOUNTS);
    let v = python_json("kms_accounts_moto.py", &args);
    let s = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_str).unwrap().to_owned();
    ACCOUNTS
        .iter()
        .map(|account| {
            let a = &v[account];
            KmsAccount {
                account: (*account).to_owned(),
                access_key: s(a, "/access_key"),
                secret_key: s(a, "/secret_key"),
                keys: regions
                    .iter()
                    .map(|r| {
                        let k = &a["keys"][r];
                        ((*r).to_owned(), (s(k, "/rotating"), s(k, "/disabled")))
                    })
                    .collect(),
            }
        })
        .collect()
}

/// `hlaudit collect` with one profile per account (in a credentials file), KMS and STS
/// at moto, HealthLake at the emulator, and nothing else set: the default settings.
fn collect_accounts(
    moto: &Moto,
    emu: &RunningEmulator,
    accounts: &[KmsAccount],
    dir: &Path,
    regions: &[&str],
) -> (Run, Option<Inventory>, Duration) {
    let credentials = dir.join("credentials");
    let profiles: String = accounts
        .iter()
        .map(|a| {
            format!(
                "[account-{}]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n",
                a.account, a.access_key, a.secret_key
            )
        })
        .collect();
    std::fs::write(&credentials, profiles).unwrap();
    let path = dir.join("snapshot.json");
    let mut cmd = hlaudit();
    clean_aws_env(&mut cmd, dir);
    cmd.env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .env("AWS_ENDPOINT_URL_KMS", &moto.endpoint)
        .env("AWS_ENDPOINT_URL_STS", &moto.endpoint)
        .env("AWS_ENDPOINT_URL_CLOUDTRAIL", &moto.endpoint)
        .args(["collect", "--endpoint-url", &emu.endpoint_url()])
        .args(["--regions", &regions.join(",")])
        // The data stores' own calls (listing, tags, KMS, caller identity, trails) in
        // their default settings. Jobs and profiles, on by default since, would double the
        // requests of a test already among the longest; they meet the same faults in
        // collect_jobs.rs.
        .args(["--no-jobs", "--no-transformation-profiles"]);
    for a in accounts {
        cmd.args(["--profile", &format!("account-{}", a.account)]);
    }
    let started = Instant::now();
    let out = run(cmd.arg("-o").arg(&path));
    let took = started.elapsed();
    let inv = path.exists().then(|| read_snapshot(&path));
    (out, inv, took)
}

/// Every data store of `accounts` carries the state of its own account's KMS key, and
/// only those encrypted with a customer managed key carry one.
fn assert_kms_keys(inv: &Inventory, accounts: &[KmsAccount], per_region: usize) {
    let mut described = 0;
    for record in &inv.records {
        let (account, region) = (record.account().unwrap(), record.region().unwrap());
        let owner = accounts.iter().find(|a| a.account == account).unwrap();
        let i = record.properties()["FutureField"]["Index"]
            .as_u64()
            .unwrap() as usize;
        let state = record.enrichments.get(KMS_KEY_ENRICHMENT);
        let Some(key) = owner.key_of(region, i) else {
            assert_eq!(state, None, "{:?} has an AWS owned key", record.arn());
            continue;
        };
        let state = state.unwrap_or_else(|| panic!("{:?}: no KMS key state", record.arn()));
        assert_eq!(state["Arn"], key, "{:?}", record.arn());
        assert_eq!(
            state["AWSAccountId"], account,
            "the key is in the data store's account"
        );
        let rotating = key == owner.keys[region].0;
        assert_eq!(state["Enabled"], rotating, "{key}");
        assert_eq!(
            state["KeyState"],
            if rotating { "Enabled" } else { "Disabled" }
        );
        assert_eq!(state["KeyRotationEnabled"], rotating, "{key}");
        described += 1;
    }
    assert_eq!(
        described,
        accounts.len() * REGIONS.len() * per_region * 3 / 4
    );
}

/// The headline: 20% throttling and 5% 5xx on every HealthLake call (listing
/// pages and tags), 3 accounts (one profile each) x 3 regions x 1,200 data
/// stores with tags and customer managed KMS keys, default settings (KMS enrichment
/// and caller identity on). Before, with 1 account and `--no-kms`: exit 2, 3 tag
/// listings lost. Now: exit 0, every data store once with its tags and its key's
/// state, no collection error.
///
/// The faults are the emulator's; KMS and STS are moto's, which answers every call,
/// so the KMS calls are not faulted here (they go through the same retry loop).
///
/// About a minute in a debug build (40 to 70 s of collection on two busy cores).
#[test]
fn throttling_and_server_errors_on_every_call_lose_nothing_in_the_default_settings() {
    let per_region = 1_200;
    let dir = tempfile::tempdir().unwrap();
    let moto = start_moto();
    let accounts = kms_accounts(&moto, &REGIONS);
    let mut records = Vec::new();
    let mut emu = Emulator::builder();
    for a in &accounts {
        for region in REGIONS {
            records.extend(
                (0..per_region)
                    .map(|i| encrypted_datastore(&a.account, region, i, a.key_of(region, i))),
            );
        }
        emu = emu.access_key(&a.access_key, &a.account);
    }
    let emu = emu
        .records(records)
        .faults(Faults {
            seed: 20_260_601,
            throttle_rate: 0.20,
            server_error_rate: 0.05,
            ..Faults::default()
        })
        .start_blocking()
        .unwrap();

    let (out, inv, took) = collect_accounts(&moto, &emu, &accounts, dir.path(), &REGIONS);
    assert_eq!(out.code, Some(0), "stderr:\n{}", out.stderr);
    let inv = inv.expect("the snapshot is written");
    assert_complete(&emu, &inv, &ACCOUNTS, &REGIONS, per_region);
    assert_kms_keys(&inv, &accounts, per_region);
    assert_eq!(
        inv.coverage.accounts, ACCOUNTS,
        "each profile's account, from STS"
    );

    let log = emu.log();
    let throttled = count(&log, "ListTagsForResource", Some(FaultKind::Throttling));
    let failed = count(&log, "ListTagsForResource", Some(FaultKind::ServerError));
    let stores = ACCOUNTS.len() * REGIONS.len() * per_region;
    assert!(
        throttled > stores / 6 && failed > stores / 25,
        "throttled {throttled}, 5xx {failed}"
    );
    eprintln!(
        "20% throttling, 5% 5xx: {} accounts x {} regions, {stores} data stores, {} requests, in {took:.1?}",
        ACCOUNTS.len(),
        REGIONS.len(),
        log.len()
    );
}

/// Runs a collection where `REGIONS[0]` throttles every call for `window`, then
/// recovers, and checks that both regions are complete.
fn survives_a_throttling_window(window: Duration, per_region: usize) {
    let dir = tempfile::tempdir().unwrap();
    let regions = &REGIONS[..2];
    let emu = emulator(
        datastores(ACCOUNT, regions, per_region),
        Faults {
            throttle_windows: BTreeMap::from([(REGIONS[0].to_owned(), window)]),
            ..Faults::default()
        },
    );
    let (out, inv, took) = collect(&emu, dir.path(), regions, &[]);
    assert_eq!(out.code, Some(0), "stderr:\n{}", out.stderr);
    assert_complete(
        &emu,
        &inv.expect("the snapshot is written"),
        &[ACCOUNT],
        regions,
        per_region,
    );
    let log = emu.log();
    let in_window = log
        .iter()
        .filter(|e| e.fault == Some(FaultKind::ThrottlingWindow))
        .count();
    assert!(in_window > 0, "the window throttled nothing");
    // The client-side limit slowed the throttling region down: far fewer throttled
    // attempts than a fixed-rate client retrying every data store would make.
    let throttled_tags = log
        .iter()
        .filter(|e| {
            e.operation == "ListTagsForResource" && e.fault == Some(FaultKind::ThrottlingWindow)
        })
        .count();
    assert!(
        throttled_tags < 8 * per_region,
        "{throttled_tags} throttled tag calls"
    );
    assert!(took >= window, "{took:?}");
    eprintln!(
        "a {window:?} throttling window: {} throttled attempts, complete in {took:.1?}",
        in_window
    );
}

/// A region that throttles every call for 5 seconds (the 30-second case of the issue,
/// scaled for CI) and then recovers is still read in full.
#[test]
fn a_region_that_throttles_everything_for_a_while_is_still_complete() {
    survives_a_throttling_window(Duration::from_secs(5), 300);
}

/// The case: 30 seconds of throttling on every call, 1,200 data stores.
#[test]
#[ignore = "takes about a minute; run with --ignored"]
fn a_region_that_throttles_everything_for_30_seconds_is_still_complete() {
    survives_a_throttling_window(Duration::from_secs(30), 1_200);
}

/// Tags that answer AccessDenied are one ERROR for that data store, at once: one
/// ListTagsForResource request for it, no retry, and the rest is collected.
#[test]
fn a_data_store_whose_tags_are_denied_is_one_error_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let records = datastores(ACCOUNT, &REGIONS[..1], 40);
    let denied = records[7].arn().unwrap().to_owned();
    let emu = emulator(
        records,
        Faults {
            denied_resources: BTreeSet::from([denied.clone()]),
            ..Faults::default()
        },
    );
    let (out, inv, took) = collect(&emu, dir.path(), &REGIONS[..1], &[]);
    assert_eq!(out.code, Some(2), "stderr:\n{}", out.stderr);
    let inv = inv.expect("the snapshot is written");
    let errors: Vec<(&str, &str, Option<&str>)> = inv
        .errors
        .iter()
        .map(|e| (e.operation.as_str(), e.code.as_str(), e.resource.as_deref()))
        .collect();
    assert_eq!(
        errors,
        [(
            "ListTagsForResource",
            "AccessDeniedException",
            Some(denied.as_str())
        )]
    );
    assert!(
        !inv.errors[0].message.contains("attempts"),
        "{}",
        inv.errors[0].message
    );
    assert_eq!(inv.records.len(), 40);
    let asked = emu
        .log()
        .iter()
        .filter(|e| e.operation == "ListTagsForResource" && e.resource.as_deref() == Some(&denied))
        .count();
    assert_eq!(asked, 1, "the denied call was retried");
    assert!(took < Duration::from_secs(20), "{took:?}");
}

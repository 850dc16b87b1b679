//! Shared set-up of the `collect_*` end-to-end tests: data stores to serve, the emulator,
//! and `hlaudit` commands with a clean, fake AWS environment.

#![allow(dead_code)] // each test binary uses part of it

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use hlaudit_e2e::hlaudit;
use hlaudit_emulator::datastore::DatastoreJson;
use hlaudit_emulator::{Emulator, Faults, RunningEmulator};
use hlaudit_model::{Inventory, Record};
use serde_json::{json, Value};

/// The account of the test data.
pub const ACCOUNT: &str = "111122223333";
/// The access key of the test credentials.
pub const ACCESS_KEY: &str = "AKIDHLAUDITE2ETEST01";
/// The secret key: a sentinel that must never appear in any output, log or file.
pub const SECRET: &str = "SENTINELsecretKEYneverPRINTED0123456789ab";
/// A session token sentinel (sent in a header, so the likelier one to leak).
pub const SESSION_TOKEN: &str = "SENTINELsessionTOKENneverPRINTED9876543210";

/// Epoch seconds of data store 0's creation; data store `i` was created `i` hours later.
pub const CREATED_BASE: i64 = 1_700_000_000;

/// The statuses data stores cycle through.
pub const STATUSES: [&str; 5] = ["ACTIVE", "ACTIVE", "CREATING", "ACTIVE", "DELETED"];

/// Data store `i` of `region` in `account`: realistic fields, tags, and a field no SDK
/// knows (`FutureField`), which must reach the snapshot untouched.
pub fn datastore(account: &str, region: &str, i: usize) -> Record {
    encrypted_datastore(account, region, i, None)
}

/// [`datastore`], encrypted with the customer managed key `kms_key` when given (else
/// with an AWS owned key).
pub fn encrypted_datastore(account: &str, region: &str, i: usize, kms_key: Option<&str>) -> Record {
    let id = format!("{:08x}{:024x}", fnv(region), i);
    let store = DatastoreJson::new(account, region, &id)
        .name(format!("store-{i:05}"))
        .status(STATUSES[i % STATUSES.len()])
        .created_at(CREATED_BASE + 3600 * i as i64)
        .type_version("R4")
        .endpoint();
    let store = match kms_key {
        Some(key) => store.customer_managed_key(key),
        None => store.aws_owned_key(),
    };
    let value = store
        .aws_auth()
        .field(
            "FutureField",
            json!({"AddedBy": "a later API version", "Index": i, "Nested": [1, {"x": null}]}),
        )
        .build();
    let mut record = Record::from_value(&value).expect("test data store is valid");
    record.tags = Some(tags_of(region, i));
    record
}

/// The tags of data store `i` of `region` (every third has none).
pub fn tags_of(region: &str, i: usize) -> BTreeMap<String, String> {
    if i % 3 == 2 {
        return BTreeMap::new();
    }
    BTreeMap::from([
        (
            "Environment".to_owned(),
            if i.is_multiple_of(2) { "prod" } else { "dev" }.to_owned(),
        ),
        ("Index".to_owned(), i.to_string()),
        ("Region".to_owned(), region.to_owned()),
    ])
}

fn fnv(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// `count` data stores in each region.
pub fn datastores(account: &str, regions: &[&str], count: usize) -> Vec<Record> {
    regions
        .iter()
        .flat_map(|r| (0..count).map(move |i| datastore(account, r, i)))
        .collect()
}

/// An emulator serving `records` with `faults`, on its own thread and runtime.
pub fn emulator(records: Vec<Record>, faults: Faults) -> RunningEmulator {
    Emulator::builder()
        .records(records)
        .default_account(ACCOUNT)
        .faults(faults)
        .start_blocking()
        .expect("the emulator starts")
}

/// Removes every AWS setting inherited from the machine running the tests, so only
/// what the test sets counts (no real profile, no instance metadata lookups).
pub fn clean_aws_env(cmd: &mut Command, dir: &Path) {
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") || key == "HLAUDIT_HEALTHLAKE_REGIONS" {
            cmd.env_remove(key);
        }
    }
    cmd.env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
}

/// The base access key of the organization tests: moto takes it for its management
/// account.
pub const BASE_ACCESS_KEY: &str = "AKIDMANAGEMENTBASE01";

/// `hlaudit` with a clean AWS environment, the base credentials moto takes for its
/// management account, and moto (at `moto_endpoint`) for STS, Organizations, KMS and
/// Security Hub (and CloudTrail, where no trail exists): the set-up of every test that
/// assumes roles in member accounts.
pub fn moto_base_command(dir: &Path, moto_endpoint: &str) -> Command {
    let mut cmd = hlaudit();
    clean_aws_env(&mut cmd, dir);
    cmd.env("AWS_ACCESS_KEY_ID", BASE_ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", "base-secret");
    for service in ["STS", "ORGANIZATIONS", "KMS", "SECURITYHUB", "CLOUDTRAIL"] {
        cmd.env(format!("AWS_ENDPOINT_URL_{service}"), moto_endpoint);
    }
    cmd
}

/// `hlaudit SUBCOMMAND` against the emulator at `endpoint` with the sentinel
/// credentials, quick retries, no STS, no KMS and no CloudTrail.
pub fn aws_command(subcommand: &str, endpoint: &str, dir: &Path) -> Command {
    let mut cmd = default_retries_command(subcommand, endpoint, dir);
    cmd.args(["--initial-backoff-ms", "1"]);
    cmd
}

/// [`aws_command`] with the default retry settings (backoff, budget, rate limiting).
pub fn default_retries_command(subcommand: &str, endpoint: &str, dir: &Path) -> Command {
    let mut cmd = hlaudit();
    clean_aws_env(&mut cmd, dir);
    cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_SESSION_TOKEN", SESSION_TOKEN)
        .args([
            subcommand,
            "--endpoint-url",
            endpoint,
            "--no-caller-identity",
            "--no-kms",
            "--no-trails",
        ]);
    cmd
}

/// Reads a written snapshot with hlaudit's own reader.
pub fn read_snapshot(path: &Path) -> Inventory {
    let name = path.to_string_lossy().into_owned();
    hlaudit_model::snapshot::read_files(&[name])
        .unwrap_or_else(|e| panic!("the snapshot does not read back: {}", e.render()))
}

/// Reads a written snapshot as plain JSON.
pub fn snapshot_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Data store ids of an inventory, sorted.
pub fn ids(inv: &Inventory) -> Vec<String> {
    let mut ids: Vec<String> = inv
        .records
        .iter()
        .filter_map(|r| r.id().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

//! KMS key state as an enrichment, against moto's server (KMS and STS) from PyPI,
//! installed by `.ci/setup-python.sh` and started here on a free port: customer managed
//! keys are described (`KmsKey`: DescribeKey's metadata plus the rotation status), a
//! key that cannot be described is a collection error for its data store, and the
//! account of the credentials (STS GetCallerIdentity) is recorded in coverage.

mod collect_support;

use std::process::Command;

use collect_support::*;
use hlaudit_e2e::moto::{python_json, start as start_moto, venv_bin, Moto};
use hlaudit_e2e::{hlaudit, run};
use hlaudit_emulator::datastore::DatastoreJson;
use hlaudit_emulator::Faults;
use hlaudit_model::Record;
use serde_json::{json, Value};

/// moto's default account: the one its STS answers and its keys live in.
const MOTO_ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

/// Runs the AWS CLI from .venv against moto and returns its JSON output.
fn aws(moto: &Moto, dir: &std::path::Path, args: &[&str]) -> Value {
    let cli = venv_bin("aws");
    assert!(
        cli.exists(),
        "the AWS CLI is not installed at {}: run `bash .ci/setup-python.sh`",
        cli.display()
    );
    let mut cmd = Command::new(cli);
    clean_aws_env(&mut cmd, dir);
    let out = cmd
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .args([
            "--endpoint-url",
            &moto.endpoint,
            "--region",
            REGION,
            "--output",
            "json",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "aws {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

fn datastore_with_key(i: usize, sse: Value) -> Record {
    let store = DatastoreJson::new(MOTO_ACCOUNT, REGION, &format!("{i:032x}"))
        .name(format!("kms-{i}"))
        .status("ACTIVE")
        .created_at(1_700_000_000)
        .type_version("R4")
        .kms_encryption_config(sse);
    Record::from_value(&store.build()).unwrap()
}

fn kms_command(moto: &Moto, endpoint: &str, dir: &std::path::Path) -> Command {
    let mut cmd = hlaudit();
    clean_aws_env(&mut cmd, dir);
    cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_ENDPOINT_URL_KMS", &moto.endpoint)
        .env("AWS_ENDPOINT_URL_STS", &moto.endpoint)
        .env("AWS_ENDPOINT_URL_CLOUDTRAIL", &moto.endpoint)
        .args(["collect", "--region", REGION, "--endpoint-url", endpoint])
        .args(["--initial-backoff-ms", "1"]);
    cmd
}

#[test]
fn customer_managed_keys_are_described_and_failures_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let moto = start_moto();
    let rotating = aws(
        &moto,
        dir.path(),
        &["kms", "create-key", "--description", "rotating"],
    );
    let rotating_arn = rotating["KeyMetadata"]["Arn"].as_str().unwrap().to_owned();
    let rotating_id = rotating["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    aws(
        &moto,
        dir.path(),
        &["kms", "enable-key-rotation", "--key-id", &rotating_id],
    );
    let disabled = aws(
        &moto,
        dir.path(),
        &["kms", "create-key", "--description", "disabled"],
    );
    let disabled_id = disabled["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    aws(
        &moto,
        dir.path(),
        &["kms", "disable-key", "--key-id", &disabled_id],
    );
    let missing_arn =
        format!("arn:aws:kms:{REGION}:{MOTO_ACCOUNT}:key/00000000-0000-4000-8000-000000000000");

    let cmk = |key: &str| json!({"CmkType": "CUSTOMER_MANAGED_KMS_KEY", "KmsKeyId": key});
    let records = vec![
        datastore_with_key(0, cmk(&rotating_arn)),
        datastore_with_key(1, cmk(&disabled_id)),
        datastore_with_key(2, cmk(&rotating_arn)),
        datastore_with_key(3, json!({"CmkType": "AWS_OWNED_KMS_KEY"})),
        datastore_with_key(4, cmk(&missing_arn)),
    ];
    let arns: Vec<String> = records
        .iter()
        .filter_map(|r| r.arn().map(str::to_owned))
        .collect();
    let emu = emulator_for(records);

    let path = dir.path().join("kms.json");
    let out = run(kms_command(&moto, &emu.endpoint_url(), dir.path())
        .arg("-o")
        .arg(&path));
    assert_eq!(
        out.code,
        Some(2),
        "the missing key is a collection error\n{}",
        out.stderr
    );
    let inv = read_snapshot(&path);
    assert_eq!(
        inv.coverage.accounts,
        [MOTO_ACCOUNT],
        "the STS account is recorded"
    );
    let key_of = |i: usize| kms_key_of(&inv, &arns[i]);

    let k0 = key_of(0).expect("the rotating key is described");
    assert_eq!(k0["Arn"], rotating_arn.as_str());
    assert_eq!(k0["KeyState"], "Enabled");
    assert_eq!(k0["Enabled"], true);
    assert_eq!(k0["KeyManager"], "CUSTOMER");
    assert_eq!(k0["KeyRotationEnabled"], true);
    assert_eq!(key_of(2), Some(k0), "a shared key gives the same state");

    let k1 = key_of(1).expect("the disabled key is described");
    assert_eq!(k1["KeyState"], "Disabled");
    assert_eq!(k1["Enabled"], false);
    assert_eq!(k1["KeyRotationEnabled"], false);

    assert_eq!(key_of(3), None, "an AWS owned key has nothing to describe");
    assert_eq!(key_of(4), None);
    assert_eq!(inv.errors.len(), 1, "{:?}", inv.errors);
    let e = &inv.errors[0];
    assert_eq!(e.operation, "DescribeKey");
    assert_eq!(e.code, "NotFoundException");
    assert_eq!(e.resource.as_deref(), Some(arns[4].as_str()));
    assert_eq!(e.account.as_deref(), Some(MOTO_ACCOUNT));
    assert!(e.message.contains(&missing_arn), "{}", e.message);

    // --no-kms: nothing described, nothing failed.
    let path = dir.path().join("no-kms.json");
    let out = run(kms_command(&moto, &emu.endpoint_url(), dir.path())
        .args(["--no-kms", "-o"])
        .arg(&path));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let inv = read_snapshot(&path);
    assert!(inv
        .records
        .iter()
        .all(|r| !r.enrichments.contains_key("KmsKey")));
}

/// The `KmsKey` enrichment of the data store `arn` in `inv`.
fn kms_key_of(inv: &hlaudit_model::Inventory, arn: &str) -> Option<Value> {
    inv.records
        .iter()
        .find(|r| r.arn() == Some(arn))
        .unwrap_or_else(|| panic!("{arn} was not collected"))
        .enrichments
        .get("KmsKey")
        .cloned()
}

fn emulator_for(records: Vec<Record>) -> hlaudit_emulator::RunningEmulator {
    hlaudit_emulator::Emulator::builder()
        .records(records)
        .default_account(MOTO_ACCOUNT)
        .faults(Faults::default())
        .start_blocking()
        .unwrap()
}

/// A data store of account A encrypted with a key of account B: when the collection
/// holds B's credentials (another profile), the key is described in B with them, as its
/// owner sees it; a key of an account the collection has no credentials for is
/// described with A's credentials and, refused, is an ERROR for the data store.
#[test]
fn a_key_of_another_collected_account_is_described_with_that_accounts_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let moto = start_moto();
    let (a, b) = ("111111111111", "222222222222");
    let setup = python_json("kms_accounts_moto.py", &[&moto.endpoint, REGION, a, b]);
    let key = |account: &str, which: &str| {
        setup[account]["keys"][REGION][which]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let store = |account: &str, i: usize, key_arn: &str| {
        let json = DatastoreJson::new(account, REGION, &format!("{i:032x}"))
            .name(format!("cross-{i}"))
            .status("ACTIVE")
            .created_at(1_700_000_000)
            .type_version("R4")
            .customer_managed_key(key_arn);
        Record::from_value(&json.build()).unwrap()
    };
    let unknown_account_key =
        format!("arn:aws:kms:{REGION}:333333333333:key/00000000-0000-4000-8000-000000000001");
    let records = vec![
        store(a, 0, &key(b, "rotating")),
        store(a, 1, &unknown_account_key),
        store(b, 2, &key(b, "disabled")),
    ];
    let arns: Vec<String> = records
        .iter()
        .map(|r| r.arn().unwrap().to_owned())
        .collect();
    let emu = hlaudit_emulator::Emulator::builder()
        .records(records)
        .sts_endpoint(&moto.endpoint)
        .faults(Faults::default())
        .start_blocking()
        .unwrap();
    let mut credentials = String::new();
    for account in [a, b] {
        credentials.push_str(&format!(
            "[acct-{account}]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n",
            setup[account]["access_key"].as_str().unwrap(),
            setup[account]["secret_key"].as_str().unwrap()
        ));
    }
    std::fs::write(dir.path().join("credentials"), credentials).unwrap();

    let path = dir.path().join("cross.json");
    let mut cmd = hlaudit();
    clean_aws_env(&mut cmd, dir.path());
    cmd.env(
        "AWS_SHARED_CREDENTIALS_FILE",
        dir.path().join("credentials"),
    )
    .env("AWS_ENDPOINT_URL_KMS", &moto.endpoint)
    .env("AWS_ENDPOINT_URL_STS", &moto.endpoint)
    .env("AWS_ENDPOINT_URL_CLOUDTRAIL", &moto.endpoint)
    .args([
        "collect",
        "--region",
        REGION,
        "--endpoint-url",
        &emu.endpoint_url(),
    ])
    .args([
        "--profile",
        &format!("acct-{a}"),
        "--profile",
        &format!("acct-{b}"),
    ])
    .args(["--initial-backoff-ms", "1", "-o"])
    .arg(&path);
    let out = run(&mut cmd);
    assert_eq!(
        out.code,
        Some(2),
        "the unknown account's key fails\n{}",
        out.stderr
    );
    let inv = read_snapshot(&path);
    let key_of = |i: usize| kms_key_of(&inv, &arns[i]);
    let shared = key_of(0).expect("B's key is described with B's credentials");
    assert_eq!(shared["Arn"], key(b, "rotating").as_str());
    assert_eq!(shared["AWSAccountId"], b);
    assert_eq!(shared["KeyRotationEnabled"], true);
    let own = key_of(2).expect("B's own key");
    assert_eq!(own["KeyState"], "Disabled");
    assert_eq!(key_of(1), None);
    assert_eq!(inv.errors.len(), 1, "{:?}", inv.errors);
    let e = &inv.errors[0];
    assert_eq!(
        (e.operation.as_str(), e.code.as_str()),
        ("DescribeKey", "NotFoundException")
    );
    assert_eq!(e.resource.as_deref(), Some(arns[1].as_str()));
    assert_eq!(e.account.as_deref(), Some(a));
}

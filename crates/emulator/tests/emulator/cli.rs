//! The binary, and wire compatibility with the AWS CLI (v1 from PyPI, installed in
//! `.venv` by `.ci/setup-python.sh`).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use hlaudit_emulator::datastore::DatastoreJson;
use hlaudit_emulator::{Emulator, RunningEmulator};
use serde_json::{json, Value};

use crate::common::*;

/// Kills the child when dropped, so a failing assertion never leaks a server.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_binary_prints_its_address_and_serves_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("list.json");
    let list: Vec<Value> = records(ACCOUNT, "eu-west-2", 12)
        .iter()
        .map(|r| r.properties())
        .collect();
    std::fs::write(
        &snapshot,
        json!({"DatastorePropertiesList": list}).to_string(),
    )
    .unwrap();
    let log = dir.path().join("requests.jsonl");

    let mut child = Command::new(env!("CARGO_BIN_EXE_hlaudit-emulator"))
        .arg("--snapshot")
        .arg(&snapshot)
        .args([
            "--port",
            "0",
            "--page-size",
            "5",
            "--deny-region",
            "us-east-1",
        ])
        .args(["--access-key", &format!("{KEY}={ACCOUNT}")])
        .arg("--request-log")
        .arg(&log)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
    let addr: std::net::SocketAddr = url.parse().unwrap();

    let (got, pages) = list_all(addr, signed("eu-west-2"), None, None);
    assert_eq!((got.len(), pages), (12, 3));
    let r = op(addr, "ListFHIRDatastores", "us-east-1", json!({}));
    assert_eq!(r.error_code(), "AccessDeniedException");
    drop(server);
    let lines = std::fs::read_to_string(&log).unwrap();
    assert_eq!(lines.lines().count(), 4);
}

#[test]
fn the_binary_refuses_bad_settings_and_bad_snapshots() {
    let out = Command::new(env!("CARGO_BIN_EXE_hlaudit-emulator"))
        .args(["--throttle-rate", "1.5"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("throttle_rate"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "[{\"DatastoreId\": \"x\"}]").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hlaudit-emulator"))
        .arg("--snapshot")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.json") && err.contains("DatastoreArn"),
        "{err}"
    );
}

/// The AWS CLI installed by `.ci/setup-python.sh`; the test fails (never skips)
/// without it.
fn aws_cli() -> PathBuf {
    let aws = hlaudit_testkit::repo_root().join(".venv/bin/aws");
    assert!(
        aws.is_file(),
        "the AWS CLI is not installed at {}: run `.ci/setup-python.sh` from the repository root first",
        aws.display()
    );
    aws
}

fn aws(emu: &RunningEmulator, region: &str, args: &[&str]) -> Result<Value, String> {
    let mut cmd = Command::new(aws_cli());
    for var in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_HEALTHLAKE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_CA_BUNDLE",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd
        .env("AWS_ACCESS_KEY_ID", KEY)
        .env("AWS_SECRET_ACCESS_KEY", "emulator-test-secret")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        // The profile operations' host prefix (`datatransformation.`) would name a host
        // that does not resolve; the endpoint given is the host to talk to.
        .env("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
        .args(["healthlake"])
        .args(args)
        .args([
            "--endpoint-url",
            &emu.endpoint_url(),
            "--region",
            region,
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Every page through the CLI (`list-fhir-datastores` has no paginator in botocore,
/// so the CLI prints one page and its `NextToken`).
fn cli_list_all(emu: &RunningEmulator, region: &str, extra: &[&str]) -> (Vec<Value>, usize) {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut args = vec!["list-fhir-datastores"];
        args.extend_from_slice(extra);
        if let Some(t) = &token {
            args.extend(["--next-token", t.as_str()]);
        }
        let page = aws(emu, region, &args).unwrap();
        pages += 1;
        out.extend(
            page["DatastorePropertiesList"]
                .as_array()
                .unwrap()
                .iter()
                .cloned(),
        );
        match page.get("NextToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_owned()),
            None => return (out, pages),
        }
        assert!(pages < 100);
    }
}

#[test]
fn aws_cli_output_equals_the_emulator_data() {
    let mut data = records(ACCOUNT, "us-east-1", 230);
    data.extend(records(ACCOUNT, "eu-west-1", 9));
    data.push(
        hlaudit_model::Record::from_value(
            &DatastoreJson::new(ACCOUNT, "eu-west-1", "iso")
                .status("ACTIVE")
                .created_at("2020-10-27T01:11:04.881000+00:00")
                .build(),
        )
        .unwrap(),
    );
    let emu = Emulator::builder()
        .records(data)
        .access_key(KEY, ACCOUNT)
        .start_blocking()
        .unwrap();

    // All pages, default page size and an explicit one: the same records, in order,
    // field for field.
    let want = emu.datastores(ACCOUNT, "us-east-1");
    let (got, pages) = cli_list_all(&emu, "us-east-1", &[]);
    assert_eq!(pages, 3);
    assert_eq!(got, want);
    let (got, pages) = cli_list_all(&emu, "us-east-1", &["--max-results", "60"]);
    assert_eq!((got == want, pages), (true, 4));

    // Another region, a filter, and an ISO 8601 timestamp that goes out as epoch seconds.
    let want = emu.datastores(ACCOUNT, "eu-west-1");
    let (got, _) = cli_list_all(&emu, "eu-west-1", &[]);
    assert_eq!(got, want);
    assert_eq!(
        got.last().unwrap()["CreatedAt"].as_f64(),
        Some(1603761064.881)
    );
    let (got, _) = cli_list_all(&emu, "eu-west-1", &["--filter", "DatastoreStatus=DELETED"]);
    let deleted: Vec<Value> = want
        .iter()
        .filter(|v| v["DatastoreStatus"] == "DELETED")
        .cloned()
        .collect();
    assert_eq!(got, deleted);

    // Tags and describe.
    let arn = want[4]["DatastoreArn"].as_str().unwrap();
    let tags = aws(
        &emu,
        "eu-west-1",
        &["list-tags-for-resource", "--resource-arn", arn],
    )
    .unwrap();
    let tags: Vec<(String, String)> = tags["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["Key"].as_str().unwrap().to_owned(),
                t["Value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(tags, emu.tags(arn).unwrap().into_iter().collect::<Vec<_>>());
    let id = want[4]["DatastoreId"].as_str().unwrap();
    let described = aws(
        &emu,
        "eu-west-1",
        &["describe-fhir-datastore", "--datastore-id", id],
    )
    .unwrap();
    assert_eq!(described["DatastoreProperties"], want[4]);

    // Errors reach the CLI by name.
    let err = aws(
        &emu,
        "eu-west-1",
        &["describe-fhir-datastore", "--datastore-id", "nope"],
    )
    .unwrap_err();
    assert!(err.contains("ResourceNotFoundException"), "{err}");
    let err = aws(
        &emu,
        "us-east-1",
        &["list-fhir-datastores", "--max-results", "501"],
    )
    .unwrap_err();
    assert!(
        err.contains("ValidationException") || err.contains("501"),
        "{err}"
    );

    // The CLI signed for the region it was given.
    assert!(emu
        .log()
        .iter()
        .all(|e| e.region.is_some() && e.account.as_deref() == Some(ACCOUNT)));
}

/// The AWS CLI reads the jobs and profiles the emulator serves (botocore's model is an
/// independent check of the shapes), and the binary generates jobs with
/// `--synthetic-jobs`.
#[test]
fn aws_cli_reads_jobs_and_profiles_and_the_binary_generates_jobs() {
    let stores = records(ACCOUNT, "us-east-1", 2);
    let jobs = hlaudit_emulator::synthetic::jobs(&stores[0], 4, 1, 1_750_000_000).unwrap();
    let emu = Emulator::builder()
        .records(stores.clone())
        .records(jobs)
        .profiles(
            ACCOUNT,
            "us-east-1",
            [
                json!({"ProfileId": "p1", "Version": 1, "SourceFormat": "CSV",
                    "TargetFormat": "FHIR_R4", "ProfileName": "claims-csv",
                    "LastUpdatedAt": 1_700_000_000, "ProfileMapping": {"a": "b"}}),
            ],
        )
        .access_key(KEY, ACCOUNT)
        .start_blocking()
        .unwrap();
    let ds = stores[0].id().unwrap();
    for (command, key, kind) in [
        (
            "list-fhir-export-jobs",
            "ExportJobPropertiesList",
            hlaudit_model::Kind::ExportJob,
        ),
        (
            "list-fhir-import-jobs",
            "ImportJobPropertiesList",
            hlaudit_model::Kind::ImportJob,
        ),
    ] {
        let listed = aws(&emu, "us-east-1", &[command, "--datastore-id", ds]).unwrap();
        assert_eq!(
            listed[key].as_array().unwrap(),
            &emu.jobs(ACCOUNT, "us-east-1", ds, kind),
            "{command}"
        );
    }
    let profiles = aws(
        &emu,
        "us-east-1",
        &[
            "list-data-transformation-profiles",
            "--source-format",
            "CSV",
        ],
    )
    .unwrap();
    assert_eq!(profiles["Items"][0]["ProfileName"], "claims-csv");
    assert!(profiles["Items"][0].get("ProfileMapping").is_none());

    let mut child = Command::new(env!("CARGO_BIN_EXE_hlaudit-emulator"))
        .args([
            "--port",
            "0",
            "--synthetic",
            "eu-west-2=2",
            "--synthetic-jobs",
            "3",
        ])
        .args(["--default-account", ACCOUNT])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let addr: std::net::SocketAddr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap()
        .parse()
        .unwrap();
    let (stores, _) = list_all(addr, signed("eu-west-2"), None, None);
    assert_eq!(stores.len(), 2);
    for store in &stores {
        let body = json!({"DatastoreId": store["DatastoreId"]});
        let exports = op(addr, "ListFHIRExportJobs", "eu-west-2", body.clone()).json();
        let imports = op(addr, "ListFHIRImportJobs", "eu-west-2", body).json();
        assert_eq!(
            exports["ExportJobPropertiesList"].as_array().unwrap().len(),
            3
        );
        assert_eq!(
            imports["ImportJobPropertiesList"].as_array().unwrap().len(),
            3
        );
    }
    drop(server);
}

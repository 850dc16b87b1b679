//! Credentials and endpoints (issue 6): the secret key and session token never appear
//! in stdout, stderr or any written file, even at `-vv`; `AWS_ENDPOINT_URL_HEALTHLAKE`
//! is honoured without `--endpoint-url`; several profiles collect several accounts; a
//! failed run leaves no file behind and never touches the previous one.

mod collect_support;

use std::path::Path;

use collect_support::*;
use hlaudit_e2e::{hlaudit, run, Run};
use hlaudit_emulator::{Emulator, Faults, RegionSet};

const REGIONS: [&str; 2] = ["us-east-1", "ca-central-1"];

fn assert_no_secret(what: &str, text: &str) {
    for sentinel in [SECRET, SESSION_TOKEN] {
        assert!(
            !text.contains(sentinel),
            "{what} contains a credential sentinel:\n{text}"
        );
    }
}

fn assert_clean(out: &Run, dir: &Path) {
    assert_no_secret("stdout", &out.stdout);
    assert_no_secret("stderr", &out.stderr);
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert_no_secret(
                &path.display().to_string(),
                &String::from_utf8_lossy(&bytes),
            );
        }
    }
}

#[test]
fn credentials_never_appear_in_output_logs_or_files_at_debug_verbosity() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(
        datastores(ACCOUNT, &REGIONS, 30),
        Faults {
            seed: 3,
            throttle_rate: 0.2,
            server_error_rate: 0.1,
            access_denied: RegionSet::only(["ca-central-1"]),
            ..Faults::default()
        },
    );
    let snapshot = dir.path().join("snap.json");
    let out = run(aws_command("collect", &emu.endpoint_url(), dir.path())
        .arg("-vv")
        .args(["--regions", &REGIONS.join(","), "--page-size", "7", "-o"])
        .arg(&snapshot));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("DEBUG"),
        "-vv logs at debug level:\n{}",
        out.stderr
    );
    assert!(snapshot.exists());
    assert_clean(&out, dir.path());

    let saved = dir.path().join("scan.json");
    let out = run(aws_command("scan", &emu.endpoint_url(), dir.path())
        .arg("-vv")
        .args([
            "--regions",
            &REGIONS.join(","),
            "--allow-partial",
            "--save-snapshot",
        ])
        .arg(&saved));
    assert!(matches!(out.code, Some(0 | 1)), "{}", out.stderr);
    assert!(saved.exists());
    assert_clean(&out, dir.path());
}

#[test]
fn the_service_specific_endpoint_variable_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(datastores(ACCOUNT, &["us-west-2"], 12), Faults::default());
    let path = dir.path().join("env.json");
    let mut cmd = hlaudit();
    clean_aws_env(&mut cmd, dir.path());
    let out = run(cmd
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_REGION", "us-west-2")
        .env("AWS_ENDPOINT_URL_HEALTHLAKE", emu.endpoint_url())
        .args([
            "collect",
            "--no-caller-identity",
            "--no-kms",
            "--no-trails",
            "-o",
        ])
        .arg(&path));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let inv = read_snapshot(&path);
    assert_eq!(inv.records.len(), 12);
    assert_eq!(
        inv.coverage.regions,
        ["us-west-2"],
        "the region came from AWS_REGION"
    );
    assert!(emu
        .log()
        .iter()
        .all(|e| e.region.as_deref() == Some("us-west-2")));
}

#[test]
fn several_profiles_collect_several_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = ("111111111111", "222222222222");
    let mut records = datastores(a, &["eu-west-1"], 5);
    records.extend(datastores(b, &["eu-west-1"], 7));
    let emu = Emulator::builder()
        .records(records)
        .access_key("AKIDPROFILEA", a)
        .access_key("AKIDPROFILEB", b)
        .start_blocking()
        .unwrap();
    // The credentials file holds the sentinel on purpose: keep it out of the checked
    // directory.
    let secrets = tempfile::tempdir().unwrap();
    let credentials = secrets.path().join("credentials");
    std::fs::write(
        &credentials,
        format!(
            "[team-a]\naws_access_key_id = AKIDPROFILEA\naws_secret_access_key = {SECRET}\n\n\
             [team-b]\naws_access_key_id = AKIDPROFILEB\naws_secret_access_key = {SECRET}\n"
        ),
    )
    .unwrap();
    let path = dir.path().join("two.json");
    let mut cmd = hlaudit();
    clean_aws_env(&mut cmd, dir.path());
    let out = run(cmd
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .args([
            "-vv",
            "collect",
            "--profile",
            "team-a",
            "--profile",
            "team-b",
        ])
        .args(["--region", "eu-west-1", "--no-caller-identity", "--no-kms"])
        .arg("--no-trails")
        .args(["--endpoint-url", &emu.endpoint_url(), "-o"])
        .arg(&path));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let inv = read_snapshot(&path);
    assert_eq!(inv.records.len(), 12);
    assert_eq!(inv.coverage.accounts, [a, b]);
    assert_eq!(
        inv.records
            .iter()
            .filter(|r| r.account() == Some(a))
            .count(),
        5
    );
    assert_clean(&out, dir.path());
}

#[test]
fn a_failed_run_leaves_the_previous_snapshot_untouched_and_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keep.json");
    std::fs::write(&path, "previous").unwrap();
    // No region anywhere: a configuration error before any request.
    let mut cmd = hlaudit();
    clean_aws_env(&mut cmd, dir.path());
    let out = run(cmd
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .args(["collect", "--no-caller-identity", "-o"])
        .arg(&path));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("no region"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["keep.json"]);

    // An output directory that does not exist: the collection runs, the write fails.
    let emu = emulator(datastores(ACCOUNT, &["us-east-1"], 3), Faults::default());
    let missing = dir.path().join("no-such-dir").join("out.json");
    let out = run(aws_command("collect", &emu.endpoint_url(), dir.path())
        .args(["--region", "us-east-1", "-o"])
        .arg(&missing));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(!missing.exists());
}

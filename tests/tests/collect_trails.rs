//! Who records each data store's data events (issue 18), against moto's server
//! (CloudTrail, S3, STS) from PyPI, with the data stores served by the emulator: trails
//! seen per region with their shadow trails, read in their home region, their advanced
//! event selectors evaluated per data store into the `DataEvents` enrichment, and the
//! built-in policy HL-LOG-01 deciding from it; a trail listing that is denied is an
//! ERROR for every data store of the region.

mod collect_support;

use std::path::Path;
use std::process::Command;

use collect_support::*;
use hlaudit_e2e::moto::{python_json, start as start_moto, Moto};
use hlaudit_e2e::{hlaudit, run};
use hlaudit_emulator::datastore::DatastoreJson;
use hlaudit_emulator::{Emulator, Faults, RunningEmulator};
use hlaudit_model::{Inventory, Record};
use hlaudit_testkit::report::Report;
use serde_json::{json, Value};

/// moto's default account: the one STS answers for any key it does not know.
const MOTO_ACCOUNT: &str = "123456789012";
const HOME: &str = "us-east-1";
const OTHER: &str = "eu-west-2";
const POLICY: &str = "HL-LOG-01";

fn store(region: &str, i: usize) -> Record {
    let json = DatastoreJson::new(MOTO_ACCOUNT, region, &format!("{i:032x}"))
        .name(format!("trail-{i}"))
        .status("ACTIVE")
        .created_at(1_700_000_000)
        .type_version("R4")
        .aws_owned_key();
    Record::from_value(&json.build()).unwrap()
}

fn emulator_of(records: Vec<Record>) -> RunningEmulator {
    Emulator::builder()
        .records(records)
        .default_account(MOTO_ACCOUNT)
        .faults(Faults::default())
        .start_blocking()
        .unwrap()
}

/// An advanced selector of HealthLake data events with `extra` field selectors.
fn healthlake(extra: Value) -> Value {
    let mut fields = vec![
        json!({"Field": "eventCategory", "Equals": ["Data"]}),
        json!({"Field": "resources.type", "Equals": ["AWS::HealthLake::FHIRDatastore"]}),
    ];
    fields.extend(extra.as_array().cloned().unwrap_or_default());
    json!({"Name": "healthlake", "FieldSelectors": fields})
}

fn collect_command(moto: &Moto, emu: &RunningEmulator, dir: &Path, regions: &str) -> Command {
    let mut cmd = hlaudit();
    clean_aws_env(&mut cmd, dir);
    cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_ENDPOINT_URL_STS", &moto.endpoint)
        .env("AWS_ENDPOINT_URL_CLOUDTRAIL", &moto.endpoint)
        .args(["collect", "--endpoint-url", &emu.endpoint_url()])
        .args(["--regions", regions])
        .args(["--no-kms", "--initial-backoff-ms", "1"]);
    cmd
}

fn data_events<'a>(inv: &'a Inventory, arn: &str) -> Option<&'a Value> {
    inv.records
        .iter()
        .find(|r| r.arn() == Some(arn))
        .unwrap_or_else(|| panic!("{arn} was not collected"))
        .enrichments
        .get("DataEvents")
}

/// The names of the trails listed for `arn`, sorted.
fn trail_names(inv: &Inventory, arn: &str) -> Vec<String> {
    let events = data_events(inv, arn).expect("trails were read");
    let mut names: Vec<String> = events["Trails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["Name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

fn trail<'a>(inv: &'a Inventory, arn: &str, name: &str) -> &'a Value {
    data_events(inv, arn).unwrap()["Trails"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["Name"] == name)
        .unwrap_or_else(|| panic!("{name} is not listed for {arn}"))
}

/// The status of HL-LOG-01 for each data store of the snapshot at `path`.
fn policy_statuses(path: &Path) -> Vec<(String, String)> {
    let out = run(hlaudit()
        .args(["check", "--format", "json", "--only", POLICY])
        .arg(path));
    // Every pair: PASS ones are rebuilt from the report's compact section.
    let report = Report::parse(&out.stdout);
    let mut statuses: Vec<(String, String)> = report
        .findings_of(POLICY)
        .map(|f| {
            (
                f.resource().name.as_deref().unwrap_or("-").to_owned(),
                f.status.as_str().to_owned(),
            )
        })
        .collect();
    statuses.sort();
    statuses
}

/// The (permission, result) of the CloudTrail rows of `collect --check-access`.
fn access_checks(mut cmd: Command) -> Vec<(String, String)> {
    let out = run(cmd.args(["--check-access", "--format", "json"]));
    let checks: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", out.stdout, out.stderr));
    checks
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["permission"].as_str().unwrap().starts_with("cloudtrail:"))
        .map(|c| {
            (
                c["permission"].as_str().unwrap().to_owned(),
                c["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn status(name: &str, status: &str) -> (String, String) {
    (name.to_owned(), status.to_owned())
}

/// One run covers the cases of the issue: a trail selecting every data store, a
/// selector naming another data store's ARN only, a stopped trail, and a multi-region
/// trail of another home region seen as a shadow trail.
#[test]
fn trails_that_record_each_data_store_are_found_and_judged() {
    let dir = tempfile::tempdir().unwrap();
    let moto = start_moto();
    let (a, c, d) = (store(HOME, 0), store(OTHER, 1), store(OTHER, 2));
    let arn = |r: &Record| r.arn().unwrap().to_owned();
    let (a_arn, c_arn, d_arn) = (arn(&a), arn(&c), arn(&d));
    let trails = json!([
        // Every data store of us-east-1, reads and writes.
        {"name": "all-stores", "region": HOME, "logging": true,
         "advanced": [healthlake(json!([]))]},
        // Multi-region, home us-east-1: the writes of eu-west-2's data stores only.
        {"name": "multi-writes", "region": HOME, "multi_region": true, "logging": true,
         "advanced": [healthlake(json!([
            {"Field": "readOnly", "Equals": ["false"]},
            {"Field": "resources.ARN", "StartsWith": [format!("arn:aws:healthlake:{OTHER}:")]}]))]},
        // D's ARN only.
        {"name": "d-only", "region": OTHER, "logging": true,
         "advanced": [healthlake(json!([{"Field": "resources.ARN", "Equals": [d_arn]}]))]},
        // Everything, but stopped.
        {"name": "stopped", "region": OTHER, "logging": false,
         "advanced": [healthlake(json!([]))]},
        // Management events only.
        {"name": "management", "region": OTHER, "logging": true,
         "advanced": [{"Name": "m", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Management"]}]}]},
    ]);
    let arns = python_json("cloudtrail_moto.py", &[&moto.endpoint, &trails.to_string()]);
    let emu = emulator_of(vec![a, c, d]);
    let path = dir.path().join("trails.json");
    let out = run(
        collect_command(&moto, &emu, dir.path(), &format!("{HOME},{OTHER}"))
            .arg("-o")
            .arg(&path),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let inv = read_snapshot(&path);
    assert!(inv.errors.is_empty(), "{:?}", inv.errors);

    assert_eq!(trail_names(&inv, &a_arn), ["all-stores"]);
    let all = trail(&inv, &a_arn, "all-stores");
    assert_eq!(all["TrailARN"], arns["all-stores"]);
    assert_eq!(
        (&all["IsLogging"], &all["Reads"], &all["Writes"]),
        (&json!(true), &json!("all"), &json!("all"))
    );

    assert_eq!(trail_names(&inv, &c_arn), ["multi-writes", "stopped"]);
    assert_eq!(
        trail_names(&inv, &d_arn),
        ["d-only", "multi-writes", "stopped"]
    );
    let shadow = trail(&inv, &c_arn, "multi-writes");
    assert_eq!(shadow["HomeRegion"], HOME, "read as a shadow trail");
    assert_eq!(shadow["IsMultiRegionTrail"], true);
    assert_eq!(
        (&shadow["Reads"], &shadow["Writes"]),
        (&json!("none"), &json!("all"))
    );
    assert_eq!(trail(&inv, &c_arn, "stopped")["IsLogging"], false);
    assert_eq!(trail(&inv, &d_arn, "d-only")["IsLogging"], true);

    assert_eq!(
        policy_statuses(&path),
        [
            status("trail-0", "PASS"),
            status("trail-1", "FAIL"),
            status("trail-2", "PASS"),
        ]
    );

    // --check-access makes the three calls as the collection does: each granted.
    let checks = access_checks(collect_command(&moto, &emu, dir.path(), HOME));
    assert_eq!(
        checks,
        [
            ("cloudtrail:DescribeTrails".to_owned(), "granted".to_owned()),
            ("cloudtrail:GetTrailStatus".to_owned(), "granted".to_owned()),
            (
                "cloudtrail:GetEventSelectors".to_owned(),
                "granted".to_owned()
            ),
        ]
    );

    // --no-trails: no enrichment, and the policy fails closed.
    let path = dir.path().join("no-trails.json");
    let out = run(
        collect_command(&moto, &emu, dir.path(), &format!("{HOME},{OTHER}"))
            .args(["--no-trails", "-o"])
            .arg(&path),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let inv = read_snapshot(&path);
    assert!(inv.records.iter().all(|r| r.enrichments.is_empty()));
    assert!(policy_statuses(&path).iter().all(|(_, s)| s == "FAIL"));
}

/// A trail listing that is refused leaves every data store of the region undecided: an
/// ERROR for each (exit 2), no `DataEvents`, and HL-LOG-01 fails closed.
#[test]
fn a_denied_trail_listing_is_an_error_for_every_data_store_of_the_region() {
    let dir = tempfile::tempdir().unwrap();
    let moto = start_moto();
    let records = vec![store(HOME, 10), store(HOME, 11)];
    let mut arns: Vec<String> = records
        .iter()
        .map(|r| r.arn().unwrap().to_owned())
        .collect();
    arns.sort();
    let user = python_json("cloudtrail_denied_moto.py", &[&moto.endpoint]);
    let emu = emulator_of(records);
    let path = dir.path().join("denied.json");
    let out = run(collect_command(&moto, &emu, dir.path(), HOME)
        .env("AWS_ACCESS_KEY_ID", user["access_key"].as_str().unwrap())
        .env(
            "AWS_SECRET_ACCESS_KEY",
            user["secret_key"].as_str().unwrap(),
        )
        .arg("-o")
        .arg(&path));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("DescribeTrails"), "{}", out.stderr);
    // moto answers the denial with an XML body, which a JSON-protocol client cannot
    // read (AWS sends `{"__type": "AccessDeniedException"}`), so the code is not
    // AccessDeniedException here; what matters is where the error lands.
    let inv = read_snapshot(&path);
    assert_eq!(inv.records.len(), 2);
    assert!(inv.records.iter().all(|r| r.enrichments.is_empty()));
    let mut failed: Vec<String> = inv
        .errors
        .iter()
        .map(|e| {
            assert_eq!(e.operation, "DescribeTrails", "{e:?}");
            assert_eq!(e.region.as_deref(), Some(HOME));
            assert_eq!(e.account.as_deref(), Some(MOTO_ACCOUNT));
            e.resource.clone().unwrap()
        })
        .collect();
    failed.sort();
    assert_eq!(failed, arns, "one error per data store of the region");
    let scope = &inv.coverage.scopes[0];
    assert_eq!((scope.errors, scope.datastores), (2, 2), "{scope:?}");
    assert!(policy_statuses(&path).iter().all(|(_, s)| s == "FAIL"));

    // --check-access says so before a run, and tries nothing that depends on the listing.
    // (moto's XML answer to a JSON protocol hides the code, so the refusal may read as
    // failed rather than denied; either way the permission is missing.)
    let mut cmd = collect_command(&moto, &emu, dir.path(), HOME);
    cmd.env("AWS_ACCESS_KEY_ID", user["access_key"].as_str().unwrap())
        .env(
            "AWS_SECRET_ACCESS_KEY",
            user["secret_key"].as_str().unwrap(),
        );
    let checks = access_checks(cmd);
    let results: Vec<&str> = checks.iter().map(|(_, r)| r.as_str()).collect();
    assert_eq!(checks[0].0, "cloudtrail:DescribeTrails", "{checks:?}");
    assert!(
        matches!(
            results[..],
            ["denied" | "failed", "not-tested", "not-tested"]
        ),
        "{checks:?}"
    );
}

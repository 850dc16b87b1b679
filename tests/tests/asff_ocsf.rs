//! The ASFF and OCSF reports of real runs, checked by the tools made for them: every ASFF
//! finding of the demo (and of a snapshot of hostile strings and the longest messages)
//! passes botocore's own model of `BatchImportFindings` (tests/python/validate_asff.py),
//! and every OCSF event passes py-ocsf-models (tests/python/validate_ocsf.py), both from
//! `.venv` (installed by `.ci/setup-python.sh`). The validators are shown to refuse what
//! the service and the schema refuse, so a passing run means something.

// Test helpers: a report that lacks what the test reads is a failure, so failing loudly is right.
#![allow(clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use hlaudit_e2e::moto::venv_bin;
use hlaudit_e2e::{hlaudit, repo_root, run, Run};
use hlaudit_report::asff::limits::TRUNCATED;
use hlaudit_report::asff::AsffFinding;
use hlaudit_testkit::report::{Report, Status};
use serde_json::{json, Value};

const DEMO: &str = "fixtures/demo/snapshot.json";
const AS_OF: &str = "2026-11-28T09:30:00Z";

/// Runs one of the validators of `tests/python` on a file.
fn validate(script: &str, file: &Path) -> Run {
    let python = venv_bin("python");
    assert!(
        python.exists(),
        "Python is not installed at {}: run `bash .ci/setup-python.sh` (CI does it through \
         .ci/test.sh) to install botocore and py-ocsf-models in .venv",
        python.display()
    );
    run(Command::new(python)
        .arg(repo_root().join("tests/python").join(script))
        .arg(file))
}

/// Asserts that both validators accept the run's files.
fn assert_valid(asff: &Path, ocsf: &Path) {
    let a = validate("validate_asff.py", asff);
    assert_eq!(a.code, Some(0), "ASFF refused:\n{}", a.stderr);
    let o = validate("validate_ocsf.py", ocsf);
    assert_eq!(o.code, Some(0), "OCSF refused:\n{}", o.stderr);
}

fn read_asff(path: &Path) -> Vec<AsffFinding> {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn read_ocsf(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn the_demo_passes_botocores_model_and_the_ocsf_models() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let out = run(hlaudit().args([
        "check",
        DEMO,
        "--as-of",
        AS_OF,
        "--format",
        "none",
        "--asff-passed",
        "-o",
        &format!("asff={}", path("a.json").display()),
        "-o",
        &format!("ocsf={}", path("o.jsonl").display()),
        "-o",
        &format!("json={}", path("r.json").display()),
    ]));
    assert_eq!(out.code, Some(1), "stderr:\n{}", out.stderr);
    assert_valid(&path("a.json"), &path("o.jsonl"));

    // One ASFF finding and one OCSF event per FAIL, ERROR, WAIVED and PASS pair, each with
    // the finding's fingerprint.
    let report = Report::read(path("r.json"));
    let written: BTreeSet<&str> = report
        .findings
        .iter()
        .filter(|f| f.status != Status::Skip)
        .map(|f| f.fingerprint.as_str())
        .collect();
    let asff = read_asff(&path("a.json"));
    let ocsf = read_ocsf(&path("o.jsonl"));
    assert_eq!(asff.len(), written.len());
    assert_eq!(ocsf.len(), written.len());
    let asff_ids: BTreeSet<&str> = asff.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        asff_ids, written,
        "one finding per pair, keyed on the fingerprint"
    );
    let ocsf_ids: BTreeSet<&str> = ocsf
        .iter()
        .map(|e| e["finding_info"]["uid"].as_str().unwrap())
        .collect();
    assert_eq!(ocsf_ids, written);

    // Each finding is in its own account and region, and FAILs are new and failed.
    let fail = report
        .findings
        .iter()
        .find(|f| f.status == Status::Fail)
        .expect("the demo fails something");
    let a = asff.iter().find(|f| f.id == fail.fingerprint).unwrap();
    let arn = fail.resource.as_ref().expect("a data store").arn.clone();
    assert_eq!(a.resources[0].id, arn);
    assert!(a
        .product_arn
        .contains(&format!(":{}:product/", a.aws_account_id)));
    assert!(arn.contains(&format!(":{}:", a.aws_account_id)));
    assert_eq!(a.compliance.as_ref().unwrap().status, "FAILED");
    assert_eq!(a.workflow.as_ref().unwrap().status, "NEW");
    assert_eq!(a.generator_id, fail.policy.id);

    // Without --asff-passed the ASFF report leaves the passes out.
    let out = run(hlaudit().args(["check", DEMO, "--as-of", AS_OF, "--format", "asff"]));
    assert_eq!(out.code, Some(1), "stderr:\n{}", out.stderr);
    let findings: Vec<AsffFinding> = serde_json::from_str(&out.stdout).unwrap();
    assert!(!findings.is_empty());
    assert!(findings
        .iter()
        .all(|f| f.compliance.as_ref().unwrap().status != "PASSED"));
}

/// The demo snapshot with hostile data store names and tags (controls, a right-to-left
/// override, zero-width and astral characters, 3,000 characters), 80 tags each, and two
/// collection errors, one without an account or region.
fn hostile_snapshot(path: &Path) {
    let mut snapshot: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join(DEMO)).unwrap()).unwrap();
    let hostile = format!(
        "Ward\u{202e}7\u{200b} \u{1b}[31mred\u{1b}[0m\n\ttab \u{1fa7a} é漢字 {}",
        "x".repeat(3000)
    );
    let records = snapshot["records"].as_array_mut().unwrap();
    for record in records.iter_mut().take(5) {
        record["properties"]["DatastoreName"] = json!(hostile);
        let tags: serde_json::Map<String, Value> = (0..80)
            .map(|i| {
                let key: String = format!("k{i}-{hostile}").chars().take(200).collect();
                let value: String = hostile.chars().take(600).collect();
                (key, json!(value))
            })
            .collect();
        record["tags"] = Value::Object(tags);
    }
    snapshot["errors"] = json!([
        {"region": "us-east-1", "operation": "ListFHIRDatastores",
         "code": "ThrottlingException", "message": hostile},
        {"operation": "ListTagsForResource", "code": "AccessDenied\n",
         "message": format!("\u{0} {hostile}")}
    ]);
    std::fs::write(path, serde_json::to_vec(&snapshot).unwrap()).unwrap();
}

#[test]
fn hostile_strings_and_the_longest_messages_pass_the_validators() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    hostile_snapshot(&path("hostile.json"));
    let out = run(hlaudit().args([
        "check",
        &path("hostile.json").display().to_string(),
        "--as-of",
        AS_OF,
        "--format",
        "none",
        "--asff-passed",
        "--asff-account",
        "999999999999",
        "--asff-region",
        "us-east-1",
        "-o",
        &format!("asff={}", path("a.json").display()),
        "-o",
        &format!("ocsf={}", path("o.jsonl").display()),
    ]));
    // Collection errors end the run with 2, and every report is still written.
    assert_eq!(out.code, Some(2), "stderr:\n{}", out.stderr);
    assert_valid(&path("a.json"), &path("o.jsonl"));

    let asff = read_asff(&path("a.json"));
    assert!(
        asff.iter().any(|f| f.description.ends_with(TRUNCATED)),
        "the longest messages are cut, with the marker"
    );
    assert!(asff.iter().any(|f| f
        .resources
        .iter()
        .any(|r| r.tags.as_ref().is_some_and(|t| t.len() == 50))));
    let no_account = asff
        .iter()
        .find(|f| f.resources[0].id.starts_with("*/*/ListTagsForResource"))
        .expect("the collection error without an account");
    assert_eq!(no_account.aws_account_id, "999999999999");
    assert_eq!(no_account.region.as_deref(), Some("us-east-1"));
    assert_eq!(
        no_account.compliance.as_ref().unwrap().status,
        "NOT_AVAILABLE"
    );
    // OCSF keeps the text whole.
    let ocsf = std::fs::read_to_string(path("o.jsonl")).unwrap();
    assert!(ocsf.contains(&"x".repeat(3000)));
}

#[test]
fn an_unknown_account_without_a_fallback_fails_and_names_the_finding() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    hostile_snapshot(&path("hostile.json"));
    let out = run(hlaudit().args([
        "check",
        &path("hostile.json").display().to_string(),
        "--as-of",
        AS_OF,
        "--format",
        "none",
        "-o",
        &format!("asff={}", path("a.json").display()),
        "-o",
        &format!("ocsf={}", path("o.jsonl").display()),
    ]));
    assert_eq!(out.code, Some(2), "stderr:\n{}", out.stderr);
    assert!(
        out.stderr
            .contains("HLAUDIT-COLLECTION on ListTagsForResource"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--asff-account"), "{}", out.stderr);
    assert!(
        !path("a.json").exists() && !path("o.jsonl").exists(),
        "no file is half done"
    );

    let bad = run(hlaudit().args(["check", DEMO, "--asff-account", "12345"]));
    assert_eq!(bad.code, Some(2), "stderr:\n{}", bad.stderr);
    assert!(bad.stderr.contains("12 digits"), "{}", bad.stderr);
}

/// What the validator must say, and how to spoil a valid finding or event so it does.
type Spoil = (&'static str, fn(&mut Value));

#[test]
fn the_validators_refuse_what_security_hub_and_ocsf_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let out = run(hlaudit().args([
        "check",
        DEMO,
        "--as-of",
        AS_OF,
        "--format",
        "none",
        "-o",
        &format!("asff={}", path("a.json").display()),
        "-o",
        &format!("ocsf={}", path("o.jsonl").display()),
    ]));
    assert_eq!(out.code, Some(1), "stderr:\n{}", out.stderr);
    let good: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(path("a.json")).unwrap()).unwrap();

    let asff_cases: [Spoil; 5] = [
        (
            "Missing required parameter in Findings[0]: \"Title\"",
            |f| {
                f.as_object_mut().unwrap().remove("Title");
            },
        ),
        ("Title: 257 characters, more than 256", |f| {
            f["Title"] = json!("t".repeat(257));
        }),
        ("does not match the pattern", |f| {
            f["Description"] = json!("two\nlines")
        }),
        ("is not one of", |f| {
            f["Severity"]["Label"] = json!("SEVERE")
        }),
        ("Unknown parameter", |f| f["Titel"] = json!("x")),
    ];
    for (want, spoil) in asff_cases {
        let mut findings = vec![good[0].clone()];
        spoil(&mut findings[0]);
        std::fs::write(path("bad.json"), serde_json::to_vec(&findings).unwrap()).unwrap();
        let r = validate("validate_asff.py", &path("bad.json"));
        assert_eq!(r.code, Some(1), "accepted a finding with `{want}`");
        assert!(r.stderr.contains(want), "{want}:\n{}", r.stderr);
    }

    let event: Value = read_ocsf(&path("o.jsonl")).remove(0);
    let ocsf_cases: [Spoil; 4] = [
        ("finding_info.uid", |e| {
            e["finding_info"].as_object_mut().unwrap().remove("uid");
        }),
        ("severity_id", |e| e["severity_id"] = json!(42)),
        ("unknown attribute finding_info.titel", |e| {
            e["finding_info"]["titel"] = json!("x")
        }),
        ("metadata.version", |e| {
            e["metadata"]["version"] = json!("0.9")
        }),
    ];
    for (want, spoil) in ocsf_cases {
        let mut e = event.clone();
        spoil(&mut e);
        std::fs::write(path("bad.jsonl"), format!("{e}\n")).unwrap();
        let r = validate("validate_ocsf.py", &path("bad.jsonl"));
        assert_eq!(r.code, Some(1), "accepted an event with `{want}`");
        assert!(r.stderr.contains(want), "{want}:\n{}", r.stderr);
    }
}

#[test]
fn a_planned_data_store_takes_the_fallbacks_and_is_known_by_its_template_address() {
    let template = "fixtures/iac/cfn/no-encryption.yaml";
    let out = run(hlaudit().args(["check", template, "--format", "asff"]));
    assert_eq!(out.code, Some(2), "stderr:\n{}", out.stderr);
    assert!(
        out.stderr.contains("has no known account"),
        "{}",
        out.stderr
    );

    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let out = run(hlaudit().args([
        "check",
        template,
        "--format",
        "none",
        "--asff-account",
        "111122223333",
        "--asff-region",
        "eu-west-2",
        "-o",
        &format!("asff={}", path("a.json").display()),
        "-o",
        &format!("ocsf={}", path("o.jsonl").display()),
    ]));
    assert_eq!(out.code, Some(1), "stderr:\n{}", out.stderr);
    assert_valid(&path("a.json"), &path("o.jsonl"));
    let asff = read_asff(&path("a.json"));
    assert!(!asff.is_empty());
    for f in &asff {
        assert_eq!(f.aws_account_id, "111122223333");
        assert_eq!(f.region.as_deref(), Some("eu-west-2"));
        let r = &f.resources[0];
        assert_eq!(r.id, format!("{template}#Store"));
        let other = &r.details.as_ref().unwrap().other;
        assert_eq!(other["PlannedIn"], template);
        assert_eq!(other["Address"], "Store");
    }
}

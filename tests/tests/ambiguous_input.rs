//! End to end: input that readers could read two ways never passes the gate. A JSON name
//! repeated in SMART metadata fails the clauses that read it; repeated in a record, it is an
//! input error; one data store in two inputs with different content is an input error
//! unless `--on-duplicate` says which copy counts.

use hlaudit_e2e::{hlaudit, run, Run};
use hlaudit_emulator::datastore::DatastoreJson;
use hlaudit_testkit::report::{Finding, Report, Status};

const AS_OF: &str = "2026-01-01T00:00:00Z";

fn check(args: &[&str]) -> Run {
    run(hlaudit()
        .args(["check", "--as-of", AS_OF, "--format", "json"])
        .args(args))
}

fn findings(out: &Run) -> Vec<Finding> {
    assert!(!out.stdout.is_empty(), "no JSON report: {}", out.stderr);
    Report::parse(&out.stdout).findings
}

#[test]
fn a_repeated_name_in_smart_metadata_fails_the_policies_reading_it() {
    for (policy, case, key) in [
        (
            "HL-MD-03",
            "fixtures/cases/HL-MD-03/fail-repeated-key-plain-last.json",
            "code_challenge_methods_supported",
        ),
        (
            "HL-MD-04",
            "fixtures/cases/HL-MD-04/fail-repeated-key-http-last.json",
            "token_endpoint",
        ),
    ] {
        let out = check(&["--only", policy, case]);
        assert_eq!(out.code, Some(1), "{policy}: {}", out.stderr);
        let found = findings(&out);
        assert_eq!(found.len(), 1, "{policy}");
        assert_eq!(found[0].status, Status::Fail, "{policy}");
        let evidence = &found[0].evidence;
        let twice = format!("`{key}` appears twice (again at line 1 column");
        assert!(
            evidence.iter().any(|e| e.expected.contains(&twice)),
            "{policy}: {evidence:?}"
        );
    }
}

#[test]
fn a_repeated_name_in_a_record_is_an_input_error_at_its_place() {
    let out = check(&["fixtures/snapshots/bad/duplicate-key.json"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "no report: {}", out.stdout);
    for place in [
        "fixtures/snapshots/bad/duplicate-key.json:9:11",
        "fixtures/snapshots/bad/duplicate-key.json:16:48",
    ] {
        assert!(out.stderr.contains(place), "{place}: {}", out.stderr);
    }
    assert!(
        out.stderr
            .contains("`SseConfiguration.KmsEncryptionConfig.CmkType` appears twice"),
        "{}",
        out.stderr
    );
}

/// Writes `records` (JSON values) as a list output in `dir/name`, with an hlaudit snapshot
/// envelope and its collection time when `collected` is given.
fn input(dir: &std::path::Path, name: &str, cmk: &str, collected: Option<&str>) -> String {
    let record = DatastoreJson::new("123456789012", "us-east-1", "conflict")
        .status("ACTIVE")
        .kms_encryption_config(serde_json::json!({ "CmkType": cmk }))
        .build();
    let doc = match collected {
        None => serde_json::json!({"DatastorePropertiesList": [record]}),
        Some(at) => serde_json::json!({
            "hlauditSnapshot": 1, "collectedAt": at, "records": [{"properties": record}]
        }),
    };
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn one_data_store_in_two_inputs_with_different_content_needs_a_choice() {
    let dir = tempfile::tempdir().unwrap();
    let good = input(dir.path(), "good.json", "CUSTOMER_MANAGED_KMS_KEY", None);
    let bad = input(dir.path(), "bad.json", "AWS_OWNED_KMS_KEY", None);
    let enc = ["--only", "HL-ENC-01"];

    // Only the second copy breaks HL-ENC-01: it must not vanish.
    let out = check(&[&enc[..], &[good.as_str(), bad.as_str()]].concat());
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    for text in [
        format!("{good}:3:5"),
        format!("{bad}:3:5"),
        "`/SseConfiguration/KmsEncryptionConfig/CmkType` is \"CUSTOMER_MANAGED_KMS_KEY\" against \"AWS_OWNED_KMS_KEY\"".to_owned(),
        "--on-duplicate".to_owned(),
    ] {
        assert!(out.stderr.contains(&text), "{text}: {}", out.stderr);
    }

    for (choice, code) in [("first", 0), ("last", 1)] {
        let out = check(&[&enc[..], &["--on-duplicate", choice, &good, &bad]].concat());
        assert_eq!(out.code, Some(code), "{choice}: {}", out.stderr);
        assert!(
            out.stderr.contains("warning[conflicting-duplicate]"),
            "{choice}: {}",
            out.stderr
        );
        assert_eq!(findings(&out).len(), 1, "{choice}: audited once");
    }

    // `latest` needs to know when each input was collected.
    let out = check(&[&enc[..], &["--on-duplicate", "latest", &good, &bad]].concat());
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("cannot decide"), "{}", out.stderr);
    let old_good = input(
        dir.path(),
        "old.json",
        "CUSTOMER_MANAGED_KMS_KEY",
        Some("2026-01-01T00:00:00Z"),
    );
    let new_bad = input(
        dir.path(),
        "new.json",
        "AWS_OWNED_KMS_KEY",
        Some("2026-02-01T00:00:00Z"),
    );
    for order in [[&new_bad, &old_good], [&old_good, &new_bad]] {
        let out = check(&[&enc[..], &["--on-duplicate", "latest", order[0], order[1]]].concat());
        assert_eq!(
            out.code,
            Some(1),
            "the newer, failing copy counts: {}",
            out.stderr
        );
    }

    // Identical copies are audited once, with a warning.
    let again = input(dir.path(), "again.json", "AWS_OWNED_KMS_KEY", None);
    let out = check(&[&enc[..], &[bad.as_str(), again.as_str()]].concat());
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("warning[duplicate-arn]"),
        "{}",
        out.stderr
    );
    assert_eq!(findings(&out).len(), 1);
}

//! The SARIF structure code scanning relies on, and splitting at the limits.

use hlaudit_model::finding::{Finding, Status, Subject};
use hlaudit_model::Identity;
use hlaudit_report::sarif::{self, SarifOptions};
use serde_json::Value;

use crate::{fixture, pinned_sarif_options, render};

fn log_of(report: &hlaudit_model::report::Report) -> Value {
    serde_json::from_str(&render(|o| {
        sarif::write(report, &pinned_sarif_options(), o)
    }))
    .unwrap()
}

#[test]
fn one_result_per_fail_error_and_waived_finding() {
    let report = fixture("mixed");
    let log = log_of(&report);
    let wanted = report
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Error | Status::Waived))
        .count();
    assert_eq!(sarif::results_of(&log).len(), wanted);
    for run in log["runs"].as_array().unwrap() {
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), report.policies.len());
        for r in run["results"].as_array().unwrap() {
            let index = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], r["ruleId"]);
            assert_eq!(
                r["partialFingerprints"][sarif::FINGERPRINT_KEY]
                    .as_str()
                    .unwrap()
                    .len(),
                32
            );
            let loc = &r["locations"][0]["physicalLocation"];
            assert!(loc["artifactLocation"]["uri"].as_str().is_some());
        }
    }
}

#[test]
fn rules_carry_security_severity_tags_and_help() {
    let log = log_of(&fixture("mixed"));
    let rule = &log["runs"][0]["tool"]["driver"]["rules"][1];
    assert_eq!(rule["id"], "HL-ENC-01");
    assert_eq!(rule["properties"]["security-severity"], "8.0");
    assert_eq!(rule["properties"]["precision"], "very-high");
    let tags: Vec<&str> = rule["properties"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(tags, ["security", "HIPAA", "HITRUST", "encryption"]);
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
    assert_eq!(
        rule["helpUri"],
        "https://docs.aws.amazon.com/healthlake/latest/devguide/encryption-at-rest.html"
    );
    assert!(rule["help"]["markdown"]
        .as_str()
        .unwrap()
        .contains("**Remediation**"));
}

#[test]
fn locations_point_at_the_snapshot_line_or_the_policy() {
    let report = fixture("mixed");
    let log = log_of(&report);
    let results = sarif::results_of(&log);
    let enc = results
        .iter()
        .find(|r| r["ruleId"] == "HL-ENC-01" && r["properties"]["status"] == "FAIL")
        .unwrap();
    let loc = &enc["locations"][0];
    assert_eq!(
        loc["physicalLocation"]["artifactLocation"]["uri"],
        "fixtures/demo/snapshot.json"
    );
    assert_eq!(loc["physicalLocation"]["region"]["startLine"], 61);
    assert_eq!(loc["logicalLocations"][0]["kind"], "resource");
    assert_eq!(
        loc["logicalLocations"][0]["fullyQualifiedName"],
        "arn:aws:healthlake:eu-west-2:111122223333:datastore/fhir/b1c5e0f2d3a4b5c6d7e8f9a0b1c2d3e4"
    );
    assert!(enc["message"]["text"]
        .as_str()
        .unwrap()
        .starts_with("Data store claims-prod"));
    assert_eq!(enc["baselineState"], "unchanged");

    // A live scan without a saved snapshot points at the policy's file and line.
    let mut live = report.clone();
    for r in &mut live.resources {
        if let Some(s) = &mut r.source {
            s.file = "healthlake://111122223333/eu-west-2".into();
        }
    }
    let log = log_of(&live);
    let enc = sarif::results_of(&log)
        .into_iter()
        .find(|r| r["ruleId"] == "HL-ENC-01" && r["properties"]["status"] == "FAIL")
        .cloned()
        .unwrap();
    let phys = &enc["locations"][0]["physicalLocation"];
    assert_eq!(phys["artifactLocation"]["uri"], "rules/encryption.yaml");
    assert_eq!(phys["region"]["startLine"], 23);
}

#[test]
fn waived_results_are_suppressed_with_the_justification() {
    let log = log_of(&fixture("mixed"));
    let waived = sarif::results_of(&log)
        .into_iter()
        .find(|r| r["properties"]["status"] == "WAIVED")
        .cloned()
        .unwrap();
    let sup = &waived["suppressions"][0];
    assert_eq!(sup["kind"], "external");
    assert_eq!(sup["status"], "accepted");
    assert_eq!(
        sup["justification"],
        "Synthetic data only; migration planned in Q1 (approved by security@example.org, expires 2027-03-31)"
    );
    assert_eq!(
        sup["location"]["physicalLocation"]["artifactLocation"]["uri"],
        "waivers.yaml"
    );
}

#[test]
fn runs_per_account_and_region_with_invocation_status() {
    let log = log_of(&fixture("mixed"));
    let ids: Vec<&str> = log["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["automationDetails"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "hlaudit/111122223333/eu-west-2/",
            "hlaudit/111122223333/us-east-1/",
            "hlaudit/444455556666/ap-southeast-2/",
            "hlaudit/444455556666/us-west-2/",
            "hlaudit/777788889999/us-east-1/",
        ]
    );
    let inv = &log["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    let notes = inv["toolExecutionNotifications"].as_array().unwrap();
    // The collection error and the ERROR finding of HL-ENC-01.
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[1]["associatedRule"]["id"], "HL-ENC-01");

    let clean = log_of(&fixture("clean"));
    assert_eq!(
        clean["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
    assert!(clean["runs"][0]["invocations"][0]
        .get("toolExecutionNotifications")
        .is_none());
    // A clean category still gets a run (with no results), so its old alerts close.
    assert_eq!(clean["runs"][0]["results"].as_array().unwrap().len(), 0);
}

/// A report with `n` failing data stores in one account and region.
pub(crate) fn big_report(n: usize) -> hlaudit_model::report::Report {
    let mut report = fixture("clean");
    let template = report.resources[0].clone();
    report.resources.clear();
    report.findings.clear();
    for i in 0..n {
        let mut r = template.clone();
        let id = format!("{i:032x}");
        r.identity = Identity::Arn(format!(
            "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/{id}"
        ));
        r.id = Some(id);
        report.resources.push(r);
        let mut f = Finding::new(
            1,
            Subject::Record { index: i },
            Status::Fail,
            report.policies[1].severity,
        );
        f.set_message(format!(
            "Data store {i} is encrypted with an AWS owned key."
        ));
        report.findings.push(f);
    }
    report
}

#[test]
fn splits_into_runs_and_files_at_the_limits() {
    let report = big_report(23);
    let options = SarifOptions {
        max_results_per_run: 5,
        max_runs_per_file: 2,
        ..pinned_sarif_options()
    };
    let parts = sarif::write_all(&report, &options).unwrap();
    // 23 results -> 5 runs of at most 5 -> 3 files of at most 2 runs.
    assert_eq!(parts.len(), 3);
    assert_eq!(
        parts.iter().map(|p| p.suffix.as_str()).collect::<Vec<_>>(),
        ["", ".2", ".3"]
    );
    let mut ids = Vec::new();
    let mut total = 0;
    for p in &parts {
        let log: Value = serde_json::from_slice(&p.bytes).unwrap();
        let runs = log["runs"].as_array().unwrap();
        assert!(runs.len() <= 2);
        for run in runs {
            let n = run["results"].as_array().unwrap().len();
            assert!(n <= 5);
            total += n;
            ids.push(run["automationDetails"]["id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(total, 23);
    assert_eq!(ids[0], "hlaudit/111122223333/us-east-1/part-1/");
    assert_eq!(ids[4], "hlaudit/111122223333/us-east-1/part-5/");
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "every run has its own category");

    // A single stream cannot hold several files.
    let mut out = Vec::new();
    let err = sarif::write(&report, &options, &mut out).unwrap_err();
    assert!(err.to_string().contains("needs 3 files"), "{err}");
}

#[test]
fn fingerprints_are_stable_across_runs_and_input_order() {
    let report = fixture("mixed");
    let mut shuffled = report.clone();
    shuffled.findings.reverse();
    shuffled.generated_at = hlaudit_model::Timestamp::now();
    let prints = |r: &hlaudit_model::report::Report| {
        let log = log_of(r);
        let mut v: Vec<String> = sarif::results_of(&log)
            .iter()
            .map(|r| {
                r["partialFingerprints"][sarif::FINGERPRINT_KEY]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(prints(&report), prints(&shuffled));
}

/// The files as serde-sarif's logs pretty-printed whole (what the reporter wrote before
/// it wrote them in pieces).
fn serde_sarif_files(
    report: &hlaudit_model::report::Report,
    options: &SarifOptions,
) -> Vec<Vec<u8>> {
    sarif::logs(report, options)
        .unwrap()
        .iter()
        .map(|log| {
            let mut bytes = serde_json::to_vec_pretty(log).unwrap();
            bytes.push(b'\n');
            bytes
        })
        .collect()
}

fn written_files(report: &hlaudit_model::report::Report, options: &SarifOptions) -> Vec<Vec<u8>> {
    sarif::write_all(report, options)
        .unwrap()
        .into_iter()
        .map(|p| p.bytes)
        .collect()
}

#[test]
fn files_written_in_pieces_are_serde_sarifs_logs_byte_for_byte() {
    for name in crate::FIXTURES {
        let report = fixture(name);
        let options = pinned_sarif_options();
        assert_eq!(
            written_files(&report, &options),
            serde_sarif_files(&report, &options),
            "{name}"
        );
    }
    // Split runs and files; a run of more results than one rendering window holds.
    let report = big_report(9_000);
    for (per_run, per_file) in [(5_000, 20), (1_000, 3), (7, 2)] {
        let options = SarifOptions {
            max_results_per_run: per_run,
            max_runs_per_file: per_file,
            ..pinned_sarif_options()
        };
        let written = written_files(&report, &options);
        assert_eq!(
            written.len(),
            9_000usize.div_ceil(per_run).div_ceil(per_file)
        );
        assert!(
            written == serde_sarif_files(&report, &options),
            "{per_run}/{per_file}"
        );
    }
}

#[test]
fn files_are_the_same_whatever_the_thread_count() {
    let report = big_report(9_000);
    let options = SarifOptions {
        max_results_per_run: 2_000,
        max_runs_per_file: 2,
        ..pinned_sarif_options()
    };
    let with_threads = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
            .install(|| written_files(&report, &options))
    };
    let one = with_threads(1);
    assert_eq!(one.len(), 3);
    assert!(one == with_threads(4));
    assert!(one == with_threads(3));
}

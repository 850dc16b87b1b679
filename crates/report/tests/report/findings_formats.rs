//! ASFF and OCSF: snapshots on the fixtures, the status mapping, the limits on hand-built
//! hostile reports (and a property that no finding ever exceeds one), and the fallbacks of
//! an unknown account or region.

use std::collections::BTreeMap;

use hlaudit_model::finding::{AppliedWaiver, Evidence, Finding, Severity, Status, Subject};
use hlaudit_model::identity::Planned;
use hlaudit_model::report::{PolicyMeta, Report, Resource};
use hlaudit_model::{Identity, Inventory, Source, Timestamp};
use hlaudit_report::asff::limits::{self, violations, TRUNCATED};
use hlaudit_report::asff::{self, AsffOptions};
use hlaudit_report::ocsf::{self, OcsfOptions};
use hlaudit_report::ReportError;
use proptest::prelude::*;

use crate::{fixture, render, FIXTURES};

const ACCOUNT: &str = "111122223333";
const ARN: &str = "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/0123456789abcdef";

/// Options pinned to the report's time, with fallbacks (the fixtures hold scopes without
/// an account).
fn pinned(report: &Report, include_passed: bool) -> AsffOptions {
    AsffOptions {
        include_passed,
        account_fallback: Some("999999999999".into()),
        region_fallback: Some("us-east-1".into()),
        ..AsffOptions::new(report.generated_at)
    }
}

#[test]
fn snapshots_of_asff_and_ocsf() {
    for name in FIXTURES {
        let report = fixture(name);
        let options = pinned(&report, true);
        insta::assert_snapshot!(
            format!("{name}.asff.json"),
            render(|o| asff::write(&report, &options, o))
        );
        insta::assert_snapshot!(
            format!("{name}.ocsf.jsonl"),
            render(|o| ocsf::write(&report, &OcsfOptions::default(), o))
        );
    }
}

#[test]
fn every_fixture_finding_is_within_the_limits() {
    for name in FIXTURES {
        let report = fixture(name);
        for f in asff::findings(&report, &pinned(&report, true)).unwrap() {
            assert_eq!(violations(&f), Vec::<String>::new(), "{name}: {}", f.id);
        }
    }
}

/// A policy with `n` requirements in each of two frameworks.
fn policy(id: &str, title: &str, requirements: usize) -> PolicyMeta {
    let mut p = PolicyMeta::collection_error();
    p.id = id.into();
    p.title = title.into();
    p.references = vec!["https://docs.aws.amazon.com/healthlake/".into()];
    p.compliance = BTreeMap::from([
        (
            "HIPAA".to_owned(),
            (0..requirements)
                .map(|i| format!("164.312(a)({i})"))
                .collect(),
        ),
        (
            "NIST-800-53".to_owned(),
            (0..requirements).map(|i| format!("SC-{i}")).collect(),
        ),
    ]);
    p
}

/// One data store, one policy, one finding of each status.
fn report_of_each_status() -> Report {
    let mut report = Report::for_inventory(&Inventory::default(), Timestamp::now());
    report.generated_at = "2026-11-28T10:00:00Z".parse().unwrap();
    report.policies = vec![policy("HL-X-01", "Something is configured", 2)];
    let mut r = Resource::datastore(ARN);
    r.name = Some("patients".into());
    r.tags = Some(BTreeMap::from([("Owner".into(), "team-a".into())]));
    report.resources = vec![r];
    for status in Status::ALL {
        let mut f = Finding::new(0, Subject::Record { index: 0 }, status, Severity::High);
        if status == Status::Waived {
            f.set_waiver(Some(AppliedWaiver {
                source: Source {
                    file: "waivers.yaml".into(),
                    line: 3,
                    column: 5,
                },
                reason: "Migration planned for Q3.".into(),
                approved_by: "ciso@example.com".into(),
                expires: Some("2027-01-31".into()),
            }));
        }
        if status == Status::Error {
            f.set_message("the attribute could not be read".into());
        }
        report.findings.push(f);
    }
    report
}

#[test]
fn statuses_map_to_compliance_workflow_and_record_state() {
    let report = report_of_each_status();
    let found = asff::findings(&report, &pinned(&report, true)).unwrap();
    let by_status: BTreeMap<&str, &asff::AsffFinding> = found
        .iter()
        .map(|f| (f.product_fields["hlaudit/Status"].as_str(), f))
        .collect();
    assert_eq!(by_status.len(), 4, "SKIP is never written");
    let row = |s: &str| {
        let f = by_status[s];
        (
            f.compliance.as_ref().unwrap().status.as_str(),
            f.workflow.as_ref().unwrap().status.as_str(),
            f.record_state.as_str(),
        )
    };
    assert_eq!(row("FAIL"), ("FAILED", "NEW", "ACTIVE"));
    assert_eq!(row("WAIVED"), ("FAILED", "SUPPRESSED", "ACTIVE"));
    assert_eq!(row("ERROR"), ("NOT_AVAILABLE", "NEW", "ACTIVE"));
    assert_eq!(row("PASS"), ("PASSED", "RESOLVED", "ACTIVE"));

    let waived = by_status["WAIVED"];
    let note = waived.note.as_ref().unwrap();
    assert_eq!(note.updated_by, "ciso@example.com");
    assert!(note.text.contains("Migration planned") && note.text.contains("2027-01-31"));
    let error = by_status["ERROR"].compliance.as_ref().unwrap();
    assert_eq!(error.status_reasons[0].reason_code, "EVALUATION_ERROR");

    let fail = by_status["FAIL"];
    assert_eq!(fail.id, report.fingerprint_of(&report.findings[0]));
    assert_eq!(fail.generator_id, "HL-X-01");
    assert_eq!(fail.aws_account_id, ACCOUNT);
    assert_eq!(
        fail.product_arn,
        "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default"
    );
    assert_eq!(fail.severity.label, "HIGH");
    assert_eq!(
        fail.types,
        [
            "Software and Configuration Checks/Industry and Regulatory Standards/HIPAA Controls (USA)",
            "Software and Configuration Checks/Industry and Regulatory Standards/NIST 800-53 Controls (USA)"
        ]
    );
    assert_eq!(
        fail.compliance.as_ref().unwrap().related_requirements,
        [
            "HIPAA 164.312(a)(0)",
            "HIPAA 164.312(a)(1)",
            "NIST-800-53 SC-0",
            "NIST-800-53 SC-1"
        ]
    );
    let resource = &fail.resources[0];
    assert_eq!(
        (resource.type_.as_str(), resource.id.as_str()),
        ("Other", ARN)
    );
    assert_eq!(resource.tags.as_ref().unwrap()["Owner"], "team-a");
    assert_eq!(resource.details.as_ref().unwrap().other["Name"], "patients");
    assert_eq!(
        fail.first_observed_at, None,
        "no baseline, no observation times"
    );

    // Without --asff-passed, no PASS finding.
    let options = AsffOptions {
        include_passed: false,
        ..pinned(&report, false)
    };
    let without = asff::findings(&report, &options).unwrap();
    assert_eq!(without.len(), 3);

    // OCSF: every status but SKIP, with the same fingerprint.
    let text = render(|o| ocsf::write(&report, &OcsfOptions::default(), o));
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 4);
    for e in &events {
        assert_eq!(e["class_uid"], 2003);
        assert_eq!(e["metadata"]["version"], ocsf::OCSF_VERSION);
        assert_eq!(e["finding_info"]["uid"], fail.id);
        assert_eq!(e["cloud"]["account"]["uid"], ACCOUNT);
    }
    let mapping: Vec<(String, u64, u64)> = events
        .iter()
        .map(|e| {
            (
                e["status_code"].as_str().unwrap().to_owned(),
                e["status_id"].as_u64().unwrap(),
                e["compliance"]["status_id"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(mapping.contains(&("FAIL".into(), 1, 3)));
    assert!(mapping.contains(&("WAIVED".into(), 3, 3)));
    assert!(mapping.contains(&("ERROR".into(), 1, 2)));
    assert!(mapping.contains(&("PASS".into(), 4, 1)));
    let waived = events
        .iter()
        .find(|e| e["status_code"] == "WAIVED")
        .unwrap();
    assert_eq!(
        waived["unmapped"]["hlaudit"]["waiver"]["approvedBy"],
        "ciso@example.com"
    );
}

#[test]
fn a_baseline_gives_observation_times() {
    let mut report = report_of_each_status();
    report.findings[0].set_baseline(Some(hlaudit_model::finding::BaselineState::Unchanged));
    report.findings[1].set_baseline(Some(hlaudit_model::finding::BaselineState::New));
    let at: Timestamp = "2026-11-01T00:00:00Z".parse().unwrap();
    let options = AsffOptions {
        baseline_at: Some(at),
        ..pinned(&report, false)
    };
    let found = asff::findings(&report, &options).unwrap();
    assert_eq!(
        found[0].first_observed_at.as_deref(),
        Some("2026-11-01T00:00:00.000Z")
    );
    assert_eq!(found[0].created_at, "2026-11-01T00:00:00.000Z");
    assert_eq!(
        found[0].last_observed_at.as_deref(),
        Some("2026-11-28T10:00:00.000Z")
    );
    assert_eq!(
        found[1].first_observed_at.as_deref(),
        Some("2026-11-28T10:00:00.000Z")
    );
    assert_eq!(found[0].updated_at, "2026-11-28T10:00:00.000Z");
}

/// A report whose every string is hostile and too long, with too many of everything.
fn hostile_report(text: &str, n: usize) -> Report {
    let mut report = Report::for_inventory(&Inventory::default(), Timestamp::now());
    report.generated_at = "2026-11-28T10:00:00Z".parse().unwrap();
    let mut p = policy(&format!("HL-{text}"), text, n);
    p.remediation = text.repeat(3);
    report.policies = vec![p];
    let mut r = Resource::datastore(ARN);
    r.name = Some(text.into());
    r.status = Some(text.into());
    r.tags = Some(
        (0..n)
            .map(|i| (format!("{i}{text}"), text.to_owned()))
            .collect(),
    );
    let mut planned = r.clone();
    planned.identity = Identity::Planned(Box::new(Planned {
        file: format!("infra/{text}.yaml"),
        address: text.into(),
    }));
    planned.account = None;
    planned.region = None;
    report.resources = vec![r, planned];
    for index in 0..2 {
        let evidence = (0..n)
            .map(|i| Evidence {
                pointer: format!("/{text}/{i}").into(),
                found: Some(serde_json::Value::String(text.into())),
                expected: text.into(),
                note: Some(text.into()),
            })
            .collect();
        let mut f = Finding::new(
            0,
            Subject::Record { index },
            Status::Waived,
            Severity::Critical,
        )
        .with_detail(text.repeat(2), evidence);
        f.set_waiver(Some(AppliedWaiver {
            source: Source {
                file: text.into(),
                line: 1,
                column: 1,
            },
            reason: text.into(),
            approved_by: text.into(),
            expires: Some(text.into()),
        }));
        report.findings.push(f);
    }
    report.findings.push(
        Finding::new(
            0,
            Subject::scope(None, Some(text.into()), text.into()),
            Status::Error,
            Severity::High,
        )
        .with_detail(text.into(), Vec::new()),
    );
    report
}

#[test]
fn hostile_strings_are_fitted_marked_and_shown_by_code_point() {
    let long = format!("é\u{1b}[31m\n\t🩺\u{202e}{}", "x".repeat(5000));
    let report = hostile_report(&long, 80);
    let found = asff::findings(&report, &pinned(&report, false)).unwrap();
    assert_eq!(found.len(), 3);
    for f in &found {
        assert_eq!(violations(f), Vec::<String>::new());
        assert!(f.title.ends_with(TRUNCATED), "{}", f.title);
        assert!(f.description.ends_with(TRUNCATED));
        // Policy text is laid out on one line; record text shows its line breaks.
        assert!(
            f.title.starts_with("é\\u{1b}[31m 🩺\\u{202e}x"),
            "{}",
            f.title
        );
        let c = f.compliance.as_ref().unwrap();
        assert_eq!(c.related_requirements.len(), limits::RELATED_REQUIREMENTS);
        assert!(c.related_requirements.last().unwrap().contains("129 more"));
    }
    for f in &found[..2] {
        assert!(
            f.description
                .starts_with("é\\u{1b}[31m\\u{a}\\u{9}🩺\\u{202e}x"),
            "{}",
            f.description
        );
        assert_eq!(f.product_fields.len(), limits::PRODUCT_FIELDS);
        assert!(f.product_fields[limits::OMITTED_KEY].contains("more"));
    }
    let tags = found[0].resources[0].tags.as_ref().unwrap();
    assert_eq!(tags.len(), limits::TAGS);
    // The planned data store and the scope took the fallbacks.
    assert_eq!(found[1].aws_account_id, "999999999999");
    assert_eq!(found[2].region.as_deref(), Some("us-east-1"));
    // OCSF keeps every character: JSON escapes them, nothing is cut.
    let text = render(|o| ocsf::write(&report, &OcsfOptions::default(), o));
    assert_eq!(text.lines().count(), 3);
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["finding_info"]["title"], long.as_str());
}

#[test]
fn a_finding_of_three_byte_text_everywhere_stays_under_240_kb() {
    // Each character is one UTF-16 code unit but three UTF-8 bytes: every field at its
    // own limit would make a finding of several hundred kilobytes.
    let text = "漢".repeat(3000);
    let mut report = hostile_report(&text, 80);
    for (i, p) in report.policies.iter_mut().enumerate() {
        p.compliance = (0..60)
            .map(|f| (format!("{f}{text}"), vec![format!("{i}{text}"); 40]))
            .collect();
    }
    let found = asff::findings(&report, &pinned(&report, true)).unwrap();
    for f in &found {
        assert!(
            limits::size(f) <= limits::FINDING_BYTES,
            "{} bytes",
            limits::size(f)
        );
        assert_eq!(violations(f), Vec::<String>::new());
    }
    assert!(found.iter().any(|f| f
        .product_fields
        .get(limits::OMITTED_KEY)
        .map(String::as_str)
        == Some(limits::SHRUNK)
        || f.types.last().map(String::as_str) == Some(limits::SHRUNK)));
}

#[test]
fn batches_hold_at_most_100_findings_and_6_mb() {
    let report = report_of_each_status();
    let one = asff::findings(&report, &pinned(&report, false))
        .unwrap()
        .remove(0);
    let many = vec![one.clone(); 250];
    let sizes: Vec<usize> = asff::batches(&many).iter().map(|b| b.len()).collect();
    assert_eq!(sizes, [100, 100, 50]);

    let mut big = one;
    big.product_fields = (0..45)
        .map(|i| (format!("k{i}"), "x".repeat(2000)))
        .collect();
    let size = limits::size(&big);
    let many = vec![big; 100];
    let batches = asff::batches(&many);
    assert!(batches.len() > 1);
    for b in &batches {
        let bytes: usize = b.iter().map(|_| size + 1).sum();
        assert!(bytes <= limits::BATCH_BYTES, "{bytes}");
    }
    assert_eq!(batches.iter().map(|b| b.len()).sum::<usize>(), 100);
    assert!(asff::batches(&[]).is_empty());
}

#[test]
fn an_unknown_account_without_a_fallback_names_the_finding() {
    let report = hostile_report("plain", 1);
    let options = AsffOptions::new(report.generated_at);
    let err = asff::findings(&report, &options).unwrap_err();
    let fingerprint = report.fingerprint_of(&report.findings[1]);
    match &err {
        ReportError::AsffContext {
            fingerprint: f,
            missing,
            ..
        } => {
            assert_eq!((f.as_str(), *missing), (fingerprint.as_str(), "account"));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("--asff-account"), "{err}");
    let region_only = AsffOptions {
        account_fallback: Some("999999999999".into()),
        ..AsffOptions::new(report.generated_at)
    };
    let err = asff::findings(&report, &region_only).unwrap_err();
    assert!(err.to_string().contains("no known region"), "{err}");
}

#[test]
fn the_checker_finds_what_the_format_refuses() {
    let report = report_of_each_status();
    let mut f = asff::findings(&report, &pinned(&report, false))
        .unwrap()
        .remove(0);
    f.title = "t".repeat(limits::TITLE + 1);
    f.description = " ".into();
    f.types = vec!["a\nb".into()];
    let found = violations(&f);
    assert_eq!(found.len(), 3, "{found:?}");
}

/// Strings rich in what breaks findings: long runs, controls, line breaks, astral
/// characters, blanks.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        Just(String::new()),
        Just(" \t ".to_owned()),
        proptest::collection::vec(
            prop_oneof![
                Just("\n".to_owned()),
                Just("\u{1b}".to_owned()),
                Just("\u{202e}".to_owned()),
                Just("🩺".to_owned()),
                Just("é".to_owned()),
                Just(" ".to_owned()),
                "[a-z]{0,300}".prop_map(|s| s),
            ],
            0..40,
        )
        .prop_map(|v| v.concat()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn no_finding_ever_exceeds_a_limit(text in hostile(), n in 0usize..70) {
        let report = hostile_report(&text, n);
        let found = asff::findings(&report, &pinned(&report, true)).unwrap();
        prop_assert_eq!(found.len(), 3);
        for f in &found {
            prop_assert_eq!(violations(f), Vec::<String>::new());
            // And it reads back as written.
            let json = serde_json::to_string(f).unwrap();
            let back: asff::AsffFinding = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&back, f);
        }
    }
}

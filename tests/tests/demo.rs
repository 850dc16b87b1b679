//! The README demo: `hlaudit check fixtures/demo/snapshot.json` over the built-in pack must
//! show every built-in policy both failing and passing somewhere, so the demo exercises the
//! whole pack (and a policy that never fires, or always fires, on a realistic inventory is
//! noticed). Runs the real binary, as the README tells users to.

// Test helpers: a report that lacks what the test reads is a failure, so failing loudly is right.
#![allow(clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use hlaudit_e2e::{hlaudit, run};
use hlaudit_testkit::report::{Report, Status};

const DEMO: &str = "fixtures/demo/snapshot.json";
const AS_OF: &str = "2026-11-28T09:30:00Z";

/// The demo organisation's approved buckets (HL-EXP-02 and HL-IMP-01 approve none by
/// default, so without it every export and import output bucket fails).
const APPROVED_BUCKETS: &str = "fixtures/demo/approved-buckets.yaml";

/// Runs the demo and returns the JSON report.
fn demo_report() -> Report {
    demo_report_with(&[])
}

/// Runs the demo with more arguments and returns the JSON report.
fn demo_report_with(extra: &[&str]) -> Report {
    let out = run(hlaudit()
        .args(["check", DEMO, "--as-of", AS_OF, "--format", "json"])
        .args(extra));
    assert_eq!(
        out.code,
        Some(1),
        "the demo holds failing data stores on purpose, so check exits 1\nstderr:\n{}",
        out.stderr
    );
    Report::parse(&out.stdout)
}

/// Policy id -> (PASS count, FAIL count, other statuses).
fn counts(report: &Report) -> BTreeMap<String, (usize, usize, Vec<String>)> {
    let mut by_policy: BTreeMap<String, (usize, usize, Vec<String>)> = BTreeMap::new();
    for p in &report.policies {
        by_policy.entry(p.id.clone()).or_default();
    }
    for f in &report.findings {
        let e = by_policy.entry(f.policy.id.clone()).or_default();
        match f.status {
            Status::Pass => e.0 += 1,
            Status::Fail => e.1 += 1,
            Status::Skip => {}
            other => e.2.push(format!(
                "{other} on {:?}",
                f.resource.as_ref().and_then(|r| r.name.as_deref())
            )),
        }
    }
    by_policy
}

#[test]
fn every_built_in_policy_fails_and_passes_somewhere_in_the_demo() {
    // With the buckets a team would approve: by default no bucket is, and the bucket
    // policies could not pass.
    let report = demo_report_with(&["--config", APPROVED_BUCKETS]);
    let by_policy = counts(&report);
    assert!(
        by_policy.len() >= 39,
        "the built-in pack has 39 policies, the report lists {}",
        by_policy.len()
    );
    let missing: Vec<String> = by_policy
        .iter()
        .filter(|(_, (pass, fail, _))| *pass == 0 || *fail == 0)
        .map(|(id, (pass, fail, _))| format!("{id} (PASS {pass}, FAIL {fail})"))
        .collect();
    assert!(
        missing.is_empty(),
        "policies without both a FAIL and a PASS in the demo: {missing:?}"
    );
    let errors: Vec<String> = by_policy
        .iter()
        .flat_map(|(id, (_, _, other))| other.iter().map(move |o| format!("{id}: {o}")))
        .collect();
    assert!(
        errors.is_empty(),
        "unexpected statuses in the demo: {errors:?}"
    );
}

#[test]
fn every_demo_data_store_gets_one_finding_per_policy_and_failures_carry_evidence() {
    let report = demo_report();
    // Data store policies are the ones with a finding on a data store; the others apply
    // to jobs and transformation profiles only.
    let is_store = |r: &hlaudit_testkit::report::Resource| r.kind.as_deref() == Some("datastore");
    let store_policies: std::collections::BTreeSet<&str> = report
        .findings
        .iter()
        .filter(|f| f.resource.as_ref().is_some_and(is_store))
        .map(|f| f.policy.id.as_str())
        .collect();
    let policies = store_policies.len();
    assert_eq!(
        policies,
        report.policies.len() - 7,
        "7 policies are about jobs and profiles"
    );
    let mut per_store: BTreeMap<String, usize> = BTreeMap::new();
    let mut others: BTreeMap<String, usize> = BTreeMap::new();
    for f in &report.findings {
        if let Some(resource) = &f.resource {
            let into = if is_store(resource) {
                &mut per_store
            } else {
                &mut others
            };
            *into.entry(resource.id.clone()).or_default() += 1;
        }
        if f.status == Status::Fail {
            assert!(!f.message.is_empty(), "a FAIL without a message: {f:?}");
            assert!(!f.evidence.is_empty(), "a FAIL without evidence: {f:?}");
        }
    }
    assert_eq!(per_store.len(), 40, "the demo holds 40 data stores");
    assert_eq!(
        others.len(),
        10,
        "the demo holds 8 jobs and 2 transformation profiles"
    );
    for (arn, n) in &per_store {
        assert_eq!(
            *n, policies,
            "{arn} has {n} findings for {policies} policies"
        );
    }
}

#[test]
fn demo_failures_are_the_intended_ones() {
    // A few data stores of the demo break one policy on purpose; they must fail exactly
    // there (the generator, fixtures/demo/generate.py, says why each exists).
    let report = demo_report();
    let failing = |policy: &str| -> Vec<String> {
        report
            .findings_of(policy)
            .filter(|f| f.status == Status::Fail)
            .filter_map(|f| f.resource.as_ref()?.name.clone())
            .collect()
    };
    assert_eq!(failing("HL-ENC-01"), ["legacy-ehr-migration"]);
    assert_eq!(failing("HL-ENC-03"), ["dr-replica"]);
    assert_eq!(failing("HL-BAK-03"), ["stale-backups"]);
    assert_eq!(failing("HL-DATA-01"), ["synthea-demo-prod"]);
    // Jobs (named after their data store) and transformation profiles.
    assert_eq!(failing("HL-EXP-01"), ["claims-prod-export-1"]);
    assert_eq!(failing("HL-JOB-01"), ["imaging-index-prod-export-1"]);
    assert_eq!(failing("HL-JOB-02"), ["analytics-scratch-export-1"]);
    assert_eq!(failing("HL-IMP-02"), ["lab-results-dev-import-1"]);
    assert_eq!(failing("HL-PRF-01"), ["ccda-discharge"]);
    // No bucket is approved by default: every export and import output fails.
    assert_eq!(failing("HL-EXP-02").len(), 6);
    assert_eq!(failing("HL-IMP-01").len(), 2);
    assert_eq!(failing("HL-MD-10"), ["family-access"]);
    assert_eq!(failing("HL-MD-11"), ["batch-loader"]);
    // ap-southeast-2 is left out of the organisation trail: the prod account has no trail
    // there (no trail records legacy-portal and stale-backups), the dev account's is stopped.
    let mut unrecorded = failing("HL-LOG-01");
    unrecorded.sort();
    assert_eq!(
        unrecorded,
        [
            "legacy-portal",
            "spa-viewer",
            "stale-backups",
            "telehealth-sandbox"
        ]
    );
}

//! End to end: records of every identity (a data store that exists, one a template will
//! create, export and import jobs) through the engine and every reporter, and reports and
//! baselines written before kinds existed still matching.
//!
//! `fixtures/kinds/snapshot.json` is an hlaudit snapshot (version 2) holding one of each;
//! `fixtures/kinds/policies.yaml` has two data store policies and two job policies.

use std::collections::BTreeSet;
use std::path::Path;

use hlaudit_e2e::{hlaudit, run, Run};
use hlaudit_testkit::report::{Finding, Report};
use serde_json::Value;

const SNAPSHOT: &str = "fixtures/kinds/snapshot.json";
const POLICIES: &str = "fixtures/kinds/policies.yaml";
const AS_OF: &str = "2026-12-01T00:00:00Z";
const EXISTING: &str =
    "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6";
const PLANNED: &str = "infra/stack.yaml#ResearchStore";
const EXPORT_BAD: &str =
    "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6/export-job/e0000000000000000000000000000002";

fn check(dir: &Path, extra: &[&str]) -> Run {
    let out = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let mut cmd = hlaudit();
    cmd.args(["check", SNAPSHOT, "--rules", POLICIES, "--no-builtin"])
        .args(["--as-of", AS_OF, "--format", "json"])
        .args(["-o", &format!("sarif={}", out("r.sarif"))])
        .args(["-o", &format!("junit={}", out("r.xml"))])
        .args(["-o", &format!("markdown={}", out("r.md"))])
        .args(["-o", &format!("html={}", out("r.html"))])
        .args(["-o", &format!("terminal={}", out("r.txt"))])
        .args(extra);
    run(&mut cmd)
}

#[test]
fn every_identity_goes_through_the_engine_and_every_reporter() {
    let dir = tempfile::tempdir().unwrap();
    let out = check(dir.path(), &[]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    // Every pair, the PASS and SKIP ones rebuilt from the compact section.
    let report = Report::parse(&out.stdout);
    assert_eq!(report.hlaudit_report, Some(3));
    let findings = &report.findings;

    // Data store policies run on both data stores, job policies on the jobs only: no
    // finding for a pair whose policy is for another kind.
    let pairs: BTreeSet<(String, String)> = findings
        .iter()
        .map(|f| (f.policy.id.clone(), f.key()))
        .collect();
    assert_eq!(pairs.len(), findings.len(), "one finding per pair");
    let of = |policy: &str| -> BTreeSet<String> {
        pairs
            .iter()
            .filter(|(p, _)| p == policy)
            .map(|(_, k)| k.clone())
            .collect()
    };
    assert_eq!(
        of("T-DS-01"),
        BTreeSet::from([EXISTING.to_owned(), PLANNED.to_owned()])
    );
    assert_eq!(of("T-EXP-01").len(), 2);
    assert!(of("T-EXP-01").iter().all(|k| k.contains("/export-job/")));
    assert_eq!(of("T-JOB-01").len(), 3);

    let finding = |policy: &str, key: &str| -> &Finding {
        findings
            .iter()
            .find(|f| f.policy.id == policy && f.key() == key)
            .unwrap_or_else(|| panic!("no finding of {policy} on {key}"))
    };
    let status = |policy: &str, key: &str| finding(policy, key).status.as_str();
    assert_eq!(status("T-DS-01", EXISTING), "PASS");
    assert_eq!(status("T-DS-01", PLANNED), "FAIL");
    // The planned data store has no region yet: a policy reading it is not decided before
    // deploy (SKIP, marked undecided), never passed; being undecided, the pair is written
    // in full, not in the compact section.
    assert_eq!(status("T-DS-02", PLANNED), "SKIP");
    let undecided = finding("T-DS-02", PLANNED);
    assert!(undecided.undecided && !undecided.compact, "{undecided:?}");
    assert_eq!(status("T-DS-02", EXISTING), "PASS");
    assert!(finding("T-DS-02", EXISTING).compact);
    assert_eq!(status("T-EXP-01", EXPORT_BAD), "FAIL");

    // A planned data store has no ARN, id, account or region to show; an existing one
    // keeps every field version 1 had.
    let planned = findings
        .iter()
        .find(|f| f.key() == PLANNED)
        .unwrap()
        .resource();
    assert!(planned.arn.is_empty() && planned.id.is_empty() && planned.region.is_empty());
    assert_eq!(planned.kind.as_deref(), Some("datastore"));
    let existing = findings
        .iter()
        .find(|f| f.key() == EXISTING)
        .unwrap()
        .resource();
    assert_eq!(existing.arn, EXISTING);
    assert_eq!(existing.region, "us-east-1");

    // Every reporter names each resource by its identity.
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
    let sarif: Value = serde_json::from_str(&read("r.sarif")).unwrap();
    let names: BTreeSet<String> = sarif["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|run| run["results"].as_array().cloned().unwrap_or_default())
        .flat_map(|res| res["locations"].as_array().cloned().unwrap_or_default())
        .filter_map(|loc| {
            loc["logicalLocations"][0]["fullyQualifiedName"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert!(names.contains(PLANNED), "{names:?}");
    assert!(names.contains(EXPORT_BAD), "{names:?}");
    for file in ["r.xml", "r.md", "r.html", "r.txt"] {
        let text = read(file);
        assert!(text.contains("ResearchStore in infra/stack.yaml"), "{file}");
        // A job is named by what it did, with its data store's name and ARN.
        assert!(
            text.contains(
                "export of claims-prod (arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/\
                 a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6) to s3://scratch/claims/ on 2025-12-01"
            ),
            "{file}"
        );
        assert!(text.contains("e0000000000000000000000000000002"), "{file}");
    }
}

#[test]
fn fingerprints_are_stable_and_a_report_is_its_own_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let first = check(dir.path(), &[]);
    let before = dir.path().join("before.json");
    std::fs::write(&before, &first.stdout).unwrap();
    let second = check(dir.path(), &["--baseline", before.to_str().unwrap()]);
    let a = Report::parse(&first.stdout);
    let b = Report::parse(&second.stdout);
    let prints =
        |r: &Report| -> Vec<String> { r.findings.iter().map(|f| f.fingerprint.clone()).collect() };
    assert_eq!(prints(&a), prints(&b));
    let distinct: BTreeSet<String> = prints(&a).into_iter().collect();
    assert_eq!(
        distinct.len(),
        prints(&a).len(),
        "fingerprints are distinct"
    );
    // Baseline states are given to what needs attention (FAIL, ERROR, WAIVED), and none
    // to the PASS and SKIP pairs (which therefore stay compact).
    let states: Vec<Option<&str>> = b
        .findings
        .iter()
        .filter(|f| !matches!(f.status.as_str(), "PASS" | "SKIP"))
        .map(|f| f.baseline.as_deref())
        .collect();
    assert_eq!(states.len(), 2);
    assert!(states.iter().all(|s| *s == Some("unchanged")), "{states:?}");
    assert!(b
        .findings
        .iter()
        .filter(|f| matches!(f.status.as_str(), "PASS" | "SKIP"))
        .all(|f| f.baseline.is_none()));
    assert!(b.findings.iter().any(|f| f.compact));
}

/// A JSON report of version 1 still works as a baseline: every finding matches.
/// `fixtures/baselines/report-v1.json` was written by the release before kinds existed
/// (commit 7b3cd36, `check fixtures/baselines/before.json --as-of 2026-12-01T00:00:00Z
/// --format json`): no `kind` or `identity`, each resource known by its ARN.
#[test]
fn a_version_1_report_still_works_as_a_baseline() {
    let demo = |extra: &[&str]| {
        run(hlaudit()
            .args(["check", "fixtures/baselines/before.json", "--as-of", AS_OF])
            .args(["--format", "json", "--fail-on", "none"])
            .args(extra))
    };
    let v1 = "fixtures/baselines/report-v1.json";
    // HL-LOG-01 came after version 1: its findings have nothing to match and would be new.
    let out = demo(&["--baseline", v1, "--skip", "HL-LOG-01"]);
    assert!(out.code == Some(0), "{}", out.stderr);
    let report = Report::parse(&out.stdout);
    let findings = &report.findings;
    assert!(!findings.is_empty());
    // Every finding matches its version 1 fingerprint, except one the pack has
    // since stopped raising: HL-MD-04 no longer fails a data store whose SMART
    // metadata lacks its endpoints (HL-MD-02 reports missing fields), so the
    // sandbox's HL-MD-04 FAIL of version 1 is now a PASS with the same
    // fingerprint: "absent" (fixed), never "new". That PASS carries its state, so
    // it is written in full.
    let states: BTreeSet<(&str, &str, &str)> = findings
        .iter()
        .filter_map(|f| {
            let state = f.baseline.as_deref()?;
            let changed = state != "unchanged";
            Some((
                state,
                if changed { f.policy.id.as_str() } else { "" },
                if changed {
                    f.resource().name.as_deref()?
                } else {
                    ""
                },
            ))
        })
        .collect();
    assert_eq!(
        states,
        BTreeSet::from([("absent", "HL-MD-04", "sandbox"), ("unchanged", "", "")]),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("0 new, 16 unchanged, 0 updated, 1 fixed"),
        "{}",
        out.stderr
    );

    // And the baseline really is version 1, with no identity anywhere.
    let text = std::fs::read_to_string(hlaudit_e2e::repo_root().join(v1)).unwrap();
    let v1_report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v1_report["hlauditReport"], 1);
    for f in v1_report["findings"].as_array().unwrap() {
        let r = &f["resource"];
        assert!(
            r.get("identity").is_none() && r.get("kind").is_none(),
            "{f}"
        );
        assert!(r["arn"].is_string(), "{f}");
    }
}

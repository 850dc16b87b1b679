//! The waiver cases of `tests/waivers/` (one generated test per file; run one with
//! `cargo test -p hlaudit-rules --test waiver_cases waiver_NAME`).
//!
//! A case holds `note`, `as_of`, optionally `warn_expiring_days`, `waivers` (the text of a
//! waiver file, named `waivers.yaml`), `resources` (each an existing data store `arn`, a
//! planned data store `planned: {file, address}` or a job `job: {datastore_id, job_id,
//! kind}`, with optional `tags`), `findings` (`policy`, `resource` index, `status`) and
//! either `want` (per finding, in order: `status` and, for WAIVED, the waiver's `line`)
//! with `want_expired`, `want_expiring` and `want_unused` (waiver lines), or `want_errors`
//! (load errors, whose rendering is also pinned with insta).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use hlaudit_model::finding::{Finding, Subject};
use hlaudit_model::identity::{Identity, JobOf, Planned};
use hlaudit_model::report::{PolicyMeta, Report, Resource};
use hlaudit_model::{Inventory, Kind, Severity, Status, Timestamp};
use hlaudit_rules::waiver::{apply_waivers, load_waivers, WaiverOptions, WaiverSource};
use serde::Deserialize;

#[path = "common/load_errors.rs"]
mod load_errors;
use load_errors::{assert_load_errors, WantError};

mod cases {
    include!(concat!(env!("OUT_DIR"), "/waiver_cases.rs"));

    fn run_case(path: &str) {
        super::run_case(path);
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    note: String,
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    warn_expiring_days: Option<u32>,
    waivers: String,
    #[serde(default)]
    resources: Vec<CaseResource>,
    #[serde(default)]
    findings: Vec<CaseFinding>,
    #[serde(default)]
    want: Vec<Want>,
    #[serde(default)]
    want_expired: Vec<u32>,
    #[serde(default)]
    want_expiring: Vec<u32>,
    #[serde(default)]
    want_unused: Vec<u32>,
    #[serde(default)]
    want_errors: Vec<WantError>,
}

/// A resource of a case: exactly one of `arn`, `planned` and `job`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseResource {
    #[serde(default)]
    arn: Option<String>,
    #[serde(default)]
    planned: Option<CasePlanned>,
    #[serde(default)]
    job: Option<CaseJob>,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CasePlanned {
    file: String,
    address: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseJob {
    datastore_id: String,
    job_id: String,
    kind: Kind,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFinding {
    policy: String,
    resource: usize,
    status: Status,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Want {
    status: Status,
    #[serde(default)]
    line: Option<u32>,
}

fn policy(id: &str) -> PolicyMeta {
    PolicyMeta {
        id: id.to_owned(),
        title: format!("{id} title"),
        severity: Severity::High,
        description: String::new(),
        rationale: String::new(),
        remediation: String::new(),
        references: Vec::new(),
        compliance: BTreeMap::new(),
        tags: Vec::new(),
        source: None,
    }
}

fn resource(path: &str, r: &CaseResource) -> Resource {
    let (kind, identity, id) = match (&r.arn, &r.planned, &r.job) {
        (Some(arn), None, None) => {
            return Resource {
                status: Some("ACTIVE".to_owned()),
                tags: r.tags.clone(),
                ..Resource::datastore(arn)
            }
        }
        (None, Some(p), None) => {
            let planned = Planned {
                file: p.file.clone(),
                address: p.address.clone(),
            };
            (Kind::Datastore, Identity::Planned(Box::new(planned)), None)
        }
        (None, None, Some(j)) => {
            let job = JobOf {
                datastore_id: j.datastore_id.clone(),
                job_id: j.job_id.clone(),
            };
            (j.kind, Identity::Job(Box::new(job)), Some(j.job_id.clone()))
        }
        _ => panic!("{path}: a resource is exactly one of `arn`, `planned` and `job`"),
    };
    // What is planned, and a job, has no ARN to name its account or region.
    Resource {
        kind,
        identity,
        id,
        name: None,
        account: None,
        region: None,
        partition: None,
        status: Some("ACTIVE".to_owned()),
        source: None,
        tags: r.tags.clone(),
        job: None,
    }
}

fn run_case(path: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let case: Case = serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(!case.note.trim().is_empty(), "{path}: a case needs a note");
    let stem = std::path::Path::new(path)
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let loaded = load_waivers(&[WaiverSource::from_text(
        "waivers.yaml",
        case.waivers.clone(),
    )]);
    if !case.want_errors.is_empty() {
        let diags = match loaded {
            Ok(_) => panic!("{path}: expected load errors, the waivers loaded"),
            Err(d) => d,
        };
        let rendered = diags.render_for(false, "the waiver files");
        assert_load_errors(path, &diags, &case.want_errors, &rendered);
        insta::assert_snapshot!(
            format!("waiver_error_{stem}"),
            diags.render_for(false, "the waiver files")
        );
        return;
    }
    let set =
        loaded.unwrap_or_else(|d| panic!("{path}: the waivers do not load:\n{}", d.render(false)));
    let as_of = Timestamp::parse(case.as_of.as_deref().unwrap_or("2026-01-01T00:00:00Z")).unwrap();
    let mut report = Report::for_inventory(&Inventory::default(), as_of);
    report.resources = case.resources.iter().map(|r| resource(path, r)).collect();
    for f in &case.findings {
        if !report.policies.iter().any(|p| p.id == f.policy) {
            report.policies.push(policy(&f.policy));
        }
        let p = report
            .policies
            .iter()
            .position(|p| p.id == f.policy)
            .unwrap();
        assert!(
            f.resource < report.resources.len(),
            "{path}: no resource {}",
            f.resource
        );
        let mut finding = Finding::new(
            p,
            Subject::Record { index: f.resource },
            f.status,
            Severity::High,
        );
        if f.status == Status::Fail {
            finding.set_message("failed".into());
        }
        report.findings.push(finding);
    }
    let mut opts = WaiverOptions::at(as_of);
    if let Some(d) = case.warn_expiring_days {
        opts.warn_expiring_days = d;
    }
    let outcome = apply_waivers(&mut report, &set, &opts);
    assert_eq!(
        case.want.len(),
        report.findings.len(),
        "{path}: `want` has one entry per finding"
    );
    for (i, (f, w)) in report.findings.iter().zip(&case.want).enumerate() {
        assert_eq!(f.status, w.status, "{path}: finding {i}: status");
        let line = f.waiver().as_ref().map(|a| a.source.line);
        assert_eq!(
            line, w.line,
            "{path}: finding {i}: the line of the waiver applied"
        );
        if let Some(a) = &f.waiver() {
            assert!(
                !a.reason.is_empty() && !a.approved_by.is_empty(),
                "{path}: waiver carries reason and approver"
            );
            assert_eq!(&*a.source.file, "waivers.yaml");
        }
    }
    let lines = |v: &[hlaudit_rules::waiver::WaiverNote]| {
        v.iter().map(|n| n.source.line).collect::<Vec<_>>()
    };
    assert_eq!(
        lines(&outcome.expired),
        case.want_expired,
        "{path}: expired waivers (lines)"
    );
    assert_eq!(
        lines(&outcome.expiring),
        case.want_expiring,
        "{path}: expiring waivers (lines)"
    );
    assert_eq!(
        lines(&outcome.unused),
        case.want_unused,
        "{path}: unused waivers (lines)"
    );
    let waived = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Waived)
        .count();
    assert_eq!(outcome.applied, waived, "{path}: applied count");
    assert_eq!(
        report.warnings.len(),
        outcome.expired.len() + outcome.expiring.len() + outcome.unused.len(),
        "{path}: one report warning per note"
    );
}

/// Every case file is a generated test (the build script lists the folder).
#[test]
fn every_case_file_is_a_test() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/waivers");
    let n = std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        })
        .count();
    let generated = include_str!(concat!(env!("OUT_DIR"), "/waiver_cases.rs"))
        .matches("#[test]")
        .count();
    assert_eq!(n, generated);
    assert!(n >= 10, "the waiver cases are missing");
}

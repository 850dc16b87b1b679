//! Runs one data-driven case file: `note`, `policies` (the text of a policy file),
//! `records`, and either `want` (statuses and evidence) or `want_errors` (load errors,
//! whose rendering is also pinned with insta).

use std::collections::BTreeMap;

use hlaudit_model::finding::Subject;
use hlaudit_model::{Inventory, Kind, Record, Status, Timestamp};
use hlaudit_rules::{compile, evaluate, EvalOptions, Override, Overrides, PolicySource};
use serde::Deserialize;

use crate::load_errors::{assert_load_errors, WantError};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    note: String,
    #[serde(default)]
    as_of: Option<String>,
    policies: String,
    #[serde(default)]
    records: Vec<CaseRecord>,
    #[serde(default)]
    params: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    severities: BTreeMap<String, String>,
    #[serde(default)]
    want: Vec<Want>,
    #[serde(default)]
    want_errors: Vec<WantError>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseRecord {
    /// The record's kind; a job needs its `DatastoreId` (its `JobId` defaults to
    /// `job-N`).
    #[serde(default)]
    kind: Kind,
    record: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
    #[serde(default)]
    enrichments: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Want {
    #[serde(default)]
    policy: Option<String>,
    #[serde(default)]
    record: usize,
    status: Status,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    evidence: Option<Vec<WantEvidence>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WantEvidence {
    pointer: String,
    #[serde(default)]
    found: Option<serde_json::Value>,
    #[serde(default)]
    absent: bool,
    #[serde(default)]
    expected: Option<String>,
}

pub fn run_case(path: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let case: Case = serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(!case.note.trim().is_empty(), "{path}: a case needs a note");
    let stem = std::path::Path::new(path)
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let mut overrides = Overrides::none();
    for (id, ps) in case.params {
        overrides.params.insert(
            id,
            ps.into_iter().map(|(k, v)| (k, Override::new(v))).collect(),
        );
    }
    for (id, s) in case.severities {
        overrides.severities.insert(id, Override::new(s.into()));
    }
    let src = PolicySource::from_text(format!("{stem}.yaml"), case.policies.clone());
    let compiled = compile(&[src], &overrides);
    if !case.want_errors.is_empty() {
        let diags = match compiled {
            Ok(_) => panic!("{path}: expected load errors, the policies compiled"),
            Err(d) => d,
        };
        assert_load_errors(path, &diags, &case.want_errors, &diags.render(false));
        insta::assert_snapshot!(format!("load_error_{stem}"), diags.render(false));
        return;
    }
    let set = match compiled {
        Ok(s) => s,
        Err(d) => panic!("{path}: the policies do not compile:\n{}", d.render(false)),
    };
    let records: Vec<Record> = case
        .records
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let mut obj = r.record;
            if r.kind == Kind::Datastore {
                obj.entry("DatastoreId")
                    .or_insert_with(|| format!("ds-{i}").into());
                obj.entry("DatastoreArn").or_insert_with(|| {
                    format!("arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/ds-{i}")
                        .into()
                });
            } else {
                obj.entry("JobId")
                    .or_insert_with(|| format!("job-{i}").into());
            }
            let mut rec = Record::from_value_as(r.kind, &serde_json::Value::Object(obj)).unwrap();
            rec.tags = r.tags;
            rec.enrichments = r.enrichments;
            rec
        })
        .collect();
    let pairs: usize = records
        .iter()
        .map(|r| set.policies().filter(|p| p.applies_to(r.kind())).count())
        .sum();
    let inv = Inventory {
        records,
        ..Inventory::default()
    };
    let as_of = Timestamp::parse(case.as_of.as_deref().unwrap_or("2026-01-01T00:00:00Z")).unwrap();
    let findings = evaluate(&set, &inv, EvalOptions::at(as_of));
    assert_eq!(findings.len(), pairs, "{path}: one finding per pair");
    assert!(
        !case.want.is_empty(),
        "{path}: a case needs `want` or `want_errors`"
    );
    for w in &case.want {
        let pid = match &w.policy {
            Some(id) => set
                .index_of(id)
                .unwrap_or_else(|| panic!("{path}: no policy {id}")),
            None => 0,
        };
        let f = findings
            .iter()
            .find(|f| f.policy_index() == pid && f.subject() == Subject::Record { index: w.record })
            .unwrap_or_else(|| panic!("{path}: no finding for record {}", w.record));
        let id = &set.get(pid).unwrap().meta.id;
        assert_eq!(
            f.status,
            w.status,
            "{path}: {id} on record {}: status\nmessage: {}\nevidence: {:#?}",
            w.record,
            f.message(),
            f.evidence()
        );
        if let Some(s) = &w.severity {
            assert_eq!(f.severity.as_str(), s, "{path}: severity");
        }
        if let Some(m) = &w.message {
            assert_eq!(&f.message(), m, "{path}: message");
        }
        if matches!(f.status, Status::Pass | Status::Skip) {
            assert!(
                f.message().is_empty() && f.evidence().is_empty(),
                "{path}: PASS/SKIP carry nothing"
            );
        }
        if let Some(ev) = &w.evidence {
            let got: Vec<_> = f
                .evidence()
                .iter()
                .map(|e| (&*e.pointer, &e.found))
                .collect();
            let want: Vec<_> = ev
                .iter()
                .map(|e| {
                    let found = if e.absent {
                        None
                    } else {
                        Some(e.found.clone().unwrap_or(serde_json::Value::Null))
                    };
                    (e.pointer.as_str(), found)
                })
                .collect();
            let want_refs: Vec<_> = want.iter().map(|(p, f)| (*p, f)).collect();
            assert_eq!(
                got,
                want_refs,
                "{path}: evidence (pointer, found)\n{:#?}",
                f.evidence()
            );
            for (g, e) in f.evidence().iter().zip(ev) {
                if let Some(x) = &e.expected {
                    assert_eq!(&*g.expected, x.as_str(), "{path}: expected text");
                }
            }
        }
    }
}

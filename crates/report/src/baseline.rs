//! Baselines: comparing findings with a JSON report of an earlier run, and comparing two
//! reports (`hlaudit diff`).
//!
//! Findings are matched on their stable fingerprint (policy id + data store ARN, or the
//! scope of a collection error; see [`hlaudit_model::finding::fingerprint`]). Only
//! *results* take part: findings whose status is FAIL, ERROR or WAIVED, the ones SARIF
//! reports. This lives in the report crate because a baseline *is* a JSON report
//! ([`crate::json::read`]); the model knows nothing of the wire format, and the command
//! line only decides what to do with the outcome (dependencies point cli -> report -> model).
//!
//! States given to the current report's findings ([`apply_baseline`]):
//!
//! | now | in the baseline as a result | state |
//! |---|---|---|
//! | FAIL / ERROR / WAIVED | no | `new` |
//! | FAIL / ERROR / WAIVED | yes, same status and severity | `unchanged` |
//! | FAIL / ERROR / WAIVED | yes, another status or severity | `updated` |
//! | PASS / SKIP | yes | `absent` (fixed) |
//! | PASS / SKIP | no | none |
//!
//! A baseline result with no finding at all in the current report (its data store was
//! deleted, or its policy was not evaluated this time) is *gone*: it is listed in
//! [`BaselineOutcome::gone`] rather than added to the report, so the report's counts stay
//! those of what was audited.

use std::collections::{HashMap, HashSet};

use hlaudit_model::finding::{BaselineState, Finding, Severity, Status};
use hlaudit_model::report::Report;
use serde::Serialize;

use crate::json::{JsonFinding, JsonReport};
use crate::ReportError;

/// Whether a status is a result (reported by SARIF, compared by baselines).
pub fn is_result(status: Status) -> bool {
    matches!(status, Status::Fail | Status::Error | Status::Waived)
}

/// One result of a report, as a baseline or `diff` knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// The stable fingerprint.
    pub fingerprint: String,
    /// The policy id.
    pub policy: String,
    /// The policy title.
    pub title: String,
    /// The resource's identity key (a data store's ARN), or the scope of a collection
    /// error.
    pub resource: String,
    /// The status.
    pub status: Status,
    /// The severity.
    pub severity: Severity,
    /// The message.
    pub message: String,
}

impl Entry {
    fn from_json(f: &JsonFinding) -> Self {
        Entry {
            fingerprint: f.fingerprint.clone(),
            policy: f.policy.id.clone(),
            title: f.policy.title.clone(),
            resource: f.resource_key(),
            status: f.status,
            severity: f.severity,
            message: f.message.clone(),
        }
    }
}

/// The results of an earlier report, by fingerprint. Hashed rather than ordered: an
/// audit looks up every one of its findings (millions, in a large one), and every list
/// made from the results is sorted by (policy, resource) on its own.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Baseline {
    results: HashMap<String, Entry>,
    generated_at: Option<hlaudit_model::Timestamp>,
}

impl Baseline {
    /// The results of a JSON report.
    pub fn from_report(report: &JsonReport) -> Self {
        Baseline {
            results: report
                .findings
                .iter()
                .filter(|f| is_result(f.status))
                .map(|f| (f.fingerprint.clone(), Entry::from_json(f)))
                .collect(),
            generated_at: Some(report.generated_at),
        }
    }

    /// Reads a JSON report (of any version [`crate::json::read`] reads) as a baseline. It
    /// reads what a baseline keeps of each result (fingerprint, policy, resource, status,
    /// severity, message) and steps over the rest, so a baseline of 100,000 data stores
    /// (580 MB, half a million results) does not hold every finding's evidence, nor the
    /// compact section, while it is read. The report must still be JSON throughout, of a
    /// version this build reads, with every field of the document and of each finding
    /// that a baseline uses present and of its type; errors name the field path, line and
    /// column as [`crate::json::read`]'s do.
    pub fn read(reader: &mut dyn std::io::Read) -> Result<Self, ReportError> {
        Baseline::from_bytes(crate::json::read_bytes(reader)?)
    }

    /// [`Baseline::read`] of a report's bytes, read already.
    pub fn from_bytes(text: Vec<u8>) -> Result<Self, ReportError> {
        let text = crate::json::check_version(text)?;
        let lean: lean::Report = crate::json::parse_located(&text)?;
        drop(text);
        let mut results = HashMap::with_capacity(lean.findings.len());
        for (i, f) in lean.findings {
            let entry = f.into_entry(i)?;
            results.insert(entry.fingerprint.clone(), entry);
        }
        Ok(Baseline {
            results,
            generated_at: Some(lean.generated_at),
        })
    }

    /// When the baseline's report was made: when its results were last observed (ASFF
    /// `FirstObservedAt`, OCSF `first_seen_time` of a finding it already held).
    pub fn generated_at(&self) -> Option<hlaudit_model::Timestamp> {
        self.generated_at
    }

    /// The baseline's result with this fingerprint.
    pub fn get(&self, fingerprint: &str) -> Option<&Entry> {
        self.results.get(fingerprint)
    }

    /// The number of results.
    pub fn len(&self) -> usize {
        self.results.len()
    }

    /// Whether the baseline holds no result.
    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }
}

/// What comparing a report with a baseline found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BaselineOutcome {
    /// Results not in the baseline.
    pub new: usize,
    /// Results in the baseline with the same status and severity.
    pub unchanged: usize,
    /// Results in the baseline with another status or severity.
    pub updated: usize,
    /// Baseline results whose finding is now PASS or SKIP.
    pub fixed: usize,
    /// Baseline results with no finding in the report (data store or policy gone), in
    /// (policy, resource) order.
    pub gone: Vec<Entry>,
}

/// Sets `Finding::baseline` on every finding of `report` (see the module table) and says
/// what changed.
///
/// A large audit has millions of findings: each is fingerprinted on every core, in its
/// place, and only the baseline's results it finds are remembered (not a fingerprint per
/// finding).
pub fn apply_baseline(report: &mut Report, baseline: &Baseline) -> BaselineOutcome {
    use rayon::prelude::*;
    let mut findings = std::mem::take(&mut report.findings);
    let shared: &Report = report;
    // The state of each finding, and the key of the baseline result it matches, if any.
    let hits: Vec<(BaselineState, Option<&str>)> = findings
        .par_iter_mut()
        .filter_map(|f| {
            let fp = shared.fingerprint_text_of(f);
            let before = baseline.results.get_key_value(fp.as_str());
            let state = match (is_result(f.status), before) {
                (true, None) => Some(BaselineState::New),
                (true, Some((_, b))) if b.status == f.status && b.severity == f.severity => {
                    Some(BaselineState::Unchanged)
                }
                (true, Some(_)) => Some(BaselineState::Updated),
                (false, Some(_)) => Some(BaselineState::Absent),
                (false, None) => None,
            };
            f.set_baseline(state);
            Some((state?, before.map(|(key, _)| key.as_str())))
        })
        .collect();
    report.findings = findings;
    let mut outcome = BaselineOutcome::default();
    let mut seen = HashSet::with_capacity(hits.len());
    for (state, key) in hits {
        match state {
            BaselineState::New => outcome.new += 1,
            BaselineState::Unchanged => outcome.unchanged += 1,
            BaselineState::Updated => outcome.updated += 1,
            BaselineState::Absent => outcome.fixed += 1,
        }
        if let Some(key) = key {
            seen.insert(key);
        }
    }
    let mut gone: Vec<Entry> = baseline
        .results
        .iter()
        .filter(|(fp, _)| !seen.contains(fp.as_str()))
        .map(|(_, e)| e.clone())
        .collect();
    gone.sort_by(|a, b| (&a.policy, &a.resource).cmp(&(&b.policy, &b.resource)));
    outcome.gone = gone;
    outcome
}

/// Whether a finding is a FAIL that the baseline did not already hold as a FAIL: new, or
/// FAIL again after being WAIVED or ERROR (an expired waiver). This is what
/// `--fail-on-new` gates on; a known FAIL whose severity changed does not count.
pub fn is_new_failure(report: &Report, f: &Finding, baseline: &Baseline) -> bool {
    f.status == Status::Fail
        && baseline
            .get(report.fingerprint_text_of(f).as_str())
            .is_none_or(|b| b.status != Status::Fail)
}

/// A result whose status or severity differs between two reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The result in the new report.
    #[serde(flatten)]
    pub now: Entry,
    /// Its status in the old report.
    pub old_status: Status,
    /// Its severity in the old report.
    pub old_severity: Severity,
}

/// What changed between two reports (`hlaudit diff OLD NEW`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diff {
    /// Results of the new report that the old one did not have.
    pub new: Vec<Entry>,
    /// Results of the old report that the new one does not have (fixed, or gone).
    pub fixed: Vec<Entry>,
    /// Results in both, with another status or severity.
    pub changed: Vec<Change>,
    /// How many results are in both, unchanged.
    pub unchanged: usize,
}

/// Compares two reports' results by fingerprint. Every list is in (policy, resource) order.
pub fn diff(old: &JsonReport, new: &JsonReport) -> Diff {
    diff_results(&Baseline::from_report(old), &Baseline::from_report(new))
}

/// [`diff`] of the results of two reports, as [`Baseline::read`] reads them (what `hlaudit
/// diff` does: two reports of 100,000 data stores need not be held whole).
pub fn diff_results(old: &Baseline, now: &Baseline) -> Diff {
    let mut d = Diff::default();
    for (fp, e) in &now.results {
        match old.get(fp) {
            None => d.new.push(e.clone()),
            Some(o) if o.status == e.status && o.severity == e.severity => d.unchanged += 1,
            Some(o) => d.changed.push(Change {
                now: e.clone(),
                old_status: o.status,
                old_severity: o.severity,
            }),
        }
    }
    d.fixed = old
        .results
        .iter()
        .filter(|(fp, _)| now.get(fp).is_none())
        .map(|(_, e)| e.clone())
        .collect();
    let key = |e: &Entry| (e.policy.clone(), e.resource.clone());
    d.new.sort_by_key(key);
    d.fixed.sort_by_key(key);
    d.changed.sort_by_key(|c| key(&c.now));
    d
}

/// What [`Baseline::read`] reads of a JSON report: the document as [`JsonReport`] reads
/// it, but for its large arrays: of `findings` only the results, and of each only what an
/// [`Entry`] holds; the compact section (`outcomes`, `resources`) is stepped over.
mod lean {
    use std::fmt;

    use hlaudit_model::compliance::ComplianceView;
    use hlaudit_model::finding::{Severity, Status};
    use hlaudit_model::inventory::{CollectionError, Coverage, Warning};
    use hlaudit_model::report::{PolicyMeta, ToolInfo};
    use hlaudit_model::{Identity, Kind, Timestamp};
    use serde::de::{IgnoredAny, SeqAccess, Visitor};
    use serde::{Deserialize, Deserializer};

    use super::{is_result, Entry};
    use crate::json::{arn_identity, JsonPolicyRef, JsonScope, JsonSummary};
    use crate::ReportError;

    /// [`crate::json::JsonReport`]'s fields, read as it reads them but for `findings` and the compact
    /// section, so a report that does not read whole does not read here either. They are
    /// repeated rather than shared through `#[serde(flatten)]`, which would make serde
    /// buffer the large arrays of every report read whole.
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)] // read to be checked, not kept
    pub(super) struct Report {
        hlaudit_report: u32,
        tool: ToolInfo,
        pub(super) generated_at: Timestamp,
        evaluated_at: Timestamp,
        summary: JsonSummary,
        coverage: Coverage,
        policies: Vec<PolicyMeta>,
        #[serde(default)]
        compliance: Option<ComplianceView>,
        #[serde(default)]
        errors: Vec<CollectionError>,
        #[serde(default)]
        warnings: Vec<Warning>,
        /// The results, each with its index in the report's `findings`.
        #[serde(deserialize_with = "results")]
        pub(super) findings: Vec<(usize, Finding)>,
        #[serde(default)]
        outcomes: Option<IgnoredAny>,
        #[serde(default)]
        resources: Option<IgnoredAny>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Finding {
        fingerprint: String,
        policy: JsonPolicyRef,
        status: Status,
        severity: Severity,
        #[serde(default)]
        message: String,
        #[serde(default)]
        resource: Option<Resource>,
        #[serde(default)]
        scope: Option<JsonScope>,
    }

    #[derive(Deserialize)]
    struct Resource {
        #[serde(default)]
        kind: Kind,
        #[serde(default)]
        identity: Option<Identity>,
        #[serde(default)]
        arn: Option<String>,
    }

    impl Finding {
        /// The entry of the finding at index `i` of the report's `findings`; the resource
        /// key is [`crate::json::JsonFinding::resource_key`]'s.
        pub(super) fn into_entry(self, i: usize) -> Result<Entry, ReportError> {
            let resource = match (self.resource, self.scope) {
                (Some(r), _) => {
                    let identity = match r.identity {
                        Some(id) => id,
                        None => arn_identity(r.arn, i)?,
                    };
                    identity.key(r.kind).into_owned()
                }
                (None, Some(s)) => s.key(),
                (None, None) => String::new(),
            };
            Ok(Entry {
                fingerprint: self.fingerprint,
                policy: self.policy.id,
                title: self.policy.title,
                resource,
                status: self.status,
                severity: self.severity,
                message: self.message,
            })
        }
    }

    /// The results of `findings` (FAIL, ERROR, WAIVED), each with its index; the PASS and
    /// SKIP findings of a version 1 or 2 report are read and dropped one by one.
    fn results<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(usize, Finding)>, D::Error> {
        struct Results;
        impl<'de> Visitor<'de> for Results {
            type Value = Vec<(usize, Finding)>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of findings")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut kept = Vec::new();
                let mut i = 0;
                while let Some(f) = seq.next_element::<Finding>()? {
                    if is_result(f.status) {
                        kept.push((i, f));
                    }
                    i += 1;
                }
                Ok(kept)
            }
        }
        d.deserialize_seq(Results)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hlaudit_model::finding::Subject;
    use hlaudit_model::report::{PolicyMeta, Resource};
    use hlaudit_model::{Inventory, Timestamp};

    fn report(findings: &[(&str, usize, Status, Severity)]) -> Report {
        let mut r = Report::for_inventory(&Inventory::default(), Timestamp::now());
        for i in 0..3 {
            r.resources.push(Resource::datastore(&format!(
                "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/s{i}"
            )));
        }
        for (id, res, status, severity) in findings {
            let p = match r.policies.iter().position(|p| p.id == *id) {
                Some(p) => p,
                None => {
                    let mut meta = PolicyMeta::collection_error();
                    meta.id = (*id).to_owned();
                    r.policies.push(meta);
                    r.policies.len() - 1
                }
            };
            let mut f = Finding::new(p, Subject::Record { index: *res }, *status, *severity);
            f.set_message("m".into());
            r.findings.push(f);
        }
        r
    }

    fn json(r: &Report) -> JsonReport {
        JsonReport::from_report(r, None).unwrap()
    }

    use Severity::{High, Low};
    use Status::{Error, Fail, Pass, Skip, Waived};

    #[test]
    fn states_follow_the_table() {
        let old = report(&[
            ("A", 0, Fail, High),  // unchanged
            ("A", 1, Fail, High),  // now PASS: absent
            ("B", 0, Fail, Low),   // severity raised: updated
            ("B", 1, Waived, Low), // waiver expired: updated
            ("C", 2, Fail, High),  // policy gone
            ("D", 0, Pass, High),  // a pass stays out of the baseline
        ]);
        let mut now = report(&[
            ("A", 0, Fail, High),
            ("A", 1, Pass, High),
            ("A", 2, Fail, High), // new
            ("B", 0, Fail, High),
            ("B", 1, Fail, Low),
            ("D", 0, Fail, High),  // new (was PASS)
            ("D", 1, Skip, High),  // nothing to say
            ("E", 0, Error, High), // new
        ]);
        let base = Baseline::from_report(&json(&old));
        assert_eq!(base.len(), 5);
        let out = apply_baseline(&mut now, &base);
        let states: Vec<_> = now.findings.iter().map(|f| f.baseline()).collect();
        use BaselineState::*;
        assert_eq!(
            states,
            vec![
                Some(Unchanged),
                Some(Absent),
                Some(New),
                Some(Updated),
                Some(Updated),
                Some(New),
                None,
                Some(New)
            ]
        );
        assert_eq!(
            (out.new, out.unchanged, out.updated, out.fixed),
            (3, 1, 2, 1)
        );
        assert_eq!(out.gone.len(), 1);
        assert_eq!(out.gone[0].policy, "C");
        assert!(out.gone[0].resource.ends_with("/s2"));
        // --fail-on-new: new FAILs and FAILs that were waived before, not known FAILs.
        let gating: Vec<bool> = now
            .findings
            .iter()
            .map(|f| is_new_failure(&now, f, &base))
            .collect();
        assert_eq!(
            gating,
            vec![false, false, true, false, true, true, false, false]
        );
    }

    /// A FAIL, a WAIVED and a PASS finding.
    fn fail_waived_pass() -> Report {
        report(&[
            ("A", 0, Fail, High),
            ("B", 1, Waived, Low),
            ("C", 2, Pass, Low),
        ])
    }

    #[test]
    fn reading_a_report_as_a_baseline_gives_the_baseline_of_the_report_read_whole() {
        let r = fail_waived_pass();
        for form in [crate::json::Form::Compact, crate::json::Form::Full] {
            let mut bytes = Vec::new();
            crate::json::write_form(&r, None, form, &mut bytes).unwrap();
            let whole = Baseline::from_report(&crate::json::read(&mut &bytes[..]).unwrap());
            let read = Baseline::read(&mut &bytes[..]).unwrap();
            assert_eq!(read.len(), 2, "{form:?}");
            assert_eq!(read, whole, "{form:?}");
        }
    }

    #[test]
    fn a_version_1_report_reads_as_it_reads_whole() {
        // Resources there are data stores known by `arn` alone.
        let path = format!(
            "{}/../../fixtures/baselines/report-v1.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(path).unwrap();
        let whole = Baseline::from_report(&crate::json::read(&mut &bytes[..]).unwrap());
        let read = Baseline::read(&mut &bytes[..]).unwrap();
        assert!(!read.is_empty());
        assert_eq!(read, whole);
    }

    #[test]
    fn a_baseline_that_does_not_read_whole_does_not_read() {
        let mut bytes = Vec::new();
        crate::json::write(&fail_waived_pass(), None, &mut bytes).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        // A field the baseline does not use, broken; a result with a status no report
        // has; a truncated document; a repeated name in a finding.
        let no_severity = text.replacen("\"severity\"", "\"severityX\"", 1);
        let bad_status = text.replacen("\"status\":\"FAIL\"", "\"status\":\"FAILED\"", 1);
        assert_ne!(bad_status, text);
        let truncated = &text[..text.len() / 2];
        let repeated = text.replacen(
            "\"fingerprint\"",
            "\"fingerprint\":\"x\",\"fingerprint\"",
            1,
        );
        for bad in [&no_severity, &bad_status, truncated, &repeated] {
            let whole = crate::json::read(&mut bad.as_bytes()).unwrap_err();
            let read = Baseline::read(&mut bad.as_bytes()).unwrap_err();
            assert_eq!(read.to_string(), whole.to_string());
        }
    }

    #[test]
    fn a_report_against_itself_is_all_unchanged() {
        let r = fail_waived_pass();
        let base = Baseline::from_report(&json(&r));
        let mut now = r.clone();
        let out = apply_baseline(&mut now, &base);
        assert_eq!(
            (out.new, out.unchanged, out.updated, out.fixed),
            (0, 2, 0, 0)
        );
        assert!(out.gone.is_empty());
        let d = diff(&json(&r), &json(&r));
        assert!(d.new.is_empty() && d.fixed.is_empty() && d.changed.is_empty());
        assert_eq!(d.unchanged, 2);
    }

    #[test]
    fn diff_lists_new_fixed_and_changed_in_order() {
        let old = report(&[
            ("B", 0, Fail, High),
            ("A", 1, Fail, High),
            ("A", 0, Fail, Low),
        ]);
        let new = report(&[
            ("A", 0, Fail, High),
            ("C", 2, Error, High),
            ("A", 2, Fail, Low),
        ]);
        let d = diff(&json(&old), &json(&new));
        let ids = |v: &[Entry]| {
            v.iter()
                .map(|e| format!("{}@{}", e.policy, &e.resource[e.resource.len() - 2..]))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&d.new), vec!["A@s2", "C@s2"]);
        assert_eq!(ids(&d.fixed), vec!["A@s1", "B@s0"]);
        assert_eq!(d.changed.len(), 1);
        assert_eq!(
            (d.changed[0].old_severity, d.changed[0].now.severity),
            (Low, High)
        );
        assert_eq!(d.unchanged, 0);
    }
}

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
use std::mem::take;

use hlaudit_model::finding::{BaselineState, Finding, Severity, Status};
use hlaudit_model::report::Report;
use serde::Serialize;

use crate::json::{JsonFinding, JsonReport};

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
        let (fingerprint, policy) = (f.fingerprint.clone(), f.policy.id.clone());
        Entry::of(
            fingerprint,
            policy,
            f.policy.title.clone(),
            f.message.clone(),
            f,
        )
    }

    /// The entry of `f`, taking its strings.
    fn taken(mut f: JsonFinding) -> Self {
        let (fingerprint, policy) = (take(&mut f.fingerprint), take(&mut f.policy.id));
        Entry::of(
            fingerprint,
            policy,
            take(&mut f.policy.title),
            take(&mut f.message),
            &f,
        )
    }

    /// The entry of `f` with these of its strings.
    fn of(
        fingerprint: String,
        policy: String,
        title: String,
        message: String,
        f: &JsonFinding,
    ) -> Self {
        Entry {
            fingerprint,
            policy,
            title,
            resource: f.resource_key(),
            status: f.status,
            severity: f.severity,
            message,
        }
    }
}

/// The results of an earlier report, by fingerprint. Hashed rather than ordered: an
/// audit looks up every one of its findings (millions, in a large one), and every list
/// made from the results is sorted by (policy, resource) on its own.
#[derive(Debug, Clone, Default)]
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

    /// The results of a JSON report, taking its strings rather than copying them (see
    /// [`Baseline::from_report`]): a baseline of 100,000 data stores holds half a million.
    pub fn from_json(report: JsonReport) -> Self {
        let generated_at = Some(report.generated_at);
        let results = report
            .findings
            .into_iter()
            .filter(|f| is_result(f.status))
            .map(|f| {
                let entry = Entry::taken(f);
                (entry.fingerprint.clone(), entry)
            })
            .collect();
        Baseline {
            results,
            generated_at,
        }
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
            let fp = shared.fingerprint_of(f);
            let before = baseline.results.get_key_value(&fp);
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
            .get(&report.fingerprint_of(f))
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
    let old = Baseline::from_report(old);
    let now = Baseline::from_report(new);
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
    fn taking_a_report_gives_the_baseline_borrowing_it_gives() {
        let r = fail_waived_pass();
        let borrowed = Baseline::from_report(&json(&r));
        let taken = Baseline::from_json(json(&r));
        assert_eq!(taken.len(), 2);
        assert_eq!(taken.results, borrowed.results);
        assert_eq!(taken.generated_at(), borrowed.generated_at());
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

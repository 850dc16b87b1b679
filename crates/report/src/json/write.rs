//! Writing the JSON report straight from a [`Report`], in parallel and in order.
//!
//! The small parts of the document (tool, summary, coverage, policies, compliance, errors,
//! warnings) are pretty-printed; the large arrays (`findings`, `outcomes`, `resources`)
//! hold one compact JSON value per line, so the file stays readable and line-oriented
//! (`grep` finds a finding's whole line) without spending most of its bytes on
//! indentation. Array elements are serialised in blocks on the rayon pool and written in
//! order: the bytes do not depend on the number of threads.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;

use hlaudit_model::compliance::ComplianceView;
use hlaudit_model::finding::{AppliedWaiver, BaselineState, Evidence, Finding, Severity, Status};
use hlaudit_model::report::{JobSummary, Report};
use hlaudit_model::{Identity, Kind, Source};
use rayon::prelude::*;
use serde::Serialize;

use super::compact::Split;
use super::{summary, Form, JsonFinding, JsonPolicyRef, JsonResource, JsonScope};
use crate::{text, ReportError};

/// Elements serialised by one task.
const BLOCK: usize = 512;

/// Writes the document; see [`super::write_form`].
pub(super) fn document(
    report: &Report,
    compliance: Option<&ComplianceView>,
    form: Form,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    crate::check_policies(report)?;
    let mut doc = Doc { out, first: true };
    doc.out.write_all(b"{").map_err(io)?;
    doc.small("hlauditReport", &form.version())?;
    doc.small("tool", &report.tool)?;
    doc.small("generatedAt", &report.generated_at)?;
    doc.small("evaluatedAt", &report.evaluated_at)?;
    doc.small("summary", &summary(report))?;
    doc.small("coverage", &report.coverage)?;
    doc.small("policies", &report.policies)?;
    if let Some(view) = compliance {
        doc.small("compliance", view)?;
    }
    doc.small("errors", &report.errors)?;
    doc.small("warnings", &report.warnings)?;
    match form {
        Form::Compact => {
            let split = Split::of(report);
            doc.lines("findings", &split.full, |&pos, buf| {
                serde_json::to_writer(buf, &FindingOut::new(report, &report.findings[pos]))
            })?;
            doc.lines("outcomes", &split.outcomes, |lists, buf| {
                serde_json::to_writer(buf, &OutcomesOut::of(report, lists))
            })?;
            doc.lines("resources", &report.resources, |r, buf| {
                serde_json::to_writer(buf, &ResourceOut::of(r))
            })?;
        }
        Form::Full => {
            doc.lines("findings", &report.findings, |f, buf| {
                serde_json::to_writer(buf, &FindingOut::new(report, f))
            })?;
        }
    }
    doc.out.write_all(b"\n}\n").map_err(io)
}

fn io(source: std::io::Error) -> ReportError {
    ReportError::Io {
        format: "JSON",
        source,
    }
}

fn json(source: serde_json::Error) -> ReportError {
    ReportError::Json {
        format: "JSON",
        source,
    }
}

/// The top-level object being written, one field at a time.
struct Doc<'o> {
    out: &'o mut dyn Write,
    first: bool,
}

impl Doc<'_> {
    /// Starts the field `key`.
    fn key(&mut self, key: &str) -> Result<(), ReportError> {
        let sep: &[u8] = if self.first { b"\n  \"" } else { b",\n  \"" };
        self.first = false;
        self.out.write_all(sep).map_err(io)?;
        self.out.write_all(key.as_bytes()).map_err(io)?;
        self.out.write_all(b"\": ").map_err(io)
    }

    /// A small field, pretty-printed at the document's indentation.
    fn small<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), ReportError> {
        self.key(key)?;
        let text = serde_json::to_vec_pretty(value).map_err(json)?;
        // JSON strings hold no raw newline, so every newline is between tokens.
        for (i, line) in text.split(|b| *b == b'\n').enumerate() {
            if i > 0 {
                self.out.write_all(b"\n  ").map_err(io)?;
            }
            self.out.write_all(line).map_err(io)?;
        }
        Ok(())
    }

    /// An array field with one compact value per line: `value` serialises each item.
    /// Blocks of items are serialised in parallel, a window of them at a time (so
    /// memory stays bounded), and written in order.
    fn lines<T, F>(&mut self, key: &str, items: &[T], value: F) -> Result<(), ReportError>
    where
        T: Sync,
        F: Fn(&T, &mut Vec<u8>) -> Result<(), serde_json::Error> + Sync,
    {
        self.key(key)?;
        if items.is_empty() {
            return self.out.write_all(b"[]").map_err(io);
        }
        self.out.write_all(b"[").map_err(io)?;
        let last = items.len() - 1;
        let window = BLOCK * 4 * rayon::current_num_threads().max(1);
        for (w, part) in items.chunks(window).enumerate() {
            let blocks: Vec<Result<Vec<u8>, serde_json::Error>> = part
                .par_chunks(BLOCK)
                .enumerate()
                .map(|(b, block)| {
                    let start = w * window + b * BLOCK;
                    let mut buf = Vec::with_capacity(block.len() * 256);
                    for (i, item) in block.iter().enumerate() {
                        buf.extend_from_slice(b"\n    ");
                        value(item, &mut buf)?;
                        if start + i != last {
                            buf.push(b',');
                        }
                    }
                    Ok(buf)
                })
                .collect();
            for block in blocks {
                self.out.write_all(&block.map_err(json)?).map_err(io)?;
            }
        }
        self.out.write_all(b"\n  ]").map_err(io)
    }
}

// The written forms of the element types, borrowing from the report: field for field the
// same names, order and omissions as the owned types of the parent module (a test checks
// that both give the same document).

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FindingOut<'a> {
    fingerprint: String,
    policy: PolicyRefOut<'a>,
    status: Status,
    severity: Severity,
    message: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<ResourceOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<ScopeOut<'a>>,
    evidence: &'a [Evidence],
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a Source>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    undecided: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    waiver: Option<&'a AppliedWaiver>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<BaselineState>,
}

#[derive(Serialize)]
struct PolicyRefOut<'a> {
    id: &'a str,
    title: &'a str,
}

#[derive(Serialize)]
struct ResourceOut<'a> {
    kind: Kind,
    identity: &'a Identity,
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a Source>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<&'a BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    job: Option<&'a JobSummary>,
}

#[derive(Serialize)]
struct ScopeOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    what: &'a str,
}

#[derive(Serialize)]
struct OutcomesOut<'a> {
    policy: &'a str,
    severity: Severity,
    pass: &'a [u32],
    skip: &'a [u32],
}

impl<'a> OutcomesOut<'a> {
    fn of(report: &'a Report, lists: &'a super::compact::Lists) -> Self {
        let policy = &report.policies[lists.policy];
        OutcomesOut {
            policy: &policy.id,
            severity: policy.severity,
            pass: &lists.pass,
            skip: &lists.skip,
        }
    }
}

impl<'a> ResourceOut<'a> {
    fn of(r: &'a hlaudit_model::report::Resource) -> Self {
        ResourceOut {
            kind: r.kind,
            identity: &r.identity,
            arn: r.arn(),
            id: r.id.as_deref(),
            name: r.name.as_deref(),
            account: r.account.as_deref(),
            region: r.region.as_deref(),
            status: r.status.as_deref(),
            source: r.source.as_ref(),
            tags: r.tags.as_ref(),
            job: r.job.as_deref(),
        }
    }

    fn to_owned(&self) -> JsonResource {
        JsonResource {
            kind: self.kind,
            identity: Some(self.identity.clone()),
            arn: self.arn.map(str::to_owned),
            id: self.id.map(str::to_owned),
            name: self.name.map(str::to_owned),
            account: self.account.map(str::to_owned),
            region: self.region.map(str::to_owned),
            status: self.status.map(str::to_owned),
            source: self.source.cloned(),
            tags: self.tags.cloned(),
            job: self.job.cloned(),
        }
    }
}

impl<'a> FindingOut<'a> {
    /// One finding of `report` as the JSON report shows it.
    fn new(report: &'a Report, f: &'a Finding) -> Self {
        let policy = report.policy_of(f);
        let (resource, scope) = match f.scope() {
            None => (report.resource_of(f).map(ResourceOut::of), None),
            Some(s) => (
                None,
                Some(ScopeOut {
                    account: s.account.as_deref(),
                    region: s.region.as_deref(),
                    what: &s.what,
                }),
            ),
        };
        FindingOut {
            fingerprint: report.fingerprint_of(f),
            policy: PolicyRefOut {
                id: &policy.id,
                title: &policy.title,
            },
            status: f.status,
            severity: f.severity,
            message: match f.message() {
                m if m.is_empty() && f.status == Status::Waived => {
                    Cow::Owned(text::message(report, f))
                }
                m => m,
            },
            resource,
            scope,
            evidence: f.evidence(),
            location: f.location(),
            undecided: f.undecided(),
            waiver: f.waiver(),
            baseline: f.baseline(),
        }
    }

    fn to_owned(&self) -> JsonFinding {
        JsonFinding {
            fingerprint: self.fingerprint.clone(),
            policy: JsonPolicyRef {
                id: self.policy.id.to_owned(),
                title: self.policy.title.to_owned(),
            },
            status: self.status,
            severity: self.severity,
            message: self.message.clone().into_owned(),
            resource: self.resource.as_ref().map(ResourceOut::to_owned),
            scope: self.scope.as_ref().map(|s| JsonScope {
                account: s.account.map(str::to_owned),
                region: s.region.map(str::to_owned),
                what: s.what.to_owned(),
            }),
            evidence: self.evidence.to_vec(),
            location: self.location.cloned(),
            undecided: self.undecided,
            waiver: self.waiver.cloned(),
            baseline: self.baseline,
        }
    }
}

/// The owned finding as the document holds it.
pub(super) fn finding(report: &Report, f: &Finding) -> JsonFinding {
    FindingOut::new(report, f).to_owned()
}

/// The owned resource as the document's `resources` holds it.
pub(super) fn resource(r: &hlaudit_model::report::Resource) -> JsonResource {
    ResourceOut::of(r).to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hlaudit_model::finding::Subject;
    use hlaudit_model::report::{PolicyMeta, Resource};
    use hlaudit_model::{Inventory, Timestamp};

    /// Enough findings to fill many blocks and several windows.
    fn large() -> Report {
        let mut r = Report::for_inventory(&Inventory::default(), Timestamp::now());
        for p in 0..3 {
            let mut meta = PolicyMeta::collection_error();
            meta.id = format!("P-{p}");
            r.policies.push(meta);
        }
        for i in 0..3000 {
            r.resources.push(Resource::datastore(&format!(
                "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/{i:06}"
            )));
        }
        let statuses = [
            Status::Pass,
            Status::Fail,
            Status::Skip,
            Status::Pass,
            Status::Error,
        ];
        for p in 0..3 {
            for index in 0..3000 {
                let status = statuses[(index * 7 + p) % statuses.len()];
                let mut f = Finding::new(p, Subject::Record { index }, status, Severity::High);
                if matches!(status, Status::Fail | Status::Error) {
                    f.set_message(format!("m{index}"));
                }
                r.findings.push(f);
            }
        }
        r
    }

    #[test]
    fn the_bytes_do_not_depend_on_the_number_of_threads() {
        let report = large();
        for form in [Form::Compact, Form::Full] {
            let render = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let mut out = Vec::new();
                pool.install(|| document(&report, None, form, &mut out))
                    .unwrap();
                out
            };
            let one = render(1);
            assert_eq!(one, render(3), "{form:?}");
            assert_eq!(one, render(8), "{form:?}");
            // One value per line in the large arrays, each a whole JSON value.
            let text = String::from_utf8(one).unwrap();
            let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
            let findings = doc["findings"].as_array().unwrap().len();
            let lines = text
                .lines()
                .filter(|l| l.starts_with("    {\"fingerprint\""))
                .count();
            assert_eq!(lines, findings);
        }
    }
}

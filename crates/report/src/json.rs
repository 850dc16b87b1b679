//! The versioned JSON report, and reading it back.
//!
//! The document is self-contained: every finding carries its policy id and title,
//! resource (kind, identity, ARN, id, name, account, region), evidence, waiver, baseline
//! state and stable fingerprint; `policies` holds the full policy metadata and `summary`
//! the counts. Its shape is described by `docs/report.schema.json`, and `hlauditReport` is
//! the version ([`VERSION`]): fields may be added within a version, never removed or
//! changed.
//!
//! Version 2 added a resource's `kind` and `identity` and made `arn`, `id`, `account` and
//! `region` optional (a data store a template will create has no ARN yet, a job has none of
//! its own). Version 1 reports still read: a resource there is a data store identified by
//! its ARN, and its fingerprints are unchanged, so a version 1 report still works as a
//! baseline.
//!
//! `compliance`, when the caller hands in a [`ComplianceView`], is that view: each control of
//! each framework with its status, the policies that map to it and the counts of their
//! (policy, resource) pairs. It is small (controls times counts) and built once by the
//! caller from the same report; the writer only serialises it. Added within version 2:
//! readers of older reports see it absent.
//!
//! [`read`] parses a report written by [`write()`], for baselines and `hlaudit diff`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{Read, Write};

use hlaudit_model::compliance::ComplianceView;
use hlaudit_model::finding::{
    AppliedWaiver, BaselineState, Evidence, Finding, Severity, Status, Subject,
};
use hlaudit_model::inventory::{CollectionError, Coverage, Warning};
use hlaudit_model::report::{JobSummary, NothingChecked, PolicyMeta, Report, ToolInfo};
use hlaudit_model::{Identity, Kind, Source, Timestamp};
use serde::{Deserialize, Serialize};

use crate::{text, ReportError};

/// The version of the JSON report this build writes.
pub const VERSION: u32 = 2;

/// The versions this build reads.
pub const READS: [u32; 2] = [1, VERSION];

/// A JSON report, as written and read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonReport {
    /// The format version, [`VERSION`].
    pub hlaudit_report: u32,
    /// The tool that wrote it.
    pub tool: ToolInfo,
    /// When the report was made.
    pub generated_at: Timestamp,
    /// The time policies were evaluated at.
    pub evaluated_at: Timestamp,
    /// Counts.
    pub summary: JsonSummary,
    /// What the audit covered.
    pub coverage: Coverage,
    /// The policies evaluated.
    pub policies: Vec<PolicyMeta>,
    /// The compliance view: per framework, every control with its status, mapped policies
    /// and counts. Absent when the writer was given none (and in reports older than it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance: Option<ComplianceView>,
    /// Every finding, in report order (policy id, then resource).
    pub findings: Vec<JsonFinding>,
    /// What could not be collected or read.
    #[serde(default)]
    pub errors: Vec<CollectionError>,
    /// Warnings that did not stop the audit.
    #[serde(default)]
    pub warnings: Vec<Warning>,
}

/// Counts by status and severity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonSummary {
    /// Data stores evaluated.
    pub data_stores: usize,
    /// Policies evaluated.
    pub policies: usize,
    /// Findings per status (every status present, zero included).
    pub by_status: BTreeMap<Status, usize>,
    /// FAIL findings per severity (every severity present, zero included).
    pub failures_by_severity: BTreeMap<Severity, usize>,
    /// Whether anything could not be collected, read or evaluated.
    pub incomplete: bool,
    /// Pairs about planned data stores that depend on a value known only after deploy.
    /// Added within version 2: readers of older reports see 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub undecided: usize,
    /// Why nothing was checked, when no policy was evaluated on any data store (no data
    /// store in the input, no policy, or none that applies); absent otherwise. Added
    /// within version 1: readers of older reports see it absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nothing_checked: Option<NothingChecked>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonFinding {
    /// The stable fingerprint (policy id + resource key), the key baselines match on.
    pub fingerprint: String,
    /// The policy.
    pub policy: JsonPolicyRef,
    /// The outcome.
    pub status: Status,
    /// The effective severity.
    pub severity: Severity,
    /// What is wrong (FAIL, ERROR, WAIVED); may be empty for PASS and SKIP.
    #[serde(default)]
    pub message: String,
    /// The data store, for data store findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<JsonResource>,
    /// The part of the collection, for collection and input errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<JsonScope>,
    /// One entry per failing clause.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// For a data store a template or plan will create: the file, line and column of the
    /// property that decided the finding (the resource, for a default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Source>,
    /// For a planned data store: the pair depends on a value known only after deploy
    /// (SKIP, or FAIL under `--unknown fail`); the evidence names the values.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub undecided: bool,
    /// The waiver that applies (WAIVED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<AppliedWaiver>,
    /// The state against a baseline, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineState>,
}

/// The policy of a finding (the full metadata is in [`JsonReport::policies`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonPolicyRef {
    /// Stable id, e.g. `HL-ENC-01`.
    pub id: String,
    /// One-line title.
    pub title: String,
}

/// A resource: a data store (existing or planned) or a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonResource {
    /// What it is (version 1 reports: always a data store).
    #[serde(default)]
    pub kind: Kind,
    /// Which resource it is. Always present after [`read`], which fills it from `arn` for a
    /// version 1 report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    /// The ARN, for what exists and has one (`DatastoreArn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Its own id (`DatastoreId`, `JobId`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `DatastoreName` or `JobName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Account id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Region, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `DatastoreStatus` or `JobStatus`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Where the record was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// The data store's tags; absent when they were not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// For a job: its data store, and where and when it moved data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<JobSummary>,
}

/// A part of the collection that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonScope {
    /// Account, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Region, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// What could not be read.
    pub what: String,
}

impl JsonReport {
    /// The wire form of a report, with its compliance view when one is given.
    pub fn from_report(
        report: &Report,
        compliance: Option<&ComplianceView>,
    ) -> Result<Self, ReportError> {
        crate::check_policies(report)?;
        Ok(JsonReport {
            hlaudit_report: VERSION,
            tool: report.tool.clone(),
            generated_at: report.generated_at,
            evaluated_at: report.evaluated_at,
            summary: summary(report),
            coverage: report.coverage.clone(),
            policies: report.policies.clone(),
            compliance: compliance.cloned(),
            findings: report
                .findings
                .iter()
                .map(|f| FindingOut::new(report, f).to_owned())
                .collect(),
            errors: report.errors.clone(),
            warnings: report.warnings.clone(),
        })
    }
}

fn summary(report: &Report) -> JsonSummary {
    let s = report.summary();
    JsonSummary {
        data_stores: s.resources,
        policies: s.policies,
        by_status: Status::ALL
            .iter()
            .map(|st| (*st, s.by_status.get(st).copied().unwrap_or(0)))
            .collect(),
        failures_by_severity: Severity::ALL
            .iter()
            .map(|sev| (*sev, s.failures_by_severity.get(sev).copied().unwrap_or(0)))
            .collect(),
        incomplete: report.is_incomplete(),
        undecided: s.undecided,
        nothing_checked: report.nothing_checked(),
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Writes the report as pretty-printed JSON (newline-terminated), with `compliance` as its
/// `compliance` field when given.
///
/// The document is the one [`JsonReport::from_report`] builds, serialised straight from
/// the report one finding at a time, so memory does not grow with the number of findings
/// (a report of millions of findings is gigabytes of JSON).
pub fn write(
    report: &Report,
    compliance: Option<&ComplianceView>,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    crate::check_policies(report)?;
    let doc = ReportOut {
        hlaudit_report: VERSION,
        tool: &report.tool,
        generated_at: report.generated_at,
        evaluated_at: report.evaluated_at,
        summary: summary(report),
        coverage: &report.coverage,
        policies: &report.policies,
        compliance,
        findings: FindingsOut(report),
        errors: &report.errors,
        warnings: &report.warnings,
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(|source| ReportError::Json {
        format: "JSON",
        source,
    })?;
    out.write_all(b"\n").map_err(ReportError::io("JSON"))
}

// The written form of [`JsonReport`], borrowing from the report: field for field the same
// names, order and omissions (a test checks that both give the same bytes).

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportOut<'a> {
    hlaudit_report: u32,
    tool: &'a ToolInfo,
    generated_at: Timestamp,
    evaluated_at: Timestamp,
    summary: JsonSummary,
    coverage: &'a Coverage,
    policies: &'a [PolicyMeta],
    #[serde(skip_serializing_if = "Option::is_none")]
    compliance: Option<&'a ComplianceView>,
    findings: FindingsOut<'a>,
    errors: &'a [CollectionError],
    warnings: &'a [Warning],
}

/// The findings, each built when it is written.
struct FindingsOut<'a>(&'a Report);

impl Serialize for FindingsOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.findings.len()))?;
        for f in &self.0.findings {
            seq.serialize_element(&FindingOut::new(self.0, f))?;
        }
        seq.end()
    }
}

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

impl<'a> FindingOut<'a> {
    /// One finding of `report` as the JSON report shows it.
    fn new(report: &'a Report, f: &'a Finding) -> Self {
        let policy = report.policy_of(f);
        let (resource, scope) = match &f.subject {
            Subject::Record { .. } => (
                report.resource_of(f).map(|r| ResourceOut {
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
                    job: r.job.as_ref(),
                }),
                None,
            ),
            Subject::Scope(s) => (
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
            message: if f.message().is_empty() && f.status == Status::Waived {
                Cow::Owned(text::message(report, f))
            } else {
                Cow::Borrowed(f.message())
            },
            resource,
            scope,
            evidence: f.evidence(),
            location: f.location(),
            undecided: f.undecided(),
            waiver: f.waiver(),
            baseline: f.baseline,
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
            resource: self.resource.as_ref().map(|r| JsonResource {
                kind: r.kind,
                identity: Some(r.identity.clone()),
                arn: r.arn.map(str::to_owned),
                id: r.id.map(str::to_owned),
                name: r.name.map(str::to_owned),
                account: r.account.map(str::to_owned),
                region: r.region.map(str::to_owned),
                status: r.status.map(str::to_owned),
                source: r.source.cloned(),
                tags: r.tags.cloned(),
                job: r.job.cloned(),
            }),
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

/// Reads a JSON report written by [`write()`]. Errors name the field path, line and column;
/// a report of another version is refused with [`ReportError::UnsupportedVersion`].
pub fn read(reader: &mut dyn Read) -> Result<JsonReport, ReportError> {
    // Bytes, not a String: text that is not UTF-8 is then a located JSON error rather
    // than an I/O error with no place.
    let mut text = Vec::new();
    reader
        .read_to_end(&mut text)
        .map_err(ReportError::io("JSON"))?;
    // Check the version first, so a future report is refused with a clear message rather
    // than a confusing field error.
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Header {
        hlaudit_report: Option<serde_json::Value>,
    }
    if let Ok(Header {
        hlaudit_report: Some(v),
    }) = serde_json::from_slice::<Header>(&text)
    {
        match v.as_u64() {
            Some(n) if READS.iter().any(|r| u64::from(*r) == n) => {}
            Some(n) => {
                return Err(ReportError::UnsupportedVersion {
                    found: n,
                    supported: VERSION,
                })
            }
            None => {}
        }
    }
    let de = &mut serde_json::Deserializer::from_slice(&text);
    let mut report: JsonReport = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let source = e.into_inner();
        ReportError::Read {
            path,
            line: source.line(),
            column: source.column(),
            source,
        }
    })?;
    for (i, f) in report.findings.iter_mut().enumerate() {
        if let Some(r) = &mut f.resource {
            if r.identity.is_none() {
                // Version 1: every resource is a data store known by its ARN.
                let arn = r.arn.clone().ok_or_else(|| ReportError::Missing {
                    path: format!("findings[{i}].resource"),
                    what: "`identity` or `arn`",
                })?;
                r.identity = Some(Identity::Arn(arn));
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_other_versions_and_names_bad_fields() {
        let err = read(&mut r#"{"hlauditReport": 3}"#.as_bytes()).unwrap_err();
        assert!(matches!(
            err,
            ReportError::UnsupportedVersion { found: 3, .. }
        ));
        let err = read(&mut r#"{"hlauditReport": 1, "tool": 3}"#.as_bytes()).unwrap_err();
        match err {
            ReportError::Read { path, line, .. } => {
                assert_eq!(path, "tool");
                assert_eq!(line, 1);
            }
            other => panic!("unexpected error {other}"),
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_are_located() {
        // found by the mutation harness: a byte order mark for UTF-16, or a stray 0xff in
        // a string, was "could not write the JSON report" with no place
        for (bad, line) in [
            (&b"\xff\xfe{\"hlauditReport\": 1}"[..], 1),
            (&b"{\"hlauditReport\": 1,\n \"tool\": \"a\xffb\"}"[..], 2),
        ] {
            match read(&mut &bad[..]).unwrap_err() {
                ReportError::Read { line: l, .. } => assert_eq!(l, line),
                other => panic!("unexpected error {other}"),
            }
        }
    }
}

//! The versioned JSON report, and reading it back.
//!
//! The document is a complete record of the audit: every (policy, resource) pair, the
//! policies (`policies`, full metadata), the counts (`summary`) and what could not be read.
//! Its shape is described by `docs/report.schema.json`, and `hlauditReport` is the version
//! ([`VERSION`]): fields may be added within a version, never removed or changed.
//!
//! The design decision of version 3 is that *a pair costs what it has to say*. A FAIL, ERROR
//! or WAIVED finding is a self-contained object in `findings` (fingerprint, policy,
//! resource, message, evidence, waiver, baseline state). A PASS or SKIP pair with nothing
//! more to say than its status, the great majority of pairs, is one index in the compact
//! section: `resources` lists every resource once, and `outcomes` lists per policy the
//! indices of the resources it passes and skips. A reader rebuilds such a pair's
//! fingerprint, status and severity exactly as version 2 carried them
//! ([`JsonReport::compact_findings`], [`JsonReport::every_finding`]). A PASS or SKIP pair
//! that says more (undecided with evidence, a template location, a baseline state such as
//! `absent`, a severity other than its policy's) stays a full finding, so nothing is lost.
//! At 100,000 data stores and the built-in pack this turns 3.2 million objects (3.2 GB)
//! into half a million. The large arrays hold one value per line (see `write`).
//!
//! Version 2 added a resource's `kind` and `identity` and made `arn`, `id`, `account` and
//! `region` optional (a data store a template will create has no ARN yet, a job has none of
//! its own). Version 1 reports still read: a resource there is a data store identified by
//! its ARN, and its fingerprints are unchanged, so a version 1 report still works as a
//! baseline. Versions 1 and 2 have every pair in `findings` and no compact section.
//!
//! `compliance`, when the caller hands in a [`ComplianceView`], is that view: each control of
//! each framework with its status, the policies that map to it and the counts of their
//! (policy, resource) pairs. It is small (controls times counts) and built once by the
//! caller from the same report; the writer only serialises it. Added within version 2:
//! readers of older reports see it absent.
//!
//! [`read`] parses a report written by [`write()`], whole, for tools built on this crate;
//! baselines and `hlaudit diff` read only its results ([`crate::baseline::Baseline::read`]).

mod compact;
mod write;

use std::collections::BTreeMap;
use std::io::{Read, Write};

use hlaudit_model::compliance::ComplianceView;
use hlaudit_model::finding::{AppliedWaiver, BaselineState, Evidence, Finding, Severity, Status};
use hlaudit_model::inventory::{CollectionError, Coverage, Warning};
use hlaudit_model::report::{JobSummary, NothingChecked, PolicyMeta, Report, ToolInfo};
use hlaudit_model::{Identity, Kind, Source, Timestamp};
use serde::{Deserialize, Serialize};

use crate::ReportError;

/// The version of the JSON report this build writes.
pub const VERSION: u32 = 3;

/// The versions this build reads.
pub const READS: [u32; 3] = [1, 2, VERSION];

/// How a report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Form {
    /// Version 3: PASS and SKIP pairs with nothing more to say in the compact section.
    #[default]
    Compact,
    /// Version 2: every pair a full finding, for consumers that do not read version 3
    /// yet. Readers return the same pairs from both forms of one report.
    Full,
}

impl Form {
    /// The `hlauditReport` this form writes.
    pub fn version(self) -> u32 {
        match self {
            Form::Compact => VERSION,
            Form::Full => 2,
        }
    }
}

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
    /// What could not be collected or read.
    #[serde(default)]
    pub errors: Vec<CollectionError>,
    /// Warnings that did not stop the audit.
    #[serde(default)]
    pub warnings: Vec<Warning>,
    /// The findings written in full, in report order (policy id, then resource): every
    /// FAIL, ERROR and WAIVED finding, and the PASS and SKIP pairs the compact section
    /// cannot hold. In versions 1 and 2, every finding.
    pub findings: Vec<JsonFinding>,
    /// Version 3: per policy, the resources it passes and skips (the compact pairs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcomes: Option<Vec<JsonOutcomes>>,
    /// Version 3: every resource of the audit, once; `outcomes` refer to them by index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<JsonResource>>,
}

/// The compact pairs of one policy (version 3): PASS and SKIP pairs with nothing to say
/// but their status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonOutcomes {
    /// The policy id (one of [`JsonReport::policies`]; each listed once).
    pub policy: String,
    /// The severity of every pair listed (the policy's).
    pub severity: Severity,
    /// Indices into [`JsonReport::resources`] of the resources the policy passes,
    /// ascending.
    #[serde(default)]
    pub pass: Vec<usize>,
    /// Indices of the resources the policy does not apply to (SKIP), ascending.
    #[serde(default)]
    pub skip: Vec<usize>,
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
    /// The wire form of a report in version 3, with its compliance view when one is given:
    /// the document [`write()`] writes and [`read`] returns.
    pub fn from_report(
        report: &Report,
        compliance: Option<&ComplianceView>,
    ) -> Result<Self, ReportError> {
        Self::from_report_as(report, compliance, Form::Compact)
    }

    /// The wire form of a report in `form`: the document [`write_form`] writes.
    pub fn from_report_as(
        report: &Report,
        compliance: Option<&ComplianceView>,
        form: Form,
    ) -> Result<Self, ReportError> {
        crate::check_policies(report)?;
        let owned = |f: &Finding| write::finding(report, f);
        let (findings, outcomes, resources) = match form {
            Form::Compact => {
                let split = compact::Split::of(report);
                (
                    split
                        .full
                        .iter()
                        .map(|&i| owned(&report.findings[i]))
                        .collect(),
                    Some(
                        split
                            .outcomes
                            .iter()
                            .map(|l| JsonOutcomes::of(report, l))
                            .collect(),
                    ),
                    Some(report.resources.iter().map(write::resource).collect()),
                )
            }
            Form::Full => (report.findings.iter().map(owned).collect(), None, None),
        };
        Ok(JsonReport {
            hlaudit_report: form.version(),
            tool: report.tool.clone(),
            generated_at: report.generated_at,
            evaluated_at: report.evaluated_at,
            summary: summary(report),
            coverage: report.coverage.clone(),
            policies: report.policies.clone(),
            compliance: compliance.cloned(),
            errors: report.errors.clone(),
            warnings: report.warnings.clone(),
            findings,
            outcomes,
            resources,
        })
    }

    /// The compact section's policies (empty before version 3).
    pub fn outcome_list(&self) -> &[JsonOutcomes] {
        self.outcomes.as_deref().unwrap_or_default()
    }

    /// The compact section's resources (empty before version 3).
    pub fn resource_list(&self) -> &[JsonResource] {
        self.resources.as_deref().unwrap_or_default()
    }
}

impl JsonFinding {
    /// The key the finding is matched on across runs: its resource's identity key (see
    /// [`Identity::key`]), or `account/region/what` for a scope; empty when it has neither.
    pub fn resource_key(&self) -> String {
        match (&self.resource, &self.scope) {
            (Some(r), _) => r
                .identity
                .as_ref()
                .map(|i| i.key(r.kind).into_owned())
                .unwrap_or_default(),
            (None, Some(s)) => s.key(),
            (None, None) => String::new(),
        }
    }
}

impl JsonScope {
    /// The key a finding about this scope is matched on: `account/region/what`, `*` for
    /// what is not known.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}",
            self.account.as_deref().unwrap_or("*"),
            self.region.as_deref().unwrap_or("*"),
            self.what
        )
    }
}

/// What is wrong with a pair of the compact section of a version 3 report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PairProblem {
    /// The policy id is not one of the report's policies.
    #[error("the report has no policy `{0}`")]
    UnknownPolicy(String),
    /// The policy is listed twice.
    #[error("policy `{0}` is listed twice")]
    PolicyTwice(String),
    /// The index names no resource.
    #[error("resource {index} is not listed (the report lists {resources} resources)")]
    NoSuchResource {
        /// The index.
        index: usize,
        /// How many resources the report lists.
        resources: usize,
    },
    /// The indices do not ascend (or one repeats).
    #[error("the indices do not ascend")]
    NotAscending,
    /// A resource is both passed and skipped by one policy.
    #[error("resource {0} is both passed and skipped")]
    PassedAndSkipped(usize),
    /// A listed resource has no identity (no fingerprint can be made for its pairs).
    #[error("the resource has no `identity`")]
    NoIdentity,
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

/// Writes the report as version 3 JSON (newline-terminated), with `compliance` as its
/// `compliance` field when given: the document [`JsonReport::from_report`] builds.
///
/// The document is serialised straight from the report, the large arrays a block of
/// elements at a time on the rayon pool, so memory does not grow with the number of
/// findings; the bytes are the same whatever the number of threads. The small fields are
/// pretty-printed and the large arrays (`findings`, `outcomes`, `resources`) hold one
/// compact value per line.
pub fn write(
    report: &Report,
    compliance: Option<&ComplianceView>,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    write_form(report, compliance, Form::Compact, out)
}

/// Writes the report in `form`: [`Form::Compact`] is [`write()`], [`Form::Full`] the
/// version 2 document with every pair a full finding.
pub fn write_form(
    report: &Report,
    compliance: Option<&ComplianceView>,
    form: Form,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    write::document(report, compliance, form, out)
}

/// Reads a JSON report written by [`write()`]. Errors name the field path, line and column;
/// a report of another version is refused with [`ReportError::UnsupportedVersion`].
pub fn read(reader: &mut dyn Read) -> Result<JsonReport, ReportError> {
    let text = check_version(read_bytes(reader)?)?;
    let mut report: JsonReport = parse_located(&text)?;
    for (i, f) in report.findings.iter_mut().enumerate() {
        if let Some(r) = &mut f.resource {
            if r.identity.is_none() {
                r.identity = Some(arn_identity(r.arn.clone(), i)?);
            }
        }
    }
    compact::check(&report).map_err(|bad| bad.located(&text))?;
    Ok(report)
}

/// The identity of the resource of finding `i` that has none: version 1 knows every
/// resource as a data store by its ARN, and a resource with neither is refused.
pub(crate) fn arn_identity(arn: Option<String>, i: usize) -> Result<Identity, ReportError> {
    arn.map(Identity::Arn).ok_or_else(|| ReportError::Missing {
        path: format!("findings[{i}].resource"),
        what: "`identity` or `arn`",
    })
}

/// The bytes of a report. Bytes, not a String: text that is not UTF-8 is then a located
/// JSON error rather than an I/O error with no place.
pub(crate) fn read_bytes(reader: &mut dyn Read) -> Result<Vec<u8>, ReportError> {
    let mut text = Vec::new();
    reader
        .read_to_end(&mut text)
        .map_err(ReportError::io("JSON"))?;
    Ok(text)
}

/// `text`, when its version is one this build reads: a report of another version is
/// refused with a clear message rather than a confusing field error.
pub(crate) fn check_version(text: Vec<u8>) -> Result<Vec<u8>, ReportError> {
    if let Some(v) = version_of(&text) {
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
    Ok(text)
}

/// The value of the first `hlauditReport` of a JSON object, read up to it and no further:
/// the writer puts it first, and a report of half a gigabyte need not be scanned whole to
/// learn its version. `None` when the text is not an object, or ends or breaks before one.
fn version_of(text: &[u8]) -> Option<serde_json::Value> {
    use serde::de::{IgnoredAny, MapAccess, Visitor};
    use std::cell::Cell;
    struct First<'c>(&'c Cell<Option<serde_json::Value>>);
    impl<'de> Visitor<'de> for First<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON report")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if key == "hlauditReport" {
                    self.0.set(Some(map.next_value()?));
                    // Stopping here ends the parse with an error, which is not a verdict
                    // on the document: its reading comes after.
                    return Ok(());
                }
                map.next_value::<IgnoredAny>()?;
            }
            Ok(())
        }
    }
    let found = Cell::new(None);
    let mut de = serde_json::Deserializer::from_slice(text);
    let _ = serde::Deserializer::deserialize_map(&mut de, First(&found));
    found.into_inner()
}

/// Reads `text` as a `T`, naming the field path, line and column when it does not read.
/// It is read without keeping the path to every value (which made the built-in pack's
/// report over 100,000 data stores, 580 MB, take about a second longer: 4.6-4.7 s rather
/// than 3.6-3.9 s); only a text that does not read is read again, to name the field.
pub(crate) fn parse_located<T: serde::de::DeserializeOwned>(text: &[u8]) -> Result<T, ReportError> {
    let fast = T::deserialize(&mut serde_json::Deserializer::from_slice(text));
    fast.or_else(|_| {
        let de = &mut serde_json::Deserializer::from_slice(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let error = e.into_inner();
            ReportError::Read {
                path,
                line: error.line(),
                column: error.column(),
                error,
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_other_versions_and_names_bad_fields() {
        // Wherever the version is, and whatever comes after it.
        for text in [
            r#"{"hlauditReport": 4}"#,
            r#"{"tool": {"name": "x"}, "summary": [1, {"a": "}"}], "hlauditReport": 4}"#,
            r#"{"hlauditReport": 4, "findings": [{"cut short"#,
        ] {
            let err = read(&mut text.as_bytes()).unwrap_err();
            assert!(
                matches!(err, ReportError::UnsupportedVersion { found: 4, .. }),
                "{text}: {err}"
            );
        }
        // A version read as one (the first of two) does not hide what is wrong after it.
        let err = read(&mut r#"{"hlauditReport": 3, "hlauditReport": 4}"#.as_bytes()).unwrap_err();
        assert!(matches!(err, ReportError::Read { .. }), "{err}");
        let err = read(&mut r#"{"hlauditReport": 1, "tool": 3}"#.as_bytes()).unwrap_err();
        // Said once, and not again as the error's source in a chain.
        let said = err.to_string();
        assert_eq!(said.matches("line 1 column").count(), 1, "{said}");
        assert!(std::error::Error::source(&err).is_none());
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

//! The versioned JSON report, and reading it back.
//!
//! The document is self-contained: every finding carries its policy id and title,
//! resource (ARN, id, name, account, region), evidence, waiver, baseline state and stable
//! fingerprint; `policies` holds the full policy metadata and `summary` the counts. Its
//! shape is described by `docs/report.schema.json`, and `hlauditReport` is the version
//! ([`VERSION`]): fields may be added within a version, never removed or changed.
//!
//! [`read`] parses a report written by [`write()`], for baselines and `hlaudit diff`.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use hlaudit_model::finding::{AppliedWaiver, BaselineState, Evidence, Severity, Status, Subject};
use hlaudit_model::inventory::{CollectionError, Coverage, Warning};
use hlaudit_model::report::{PolicyMeta, Report, ToolInfo};
use hlaudit_model::{Source, Timestamp};
use serde::{Deserialize, Serialize};

use crate::{text, ReportError};

/// The version of the JSON report this build writes and reads.
pub const VERSION: u32 = 1;

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

/// A data store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonResource {
    /// `DatastoreArn`.
    pub arn: String,
    /// `DatastoreId`.
    pub id: String,
    /// `DatastoreName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// `DatastoreStatus`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Where the record was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// The data store's tags; absent when they were not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
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
    /// The wire form of a report.
    pub fn from_report(report: &Report) -> Result<Self, ReportError> {
        crate::check_policies(report)?;
        let s = report.summary();
        let by_status = Status::ALL
            .iter()
            .map(|st| (*st, s.by_status.get(st).copied().unwrap_or(0)))
            .collect();
        let failures_by_severity = Severity::ALL
            .iter()
            .map(|sev| (*sev, s.failures_by_severity.get(sev).copied().unwrap_or(0)))
            .collect();
        let findings = report
            .findings
            .iter()
            .map(|f| {
                let policy = report.policy_of(f);
                let (resource, scope) = match &f.subject {
                    Subject::Record { .. } => (
                        report.resource_of(f).map(|r| JsonResource {
                            arn: r.arn.clone(),
                            id: r.id.clone(),
                            name: r.name.clone(),
                            account: r.account.clone(),
                            region: r.region.clone(),
                            status: r.status.clone(),
                            source: r.source.clone(),
                            tags: r.tags.clone(),
                        }),
                        None,
                    ),
                    Subject::Scope(s) => (
                        None,
                        Some(JsonScope {
                            account: s.account.clone(),
                            region: s.region.clone(),
                            what: s.what.clone(),
                        }),
                    ),
                };
                JsonFinding {
                    fingerprint: report.fingerprint_of(f),
                    policy: JsonPolicyRef {
                        id: policy.id.clone(),
                        title: policy.title.clone(),
                    },
                    status: f.status,
                    severity: f.severity,
                    message: if f.message().is_empty() && f.status == Status::Waived {
                        text::message(report, f)
                    } else {
                        f.message().to_owned()
                    },
                    resource,
                    scope,
                    evidence: f.evidence().to_vec(),
                    waiver: f.waiver().cloned(),
                    baseline: f.baseline,
                }
            })
            .collect();
        Ok(JsonReport {
            hlaudit_report: VERSION,
            tool: report.tool.clone(),
            generated_at: report.generated_at,
            evaluated_at: report.evaluated_at,
            summary: JsonSummary {
                data_stores: s.resources,
                policies: s.policies,
                by_status,
                failures_by_severity,
                incomplete: report.is_incomplete(),
            },
            coverage: report.coverage.clone(),
            policies: report.policies.clone(),
            findings,
            errors: report.errors.clone(),
            warnings: report.warnings.clone(),
        })
    }
}

/// Writes the report as pretty-printed JSON (newline-terminated).
pub fn write(report: &Report, out: &mut dyn Write) -> Result<(), ReportError> {
    let doc = JsonReport::from_report(report)?;
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(|source| ReportError::Json {
        format: "JSON",
        source,
    })?;
    out.write_all(b"\n").map_err(ReportError::io("JSON"))
}

/// Reads a JSON report written by [`write()`]. Errors name the field path, line and column;
/// a report of another version is refused with [`ReportError::UnsupportedVersion`].
pub fn read(reader: &mut dyn Read) -> Result<JsonReport, ReportError> {
    let mut text = String::new();
    reader
        .read_to_string(&mut text)
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
    }) = serde_json::from_str::<Header>(&text)
    {
        match v.as_u64() {
            Some(n) if n == u64::from(VERSION) => {}
            Some(n) => {
                return Err(ReportError::UnsupportedVersion {
                    found: n,
                    supported: VERSION,
                })
            }
            None => {}
        }
    }
    let de = &mut serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let source = e.into_inner();
        ReportError::Read {
            path,
            line: source.line(),
            column: source.column(),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_other_versions_and_names_bad_fields() {
        let err = read(&mut r#"{"hlauditReport": 2}"#.as_bytes()).unwrap_err();
        assert!(matches!(
            err,
            ReportError::UnsupportedVersion { found: 2, .. }
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
}

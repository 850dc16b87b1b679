//! The AWS Security Finding Format (ASFF), as `BatchImportFindings` takes it.
//!
//! [`findings`] turns a report into one [`AsffFinding`] per FAIL, ERROR and WAIVED pair
//! (and, with [`AsffOptions::include_passed`], per PASS, so Security Hub can close what was
//! fixed); [`write()`] writes them as one JSON array, the request's `Findings`. SKIP pairs
//! are never written: a policy that does not apply is not a finding.
//!
//! The design decision that shapes the module is that *every finding it returns is one
//! Security Hub accepts*. The service refuses a whole finding for one field over its
//! limit, so each string and list is fitted here, once, to the limits the format documents
//! (see [`limits`]): text is cut on a character boundary and ends with
//! [`limits::TRUNCATED`], so a reader sees that something is missing; a list that is too
//! long keeps its first entries and says how many were left out, and a finding that would
//! still exceed 240 KB as JSON loses half of its largest list or map, with the same kind
//! of marker, until it fits. Lengths are counted in UTF-16 code units, which is never less
//! than the number of characters, so a string within the limit by that count is within it
//! by any count the service may use. Control and other invisible characters (line feeds
//! and tabs included) are written by code point (`\u{1b}`), as every hlaudit output shown
//! to people does: Security Hub's console shows the text to people, and the format's
//! `.*\S.*` pattern does not match across a line break. A blank value, which the format
//! refuses, is written as [`limits::BLANK`].
//!
//! The finding's `Id` is the stable fingerprint of its (policy, resource) pair, so a
//! re-import updates the finding instead of adding a second one; `GeneratorId` is the
//! policy id. A finding whose account or region is unknown (a data store planned in a
//! template, a collection error without one) takes [`AsffOptions::account_fallback`] and
//! [`AsffOptions::region_fallback`]; without them it is a [`ReportError::AsffContext`]
//! naming the finding, never dropped.
//!
//! ```
//! use hlaudit_model::report::Report;
//! use hlaudit_model::{Inventory, Timestamp};
//! use hlaudit_report::asff::{self, AsffOptions};
//!
//! let report = Report::for_inventory(&Inventory::default(), Timestamp::now());
//! let findings = asff::findings(&report, &AsffOptions::new(Timestamp::now()))?;
//! assert!(findings.is_empty());
//! # Ok::<(), hlaudit_report::ReportError>(())
//! ```

mod build;
pub mod limits;

use std::collections::BTreeMap;
use std::io::Write;

use hlaudit_model::finding::Finding;
use hlaudit_model::report::Report;
use hlaudit_model::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ReportError;

pub(crate) use build::{description, types};

/// The ASFF version written in every finding's `SchemaVersion`.
pub const SCHEMA_VERSION: &str = "2018-10-08";
/// `ProductName` of every finding.
pub const PRODUCT_NAME: &str = "hlaudit";
/// `CompanyName` of every finding.
pub const COMPANY_NAME: &str = "hlaudit";

/// What the caller decides about the findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsffOptions {
    /// Also write a finding per PASS pair (Compliance `PASSED`, Workflow `RESOLVED`), so
    /// Security Hub resolves what was fixed.
    pub include_passed: bool,
    /// `UpdatedAt` of every finding (and `CreatedAt` when no baseline says otherwise):
    /// the time of the run, pinned in tests.
    pub now: Timestamp,
    /// The account of a finding whose own account is unknown.
    pub account_fallback: Option<String>,
    /// The region of a finding whose own region is unknown.
    pub region_fallback: Option<String>,
    /// When the baseline the report was compared with was made (its `generatedAt`),
    /// when there was one: a finding the baseline already held was first observed then
    /// (`FirstObservedAt`, `CreatedAt`), a new one now. Without it neither
    /// `FirstObservedAt` nor `LastObservedAt` is written.
    pub baseline_at: Option<Timestamp>,
}

impl AsffOptions {
    /// Options for a run at `now`: no PASS findings, no fallbacks, no baseline. Set the
    /// rest with struct update syntax (`AsffOptions { include_passed: true,
    /// ..AsffOptions::new(now) }`).
    pub fn new(now: Timestamp) -> Self {
        AsffOptions {
            include_passed: false,
            now,
            account_fallback: None,
            region_fallback: None,
            baseline_at: None,
        }
    }
}

/// One finding, as `BatchImportFindings` takes it (`AwsSecurityFinding`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFinding {
    /// [`SCHEMA_VERSION`].
    pub schema_version: String,
    /// The stable fingerprint of the (policy, resource) pair.
    pub id: String,
    /// `arn:{partition}:securityhub:{region}:{account}:product/{account}/default`, the
    /// custom integration of the finding's own account and region.
    pub product_arn: String,
    /// [`PRODUCT_NAME`].
    pub product_name: String,
    /// [`COMPANY_NAME`].
    pub company_name: String,
    /// The policy id.
    pub generator_id: String,
    /// The 12-digit account the finding belongs to.
    pub aws_account_id: String,
    /// The region the finding belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The compliance taxonomy: `Software and Configuration Checks/Industry and
    /// Regulatory Standards/...` per framework the policy maps to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
    /// When the finding was first seen: the baseline's time for a finding the baseline
    /// held, else now; only with a baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_observed_at: Option<String>,
    /// When the finding was last seen (now); only with a baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_observed_at: Option<String>,
    /// RFC 3339: `FirstObservedAt` when known, else now.
    pub created_at: String,
    /// RFC 3339: now.
    pub updated_at: String,
    /// The severity.
    pub severity: AsffSeverity,
    /// The policy title.
    pub title: String,
    /// The message and the evidence.
    pub description: String,
    /// How to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<AsffRemediation>,
    /// The policy's first reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    /// hlaudit's own fields (`hlaudit/...`), the evidence among them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub product_fields: BTreeMap<String, String>,
    /// The resource the finding is about (one).
    pub resources: Vec<AsffResource>,
    /// Status and the requirements the policy maps to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance: Option<AsffCompliance>,
    /// Severity and types as the finding provider set them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding_provider_fields: Option<AsffFindingProviderFields>,
    /// `NEW`, `SUPPRESSED` (waived) or `RESOLVED` (passed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<AsffWorkflow>,
    /// `ACTIVE`.
    pub record_state: String,
    /// The waiver, for a waived finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<AsffNote>,
}

/// `Severity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffSeverity {
    /// `INFORMATIONAL`, `LOW`, `MEDIUM`, `HIGH` or `CRITICAL`.
    pub label: String,
    /// hlaudit's own name of the severity, e.g. `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
}

/// `Remediation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffRemediation {
    /// The recommendation.
    pub recommendation: AsffRecommendation,
}

/// `Remediation.Recommendation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffRecommendation {
    /// The policy's remediation text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The policy's first reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One entry of `Resources`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffResource {
    /// `Other`: ASFF has no type of its own for HealthLake (the kind is in
    /// `Details.Other`).
    #[serde(rename = "Type")]
    pub type_: String,
    /// The ARN of what exists; the identity key of a planned resource or a job; the scope
    /// of a collection error.
    pub id: String,
    /// `aws`, `aws-cn`, `aws-us-gov`, ... when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// The region, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The resource's tags, when collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Name, status, kind and source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<AsffResourceDetails>,
}

/// `Resources[].Details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffResourceDetails {
    /// `Details.Other`: name, status, kind, source and the like.
    pub other: BTreeMap<String, String>,
}

/// `Compliance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffCompliance {
    /// `PASSED`, `FAILED` or `NOT_AVAILABLE`.
    pub status: String,
    /// `FRAMEWORK CONTROL`, e.g. `HIPAA 164.312(a)(2)(iv)`, `NIST-800-53 SC-28`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_requirements: Vec<String>,
    /// Why the status is what it is, for ERROR and WAIVED.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status_reasons: Vec<AsffStatusReason>,
}

/// `Compliance.StatusReasons[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffStatusReason {
    /// `EVALUATION_ERROR`, `COLLECTION_ERROR` or `WAIVED`.
    pub reason_code: String,
    /// The cause, or the waiver's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `FindingProviderFields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFindingProviderFields {
    /// The severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<AsffFpfSeverity>,
    /// The types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
}

/// `FindingProviderFields.Severity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFpfSeverity {
    /// As [`AsffSeverity::label`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// As [`AsffSeverity::original`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
}

/// `Workflow`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffWorkflow {
    /// `NEW`, `NOTIFIED`, `SUPPRESSED` or `RESOLVED`.
    pub status: String,
}

/// `Note`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffNote {
    /// The waiver's reason and expiry.
    pub text: String,
    /// Who approved the waiver.
    pub updated_by: String,
    /// RFC 3339: now.
    pub updated_at: String,
}

/// The findings of a report, in the report's order (policy, resource). See the module
/// documentation for what is selected and how each field is filled.
pub fn findings(report: &Report, options: &AsffOptions) -> Result<Vec<AsffFinding>, ReportError> {
    crate::check_policies(report)?;
    report
        .findings
        .iter()
        .filter(|f| build::selected(f.status, options.include_passed))
        .map(|f| build::finding(report, f, options))
        .collect()
}

/// The findings split into `BatchImportFindings` requests: in order, each batch at most
/// [`limits::BATCH_FINDINGS`] findings and [`limits::BATCH_BYTES`] of JSON. (Every finding
/// [`findings`] returns is within [`limits::FINDING_BYTES`], so each fits a batch.)
pub fn batches(findings: &[AsffFinding]) -> Vec<&[AsffFinding]> {
    // The array's brackets and the commas between findings.
    split(findings, |f| limits::size(f) + 1)
}

/// Splits `items` into `BatchImportFindings` requests, in order: each at most
/// [`limits::BATCH_FINDINGS`] items and [`limits::BATCH_BYTES`] by `size` (an item larger
/// than that alone still gets a request of its own). Used for findings in any form, e.g.
/// the SDK's, with a size that bounds their JSON.
pub fn split<T>(items: &[T], size: impl Fn(&T) -> usize) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, item) in items.iter().enumerate() {
        let size = size(item);
        if i > start && (i - start == limits::BATCH_FINDINGS || bytes + size > limits::BATCH_BYTES)
        {
            out.push(&items[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < items.len() {
        out.push(&items[start..]);
    }
    out
}

/// Writes the findings as one pretty-printed JSON array (the `Findings` of a
/// `BatchImportFindings` request, before it is split into batches of 100), ending with a
/// newline.
///
/// Every selected finding's account and region are checked first, so a report that cannot
/// be written writes nothing. The findings are then built and rendered in batches on every
/// core, a window of batches at a time, and written in order: the bytes are those of
/// `serde_json::to_writer_pretty` over [`findings`], and memory does not grow with the
/// number of findings (holding every finding of 100,000 data stores took 4 GB).
pub fn write(
    report: &Report,
    options: &AsffOptions,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    write_in_batches(report, options, out, FINDINGS_PER_BATCH)
}

/// Findings built and rendered together on one core.
const FINDINGS_PER_BATCH: usize = 2048;

fn write_in_batches(
    report: &Report,
    options: &AsffOptions,
    out: &mut dyn Write,
    per_batch: usize,
) -> Result<(), ReportError> {
    use rayon::prelude::*;
    crate::check_policies(report)?;
    let selected = |f: &&Finding| build::selected(f.status, options.include_passed);
    // The first finding in report order that cannot be written, as `findings` reports it.
    if let Some(Err(e)) = report
        .findings
        .par_iter()
        .filter(selected)
        .map(|f| build::context(report, f, options).map(|_| ()))
        .find_first(Result::is_err)
    {
        return Err(e);
    }
    let io = ReportError::io("ASFF");
    let json = |source| ReportError::Json {
        format: "ASFF",
        source,
    };
    out.write_all(b"[").map_err(io)?;
    let mut any = false;
    // Each batch: its findings as array elements one level deep, comma-separated.
    crate::batched::render_in_order(
        &report.findings,
        per_batch,
        |batch| {
            let mut buf = Vec::new();
            for f in batch.iter().filter(selected) {
                if !buf.is_empty() {
                    buf.push(b',');
                }
                crate::pretty::newline(&mut buf, 1).map_err(ReportError::io("ASFF"))?;
                crate::pretty::write_at(&mut buf, 1, &build::finding(report, f, options)?)
                    .map_err(json)?;
            }
            Ok(buf)
        },
        |b| {
            if b.is_empty() {
                return Ok(());
            }
            if any {
                out.write_all(b",").map_err(ReportError::io("ASFF"))?;
            }
            any = true;
            out.write_all(&b).map_err(ReportError::io("ASFF"))
        },
    )?;
    let end: &[u8] = if any { b"\n]\n" } else { b"]\n" };
    out.write_all(end).map_err(ReportError::io("ASFF"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FIXTURES;

    /// What `write` wrote before it rendered in batches: the findings pretty-printed whole.
    fn whole(report: &Report, options: &AsffOptions) -> Result<Vec<u8>, String> {
        let findings = findings(report, options).map_err(|e| e.to_string())?;
        let mut out = serde_json::to_vec_pretty(&findings).unwrap();
        out.push(b'\n');
        Ok(out)
    }

    #[test]
    fn batches_write_the_array_whole_would_in_order_and_nothing_on_an_error() {
        for (i, text) in FIXTURES.iter().enumerate() {
            let mut report: Report = serde_json::from_str(text).unwrap();
            let copies = report.findings.clone();
            for _ in 0..20 {
                report.findings.extend(copies.iter().cloned());
            }
            for (passed, fallback) in [(false, false), (true, false), (true, true)] {
                let mut options = AsffOptions::new(report.generated_at);
                options.include_passed = passed;
                if fallback {
                    options.account_fallback = Some("123456789012".into());
                    options.region_fallback = Some("us-east-1".into());
                }
                let want = whole(&report, &options);
                for per_batch in [1, 2, 7, FINDINGS_PER_BATCH] {
                    let mut got = Vec::new();
                    let result = write_in_batches(&report, &options, &mut got, per_batch)
                        .map(|()| got.clone())
                        .map_err(|e| e.to_string());
                    assert!(
                        result == want,
                        "fixture {i}, passed {passed}, fallback {fallback}, batches of \
                         {per_batch}: {result:?}"
                    );
                    if want.is_err() {
                        assert!(got.is_empty(), "an error writes nothing");
                    }
                }
            }
        }
    }
}

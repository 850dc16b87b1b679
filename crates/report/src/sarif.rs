//! SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.
//!
//! One `rules[]` entry per policy (with `security-severity`, tags and help), one result
//! per FAIL, ERROR and WAIVED finding (WAIVED results carry a `suppressions` entry, so
//! code scanning shows them as dismissed rather than dropping them). Each result points at
//! the snapshot file and line the data store was read from (or, for live scans without a
//! saved snapshot, at the policy's own file and line) and names the data store ARN as a
//! logical location. `partialFingerprints["hlaudit/v1"]` is the finding's stable
//! fingerprint (policy id + ARN), so alerts are tracked across runs.
//!
//! Runs are split by account and region, each with its own `automationDetails.id`
//! (`hlaudit/<account>/<region>/`), so one upload covers several accounts without their
//! alerts closing each other. A run holds at most [`MAX_RESULTS_PER_RUN`] results (larger
//! categories are split into `.../part-N/` runs) and a file at most [`MAX_RUNS_PER_FILE`]
//! runs (GitHub's ingestion limits); [`write_all`] returns every file needed.

mod location;
mod result;
mod rule;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use hlaudit_model::finding::{Finding, Severity, Status};
use hlaudit_model::report::Report;
use serde_json::{json, Value};
use serde_sarif::sarif as s;

use crate::{text, ReportError};

/// GitHub code scanning accepts at most this many results per run.
pub const MAX_RESULTS_PER_RUN: usize = 25_000;
/// GitHub code scanning accepts at most this many runs per file.
pub const MAX_RUNS_PER_FILE: usize = 20;
/// The `partialFingerprints` key of hlaudit's stable fingerprint.
pub const FINGERPRINT_KEY: &str = "hlaudit/v1";
/// The SARIF 2.1.0 schema URI GitHub's ingestion rules expect (validator rule GH1011).
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// How SARIF is written.
#[derive(Debug, Clone)]
pub struct SarifOptions {
    /// The directory relative input paths were named from (the process's working
    /// directory). `None` keeps relative paths as they are.
    pub working_dir: Option<PathBuf>,
    /// The directory result paths are made relative to (the repository root for code
    /// scanning), named `%SRCROOT%` (`uriBaseId`) in the log; defaults to `working_dir`.
    /// Files outside it keep absolute `file://` URIs.
    pub base_dir: Option<PathBuf>,
    /// The file a result points at when neither the data store nor the policy has a
    /// source (GitHub needs a physical location on every result).
    pub fallback_uri: String,
    /// Results per run before a category is split (GitHub: 25,000).
    pub max_results_per_run: usize,
    /// Runs per file before the log is split into several files (GitHub: 20).
    pub max_runs_per_file: usize,
}

impl SarifOptions {
    /// The directory paths are relative to: `base_dir`, else `working_dir`.
    pub(crate) fn base(&self) -> Option<&Path> {
        self.base_dir.as_deref().or(self.working_dir.as_deref())
    }
}

impl Default for SarifOptions {
    fn default() -> Self {
        SarifOptions {
            working_dir: None,
            base_dir: None,
            fallback_uri: "hlaudit.yaml".to_owned(),
            max_results_per_run: MAX_RESULTS_PER_RUN,
            max_runs_per_file: MAX_RUNS_PER_FILE,
        }
    }
}

/// One SARIF file of a (possibly split) report.
#[derive(Debug, Clone, PartialEq)]
pub struct SarifPart {
    /// What to add to the file name before its extension: empty for the first file,
    /// `.2`, `.3`, ... for the others (see [`part_path`]).
    pub suffix: String,
    /// The file's bytes (pretty-printed JSON, newline-terminated).
    pub bytes: Vec<u8>,
}

/// Writes the report as one SARIF file. Fails with [`ReportError::SarifNeedsSplit`] when
/// the report needs more than one file (more than `max_runs_per_file` runs); use
/// [`write_all`] for files.
pub fn write(
    report: &Report,
    options: &SarifOptions,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    let logs = logs(report, options)?;
    if logs.len() > 1 {
        return Err(ReportError::SarifNeedsSplit {
            files: logs.len(),
            max_runs: options.max_runs_per_file,
        });
    }
    for log in &logs {
        write_log(log, out)?;
    }
    Ok(())
}

/// Renders the report as every SARIF file it needs (one, unless it exceeds the limits).
pub fn write_all(report: &Report, options: &SarifOptions) -> Result<Vec<SarifPart>, ReportError> {
    let mut parts = Vec::new();
    write_each(report, options, |suffix, bytes| {
        parts.push(SarifPart {
            suffix: suffix.to_owned(),
            bytes: bytes.to_vec(),
        });
        Ok::<_, ReportError>(())
    })?;
    Ok(parts)
}

/// Renders the report as every SARIF file it needs, handing each to `sink` (with its
/// suffix, see [`SarifPart`]) as soon as it is rendered: only one file is held in memory
/// at a time. The sink's errors are the caller's own, and stop the rendering.
pub fn write_each<E: From<ReportError>>(
    report: &Report,
    options: &SarifOptions,
    mut sink: impl FnMut(&str, &[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let mut bytes = Vec::new();
    each_log(report, options, |i, log| {
        bytes.clear();
        write_log(&log, &mut bytes)?;
        let suffix = if i == 0 {
            String::new()
        } else {
            format!(".{}", i + 1)
        };
        sink(&suffix, &bytes)
    })
}

/// The path of a part: `out/hlaudit.sarif` with suffix `.2` is `out/hlaudit.2.sarif`.
pub fn part_path(path: &Path, suffix: &str) -> PathBuf {
    if suffix.is_empty() {
        return path.to_path_buf();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}{suffix}.{}", ext.to_string_lossy()),
        None => format!("{stem}{suffix}"),
    };
    path.with_file_name(name)
}

fn write_log(log: &s::Sarif, out: &mut dyn Write) -> Result<(), ReportError> {
    serde_json::to_writer_pretty(&mut *out, log).map_err(|source| ReportError::Json {
        format: "SARIF",
        source,
    })?;
    out.write_all(b"\n").map_err(ReportError::io("SARIF"))
}

/// Builds the SARIF logs (one per file) of a report.
pub fn logs(report: &Report, options: &SarifOptions) -> Result<Vec<s::Sarif>, ReportError> {
    let mut logs = Vec::new();
    each_log(report, options, |_, log| {
        logs.push(log);
        Ok::<_, ReportError>(())
    })?;
    Ok(logs)
}

/// Builds the SARIF logs of a report one file at a time, handing each to `emit` with its
/// index before building the next.
fn each_log<E: From<ReportError>>(
    report: &Report,
    options: &SarifOptions,
    mut emit: impl FnMut(usize, s::Sarif) -> Result<(), E>,
) -> Result<(), E> {
    crate::check_policies(report)?;
    let per_run = options.max_results_per_run.max(1);
    let per_file = options.max_runs_per_file.max(1);
    let rules: Vec<s::ReportingDescriptor> = report.policies.iter().map(rule::rule).collect();
    let invocation = invocation(report);

    // Categories: every (account, region) with a data store or a finding, in order.
    let mut categories: BTreeMap<(String, String), Vec<&Finding>> = BTreeMap::new();
    let known = |s: &Option<String>| s.clone().unwrap_or_else(|| "unknown".to_owned());
    for r in &report.resources {
        categories
            .entry((known(&r.account), known(&r.region)))
            .or_default();
    }
    for f in &report.findings {
        let (account, region) = text::place(report, f);
        let entry = categories
            .entry((
                account.unwrap_or_else(|| "unknown".to_owned()),
                region.unwrap_or_else(|| "unknown".to_owned()),
            ))
            .or_default();
        // A fixed finding of a baseline run (`absent`) is reported too, as a pass, so the
        // log says what was fixed.
        if matches!(f.status, Status::Fail | Status::Error | Status::Waived)
            || f.baseline == Some(hlaudit_model::finding::BaselineState::Absent)
        {
            entry.push(f);
        }
    }
    if categories.is_empty() {
        categories.insert(("unknown".to_owned(), "unknown".to_owned()), Vec::new());
    }

    let log = |runs: Vec<s::Run>| {
        s::Sarif::builder()
            .schema(SCHEMA_URI)
            .version(json!("2.1.0"))
            .runs(runs)
            .build()
    };
    let mut runs = Vec::with_capacity(per_file);
    let mut files = 0;
    for ((account, region), findings) in &categories {
        let chunks: Vec<&[&Finding]> = if findings.is_empty() {
            vec![&[]]
        } else {
            findings.chunks(per_run).collect()
        };
        let split = chunks.len() > 1;
        for (i, chunk) in chunks.into_iter().enumerate() {
            let id = if split {
                format!("hlaudit/{account}/{region}/part-{}/", i + 1)
            } else {
                format!("hlaudit/{account}/{region}/")
            };
            let results = chunk
                .iter()
                .map(|f| result::result(report, options, f))
                .collect::<Vec<_>>();
            let mut r = run(report, &rules, &invocation, id, results);
            if let Some(uri) = location::base_uri(options) {
                let mut bases = BTreeMap::new();
                bases.insert(
                    location::SRCROOT.to_owned(),
                    s::ArtifactLocation::builder().uri(uri).build(),
                );
                r.original_uri_base_ids = Some(bases);
            }
            runs.push(r);
            if runs.len() == per_file {
                emit(files, log(std::mem::take(&mut runs)))?;
                files += 1;
            }
        }
    }
    if !runs.is_empty() {
        emit(files, log(runs))?;
    }
    Ok(())
}

fn run(
    report: &Report,
    rules: &[s::ReportingDescriptor],
    invocation: &s::Invocation,
    id: String,
    results: Vec<s::Result>,
) -> s::Run {
    let driver = s::ToolComponent::builder()
        .name(report.tool.name.clone())
        .full_name(format!("{} {}", report.tool.name, report.tool.version))
        .version(report.tool.version.clone())
        .semantic_version(report.tool.version.clone())
        .information_uri(report.tool.information_uri.clone())
        .rules(rules.to_vec())
        .build();
    let run = s::Run::builder()
        .tool(s::Tool::builder().driver(driver).build())
        .automation_details(s::RunAutomationDetails::builder().id(id).build())
        .invocations(vec![invocation.clone()]);
    match coverage_properties(report) {
        Some(properties) => run.properties(properties).results(results).build(),
        None => run.results(results).build(),
    }
}

/// The run's `hlaudit/coverage` property: how many accounts and (account, region) pairs
/// were attempted, read and failed, and which failed. The full per-pair table is in the
/// JSON report and the snapshot.
fn coverage_properties(report: &Report) -> Option<s::PropertyBag> {
    let counts = report.coverage.counts()?;
    let failed: Vec<_> = report
        .coverage
        .scopes
        .iter()
        .filter(|s| s.state == hlaudit_model::inventory::ScopeState::Failed)
        .map(|s| serde_json::json!({"account": s.account, "region": s.region, "errors": s.errors}))
        .collect();
    let mut extra = std::collections::BTreeMap::new();
    extra.insert(
        "hlaudit/coverage".to_owned(),
        serde_json::json!({"counts": counts, "failed": failed}),
    );
    Some(
        s::PropertyBag::builder()
            .additional_properties(extra)
            .build(),
    )
}

/// GitHub's `security-severity` score for a severity.
pub fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// The SARIF `level` of a severity: critical and high are errors, medium a warning, low
/// and info notes.
pub fn level(severity: Severity) -> s::ResultLevel {
    match severity {
        Severity::Critical | Severity::High => s::ResultLevel::Error,
        Severity::Medium => s::ResultLevel::Warning,
        Severity::Low | Severity::Info => s::ResultLevel::Note,
    }
}

fn invocation(report: &Report) -> s::Invocation {
    let mut notes = Vec::new();
    for e in &report.errors {
        let what = match &e.resource {
            Some(r) => format!("{} {r}", e.operation),
            None => e.operation.clone(),
        };
        let place = text::scope_label(e.account.as_deref(), e.region.as_deref(), &what);
        notes.push(
            s::Notification::builder()
                .level(json!("error"))
                .message(
                    s::Message::builder()
                        .text(format!("{place} failed: {} ({}).", e.message, e.code))
                        .build(),
                )
                .build(),
        );
    }
    for f in &report.findings {
        let policy = report.policy_of(f);
        if f.status != Status::Error || policy.id == hlaudit_model::report::COLLECTION_ERROR_ID {
            continue;
        }
        notes.push(
            s::Notification::builder()
                .level(json!("error"))
                .message(s::Message::builder().text(text::message(report, f)).build())
                .associated_rule(
                    s::ReportingDescriptorReference::builder()
                        .id(policy.id.clone())
                        .index(f.policy as i64)
                        .build(),
                )
                .build(),
        );
    }
    if let Some(nothing) = report.nothing_checked() {
        // A warning, not a failure of the run: the tool ran, and checked nothing.
        notes.push(
            s::Notification::builder()
                .level(json!("warning"))
                .message(s::Message::builder().text(nothing.message()).build())
                .descriptor(
                    s::ReportingDescriptorReference::builder()
                        .id(format!("hlaudit/{}", nothing.code()))
                        .build(),
                )
                .build(),
        );
    }
    let mut inv = s::Invocation::builder()
        .execution_successful(!report.is_incomplete())
        .end_time_utc(report.generated_at.to_rfc3339())
        .build();
    if !notes.is_empty() {
        inv.tool_execution_notifications = Some(notes);
    }
    inv
}

/// Reads the results of a SARIF log back as JSON values (for tests and tooling).
pub fn results_of(log: &Value) -> Vec<&Value> {
    log["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["results"].as_array().into_iter().flatten())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_paths_insert_the_suffix() {
        assert_eq!(
            part_path(Path::new("out/hl.sarif"), ".2"),
            PathBuf::from("out/hl.2.sarif")
        );
        assert_eq!(part_path(Path::new("hl"), ".3"), PathBuf::from("hl.3"));
        assert_eq!(
            part_path(Path::new("hl.sarif"), ""),
            PathBuf::from("hl.sarif")
        );
    }
}

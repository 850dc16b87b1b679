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
//! runs (GitHub's ingestion limits); [`write_each`] writes every file needed.
//!
//! A large audit's SARIF is large (100,000 data stores: half a million results, a
//! gigabyte of text), so files are written, not built: where every result goes is planned
//! first, then each file is written in pieces (see `part`), results rendered in parallel
//! from views that borrow the report, straight to the file. The text is what serde-sarif's
//! types pretty-printed whole would be, byte for byte ([`logs`] builds those types, and a
//! test holds the two to each other), whatever the thread count.

mod location;
mod part;
mod result;
mod rule;

use std::collections::BTreeMap;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

use hlaudit_model::finding::{BaselineState, Finding, Severity, Status};
use hlaudit_model::report::{Report, Resource};
use serde_json::{json, Value};
use serde_sarif::sarif as s;

pub use part::PartWriter;

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
/// [`write_each`] or [`write_all`] for files.
pub fn write(
    report: &Report,
    options: &SarifOptions,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    let plan = Plan::new(report, options)?;
    let files = plan.files();
    if files > 1 {
        return Err(ReportError::SarifNeedsSplit {
            files,
            max_runs: options.max_runs_per_file,
        });
    }
    let written = plan.parts().try_for_each(|part| part.write_to(out));
    written
}

/// Renders the report as every SARIF file it needs (one, unless it exceeds the limits),
/// in memory.
pub fn write_all(report: &Report, options: &SarifOptions) -> Result<Vec<SarifPart>, ReportError> {
    let mut parts = Vec::new();
    write_each(report, options, |part| {
        let mut bytes = Vec::new();
        part.write_to(&mut bytes)?;
        parts.push(SarifPart {
            suffix: part.suffix(),
            bytes,
        });
        Ok::<_, ReportError>(())
    })?;
    Ok(parts)
}

/// Hands every SARIF file the report needs to `sink`, in order, as a [`PartWriter`] that
/// names the file's suffix and writes it where the sink says (straight to its file: a
/// large audit's files are never held in memory). The sink's errors are the caller's own,
/// and stop the rendering.
pub fn write_each<E: From<ReportError>>(
    report: &Report,
    options: &SarifOptions,
    mut sink: impl FnMut(&PartWriter<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let plan = Plan::new(report, options)?;
    for part in plan.parts() {
        sink(&part)?;
    }
    Ok(())
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

/// Builds the SARIF logs (one per file) of a report as serde-sarif values: the same logs
/// [`write_each`] writes (it writes them without building them).
pub fn logs(report: &Report, options: &SarifOptions) -> Result<Vec<s::Sarif>, ReportError> {
    let plan = Plan::new(report, options)?;
    plan.parts().map(|part| part.typed()).collect()
}

/// Where every result goes, worked out before anything is written: the categories
/// (account and region), their runs and the runs' files.
struct Plan<'r> {
    report: &'r Report,
    options: &'r SarifOptions,
    categories: Vec<Category<'r>>,
    runs: Vec<RunPlan>,
    /// A run with what every run shares (tool and rules, invocation, base URIs,
    /// coverage), an empty `results` and no `automationDetails`.
    template: s::Run,
}

/// The findings of one (account, region) that become results.
struct Category<'r> {
    account: &'r str,
    region: &'r str,
    findings: Vec<&'r Finding>,
}

/// One run: a category's results, or a part of them when they exceed a run's limit.
struct RunPlan {
    category: usize,
    results: Range<usize>,
    /// `Some(n)` for the n-th part (from 1) of a split category.
    part: Option<usize>,
}

/// The account or region of what has none.
const UNKNOWN: &str = "unknown";

impl<'r> Plan<'r> {
    fn new(report: &'r Report, options: &'r SarifOptions) -> Result<Self, ReportError> {
        crate::check_policies(report)?;
        let per_run = options.max_results_per_run.max(1);
        let categories = categories(report);
        let mut runs = Vec::new();
        for (category, c) in categories.iter().enumerate() {
            let n = c.findings.len();
            let parts = n.div_ceil(per_run).max(1);
            runs.extend((0..parts).map(|i| RunPlan {
                category,
                results: i * per_run..n.min((i + 1) * per_run),
                part: (parts > 1).then_some(i + 1),
            }));
        }
        Ok(Plan {
            report,
            options,
            categories,
            runs,
            template: template(report, options),
        })
    }

    /// How many files the runs need.
    fn files(&self) -> usize {
        self.runs.len().div_ceil(self.per_file())
    }

    fn per_file(&self) -> usize {
        self.options.max_runs_per_file.max(1)
    }

    /// The files, in order.
    fn parts(&self) -> impl Iterator<Item = PartWriter<'_>> {
        self.runs
            .chunks(self.per_file())
            .enumerate()
            .map(|(index, runs)| PartWriter::new(self, index, runs))
    }

    /// The findings a run reports.
    fn findings(&self, run: &RunPlan) -> &[&'r Finding] {
        &self.categories[run.category].findings[run.results.clone()]
    }

    /// A run without its results.
    fn run(&self, run: &RunPlan) -> s::Run {
        let c = &self.categories[run.category];
        let id = match run.part {
            Some(n) => format!("hlaudit/{}/{}/part-{n}/", c.account, c.region),
            None => format!("hlaudit/{}/{}/", c.account, c.region),
        };
        let mut r = self.template.clone();
        r.automation_details = Some(s::RunAutomationDetails::builder().id(id).build());
        r
    }
}

/// Every (account, region) with a data store or a finding, in order, with the findings
/// that become results: FAIL, ERROR and WAIVED, and (in a baseline run) the fixed
/// findings (`absent`), reported as passes so the log says what was fixed.
fn categories(report: &Report) -> Vec<Category<'_>> {
    let place = |f| {
        let (account, region) = text::place_of(report, f);
        (account.unwrap_or(UNKNOWN), region.unwrap_or(UNKNOWN))
    };
    let mut slots: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for r in &report.resources {
        slots.insert(of_resource(r), 0);
    }
    for f in &report.findings {
        // A data store's finding is in its data store's category, added above.
        if report.resource_of(f).is_none() {
            slots.insert(place(f), 0);
        }
    }
    if slots.is_empty() {
        slots.insert((UNKNOWN, UNKNOWN), 0);
    }
    let mut categories = Vec::with_capacity(slots.len());
    for (i, (&(account, region), slot)) in slots.iter_mut().enumerate() {
        *slot = i;
        categories.push(Category {
            account,
            region,
            findings: Vec::new(),
        });
    }
    let resource_slots: Vec<usize> = report
        .resources
        .iter()
        .map(|r| slots.get(&of_resource(r)).copied().unwrap_or(0))
        .collect();
    for f in &report.findings {
        if !(matches!(f.status, Status::Fail | Status::Error | Status::Waived)
            || f.baseline() == Some(BaselineState::Absent))
        {
            continue;
        }
        let slot = match f.record_index() {
            Some(index) if index < resource_slots.len() => resource_slots[index],
            _ => slots.get(&place(f)).copied().unwrap_or(0),
        };
        categories[slot].findings.push(f);
    }
    categories
}

/// A data store's (account, region).
fn of_resource(r: &Resource) -> (&str, &str) {
    (
        r.account.as_deref().unwrap_or(UNKNOWN),
        r.region.as_deref().unwrap_or(UNKNOWN),
    )
}

/// A run with what every run shares, and no results yet.
fn template(report: &Report, options: &SarifOptions) -> s::Run {
    let rules: Vec<s::ReportingDescriptor> = report.policies.iter().map(rule::rule).collect();
    let driver = s::ToolComponent::builder()
        .name(report.tool.name.clone())
        .full_name(format!("{} {}", report.tool.name, report.tool.version))
        .version(report.tool.version.clone())
        .semantic_version(report.tool.version.clone())
        .information_uri(report.tool.information_uri.clone())
        .rules(rules)
        .build();
    let mut run = s::Run::builder()
        .tool(s::Tool::builder().driver(driver).build())
        .invocations(vec![invocation(report)])
        .results(Vec::new())
        .build();
    run.properties = coverage_properties(report);
    if let Some(uri) = location::base_uri(options) {
        let mut bases = BTreeMap::new();
        bases.insert(
            location::SRCROOT.to_owned(),
            s::ArtifactLocation::builder().uri(uri).build(),
        );
        run.original_uri_base_ids = Some(bases);
    }
    run
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
                        .index(f.policy_index() as i64)
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

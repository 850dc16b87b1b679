//! hlaudit reporters: SARIF 2.1.0, JSON, JUnit XML, Markdown, HTML, terminal text, the AWS
//! Security Finding Format (ASFF) and OCSF events.
//!
//! Every format is a module with one entry point, `write(&Report, ..., &mut dyn Write)`,
//! that renders a [`hlaudit_model::report::Report`] and nothing else: reporters never
//! evaluate a policy, never read the environment and never touch the file system. The
//! design decision that shapes the crate is that *a report is data already decided*: the
//! status, severity, message and evidence of every finding come from the engine, and a
//! reporter only chooses how to show them. That keeps every format consistent with each
//! other and lets them be tested on hand-built reports.
//!
//! Wire types (SARIF's, JUnit's, the versioned JSON report's) are kept apart from the
//! domain types, so the model can change without changing what CI systems read.
//!
//! Output is deterministic: the same report gives byte-identical output. Options that
//! depend on the caller's environment (colour, the base directory of SARIF paths) are
//! passed in explicitly.
//!
//! ```
//! use hlaudit_model::report::Report;
//! use hlaudit_model::{Inventory, Timestamp};
//!
//! let report = Report::for_inventory(&Inventory::default(), Timestamp::now());
//! let mut out = Vec::new();
//! hlaudit_report::markdown::write(&report, None, &mut out)?;
//! assert!(String::from_utf8_lossy(&out).contains("hlaudit"));
//! # Ok::<(), hlaudit_report::ReportError>(())
//! ```

#![forbid(unsafe_code)]

pub mod asff;
pub mod baseline;
mod batched;
pub mod compliance_csv;
mod coverage;
pub mod format;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod ocsf;
mod pretty;
pub mod sarif;
pub mod terminal;
mod text;

pub use format::Format;

/// The report fixtures of `tests/fixtures`, for unit tests that compare two ways of
/// writing a format on each of them.
#[cfg(test)]
pub(crate) const FIXTURES: [&str; 5] = [
    include_str!("../tests/fixtures/mixed.report.json"),
    include_str!("../tests/fixtures/hostile.report.json"),
    include_str!("../tests/fixtures/clean.report.json"),
    include_str!("../tests/fixtures/invisible.report.json"),
    include_str!("../tests/fixtures/empty.report.json"),
];

/// What can go wrong while rendering or reading a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Writing the output failed. (The cause is the error's source, not repeated in its
    /// message: error chains print both.)
    #[error("could not write the {format} report")]
    Io {
        /// The format being written.
        format: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Serialising JSON (JSON or SARIF reports) failed, or writing it did.
    #[error("could not serialise the {format} report")]
    Json {
        /// The format being written.
        format: &'static str,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// Serialising JUnit XML failed.
    #[error("could not serialise the JUnit report: {0}")]
    Junit(#[from] quick_junit::SerializeError),
    /// A JSON report could not be read back (for example as a baseline).
    ///
    /// The message is serde_json's, which ends with the line and column; it is not also
    /// the error's source, so a chain of errors does not say it twice.
    #[error("not a valid hlaudit JSON report: {path}: {error}")]
    Read {
        /// The JSON path of the field that did not match, e.g. `findings[3].status`.
        path: String,
        /// Line of the problem in the input.
        line: usize,
        /// Column of the problem in the input.
        column: usize,
        /// What serde_json said.
        error: serde_json::Error,
    },
    /// A JSON report has a version this build does not read.
    #[error(
        "unsupported hlaudit JSON report version {found}; this build reads versions 1 to \
         {supported}"
    )]
    UnsupportedVersion {
        /// The version in the file.
        found: u64,
        /// The newest version this build reads.
        supported: u32,
    },
    /// The compact section of a version 3 JSON report (`outcomes`, `resources`)
    /// contradicts itself or the rest of the report.
    #[error("not a valid hlaudit JSON report: {path}: {problem} (line {line}, column {column})")]
    Pairs {
        /// Where, as a field path, e.g. `outcomes[2].pass[17]`.
        path: String,
        /// Line of the value in the input (0 for a report not read from text).
        line: usize,
        /// Column of the value in the input.
        column: usize,
        /// What is wrong.
        problem: json::PairProblem,
    },
    /// A JSON report lacks a value it needs.
    #[error("{path}: the report has no {what}")]
    Missing {
        /// Where, as a field path.
        path: String,
        /// What is missing.
        what: &'static str,
    },
    /// The SARIF log has to be split into several files (GitHub accepts at most
    /// [`sarif::MAX_RUNS_PER_FILE`] runs per file), which a single stream cannot hold.
    #[error(
        "the SARIF report needs {files} files (more than {max_runs} runs); write it to a file \
         with `-o sarif=PATH` so it can be split into PATH, PATH.2.sarif, ..."
    )]
    SarifNeedsSplit {
        /// How many files it needs.
        files: usize,
        /// The run limit per file.
        max_runs: usize,
    },
    /// An ASFF finding needs an account and a region, and neither the finding nor the
    /// fallbacks name one.
    #[error(
        "the ASFF finding {fingerprint} ({policy} on {subject}) has no known {missing}; \
         give one with --asff-{missing}"
    )]
    AsffContext {
        /// The finding's fingerprint (its ASFF `Id`).
        fingerprint: String,
        /// The policy id.
        policy: String,
        /// What the finding is about, as reports name it.
        subject: String,
        /// `account` or `region`.
        missing: &'static str,
    },
    /// A finding refers to a policy the report does not have.
    #[error(
        "finding {finding} refers to policy index {policy}, but the report has {policies} policies"
    )]
    DanglingPolicy {
        /// Index of the finding.
        finding: usize,
        /// The policy index it names.
        policy: usize,
        /// How many policies the report has.
        policies: usize,
    },
}

impl ReportError {
    pub(crate) fn io(format: &'static str) -> impl FnOnce(std::io::Error) -> ReportError {
        move |source| ReportError::Io { format, source }
    }
}

/// Checks that every finding names a policy of the report, so reporters can index
/// policies without panicking.
pub(crate) fn check_policies(report: &hlaudit_model::report::Report) -> Result<(), ReportError> {
    let policies = report.policies.len();
    match report
        .findings
        .iter()
        .enumerate()
        .find(|(_, f)| f.policy_index() >= policies)
    {
        Some((finding, f)) => Err(ReportError::DanglingPolicy {
            finding,
            policy: f.policy_index(),
            policies,
        }),
        None => Ok(()),
    }
}

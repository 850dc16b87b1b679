//! Where reports go and the threshold of the run's exit code: `--format`,
//! `-o FORMAT=PATH`, `--fail-on`, `--color` and `--sarif-base`, flattened into `check`
//! and `scan`. How an audit ends is decided in one place, `config::Settings::outcome`, and
//! its exit code in another, `exit::exit_code`.
//!
//! Every report file is rendered into a temporary file beside it, and only once all of
//! them are complete is each renamed over its target, so a failed run never leaves a
//! half-written report for a CI step to upload, and a large report is never held in
//! memory whole. Reports for standard output are rendered in memory first.

use std::cell::OnceCell;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use hlaudit_model::compliance::ComplianceView;
use hlaudit_model::finding::Severity;
use hlaudit_model::report::Report;
use hlaudit_model::Timestamp;
use hlaudit_report::asff::AsffOptions;
use hlaudit_report::html::HtmlOptions;
use hlaudit_report::json::Form;
use hlaudit_report::ocsf::OcsfOptions;
use hlaudit_report::sarif::{self, SarifOptions};
use hlaudit_report::terminal::TerminalOptions;
use hlaudit_report::Format;

use crate::writeback::Syncing;

/// Output flags shared by the commands that report findings.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// The format written to standard output (`none`: nothing, for runs that only write
    /// files with `-o`). Default: the configuration's `format`, else terminal.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<FormatArg>,

    /// Also write a report to a file, e.g. `-o sarif=hlaudit.sarif -o html=report.html`
    /// (repeatable; FORMAT is one of terminal, json, sarif, junit, markdown, html,
    /// compliance-csv, asff, ocsf). Files are replaced atomically. A SARIF report beyond
    /// GitHub's limits (25,000 results per run, 20 runs per file) is split into PATH, then
    /// PATH with `.2`, `.3`, ... before the extension.
    #[arg(short = 'o', long = "output", value_name = "FORMAT=PATH", value_parser = parse_output)]
    pub outputs: Vec<OutputSpec>,

    /// Exit 1 when a FAIL finding at or above this severity remains (`none`: never on
    /// findings). ERROR findings and collection errors exit 2 whatever this says.
    /// Default: the configuration's `fail_on`, else high.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,

    /// Colour in terminal output: `auto` colours a terminal unless NO_COLOR is set.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto, value_name = "WHEN")]
    pub color: ColorArg,

    /// The directory SARIF file paths are made relative to (named `%SRCROOT%` in the
    /// log). Default: the root of the git repository the working directory is in, else the
    /// working directory.
    #[arg(long, value_name = "DIR")]
    pub sarif_base: Option<PathBuf>,

    /// In the ASFF report, also write a finding per PASS (Compliance PASSED, Workflow
    /// RESOLVED), so Security Hub resolves what was fixed. (The OCSF report always has
    /// them.)
    #[arg(long)]
    pub asff_passed: bool,

    /// The account of an ASFF finding whose own is unknown (a data store planned in a
    /// template, a collection error without one). Without it such a finding is an error.
    #[arg(long, value_name = "ACCOUNT", value_parser = parse_account)]
    pub asff_account: Option<String>,

    /// The region of an ASFF finding whose own is unknown. Without it such a finding is
    /// an error.
    #[arg(long, value_name = "REGION", value_parser = parse_region)]
    pub asff_region: Option<String>,

    /// In terminal output, list every FAIL, ERROR and WAIVED finding. Without it each
    /// policy lists its first 5 in each section and a line counts the rest.
    #[arg(long)]
    pub all_findings: bool,

    /// In the HTML report, list every finding, a row each. Without it the page lists
    /// FAIL, ERROR and WAIVED findings and counts PASS and SKIP per policy, per account
    /// and region and per data store (a page of every row can be gigabytes).
    #[arg(long)]
    pub html_all_rows: bool,

    /// The JSON report's format version: 3 lists plain PASS and SKIP pairs compactly, in
    /// `outcomes`; 2 writes every pair as a full finding in `findings`, for tools that do
    /// not read version 3 yet (docs/reports.md). Both read back the same pairs.
    #[arg(long, value_name = "VERSION", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(2..=3))]
    pub json_version: u32,
}

impl OutputArgs {
    /// The `--fail-on` threshold in effect: the flag, else (once merged with the
    /// configuration file) its `fail_on`, else high.
    pub fn fail_on(&self) -> FailOn {
        self.fail_on.unwrap_or(FailOn::High)
    }
}

/// A report format, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Text grouped by severity, with a one-line summary.
    Terminal,
    /// The versioned JSON report (docs/report.schema.json).
    Json,
    /// SARIF 2.1.0 for GitHub code scanning.
    Sarif,
    /// JUnit XML for CI test tabs.
    Junit,
    /// Markdown for $GITHUB_STEP_SUMMARY or a pull-request comment.
    Markdown,
    /// One self-contained HTML page.
    Html,
    /// The compliance view as CSV: one row per framework and control.
    ComplianceCsv,
    /// The AWS Security Finding Format, as Security Hub's BatchImportFindings takes it.
    Asff,
    /// OCSF Compliance Finding events, one JSON object per line.
    Ocsf,
    /// Nothing.
    None,
}

impl FormatArg {
    /// The report format, `None` for `--format none`.
    pub fn format(self) -> Option<Format> {
        match self {
            FormatArg::Terminal => Some(Format::Terminal),
            FormatArg::Json => Some(Format::Json),
            FormatArg::Sarif => Some(Format::Sarif),
            FormatArg::Junit => Some(Format::Junit),
            FormatArg::Markdown => Some(Format::Markdown),
            FormatArg::Html => Some(Format::Html),
            FormatArg::ComplianceCsv => Some(Format::ComplianceCsv),
            FormatArg::Asff => Some(Format::Asff),
            FormatArg::Ocsf => Some(Format::Ocsf),
            FormatArg::None => None,
        }
    }
}

/// The `--fail-on` threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Only critical findings fail the run.
    Critical,
    /// High and critical.
    High,
    /// Medium and above.
    Medium,
    /// Low and above.
    Low,
    /// Every FAIL finding.
    Info,
    /// Findings never fail the run (errors still exit 2).
    None,
}

impl FailOn {
    /// The lowest severity that fails the run, `None` for `--fail-on none`.
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Critical => Some(Severity::Critical),
            FailOn::High => Some(Severity::High),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::Low => Some(Severity::Low),
            FailOn::Info => Some(Severity::Info),
            FailOn::None => None,
        }
    }
}

/// The `--color` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    /// Colour when standard output is a terminal and NO_COLOR is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// One `-o FORMAT=PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSpec {
    /// The format.
    pub format: Format,
    /// The file; `-` is standard output.
    pub path: PathBuf,
}

/// Parses `FORMAT=PATH`.
pub fn parse_output(s: &str) -> std::result::Result<OutputSpec, String> {
    let Some((format, path)) = s.split_once('=') else {
        return Err(format!(
            "expected FORMAT=PATH, e.g. sarif=hlaudit.sarif, got `{s}`"
        ));
    };
    let format: Format = format.trim().parse().map_err(|e| format!("{e}"))?;
    if path.is_empty() {
        return Err(format!("no file given after `{format}=`"));
    }
    Ok(OutputSpec {
        format,
        path: PathBuf::from(path),
    })
}

/// The ASFF options of `--asff-passed`, `--asff-account` and `--asff-region`, shared by
/// the `asff` report and `--securityhub`, so both hold the same findings.
pub fn asff_options(
    report: &Report,
    args: &OutputArgs,
    baseline_at: Option<Timestamp>,
) -> AsffOptions {
    AsffOptions {
        include_passed: args.asff_passed,
        now: report.generated_at,
        account_fallback: args.asff_account.clone(),
        region_fallback: args.asff_region.clone(),
        baseline_at,
    }
}

/// Parses `--asff-account`: a 12-digit account id.
fn parse_account(s: &str) -> std::result::Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err(format!("`{s}` is not an AWS account id (12 digits)"))
    }
}

/// Parses `--asff-region`: a region name such as `us-east-1`.
fn parse_region(s: &str) -> std::result::Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= hlaudit_report::asff::limits::REGION
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(format!("`{s}` is not an AWS region name, e.g. us-east-1"))
    }
}

/// The root of the git repository `dir` lies in (the nearest folder with a `.git`), which
/// SARIF paths are relative to by default so code scanning maps them to the repository's
/// files wherever hlaudit ran from.
fn repository_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// Writes the `--format` report to standard output and every `-o` report to its file.
/// Everything is rendered before any file is replaced; each file is replaced atomically.
/// `frameworks` limits the compliance view to those frameworks (`--framework`; empty:
/// every framework); `baseline_at` is when the baseline's report was made, when there was
/// one (the ASFF and OCSF reports' first-observed times).
pub fn write_outputs(
    report: &Report,
    args: &OutputArgs,
    frameworks: &[String],
    baseline_at: Option<Timestamp>,
) -> Result<()> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let sarif_options = SarifOptions {
        working_dir: Some(cwd.clone()),
        base_dir: args
            .sarif_base
            .as_ref()
            .map(|b| cwd.join(b))
            .or_else(|| repository_root(&cwd)),
        ..SarifOptions::default()
    };
    let stdout_color = resolve_color(args.color);
    let findings = Findings {
        asff: asff_options(report, args, baseline_at),
        ocsf: OcsfOptions { baseline_at },
        all_findings: args.all_findings,
        html: HtmlOptions {
            all_rows: args.html_all_rows,
        },
        json: if args.json_version == 2 {
            Form::Full
        } else {
            Form::Compact
        },
    };
    // Built once, by the first report that shows it.
    let compliance = LazyView {
        cell: OnceCell::new(),
        frameworks,
    };

    // Render everything first: a rendering error leaves every file as it was. Files are
    // rendered into temporary files beside their targets (dropped, so removed, on error).
    let mut seen = BTreeSet::new();
    // Each goes to disk while it is written (see `writeback`).
    let mut files: Vec<(PathBuf, Syncing)> = Vec::new();
    let mut to_stdout: Vec<Held> = Vec::new();
    if let Some(format) = args.format.unwrap_or(FormatArg::Terminal).format() {
        let mut out = Held::default();
        render(
            report,
            format,
            stdout_color,
            &sarif_options,
            &findings,
            &compliance,
            &mut out,
        )
        .with_context(|| format!("cannot render the {format} report"))?;
        to_stdout.push(out);
    }
    for spec in &args.outputs {
        if spec.path == Path::new("-") {
            let mut out = Held::default();
            render(
                report,
                spec.format,
                stdout_color,
                &sarif_options,
                &findings,
                &compliance,
                &mut out,
            )
            .with_context(|| format!("cannot render the {} report", spec.format))?;
            to_stdout.push(out);
            continue;
        }
        if !seen.insert(spec.path.clone()) {
            bail!(
                "`{}` is named by more than one -o; give each report its own file",
                spec.path.display()
            );
        }
        if spec.format == Format::Sarif {
            // One part at a time, each written to its temporary file as it is rendered.
            sarif::write_each(report, &sarif_options, |part| {
                let path = sarif::part_path(&spec.path, &part.suffix());
                let mut tmp = Syncing::new(temp_beside(&path)?);
                let mut out = std::io::BufWriter::with_capacity(1 << 16, &mut tmp);
                part.write_to(&mut out)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                out.flush()
                    .with_context(|| format!("cannot write {}", path.display()))?;
                drop(out);
                files.push((path, tmp));
                anyhow::Ok(())
            })
            .with_context(|| format!("cannot render the SARIF report {}", spec.path.display()))?;
        } else {
            let mut tmp = Syncing::new(temp_beside(&spec.path)?);
            let mut out = std::io::BufWriter::with_capacity(1 << 16, &mut tmp);
            render(
                report,
                spec.format,
                false,
                &sarif_options,
                &findings,
                &compliance,
                &mut out,
            )
            .with_context(|| {
                format!(
                    "cannot render the {} report {}",
                    spec.format,
                    spec.path.display()
                )
            })?;
            out.flush()
                .with_context(|| format!("cannot write {}", spec.path.display()))?;
            drop(out);
            files.push((spec.path.clone(), tmp));
        }
    }

    // Every file reaches the disk before any takes its name, so a failed sync leaves no
    // report behind; their last syncs run side by side (one after another, they were a
    // tenth of a second at the end of the built-in pack's ten SARIF files over 100,000
    // data stores).
    let synced = std::thread::scope(|scope| {
        let syncing: Vec<_> = files
            .into_iter()
            .map(|(path, tmp)| {
                let sync = scope.spawn(|| {
                    let tmp = tmp.into_file()?;
                    tmp.as_file().sync_all().map(|()| tmp)
                });
                (path, sync)
            })
            .collect();
        syncing
            .into_iter()
            .map(|(path, sync)| {
                let synced = sync.join().unwrap_or_else(|_| {
                    Err(std::io::Error::other("the thread syncing the file stopped"))
                });
                (path, synced)
            })
            .collect::<Vec<_>>()
    });
    let mut ready = Vec::with_capacity(synced.len());
    for (path, synced) in synced {
        let tmp = synced.with_context(|| format!("cannot write {}", path.display()))?;
        ready.push((path, tmp));
    }
    for (path, tmp) in ready {
        persist(tmp, &path)?;
    }
    // A closed pipe (`hlaudit check ... | head`) is not an error of the audit: `stdio`
    // drops the rest.
    let mut stdout = crate::stdio::stdout();
    for held in to_stdout {
        for piece in held.pieces {
            stdout.write_all(&piece)?;
        }
    }
    Ok(stdout.flush()?)
}

/// A report for standard output, held until every report is rendered, in pieces of at
/// most [`Held::PIECE`] bytes: one growing vector copied a large report several times
/// over, and the allocator kept the copies a while (`--format json` of the built-in pack
/// over 100,000 data stores, 580 MB, peaked at 1,186 MiB rather than 778 MiB, and took 4.5 s
/// rather than 3.4 s).
#[derive(Default)]
struct Held {
    pieces: Vec<Vec<u8>>,
}

impl Held {
    const PIECE: usize = 1 << 20;
}

impl Write for Held {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        while !rest.is_empty() {
            match self.pieces.last_mut() {
                Some(piece) if piece.len() < Held::PIECE => {
                    let n = (Held::PIECE - piece.len()).min(rest.len());
                    piece.extend_from_slice(&rest[..n]);
                    rest = &rest[n..];
                }
                _ => self.pieces.push(Vec::with_capacity(Held::PIECE)),
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The options of the formats that list findings: ASFF and OCSF, how many the terminal
/// view lists and which the HTML page lists.
struct Findings {
    asff: AsffOptions,
    ocsf: OcsfOptions,
    /// `--all-findings`.
    all_findings: bool,
    /// `--html-all-rows`.
    html: HtmlOptions,
    /// `--json-version`.
    json: Form,
}

/// The compliance view, built by the first format that shows it, of the frameworks
/// `--framework` chose.
struct LazyView<'a> {
    cell: OnceCell<ComplianceView>,
    frameworks: &'a [String],
}

/// Renders one format into `out`. The compliance view is built in `compliance` the first
/// time a format needs it.
fn render(
    report: &Report,
    format: Format,
    color: bool,
    sarif_options: &SarifOptions,
    findings: &Findings,
    compliance: &LazyView<'_>,
    out: &mut dyn Write,
) -> Result<(), hlaudit_report::ReportError> {
    // The frameworks `--framework` chose (every one without it).
    let view = || {
        compliance.cell.get_or_init(|| {
            ComplianceView::build(
                report,
                &hlaudit_rules::builtin_frameworks(),
                compliance.frameworks,
            )
        })
    };
    match format {
        Format::Terminal => hlaudit_report::terminal::write(
            report,
            &TerminalOptions {
                color,
                verbose: false,
                per_policy: if findings.all_findings {
                    None
                } else {
                    Some(hlaudit_report::terminal::DEFAULT_PER_POLICY)
                },
            },
            out,
        ),
        Format::Json => hlaudit_report::json::write_form(report, Some(view()), findings.json, out),
        Format::Sarif => sarif::write(report, sarif_options, out),
        Format::Junit => hlaudit_report::junit::write(report, out),
        Format::Markdown => hlaudit_report::markdown::write(report, Some(view()), out),
        Format::Html => hlaudit_report::html::write(report, Some(view()), &findings.html, out),
        Format::ComplianceCsv => hlaudit_report::compliance_csv::write(view(), out),
        Format::Asff => hlaudit_report::asff::write(report, &findings.asff, out),
        Format::Ocsf => hlaudit_report::ocsf::write(report, &findings.ocsf, out),
    }
}

/// Whether to colour standard output: `auto` follows anstream (NO_COLOR, CLICOLOR,
/// CLICOLOR_FORCE, TERM=dumb and whether stdout is a terminal).
pub fn resolve_color(choice: ColorArg) -> bool {
    match choice {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => !matches!(
            anstream::AutoStream::choice(&std::io::stdout()),
            anstream::ColorChoice::Never
        ),
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory, renamed over
/// the target only once complete. An existing file's permissions are kept.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = temp_beside(path)?;
    tmp.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    persist(tmp, path)
}

/// A temporary file in the directory of `path`, to be renamed over it by [`persist`]
/// (removed if dropped instead). The error names the directory.
fn temp_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    tempfile::Builder::new()
        .prefix(".hlaudit-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| {
            let what = format!("cannot create a temporary file in {}: {e}", dir.display());
            std::io::Error::new(e.kind(), what)
        })
}

/// Flushes `tmp` to disk and renames it over `path`, keeping an existing file's
/// permissions.
fn persist(mut tmp: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    tmp.flush()
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    let permissions = match std::fs::metadata(path) {
        Ok(meta) => Some(meta.permissions()),
        Err(_) => default_permissions(),
    };
    if let Some(p) = permissions {
        tmp.as_file()
            .set_permissions(p)
            .with_context(|| format!("cannot set the permissions of {}", path.display()))?;
    }
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// New reports are readable like other files (temporary files start as 0600).
#[cfg(unix)]
fn default_permissions() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions() -> Option<std::fs::Permissions> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use hlaudit_model::finding::{Finding, Status, Subject};
    use hlaudit_model::report::{PolicyMeta, Resource};
    use hlaudit_model::{Inventory, Timestamp};

    fn report(findings: &[(Status, Severity)]) -> Report {
        let mut r = Report::for_inventory(&Inventory::default(), Timestamp::now());
        let mut p = PolicyMeta::collection_error();
        p.id = "HL-TEST-01".into();
        r.policies.push(p);
        r.resources.push(Resource::datastore(
            "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/x",
        ));
        for (status, severity) in findings {
            let mut f = Finding::new(0, Subject::Record { index: 0 }, *status, *severity);
            f.set_message("Data store x is wrong.".into());
            r.findings.push(f);
        }
        r
    }

    #[test]
    fn output_specs_parse() {
        assert_eq!(
            parse_output("sarif=out/hl.sarif"),
            Ok(OutputSpec {
                format: Format::Sarif,
                path: PathBuf::from("out/hl.sarif")
            })
        );
        assert_eq!(
            parse_output("HTML=a=b.html").map(|s| s.path),
            Ok(PathBuf::from("a=b.html"))
        );
        assert!(parse_output("sarif").unwrap_err().contains("FORMAT=PATH"));
        assert!(parse_output("pdf=x.pdf")
            .unwrap_err()
            .contains("unknown report format"));
        assert!(parse_output("json=").is_err());
    }

    #[test]
    fn writes_replace_files_atomically_and_keep_them_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
        // A directory that does not exist is an error naming it, not a panic.
        let err = write_atomically(&dir.path().join("missing/x.json"), b"x").unwrap_err();
        assert!(format!("{err:#}").contains("missing"));
    }

    #[test]
    fn a_rendering_error_writes_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.html");
        std::fs::write(&good, "old").unwrap();
        let mut r = report(&[(Status::Fail, Severity::High)]);
        // A finding of policy 7, which the report does not have: every reporter refuses it.
        r.findings[0] = hlaudit_model::finding::Finding::new(
            7,
            hlaudit_model::finding::Subject::Record { index: 0 },
            Status::Fail,
            Severity::High,
        );
        let args = OutputArgs {
            format: Some(FormatArg::None),
            outputs: vec![
                OutputSpec {
                    format: Format::Html,
                    path: good.clone(),
                },
                OutputSpec {
                    format: Format::Json,
                    path: dir.path().join("new.json"),
                },
            ],
            fail_on: Some(FailOn::High),
            color: ColorArg::Never,
            sarif_base: None,
            asff_passed: false,
            asff_account: None,
            asff_region: None,
            all_findings: false,
            html_all_rows: false,
            json_version: 3,
        };
        assert!(write_outputs(&r, &args, &[], None).is_err());
        assert_eq!(std::fs::read_to_string(&good).unwrap(), "old");
        assert!(!dir.path().join("new.json").exists());
    }

    #[test]
    fn a_later_failure_replaces_no_file_and_leaves_no_temporary_file() {
        for late in [Format::Html, Format::Sarif] {
            let dir = tempfile::tempdir().unwrap();
            let good = dir.path().join("good.json");
            std::fs::write(&good, "old").unwrap();
            let r = report(&[(Status::Fail, Severity::High)]);
            let spec = |format, path: PathBuf| OutputSpec { format, path };
            let args = OutputArgs {
                format: Some(FormatArg::None),
                outputs: vec![
                    // Rendered into its temporary file, then the next one cannot be created.
                    spec(Format::Json, good.clone()),
                    spec(late, dir.path().join("missing/report")),
                ],
                fail_on: Some(FailOn::High),
                color: ColorArg::Never,
                sarif_base: None,
                asff_passed: false,
                asff_account: None,
                asff_region: None,
                all_findings: false,
                html_all_rows: false,
                json_version: 3,
            };
            let err = format!("{:#}", write_outputs(&r, &args, &[], None).unwrap_err());
            assert_eq!(
                err.matches("cannot create a temporary file in").count(),
                1,
                "{err}"
            );
            assert!(err.contains("missing"), "{err}");
            assert_eq!(std::fs::read_to_string(&good).unwrap(), "old");
            let names: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            assert_eq!(names, vec!["good.json"]);
        }
    }

    #[test]
    fn several_formats_in_one_run() {
        let dir = tempfile::tempdir().unwrap();
        let r = report(&[(Status::Fail, Severity::High)]);
        let outputs = [
            "sarif=a.sarif",
            "junit=a.xml",
            "html=a.html",
            "json=a.json",
            "markdown=a.md",
        ]
        .iter()
        .map(|s| {
            let mut spec = parse_output(s).unwrap();
            spec.path = dir.path().join(&spec.path);
            spec
        })
        .collect();
        let args = OutputArgs {
            format: Some(FormatArg::None),
            outputs,
            fail_on: Some(FailOn::High),
            color: ColorArg::Never,
            sarif_base: None,
            asff_passed: false,
            asff_account: None,
            asff_region: None,
            all_findings: false,
            html_all_rows: false,
            json_version: 3,
        };
        write_outputs(&r, &args, &[], None).unwrap();
        for name in ["a.sarif", "a.xml", "a.html", "a.json", "a.md"] {
            let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
            assert!(!text.is_empty(), "{name}");
        }
        let dup = OutputArgs {
            outputs: vec![
                parse_output("json=x.json").unwrap(),
                parse_output("html=x.json").unwrap(),
            ],
            ..args
        };
        assert!(
            format!("{:#}", write_outputs(&r, &dup, &[], None).unwrap_err())
                .contains("more than one -o")
        );
    }

    #[test]
    fn output_held_for_stdout_is_kept_in_pieces_of_a_megabyte() {
        let mut held = Held::default();
        let text: Vec<u8> = (0..(Held::PIECE * 2 + 12_345))
            .map(|i| (i % 251) as u8)
            .collect();
        held.write_all(&text[..7]).unwrap();
        held.write_all(&text[7..Held::PIECE + 3]).unwrap();
        held.write_all(&text[Held::PIECE + 3..]).unwrap();
        assert_eq!(held.pieces.len(), 3);
        assert!(held.pieces.iter().all(|p| p.len() <= Held::PIECE));
        assert_eq!(held.pieces.concat(), text);
    }

    #[test]
    fn color_choices() {
        assert!(resolve_color(ColorArg::Always));
        assert!(!resolve_color(ColorArg::Never));
    }
}

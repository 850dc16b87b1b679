//! The configuration file (`hlaudit.yaml`), the waiver and baseline flags, and the one
//! place where command-line flags and the file are merged into validated [`Settings`].
//!
//! Precedence, for every setting: a flag given on the command line, else the file's value,
//! else the built-in default. A list given on the command line (`--only`, `--rules`,
//! `--waivers`, ...) *replaces* the file's list. The file is `--config FILE`, else
//! `hlaudit.yaml` in the working directory when it exists (`--no-config` skips it); paths
//! in it are relative to its folder. See `docs/configuration.md`.

mod file;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use hlaudit_model::finding::Status;
use hlaudit_model::report::Report;
use hlaudit_report::baseline::{apply_baseline, is_new_failure, Baseline, BaselineOutcome};
use hlaudit_report::Format;
use hlaudit_rules::waiver::{
    apply_waivers, load_waivers, read_waiver_files, WaiverOptions, WaiverOutcome, WaiverSet,
    DEFAULT_WARN_EXPIRING_DAYS,
};
use hlaudit_rules::Overrides;

pub use file::{parse, ConfigFile};

use crate::exit::{Outcome, Rendered};
use crate::output::{FailOn, FormatArg, OutputArgs, OutputSpec};
use crate::policy_args::PolicyArgs;

/// The name of the configuration file looked for in the working directory.
pub const DEFAULT_FILE: &str = "hlaudit.yaml";

/// `--config` and `--no-config`.
#[derive(Debug, Clone, Default, ClapArgs)]
pub struct ConfigArgs {
    /// Read settings from this file (default: ./hlaudit.yaml when it exists). Flags given
    /// on the command line override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Do not read ./hlaudit.yaml.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
}

/// Waiver and baseline flags.
#[derive(Debug, Clone, Default, ClapArgs)]
pub struct ExceptionArgs {
    /// A waiver file (repeatable); replaces the configuration's `waivers`. A matching,
    /// unexpired waiver turns FAIL into WAIVED (docs/waivers.md).
    #[arg(long = "waivers", value_name = "FILE")]
    pub waivers: Vec<PathBuf>,
    /// Apply no waiver at all, whatever the configuration says.
    #[arg(long, conflicts_with = "waivers")]
    pub no_waivers: bool,
    /// List waivers that stop applying within this many days (default 14).
    #[arg(long, value_name = "DAYS")]
    pub warn_expiring: Option<u32>,
    /// A JSON report of an earlier run: every finding is marked new, unchanged, updated or
    /// absent (fixed) against it.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Exit 1 only for FAIL findings at or above --fail-on that the baseline did not hold
    /// as FAIL (needs --baseline). ERROR and unreadable input still exit 2.
    #[arg(long)]
    pub fail_on_new: bool,
}

/// Everything a run needs, merged from the flags and the configuration file, validated.
#[derive(Debug)]
pub struct Settings {
    /// The configuration file read, if any.
    pub config_file: Option<PathBuf>,
    /// Policy sources and selection.
    pub policy: PolicyArgs,
    /// Parameter and severity overrides from the file.
    pub overrides: Overrides,
    /// Waivers to apply (`None` with `--no-waivers` or when none is configured).
    pub waivers: Option<WaiverSet>,
    /// The expiry warning window, in days.
    pub warn_expiring_days: u32,
    /// The baseline, with its path.
    pub baseline: Option<(PathBuf, Baseline)>,
    /// Gate the exit code on new failures only.
    pub fail_on_new: bool,
}

/// What applying waivers and the baseline did.
#[derive(Debug, Default)]
pub struct Applied {
    /// The waiver outcome, when waivers were applied.
    pub waivers: Option<WaiverOutcome>,
    /// The baseline outcome, when a baseline was given.
    pub baseline: Option<BaselineOutcome>,
}

/// Finds and reads the configuration file: `--config FILE`, else `./hlaudit.yaml` when it
/// exists, unless `--no-config`. Problems come back rendered (exit code 2).
pub fn load_config(args: &ConfigArgs) -> Result<Option<ConfigFile>> {
    let path = match (&args.config, args.no_config) {
        (_, true) => return Ok(None),
        (Some(p), false) => p.clone(),
        (None, false) => {
            let p = PathBuf::from(DEFAULT_FILE);
            if !p.is_file() {
                return Ok(None);
            }
            p
        }
    };
    let bytes = std::fs::read(&path)
        .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
    let text = hlaudit_rules::yaml::text(&path.display().to_string(), bytes).map_err(|d| {
        let mut ds = hlaudit_rules::Diagnostics::new();
        ds.push(d);
        Rendered(ds.render_for(color(), "the configuration file"))
    })?;
    parse(&path, &text)
        .map(Some)
        .map_err(|d| Rendered(d.render_for(color(), "the configuration file")).into())
}

fn color() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn or_file<T: Clone>(flag: &[T], file: &Option<Vec<T>>) -> Vec<T> {
    if flag.is_empty() {
        file.clone().unwrap_or_default()
    } else {
        flag.to_vec()
    }
}

impl Settings {
    /// Merges the flags with the configuration file (see the module docs) and loads the
    /// waiver files and the baseline. Every problem in the configuration or waiver files is
    /// rendered like a compiler error.
    pub fn resolve(
        policy: &PolicyArgs,
        config: &ConfigArgs,
        exceptions: &ExceptionArgs,
        output: &mut OutputArgs,
    ) -> Result<Settings> {
        let cfg = load_config(config)?.unwrap_or_default();
        Self::merge(policy, &cfg, exceptions, output)
    }

    /// [`Settings::resolve`] with the configuration already read (tests, `scan`).
    pub fn merge(
        policy: &PolicyArgs,
        cfg: &ConfigFile,
        exceptions: &ExceptionArgs,
        output: &mut OutputArgs,
    ) -> Result<Settings> {
        let mut p = policy.clone();
        p.sources.rules = or_file(&policy.sources.rules, &cfg.rules);
        p.sources.no_builtin = policy.sources.no_builtin || cfg.builtin == Some(false);
        p.only = or_file(&policy.only, &cfg.only);
        p.skip = or_file(&policy.skip, &cfg.skip);
        p.tag = or_file(&policy.tag, &cfg.tags);
        p.framework = or_file(&policy.framework, &cfg.frameworks);
        p.min_severity = policy.min_severity.or(cfg.min_severity);
        let mut overrides = Overrides::none();
        overrides.params = cfg.parameters.clone();
        overrides.severities = cfg.severity.clone();

        if output.fail_on.is_none() {
            output.fail_on = cfg.fail_on;
        }
        if output.format.is_none() {
            output.format = cfg.format.map(format_arg);
        }
        if output.outputs.is_empty() {
            output.outputs = cfg
                .outputs
                .iter()
                .map(|(format, path)| OutputSpec {
                    format: *format,
                    path: path.clone(),
                })
                .collect();
        }

        let waiver_files = if exceptions.no_waivers {
            Vec::new()
        } else {
            or_file(&exceptions.waivers, &cfg.waivers)
        };
        let waivers = if waiver_files.is_empty() {
            None
        } else {
            let sources = read_waiver_files(&waiver_files)?;
            Some(
                load_waivers(&sources)
                    .map_err(|d| Rendered(d.render_for(color(), "the waiver files")))?,
            )
        };
        let baseline_path = exceptions.baseline.clone().or_else(|| cfg.baseline.clone());
        let baseline = match baseline_path {
            Some(path) => Some((path.clone(), read_baseline(&path)?)),
            None => None,
        };
        let fail_on_new = exceptions.fail_on_new || cfg.fail_on_new == Some(true);
        if fail_on_new && baseline.is_none() {
            anyhow::bail!("--fail-on-new needs a baseline: give --baseline FILE (a JSON report of an earlier run)");
        }
        Ok(Settings {
            config_file: (!cfg.path.as_os_str().is_empty()).then(|| cfg.path.clone()),
            policy: p,
            overrides,
            waivers,
            warn_expiring_days: exceptions
                .warn_expiring
                .or(cfg.warn_expiring_days)
                .unwrap_or(DEFAULT_WARN_EXPIRING_DAYS),
            baseline,
            fail_on_new,
        })
    }

    /// Applies the waivers (at the evaluation time) and then the baseline to an evaluated
    /// report. Waiver warnings land in `report.warnings`.
    pub fn apply(&self, report: &mut Report) -> Applied {
        let mut applied = Applied::default();
        if let Some(set) = &self.waivers {
            let opts = WaiverOptions {
                as_of: report.evaluated_at,
                warn_expiring_days: self.warn_expiring_days,
            };
            applied.waivers = Some(apply_waivers(report, set, &opts));
        }
        if let Some((_, baseline)) = &self.baseline {
            applied.baseline = Some(apply_baseline(report, baseline));
        }
        applied
    }

    /// The run's exit code: 2 when anything could not be read or evaluated; else 1 when a
    /// FAIL finding at or above `fail_on` remains (with `--fail-on-new`, only one the
    /// baseline did not hold as FAIL); else 0. WAIVED findings never count.
    pub fn outcome(&self, report: &Report, fail_on: FailOn) -> Outcome {
        if report.is_incomplete() {
            return Outcome::Error;
        }
        let Some(threshold) = fail_on.threshold() else {
            return Outcome::Clean;
        };
        let failing = report.findings.iter().any(|f| {
            f.status == Status::Fail
                && f.severity >= threshold
                && match (&self.baseline, self.fail_on_new) {
                    (Some((_, b)), true) => is_new_failure(report, f, b),
                    _ => true,
                }
        });
        if failing {
            Outcome::Findings
        } else {
            Outcome::Clean
        }
    }
}

/// Reads a JSON report as a baseline.
pub fn read_baseline(path: &Path) -> Result<Baseline> {
    let report = read_report(path)?;
    Ok(Baseline::from_report(&report))
}

/// Reads a JSON report written by `-o json=FILE`.
pub fn read_report(path: &Path) -> Result<hlaudit_report::json::JsonReport> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read the report {}", path.display()))?;
    let mut reader = std::io::BufReader::new(file);
    hlaudit_report::json::read(&mut reader).with_context(|| {
        format!(
            "{} is not an hlaudit JSON report (write one with `-o json=FILE`)",
            path.display()
        )
    })
}

/// A one-line note of what the baseline comparison found, for stderr.
pub fn baseline_note(path: &Path, o: &BaselineOutcome) -> String {
    let mut s = format!(
        "baseline {}: {} new, {} unchanged, {} updated, {} fixed",
        path.display(),
        o.new,
        o.unchanged,
        o.updated,
        o.fixed
    );
    if !o.gone.is_empty() {
        s.push_str(&format!(
            ", {} no longer audited (data store or policy gone)",
            o.gone.len()
        ));
    }
    s
}

fn format_arg(f: Format) -> FormatArg {
    match f {
        Format::Terminal => FormatArg::Terminal,
        Format::Json => FormatArg::Json,
        Format::Sarif => FormatArg::Sarif,
        Format::Junit => FormatArg::Junit,
        Format::Markdown => FormatArg::Markdown,
        Format::Html => FormatArg::Html,
    }
}

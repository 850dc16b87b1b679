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
use hlaudit_model::finding::{Finding, Status};
use hlaudit_model::report::{Report, COLLECTION_ERROR_ID};
use hlaudit_report::baseline::{apply_baseline, is_new_failure, Baseline, BaselineOutcome};
use hlaudit_report::Format;
use hlaudit_rules::waiver::{
    apply_waivers, load_waivers, read_waiver_files, WaiverOptions, WaiverOutcome, WaiverSet,
    DEFAULT_WARN_EXPIRING_DAYS,
};
use hlaudit_rules::Overrides;

pub use file::{parse, ConfigFile};

use crate::exit::{Files, Outcome, Problems};
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

/// Waiver and baseline flags, and what else the gate asks of a run beyond `--fail-on`.
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
    /// Exit 2 when the inventory holds fewer data stores than this (e.g. 1: an empty
    /// export or a wrong region fails the run instead of passing with nothing checked).
    #[arg(long, value_name = "N")]
    pub min_datastores: Option<usize>,
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
    /// The fewest data stores the inventory may hold (`--min-datastores`).
    pub min_datastores: Option<usize>,
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
/// exists, unless `--no-config`. Problems come back as [`Problems`] (exit code 2).
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
        Problems::new(Files::Configuration, ds)
    })?;
    let cfg = parse(&path, &text).map_err(|d| Problems::new(Files::Configuration, d))?;
    Ok(Some(cfg))
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
    /// waiver files and the baseline. Every problem in the configuration or waiver files
    /// comes back as [`Problems`], rendered like a compiler error when the run ends.
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
        p.selected_by_file = selected_by_file(policy, cfg);
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
            Some(load_waivers(&sources).map_err(|d| Problems::new(Files::Waivers, d))?)
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
            min_datastores: exceptions.min_datastores.or(cfg.min_datastores),
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

    /// How an audit ends, decided here and nowhere else (`exit::exit_code` turns it into
    /// the exit code): [`Outcome::Error`] when anything could not be read or evaluated, or
    /// when the inventory holds fewer data stores than `--min-datastores`; else
    /// [`Outcome::Findings`] when a FAIL finding at or above `fail_on` remains (with
    /// `--fail-on-new`, only one the baseline did not hold as FAIL); else
    /// [`Outcome::Clean`]. WAIVED findings never count. With `allow_partial` (`scan
    /// --allow-partial`), parts that could not be collected stay in the report but do not
    /// decide the code.
    ///
    /// An audit that checked nothing (no data store, or no policy that applies) is not a
    /// failure by itself: every report and stderr say so, and `--min-datastores 1` makes
    /// an empty inventory exit 2.
    pub fn outcome(&self, report: &Report, fail_on: FailOn, allow_partial: bool) -> Outcome {
        if self.too_few_datastores(report).is_some() {
            return Outcome::Error;
        }
        let incomplete = if allow_partial {
            deciding_errors(report, true).next().is_some()
        } else {
            report.is_incomplete()
        };
        if incomplete {
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

/// The ERROR findings that make a run exit 2: all of them, or with `allow_partial` (a
/// live scan that goes on past parts it could not collect) those that are not collection
/// errors.
pub fn deciding_errors(report: &Report, allow_partial: bool) -> impl Iterator<Item = &Finding> {
    report.findings.iter().filter(move |f| {
        f.status == Status::Error
            && !(allow_partial && report.policy_of(f).id == COLLECTION_ERROR_ID)
    })
}

impl Settings {
    /// What is wrong when the inventory holds fewer data stores than `--min-datastores`.
    pub fn too_few_datastores(&self, report: &Report) -> Option<String> {
        let min = self.min_datastores?;
        // Data stores only: jobs and profiles beside them are not what the flag guards.
        let n = report
            .resources
            .iter()
            .filter(|r| r.kind == hlaudit_model::Kind::Datastore)
            .count();
        (n < min).then(|| {
            format!(
                "the inventory holds {n} data store{}, fewer than --min-datastores {min}; \
                 check the input, region, account and permissions",
                if n == 1 { "" } else { "s" }
            )
        })
    }
}

/// The configuration file and the selection keys it set that no flag replaced.
fn selected_by_file(policy: &PolicyArgs, cfg: &ConfigFile) -> Option<(PathBuf, Vec<&'static str>)> {
    let keys: Vec<&'static str> = [
        ("only", policy.only.is_empty() && cfg.only.is_some()),
        ("skip", policy.skip.is_empty() && cfg.skip.is_some()),
        ("tags", policy.tag.is_empty() && cfg.tags.is_some()),
        (
            "frameworks",
            policy.framework.is_empty() && cfg.frameworks.is_some(),
        ),
        (
            "min_severity",
            policy.min_severity.is_none() && cfg.min_severity.is_some(),
        ),
    ]
    .into_iter()
    .filter_map(|(k, from_file)| from_file.then_some(k))
    .collect();
    (!keys.is_empty()).then(|| (cfg.path.clone(), keys))
}

/// Reads a JSON report as a baseline.
pub fn read_baseline(path: &Path) -> Result<Baseline> {
    read_results(path, "baseline")
}

/// Reads the results of a JSON report (see [`Baseline::read`]); `what` names the file in
/// the error when it cannot be opened.
pub fn read_results(path: &Path, what: &str) -> Result<Baseline> {
    let bytes = hlaudit_model::snapshot::read_file(path)
        .with_context(|| format!("cannot read the {what} {}", path.display()))?;
    Baseline::from_bytes(bytes).with_context(|| {
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
        Format::ComplianceCsv => FormatArg::ComplianceCsv,
        Format::Asff => FormatArg::Asff,
        Format::Ocsf => FormatArg::Ocsf,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hlaudit_model::finding::{Finding, Severity, Subject};
    use hlaudit_model::report::{PolicyMeta, Resource};
    use hlaudit_model::{CollectionError, Inventory, Timestamp};

    fn settings(min_datastores: Option<usize>) -> Settings {
        Settings {
            config_file: None,
            policy: PolicyArgs::default(),
            overrides: Overrides::none(),
            waivers: None,
            warn_expiring_days: DEFAULT_WARN_EXPIRING_DAYS,
            baseline: None,
            fail_on_new: false,
            min_datastores,
        }
    }

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

    fn collection_error() -> CollectionError {
        CollectionError {
            account: None,
            region: Some("us-east-1".into()),
            operation: "ListFHIRDatastores".into(),
            resource: None,
            code: "ThrottlingException".into(),
            message: "rate exceeded".into(),
        }
    }

    #[test]
    fn outcomes_follow_fail_on() {
        use Outcome as O;
        use Severity::*;
        use Status::*;
        // (findings, --fail-on, expected outcome)
        type Case = (&'static [(Status, Severity)], FailOn, Outcome);
        let cases: &[Case] = &[
            (&[], FailOn::High, O::Clean),
            (&[(Pass, Critical), (Skip, High)], FailOn::Info, O::Clean),
            (&[(Fail, High)], FailOn::High, O::Findings),
            (&[(Fail, High)], FailOn::Critical, O::Clean),
            (&[(Fail, Medium)], FailOn::High, O::Clean),
            (&[(Fail, Medium)], FailOn::Medium, O::Findings),
            (&[(Fail, Info)], FailOn::Info, O::Findings),
            (&[(Fail, Critical)], FailOn::None, O::Clean),
            // WAIVED never counts.
            (&[(Waived, Critical)], FailOn::Info, O::Clean),
            // ERROR wins whatever --fail-on says.
            (&[(Error, Low)], FailOn::None, O::Error),
            (&[(Fail, Critical), (Error, Info)], FailOn::High, O::Error),
        ];
        for (findings, fail_on, want) in cases {
            assert_eq!(
                settings(None).outcome(&report(findings), *fail_on, false),
                *want,
                "{findings:?} with --fail-on {fail_on:?}"
            );
        }
        let mut r = report(&[]);
        r.errors.push(collection_error());
        assert_eq!(
            settings(None).outcome(&r, FailOn::None, false),
            Outcome::Error,
            "a collection error alone exits 2"
        );
    }

    #[test]
    fn allow_partial_leaves_collection_errors_out_of_the_code() {
        let mut r = report(&[(Status::Fail, Severity::Low)]);
        r.errors.push(collection_error());
        r.add_collection_errors();
        let s = settings(None);
        assert_eq!(s.outcome(&r, FailOn::High, false), Outcome::Error);
        assert_eq!(s.outcome(&r, FailOn::High, true), Outcome::Clean);
        assert_eq!(s.outcome(&r, FailOn::Low, true), Outcome::Findings);
        // An ERROR finding of a policy still exits 2.
        r.findings.push(Finding::new(
            0,
            Subject::Record { index: 0 },
            Status::Error,
            Severity::Info,
        ));
        assert_eq!(s.outcome(&r, FailOn::None, true), Outcome::Error);
    }

    #[test]
    fn min_datastores_fails_a_smaller_inventory_whatever_else_it_holds() {
        let empty = Report::for_inventory(&Inventory::default(), Timestamp::now());
        // Checking nothing is loud, not a failure by itself.
        assert_eq!(
            settings(None).outcome(&empty, FailOn::High, false),
            Outcome::Clean
        );
        assert_eq!(
            settings(Some(0)).outcome(&empty, FailOn::High, false),
            Outcome::Clean
        );
        let s = settings(Some(1));
        assert_eq!(s.outcome(&empty, FailOn::None, false), Outcome::Error);
        assert_eq!(
            s.too_few_datastores(&empty).as_deref(),
            Some(
                "the inventory holds 0 data stores, fewer than --min-datastores 1; check the \
                 input, region, account and permissions"
            )
        );
        let one = report(&[(Status::Pass, Severity::High)]);
        assert_eq!(s.outcome(&one, FailOn::High, false), Outcome::Clean);
        assert_eq!(
            settings(Some(2)).outcome(&one, FailOn::None, true),
            Outcome::Error
        );
    }

    #[test]
    fn min_datastores_and_selection_keys_come_from_the_file_unless_flagged() {
        let cfg = parse(
            Path::new("ci/hlaudit.yaml"),
            "min_datastores: 3\nskip: [HL-*]\nmin_severity: high\n",
        )
        .unwrap();
        let mut output = OutputArgs {
            format: None,
            outputs: Vec::new(),
            fail_on: None,
            color: crate::output::ColorArg::Never,
            sarif_base: None,
            asff_passed: false,
            asff_account: None,
            asff_region: None,
            all_findings: false,
            html_all_rows: false,
            json_version: 3,
        };
        let s = Settings::merge(
            &PolicyArgs::default(),
            &cfg,
            &ExceptionArgs::default(),
            &mut output,
        )
        .unwrap();
        assert_eq!(s.min_datastores, Some(3));
        assert_eq!(
            s.policy.selected_by_file,
            Some((
                PathBuf::from("ci/hlaudit.yaml"),
                vec!["skip", "min_severity"]
            ))
        );
        let flags = ExceptionArgs {
            min_datastores: Some(1),
            ..ExceptionArgs::default()
        };
        let policy = PolicyArgs {
            skip: vec!["HL-ENC-*".into()],
            ..PolicyArgs::default()
        };
        let s = Settings::merge(&policy, &cfg, &flags, &mut output).unwrap();
        assert_eq!(s.min_datastores, Some(1));
        assert_eq!(
            s.policy.selected_by_file,
            Some((PathBuf::from("ci/hlaudit.yaml"), vec!["min_severity"]))
        );
    }
}

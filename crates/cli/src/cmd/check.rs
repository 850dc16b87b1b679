//! `hlaudit check SNAPSHOT...`: evaluate policies over snapshot files and report findings.
//!
//! [`audit`] is the one evaluation path: `check` feeds it snapshots, `scan` a live
//! collection. It loads the policy set, evaluates it over the inventory, turns every
//! collection or input error into an ERROR finding, writes the reports and decides the
//! exit code.

use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args as ClapArgs;
use hlaudit_collector::{CollectConfig, RegionSelection, RetrySettings};
use hlaudit_model::invisible::escape;
use hlaudit_model::report::{NothingChecked, Report};
use hlaudit_model::Inventory;
use hlaudit_rules::CompiledPolicySet;

use crate::aws_args::AccountArgs;
use crate::cmd::collect::error_groups;
use crate::config::{baseline_note, deciding_errors, ConfigArgs, ExceptionArgs, Settings};
use crate::exit::Outcome;
use crate::input::{load_inventory, ReadArgs};
use crate::output::{asff_options, write_outputs, FormatArg, OutputArgs};
use crate::policy_args::PolicyArgs;
use crate::securityhub::{self, SecurityHubArgs, Sender};

/// Evaluate policies over snapshot files and report findings.
#[derive(Debug, ClapArgs)]
#[command(after_help = "Examples:\n  \
    hlaudit check fixtures/demo/snapshot.json --as-of 2026-11-28T09:30:00Z\n  \
    aws healthlake list-fhir-datastores | hlaudit check -\n  \
    hlaudit check snapshot.json --rules my-policies/ --only 'HL-ENC-*' --fail-on medium\n  \
    hlaudit check snapshot.json --format none -o sarif=hlaudit.sarif -o junit=junit.xml -o html=report.html")]
pub struct Args {
    /// Snapshot files: AWS CLI output, a JSON array, JSON Lines or an hlaudit snapshot;
    /// `-` reads standard input.
    #[arg(required = true, value_name = "SNAPSHOT")]
    pub snapshots: Vec<String>,
    #[command(flatten)]
    pub read: ReadArgs,

    /// With --securityhub: an AWS profile to import findings with; repeat for several
    /// accounts (each finding goes to its own account, with that account's credentials).
    /// Default: the standard credential chain.
    #[arg(
        long = "profile",
        value_name = "NAME",
        requires = "securityhub",
        help_heading = "Security Hub"
    )]
    pub profiles: Vec<String>,

    /// With --securityhub: the accounts to import into with a role assumed in each
    /// (`--org`, `--accounts` and the role flags, as for `collect`).
    #[command(flatten)]
    pub account: AccountArgs,

    #[command(flatten)]
    pub audit: AuditArgs,
}

/// With `--securityhub --org` or `--accounts`: the configuration whose role is assumed
/// in each selected account to import its findings (the base credentials from
/// `--profile` or the standard chain, STS called in the Security Hub region or the
/// first region of the snapshot).
fn accounts_config(args: &Args, inventory: &Inventory) -> Result<Option<CollectConfig>> {
    let Some(selection) = args.account.selection()? else {
        return Ok(None);
    };
    if !args.audit.securityhub.securityhub {
        bail!("--org and --accounts on `check` choose where --securityhub imports findings: add --securityhub, or use `scan` to collect those accounts");
    }
    let region = args
        .audit
        .securityhub
        .securityhub_region
        .clone()
        .or_else(|| {
            inventory
                .records
                .iter()
                .find_map(|r| r.region().map(str::to_owned))
        });
    let config = CollectConfig {
        profiles: args.profiles.clone(),
        accounts: Some(selection),
        regions: region.map_or(RegionSelection::Configured, |r| {
            RegionSelection::List(vec![r])
        }),
        ..CollectConfig::default()
    };
    config.validate()?;
    Ok(Some(config))
}

/// What every evaluating command shares: which policies, when, and where reports go.
#[derive(Debug, Clone, ClapArgs)]
pub struct AuditArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub exceptions: ExceptionArgs,

    #[command(flatten)]
    pub securityhub: SecurityHubArgs,
}

impl AuditArgs {
    /// Merges these flags with the configuration file (flags win) and loads the waiver
    /// files and the baseline: the arguments in effect, and the settings `audit` applies.
    pub fn resolve(&self) -> Result<(AuditArgs, Settings)> {
        let mut merged = self.clone();
        let settings = Settings::resolve(
            &self.policy,
            &self.config,
            &self.exceptions,
            &mut merged.output,
        )?;
        merged.policy = settings.policy.clone();
        Ok((merged, settings))
    }
}

/// Runs `check`.
pub fn run(args: &Args) -> Result<Outcome> {
    // Configuration and policies first: a broken file is reported before any input is read.
    let t = Instant::now();
    let (audit_args, settings) = args.audit.resolve()?;
    let set = audit_args.policy.load_with(&settings.overrides)?;
    tracing::debug!(
        "{} policies loaded in {:.3} s",
        set.len(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let inventory = load_inventory(&args.snapshots, &args.read)?;
    tracing::debug!(
        "{} data stores read in {:.3} s",
        inventory.records.len(),
        t.elapsed().as_secs_f64()
    );
    // What could not be read decides the exit code; the terminal report lists it, and a
    // report in another format (or none) is not read by a person, so it goes to stderr.
    if !reports_to_a_person(&audit_args.output) {
        for group in error_groups(&inventory.errors) {
            crate::stdio::errln!("{}", escape(&group.to_string()));
        }
    }
    // A snapshot says nothing about the data stores it leaves out, so findings of data
    // stores missing from it are never resolved in Security Hub.
    let accounts = accounts_config(args, &inventory)?;
    let sender = Sender {
        profiles: &args.profiles,
        accounts: accounts.as_ref(),
        retry: RetrySettings::default(),
        listed_completely: false,
    };
    audit(inventory, &set, &audit_args, &settings, false, &sender)
}

/// Evaluates an inventory (from snapshots or a live collection), writes the reports and
/// returns the outcome ([`Settings::outcome`]). With `allow_partial`, parts that could
/// not be collected stay ERROR findings in every report but do not decide the exit code;
/// the data stores that were collected do.
pub fn audit(
    inventory: Inventory,
    set: &CompiledPolicySet,
    args: &AuditArgs,
    settings: &Settings,
    allow_partial: bool,
    sender: &Sender<'_>,
) -> Result<Outcome> {
    let opts = args.policy.eval_options();
    let t = Instant::now();
    // PASS and SKIP pairs are a byte each until the inventory's text is freed (below).
    let evaluation = hlaudit_rules::evaluate_outcomes(set, &inventory, opts);
    tracing::debug!(
        "{} pairs evaluated in {:.3} s",
        evaluation.len(),
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    // The report takes the inventory: its resources take the records' strings, and the
    // rest (the snapshot's text, a third of a large audit's memory) is freed before the
    // findings and the reporters' buffers take their room.
    let mut report = Report::from_inventory(inventory, opts.as_of);
    report.policies = set.metas();
    report.findings = evaluation.into_findings();
    if !report.errors.is_empty() {
        report.add_collection_errors();
        report.sort_findings();
    }
    apply_exceptions(&mut report, args, settings);
    tracing::debug!("report assembled in {:.3} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let baseline_at = settings
        .baseline
        .as_ref()
        .and_then(|(_, b)| b.generated_at());
    write_outputs(&report, &args.output, &args.policy.framework, baseline_at)?;
    tracing::debug!("reports written in {:.3} s", t.elapsed().as_secs_f64());
    let mut outcome = settings.outcome(&report, args.output.fail_on(), allow_partial);
    say_what_was_not_checked(&report, settings);
    if !reports_to_a_person(&args.output) {
        say_what_could_not_be_read(&report, allow_partial);
    }
    let asff = asff_options(&report, &args.output, baseline_at);
    if !securityhub::send(&report, &args.securityhub, &asff, sender)? {
        outcome = Outcome::Error;
    }
    // As for the inventory: the command ends here, and millions of findings need no
    // freeing one by one.
    std::mem::forget(report);
    Ok(outcome)
}

/// Applies waivers and the baseline, and says on stderr what the reports on stdout do not.
fn apply_exceptions(report: &mut Report, args: &AuditArgs, settings: &Settings) {
    if let Some(path) = &settings.config_file {
        tracing::info!("configuration read from {}", path.display());
    }
    let applied = settings.apply(report);
    if let Some(w) = &applied.waivers {
        tracing::info!("{} finding(s) waived", w.applied);
        // The terminal report lists waiver warnings; the other formats on stdout do not
        // show them to a person, so they also go to stderr, where a CI log shows them.
        if !reports_to_a_person(&args.output) {
            for warning in w.warnings() {
                let at = warning
                    .source
                    .map(|s| format!(" ({})", escape(&s.to_string())))
                    .unwrap_or_default();
                let message = escape(&warning.message);
                crate::stdio::errln!("warning[{}]: {message}{at}", warning.code);
            }
        }
    }
    if let (Some((path, _)), Some(o)) = (&settings.baseline, &applied.baseline) {
        crate::stdio::errln!("{}", baseline_note(path, o));
    }
}

/// Whether the report on standard output is the terminal view, which lists every ERROR
/// finding and every waiver warning itself.
fn reports_to_a_person(output: &OutputArgs) -> bool {
    output.format.unwrap_or(FormatArg::Terminal) == FormatArg::Terminal
}

/// Says on stderr why a run whose report is not the terminal view exits 2: how many ERROR
/// findings decide it (what each collection error says is on stderr already, from the
/// reading or the collection). Without it, `--format none` over an incomplete listing
/// exited 2 in silence.
fn say_what_could_not_be_read(report: &Report, allow_partial: bool) {
    let n = deciding_errors(report, allow_partial).count();
    if n == 0 {
        return;
    }
    let (s, them) = if n == 1 { ("", "it") } else { ("s", "them") };
    crate::stdio::errln!(
        "error: {n} ERROR finding{s}: part of the input could not be collected, read or \
         evaluated, so the run exits 2 whatever --fail-on says (the report lists {them})"
    );
}

/// Says on stderr, where a CI log shows it whatever the report format, that the
/// inventory is smaller than `--min-datastores` or that the audit checked nothing.
fn say_what_was_not_checked(report: &Report, settings: &Settings) {
    if let Some(problem) = settings.too_few_datastores(report) {
        crate::stdio::errln!("error: {problem}");
    }
    if let Some(nothing) = report.nothing_checked() {
        let hint = match (nothing, settings.min_datastores) {
            (NothingChecked::NoDataStores, None) => {
                " Give --min-datastores 1 to fail the run when this happens."
            }
            _ => "",
        };
        crate::stdio::errln!("warning[nothing-checked]: {}{hint}", nothing.message());
    }
}

//! `hlaudit check SNAPSHOT...`: evaluate policies over snapshot files and report findings.
//!
//! [`audit`] is the one evaluation path: `check` feeds it snapshots, `scan` a live
//! collection. It loads the policy set, evaluates it over the inventory, turns every
//! collection or input error into an ERROR finding, writes the reports and decides the
//! exit code.

use anyhow::Result;
use clap::Args as ClapArgs;
use hlaudit_model::report::{Report, COLLECTION_ERROR_ID};
use hlaudit_model::Inventory;
use hlaudit_rules::CompiledPolicySet;

use crate::exit::Outcome;
use crate::input::load_inventory;
use crate::output::{exit_code, write_outputs, OutputArgs};
use crate::policy_args::PolicyArgs;

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
    pub audit: AuditArgs,
}

/// What every evaluating command shares: which policies, when, and where reports go.
#[derive(Debug, Clone, ClapArgs)]
pub struct AuditArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs `check`.
pub fn run(args: &Args) -> Result<Outcome> {
    // Policies first: a broken policy file is reported before any input is read.
    let set = args.audit.policy.load()?;
    let inventory = load_inventory(&args.snapshots)?;
    audit(&inventory, &set, &args.audit, false)
}

/// Evaluates an inventory (from snapshots or a live collection), writes the reports and
/// returns the outcome. With `allow_partial`, parts that could not be collected stay
/// ERROR findings in every report but do not decide the exit code; the data stores that
/// were collected do.
pub fn audit(
    inventory: &Inventory,
    set: &CompiledPolicySet,
    args: &AuditArgs,
    allow_partial: bool,
) -> Result<Outcome> {
    let opts = args.policy.eval_options();
    let findings = hlaudit_rules::evaluate(set, inventory, opts);

    let mut report = Report::for_inventory(inventory, opts.as_of);
    report.policies = set.metas();
    report.findings = findings;
    if !report.errors.is_empty() {
        report.add_collection_errors();
        report.sort_findings();
    }
    write_outputs(&report, &args.output)?;
    Ok(outcome(&report, args, allow_partial))
}

fn outcome(report: &Report, args: &AuditArgs, allow_partial: bool) -> Outcome {
    let fail_on = args.output.fail_on();
    let code = if allow_partial && !report.errors.is_empty() {
        let mut judged = report.clone();
        judged.errors.clear();
        judged
            .findings
            .retain(|f| judged.policies[f.policy].id != COLLECTION_ERROR_ID);
        exit_code(&judged, fail_on)
    } else {
        exit_code(report, fail_on)
    };
    match code {
        0 => Outcome::Clean,
        1 => Outcome::Findings,
        _ => Outcome::Error,
    }
}

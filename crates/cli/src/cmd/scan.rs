//! `hlaudit scan`: collect live and check in one run.

use anyhow::Result;
use clap::Args as ClapArgs;

use crate::aws_args::AwsArgs;
use crate::cmd::{check, collect};
use crate::exit::Outcome;
use crate::securityhub::Sender;
use hlaudit_collector::Filters;

/// Collect every data store live and evaluate policies over them in one run.
#[derive(Debug, ClapArgs)]
#[command(after_help = "Examples:\n  \
    hlaudit scan --regions all\n  \
    hlaudit scan --profile prod --region us-east-1 --save-snapshot prod.json\n\n\
    Parts that could not be collected are ERROR findings; the run then exits 2 unless \
    --allow-partial, with which the exit code follows the other findings.")]
pub struct Args {
    /// Also write the collected inventory as an hlaudit snapshot (atomically), so the
    /// same data can be checked again offline with `hlaudit check FILE`.
    #[arg(long, value_name = "FILE")]
    pub save_snapshot: Option<String>,

    #[command(flatten)]
    pub aws: AwsArgs,

    #[command(flatten)]
    pub audit: check::AuditArgs,
}

/// Runs `scan`.
pub fn run(args: &Args) -> Result<Outcome> {
    // Policies first: a broken policy file is reported before anything is collected.
    let (audit_args, settings) = args.audit.resolve()?;
    let set = audit_args.policy.load_with(&settings.overrides)?;
    let inventory = collect::collect_inventory(&args.aws)?;
    if let Some(path) = &args.save_snapshot {
        collect::write_output(&inventory, path)?;
    }
    // With --allow-partial, what could not be collected stays an ERROR finding in every
    // report, and the exit code follows the data stores that were collected.
    // A live listing covers whole regions; findings of data stores gone from them are
    // resolved in Security Hub, unless a filter narrowed the listing.
    let config = args.aws.to_config()?;
    let filtered = config.filters != Filters::default();
    let sender = Sender {
        profiles: &args.aws.profiles,
        accounts: config.accounts.is_some().then_some(&config),
        retry: config.retry.clone(),
        listed_completely: !filtered,
    };
    check::audit(
        inventory,
        &set,
        &audit_args,
        &settings,
        args.aws.allow_partial,
        &sender,
    )
}

//! `hlaudit explain POLICY_ID SNAPSHOT...`: how one policy came out on each data store,
//! clause by clause, with the value each clause saw.

use anyhow::{bail, Result};
use clap::{Args as ClapArgs, ValueEnum};
use hlaudit_model::link::{DatastoreIndex, DatastoreOf};
use hlaudit_model::Timestamp;
use hlaudit_rules::{explain, EvalOptions, Overrides};

use crate::exit::Outcome;
use crate::input::{load_inventory, ReadArgs};
use crate::policy_args::PolicySourceArgs;
use crate::stdio::{out, outln};

/// Output format of `explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    /// An indented tree for people.
    Text,
    /// JSON, one explanation per data store.
    Json,
}

/// Explain one policy on the data stores of snapshot files.
#[derive(Debug, ClapArgs)]
#[command(after_help = "Examples:\n  \
    hlaudit explain HL-MD-03 fixtures/demo/snapshot.json\n  \
    hlaudit explain HL-BAK-03 snapshot.json --datastore 0a1b2c --as-of 2026-01-31T00:00:00Z\n  \
    hlaudit explain ACME-01 snapshot.json --rules my-policies/ --format json")]
pub struct Args {
    /// The policy id.
    #[arg(value_name = "POLICY_ID")]
    pub policy: String,
    /// Snapshot files; `-` reads standard input.
    #[arg(required = true, value_name = "SNAPSHOT")]
    pub snapshots: Vec<String>,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Only this data store (its DatastoreId, DatastoreName or DatastoreArn).
    #[arg(long, value_name = "ID")]
    pub datastore: Option<String>,
    #[command(flatten)]
    pub sources: PolicySourceArgs,
    /// Evaluate as of this time (epoch seconds or ISO 8601) instead of now.
    #[arg(long, value_name = "TIMESTAMP")]
    pub as_of: Option<Timestamp>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    pub format: ExplainFormat,
}

/// Runs `explain`.
pub fn run(args: &Args) -> Result<Outcome> {
    let set = args.sources.compile(&Overrides::none())?;
    let Some(index) = set.index_of(&args.policy) else {
        let ids: Vec<&str> = set.policies().map(|p| p.meta.id.as_str()).collect();
        let close: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|id| id.to_lowercase().contains(&args.policy.to_lowercase()))
            .collect();
        if close.is_empty() {
            bail!(
                "no policy has the id `{}` (`hlaudit rules list` shows them)",
                args.policy
            );
        }
        bail!(
            "no policy has the id `{}`; similar: {}",
            args.policy,
            close.join(", ")
        );
    };
    let inventory = load_inventory(&args.snapshots, &args.read)?;
    let opts = EvalOptions::at(args.as_of.unwrap_or_else(Timestamp::now));
    let records: Vec<_> = inventory
        .records
        .iter()
        .filter(|r| {
            args.datastore
                .as_deref()
                .is_none_or(|d| [r.id(), r.arn(), r.name()].contains(&Some(d)) || r.key() == d)
        })
        .collect();
    if records.is_empty() {
        match &args.datastore {
            Some(d) => bail!("no data store with the id, name or ARN `{d}` in the snapshots"),
            None => bail!("the snapshots hold no data store"),
        }
    }
    let stores = DatastoreIndex::of(&inventory.records);
    let explanations: Vec<_> = records
        .iter()
        .filter_map(|r| {
            let datastore = match stores.datastore_of(&inventory.records, r) {
                DatastoreOf::Found(d) => inventory.records.get(d),
                _ => None,
            };
            explain(&set, index, r, datastore, opts)
        })
        .collect();
    match args.format {
        ExplainFormat::Json => outln!("{}", serde_json::to_string_pretty(&explanations)?)?,
        ExplainFormat::Text => {
            for (i, e) in explanations.iter().enumerate() {
                if i > 0 {
                    outln!()?;
                }
                out!("{e}")?;
            }
        }
    }
    Ok(Outcome::Clean)
}

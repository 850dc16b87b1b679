//! `hlaudit check SNAPSHOT...`: evaluate policies over snapshot files and report findings.

use anyhow::Result;
use clap::Args as ClapArgs;
use hlaudit_model::report::Report;
use hlaudit_model::{Inventory, Timestamp};

use crate::exit::Outcome;
use crate::input::load_inventory;

/// Evaluate policies over snapshot files and report findings.
#[derive(Debug, ClapArgs)]
#[command(after_help = "Examples:\n  \
    hlaudit check fixtures/demo/snapshot.json\n  \
    aws healthlake list-fhir-datastores | hlaudit check -")]
pub struct Args {
    /// Snapshot files: AWS CLI output, a JSON array, JSON Lines or an hlaudit snapshot;
    /// `-` reads standard input.
    #[arg(required = true, value_name = "SNAPSHOT")]
    pub snapshots: Vec<String>,
}

/// Runs `check`.
pub fn run(args: &Args) -> Result<Outcome> {
    let inventory = load_inventory(&args.snapshots)?;
    audit(&inventory)
}

/// Evaluates an inventory (from snapshots or a live collection) and reports.
pub fn audit(inventory: &Inventory) -> Result<Outcome> {
    let mut report = Report::for_inventory(inventory, Timestamp::now());
    report.add_collection_errors();
    report.sort_findings();
    Ok(if report.is_incomplete() {
        Outcome::Error
    } else {
        Outcome::Clean
    })
}

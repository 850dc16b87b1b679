//! Reading snapshot files into an [`Inventory`].

use anyhow::Result;
use hlaudit_model::invisible::escape;
use hlaudit_model::snapshot::{self, DuplicatePolicy};
use hlaudit_model::Inventory;

use crate::stdio::errln;

/// How the snapshot inputs of a command are read together.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct ReadArgs {
    /// Which copy counts when two inputs hold the same data store (by ARN) with
    /// different content: `error` (the default) refuses to guess and exits 2 naming both
    /// places and the first difference; `first` or `last` in the order given; `latest`
    /// the copy from the most recently collected hlaudit snapshot (`collectedAt`).
    /// Identical copies are always audited once.
    #[arg(long, value_enum, default_value_t = OnDuplicate::Error, value_name = "WHICH")]
    pub on_duplicate: OnDuplicate,
}

/// The values of `--on-duplicate`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OnDuplicate {
    /// Refuse: an input error naming both places and the first difference.
    #[default]
    Error,
    /// The copy in the input given first.
    First,
    /// The copy in the input given last.
    Last,
    /// The copy from the most recently collected hlaudit snapshot.
    Latest,
}

impl ReadArgs {
    fn options(self) -> snapshot::ReadOptions {
        let duplicates = match self.on_duplicate {
            OnDuplicate::Error => DuplicatePolicy::Refuse,
            OnDuplicate::First => DuplicatePolicy::First,
            OnDuplicate::Last => DuplicatePolicy::Last,
            OnDuplicate::Latest => DuplicatePolicy::Latest,
        };
        snapshot::ReadOptions { duplicates }
    }
}

/// Reads every snapshot (`-` is standard input) into one inventory. All problems in all
/// files come back at once, rendered like compiler errors; warnings (a duplicate ARN, an
/// unknown status, a conflicting copy set aside as chosen) go to stderr.
pub fn load_inventory(paths: &[String], read: ReadArgs) -> Result<Inventory> {
    let inventory = snapshot::read_files_with(paths, read.options())?;
    // A warning quotes record text (a data store's name): invisible characters in it are
    // shown by code point, as in the terminal report.
    for w in &inventory.warnings {
        let message = escape(&w.message);
        match &w.source {
            Some(src) => errln!(
                "warning[{}]: {message} ({})",
                w.code,
                escape(&src.to_string())
            ),
            None => errln!("warning[{}]: {message}", w.code),
        }
    }
    Ok(inventory)
}

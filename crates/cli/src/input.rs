//! Reading snapshot files into an [`Inventory`].

use anyhow::Result;
use hlaudit_model::{snapshot, Inventory};

use crate::exit::Rendered;

/// Reads every snapshot (`-` is standard input) into one inventory. All problems in all
/// files come back at once, rendered like compiler errors; warnings (a duplicate ARN, an
/// unknown status) go to stderr.
pub fn load_inventory(paths: &[String]) -> Result<Inventory> {
    let inventory = snapshot::read_files(paths).map_err(|errs| Rendered(errs.render()))?;
    for w in &inventory.warnings {
        match &w.source {
            Some(src) => eprintln!("warning[{}]: {} ({src})", w.code, w.message),
            None => eprintln!("warning[{}]: {}", w.code, w.message),
        }
    }
    Ok(inventory)
}

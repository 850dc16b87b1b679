//! One module per command, each with its own clap `Args` and a `run` function.

pub mod check;
pub mod collect;
pub mod completions;
pub mod diff;
pub mod explain;
pub mod inventory;
pub mod rules;
pub mod rules_docs;
pub mod scan;

//! The crate's error type.

use std::path::PathBuf;

use crate::diagnostics::Diagnostics;

/// What can go wrong in this crate outside of evaluation (which never fails: a pair that
/// cannot be evaluated is an ERROR finding).
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// A policy file or folder could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Policy files have problems (every one of them is in the diagnostics).
    #[error("{} problem(s) in the policy files", .0.len())]
    Invalid(Diagnostics),
    /// A selection pattern is invalid.
    #[error(transparent)]
    Selection(#[from] crate::set::SelectionError),
    /// No policy has this id.
    #[error("no policy has the id `{0}`")]
    UnknownPolicy(String),
}

impl From<Diagnostics> for RulesError {
    fn from(d: Diagnostics) -> Self {
        RulesError::Invalid(d)
    }
}

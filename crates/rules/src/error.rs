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
    /// Policy files have problems (every one of them is in the diagnostics, and in the
    /// message as `file:line:column: error[code]: message` lines).
    #[error("{}", .0.to_string().trim_end())]
    Invalid(Diagnostics),
    /// A selection pattern is invalid.
    #[error(transparent)]
    Selection(#[from] crate::set::SelectionError),
    /// No policy has this id.
    #[error("no policy has the id `{0}`")]
    UnknownPolicy(String),
}

impl RulesError {
    /// One problem at a place in a file, as [`RulesError::Invalid`].
    pub(crate) fn located(d: crate::diagnostics::Diagnostic) -> Self {
        let mut ds = Diagnostics::new();
        ds.push(d);
        RulesError::Invalid(ds)
    }
}

impl From<Diagnostics> for RulesError {
    fn from(d: Diagnostics) -> Self {
        RulesError::Invalid(d)
    }
}

//! Configured overrides of parameter values and severities, with where each was written,
//! and the problems found while applying them.
//!
//! This module knows nothing of policy files: the compiler reads an [`Overrides`] and
//! reports a bad value into it, and [`crate::compile`] collects those reports with the
//! problems of the files.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::diagnostics::Diagnostic;

/// Where a configured override was written, so a bad one is reported there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The configuration file.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
}

/// One configured value (a parameter value or a severity name) and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The value.
    pub value: serde_json::Value,
    /// Where it was written, when it came from a file.
    pub origin: Option<Origin>,
}

impl Override {
    /// A value without a known origin.
    pub fn new(value: serde_json::Value) -> Self {
        Override {
            value,
            origin: None,
        }
    }
}

/// Parameter and severity overrides, applied when the set is compiled (issue: configuration
/// file). Keys are policy ids.
#[derive(Debug, Default)]
pub struct Overrides {
    /// Policy id -> parameter name -> value.
    pub params: BTreeMap<String, BTreeMap<String, Override>>,
    /// Policy id -> severity (a string such as `"critical"`).
    pub severities: BTreeMap<String, Override>,
    problems: Mutex<Vec<Diagnostic>>,
}

impl Clone for Overrides {
    fn clone(&self) -> Self {
        Overrides {
            params: self.params.clone(),
            severities: self.severities.clone(),
            problems: Mutex::new(Vec::new()),
        }
    }
}

impl Overrides {
    /// No overrides.
    pub fn none() -> Self {
        Self::default()
    }

    /// Records a problem with a configured value, at its origin.
    pub(crate) fn report(&self, o: &Override, message: String) {
        let (file, line, column) = match &o.origin {
            Some(x) => (x.file.clone(), x.line, x.column),
            None => (String::new(), 0, 0),
        };
        if let Ok(mut p) = self.problems.lock() {
            p.push(Diagnostic {
                file,
                line,
                column,
                offset: 0,
                len: 0,
                code: "bad-override",
                message,
                hint: None,
            });
        }
    }

    /// The problems recorded so far, leaving none.
    pub(crate) fn take_problems(&self) -> Vec<Diagnostic> {
        self.problems
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }
}

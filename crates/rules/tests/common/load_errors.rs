//! The expected load errors of a data-driven case, shared by the policy and waiver case
//! harnesses.

use hlaudit_rules::Diagnostics;
use serde::Deserialize;

/// One expected load error: its code and position, and optionally words its message and
/// hint contain.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WantError {
    pub code: String,
    pub line: usize,
    pub column: usize,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub hint: Option<String>,
}

/// Asserts that `diags` are exactly `want`, in order (code, line, column), with the
/// message and hint words each gives. `rendered` is shown when they differ.
pub fn assert_load_errors(path: &str, diags: &Diagnostics, want: &[WantError], rendered: &str) {
    let got: Vec<_> = diags
        .items()
        .iter()
        .map(|d| (d.code, d.line, d.column))
        .collect();
    let wanted: Vec<_> = want
        .iter()
        .map(|w| (w.code.as_str(), w.line, w.column))
        .collect();
    assert_eq!(
        got, wanted,
        "{path}: load errors (code, line, column)\n{rendered}"
    );
    for (d, w) in diags.items().iter().zip(want) {
        if let Some(m) = &w.message {
            assert!(
                d.message.contains(m.as_str()),
                "{path}: message {:?} lacks {m:?}",
                d.message
            );
        }
        if let Some(h) = &w.hint {
            let got = d.hint.clone().unwrap_or_default();
            assert!(got.contains(h.as_str()), "{path}: hint {got:?} lacks {h:?}");
        }
    }
}

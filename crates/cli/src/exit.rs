//! Exit codes and the rendering of errors that end a run.
//!
//! A reader that goes away (`hlaudit ... | head`) changes nothing here: `stdio` drops
//! what can no longer be written, so every command still ends with its [`Outcome`], and
//! only an error of the run itself ends it with [`Outcome::Error`].

use std::process::ExitCode;

use crate::stdio::errln;

/// How a run ended, as CI jobs see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: nothing at or above the `--fail-on` threshold.
    Clean,
    /// 1: findings at or above the `--fail-on` threshold.
    Findings,
    /// 2: usage, configuration, input or collection error, or a finding that could not be
    /// evaluated.
    Error,
}

impl Outcome {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Findings => 1,
            Outcome::Error => 2,
        }
    }
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> Self {
        ExitCode::from(o.code())
    }
}

/// An error whose text is already rendered for people (compiler-style diagnostics with
/// file, line, column and a caret); printed as it is, without an `error:` prefix.
#[derive(Debug)]
pub struct Rendered(pub String);

impl std::fmt::Display for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Rendered {}

/// The exit code of a command's result: its outcome, or 2 for an error, which is
/// printed to stderr.
pub fn finish(result: anyhow::Result<Outcome>) -> ExitCode {
    match result {
        Ok(outcome) => outcome.into(),
        Err(err) => {
            report_error(&err);
            Outcome::Error.into()
        }
    }
}

/// Prints an error that ended the run to stderr.
fn report_error(err: &anyhow::Error) {
    if let Some(r) = err.downcast_ref::<Rendered>() {
        let text = r.0.trim_end();
        errln!("{text}");
    } else {
        errln!("error: {err:#}");
    }
}

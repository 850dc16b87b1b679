//! How a run ends: the one gate from a command's result to the process exit code
//! ([`exit_code`]), and the one place where an error that ends a run is rendered.
//!
//! Problems in files the user wrote stay data ([`Problems`]: diagnostics and which files
//! they are about) until they reach [`exit_code`], which renders them once and decides
//! there whether stderr gets colour. Commands never format an error for people
//! themselves.
//!
//! A reader that goes away (`hlaudit ... | head`) changes nothing here: `stdio` drops
//! what can no longer be written, so every command still ends with its [`Outcome`], and
//! only an error of the run itself ends it with [`Outcome::Error`].

use std::fmt;
use std::io::IsTerminal;
use std::process::ExitCode;

use hlaudit_model::snapshot::SnapshotErrors;
use hlaudit_rules::Diagnostics;

use crate::stdio::errln;

/// Text shown after every `--help`: the exit codes CI jobs rely on, as [`exit_code`]
/// decides them.
pub(crate) const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  nothing at or above the --fail-on threshold
  1  findings at or above the --fail-on threshold
  2  usage, configuration, input or collection error, a finding that could not be
     evaluated (never 0 when something could not be read), a selection that leaves no
     policy, fewer data stores than --min-datastores, or a permission that
     collect --check-access found denied or could not check";

/// How a run ended, as CI jobs see it ([`exit_code`] turns it into a number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing at or above the `--fail-on` threshold.
    Clean,
    /// Findings at or above the `--fail-on` threshold.
    Findings,
    /// A usage, configuration, input or collection error, or a finding that could not be
    /// evaluated.
    Error,
}

/// The process exit code of a run, decided here and nowhere else:
///
/// | code | outcome |
/// |---|---|
/// | 0 | [`Outcome::Clean`]: nothing at or above the `--fail-on` threshold |
/// | 1 | [`Outcome::Findings`]: a FAIL finding at or above `--fail-on` remains (WAIVED findings never count; with `--fail-on-new`, only one the baseline did not hold as FAIL) |
/// | 2 | [`Outcome::Error`] or an error that ended the run: usage, configuration, input or collection error, an ERROR finding (whatever `--fail-on` says), a selection that leaves no policy, fewer data stores than `--min-datastores`, or a permission `collect --check-access` found denied or could not check |
///
/// An error is printed to stderr first, rendered once ([`render_error`]). How an audit
/// comes to its [`Outcome`] is `Settings::outcome` (in `config`); the table is also
/// [`EXIT_CODES_HELP`], the README and `docs/reports.md`.
pub fn exit_code(result: anyhow::Result<Outcome>) -> ExitCode {
    let outcome = result.unwrap_or_else(|err| {
        errln!("{}", render_error(&err, stderr_color()).trim_end());
        Outcome::Error
    });
    ExitCode::from(match outcome {
        Outcome::Clean => 0,
        Outcome::Findings => 1,
        Outcome::Error => 2,
    })
}

/// Which files a set of [`Problems`] is about; named in the closing count ("2 problems
/// found in the waiver files").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Files {
    /// Policy files (`--rules` and the built-in pack).
    Policies,
    /// The configuration file (`hlaudit.yaml`).
    Configuration,
    /// Waiver files.
    Waivers,
}

impl Files {
    /// How the closing count names these files.
    fn name(self) -> &'static str {
        match self {
            Files::Policies => "the policy files",
            Files::Configuration => "the configuration file",
            Files::Waivers => "the waiver files",
        }
    }
}

/// Every problem found in files the user wrote, kept as data until [`exit_code`]
/// renders it like a compiler error.
#[derive(Debug)]
pub struct Problems {
    files: Files,
    diagnostics: Diagnostics,
}

impl Problems {
    /// Problems in `files`.
    pub fn new(files: Files, diagnostics: Diagnostics) -> Problems {
        Problems { files, diagnostics }
    }

    /// Problems in policy files.
    pub fn in_policies(diagnostics: Diagnostics) -> Problems {
        Problems::new(Files::Policies, diagnostics)
    }

    fn render(&self, color: bool) -> String {
        self.diagnostics.render_for(color, self.files.name())
    }
}

/// Without colour, as the tests and logs see it.
impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl std::error::Error for Problems {}

/// An error that ended a run, as stderr shows it: problems in files like a compiler
/// error (coloured when `color`), anything else as `error: ...` with its causes.
fn render_error(err: &anyhow::Error, color: bool) -> String {
    if let Some(p) = err.downcast_ref::<Problems>() {
        p.render(color)
    } else if let Some(e) = err.downcast_ref::<SnapshotErrors>() {
        e.render()
    } else {
        format!("error: {err:#}")
    }
}

/// Whether stderr gets colour: when it is a terminal and `NO_COLOR` is not set.
fn stderr_color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hlaudit_rules::Diagnostic;

    fn problem() -> Diagnostics {
        let mut d = Diagnostics::new();
        d.push(Diagnostic {
            file: "hlaudit.yaml".into(),
            line: 1,
            column: 1,
            offset: 0,
            len: 1,
            code: "unknown-key",
            message: "unknown key `fail_onn` in the configuration".into(),
            hint: None,
        });
        d
    }

    #[test]
    fn problems_are_rendered_once_naming_their_files() {
        let err = anyhow::Error::from(Problems::new(Files::Waivers, problem()));
        let text = render_error(&err, false);
        assert!(
            text.ends_with("1 problem found in the waiver files\n"),
            "{text}"
        );
        assert_eq!(text, problem().render_for(false, "the waiver files"));
        // Context added on the way keeps the problems typed.
        let err = err.context("while loading");
        assert_eq!(render_error(&err, false), text);
    }

    #[test]
    fn other_errors_get_a_prefix_and_their_causes() {
        let err = anyhow::anyhow!("cannot read x.json").context("no input");
        assert_eq!(
            render_error(&err, false),
            "error: no input: cannot read x.json"
        );
    }
}

//! The policy options every evaluating command shares (`--rules`, `--no-builtin`,
//! `--only`, `--skip`, `--tag`, `--framework`, `--min-severity`, `--as-of`) and loading the
//! policy set they describe.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args as ClapArgs;
use hlaudit_model::{Severity, Timestamp};
use hlaudit_rules::{
    builtin_sources, compile, read_sources, CompiledPolicySet, Diagnostics, EvalOptions, Overrides,
    PolicySource, Selection,
};

use crate::exit::Rendered;

/// Where policies come from: the built-in pack and `--rules` files or folders.
#[derive(Debug, Clone, Default, ClapArgs)]
pub struct PolicySourceArgs {
    /// A policy file, or a folder of them (every *.yaml / *.yml below it); repeatable. Added
    /// to the built-in pack unless --no-builtin.
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Do not load the built-in pack.
    #[arg(long)]
    pub no_builtin: bool,
}

impl PolicySourceArgs {
    /// The sources: the built-in pack (unless `--no-builtin`), then every `--rules` path.
    pub fn sources(&self) -> Result<Vec<PolicySource>> {
        let mut out = if self.no_builtin {
            Vec::new()
        } else {
            builtin_sources()
        };
        out.extend(read_sources(&self.rules)?);
        if self.no_builtin && self.rules.is_empty() {
            bail!("--no-builtin without --rules leaves no policy to evaluate");
        }
        Ok(out)
    }

    /// Loads and compiles every source, rendering all problems (exit code 2).
    pub fn compile(&self, overrides: &Overrides) -> Result<CompiledPolicySet> {
        let sources = self.sources()?;
        compile(&sources, overrides).map_err(|d| render(&d).into())
    }
}

/// Policy selection and the evaluation time.
#[derive(Debug, Clone, Default, ClapArgs)]
pub struct PolicyArgs {
    #[command(flatten)]
    pub sources: PolicySourceArgs,
    /// Evaluate only these policy ids (globs allowed, e.g. 'HL-MD-*'); repeatable or
    /// comma-separated.
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Do not evaluate these policy ids (globs allowed); repeatable or comma-separated.
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    pub skip: Vec<String>,
    /// Evaluate only policies with one of these tags.
    #[arg(long, value_name = "TAG", value_delimiter = ',')]
    pub tag: Vec<String>,
    /// Evaluate only policies mapped to one of these compliance frameworks (e.g. HIPAA,
    /// NIST-800-53).
    #[arg(long, value_name = "FRAMEWORK", value_delimiter = ',')]
    pub framework: Vec<String>,
    /// Evaluate only policies of at least this severity.
    #[arg(long, value_name = "SEVERITY")]
    pub min_severity: Option<Severity>,
    /// Evaluate as of this time (epoch seconds or ISO 8601, e.g. 2026-01-31T00:00:00Z)
    /// instead of now, so ages and dates are reproducible.
    #[arg(long, value_name = "TIMESTAMP")]
    pub as_of: Option<Timestamp>,
}

impl PolicyArgs {
    /// Loads, compiles and selects the policies (no overrides; the evaluating commands use
    /// [`PolicyArgs::load_with`] with the configuration's overrides).
    #[cfg(test)]
    pub fn load(&self) -> Result<CompiledPolicySet> {
        self.load_with(&Overrides::none())
    }

    /// Loads, compiles (with configured parameter and severity overrides) and selects the
    /// policies. Problems in policy files come back rendered (exit code 2).
    pub fn load_with(&self, overrides: &Overrides) -> Result<CompiledPolicySet> {
        let all = self.sources.compile(overrides)?;
        let sel = self.selection();
        let chosen = all.select(&sel)?;
        let filtered = !(sel.only.is_empty()
            && sel.tags.is_empty()
            && sel.frameworks.is_empty()
            && sel.min_severity.is_none());
        if chosen.is_empty() && filtered && !all.is_empty() {
            bail!(
                "no policy matches the selection (--only, --tag, --framework, --min-severity); \
                 `hlaudit rules list` shows the {} loaded",
                all.len()
            );
        }
        Ok(chosen)
    }

    /// The selection the flags describe.
    pub fn selection(&self) -> Selection {
        Selection {
            only: self.only.clone(),
            skip: self.skip.clone(),
            tags: self.tag.clone(),
            frameworks: self.framework.clone(),
            min_severity: self.min_severity,
        }
    }

    /// The evaluation time: `--as-of`, else now.
    pub fn as_of(&self) -> Timestamp {
        self.as_of.unwrap_or_else(Timestamp::now)
    }

    /// Evaluation options for [`hlaudit_rules::evaluate`].
    pub fn eval_options(&self) -> EvalOptions {
        EvalOptions::at(self.as_of())
    }
}

/// Renders diagnostics for stderr: coloured on a terminal unless `NO_COLOR` is set.
pub fn render(d: &Diagnostics) -> Rendered {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    Rendered(d.render(color))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        p: PolicyArgs,
    }

    #[test]
    fn parses_lists_and_typed_values() {
        let c = Cli::try_parse_from([
            "x",
            "--only",
            "HL-ENC-*,HL-MD-01",
            "--min-severity",
            "high",
            "--as-of",
            "2026-01-31T00:00:00Z",
            "--no-builtin",
            "--rules",
            "a.yaml",
        ])
        .unwrap();
        assert_eq!(c.p.only, ["HL-ENC-*", "HL-MD-01"]);
        assert_eq!(c.p.min_severity, Some(Severity::High));
        assert_eq!(c.p.as_of().to_rfc3339(), "2026-01-31T00:00:00.000Z");
        assert!(c.p.sources.no_builtin);
        assert!(Cli::try_parse_from(["x", "--min-severity", "severe"]).is_err());
    }

    #[test]
    fn no_builtin_needs_rules() {
        let p = PolicyArgs {
            sources: PolicySourceArgs {
                rules: vec![],
                no_builtin: true,
            },
            ..PolicyArgs::default()
        };
        assert!(p.load().is_err());
    }
}

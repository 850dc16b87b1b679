//! The policy options every evaluating command shares (`--rules`, `--no-builtin`,
//! `--only`, `--skip`, `--tag`, `--framework`, `--min-severity`, `--as-of`) and loading the
//! policy set they describe.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args as ClapArgs;
use hlaudit_model::{Severity, Timestamp};
use hlaudit_rules::{
    builtin_sources, compile, read_sources, CompiledPolicySet, EvalOptions, Overrides,
    PolicySource, Selection,
};

use crate::exit::Problems;

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

    /// Loads and compiles every source; all problems come back as [`Problems`] (exit
    /// code 2).
    pub fn compile(&self, overrides: &Overrides) -> Result<CompiledPolicySet> {
        let sources = self.sources()?;
        Ok(compile(&sources, overrides).map_err(Problems::in_policies)?)
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
    /// What a pair about a planned data store (from a template or plan) is when it depends
    /// on a value known only after deploy: `skip` (the default; counted as undecided in
    /// the summary) or `fail`, for a strict gate.
    #[arg(long, value_enum, default_value_t = UnknownArg::Skip, value_name = "WHAT")]
    pub unknown: UnknownArg,
    /// The configuration file the selection lists came from, with the keys it set (`only`,
    /// `skip`, `tags`, `frameworks`, `min_severity`), so an empty selection names them.
    #[arg(skip)]
    pub selected_by_file: Option<(PathBuf, Vec<&'static str>)>,
}

impl PolicyArgs {
    /// Loads, compiles and selects the policies (no overrides; the evaluating commands use
    /// [`PolicyArgs::load_with`] with the configuration's overrides).
    #[cfg(test)]
    pub fn load(&self) -> Result<CompiledPolicySet> {
        self.load_with(&Overrides::none())
    }

    /// Loads, compiles (with configured parameter and severity overrides) and selects the
    /// policies. Problems in policy files come back as [`Problems`] (exit code 2), and a
    /// selection that leaves no policy is an error too, whichever flags or configuration
    /// keys emptied it: a gate that evaluates nothing must not pass.
    pub fn load_with(&self, overrides: &Overrides) -> Result<CompiledPolicySet> {
        let all = self.sources.compile(overrides)?;
        let chosen = all.select(&self.selection())?;
        if !chosen.is_empty() {
            return Ok(chosen);
        }
        if all.is_empty() {
            bail!("no policy to evaluate: the policy files given with --rules hold none");
        }
        bail!(
            "no policy to evaluate: {} {} every one of the {} policies loaded \
             (`hlaudit rules list` shows them)",
            self.selection_flags().join(", "),
            if self.selection_flags().len() == 1 {
                "removes"
            } else {
                "together remove"
            },
            all.len()
        )
    }

    /// The selection flags in effect, as written: `--skip HL-*`, or `skip: [HL-*] in
    /// hlaudit.yaml` for a list the configuration file set.
    fn selection_flags(&self) -> Vec<String> {
        let (file, keys) = match &self.selected_by_file {
            Some((path, keys)) => (path.display().to_string(), keys.as_slice()),
            None => (String::new(), &[][..]),
        };
        let mut out = Vec::new();
        let mut name = |flag: &str, key: &'static str, values: Vec<String>| {
            if values.is_empty() {
                return;
            }
            if keys.contains(&key) {
                out.push(format!("`{key}: [{}]` in {file}", values.join(", ")));
            } else {
                out.push(format!("`{flag} {}`", values.join(",")));
            }
        };
        name("--only", "only", self.only.clone());
        name("--skip", "skip", self.skip.clone());
        name("--tag", "tags", self.tag.clone());
        name("--framework", "frameworks", self.framework.clone());
        name(
            "--min-severity",
            "min_severity",
            self.min_severity.iter().map(|s| s.to_string()).collect(),
        );
        if out.is_empty() {
            out.push("the selection".to_owned());
        }
        out
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
        EvalOptions::at(self.as_of()).unknown_fails(self.unknown == UnknownArg::Fail)
    }
}

/// The values of `--unknown`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum UnknownArg {
    /// SKIP, marked undecided.
    #[default]
    Skip,
    /// FAIL, marked undecided.
    Fail,
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
    fn a_selection_that_leaves_no_policy_is_an_error_naming_its_flags() {
        let err = |p: PolicyArgs| format!("{:#}", p.load().unwrap_err());
        let skip_all = PolicyArgs {
            skip: vec!["HL-*".into()],
            ..PolicyArgs::default()
        };
        let e = err(skip_all.clone());
        assert!(e.contains("`--skip HL-*` removes every one of the"), "{e}");
        let e = err(PolicyArgs {
            only: vec!["HL-ENC-*".into()],
            // The built-in pack has no critical policy.
            min_severity: Some(Severity::Critical),
            ..PolicyArgs::default()
        });
        assert!(
            e.contains("`--only HL-ENC-*`, `--min-severity critical` together remove"),
            "{e}"
        );
        let e = err(PolicyArgs {
            selected_by_file: Some((PathBuf::from("ci/hlaudit.yaml"), vec!["skip"])),
            ..skip_all
        });
        assert!(
            e.contains("`skip: [HL-*]` in ci/hlaudit.yaml removes"),
            "{e}"
        );
        let e = err(PolicyArgs {
            framework: vec!["PCI-DSS".into()],
            ..PolicyArgs::default()
        });
        assert!(e.contains("`--framework PCI-DSS` removes"), "{e}");
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

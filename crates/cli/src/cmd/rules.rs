//! `hlaudit rules list | validate | test | docs`: work with policy files.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Args as ClapArgs, Subcommand, ValueEnum};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use hlaudit_model::{snapshot, Record, Severity, Timestamp};
use hlaudit_rules::{compile, read_sources, run_tests, CompiledPolicySet, Overrides, TestReport};
use serde::Serialize;

use crate::cmd::rules_docs;
use crate::exit::{Outcome, Problems};
use crate::policy_args::PolicySourceArgs;
use crate::stdio::outln;

/// Work with policy files: list, validate, test, document.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    pub command: RulesCommand,
}

/// The `rules` subcommands.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the policies (built-in pack and --rules) as a table or JSON.
    List(ListArgs),
    /// Check policy files strictly and report every problem (exit code 2 on any).
    Validate(ValidateArgs),
    /// Run the policies' inline tests and fixture cases, with per-policy coverage.
    Test(TestArgs),
    /// Write the policy reference (docs/rules.md) from the policies themselves.
    Docs(rules_docs::Args),
}

/// Output format of `rules list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table for people.
    Table,
    /// JSON: every policy's metadata and parameters.
    Json,
}

/// List the policies.
#[derive(Debug, ClapArgs)]
#[command(after_help = "Examples:\n  \
    hlaudit rules list\n  \
    hlaudit rules list --framework HIPAA --severity high,critical\n  \
    hlaudit rules list --rules my-policies/ --format json")]
pub struct ListArgs {
    #[command(flatten)]
    pub sources: PolicySourceArgs,
    /// Only policies with one of these tags.
    #[arg(long, value_delimiter = ',')]
    pub tag: Vec<String>,
    /// Only policies of one of these severities.
    #[arg(long, value_delimiter = ',')]
    pub severity: Vec<Severity>,
    /// Only policies mapped to one of these frameworks.
    #[arg(long, value_delimiter = ',')]
    pub framework: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// Validate policy files.
#[derive(Debug, ClapArgs)]
#[command(after_help = "Examples:\n  \
    hlaudit rules validate rules/\n  \
    hlaudit rules validate my-policies/encryption.yaml my-policies/auth.yaml")]
pub struct ValidateArgs {
    /// Policy files or folders.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// Test policy files.
#[derive(Debug, ClapArgs)]
#[command(
    after_help = "Fixture cases: CASES/<POLICY-ID>/<status>[-anything].json holds data stores that \
    must all end with <status> (pass, fail, skip or error).\n\n\
    Examples:\n  \
    hlaudit rules test rules/\n  \
    hlaudit rules test rules/ --cases fixtures/policies --require-coverage --junit rules-junit.xml"
)]
pub struct TestArgs {
    /// Policy files or folders.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// A folder of fixture cases, one subfolder per policy id.
    #[arg(long, value_name = "DIR")]
    pub cases: Option<PathBuf>,
    /// Evaluation time of fixture cases (inline tests carry their own); default
    /// 2026-01-01T00:00:00Z, as for inline tests, so results do not depend on the day.
    #[arg(long, value_name = "TIMESTAMP")]
    pub as_of: Option<Timestamp>,
    /// Fail unless every policy has at least one passing and one failing case (and, with
    /// --cases, a policy that applies before deploy a passing and a failing template or
    /// plan case too).
    #[arg(long)]
    pub require_coverage: bool,
    /// The account template and plan cases deploy to (their `@account`).
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// The region template and plan cases deploy to (their `@region`).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Also write the results as JUnit XML.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Runs `rules`.
pub fn run(args: &Args) -> Result<Outcome> {
    match &args.command {
        RulesCommand::List(a) => list(a),
        RulesCommand::Validate(a) => validate(a),
        RulesCommand::Test(a) => test(a),
        RulesCommand::Docs(a) => rules_docs::run(a),
    }
}

#[derive(Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    meta: &'a hlaudit_model::report::PolicyMeta,
    parameters: Vec<ListedParam<'a>>,
}

#[derive(Serialize)]
struct ListedParam<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    ty: &'static str,
    default: &'a serde_json::Value,
    value: &'a serde_json::Value,
    description: &'a str,
}

fn list(a: &ListArgs) -> Result<Outcome> {
    let set = a.sources.compile(&Overrides::none())?;
    let lower = |v: &[String]| v.iter().map(|s| s.to_lowercase()).collect::<Vec<_>>();
    let (tags, fws) = (lower(&a.tag), lower(&a.framework));
    let chosen: Vec<_> = set
        .policies()
        .filter(|p| {
            let m = &p.meta;
            (tags.is_empty() || m.tags.iter().any(|t| tags.contains(&t.to_lowercase())))
                && (a.severity.is_empty() || a.severity.contains(&m.severity))
                && (fws.is_empty() || m.compliance.keys().any(|f| fws.contains(&f.to_lowercase())))
        })
        .collect();
    match a.format {
        ListFormat::Json => {
            let listed: Vec<Listed<'_>> = chosen
                .iter()
                .map(|p| Listed {
                    meta: &p.meta,
                    parameters: p
                        .parameters
                        .iter()
                        .map(|x| ListedParam {
                            name: &x.name,
                            ty: x.ty.name(),
                            default: &x.default,
                            value: &x.value,
                            description: &x.description,
                        })
                        .collect(),
                })
                .collect();
            outln!("{}", serde_json::to_string_pretty(&listed)?)?;
        }
        ListFormat::Table => {
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED);
            t.set_header(["ID", "SEVERITY", "TITLE", "COMPLIANCE", "TAGS"]);
            for p in &chosen {
                let m = &p.meta;
                let comp: Vec<String> = m
                    .compliance
                    .iter()
                    .map(|(f, ids)| format!("{f}: {}", ids.join(", ")))
                    .collect();
                t.add_row([
                    m.id.clone(),
                    m.severity.to_string(),
                    m.title.clone(),
                    comp.join("\n"),
                    m.tags.join(", "),
                ]);
            }
            outln!("{t}")?;
            outln!("{} of {} policies", chosen.len(), set.len())?;
        }
    }
    Ok(Outcome::Clean)
}

fn compile_paths(paths: &[PathBuf]) -> Result<CompiledPolicySet> {
    let sources = read_sources(paths)?;
    Ok(compile(&sources, &Overrides::none()).map_err(Problems::in_policies)?)
}

fn validate(a: &ValidateArgs) -> Result<Outcome> {
    let sources = read_sources(&a.paths)?;
    let set = compile(&sources, &Overrides::none()).map_err(Problems::in_policies)?;
    let tests: usize = set.policies().map(|p| p.tests.len()).sum();
    outln!(
        "{} policies and {tests} inline tests in {} files: no problems",
        set.len(),
        sources.len()
    )?;
    Ok(Outcome::Clean)
}

/// Reads a fixture case: a template or plan (recognised by content) as planned data
/// stores deployed to `ctx`, anything else as a snapshot.
fn read_fixture(path: &Path, ctx: &hlaudit_model::Context) -> Result<Vec<Record>, String> {
    let name = path.display().to_string();
    match hlaudit_iac::recognise(path) {
        Ok(Some(kind)) => {
            let opts = hlaudit_iac::Options {
                context: ctx.clone(),
                parameters: Default::default(),
            };
            hlaudit_iac::read_path(path, &name, kind, &opts)
                .map(|r| r.records)
                .map_err(|e| e.to_string())
        }
        _ => snapshot::read_files(std::slice::from_ref(&name))
            .map(|inv| inv.records)
            .map_err(|e| e.render()),
    }
}

fn test(a: &TestArgs) -> Result<Outcome> {
    let set = compile_paths(&a.paths)?;
    let as_of = a.as_of.unwrap_or_else(hlaudit_rules::default_test_time);
    let ctx = hlaudit_model::Context {
        account: a.account.clone(),
        region: a.region.clone(),
        partition: a
            .region
            .as_deref()
            .map(crate::input::partition_of)
            .map(str::to_owned),
    };
    let read = |p: &Path| read_fixture(p, &ctx);
    let report = run_tests(&set, &read, a.cases.as_deref(), as_of);
    print_results(&report)?;
    if let Some(path) = &a.junit {
        let xml = junit(&report)?;
        crate::output::write_atomically(path, xml.as_bytes())?;
    }
    let uncovered: Vec<&String> = report
        .coverage
        .iter()
        .filter(|(_, c)| !c.complete())
        .map(|(id, _)| id)
        .collect();
    let failed = report.results.iter().filter(|r| !r.passed()).count();
    let coverage_failed = a.require_coverage && !uncovered.is_empty();
    outln!(
        "{} tests, {} passed, {failed} failed; {} of {} policies have a passing and a failing case",
        report.results.len(),
        report.results.len() - failed,
        report.coverage.len() - uncovered.len(),
        report.coverage.len()
    )?;
    if coverage_failed {
        outln!(
            "without full coverage: {}",
            uncovered
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    Ok(if failed > 0 || coverage_failed {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

fn print_results(report: &TestReport) -> std::io::Result<()> {
    for r in &report.results {
        let mark = if r.passed() { "ok  " } else { "FAIL" };
        outln!("{mark} {} :: {} ({})", r.policy, r.name, r.location)?;
        if !r.passed() {
            for line in r.detail.lines() {
                outln!("       {line}")?;
            }
        }
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "POLICY",
        "PASS CASE",
        "FAIL CASE",
        "SKIP CASE",
        "PLANNED PASS",
        "PLANNED FAIL",
    ]);
    let yes = |b: bool| if b { "yes" } else { "no" };
    // A policy that does not apply before deploy needs no planned case.
    let planned = |need: bool, b: bool| if need { yes(b) } else { "-" };
    for (id, c) in &report.coverage {
        t.add_row([
            id.as_str(),
            yes(c.pass),
            yes(c.fail),
            yes(c.skip),
            planned(c.needs_planned, c.planned_pass),
            planned(c.needs_planned, c.planned_fail),
        ]);
    }
    outln!("{t}")
}

fn junit(report: &TestReport) -> Result<String> {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut suites: std::collections::BTreeMap<&str, TestSuite> = std::collections::BTreeMap::new();
    for r in &report.results {
        let suite = suites
            .entry(r.policy.as_str())
            .or_insert_with(|| TestSuite::new(r.policy.clone()));
        let status = if r.passed() {
            TestCaseStatus::success()
        } else {
            let mut s = TestCaseStatus::non_success(if r.actual.is_none() {
                NonSuccessKind::Error
            } else {
                NonSuccessKind::Failure
            });
            s.set_message(match r.actual {
                Some(got) => format!("expected {}, got {got}", r.expected),
                None => format!("expected {}, the input could not be read", r.expected),
            });
            s.set_description(r.detail.clone());
            s
        };
        let mut tc = TestCase::new(r.name.clone(), status);
        tc.set_classname(r.location.clone());
        suite.add_test_case(tc);
    }
    let mut rep = Report::new("hlaudit rules test");
    rep.add_test_suites(suites.into_values());
    Ok(rep.to_string()?)
}

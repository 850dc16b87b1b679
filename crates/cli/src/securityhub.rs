//! `--securityhub`: imports a run's findings into AWS Security Hub (the ASFF report's
//! findings) and resolves the ones hlaudit imported before that the run shows fixed.
//! What happened is said on stderr; anything not imported makes the run exit 2.

use std::collections::HashSet;

use anyhow::{Context, Result};
use clap::Args;
use hlaudit_collector::RetrySettings;
use hlaudit_model::finding::Status;
use hlaudit_model::invisible::escape;
use hlaudit_model::report::Report;
use hlaudit_report::asff::{self, AsffOptions};
use hlaudit_securityhub::{MissingScope, Outcome, Scope, SendSettings};

use crate::stdio::errln;

/// Where findings go besides the reports.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Security Hub")]
pub struct SecurityHubArgs {
    /// Import the findings into AWS Security Hub (BatchImportFindings), each into its own
    /// account and region with that account's credentials, and resolve the findings
    /// hlaudit imported earlier that this run shows fixed. Anything not imported exits 2.
    #[arg(long)]
    pub securityhub: bool,

    /// Send every finding to this region of its account (the region that aggregates
    /// Security Hub findings) instead of its data store's region.
    #[arg(long, value_name = "REGION", requires = "securityhub")]
    pub securityhub_region: Option<String>,

    /// With --securityhub: print what would be imported and resolved, import nothing.
    #[arg(long, requires = "securityhub")]
    pub dry_run: bool,
}

/// Who sends, and what the run saw: the credential sets and whether the inventory is a
/// complete, unfiltered listing of the places it covers.
pub struct Sender<'a> {
    /// The profiles (empty: the default chain).
    pub profiles: &'a [String],
    /// The SDK's retries.
    pub retry: RetrySettings,
    /// With `--org`/`--accounts`: the collection's configuration, whose role is assumed
    /// in each selected account again to import that account's findings with its own
    /// credentials (instead of `profiles`).
    pub accounts: Option<&'a hlaudit_collector::CollectConfig>,
    /// Whether every (account, region) the inventory covers was listed completely and
    /// without filters, so a data store missing from it is gone (a live collection
    /// without filters). Offline inputs say nothing about what they leave out.
    pub listed_completely: bool,
}

/// Sends the report's findings when `--securityhub` is given; `Ok(true)` when
/// everything reached Security Hub (or nothing was asked).
pub fn send(
    report: &Report,
    args: &SecurityHubArgs,
    asff_options: &AsffOptions,
    sender: &Sender<'_>,
) -> Result<bool> {
    if !args.securityhub {
        return Ok(true);
    }
    if let Some(region) = &args.securityhub_region {
        hlaudit_collector::validate_region(region, "--securityhub-region")?;
    }
    let options = AsffOptions {
        include_passed: true,
        ..asff_options.clone()
    };
    let findings =
        asff::findings(report, &options).context("could not build the Security Hub findings")?;
    let scope = scope(report, sender.listed_completely);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the runtime for Security Hub requests")?;
    let (accounts, unreachable) = match sender.accounts {
        Some(config) => {
            let (accounts, errors) = runtime
                .block_on(hlaudit_collector::account_credentials(config))
                .context("could not assume the role in the accounts to send findings to")?;
            let unreachable = errors
                .into_iter()
                .map(|e| (e.account.unwrap_or_default(), e.code, e.message))
                .collect();
            (Some(accounts), unreachable)
        }
        None => (None, Vec::new()),
    };
    let settings = SendSettings {
        profiles: sender.profiles.to_vec(),
        accounts,
        unreachable,
        aggregation_region: args.securityhub_region.clone(),
        retry: sender.retry.clone(),
        dry_run: args.dry_run,
        import_passed: asff_options.include_passed,
        now: options.now.to_rfc3339(),
    };
    let outcome = runtime.block_on(hlaudit_securityhub::send(findings, scope, settings))?;
    say(&outcome);
    Ok(outcome.is_complete())
}

/// What the report says about pairs Security Hub may hold open.
fn scope(report: &Report, listed_completely: bool) -> Scope {
    let mut scope = Scope::default();
    let mut known = HashSet::new();
    for f in &report.findings {
        let id = report.fingerprint_of(f);
        match f.status {
            Status::Pass => {
                scope.passed.insert(id.clone());
            }
            Status::Skip => {
                scope.skipped.insert(id.clone());
            }
            _ => {}
        }
        if listed_completely {
            known.insert(id);
        }
    }
    for r in &report.resources {
        if let (Some(a), Some(r)) = (&r.account, &r.region) {
            scope.places.insert((a.clone(), r.clone()));
        }
    }
    // A region with a collection error was not seen whole; one error without an account
    // or region could be anywhere, so nothing counts as listed.
    let unscoped = report
        .errors
        .iter()
        .any(|e| e.account.is_none() || e.region.is_none());
    if listed_completely && !unscoped {
        let failed: HashSet<(&str, &str)> = report
            .errors
            .iter()
            .filter_map(|e| Some((e.account.as_deref()?, e.region.as_deref()?)))
            .collect();
        let mut listed = HashSet::new();
        for a in &report.coverage.accounts {
            for r in &report.coverage.regions {
                if !failed.contains(&(a.as_str(), r.as_str())) {
                    listed.insert((a.clone(), r.clone()));
                }
            }
        }
        scope.places.extend(listed.iter().cloned());
        scope.missing = Some(MissingScope {
            known,
            listed,
            policies: report.policies.iter().map(|p| p.id.clone()).collect(),
        });
    }
    scope
}

/// Says on stderr what was (or would be) imported and resolved, and every rejected
/// finding and failed call.
fn say(outcome: &Outcome) {
    let verb = if outcome.dry_run {
        "would import"
    } else {
        "imported"
    };
    let targets = outcome
        .targets
        .iter()
        .filter(|t| !t.imports.is_empty() || !t.resolved.is_empty())
        .count();
    errln!(
        "Security Hub{}: {verb} {} finding(s) and {} {} resolved, in {targets} account-region(s)",
        if outcome.dry_run { " (dry run)" } else { "" },
        outcome.imported(),
        outcome.resolved(),
        if outcome.dry_run { "would be" } else { "were" },
    );
    for t in &outcome.targets {
        if outcome.dry_run && (!t.imports.is_empty() || !t.resolved.is_empty()) {
            errln!(
                "  {} {}: import {}, resolve {}",
                t.target.account,
                t.target.region,
                t.imports.len(),
                t.resolved.len()
            );
            for i in &t.imports {
                errln!(
                    "    import   {} {} {}/{} {}",
                    i.id,
                    escape(&i.generator_id),
                    i.compliance,
                    i.workflow,
                    escape(&i.resource)
                );
            }
            for r in &t.resolved {
                errln!(
                    "    resolve  {} {} ({})",
                    r.id,
                    escape(&r.generator_id),
                    r.resolution.as_str()
                );
            }
        }
        for f in &t.failures {
            errln!(
                "error[securityhub]: {}: {} failed: {}: {}",
                t.target,
                f.operation,
                f.code,
                escape(&f.message)
            );
        }
        for r in &t.rejected {
            errln!(
                "error[securityhub]: {}: finding {} not imported: {}: {}",
                t.target,
                r.id,
                escape(&r.code),
                escape(&r.message)
            );
        }
    }
    for f in &outcome.failures {
        errln!(
            "error[securityhub]: {} failed: {}: {}",
            f.operation,
            f.code,
            escape(&f.message)
        );
    }
}

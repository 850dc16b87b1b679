//! hlaudit's AWS Security Hub integration: imports a run's findings (the ASFF that
//! `hlaudit_report::asff` builds) with `BatchImportFindings`, and resolves the findings
//! hlaudit imported before that the run shows fixed.
//!
//! The design decisions:
//!
//! - **Each finding goes to its own account, with that account's credentials.** Every
//!   credential set given (the same profiles as collection, else the default chain) is
//!   identified with STS `GetCallerIdentity`; a finding of an account no set speaks for
//!   is rejected and named, never imported with another account's credentials (Security
//!   Hub's default product ARN lets an account import findings about itself only).
//! - **Nothing is dropped silently.** A finding Security Hub lists in `FailedFindings`,
//!   a request that fails after the SDK's retries, a region where Security Hub is not
//!   enabled: each is in the [`Outcome`], and [`Outcome::is_complete`] is false.
//! - **Resolving never guesses.** A finding hlaudit left open is resolved (compliance
//!   PASSED, record ARCHIVED) when this run evaluated the same pair as PASS or SKIP, or,
//!   only where the caller vouches that the region was listed completely and without
//!   filters ([`plan::MissingScope`]), when its data store is gone. An offline check of
//!   a snapshot resolves no finding of a data store it does not hold.
//! - **The `Id` is the finding's fingerprint**, so importing again updates the finding
//!   instead of adding a duplicate.
//!
//! Like the collector, this crate knows nothing of the command line or of terminals: the
//! caller prints the [`Outcome`].

#![forbid(unsafe_code)]

mod convert;
mod hub;
pub mod plan;

use hlaudit_collector::RetrySettings;
use hlaudit_report::asff::AsffFinding;
pub use hlaudit_report::asff::PRODUCT_NAME;

use hlaudit_collector::AccountCredentials;
pub use plan::{MissingScope, Resolution, Scope, Target};

/// How to send.
#[derive(Debug, Clone)]
pub struct SendSettings {
    /// The AWS profiles whose credentials import findings (one per account); empty for
    /// the default credential chain.
    pub profiles: Vec<String>,
    /// With `--org`/`--accounts`: the credentials assumed in each selected account, used
    /// instead of `profiles`; accounts whose role could not be assumed are listed in
    /// `unreachable` and their findings rejected with that cause.
    pub accounts: Option<Vec<AccountCredentials>>,
    /// Accounts of the selection whose role could not be assumed: (account, code, cause).
    pub unreachable: Vec<(String, String, String)>,
    /// Send every finding to this region of its account (a Security Hub aggregation
    /// region) instead of the region of its data store.
    pub aggregation_region: Option<String>,
    /// The SDK's retries (throttling, 5xx answers).
    pub retry: RetrySettings,
    /// Decide and report what would be imported and resolved, without importing.
    pub dry_run: bool,
    /// Import PASS findings as well (not only to resolve what they fix).
    pub import_passed: bool,
    /// RFC 3339: when resolved findings are updated.
    pub now: String,
}

/// What went wrong before anything could be sent.
#[derive(Debug, thiserror::Error)]
pub enum SecurityHubError {
    /// A finding has no region to send it to.
    #[error(
        "findings of account {account} have no region to send them to; name one with \
         --securityhub-region REGION"
    )]
    NoRegion {
        /// The account.
        account: String,
    },
}

/// A finding imported (or, in a dry run, to be imported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// Its `Id`.
    pub id: String,
    /// The policy id.
    pub generator_id: String,
    /// `Compliance.Status`: FAILED, NOT_AVAILABLE, PASSED.
    pub compliance: String,
    /// `Workflow.Status`: NEW, SUPPRESSED, RESOLVED.
    pub workflow: String,
    /// The data store (`Resources[0].Id`).
    pub resource: String,
}

impl Import {
    fn of(f: &AsffFinding) -> Import {
        Import {
            id: f.id.clone(),
            generator_id: f.generator_id.clone(),
            compliance: f
                .compliance
                .as_ref()
                .map(|c| c.status.clone())
                .unwrap_or_default(),
            workflow: f
                .workflow
                .as_ref()
                .map(|w| w.status.clone())
                .unwrap_or_default(),
            resource: f
                .resources
                .first()
                .map(|r| r.id.clone())
                .unwrap_or_default(),
        }
    }
}

/// A finding open in Security Hub that the run resolves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Its `Id`.
    pub id: String,
    /// The policy id.
    pub generator_id: String,
    /// Why.
    pub resolution: Resolution,
}

/// A finding Security Hub did not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Its `Id`.
    pub id: String,
    /// Security Hub's error code, or hlaudit's (`no-credentials`).
    pub code: String,
    /// Why.
    pub message: String,
}

/// A call that failed after retries (or could not be made).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Where, when the call was for one target.
    pub target: Option<Target>,
    /// The operation, e.g. `DescribeHub`.
    pub operation: &'static str,
    /// A stable code, e.g. `securityhub-not-enabled`, `AccessDeniedException`.
    pub code: String,
    /// The cause and the fix.
    pub message: String,
}

/// What happened in one account and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetOutcome {
    /// The account and region.
    pub target: Target,
    /// The run's findings for it.
    pub imports: Vec<Import>,
    /// Findings hlaudit left open there that this run resolves.
    pub resolved: Vec<Resolved>,
    /// Findings Security Hub did not take.
    pub rejected: Vec<Rejected>,
    /// Calls that failed.
    pub failures: Vec<Failure>,
}

impl TargetOutcome {
    fn reject_all(&mut self, code: &str, message: &str) {
        self.rejected.extend(self.imports.iter().map(|i| Rejected {
            id: i.id.clone(),
            code: code.to_owned(),
            message: message.to_owned(),
        }));
    }
}

/// What a send did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Per account and region, sorted.
    pub targets: Vec<TargetOutcome>,
    /// Failures not tied to one target (a credential set STS could not identify).
    pub failures: Vec<Failure>,
    /// Whether nothing was imported (a dry run).
    pub dry_run: bool,
}

impl Outcome {
    /// Whether every finding reached Security Hub and every call succeeded.
    pub fn is_complete(&self) -> bool {
        self.failures.is_empty()
            && self
                .targets
                .iter()
                .all(|t| t.rejected.is_empty() && t.failures.is_empty())
    }

    /// Findings imported (or to be imported), in all targets.
    pub fn imported(&self) -> usize {
        self.targets
            .iter()
            .map(|t| t.imports.len())
            .sum::<usize>()
            .saturating_sub(self.rejected())
    }

    /// Findings resolved (or to be resolved).
    pub fn resolved(&self) -> usize {
        self.targets.iter().map(|t| t.resolved.len()).sum()
    }

    /// Findings Security Hub did not take.
    pub fn rejected(&self) -> usize {
        self.targets.iter().map(|t| t.rejected.len()).sum()
    }
}

/// Imports `findings` (every finding of the run, PASS included: they resolve what they
/// fix) into Security Hub and resolves what `scope` shows fixed. Needs a tokio runtime.
pub async fn send(
    findings: Vec<AsffFinding>,
    scope: Scope,
    settings: SendSettings,
) -> Result<Outcome, SecurityHubError> {
    let dry_run = settings.dry_run;
    let (targets, failures) = hub::send(findings, scope, settings).await?;
    Ok(Outcome {
        targets,
        failures,
        dry_run,
    })
}

//! An [`Inventory`]: the records plus what the collection covered and what went wrong.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::record::{Record, Source};
use crate::timestamp::Timestamp;

/// Everything one audit looks at.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// The data stores, in the order read (readers drop duplicates by ARN).
    pub records: Vec<Record>,
    /// What the collection or the snapshots covered.
    pub coverage: Coverage,
    /// Every part that could not be collected or read. Never empty when something was
    /// missed: each becomes an ERROR finding.
    pub errors: Vec<CollectionError>,
    /// Things the user should know that did not stop the audit (a duplicate ARN, an
    /// unknown status value).
    pub warnings: Vec<Warning>,
}

/// What a collection or a set of snapshot files covered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    /// Account ids covered (sorted, unique).
    #[serde(default)]
    pub accounts: Vec<String>,
    /// Regions covered (sorted, unique).
    #[serde(default)]
    pub regions: Vec<String>,
    /// When the data was collected, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected_at: Option<Timestamp>,
    /// The hlaudit version that collected it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_version: Option<String>,
    /// The input files read (as the user named them), empty for a live collection.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
    /// Each (account, region) a live collection attempted and what came of it, sorted;
    /// empty for inputs that do not say (the AWS CLI's output, older snapshots).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<ScopeCoverage>,
}

/// What a collection read of one account in one region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeCoverage {
    /// The account id.
    pub account: String,
    /// The region.
    pub region: String,
    /// Whether it was read.
    pub state: ScopeState,
    /// Data stores listed.
    pub datastores: usize,
    /// Collection errors in it (a listing, a role, tags or a key that could not be
    /// read).
    pub errors: usize,
}

/// How far an (account, region) was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeState {
    /// Listed whole, with everything beside the listing.
    Read,
    /// Listed whole, but something of some data store (tags, a KMS key) could not be
    /// read.
    Partial,
    /// Not listed, or not completely: the role could not be assumed, or the listing
    /// failed.
    Failed,
}

impl ScopeState {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeState::Read => "read",
            ScopeState::Partial => "partial",
            ScopeState::Failed => "failed",
        }
    }
}

/// Counts of accounts and regions by how far they were read, for coverage tables.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverageCounts {
    /// Accounts attempted.
    pub accounts: usize,
    /// Accounts with every region read (partial counts as read).
    pub accounts_read: usize,
    /// Accounts with at least one region failed.
    pub accounts_failed: usize,
    /// (account, region) pairs attempted.
    pub scopes: usize,
    /// Pairs read (partial included).
    pub scopes_read: usize,
    /// Pairs failed.
    pub scopes_failed: usize,
}

impl Coverage {
    /// The counts of [`Coverage::scopes`]; `None` when no scope is known.
    pub fn counts(&self) -> Option<CoverageCounts> {
        if self.scopes.is_empty() {
            return None;
        }
        let mut failed_accounts = std::collections::BTreeSet::new();
        let mut accounts = std::collections::BTreeSet::new();
        let mut c = CoverageCounts::default();
        for s in &self.scopes {
            accounts.insert(s.account.as_str());
            c.scopes += 1;
            if s.state == ScopeState::Failed {
                c.scopes_failed += 1;
                failed_accounts.insert(s.account.as_str());
            } else {
                c.scopes_read += 1;
            }
        }
        c.accounts = accounts.len();
        c.accounts_failed = failed_accounts.len();
        c.accounts_read = c.accounts - c.accounts_failed;
        Some(c)
    }
}

/// A part of a collection that failed after retries, or an input that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionError {
    /// The account, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The region, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The operation or step, e.g. `ListFHIRDatastores`, `ListTagsForResource`, `read`.
    pub operation: String,
    /// The resource the operation was about, e.g. a data store ARN, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// A stable code, e.g. `AccessDeniedException`, `ThrottlingException`,
    /// `pagination-loop`, `io`.
    pub code: String,
    /// What happened, for people.
    pub message: String,
}

/// Something worth telling the user that did not stop the audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Warning {
    /// A stable kebab-case code, e.g. `duplicate-arn`, `unknown-status`.
    pub code: String,
    /// What happened, for people.
    pub message: String,
    /// Where, when it is about a place in an input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

impl Inventory {
    /// Recomputes `coverage.accounts` and `coverage.regions` from the records and errors,
    /// keeping any already listed (a collection covers regions with no data stores too).
    pub fn refresh_coverage(&mut self) {
        // Each distinct value is copied once: a million records name a few accounts.
        let mut accounts: BTreeSet<String> = std::mem::take(&mut self.coverage.accounts)
            .into_iter()
            .collect();
        let mut regions: BTreeSet<String> = std::mem::take(&mut self.coverage.regions)
            .into_iter()
            .collect();
        let add = |set: &mut BTreeSet<String>, value: Option<&str>| {
            if let Some(v) = value.filter(|v| !set.contains(*v)) {
                set.insert(v.to_owned());
            }
        };
        for r in &self.records {
            add(&mut accounts, r.account());
            add(&mut regions, r.region());
        }
        for e in &self.errors {
            add(&mut accounts, e.account.as_deref());
            add(&mut regions, e.region.as_deref());
        }
        accounts.remove("");
        regions.remove("");
        self.coverage.accounts = accounts.into_iter().collect();
        self.coverage.regions = regions.into_iter().collect();
        // Two inputs may cover one (account, region): the worse reading counts.
        let scopes = &mut self.coverage.scopes;
        scopes.sort_by(|a, b| {
            (&a.account, &a.region, std::cmp::Reverse(a.state)).cmp(&(
                &b.account,
                &b.region,
                std::cmp::Reverse(b.state),
            ))
        });
        scopes.dedup_by(|later, first| {
            later.account == first.account && later.region == first.region
        });
    }

    /// Whether everything that should have been seen was seen.
    pub fn is_complete(&self) -> bool {
        self.errors.is_empty()
    }
}

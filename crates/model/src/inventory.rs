//! An [`Inventory`]: the records plus what the collection covered and what went wrong.

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
        let mut accounts = std::mem::take(&mut self.coverage.accounts);
        let mut regions = std::mem::take(&mut self.coverage.regions);
        for r in &self.records {
            accounts.extend(r.account().map(str::to_owned));
            regions.extend(r.region().map(str::to_owned));
        }
        for e in &self.errors {
            accounts.extend(e.account.clone());
            regions.extend(e.region.clone());
        }
        accounts.retain(|a| !a.is_empty());
        regions.retain(|r| !r.is_empty());
        accounts.sort();
        accounts.dedup();
        regions.sort();
        regions.dedup();
        self.coverage.accounts = accounts;
        self.coverage.regions = regions;
    }

    /// Whether everything that should have been seen was seen.
    pub fn is_complete(&self) -> bool {
        self.errors.is_empty()
    }
}

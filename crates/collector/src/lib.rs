//! hlaudit collector: lists every HealthLake FHIR data store across regions and
//! accounts through the AWS SDK, and returns an [`hlaudit_model::Inventory`].
//!
//! The main design decision: a record is the service's own JSON. The SDK's typed
//! structs drop fields their model does not know, so the collector keeps the body of
//! each `ListFHIRDatastores` response (an interceptor copies it once the SDK has read
//! it) and builds each record from its exact `DatastoreProperties` text; the typed
//! output only supplies the `NextToken`. A field AWS adds tomorrow reaches the
//! snapshot untouched. The KMS key state is kept the same way (`DescribeKey`'s
//! `KeyMetadata` as sent). What the collector *derives* rather than copies is said as
//! such: which CloudTrail trails record each data store's data events (the
//! [`DATA_EVENTS_ENRICHMENT`]) is hlaudit's evaluation of the trails' advanced event
//! selectors against the data store's ARN, done in the collector because it needs the
//! selectors, which a snapshot does not keep.
//!
//! The second decision: errors are data. Once requests go out, nothing fails the
//! collection as a whole; every region, page or call that still fails after its
//! retries becomes a [`hlaudit_model::CollectionError`] (account, region, operation,
//! code, message) in the inventory, which the check turns into an ERROR finding.
//!
//! Credentials, regions and endpoints come from `aws-config` (environment, profiles,
//! SSO, web identity, container and instance metadata, `AWS_ENDPOINT_URL_HEALTHLAKE`).
//! Requests in flight are bounded ([`CollectConfig::concurrency`]), and a repeating
//! `NextToken` stops its region with a `pagination-loop` error.
//!
//! The third decision: retrying is ours, not the SDK's. Every call is an idempotent
//! read, retried through throttling, 5xx answers and malformed or truncated bodies
//! until a time budget per call ([`RetrySettings::budget`]) rather than a small attempt
//! count, and paced by a client-side rate limit per account, region and service that
//! adapts to throttling; errors that would repeat fail at once. The `retry` module
//! says why the SDK's own strategy (and its retry quota) is turned off.
//!
//! This crate is the only async one; it knows nothing of the command line, of rules or
//! of terminals ([`Progress`] lets the caller draw).

#![forbid(unsafe_code)]

mod access;
mod capture;
mod collect;
mod config;
mod enrich;
mod error;
mod failure;
mod jobs;
mod limiter;
mod listing;
mod org;
mod profiles;
mod progress;
mod regions;
mod related;
mod retry;
mod sdk;
mod selectors;
pub mod session;
mod trails;

pub use access::{check_access, AccessCheck, AccessResult, Permission, PROBE_PAGE_SIZE};
pub use collect::{account_credentials, collect, AccountCredentials};
pub use config::{
    CollectConfig, Filters, JobSelection, RegionSelection, RetryMode, RetrySettings,
    DEFAULT_CONCURRENCY, DEFAULT_INITIAL_BACKOFF, DEFAULT_JOBS_SINCE, DEFAULT_RETRY_BUDGET,
    MAX_PAGE_SIZE,
};
pub use enrich::KMS_KEY_ENRICHMENT;
pub use error::CollectorError;
pub use org::{AccountSelection, RoleSettings, RoleTemplate, DEFAULT_SESSION_NAME};
pub use progress::{NoProgress, Progress};
pub use regions::{
    healthlake_regions, parse_region_list, validate_region, HEALTHLAKE_REGIONS, REGIONS_ENV,
};
pub use trails::DATA_EVENTS_ENRICHMENT;

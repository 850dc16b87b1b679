//! What to collect and how: [`CollectConfig`].

use std::time::Duration;

use hlaudit_model::Timestamp;

use crate::error::CollectorError;
use crate::org::AccountSelection;
use crate::regions;

/// The default number of requests of each kind in flight at once (regions listed at
/// once, and tag and KMS calls at once).
pub const DEFAULT_CONCURRENCY: usize = 8;

/// The default time budget of one call: a throttled or failing call is retried until
/// the next wait would take it past this long since its first attempt.
pub const DEFAULT_RETRY_BUDGET: Duration = Duration::from_secs(180);

/// The default ceiling of the wait before the first retry; later ceilings double up to
/// 20 seconds, and each wait is drawn at random below its ceiling (full jitter).
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_secs(1);

/// How far back jobs are listed by default: 90 days.
pub const DEFAULT_JOBS_SINCE: Duration = Duration::from_secs(90 * 86_400);

/// The largest `MaxResults` `ListFHIRDatastores` accepts.
pub const MAX_PAGE_SIZE: i32 = 500;

/// Everything a collection needs. Build one with [`CollectConfig::default`] and set
/// the fields; [`crate::collect`] validates it.
#[derive(Debug, Clone)]
pub struct CollectConfig {
    /// The AWS profiles to collect with, one credential set (and usually one account)
    /// each. Empty: the default credential chain (environment, `AWS_PROFILE`, SSO, web
    /// identity, container and instance metadata), once.
    pub profiles: Vec<String>,
    /// Collect these accounts by assuming a role in each from the base credentials
    /// (the one profile, else the default chain) instead of one account per profile.
    pub accounts: Option<AccountSelection>,
    /// Which regions to list.
    pub regions: RegionSelection,
    /// Server-side filters of `ListFHIRDatastores`.
    pub filters: Filters,
    /// `MaxResults` of each `ListFHIRDatastores`, `ListFHIRExportJobs` and
    /// `ListFHIRImportJobs` page (1-500; at most 100 for
    /// `ListDataTransformationProfiles`); `None` leaves the service's default.
    pub page_size: Option<i32>,
    /// Which export and import jobs to list for every data store
    /// (`ListFHIRExportJobs`, `ListFHIRImportJobs`); `None` lists none.
    pub jobs: Option<JobSelection>,
    /// Whether to list the data transformation profiles of every region
    /// (`ListDataTransformationProfiles`).
    pub transformation_profiles: bool,
    /// Whether to call `ListTagsForResource` for every data store. Without it every
    /// record's `tags` is `None` (not collected).
    pub tags: bool,
    /// Whether to describe the customer managed KMS key of every data store that has
    /// one (`DescribeKey`, `GetKeyRotationStatus`) into the `KmsKey` enrichment.
    pub kms: bool,
    /// Whether to read the CloudTrail trails of every (account, region) that holds data
    /// stores (`DescribeTrails`, `GetTrailStatus`, `GetEventSelectors`) into the
    /// `DataEvents` enrichment: which trails record each data store's data events.
    pub trails: bool,
    /// Whether to ask STS `GetCallerIdentity` for the account of each credential set,
    /// so coverage names accounts that hold no data store and errors name their
    /// account. Without it accounts come from data store ARNs only.
    pub caller_identity: bool,
    /// At most this many regions are listed at once, and at most this many tag and
    /// KMS calls are in flight at once (at least 1).
    pub concurrency: usize,
    /// A HealthLake endpoint replacing the one AWS resolves (e.g. an emulator or a
    /// VPC endpoint). `AWS_ENDPOINT_URL_HEALTHLAKE` and `AWS_ENDPOINT_URL` are honoured
    /// without it, as are `AWS_ENDPOINT_URL_KMS` and `AWS_ENDPOINT_URL_STS` for the
    /// other services.
    pub endpoint_url: Option<String>,
    /// How failed requests are retried.
    pub retry: RetrySettings,
}

impl Default for CollectConfig {
    fn default() -> Self {
        CollectConfig {
            profiles: Vec::new(),
            accounts: None,
            regions: RegionSelection::Configured,
            filters: Filters::default(),
            page_size: None,
            jobs: Some(JobSelection::within(DEFAULT_JOBS_SINCE)),
            transformation_profiles: true,
            tags: true,
            kms: true,
            trails: true,
            caller_identity: true,
            concurrency: DEFAULT_CONCURRENCY,
            endpoint_url: None,
            retry: RetrySettings::default(),
        }
    }
}

impl CollectConfig {
    /// Checks every setting, reporting the first one out of range.
    pub fn validate(&self) -> Result<(), CollectorError> {
        if self.concurrency == 0 {
            return Err(CollectorError::InvalidSetting {
                setting: "concurrency",
                value: "0".to_owned(),
                expected: "at least 1",
            });
        }
        if let Some(size) = self.page_size {
            if !(1..=MAX_PAGE_SIZE).contains(&size) {
                return Err(CollectorError::InvalidSetting {
                    setting: "page_size",
                    value: size.to_string(),
                    expected: "1 to 500 (the MaxResults range of ListFHIRDatastores)",
                });
            }
        }
        if self.retry.max_attempts == Some(0) {
            return Err(CollectorError::InvalidSetting {
                setting: "max_attempts",
                value: "0".to_owned(),
                expected: "at least 1 (1 means no retry)",
            });
        }
        if self.retry.budget.is_zero() {
            return Err(CollectorError::InvalidSetting {
                setting: "retry budget",
                value: "0".to_owned(),
                expected: "a positive duration",
            });
        }
        if let RegionSelection::List(list) = &self.regions {
            if list.is_empty() {
                return Err(CollectorError::NoRegion {
                    profile: None,
                    hint: "the region list is empty",
                });
            }
            for r in list {
                regions::validate_region(r, "--regions")?;
            }
        }
        if let Some(selection) = &self.accounts {
            if self.profiles.len() > 1 {
                return Err(CollectorError::InvalidSetting {
                    setting: "profiles",
                    value: self.profiles.join(", "),
                    expected: "at most one profile (the base credentials) when accounts are \
                               assumed through a role",
                });
            }
            if !selection.org && selection.accounts.is_empty() {
                return Err(CollectorError::InvalidSetting {
                    setting: "accounts",
                    value: "none".to_owned(),
                    expected: "--org or a list of accounts",
                });
            }
            if !selection.ous.is_empty() && !selection.org {
                return Err(CollectorError::InvalidSetting {
                    setting: "ous",
                    value: selection.ous.join(", "),
                    expected: "--ou only with --org",
                });
            }
            for a in selection.accounts.iter().chain(&selection.exclude) {
                if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(CollectorError::InvalidSetting {
                        setting: "accounts",
                        value: a.clone(),
                        expected: "12-digit account ids",
                    });
                }
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for p in &self.profiles {
            if !seen.insert(p) {
                return Err(CollectorError::DuplicateProfile(p.clone()));
            }
        }
        if let Some(url) = &self.endpoint_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(CollectorError::InvalidSetting {
                    setting: "endpoint_url",
                    value: url.clone(),
                    expected: "an http:// or https:// URL",
                });
            }
        }
        Ok(())
    }
}

/// Which export and import jobs a collection lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobSelection {
    /// Only jobs submitted after this instant (`SubmittedAfter`, filtered by the
    /// service); `None` lists every job the service keeps.
    pub submitted_after: Option<Timestamp>,
}

impl JobSelection {
    /// The jobs submitted within `span` before now.
    pub fn within(span: Duration) -> Self {
        let since = Timestamp::now().epoch_seconds() - span.as_secs_f64();
        JobSelection {
            // Before 1970 (a span of decades) bounds nothing: every job is listed.
            submitted_after: Timestamp::from_epoch_seconds(since.max(0.0)).ok(),
        }
    }
}

/// Which regions a collection lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionSelection {
    /// The region of each profile's configuration (`AWS_REGION`, the profile's
    /// `region`, instance metadata).
    Configured,
    /// These regions, for every profile.
    List(Vec<String>),
    /// Every region where HealthLake is offered ([`crate::healthlake_regions`]).
    All,
}

/// The server-side `Filter` of `ListFHIRDatastores`. Every field set narrows the list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// `DatastoreName`: the exact data store name.
    pub name: Option<String>,
    /// `DatastoreStatus`, e.g. `ACTIVE`.
    pub status: Option<String>,
    /// `CreatedBefore`: data stores created before this instant.
    pub created_before: Option<Timestamp>,
    /// `CreatedAfter`: data stores created after this instant.
    pub created_after: Option<Timestamp>,
}

impl Filters {
    /// Whether no filter is set.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.status.is_none()
            && self.created_before.is_none()
            && self.created_after.is_none()
    }
}

/// How failed requests are retried (hlaudit's own retry loop; the SDK's is off):
/// throttling, 5xx answers, timeouts, broken connections and malformed or truncated
/// answers are retried with exponential backoff and full jitter until a call's time
/// budget is spent; other errors (access denied, validation, not found) fail at once.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrySettings {
    /// Adaptive (the default: backoff plus a client-side rate limit per account,
    /// region and service that slows down while the service throttles) or standard
    /// (backoff only).
    pub mode: RetryMode,
    /// The longest one call may take, its retries and waits included.
    pub budget: Duration,
    /// At most this many attempts per call, the first included (at least 1); `None`,
    /// the default, bounds retries by [`RetrySettings::budget`] only.
    pub max_attempts: Option<u32>,
    /// The ceiling of the wait before the first retry.
    pub initial_backoff: Duration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            mode: RetryMode::Adaptive,
            budget: DEFAULT_RETRY_BUDGET,
            max_attempts: None,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
        }
    }
}

/// The retry modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetryMode {
    /// Exponential backoff with jitter.
    Standard,
    /// Standard plus a client-side rate limit per account, region and service, fed
    /// by throttling answers.
    #[default]
    Adaptive,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        CollectConfig::default().validate().unwrap();
    }

    #[test]
    fn refuses_settings_out_of_range() {
        let bad = [
            CollectConfig {
                concurrency: 0,
                ..CollectConfig::default()
            },
            CollectConfig {
                page_size: Some(501),
                ..CollectConfig::default()
            },
            CollectConfig {
                page_size: Some(0),
                ..CollectConfig::default()
            },
            CollectConfig {
                endpoint_url: Some("127.0.0.1:4566".to_owned()),
                ..CollectConfig::default()
            },
            CollectConfig {
                regions: RegionSelection::List(vec!["Mars".to_owned()]),
                ..CollectConfig::default()
            },
            CollectConfig {
                profiles: vec!["a".to_owned(), "a".to_owned()],
                ..CollectConfig::default()
            },
            CollectConfig {
                retry: RetrySettings {
                    max_attempts: Some(0),
                    ..RetrySettings::default()
                },
                ..CollectConfig::default()
            },
            CollectConfig {
                retry: RetrySettings {
                    budget: Duration::ZERO,
                    ..RetrySettings::default()
                },
                ..CollectConfig::default()
            },
        ];
        for config in bad {
            assert!(config.validate().is_err(), "{config:?}");
        }
    }
}

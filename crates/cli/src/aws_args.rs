//! The AWS flags shared by `collect` and `scan`: credentials, regions, endpoint,
//! filters, concurrency and retries. Parsed by clap, then validated into the
//! collector's [`CollectConfig`].

use std::time::Duration;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use hlaudit_collector::{
    parse_region_list, validate_region, AccountSelection, CollectConfig, Filters, JobSelection,
    RegionSelection, RetryMode, RetrySettings, RoleSettings, RoleTemplate, DEFAULT_CONCURRENCY,
    DEFAULT_SESSION_NAME,
};
use hlaudit_model::record::DATASTORE_STATUSES;
use hlaudit_model::Timestamp;

/// How to reach AWS and what to list.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "AWS")]
pub struct AwsArgs {
    /// AWS profile to collect with; repeat for several accounts (one credential set
    /// each). Default: the standard chain (environment, AWS_PROFILE, SSO, web identity,
    /// container or instance metadata).
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,

    /// The one region to list (default: the region of the AWS configuration).
    #[arg(long, value_name = "REGION", conflicts_with = "regions")]
    pub region: Option<String>,

    /// Regions to list: a comma-separated list, or `all` for every region where
    /// HealthLake is offered (HLAUDIT_HEALTHLAKE_REGIONS overrides that list).
    #[arg(long, value_name = "LIST|all")]
    pub regions: Option<String>,

    /// HealthLake endpoint to use instead of AWS's (an emulator, a VPC endpoint).
    /// AWS_ENDPOINT_URL_HEALTHLAKE is honoured without it; AWS_ENDPOINT_URL_KMS and
    /// AWS_ENDPOINT_URL_STS set the other services' endpoints.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Items per ListFHIRDatastores, ListFHIRExportJobs and ListFHIRImportJobs page
    /// (MaxResults, 1-500; at most 100 for ListDataTransformationProfiles; default: the
    /// service's).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(1..=500))]
    pub page_size: Option<i32>,

    /// Only the data store with this exact name (server-side filter).
    #[arg(long, value_name = "NAME", help_heading = "Filters")]
    pub name: Option<String>,

    /// Only data stores in this status (server-side filter).
    #[arg(long, value_name = "STATUS", value_parser = clap::builder::PossibleValuesParser::new(DATASTORE_STATUSES), help_heading = "Filters")]
    pub status: Option<String>,

    /// Only data stores created before this instant (ISO 8601, e.g. 2024-01-31T00:00:00Z,
    /// or epoch seconds).
    #[arg(long, value_name = "TIME", value_parser = parse_time, help_heading = "Filters")]
    pub created_before: Option<Timestamp>,

    /// Only data stores created after this instant (ISO 8601 or epoch seconds).
    #[arg(long, value_name = "TIME", value_parser = parse_time, help_heading = "Filters")]
    pub created_after: Option<Timestamp>,

    /// List the export and import jobs of each data store submitted within this long
    /// before now (SubmittedAfter, filtered by the service; e.g. 90d, 36h, 30m), or
    /// `all` for every job HealthLake keeps.
    #[arg(long, value_name = "DURATION|all", default_value = "90d", value_parser = parse_jobs_since, conflicts_with = "no_jobs")]
    pub jobs_since: JobsSince,

    /// Do not list export and import jobs (ListFHIRExportJobs, ListFHIRImportJobs);
    /// policies about jobs then see none.
    #[arg(long)]
    pub no_jobs: bool,

    /// Do not list the data transformation profiles of each region
    /// (ListDataTransformationProfiles).
    #[arg(long)]
    pub no_transformation_profiles: bool,

    /// Do not list tags (ListTagsForResource); policies about tags then cannot pass.
    #[arg(long)]
    pub no_tags: bool,

    /// Do not describe customer managed KMS keys (DescribeKey, GetKeyRotationStatus).
    #[arg(long)]
    pub no_kms: bool,

    /// Do not read CloudTrail trails (DescribeTrails, GetTrailStatus, GetEventSelectors);
    /// the policy on data event recording then fails for every data store.
    #[arg(long)]
    pub no_trails: bool,

    /// Do not ask STS GetCallerIdentity for the account; accounts then come from the
    /// data store ARNs only.
    #[arg(long)]
    pub no_caller_identity: bool,

    /// Regions listed at once, and tag and KMS calls in flight at once.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CONCURRENCY, value_parser = parse_concurrency)]
    pub concurrency: usize,

    /// How long one call may be retried: throttling, 5xx answers, timeouts, broken
    /// connections and malformed or cut-short answers are retried with exponential
    /// backoff and jitter until the next wait would pass this budget (e.g. 90s, 3m,
    /// 1m30s; a bare number is seconds). Access denied, validation and other errors
    /// that would repeat fail at once.
    #[arg(long, value_name = "DURATION", default_value = "3m", value_parser = parse_duration)]
    pub retry_budget: Duration,

    /// At most N attempts per call, the first included (default: no count, the
    /// --retry-budget bounds retries by time). 1 turns retries off.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_attempts: Option<u32>,

    /// adaptive: backoff plus a client-side rate limit per account, region and service
    /// that slows down while the service throttles and speeds up again after;
    /// standard: backoff only.
    #[arg(long, value_name = "MODE", value_enum, default_value_t = RetryModeArg::Adaptive)]
    pub retry_mode: RetryModeArg,

    /// Ceiling of the first wait before a retry, in milliseconds; each later ceiling
    /// doubles, up to 20 s, and each wait is drawn at random below its ceiling.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub initial_backoff_ms: u64,

    /// Go on when part of the collection failed: the failures stay ERROR findings in
    /// every report, but the exit code follows the other findings instead of being 2.
    #[arg(long)]
    pub allow_partial: bool,

    #[command(flatten)]
    pub account: AccountArgs,
}

/// Which accounts to enter, and with which role: `--org`, `--ou`, `--accounts`,
/// `--exclude-accounts` and the role flags.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Accounts")]
pub struct AccountArgs {
    /// Collect every ACTIVE account of the AWS Organization (Organizations ListAccounts,
    /// from the management account or a delegated administrator), assuming a role in
    /// each (--role-name or --role-arn). The caller's own account uses the base
    /// credentials.
    #[arg(long)]
    pub org: bool,

    /// With --org: only the accounts under this organizational unit (recursively), e.g.
    /// ou-ab12-cdef3456. Repeatable.
    #[arg(long = "ou", value_name = "OU_ID", requires = "org")]
    pub ous: Vec<String>,

    /// Only these accounts (comma-separated ids); without --org, these accounts are
    /// collected by assuming the role in each.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub accounts: Vec<String>,

    /// Never these accounts (comma-separated ids), e.g. the management account.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub exclude_accounts: Vec<String>,

    /// The role assumed in each account, by name: arn:PARTITION:iam::ACCOUNT:role/NAME,
    /// the partition taken from the caller.
    #[arg(long, value_name = "NAME", conflicts_with = "role_arn")]
    pub role_name: Option<String>,

    /// The role assumed in each account, as an ARN template with {account} and
    /// {partition}, e.g. arn:{partition}:iam::{account}:role/audit/hlaudit.
    #[arg(long, value_name = "TEMPLATE")]
    pub role_arn: Option<String>,

    /// ExternalId for AssumeRole, when the role's trust policy requires one.
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,

    /// RoleSessionName for AssumeRole (shows in the accounts' CloudTrail).
    #[arg(long, value_name = "NAME", default_value = DEFAULT_SESSION_NAME)]
    pub role_session_name: String,

    /// Requested session length, e.g. 1h (the role's maximum applies); credentials are
    /// assumed again before they expire, so long runs need no longer sessions.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub role_duration: Option<Duration>,
}

/// `--retry-mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RetryModeArg {
    /// Exponential backoff with jitter.
    Standard,
    /// Standard plus a client-side rate limit that adapts to throttling.
    Adaptive,
}

/// How far back `--jobs-since` lists jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobsSince {
    /// Every job.
    All,
    /// Jobs submitted within this long before now.
    Within(Duration),
}

/// `--jobs-since`: `all`, days (`90d`), or a duration as [`parse_duration`] reads it.
fn parse_jobs_since(s: &str) -> Result<JobsSince, String> {
    let text = s.trim();
    if text.eq_ignore_ascii_case("all") {
        return Ok(JobsSince::All);
    }
    let expected = || format!("`{s}` is not a duration: expected e.g. 90d, 36h or 30m, or `all`");
    if let Some(days) = text.strip_suffix('d') {
        let days: u64 = days.parse().map_err(|_| expected())?;
        if days == 0 {
            return Err(format!("`{s}`: the duration must be longer than 0"));
        }
        return Ok(JobsSince::Within(Duration::from_secs(
            days.saturating_mul(86_400),
        )));
    }
    parse_duration(text)
        .map(JobsSince::Within)
        .map_err(|_| expected())
}

/// A duration such as `90s`, `3m`, `1m30s`, `1h` or `500ms`; a bare number is seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let expected = || format!("`{s}` is not a duration: expected e.g. 90s, 3m, 1m30s or 500ms");
    let text = s.trim();
    let mut total = Duration::ZERO;
    let mut rest = text;
    if let Ok(secs) = text.parse::<u64>() {
        total = Duration::from_secs(secs);
        rest = "";
    } else if text.is_empty() {
        return Err(expected());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let value: u64 = rest[..digits].parse().map_err(|_| expected())?;
        rest = &rest[digits..];
        let unit = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let part = match &rest[..unit] {
            "ms" => Duration::from_millis(value),
            "s" => Duration::from_secs(value),
            "m" => Duration::from_secs(value.saturating_mul(60)),
            "h" => Duration::from_secs(value.saturating_mul(3600)),
            _ => return Err(expected()),
        };
        total = total.saturating_add(part);
        rest = &rest[unit..];
    }
    if total.is_zero() {
        return Err(format!("`{s}`: the retry budget must be longer than 0"));
    }
    Ok(total)
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse(s)
        .map_err(|e| format!("{e}; expected ISO 8601 like 2024-01-31T00:00:00Z or epoch seconds"))
}

fn parse_concurrency(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=256).contains(&n) => Ok(n),
        _ => Err("expected a number from 1 to 256".to_owned()),
    }
}

impl AwsArgs {
    /// Validates the flags together and builds the collector's configuration.
    pub fn to_config(&self) -> Result<CollectConfig> {
        let regions = match (&self.region, &self.regions) {
            (Some(r), _) => {
                validate_region(r, "--region")?;
                RegionSelection::List(vec![r.clone()])
            }
            (None, Some(list)) if list.trim().eq_ignore_ascii_case("all") => RegionSelection::All,
            (None, Some(list)) => RegionSelection::List(parse_region_list(list)?),
            (None, None) => RegionSelection::Configured,
        };
        if let (Some(before), Some(after)) = (self.created_before, self.created_after) {
            if before <= after {
                bail!(
                    "--created-before ({before}) is not after --created-after ({after}): no data store can match"
                );
            }
        }
        let accounts = self.account.selection()?;
        let config = CollectConfig {
            profiles: self.profiles.clone(),
            accounts,
            regions,
            filters: Filters {
                name: self.name.clone(),
                status: self.status.clone(),
                created_before: self.created_before,
                created_after: self.created_after,
            },
            page_size: self.page_size,
            jobs: (!self.no_jobs).then(|| match self.jobs_since {
                JobsSince::All => JobSelection::default(),
                JobsSince::Within(span) => JobSelection::within(span),
            }),
            transformation_profiles: !self.no_transformation_profiles,
            tags: !self.no_tags,
            kms: !self.no_kms,
            trails: !self.no_trails,
            caller_identity: !self.no_caller_identity,
            concurrency: self.concurrency,
            endpoint_url: self.endpoint_url.clone(),
            retry: RetrySettings {
                mode: match self.retry_mode {
                    RetryModeArg::Standard => RetryMode::Standard,
                    RetryModeArg::Adaptive => RetryMode::Adaptive,
                },
                budget: self.retry_budget,
                max_attempts: self.max_attempts,
                initial_backoff: Duration::from_millis(self.initial_backoff_ms),
            },
        };
        config.validate()?;
        Ok(config)
    }
}

impl AccountArgs {
    /// The accounts to assume a role in (`--org`, `--accounts`), when any.
    pub fn selection(&self) -> Result<Option<AccountSelection>> {
        let assumed = self.org || !self.accounts.is_empty();
        let role = match (&self.role_name, &self.role_arn) {
            (Some(name), None) => Some(RoleTemplate::Name(name.clone())),
            (None, Some(arn)) => {
                if !arn.contains("{account}") {
                    bail!(
                        "--role-arn `{arn}` has no {{account}} placeholder: every account \
                         would assume the same role"
                    );
                }
                Some(RoleTemplate::Arn(arn.clone()))
            }
            _ => None,
        };
        if !assumed {
            if role.is_some() || self.external_id.is_some() || !self.exclude_accounts.is_empty() {
                bail!(
                    "--role-name, --role-arn, --external-id and --exclude-accounts need --org \
                     or --accounts"
                );
            }
            return Ok(None);
        }
        let Some(role) = role else {
            bail!(
                "--org and --accounts need the role to assume in each account: --role-name \
                 NAME or --role-arn TEMPLATE"
            );
        };
        Ok(Some(AccountSelection {
            org: self.org,
            ous: self.ous.clone(),
            accounts: self.accounts.iter().map(|a| a.trim().to_owned()).collect(),
            exclude: self
                .exclude_accounts
                .iter()
                .map(|a| a.trim().to_owned())
                .collect(),
            role: RoleSettings {
                role,
                external_id: self.external_id.clone(),
                session_name: self.role_session_name.clone(),
                duration: self.role_duration,
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        aws: AwsArgs,
    }

    fn parse(args: &[&str]) -> Result<CollectConfig> {
        let cli = Cli::try_parse_from(std::iter::once("t").chain(args.iter().copied()))?;
        cli.aws.to_config()
    }

    #[test]
    fn builds_the_collector_configuration() {
        let c = parse(&[
            "--profile",
            "a",
            "--profile",
            "b",
            "--regions",
            "eu-west-2,us-east-1",
            "--page-size",
            "100",
            "--status",
            "ACTIVE",
            "--created-after",
            "1700000000",
            "--no-tags",
            "--concurrency",
            "3",
            "--max-attempts",
            "2",
            "--retry-mode",
            "adaptive",
            "--initial-backoff-ms",
            "5",
            "--retry-budget",
            "1m30s",
        ])
        .unwrap();
        assert_eq!(c.profiles, ["a", "b"]);
        assert_eq!(
            c.regions,
            RegionSelection::List(vec!["eu-west-2".into(), "us-east-1".into()])
        );
        assert_eq!(c.page_size, Some(100));
        assert_eq!(c.filters.status.as_deref(), Some("ACTIVE"));
        assert!(c.filters.created_after.is_some());
        assert!(!c.tags && c.kms && c.caller_identity);
        assert_eq!(c.concurrency, 3);
        assert_eq!(c.retry.mode, RetryMode::Adaptive);
        assert_eq!(c.retry.initial_backoff, Duration::from_millis(5));
        assert_eq!(c.retry.budget, Duration::from_secs(90));
        assert_eq!(c.retry.max_attempts, Some(2));
        let defaults = parse(&[]).unwrap().retry;
        assert_eq!(defaults, RetrySettings::default());
        assert_eq!(
            parse(&["--regions", "ALL"]).unwrap().regions,
            RegionSelection::All
        );
        let default_jobs = parse(&[]).unwrap().jobs.unwrap().submitted_after.unwrap();
        let ninety_days_ago = Timestamp::now().epoch_seconds() - 90.0 * 86_400.0;
        assert!((default_jobs.epoch_seconds() - ninety_days_ago).abs() < 60.0);
        let day = parse(&["--jobs-since", "36h"]).unwrap().jobs.unwrap();
        let day_and_a_half_ago = Timestamp::now().epoch_seconds() - 36.0 * 3600.0;
        assert!((day.submitted_after.unwrap().epoch_seconds() - day_and_a_half_ago).abs() < 60.0);
        assert_eq!(
            parse(&["--jobs-since", "all"]).unwrap().jobs,
            Some(JobSelection::default())
        );
        let none = parse(&["--no-jobs", "--no-transformation-profiles"]).unwrap();
        assert!(none.jobs.is_none() && !none.transformation_profiles);
        assert_eq!(parse(&[]).unwrap().regions, RegionSelection::Configured);
    }

    #[test]
    fn reads_durations() {
        for (text, secs) in [
            ("90", 90),
            ("90s", 90),
            ("3m", 180),
            ("1m30s", 90),
            ("1h", 3600),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_secs(secs)),
                "{text}"
            );
        }
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        for bad in ["", "m", "3x", "-1s", "0"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_bad_values_with_the_flag_named() {
        for args in [
            &["--page-size", "501"][..],
            &["--status", "active"],
            &["--created-before", "yesterday"],
            &["--concurrency", "0"],
            &["--region", "us-east-1", "--regions", "all"],
            &["--regions", "us-east-1,Mars"],
            &[
                "--created-before",
                "2020-01-01T00:00:00Z",
                "--created-after",
                "2021-01-01T00:00:00Z",
            ],
            &["--endpoint-url", "localhost:4566"],
            &["--retry-budget", "0s"],
            &["--retry-budget", "3 minutes"],
            &["--max-attempts", "0"],
            &["--jobs-since", "0d"],
            &["--jobs-since", "ninety days"],
            &["--jobs-since", "-1d"],
            &["--jobs-since", "30d", "--no-jobs"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }
}

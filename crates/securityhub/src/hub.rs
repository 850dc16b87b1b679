//! The Security Hub calls: which credential set speaks for which account, whether the
//! hub is enabled, what hlaudit left open there, and the imports.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use aws_config::{Region, SdkConfig};
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, ComplianceStatus, RecordState, StringFilter,
    StringFilterComparison,
};
use aws_sdk_securityhub::Client;
use hlaudit_collector::session::{describe_failure, sdk_config, Request, RequestFailure};
use hlaudit_report::asff::{self, AsffFinding};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::convert;
use crate::plan::{self, Open, Resolution, Scope, Target};
use crate::{
    Failure, Import, Rejected, Resolved, SecurityHubError, SendSettings, TargetOutcome,
    PRODUCT_NAME,
};

/// Targets (account and region) worked on at once.
const CONCURRENT_TARGETS: usize = 4;
/// Findings per `GetFindings` page: the API's limit.
const PAGE_SIZE: i32 = 100;

/// One credential set and the account it speaks for.
#[derive(Clone)]
struct Credentials {
    profile: Option<String>,
    sdk: SdkConfig,
}

/// Loads every credential set and asks STS which account each one is. A set STS cannot
/// identify speaks for no account (its findings are then rejected as having no
/// credentials, naming the set's failure).
async fn credentials(
    settings: &SendSettings,
    region: &str,
) -> (HashMap<String, Credentials>, Vec<Failure>) {
    if let Some(accounts) = &settings.accounts {
        let by_account = accounts
            .iter()
            .map(|a| {
                (
                    a.account.clone(),
                    Credentials {
                        profile: None,
                        sdk: a.sdk.clone(),
                    },
                )
            })
            .collect();
        let failures = settings
            .unreachable
            .iter()
            .map(|(account, code, message)| Failure {
                target: None,
                operation: "AssumeRole",
                code: code.clone(),
                message: format!("account {account}: {message}"),
            })
            .collect();
        return (by_account, failures);
    }
    let profiles: Vec<Option<String>> = if settings.profiles.is_empty() {
        vec![None]
    } else {
        settings.profiles.iter().cloned().map(Some).collect()
    };
    let mut by_account = HashMap::new();
    let mut failures = Vec::new();
    for profile in profiles {
        let sdk = sdk_config(profile.as_deref(), Some(region), &settings.retry).await;
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&sdk)
                .region(Region::new(region.to_owned()))
                .build(),
        );
        match sts.get_caller_identity().send().await {
            Ok(identity) => {
                let Some(account) = identity.account().map(str::to_owned) else {
                    continue;
                };
                tracing::info!(
                    profile = profile.as_deref().unwrap_or("(default)"),
                    account,
                    "Security Hub credentials"
                );
                by_account
                    .entry(account)
                    .or_insert(Credentials { profile, sdk });
            }
            Err(err) => {
                let f = describe_failure(
                    &err,
                    &Request {
                        service: "sts",
                        operation: "GetCallerIdentity",
                        region,
                        profile: profile.as_deref(),
                    },
                );
                failures.push(Failure {
                    target: None,
                    operation: "GetCallerIdentity",
                    code: f.code,
                    message: format!(
                        "{}: {}",
                        profile.as_deref().map_or_else(
                            || "the default credentials".to_owned(),
                            |p| format!("profile {p}")
                        ),
                        f.message
                    ),
                });
            }
        }
    }
    (by_account, failures)
}

/// Sends every target's findings and resolutions.
pub(crate) async fn send(
    findings: Vec<AsffFinding>,
    scope: Scope,
    settings: SendSettings,
) -> Result<(Vec<TargetOutcome>, Vec<Failure>), SecurityHubError> {
    let (passed, open): (Vec<AsffFinding>, Vec<AsffFinding>) =
        findings.into_iter().partition(is_passed);
    let aggregation = settings.aggregation_region.as_deref();
    let mut groups = plan::group(
        if settings.import_passed {
            open.into_iter().chain(passed.iter().cloned()).collect()
        } else {
            open
        },
        aggregation,
    );
    // Every place the run looked at may hold findings to resolve, even with no finding
    // to import there now.
    for (account, region) in &scope.places {
        let region = aggregation.unwrap_or(region).to_owned();
        groups
            .entry(Target {
                account: account.clone(),
                region,
            })
            .or_default();
    }
    for f in &passed {
        let region = aggregation
            .map(str::to_owned)
            .or_else(|| f.region.clone())
            .unwrap_or_default();
        groups
            .entry(Target {
                account: f.aws_account_id.clone(),
                region,
            })
            .or_default();
    }
    let partition = passed
        .iter()
        .chain(groups.values().flatten())
        .find_map(|f| f.product_arn.split(':').nth(1).map(str::to_owned));
    let passed: Arc<HashMap<String, AsffFinding>> =
        Arc::new(passed.into_iter().map(|f| (f.id.clone(), f)).collect());

    let Some(first) = groups.keys().next() else {
        return Ok((Vec::new(), Vec::new()));
    };
    if let Some(bad) = groups.keys().find(|t| t.region.is_empty()) {
        return Err(SecurityHubError::NoRegion {
            account: bad.account.clone(),
        });
    }
    let (by_account, mut failures) = credentials(&settings, &first.region).await;
    let scope = Arc::new(scope);
    let settings = Arc::new(settings);
    let gate = Arc::new(Semaphore::new(CONCURRENT_TARGETS));
    let mut tasks = JoinSet::new();
    for (order, (target, findings)) in groups.into_iter().enumerate() {
        let credentials = by_account.get(&target.account).cloned();
        let partition = partition
            .clone()
            .unwrap_or_else(|| partition_of(&target.region).to_owned());
        let (scope, settings, passed, gate) = (
            scope.clone(),
            settings.clone(),
            passed.clone(),
            gate.clone(),
        );
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let work = Work {
                target,
                findings,
                partition,
                scope: &scope,
                settings: &settings,
                passed: &passed,
            };
            (order, work.run(credentials).await)
        });
    }
    let mut outcomes = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((order, outcome)) => {
                outcomes.insert(order, outcome);
            }
            Err(err) => failures.push(Failure {
                target: None,
                operation: "send",
                code: "internal".to_owned(),
                message: format!("a Security Hub task ended abnormally: {err}"),
            }),
        }
    }
    Ok((outcomes.into_values().collect(), failures))
}

/// Whether a finding is a PASS (compliance PASSED).
fn is_passed(f: &AsffFinding) -> bool {
    f.compliance.as_ref().is_some_and(|c| c.status == "PASSED")
}

/// The partition of a region, for a product ARN with no finding to take it from.
fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// One target's work.
struct Work<'a> {
    target: Target,
    findings: Vec<AsffFinding>,
    partition: String,
    scope: &'a Scope,
    settings: &'a SendSettings,
    passed: &'a HashMap<String, AsffFinding>,
}

impl Work<'_> {
    fn product_arn(&self) -> String {
        let Target { account, region } = &self.target;
        format!(
            "arn:{}:securityhub:{region}:{account}:product/{account}/default",
            self.partition
        )
    }

    fn failure(&self, operation: &'static str, f: RequestFailure) -> Failure {
        Failure {
            target: Some(self.target.clone()),
            operation,
            code: f.code,
            message: f.message,
        }
    }

    async fn run(self, credentials: Option<Credentials>) -> TargetOutcome {
        let mut outcome = TargetOutcome {
            target: self.target.clone(),
            imports: self.findings.iter().map(Import::of).collect(),
            resolved: Vec::new(),
            rejected: Vec::new(),
            failures: Vec::new(),
        };
        let Some(credentials) = credentials else {
            if !self.findings.is_empty() {
                outcome.failures.push(Failure {
                    target: Some(self.target.clone()),
                    operation: "BatchImportFindings",
                    code: "no-credentials".to_owned(),
                    message: format!(
                        "no credential set given is for account {}: name a profile for it \
                         with --profile (each finding is imported with its own account's \
                         credentials)",
                        self.target.account
                    ),
                });
                outcome.reject_all("no-credentials", "no credentials for this account");
            }
            return outcome;
        };
        let client = Client::from_conf(
            aws_sdk_securityhub::config::Builder::from(&credentials.sdk)
                .region(Region::new(self.target.region.clone()))
                .build(),
        );
        let request = |operation| Request {
            service: "securityhub",
            operation,
            region: &self.target.region,
            profile: credentials.profile.as_deref(),
        };

        if let Err(err) = client.describe_hub().send().await {
            let f = describe_failure(&err, &request("DescribeHub"));
            let f = if f.code == "InvalidAccessException" {
                RequestFailure {
                    code: "securityhub-not-enabled".to_owned(),
                    message: format!(
                        "Security Hub is not enabled for account {} in {} ({}); enable it \
                         there (`aws securityhub enable-security-hub --region {}`) or send \
                         every finding to the region that aggregates them with \
                         --securityhub-region REGION",
                        self.target.account, self.target.region, f.message, self.target.region
                    ),
                    credentials: false,
                }
            } else {
                f
            };
            outcome.failures.push(self.failure("DescribeHub", f));
            outcome.reject_all(
                "securityhub-unavailable",
                "Security Hub could not be reached",
            );
            return outcome;
        }

        let mut batch: Vec<AwsSecurityFinding> = Vec::new();
        let product_arn = self.product_arn();
        match self
            .open_findings(&client, &product_arn, credentials.profile.as_deref())
            .await
        {
            Ok(open) => {
                // Open findings imported again stay open; a PASS finding (imported with
                // --asff-passed) that Security Hub holds open resolves it instead.
                let importing: HashSet<&str> = self
                    .findings
                    .iter()
                    .filter(|f| !is_passed(f))
                    .map(|f| f.id.as_str())
                    .collect();
                let opens: Vec<Open> = open.iter().filter_map(convert::open).collect();
                let by_id: HashMap<&str, &AwsSecurityFinding> = open
                    .iter()
                    .filter_map(|f| f.id.as_deref().map(|id| (id, f)))
                    .collect();
                for (id, why) in plan::resolutions(&opens, &importing, self.scope) {
                    let resolved = match (why, self.passed.get(&id), by_id.get(id.as_str())) {
                        (Resolution::Passed, Some(pass), _) => convert::resolve(
                            convert::to_sdk(pass, &product_arn),
                            why,
                            &self.settings.now,
                        ),
                        (_, _, Some(existing)) => {
                            convert::resolve((*existing).clone(), why, &self.settings.now)
                        }
                        _ => continue,
                    };
                    outcome.resolved.push(Resolved {
                        id,
                        generator_id: resolved.generator_id.clone().unwrap_or_default(),
                        resolution: why,
                    });
                    batch.push(resolved);
                }
            }
            Err(f) => {
                // The findings of this run are still imported; what it would resolve
                // stays open, and the run says so (exit 2).
                outcome.failures.push(self.failure("GetFindings", f));
            }
        }
        let resolved: HashSet<&str> = outcome.resolved.iter().map(|r| r.id.as_str()).collect();
        outcome
            .imports
            .retain(|i| !resolved.contains(i.id.as_str()));
        batch.extend(
            self.findings
                .iter()
                .filter(|f| !resolved.contains(f.id.as_str()))
                .map(|f| convert::to_sdk(f, &product_arn)),
        );
        if self.settings.dry_run {
            return outcome;
        }
        for chunk in asff::split(&batch, approximate_size) {
            let chunk = chunk.to_vec();
            let ids: Vec<String> = chunk.iter().filter_map(|f| f.id.clone()).collect();
            match client
                .batch_import_findings()
                .set_findings(Some(chunk))
                .send()
                .await
            {
                Ok(answer) => {
                    for failed in answer.failed_findings() {
                        outcome.rejected.push(Rejected {
                            id: failed.id().unwrap_or_default().to_owned(),
                            code: failed.error_code().unwrap_or("unknown").to_owned(),
                            message: failed.error_message().unwrap_or_default().to_owned(),
                        });
                    }
                }
                Err(err) => {
                    let f = describe_failure(&err, &request("BatchImportFindings"));
                    for id in ids {
                        outcome.rejected.push(Rejected {
                            id,
                            code: f.code.clone(),
                            message: "the request that carried it failed".to_owned(),
                        });
                    }
                    outcome
                        .failures
                        .push(self.failure("BatchImportFindings", f));
                }
            }
        }
        outcome
    }

    /// hlaudit's findings open in this target: hlaudit's product, active, not passed.
    /// The filters go to Security Hub and are checked again here, so a server that
    /// ignores one cannot make hlaudit resolve another tool's finding.
    async fn open_findings(
        &self,
        client: &Client,
        product_arn: &str,
        profile: Option<&str>,
    ) -> Result<Vec<AwsSecurityFinding>, RequestFailure> {
        let equals = |value: &str| {
            StringFilter::builder()
                .value(value)
                .comparison(StringFilterComparison::Equals)
                .build()
        };
        let filters = AwsSecurityFindingFilters::builder()
            .product_arn(equals(product_arn))
            .product_name(equals(PRODUCT_NAME))
            .aws_account_id(equals(&self.target.account))
            .record_state(equals(RecordState::Active.as_str()))
            .build();
        let mut open = Vec::new();
        let mut pages = client
            .get_findings()
            .filters(filters)
            .max_results(PAGE_SIZE)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|err| {
                describe_failure(
                    &err,
                    &Request {
                        service: "securityhub",
                        operation: "GetFindings",
                        region: &self.target.region,
                        profile,
                    },
                )
            })?;
            open.extend(page.findings.into_iter().flatten().filter(|f| {
                f.product_arn.as_deref() == Some(product_arn)
                    && f.product_name.as_deref() == Some(PRODUCT_NAME)
                    && f.aws_account_id.as_deref() == Some(self.target.account.as_str())
                    && f.record_state != Some(RecordState::Archived)
                    && f.compliance.as_ref().and_then(|c| c.status.as_ref())
                        != Some(&ComplianceStatus::Passed)
            }));
        }
        Ok(open)
    }
}

/// An upper bound of a finding's size on the wire, from the text it carries.
fn approximate_size(f: &AwsSecurityFinding) -> usize {
    // The debug rendering holds every string of the finding plus field names: larger
    // than the JSON, never smaller.
    format!("{f:?}").len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_at_most_100_findings() {
        let findings: Vec<AwsSecurityFinding> = (0..250)
            .map(|i| AwsSecurityFinding::builder().id(i.to_string()).build())
            .collect();
        let sizes: Vec<usize> = asff::split(&findings, approximate_size)
            .iter()
            .map(|b| b.len())
            .collect();
        assert_eq!(sizes, vec![100, 100, 50]);
    }

    #[test]
    fn batches_stay_under_the_byte_limit() {
        let big = "x".repeat(1024 * 1024);
        let findings: Vec<AwsSecurityFinding> = (0..9)
            .map(|i| {
                AwsSecurityFinding::builder()
                    .id(i.to_string())
                    .description(&big)
                    .build()
            })
            .collect();
        let batches = asff::split(&findings, approximate_size);
        assert!(batches.len() > 1, "{}", batches.len());
        for b in &batches {
            let bytes: usize = b.iter().map(approximate_size).sum();
            assert!(bytes <= asff::limits::BATCH_BYTES, "{bytes}");
        }
        assert_eq!(batches.iter().map(|b| b.len()).sum::<usize>(), 9);
    }

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of("eu-west-2"), "aws");
    }
}

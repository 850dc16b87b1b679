//! Checking access without collecting: for every account and region a collection with
//! the same configuration would cover, the cheapest call of each permission it needs,
//! recorded as granted, denied, failed or not tested ([`check_access`]).
//!
//! The design decision: each permission is checked by the very request that needs it,
//! sent through the collection's own code (the organization listing and the roles of
//! `org`, the first page of `listing`, the tags and the key of `enrich`), only fewer of
//! them: one page of data stores per region, the tags of its first data store, the first
//! customer managed key among them. A permission is thus checked under everything that
//! decides it for real (identity and resource policies, service control policies,
//! permissions boundaries, KMS key policies), which no reading of IAM policies sees
//! whole. The price: a permission on a resource can only be checked where there is one
//! (a region without data stores leaves `ListTagsForResource` "not tested"), which is
//! also where the collection would need it.
//!
//! Nothing is written: the checks are data, rendered by the caller.

use std::collections::HashMap;
use std::sync::Arc;

use aws_config::SdkConfig;
use hlaudit_model::{CollectionError, Kind, Record};
use serde::{Serialize, Serializer};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::collect::{plan, Plan};
use crate::config::{CollectConfig, JobSelection};
use crate::enrich::{self, AccountAccess, EnrichTarget, KmsDescriber};
use crate::error::CollectorError;
use crate::failure::{self, Call};
use crate::jobs::{self, JobSettings};
use crate::limiter::{Caller, LimitKey};
use crate::listing::{self, ListSettings, Paging, RegionTarget};
use crate::org::{self, AccountSelection};
use crate::profiles;
use crate::retry::{Retrier, RetryPolicy};
use crate::sdk;
use crate::trails::{self, TrailReader};

/// `MaxResults` of the one `ListFHIRDatastores` request of each region: a page rather
/// than one data store, so that a customer managed key is found among them when the
/// account uses one, still in a single request.
pub const PROBE_PAGE_SIZE: i32 = 100;

/// A permission a collection needs: one IAM action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    /// `sts:GetCallerIdentity`: whose the credentials are (no IAM permission is needed,
    /// but the call shows whether the credentials work).
    GetCallerIdentity,
    /// `organizations:ListAccounts`, with `--org`.
    ListAccounts,
    /// `organizations:ListAccountsForParent`, with `--ou`.
    ListAccountsForParent,
    /// `organizations:ListOrganizationalUnitsForParent`, with `--ou`.
    ListOrganizationalUnitsForParent,
    /// `sts:AssumeRole` of the role in each account, with `--org` or `--accounts`.
    AssumeRole,
    /// `healthlake:ListFHIRDatastores`, in every account and region.
    ListFhirDatastores,
    /// `healthlake:ListTagsForResource`, unless `--no-tags`.
    ListTagsForResource,
    /// `kms:DescribeKey`, unless `--no-kms`.
    DescribeKey,
    /// `kms:GetKeyRotationStatus`, unless `--no-kms`.
    GetKeyRotationStatus,
    /// `healthlake:ListFHIRExportJobs`, unless `--no-jobs`.
    ListFhirExportJobs,
    /// `healthlake:ListFHIRImportJobs`, unless `--no-jobs`.
    ListFhirImportJobs,
    /// `healthlake:ListDataTransformationProfiles`, unless
    /// `--no-transformation-profiles`.
    ListDataTransformationProfiles,
    /// `cloudtrail:DescribeTrails`, unless `--no-trails`.
    DescribeTrails,
    /// `cloudtrail:GetTrailStatus`, unless `--no-trails`.
    GetTrailStatus,
    /// `cloudtrail:GetEventSelectors`, unless `--no-trails`.
    GetEventSelectors,
}

impl Permission {
    /// Every permission, in the order a collection needs them.
    pub const ALL: [Permission; 15] = [
        Permission::GetCallerIdentity,
        Permission::ListAccounts,
        Permission::ListAccountsForParent,
        Permission::ListOrganizationalUnitsForParent,
        Permission::AssumeRole,
        Permission::ListFhirDatastores,
        Permission::ListTagsForResource,
        Permission::DescribeKey,
        Permission::GetKeyRotationStatus,
        Permission::ListFhirExportJobs,
        Permission::ListFhirImportJobs,
        Permission::ListDataTransformationProfiles,
        Permission::DescribeTrails,
        Permission::GetTrailStatus,
        Permission::GetEventSelectors,
    ];

    /// The IAM action, e.g. `healthlake:ListFHIRDatastores`.
    pub fn action(self) -> &'static str {
        match self {
            Permission::GetCallerIdentity => "sts:GetCallerIdentity",
            Permission::ListAccounts => "organizations:ListAccounts",
            Permission::ListAccountsForParent => "organizations:ListAccountsForParent",
            Permission::ListOrganizationalUnitsForParent => {
                "organizations:ListOrganizationalUnitsForParent"
            }
            Permission::AssumeRole => "sts:AssumeRole",
            Permission::ListFhirDatastores => "healthlake:ListFHIRDatastores",
            Permission::ListTagsForResource => "healthlake:ListTagsForResource",
            Permission::DescribeKey => "kms:DescribeKey",
            Permission::GetKeyRotationStatus => "kms:GetKeyRotationStatus",
            Permission::ListFhirExportJobs => "healthlake:ListFHIRExportJobs",
            Permission::ListFhirImportJobs => "healthlake:ListFHIRImportJobs",
            Permission::ListDataTransformationProfiles => {
                "healthlake:ListDataTransformationProfiles"
            }
            Permission::DescribeTrails => "cloudtrail:DescribeTrails",
            Permission::GetTrailStatus => "cloudtrail:GetTrailStatus",
            Permission::GetEventSelectors => "cloudtrail:GetEventSelectors",
        }
    }
}

impl Serialize for Permission {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.action())
    }
}

/// What came of checking one permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum AccessResult {
    /// The call succeeded.
    Granted,
    /// The service refused the call (`AccessDenied`, `AccessDeniedException`, ...):
    /// a policy denies it or none allows it.
    Denied {
        /// The service's error code.
        code: String,
        /// The cause and the fix.
        message: String,
    },
    /// The call failed otherwise (credentials, network, a role that belongs to another
    /// account, ...), so the permission could not be checked.
    Failed {
        /// The service's error code, or a kebab-case code for what failed on the way.
        code: String,
        /// The cause and the fix.
        message: String,
    },
    /// The call was not made, and why: an earlier call failed, or there was nothing to
    /// make it on (no data store, no customer managed key), in which case a collection
    /// would not make it either.
    NotTested {
        /// Why.
        reason: String,
    },
}

impl AccessResult {
    /// Whether the permission is missing or could not be checked: what makes a check
    /// fail.
    pub fn is_missing(&self) -> bool {
        matches!(
            self,
            AccessResult::Denied { .. } | AccessResult::Failed { .. }
        )
    }

    /// Denied or failed, from a collection error of the call.
    fn of_error(e: &CollectionError) -> Self {
        Self::of(&e.code, &e.message)
    }

    fn of(code: &str, message: &str) -> Self {
        let (code, message) = (code.to_owned(), message.to_owned());
        if failure::is_denied(&code) {
            AccessResult::Denied { code, message }
        } else {
            AccessResult::Failed { code, message }
        }
    }

    fn not_tested(reason: impl Into<String>) -> Self {
        AccessResult::NotTested {
            reason: reason.into(),
        }
    }
}

/// One permission checked in one account and region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessCheck {
    /// The account whose credentials made the call, when known.
    pub account: Option<String>,
    /// The profile of the credential set, when one was named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The region the call was sent to.
    pub region: Option<String>,
    /// The permission checked.
    pub permission: Permission,
    /// What the call was made on: the role, the data store, the KMS key.
    pub resource: Option<String>,
    /// What came of it.
    #[serde(flatten)]
    pub result: AccessResult,
}

/// Makes the cheapest call of every permission a collection with `config` needs, in
/// every account and region it would cover, and returns what came of each, in order:
/// the base credentials and the organization first, then each account (its role, then
/// each region). Nothing is collected or written.
///
/// The calls are the collection's: STS `GetCallerIdentity` (unless
/// `caller_identity` is off without an account selection), the organization's listing
/// and `AssumeRole` in each account with an account selection, one page of
/// `ListFHIRDatastores` per region ([`PROBE_PAGE_SIZE`] data stores, with the
/// configuration's filters), `ListTagsForResource` on the first data store listed
/// (unless `tags` is off), `DescribeKey` and `GetKeyRotationStatus` on the first
/// customer managed key among them (unless `kms` is off), one job of the first data store
/// listed from `ListFHIRExportJobs` and `ListFHIRImportJobs` (unless `jobs` is off), one
/// page of `ListDataTransformationProfiles` in the region (unless
/// `transformation_profiles` is off), `DescribeTrails` in the
/// region and `GetTrailStatus` and `GetEventSelectors` on the first trail it lists
/// (unless `trails` is off). Throttling and other
/// transient faults are retried as in a collection; a denial fails at once.
///
/// Only an unusable configuration is an `Err`; an organization that cannot be listed
/// is a check that failed, like any other.
///
/// ```no_run
/// # async fn demo() -> Result<(), hlaudit_collector::CollectorError> {
/// use hlaudit_collector::{check_access, CollectConfig, RegionSelection};
/// let config = CollectConfig {
///     regions: RegionSelection::List(vec!["us-east-1".into()]),
///     ..CollectConfig::default()
/// };
/// let checks = check_access(&config).await?;
/// let missing = checks.iter().filter(|c| c.result.is_missing()).count();
/// eprintln!("{missing} permission(s) missing");
/// # Ok(()) }
/// ```
pub async fn check_access(config: &CollectConfig) -> Result<Vec<AccessCheck>, CollectorError> {
    config.validate()?;
    let retrier = Retrier::new(RetryPolicy::of(&config.retry));
    let requests = Arc::new(Semaphore::new(config.concurrency));
    let plans = plan(config).await?;
    let (mut checks, scopes) = match &config.accounts {
        Some(selection) => account_scopes(plans, selection, config, &retrier).await?,
        None => (
            Vec::new(),
            profile_scopes(plans, config, &retrier, &requests).await,
        ),
    };

    let settings = Arc::new(ListSettings {
        filter: listing::datastore_filter(&config.filters),
        paging: Paging {
            page_size: Some(PROBE_PAGE_SIZE),
            endpoint: sdk::replaced_endpoint("healthlake", config.endpoint_url.as_deref()),
            requests,
            retrier,
        },
    });
    // As in a collection, a key of another account of the check is described with its
    // owner's credentials.
    let accounts: HashMap<String, AccountAccess> = scopes
        .iter()
        .filter_map(|s| {
            let plan = s.plan.as_ref()?;
            let account = plan.account.clone()?;
            let access = AccountAccess {
                sdk: plan.sdk.clone(),
                caller: Caller::of(Some(&account), plan.profile.as_deref()),
            };
            Some((account, access))
        })
        .collect();
    let accounts = Arc::new(accounts);
    let trails = config.trails.then(|| {
        Arc::new(TrailReader::new(
            settings.paging.retrier.clone(),
            accounts.clone(),
        ))
    });
    let wanted = Arc::new(Wanted {
        tags: config.tags,
        kms: config.kms,
        jobs: config.jobs.clone(),
        profiles: config.transformation_profiles,
        trails,
        endpoint_url: config.endpoint_url.clone(),
        accounts,
    });
    let mut tasks = JoinSet::new();
    let mut targets = Vec::new();
    for scope in &scopes {
        let Some(plan) = &scope.plan else { continue };
        for region in &plan.regions {
            let target = RegionTarget {
                account: plan.account.clone(),
                region: region.clone(),
                profile: plan.profile.clone(),
            };
            tasks.spawn(check_region(
                targets.len(),
                plan.sdk.clone(),
                target.clone(),
                settings.clone(),
                wanted.clone(),
            ));
            targets.push(target);
        }
    }
    let mut regions: Vec<Vec<AccessCheck>> = vec![Vec::new(); targets.len()];
    while let Some(joined) = tasks.join_next().await {
        if let Ok((i, rows)) = joined {
            if let Some(slot) = regions.get_mut(i) {
                *slot = rows;
            }
        }
    }
    // Every region gives at least its listing's check; a task that ended without one
    // failed, and says so rather than leave the region out.
    for (rows, target) in regions.iter_mut().zip(&targets) {
        if rows.is_empty() {
            let failed = AccessResult::Failed {
                code: "internal".to_owned(),
                message: "the region's check task failed".to_owned(),
            };
            *rows = region_checks(
                target,
                None,
                vec![(Permission::ListFhirDatastores, None, failed)],
            );
        }
    }
    let mut regions = regions.into_iter();
    for scope in scopes {
        checks.extend(scope.leading);
        if let Some(plan) = &scope.plan {
            for _ in &plan.regions {
                checks.extend(regions.next().unwrap_or_default());
            }
        }
    }
    Ok(checks)
}

/// What is checked in each region beside the listing, and how.
struct Wanted {
    tags: bool,
    kms: bool,
    /// The jobs a collection would list, when it would.
    jobs: Option<JobSelection>,
    profiles: bool,
    /// Reads trails as the collection does, when trails are wanted.
    trails: Option<Arc<TrailReader>>,
    endpoint_url: Option<String>,
    /// The credentials of every account entered, for keys of other accounts.
    accounts: Arc<HashMap<String, AccountAccess>>,
}

/// One account (or credential set) to check: the checks made on the way into it (its
/// role), and its credentials and regions when it could be entered.
struct Scope {
    leading: Vec<AccessCheck>,
    plan: Option<Plan>,
}

/// Who made a call and where: the account (when known), the profile and the region.
struct Origin {
    account: Option<String>,
    profile: Option<String>,
    region: String,
}

impl Origin {
    fn check(
        &self,
        permission: Permission,
        resource: Option<String>,
        result: AccessResult,
    ) -> AccessCheck {
        AccessCheck {
            account: self.account.clone(),
            profile: self.profile.clone(),
            region: Some(self.region.clone()),
            permission,
            resource,
            result,
        }
    }

    fn of(&self, account: &str) -> Origin {
        Origin {
            account: Some(account.to_owned()),
            profile: self.profile.clone(),
            region: self.region.clone(),
        }
    }
}

/// The base credentials' identity, the organization's listing and the role of each
/// selected account, as checks, with a scope per account.
async fn account_scopes(
    plans: Vec<Plan>,
    selection: &AccountSelection,
    config: &CollectConfig,
    retrier: &Arc<Retrier>,
) -> Result<(Vec<AccessCheck>, Vec<Scope>), CollectorError> {
    let Some(base) = plans.into_iter().next() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let region = base.regions.first().cloned().unwrap_or_default();
    let mut origin = Origin {
        account: None,
        profile: base.profile.clone(),
        region: region.clone(),
    };
    let calls = organization_calls(selection);
    // The caller's account names the rows of the organization's calls; `members` asks
    // STS again, a call without cost or permission.
    match org::caller(&base.sdk, &region, retrier).await {
        Ok((me, _)) => origin.account = Some(me),
        Err(e) => return organization_failed(e, &calls, &origin),
    }
    let members =
        match org::members(&base.sdk, selection, &region, retrier, config.concurrency).await {
            Ok(members) => members,
            Err(e) => return organization_failed(e, &calls, &origin),
        };
    let checks = calls
        .iter()
        .map(|p| origin.check(*p, None, AccessResult::Granted))
        .collect();
    let mut scopes = Vec::with_capacity(members.len());
    for member in members {
        let entered = origin.of(&member.account);
        let (leading, sdk) = match (member.role, member.access) {
            (None, Ok(sdk)) => (Vec::new(), Some(sdk)),
            (role, Ok(sdk)) => {
                let check = entered.check(Permission::AssumeRole, role, AccessResult::Granted);
                (vec![check], Some(sdk))
            }
            (role, Err(e)) => {
                let resource = role.or_else(|| e.resource.clone());
                let result = AccessResult::of_error(&e);
                let check = entered.check(Permission::AssumeRole, resource, result);
                (vec![check], None)
            }
        };
        scopes.push(Scope {
            leading,
            plan: sdk.map(|sdk| Plan {
                profile: None,
                sdk,
                regions: base.regions.clone(),
                account: Some(member.account),
                // Already assumed and checked by `members`.
                role: None,
            }),
        });
    }
    Ok((checks, scopes))
}

/// The calls made with the base credentials before any account is entered, in the
/// order they are made (which is also [`Permission`]'s order).
fn organization_calls(selection: &AccountSelection) -> Vec<Permission> {
    let mut calls = vec![Permission::GetCallerIdentity];
    if selection.org {
        calls.push(Permission::ListAccounts);
        if !selection.ous.is_empty() {
            calls.push(Permission::ListAccountsForParent);
            calls.push(Permission::ListOrganizationalUnitsForParent);
        }
    }
    calls
}

/// The checks of an organization listing that failed at one call: the calls before it
/// granted, that one denied or failed, the later ones not tested. No account is known,
/// so none is entered.
fn organization_failed(
    error: CollectorError,
    calls: &[Permission],
    origin: &Origin,
) -> Result<(Vec<AccessCheck>, Vec<Scope>), CollectorError> {
    let CollectorError::Organization {
        call,
        code,
        message,
    } = error
    else {
        return Err(error);
    };
    let failed = Permission::ALL
        .into_iter()
        .find(|p| p.action() == call)
        .unwrap_or(Permission::GetCallerIdentity);
    let mut checks: Vec<AccessCheck> = calls
        .iter()
        .map(|&p| {
            let result = match p.cmp(&failed) {
                std::cmp::Ordering::Less => AccessResult::Granted,
                std::cmp::Ordering::Equal => AccessResult::of(&code, &message),
                std::cmp::Ordering::Greater => AccessResult::not_tested(format!("{call} failed")),
            };
            origin.check(p, None, result)
        })
        .collect();
    checks.push(origin.check(
        Permission::AssumeRole,
        None,
        AccessResult::not_tested("the accounts to enter are not known"),
    ));
    Ok((checks, Vec::new()))
}

/// A scope per credential set, each led by its STS `GetCallerIdentity` check (unless
/// `caller_identity` is off), which also names its account.
async fn profile_scopes(
    plans: Vec<Plan>,
    config: &CollectConfig,
    retrier: &Arc<Retrier>,
    requests: &Semaphore,
) -> Vec<Scope> {
    let mut scopes = Vec::with_capacity(plans.len());
    for mut plan in plans {
        let mut leading = Vec::new();
        if let (true, Some(region)) = (config.caller_identity, plan.regions.first()) {
            let (account, result) = caller_identity(
                &plan.sdk,
                region,
                plan.profile.as_deref(),
                retrier,
                requests,
            )
            .await;
            plan.account = account;
            leading.push(AccessCheck {
                account: plan.account.clone(),
                profile: plan.profile.clone(),
                region: Some(region.clone()),
                permission: Permission::GetCallerIdentity,
                resource: None,
                result,
            });
        }
        scopes.push(Scope {
            leading,
            plan: Some(plan),
        });
    }
    scopes
}

/// STS `GetCallerIdentity` with one credential set: its account, and the check.
async fn caller_identity(
    sdk: &SdkConfig,
    region: &str,
    profile: Option<&str>,
    retrier: &Retrier,
    requests: &Semaphore,
) -> (Option<String>, AccessResult) {
    let client = sdk::sts(sdk, region);
    let key = LimitKey {
        caller: Caller::of(None, profile),
        region: region.to_owned(),
        service: "sts",
    };
    let result = retrier
        .call(&key, "GetCallerIdentity", requests, || {
            client.get_caller_identity().send()
        })
        .await;
    match result {
        Ok(identity) => (identity.account().map(str::to_owned), AccessResult::Granted),
        Err(gave_up) => {
            let endpoint = sdk::replaced_endpoint("sts", None);
            let call = Call {
                service: "sts",
                operation: "GetCallerIdentity",
                region,
                profile,
                endpoint: endpoint.as_deref(),
            };
            let f = failure::describe(&gave_up.error, &call);
            (
                None,
                AccessResult::of(&f.code, &format!("{}{}", f.message, gave_up.tried())),
            )
        }
    }
}

/// The checks of one region: its listing, then the tags of the first data store and
/// the first customer managed key.
async fn check_region(
    order: usize,
    sdk: SdkConfig,
    target: RegionTarget,
    settings: Arc<ListSettings>,
    wanted: Arc<Wanted>,
) -> (usize, Vec<AccessCheck>) {
    let client = sdk::healthlake(&sdk, &target.region, wanted.endpoint_url.as_deref());
    let mut rows: Vec<(Permission, Option<String>, AccessResult)> = Vec::new();
    let listed = listing::first_page(&client, &target, &settings).await;
    let records = match listed {
        Ok(records) => {
            rows.push((Permission::ListFhirDatastores, None, AccessResult::Granted));
            records
        }
        Err(e) => {
            rows.push((
                Permission::ListFhirDatastores,
                None,
                AccessResult::of_error(&e),
            ));
            let why = || AccessResult::not_tested("ListFHIRDatastores failed");
            if wanted.tags {
                rows.push((Permission::ListTagsForResource, None, why()));
            }
            if wanted.kms {
                rows.push((Permission::DescribeKey, None, why()));
                rows.push((Permission::GetKeyRotationStatus, None, why()));
            }
            if wanted.jobs.is_some() {
                rows.push((Permission::ListFhirExportJobs, None, why()));
                rows.push((Permission::ListFhirImportJobs, None, why()));
            }
            rows.extend(check_profiles(&client, &target, &wanted, &settings).await);
            if let Some(reader) = &wanted.trails {
                rows.extend(check_trails(reader, &sdk, &target, &settings).await);
            }
            return (order, region_checks(&target, None, rows));
        }
    };
    let targets: Vec<EnrichTarget> = records
        .iter()
        .enumerate()
        .map(|(i, r)| EnrichTarget::of(i, r, target.account.as_deref(), target.caller()))
        .collect();
    if wanted.tags {
        rows.push(check_tags(targets.first(), &client, &settings).await);
    }
    if wanted.kms {
        let keyed = targets.iter().find(|t| t.kms_key.is_some());
        let kms = KmsDescriber::new(
            sdk.clone(),
            target.caller(),
            settings.paging.retrier.clone(),
        )
        .with_accounts(target.account.clone(), wanted.accounts.clone());
        rows.extend(check_key(keyed, records.is_empty(), kms, &settings).await);
    }
    // A DELETED data store may be unknown to the job listings: probe a live one.
    let live = records
        .iter()
        .find(|r| r.status() != Some("DELETED"))
        .or(records.first());
    rows.extend(check_jobs(&client, &target, live, &wanted, &settings).await);
    rows.extend(check_profiles(&client, &target, &wanted, &settings).await);
    if let Some(reader) = &wanted.trails {
        rows.extend(check_trails(reader, &sdk, &target, &settings).await);
    }
    (order, region_checks(&target, records.first(), rows))
}

/// One job of `first` (the first data store listed that is not `DELETED`) from each job
/// listing, as the collection lists them (with its `SubmittedAfter`); not tested where
/// no data store was listed.
async fn check_jobs(
    client: &aws_sdk_healthlake::Client,
    target: &RegionTarget,
    first: Option<&Record>,
    wanted: &Wanted,
    settings: &ListSettings,
) -> Vec<(Permission, Option<String>, AccessResult)> {
    let Some(selection) = &wanted.jobs else {
        return Vec::new();
    };
    let listings = [
        (Permission::ListFhirExportJobs, Kind::ExportJob),
        (Permission::ListFhirImportJobs, Kind::ImportJob),
    ];
    let Some(store) = first else {
        let why = || AccessResult::not_tested("no data store in this region");
        return listings.map(|(p, _)| (p, None, why())).into();
    };
    let jobs = JobSettings::new(
        selection,
        Paging {
            page_size: Some(1),
            ..settings.paging.clone()
        },
    );
    let mut rows = Vec::with_capacity(2);
    for (permission, kind) in listings {
        let result = match jobs::probe(client, target, store, kind, &jobs).await {
            Ok(()) => AccessResult::Granted,
            Err(e) => AccessResult::of_error(&e),
        };
        rows.push((permission, store.arn().map(str::to_owned), result));
    }
    rows
}

/// One page of the region's transformation profiles (of the first source format).
async fn check_profiles(
    client: &aws_sdk_healthlake::Client,
    target: &RegionTarget,
    wanted: &Wanted,
    settings: &ListSettings,
) -> Option<(Permission, Option<String>, AccessResult)> {
    if !wanted.profiles {
        return None;
    }
    let profiles = Paging {
        page_size: Some(1),
        ..settings.paging.clone()
    };
    let result = match profiles::probe(client, target, &profiles).await {
        Ok(()) => AccessResult::Granted,
        Err(e) => AccessResult::of_error(&e),
    };
    Some((Permission::ListDataTransformationProfiles, None, result))
}

/// `DescribeTrails` in the region, then `GetTrailStatus` and `GetEventSelectors` on the
/// first trail it lists, as the collection reads trails (in the trail's home region,
/// with its owner's credentials when the check holds them). The listing is checked
/// even where no data store was listed: it does not depend on them.
async fn check_trails(
    reader: &Arc<TrailReader>,
    sdk: &SdkConfig,
    target: &RegionTarget,
    settings: &ListSettings,
) -> Vec<(Permission, Option<String>, AccessResult)> {
    let of = |(_, code, message): &trails::Failed| AccessResult::of(code, message);
    let probe = reader
        .with_credentials(sdk.clone())
        .probe(target, &settings.paging.requests)
        .await;
    let (first, read) = match probe {
        Err(f) => {
            let why = || AccessResult::not_tested("DescribeTrails failed");
            return vec![
                (Permission::DescribeTrails, None, of(&f)),
                (Permission::GetTrailStatus, None, why()),
                (Permission::GetEventSelectors, None, why()),
            ];
        }
        Ok(None) => {
            let why = || AccessResult::not_tested("no trail applies in this region");
            return vec![
                (Permission::DescribeTrails, None, AccessResult::Granted),
                (Permission::GetTrailStatus, None, why()),
                (Permission::GetEventSelectors, None, why()),
            ];
        }
        Ok(Some(first)) => first,
    };
    let (status, selectors) = match &read {
        Ok(()) => (AccessResult::Granted, AccessResult::Granted),
        Err(f) if f.0 == "GetTrailStatus" => {
            (of(f), AccessResult::not_tested("GetTrailStatus failed"))
        }
        Err(f) => (AccessResult::Granted, of(f)),
    };
    vec![
        (Permission::DescribeTrails, None, AccessResult::Granted),
        (Permission::GetTrailStatus, Some(first.clone()), status),
        (Permission::GetEventSelectors, Some(first), selectors),
    ]
}

/// `ListTagsForResource` on the first data store listed, as the collection lists tags.
async fn check_tags(
    first: Option<&EnrichTarget>,
    client: &aws_sdk_healthlake::Client,
    settings: &ListSettings,
) -> (Permission, Option<String>, AccessResult) {
    let Some(t) = first else {
        return (
            Permission::ListTagsForResource,
            None,
            AccessResult::not_tested("no data store in this region"),
        );
    };
    let fetched = enrich::enrich(
        t.clone(),
        Some(client.clone()),
        None,
        settings.paging.requests.clone(),
        settings.paging.retrier.clone(),
    )
    .await;
    let result = fetched
        .errors
        .first()
        .map_or(AccessResult::Granted, AccessResult::of_error);
    (Permission::ListTagsForResource, Some(t.arn.clone()), result)
}

/// `DescribeKey` and `GetKeyRotationStatus` on the first customer managed key, as the
/// collection describes keys (in the key's region, with the credentials of the key's
/// account when it is one of the check's, else with the data store's).
async fn check_key(
    keyed: Option<&EnrichTarget>,
    no_datastore: bool,
    kms: KmsDescriber,
    settings: &ListSettings,
) -> Vec<(Permission, Option<String>, AccessResult)> {
    let (Some(t), Some((_, key_id))) = (keyed, keyed.and_then(|t| t.kms_key.as_ref())) else {
        let reason = if no_datastore {
            "no data store in this region".to_owned()
        } else {
            format!(
                "no data store among the first {PROBE_PAGE_SIZE} listed uses a customer \
                 managed key"
            )
        };
        return vec![
            (
                Permission::DescribeKey,
                None,
                AccessResult::not_tested(reason.clone()),
            ),
            (
                Permission::GetKeyRotationStatus,
                None,
                AccessResult::not_tested(reason),
            ),
        ];
    };
    let fetched = enrich::enrich(
        t.clone(),
        None,
        Some(Arc::new(kms)),
        settings.paging.requests.clone(),
        settings.paging.retrier.clone(),
    )
    .await;
    let key = Some(key_id.clone());
    let (describe, rotation) = match fetched.errors.first() {
        None => (AccessResult::Granted, AccessResult::Granted),
        Some(e) if e.operation == "DescribeKey" => (
            AccessResult::of_error(e),
            AccessResult::not_tested("DescribeKey failed"),
        ),
        Some(e) => (AccessResult::Granted, AccessResult::of_error(e)),
    };
    vec![
        (Permission::DescribeKey, key.clone(), describe),
        (Permission::GetKeyRotationStatus, key, rotation),
    ]
}

/// The rows of one region as checks, named by the target's account or, when the
/// credentials' account is not known, by the account of the first data store listed.
fn region_checks(
    target: &RegionTarget,
    first: Option<&Record>,
    rows: Vec<(Permission, Option<String>, AccessResult)>,
) -> Vec<AccessCheck> {
    let account = target
        .account
        .clone()
        .or_else(|| first.and_then(Record::account).map(str::to_owned));
    rows.into_iter()
        .map(|(permission, resource, result)| AccessCheck {
            account: account.clone(),
            profile: target.profile.clone(),
            region: Some(target.region.clone()),
            permission,
            resource,
            result,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::{RoleSettings, RoleTemplate};

    fn selection(org: bool, ous: &[&str]) -> AccountSelection {
        AccountSelection {
            org,
            ous: ous.iter().map(|s| (*s).to_owned()).collect(),
            accounts: Vec::new(),
            exclude: Vec::new(),
            role: RoleSettings {
                role: RoleTemplate::Name("hlaudit-audit".to_owned()),
                external_id: None,
                session_name: "hlaudit".to_owned(),
                duration: None,
            },
        }
    }

    fn origin() -> Origin {
        Origin {
            account: Some("111122223333".to_owned()),
            profile: None,
            region: "us-east-1".to_owned(),
        }
    }

    #[test]
    fn a_failed_organization_call_leaves_the_later_ones_untested() {
        let calls = organization_calls(&selection(true, &["ou-1"]));
        assert_eq!(
            calls,
            [
                Permission::GetCallerIdentity,
                Permission::ListAccounts,
                Permission::ListAccountsForParent,
                Permission::ListOrganizationalUnitsForParent
            ]
        );
        let error = CollectorError::Organization {
            call: "organizations:ListAccountsForParent",
            code: "AccessDeniedException".to_owned(),
            message: "access denied".to_owned(),
        };
        let (checks, scopes) = organization_failed(error, &calls, &origin()).unwrap();
        assert!(scopes.is_empty());
        let results: Vec<(&str, &str)> = checks
            .iter()
            .map(|c| {
                let r = match &c.result {
                    AccessResult::Granted => "granted",
                    AccessResult::Denied { .. } => "denied",
                    AccessResult::Failed { .. } => "failed",
                    AccessResult::NotTested { .. } => "not-tested",
                };
                (c.permission.action(), r)
            })
            .collect();
        assert_eq!(
            results,
            [
                ("sts:GetCallerIdentity", "granted"),
                ("organizations:ListAccounts", "granted"),
                ("organizations:ListAccountsForParent", "denied"),
                (
                    "organizations:ListOrganizationalUnitsForParent",
                    "not-tested"
                ),
                ("sts:AssumeRole", "not-tested"),
            ]
        );
        assert_eq!(
            organization_calls(&selection(false, &[])),
            [Permission::GetCallerIdentity]
        );
    }

    #[test]
    fn checks_serialize_with_the_action_and_a_result_tag() {
        let check = origin().check(
            Permission::ListFhirDatastores,
            None,
            AccessResult::of("AccessDeniedException", "no"),
        );
        let json = serde_json::to_value(&check).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "account": "111122223333",
                "region": "us-east-1",
                "permission": "healthlake:ListFHIRDatastores",
                "resource": null,
                "result": "denied",
                "code": "AccessDeniedException",
                "message": "no"
            })
        );
        assert!(check.result.is_missing());
        assert!(AccessResult::of("ExpiredToken", "x").is_missing());
        assert!(!AccessResult::not_tested("no data store").is_missing());
        assert_eq!(
            Permission::ALL
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            Permission::ALL.len()
        );
    }
}

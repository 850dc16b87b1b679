//! The collection: credential sets x regions, listed and enriched concurrently.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use aws_config::SdkConfig;
use hlaudit_model::inventory::{ScopeCoverage, ScopeState};
use hlaudit_model::{CollectionError, Coverage, Inventory, Kind, Record, Timestamp, Warning};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use crate::config::{CollectConfig, RegionSelection};
use crate::enrich::{
    self, AccountAccess, EnrichTarget, Enrichment, KmsDescriber, KMS_KEY_ENRICHMENT,
};
use crate::error::CollectorError;
use crate::failure::{self, Call};
use crate::limiter::{Caller, LimitKey};
use crate::listing::{self, ListSettings, Paging, RegionTarget};
use crate::org::{self, AccountSelection, RoleSettings};
use crate::profiles;
use crate::progress::Progress;
use crate::regions;
use crate::related;
use crate::retry::{Retrier, RetryPolicy};
use crate::sdk;
use crate::trails::{AccountTrails, TrailReader};

/// One credential set and what it covers.
pub(crate) struct Plan {
    pub profile: Option<String>,
    pub sdk: SdkConfig,
    pub regions: Vec<String>,
    pub account: Option<String>,
    /// The role `sdk` assumes in `account`, checked before anything is listed with it
    /// (an `--org`/`--accounts` member); `None` for base credentials.
    pub role: Option<org::Role>,
}

/// What one region gave.
struct RegionResult {
    records: Vec<Record>,
    errors: Vec<CollectionError>,
}

/// Lists every data store the configuration covers and returns them as an
/// [`Inventory`].
///
/// Only an unusable configuration (no region, a setting out of range) is an `Err`.
/// Once requests go out, everything that fails after its retries (a region that
/// refuses access, a page that never comes, a repeating `NextToken`, tags or a KMS key
/// that cannot be read) is recorded in `Inventory::errors` with its account, region,
/// operation and code, and the rest is collected anyway.
///
/// Records come in a stable order: credential sets in the order given, regions in the
/// order given, data stores in the service's listing order. A data store seen twice
/// (two profiles for one account) is kept once, with a `duplicate-arn` warning.
///
/// ```no_run
/// # async fn demo() -> Result<(), hlaudit_collector::CollectorError> {
/// use std::sync::Arc;
/// use hlaudit_collector::{collect, CollectConfig, NoProgress, RegionSelection};
/// let config = CollectConfig {
///     regions: RegionSelection::List(vec!["us-east-1".into(), "eu-west-2".into()]),
///     page_size: Some(100),
///     ..CollectConfig::default()
/// };
/// let inventory = collect(config, Arc::new(NoProgress)).await?;
/// for error in &inventory.errors {
///     eprintln!("{}: {} {}", error.region.as_deref().unwrap_or("-"), error.code, error.message);
/// }
/// # Ok(()) }
/// ```
pub async fn collect(
    config: CollectConfig,
    progress: Arc<dyn Progress>,
) -> Result<Inventory, CollectorError> {
    config.validate()?;
    let mut warnings = Vec::new();
    let retrier = Retrier::new(RetryPolicy::of(&config.retry));
    let mut plans = plan(&config).await?;
    if let Some(selection) = &config.accounts {
        plans = org_plans(plans, selection, &retrier).await?;
    }
    progress.regions_planned(plans.iter().map(|p| p.regions.len()).sum());
    if config.caller_identity {
        identify(&mut plans, &mut warnings, &retrier, config.concurrency).await;
    }

    let list_requests = Arc::new(Semaphore::new(config.concurrency));
    let call_requests = Arc::new(Semaphore::new(config.concurrency));
    let settings = Arc::new(ListSettings {
        filter: listing::datastore_filter(&config.filters),
        paging: Paging {
            page_size: config.page_size,
            endpoint: sdk::replaced_endpoint("healthlake", config.endpoint_url.as_deref()),
            requests: list_requests,
            retrier: retrier.clone(),
        },
    });
    // Each account's credentials, so a key of another account of the collection is
    // described with its owner's credentials.
    let accounts: Arc<HashMap<String, AccountAccess>> = Arc::new(
        plans
            .iter()
            .filter_map(|p| {
                let account = p.account.clone()?;
                let access = AccountAccess {
                    sdk: p.sdk.clone(),
                    caller: Caller::of(Some(&account), p.profile.as_deref()),
                };
                Some((account, access))
            })
            .collect(),
    );
    // Whether each member's role was assumed, known once its account task has tried:
    // a key in a member account is described with the member's credentials only then.
    let mut entered = HashMap::new();
    let mut entries = Vec::with_capacity(plans.len());
    for plan in &plans {
        let (done, told) = watch::channel(None);
        if let (Some(account), Some(_)) = (&plan.account, &plan.role) {
            entered.insert(account.clone(), told);
        }
        entries.push(done);
    }
    let entered = Arc::new(entered);
    // Roles are checked ahead of the listing, in account order, at most `concurrency` at
    // a time, each telling its account (and any other account's key in it) the answer.
    let sts_requests = Arc::new(Semaphore::new(config.concurrency));
    let role_settings = config.accounts.as_ref().map(|s| s.role.clone());
    let mut checks = JoinSet::new();
    let mut waits = Vec::with_capacity(plans.len());
    for (index, (plan, done)) in plans.iter().zip(entries).enumerate() {
        let wait = done.subscribe();
        match (&plan.account, &plan.role, &role_settings) {
            (Some(account), Some(role), Some(settings)) => {
                let check = Entry {
                    sdk: plan.sdk.clone(),
                    account: account.clone(),
                    role: role.clone(),
                    region: plan.regions.first().cloned().unwrap_or_default(),
                    requests: sts_requests.clone(),
                    settings: settings.clone(),
                    retrier: retrier.clone(),
                };
                checks.spawn(check.run(index, done));
            }
            _ => {
                done.send_replace(Some(true));
            }
        }
        waits.push(wait);
    }
    // Accounts listed at once: enough to keep every request slot busy while some
    // accounts wait for their role, few enough that memory does not grow with the
    // number of accounts.
    let in_flight = config.concurrency.saturating_mul(ACCOUNTS_PER_SLOT).max(1);
    let trails = config
        .trails
        .then(|| Arc::new(TrailReader::new(retrier.clone(), accounts.clone())));
    let config = Arc::new(config);
    let mut tasks = JoinSet::new();
    let mut order = 0usize;
    let mut outcomes: Vec<Option<AccountOutcome>> = (0..plans.len()).map(|_| None).collect();
    let mut errors = Vec::new();
    for (index, (plan, wait)) in plans.iter().zip(waits).enumerate() {
        let caller = Caller::of(plan.account.as_deref(), plan.profile.as_deref());
        let kms = config.kms.then(|| {
            Arc::new(
                KmsDescriber::new(plan.sdk.clone(), caller.clone(), retrier.clone())
                    .with_accounts(plan.account.clone(), accounts.clone())
                    .with_entries(entered.clone()),
            )
        });
        let trails = trails
            .as_ref()
            .map(|t| t.with_credentials(plan.sdk.clone()));
        let mut regions = Vec::with_capacity(plan.regions.len());
        for region in &plan.regions {
            let target = RegionTarget {
                account: plan.account.clone(),
                region: region.clone(),
                profile: plan.profile.clone(),
            };
            // The client is built when the region's turn comes, not for every region of
            // every account up front: memory stays flat in the number of accounts.
            let sdk_config = plan.sdk.clone();
            let task = (
                settings.clone(),
                config.clone(),
                kms.clone(),
                trails.clone(),
                call_requests.clone(),
                retrier.clone(),
                progress.clone(),
            );
            regions.push(async move {
                let (settings, config, kms, trails, call_requests, retrier, progress) = task;
                let endpoint = config.endpoint_url.as_deref();
                let client = sdk::healthlake(&sdk_config, &target.region, endpoint);
                region_task(
                    order,
                    client,
                    target,
                    settings,
                    config,
                    kms,
                    trails,
                    call_requests,
                    retrier,
                    progress,
                )
                .await
            });
            order += 1;
        }
        while tasks.len() >= in_flight {
            let Some(joined) = tasks.join_next().await else {
                break;
            };
            keep_outcome(joined, &mut outcomes, &mut errors);
        }
        let regions_done = (plan.regions.clone(), progress.clone());
        tasks.spawn(account_task(index, wait, regions, regions_done));
    }
    while let Some(joined) = tasks.join_next().await {
        keep_outcome(joined, &mut outcomes, &mut errors);
    }
    // A role's failure comes first, in account order, as before any listing; then every
    // region in plan order.
    let mut refused: Vec<(usize, CollectionError)> = Vec::new();
    while let Some(joined) = checks.join_next().await {
        match joined {
            Ok(Some((i, error))) => refused.push((i, *error)),
            Ok(None) => {}
            Err(e) => errors.push(internal_error(&e)),
        }
    }
    refused.sort_by_key(|(i, _)| *i);
    let mut failed_accounts = HashSet::new();
    let mut ordered = Vec::with_capacity(refused.len() + errors.len());
    for (_, error) in refused {
        failed_accounts.extend(error.account.clone());
        ordered.push(error);
    }
    ordered.append(&mut errors);
    let mut errors = ordered;
    let mut results: Vec<Option<RegionResult>> = (0..order).map(|_| None).collect();
    for outcome in outcomes.into_iter().flatten() {
        match outcome {
            AccountOutcome::NotEntered => {}
            AccountOutcome::Listed {
                results: listed,
                internal,
            } => {
                errors.extend(internal);
                for (i, result) in listed {
                    if let Some(slot) = results.get_mut(i) {
                        *slot = Some(result);
                    }
                }
            }
        }
    }

    let mut records = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for result in results.into_iter().flatten() {
        errors.extend(result.errors);
        for record in result.records {
            if seen.insert(record.key().into_owned()) {
                records.push(record);
            } else {
                warnings.push(Warning {
                    code: "duplicate-arn".to_owned(),
                    message: format!(
                        "data store {} was listed by more than one credential set; kept once",
                        record.key()
                    ),
                    source: record.source.clone(),
                });
            }
        }
    }

    // Accounts whose role could not be assumed were attempted in every region too.
    let attempted: Vec<(String, Vec<String>)> = plans
        .iter()
        .filter_map(|p| Some((p.account.clone()?, p.regions.clone())))
        .collect();
    let scopes = scopes(&attempted, &records, &errors);
    let mut inventory = Inventory {
        records,
        coverage: Coverage {
            accounts: plans
                .iter()
                .filter_map(|p| p.account.clone())
                .filter(|a| !failed_accounts.contains(a))
                .collect(),
            regions: plans
                .iter()
                .filter(|p| {
                    p.account
                        .as_ref()
                        .is_none_or(|a| !failed_accounts.contains(a))
                })
                .flat_map(|p| p.regions.clone())
                .collect(),
            collected_at: Some(Timestamp::now()),
            tool_version: Some(hlaudit_model::TOOL_VERSION.to_owned()),
            inputs: Vec::new(),
            scopes,
        },
        errors,
        warnings,
    };
    // Jobs carry their data store's context already; linking gives them its tags.
    let linked = hlaudit_model::link::link_to_datastores(&mut inventory.records);
    inventory.warnings.extend(linked);
    inventory.refresh_coverage();
    let (retries, throttled) = retrier.counts();
    tracing::info!(
        records = inventory.records.len(),
        errors = inventory.errors.len(),
        retries,
        throttled,
        "collection finished"
    );
    Ok(inventory)
}

/// Loads each credential set's configuration and settles its regions.
pub(crate) async fn plan(config: &CollectConfig) -> Result<Vec<Plan>, CollectorError> {
    let profiles: Vec<Option<String>> = if config.profiles.is_empty() {
        vec![None]
    } else {
        config.profiles.iter().cloned().map(Some).collect()
    };
    let all = match config.regions {
        RegionSelection::All => Some(regions::healthlake_regions()?),
        _ => None,
    };
    let http = sdk::https_client();
    let mut plans = Vec::with_capacity(profiles.len());
    for profile in profiles {
        let given = match (&config.regions, &all) {
            (RegionSelection::List(list), _) => list.first(),
            (RegionSelection::All, Some(all)) => all.first(),
            _ => None,
        };
        let sdk = sdk::load(
            profile.as_deref(),
            given.map(String::as_str),
            &config.retry,
            http.clone(),
        )
        .await;
        let regions = match (&config.regions, &all) {
            (RegionSelection::List(list), _) => list.clone(),
            (RegionSelection::All, Some(all)) => all.clone(),
            _ => {
                let region = sdk.region().map(ToString::to_string).ok_or_else(|| {
                    CollectorError::NoRegion {
                        profile: profile.clone(),
                        hint: "no region is configured",
                    }
                })?;
                regions::validate_region(&region, "the AWS configuration")?;
                vec![region]
            }
        };
        tracing::debug!(
            profile = profile.as_deref().unwrap_or("(default)"),
            ?regions,
            "planned"
        );
        plans.push(Plan {
            profile,
            sdk,
            regions,
            account: None,
            role: None,
        });
    }
    Ok(plans)
}

/// What came of each attempted (account, region): its data stores, its errors, and
/// whether it was read. A listing or role that failed fails the region; an error
/// about one data store (tags, a KMS key) leaves it partial.
fn scopes(
    attempted: &[(String, Vec<String>)],
    records: &[Record],
    errors: &[CollectionError],
) -> Vec<ScopeCoverage> {
    let mut out = std::collections::BTreeMap::new();
    for (account, regions) in attempted {
        for region in regions {
            out.entry((account.clone(), region.clone()))
                .or_insert(ScopeCoverage {
                    account: account.clone(),
                    region: region.clone(),
                    state: ScopeState::Read,
                    datastores: 0,
                    errors: 0,
                });
        }
    }
    for r in records {
        if let (Some(a), Some(g)) = (r.account(), r.region()) {
            if let Some(s) = out.get_mut(&(a.to_owned(), g.to_owned())) {
                s.datastores += usize::from(r.kind() == Kind::Datastore);
            }
        }
    }
    for e in errors {
        // A profile listing is about the region, but its data stores were read.
        let fails_region = (e.resource.is_none() && e.operation != profiles::LIST_PROFILES)
            || e.operation == org::ASSUME_ROLE;
        for s in out.values_mut() {
            let account = e.account.as_deref().is_none_or(|a| a == s.account);
            let region = e.region.as_deref().is_none_or(|r| r == s.region);
            if account && region {
                s.errors += 1;
                s.state = if fails_region {
                    ScopeState::Failed
                } else {
                    s.state.max(ScopeState::Partial)
                };
            }
        }
    }
    out.into_values().collect()
}

/// The credentials of one account, assumed in it with the configuration's role.
#[derive(Clone, Debug)]
pub struct AccountCredentials {
    /// The account id, checked with STS `GetCallerIdentity` when the role was assumed.
    pub account: String,
    /// The SDK configuration whose credentials speak for that account (refreshed
    /// before they expire).
    pub sdk: SdkConfig,
}

/// The credentials of every account the configuration's `--org`/`--accounts` selection
/// names, each from the role assumed in it, as [`collect`] obtains them; other
/// services (Security Hub) then act in each account with its own credentials. Empty
/// without a selection. A role that cannot be assumed is a [`CollectionError`] of its
/// account (as in a collection); only an unusable configuration or an organization
/// that cannot be listed is an `Err`.
pub async fn account_credentials(
    config: &CollectConfig,
) -> Result<(Vec<AccountCredentials>, Vec<CollectionError>), CollectorError> {
    let Some(selection) = &config.accounts else {
        return Ok((Vec::new(), Vec::new()));
    };
    config.validate()?;
    let retrier = Retrier::new(RetryPolicy::of(&config.retry));
    let plans = plan(config).await?;
    let Some(base) = plans.into_iter().next() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let region = base.regions.first().cloned().unwrap_or_default();
    let members = org::members(&base.sdk, selection, &region, &retrier, config.concurrency).await?;
    let mut accounts = Vec::with_capacity(members.len());
    let mut errors = Vec::new();
    for member in members {
        match member.access {
            Ok(sdk) => accounts.push(AccountCredentials {
                account: member.account,
                sdk,
            }),
            Err(error) => errors.push(*error),
        }
    }
    Ok((accounts, errors))
}

/// Replaces the one base plan with a plan per selected account, each with the credential
/// set of the role to assume in it, not yet tried: each account's task assumes and
/// checks its role before listing, so listing starts with the first account ready.
async fn org_plans(
    plans: Vec<Plan>,
    selection: &AccountSelection,
    retrier: &Arc<Retrier>,
) -> Result<Vec<Plan>, CollectorError> {
    let Some(base) = plans.into_iter().next() else {
        return Ok(Vec::new());
    };
    let region = base.regions.first().cloned().unwrap_or_default();
    let candidates = org::candidates(&base.sdk, selection, &region, retrier).await?;
    Ok(candidates
        .into_iter()
        .map(|c| Plan {
            profile: None,
            sdk: c.sdk,
            regions: base.regions.clone(),
            account: Some(c.account),
            role: c.role,
        })
        .collect())
}

/// How many accounts per request slot are listed at once.
const ACCOUNTS_PER_SLOT: usize = 16;

/// A member account's role, to assume and check before its regions are listed.
struct Entry {
    sdk: SdkConfig,
    account: String,
    role: org::Role,
    /// The region STS is asked in.
    region: String,
    /// The STS request slots all accounts share.
    requests: Arc<Semaphore>,
    settings: RoleSettings,
    retrier: Arc<Retrier>,
}

impl Entry {
    /// Assumes and checks the role, tells `done` whether it worked, and returns the
    /// error of a role that did not.
    async fn run(
        self,
        index: usize,
        done: watch::Sender<Option<bool>>,
    ) -> Option<(usize, Box<CollectionError>)> {
        let verified = {
            let _permit = self.requests.acquire().await;
            let (role, account) = (&self.role, &self.account);
            org::verify(
                &self.sdk,
                &self.settings,
                role,
                account,
                &self.region,
                &self.retrier,
            )
            .await
        };
        done.send_replace(Some(verified.is_ok()));
        verified.err().map(|e| (index, e))
    }
}

/// What came of one credential set.
enum AccountOutcome {
    /// Its role could not be assumed: nothing was listed (the error is the check's).
    NotEntered,
    /// Each region's result, by its place in the collection's order, and the region
    /// tasks that failed inside the collector.
    Listed {
        results: Vec<(usize, RegionResult)>,
        internal: Vec<CollectionError>,
    },
}

/// Files an account task's outcome by its account's place.
fn keep_outcome(
    joined: Result<(usize, AccountOutcome), tokio::task::JoinError>,
    outcomes: &mut [Option<AccountOutcome>],
    errors: &mut Vec<CollectionError>,
) {
    match joined {
        Ok((i, outcome)) => {
            if let Some(slot) = outcomes.get_mut(i) {
                *slot = Some(outcome);
            }
        }
        Err(e) => errors.push(internal_error(&e)),
    }
}

/// One credential set's work: once its role is known to work (at once for base
/// credentials), its regions listed concurrently.
async fn account_task<F>(
    index: usize,
    mut entered: watch::Receiver<Option<bool>>,
    regions: Vec<F>,
    (names, progress): (Vec<String>, Arc<dyn Progress>),
) -> (usize, AccountOutcome)
where
    F: Future<Output = (usize, RegionResult)> + Send + 'static,
{
    let ok = entered.wait_for(Option::is_some).await.map(|v| *v);
    if !matches!(ok, Ok(Some(true))) {
        for region in &names {
            progress.region_done(region);
        }
        return (index, AccountOutcome::NotEntered);
    }
    let mut tasks = JoinSet::new();
    for region in regions {
        tasks.spawn(region);
    }
    let mut results = Vec::new();
    let mut internal = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(result) => results.push(result),
            Err(e) => internal.push(internal_error(&e)),
        }
    }
    (index, AccountOutcome::Listed { results, internal })
}

/// A collection task that panicked or was cancelled.
fn internal_error(e: &tokio::task::JoinError) -> CollectionError {
    CollectionError {
        account: None,
        region: None,
        operation: listing::LIST_OPERATION.to_owned(),
        resource: None,
        code: "internal".to_owned(),
        message: format!("a region's collection task failed: {e}"),
    }
}

/// Asks STS for the account of each credential set. A failure is a warning: the
/// accounts are then known from the data store ARNs only, and HealthLake's own answer
/// tells whether the credentials work.
async fn identify(
    plans: &mut [Plan],
    warnings: &mut Vec<Warning>,
    retrier: &Arc<Retrier>,
    concurrency: usize,
) {
    let mut tasks = JoinSet::new();
    let requests = Arc::new(Semaphore::new(concurrency));
    for (i, plan) in plans.iter().enumerate() {
        // An assumed account was identified when its role was assumed.
        if plan.account.is_some() {
            continue;
        }
        let Some(region) = plan.regions.first() else {
            continue;
        };
        let client = sdk::sts(&plan.sdk, region);
        let key = LimitKey {
            caller: Caller::of(None, plan.profile.as_deref()),
            region: region.clone(),
            service: "sts",
        };
        let (retrier, requests) = (retrier.clone(), requests.clone());
        tasks.spawn(async move {
            let result = retrier
                .call(&key, "GetCallerIdentity", &requests, || {
                    client.get_caller_identity().send()
                })
                .await;
            (i, result)
        });
    }
    let endpoint = sdk::replaced_endpoint("sts", None);
    while let Some(joined) = tasks.join_next().await {
        let Ok((i, result)) = joined else { continue };
        let Some(plan) = plans.get_mut(i) else {
            continue;
        };
        let who = plan.profile.as_deref().unwrap_or("the default credentials");
        match result {
            Ok(identity) => {
                tracing::info!(
                    profile = who,
                    account = identity.account().unwrap_or("?"),
                    "caller identity"
                );
                plan.account = identity.account().map(str::to_owned);
            }
            Err(gave_up) => {
                let err = gave_up.error;
                let call = Call {
                    service: "sts",
                    operation: "GetCallerIdentity",
                    region: plan.regions.first().map_or("", String::as_str),
                    profile: plan.profile.as_deref(),
                    endpoint: endpoint.as_deref(),
                };
                let failure = failure::describe(&err, &call);
                // Credentials that cannot be used fail every listing of this set too,
                // and each listing error says why: saying it here as well would repeat it.
                if failure.credentials {
                    continue;
                }
                warnings.push(Warning {
                    code: "caller-identity".to_owned(),
                    message: format!(
                        "STS GetCallerIdentity failed for {who} ({}: {}); \
                         accounts are taken from data store ARNs",
                        failure.code, failure.message
                    ),
                    source: None,
                });
            }
        }
    }
}

/// Lists one region and enriches its records as their pages arrive.
#[allow(clippy::too_many_arguments)]
async fn region_task(
    order: usize,
    client: aws_sdk_healthlake::Client,
    target: RegionTarget,
    settings: Arc<ListSettings>,
    config: Arc<CollectConfig>,
    kms: Option<Arc<KmsDescriber>>,
    trails: Option<AccountTrails>,
    call_requests: Arc<Semaphore>,
    retrier: Arc<Retrier>,
    progress: Arc<dyn Progress>,
) -> (usize, RegionResult) {
    let mut records: Vec<Record> = Vec::new();
    let mut enrichments: JoinSet<Enrichment> = JoinSet::new();
    let needs_enrichment = config.tags || kms.is_some();
    let mut errors = {
        let mut on_page = |page: Vec<Record>| {
            progress.page_listed(&target.region, page.len());
            for record in page {
                let index = records.len();
                if needs_enrichment {
                    let t = EnrichTarget::of(
                        index,
                        &record,
                        target.account.as_deref(),
                        target.caller(),
                    );
                    let tags_client = config.tags.then(|| client.clone());
                    let kms = if t.kms_key.is_some() {
                        kms.clone()
                    } else {
                        None
                    };
                    if tags_client.is_some() || kms.is_some() {
                        enrichments.spawn(enrich::enrich(
                            t,
                            tags_client,
                            kms,
                            call_requests.clone(),
                            retrier.clone(),
                        ));
                    } else {
                        progress.record_done();
                    }
                } else {
                    progress.record_done();
                }
                records.push(record);
            }
        };
        listing::list_region(&client, &target, &settings, &mut on_page).await
    };
    progress.region_done(&target.region);
    tracing::info!(region = %target.region, records = records.len(), "region listed");
    // Jobs and profiles are listed while the data stores' enrichments run.
    let related = related::list(
        &client,
        &target,
        &records,
        &errors,
        &config,
        &call_requests,
        &retrier,
    )
    .await;

    let mut enrich_errors = Vec::new();
    while let Some(joined) = enrichments.join_next().await {
        progress.record_done();
        match joined {
            Ok(e) => {
                if let Some(record) = records.get_mut(e.index) {
                    if config.tags {
                        record.tags = e.tags;
                    }
                    if let Some(key) = e.kms_key {
                        record
                            .enrichments
                            .insert(KMS_KEY_ENRICHMENT.to_owned(), key);
                    }
                }
                enrich_errors.push((e.index, e.errors));
            }
            Err(e) => errors.push(CollectionError {
                account: target.account.clone(),
                region: Some(target.region.clone()),
                operation: "ListTagsForResource".to_owned(),
                resource: None,
                code: "internal".to_owned(),
                message: format!("an enrichment task failed: {e}"),
            }),
        }
    }
    // Completion order varies with timing; the errors are reported in record order.
    enrich_errors.sort_by_key(|(i, _)| *i);
    errors.extend(enrich_errors.into_iter().flat_map(|(_, e)| e));
    if let Some(trails) = trails {
        errors.extend(trails.attach(&mut records, &target, &call_requests).await);
    }
    records.extend(related.records);
    errors.extend(related.errors);
    (order, RegionResult { records, errors })
}

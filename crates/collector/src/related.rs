//! What a region's collection lists beside its data stores: the export and import jobs
//! of each data store ([`crate::jobs`]) and the region's data transformation profiles
//! ([`crate::profiles`]). One entry point, so the region task needs one call and one
//! merge.

use std::sync::Arc;

use hlaudit_model::identity::Context;
use hlaudit_model::{CollectionError, Record};
use tokio::sync::Semaphore;

use crate::config::CollectConfig;
use crate::jobs::{self, JobSettings};
use crate::listing::{Paging, RegionTarget};
use crate::profiles;
use crate::retry::Retrier;
use crate::sdk;

/// The records and errors of what was listed beside the data stores.
#[derive(Debug, Default)]
pub(crate) struct Related {
    pub records: Vec<Record>,
    pub errors: Vec<CollectionError>,
}

/// Lists what the configuration asks for beside `datastores` (the data stores of one
/// region, as listed, and the errors of that listing), with the collection's bound on
/// calls in flight and its retries.
///
/// The jobs of every data store listed are listed whatever happened to the rest of
/// the listing. The profiles are not listed in a region whose listing failed: the
/// region is already an ERROR (and marked failed in the coverage), and the cause (access
/// denied to the region, credentials, an endpoint that does not answer) would only
/// fail the profile listing again, a second error for one cause.
pub(crate) async fn list(
    client: &aws_sdk_healthlake::Client,
    target: &RegionTarget,
    datastores: &[Record],
    listing_errors: &[CollectionError],
    config: &CollectConfig,
    requests: &Arc<Semaphore>,
    retrier: &Arc<Retrier>,
) -> Related {
    let mut out = Related::default();
    let paging = Paging {
        page_size: config.page_size,
        endpoint: sdk::replaced_endpoint("healthlake", config.endpoint_url.as_deref()),
        requests: requests.clone(),
        retrier: retrier.clone(),
    };
    let jobs = async {
        let Some(selection) = &config.jobs else {
            return (Vec::new(), Vec::new());
        };
        let settings = Arc::new(JobSettings::new(selection, paging.clone()));
        let listed = jobs::list_jobs(client, target, datastores, &settings).await;
        tracing::info!(region = %target.region, jobs = listed.0.len(), "jobs listed");
        listed
    };
    let profiles = async {
        let region_failed = listing_errors.iter().any(|e| e.resource.is_none());
        if !config.transformation_profiles || region_failed {
            return (Vec::new(), Vec::new());
        }
        let listed =
            profiles::list_profiles(client, target, &context(target, datastores), &paging).await;
        tracing::info!(region = %target.region, profiles = listed.0.len(), "profiles listed");
        listed
    };
    let ((job_records, job_errors), (profile_records, profile_errors)) =
        tokio::join!(jobs, profiles);
    out.records.extend(job_records);
    out.records.extend(profile_records);
    out.errors.extend(job_errors);
    out.errors.extend(profile_errors);
    out
}

/// The account and region of what a region holds beside its data stores: the
/// credentials' account (STS), else the account of the region's data stores' ARNs.
fn context(target: &RegionTarget, datastores: &[Record]) -> Context {
    let account = target.account.clone().or_else(|| {
        datastores
            .iter()
            .find_map(|d| d.account().map(str::to_owned))
    });
    let partition = datastores
        .iter()
        .find_map(|d| d.partition().map(str::to_owned));
    Context {
        account,
        region: Some(target.region.clone()),
        partition,
    }
}

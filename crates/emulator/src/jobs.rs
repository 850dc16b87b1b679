//! Export and import jobs and data transformation profiles: what the emulator keeps of
//! them, and the six operations that read them.
//!
//! Jobs belong to a data store: each (account, region, `DatastoreId`) has its export
//! jobs and its import jobs, in the order loaded. `ListFHIRExportJobs` and
//! `ListFHIRImportJobs` need the `DatastoreId` of a data store the caller's account has
//! in the region (else `ResourceNotFoundException`), filter by `JobName` (exact),
//! `JobStatus`, `SubmittedBefore` and `SubmittedAfter` (strict bounds on `SubmitTime`;
//! a job without one fails any bound), and page with `MaxResults` 1-500 and an opaque
//! `NextToken` bound to the listing, as `ListFHIRDatastores` does.
//!
//! Profiles belong to an (account, region). `ListDataTransformationProfiles` pages with
//! `MaxResults` 1-100 (default 100, as the API reference says) and needs a
//! `SourceFormat` (required in the API model, else `ValidationException`); each item is
//! the profile without the fields only `GetDataTransformationProfile` returns
//! (`ProfileMapping`, `ChangeDescription`).
//! The SDK sends both to `datatransformation.` + the HealthLake host (a host prefix);
//! the emulator answers whatever the `Host` header says.

use std::collections::{BTreeMap, HashMap};

use hlaudit_model::record::JOB_STATUSES;
use hlaudit_model::{Kind, Record};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::EmulatorError;
use crate::faults::fnv1a;
use crate::ops::{decode_token, encode_token, to_json, Ctx, Outcome};
use crate::protocol::{constraint, parse_input, ApiError};
use crate::state::{wire_json, Store};

/// The timestamp fields of `ExportJobProperties` and `ImportJobProperties`.
const JOB_TIMESTAMPS: [&[&str]; 2] = [&["SubmitTime"], &["EndTime"]];

/// The largest `MaxResults` of `ListDataTransformationProfiles`.
pub const MAX_PROFILE_RESULTS: usize = 100;

/// The largest `MaxResults` of the job listings.
const MAX_JOB_RESULTS: usize = 500;

/// One job as served.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub record: Record,
    /// The job's JSON as the API sends it (epoch-second timestamps).
    pub wire: Box<RawValue>,
}

/// The jobs of one data store.
#[derive(Debug, Default)]
pub(crate) struct DatastoreJobs {
    pub export: Vec<Job>,
    pub import: Vec<Job>,
}

impl DatastoreJobs {
    fn of(&self, kind: Kind) -> &[Job] {
        if kind == Kind::ExportJob {
            &self.export
        } else {
            &self.import
        }
    }
}

/// One data transformation profile as served: its JSON (the `GetDataTransformationProfile`
/// output, unknown fields included).
#[derive(Debug, Clone)]
pub(crate) struct Profile {
    pub id: String,
    pub version: i64,
    pub source_format: Option<String>,
    pub json: Map<String, Value>,
}

/// `(account, region, DatastoreId)`.
type JobKey = (String, String, String);

/// Every job and profile.
#[derive(Debug, Default)]
pub(crate) struct JobStore {
    jobs: HashMap<JobKey, DatastoreJobs>,
    profiles: BTreeMap<(String, String), Vec<Profile>>,
}

impl JobStore {
    /// Adds a job to the data store `(account, region, DatastoreId)`.
    pub fn insert(
        &mut self,
        account: &str,
        region: &str,
        record: Record,
    ) -> Result<(), EmulatorError> {
        let datastore = match record.identity() {
            hlaudit_model::Identity::Job(j) => j.datastore_id.clone(),
            _ => return Err(not_a_job(&record)),
        };
        let wire = wire_json(&record, &JOB_TIMESTAMPS)?;
        let jobs = self
            .jobs
            .entry((account.to_owned(), region.to_owned(), datastore))
            .or_default();
        let list = match record.kind() {
            Kind::ExportJob => &mut jobs.export,
            Kind::ImportJob => &mut jobs.import,
            _ => return Err(not_a_job(&record)),
        };
        list.push(Job { record, wire });
        Ok(())
    }

    /// The jobs of one data store.
    pub fn of(&self, account: &str, region: &str, datastore: &str) -> Option<&DatastoreJobs> {
        self.jobs
            .get(&(account.to_owned(), region.to_owned(), datastore.to_owned()))
    }

    /// Adds a profile (the JSON of a `GetDataTransformationProfile` output) to an
    /// (account, region); it needs a `ProfileId` and a numeric `Version`.
    pub fn insert_profile(
        &mut self,
        account: &str,
        region: &str,
        json: Value,
    ) -> Result<(), EmulatorError> {
        let bad = |message: &str| EmulatorError::Record {
            arn: format!("data transformation profile in {account}/{region}"),
            field: ".".to_owned(),
            message: message.to_owned(),
        };
        let Value::Object(json) = json else {
            return Err(bad("a profile must be a JSON object"));
        };
        let id = json
            .get("ProfileId")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("`ProfileId` is missing or not a string"))?
            .to_owned();
        let version = json
            .get("Version")
            .and_then(Value::as_i64)
            .ok_or_else(|| bad("`Version` is missing or not an integer"))?;
        let source_format = json
            .get("SourceFormat")
            .and_then(Value::as_str)
            .map(str::to_owned);
        self.profiles
            .entry((account.to_owned(), region.to_owned()))
            .or_default()
            .push(Profile {
                id,
                version,
                source_format,
                json,
            });
        Ok(())
    }

    /// The profiles of one (account, region).
    pub fn profiles(&self, account: &str, region: &str) -> &[Profile] {
        self.profiles
            .get(&(account.to_owned(), region.to_owned()))
            .map_or(&[], Vec::as_slice)
    }

    /// Every job, for [`crate::RunningEmulator::jobs`].
    pub fn all(&self) -> impl Iterator<Item = (&JobKey, &DatastoreJobs)> {
        self.jobs.iter()
    }
}

fn not_a_job(record: &Record) -> EmulatorError {
    EmulatorError::Record {
        arn: record.key().into_owned(),
        field: ".".to_owned(),
        message: "not an export or import job".to_owned(),
    }
}

/// `ListFHIRExportJobs` / `ListFHIRImportJobs` input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct ListJobsInput {
    pub datastore_id: Option<String>,
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
    pub job_name: Option<String>,
    pub job_status: Option<String>,
    pub submitted_before: Option<f64>,
    pub submitted_after: Option<f64>,
}

/// `DescribeFHIRExportJob` / `DescribeFHIRImportJob` input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct DescribeJobInput {
    pub datastore_id: Option<String>,
    pub job_id: Option<String>,
}

/// `ListDataTransformationProfiles` input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct ListProfilesInput {
    pub source_format: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

/// `GetDataTransformationProfile` input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct GetProfileInput {
    pub profile_id: Option<String>,
    pub profile_version: Option<i64>,
}

/// The `DatastoreId` a job request names, for the request log and per-resource faults.
pub(crate) fn datastore_of(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<Value>(body)
        .ok()?
        .get("DatastoreId")?
        .as_str()
        .map(str::to_owned)
}

fn page_size(max: Option<i64>, default: usize, limit: usize) -> Result<usize, ApiError> {
    match max {
        None => Ok(default),
        Some(n) if n < 1 => Err(constraint(
            &n.to_string(),
            "maxResults",
            "Member must have value greater than or equal to 1",
        )),
        Some(n) if n > limit as i64 => Err(constraint(
            &n.to_string(),
            "maxResults",
            &format!("Member must have value less than or equal to {limit}"),
        )),
        Some(n) => Ok(usize::try_from(n).unwrap_or(limit)),
    }
}

fn required(value: Option<String>, member: &str) -> Result<String, ApiError> {
    match value {
        None => Err(constraint("null", member, "Member must not be null")),
        Some(v) if v.is_empty() || v.chars().count() > 32 => Err(constraint(
            &v,
            member,
            "Member must have length between 1 and 32",
        )),
        Some(v) => Ok(v),
    }
}

/// The jobs of the data store a request names, or `ResourceNotFoundException` when the
/// caller's account has no such data store in the region.
fn datastore_jobs<'a>(
    store: &'a Store,
    ctx: Ctx<'_>,
    datastore: &str,
    kind: Kind,
) -> Result<&'a [Job], ApiError> {
    if store.by_id(ctx.account, ctx.region, datastore).is_none() {
        return Err(ApiError::not_found(format!(
            "Datastore with ID {datastore} does not exist"
        )));
    }
    Ok(store
        .jobs
        .of(ctx.account, ctx.region, datastore)
        .map_or(&[], |j| j.of(kind)))
}

fn list_key(kind: Kind) -> &'static str {
    if kind == Kind::ExportJob {
        "ExportJobPropertiesList"
    } else {
        "ImportJobPropertiesList"
    }
}

/// `ListFHIRExportJobs` (`kind` export) or `ListFHIRImportJobs`.
pub(crate) fn list_jobs(
    store: &Store,
    ctx: Ctx<'_>,
    kind: Kind,
    body: &[u8],
) -> Result<Outcome, ApiError> {
    let input: ListJobsInput = parse_input(body)?;
    let page = page_size(input.max_results, ctx.page_size, MAX_JOB_RESULTS)?;
    let datastore = required(input.datastore_id.clone(), "datastoreId")?;
    if let Some(status) = &input.job_status {
        if !JOB_STATUSES.contains(&status.as_str()) {
            return Err(constraint(
                status,
                "jobStatus",
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    JOB_STATUSES.join(", ")
                ),
            ));
        }
    }
    let jobs = datastore_jobs(store, ctx, &datastore, kind)?;
    let fingerprint = fnv1a(&[
        ctx.account.as_bytes(),
        ctx.region.as_bytes(),
        kind.as_str().as_bytes(),
        datastore.as_bytes(),
        input.job_name.as_deref().unwrap_or("").as_bytes(),
        input.job_status.as_deref().unwrap_or("").as_bytes(),
        &input
            .submitted_before
            .map(f64::to_bits)
            .unwrap_or(0)
            .to_le_bytes(),
        &input
            .submitted_after
            .map(f64::to_bits)
            .unwrap_or(0)
            .to_le_bytes(),
    ]);
    let selected: Vec<&Job> = jobs.iter().filter(|j| job_matches(&input, j)).collect();
    let listing = Listing {
        key: list_key(kind),
        fingerprint,
        page,
        next_token: input.next_token.as_deref(),
    };
    listing.answer(&selected, |j| &*j.wire)
}

/// One listing request's paging: the output member the items go in, the fingerprint
/// its tokens are bound to, the page size and the `NextToken` the request carried.
struct Listing<'a> {
    key: &'static str,
    fingerprint: u64,
    page: usize,
    next_token: Option<&'a str>,
}

impl Listing<'_> {
    /// The page of `selected` the request asks for, each item as `item` shows it, under
    /// the listing's key, with the `NextToken` of the next page when there is one.
    fn answer<T, I: Serialize>(
        &self,
        selected: &[T],
        item: impl Fn(&T) -> I,
    ) -> Result<Outcome, ApiError> {
        let offset = match self.next_token {
            None => 0,
            Some(token) => decode_token(token, self.fingerprint, selected.len())?,
        };
        let end = offset.saturating_add(self.page).min(selected.len());
        let next_token = (end < selected.len()).then(|| encode_token(self.fingerprint, end));
        let items: Vec<I> = selected[offset..end].iter().map(item).collect();
        let returned = items.len();
        let mut out = serde_json::Map::new();
        out.insert(self.key.to_owned(), to_value(&items)?);
        if let Some(t) = &next_token {
            out.insert("NextToken".to_owned(), Value::String(t.clone()));
        }
        Ok(Outcome {
            body: to_json(&out)?,
            returned: Some(returned),
            next_token,
            looped: false,
        })
    }
}

fn to_value<T: Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| {
        let mut err = ApiError::internal();
        err.message = e.to_string();
        err
    })
}

/// Whether a job passes the listing's filters: `JobName` exactly, `JobStatus`, and
/// strict `SubmittedBefore`/`SubmittedAfter` bounds on `SubmitTime`.
fn job_matches(input: &ListJobsInput, job: &Job) -> bool {
    let r = &job.record;
    if input
        .job_name
        .as_deref()
        .is_some_and(|n| r.name() != Some(n))
    {
        return false;
    }
    if input
        .job_status
        .as_deref()
        .is_some_and(|s| r.status() != Some(s))
    {
        return false;
    }
    let submitted = r.created_at().map(|t| t.epoch_seconds());
    if let Some(before) = input.submitted_before {
        if !submitted.is_some_and(|s| s < before) {
            return false;
        }
    }
    if let Some(after) = input.submitted_after {
        if !submitted.is_some_and(|s| s > after) {
            return false;
        }
    }
    true
}

/// `DescribeFHIRExportJob` (`kind` export) or `DescribeFHIRImportJob`.
pub(crate) fn describe_job(
    store: &Store,
    ctx: Ctx<'_>,
    kind: Kind,
    body: &[u8],
) -> Result<Outcome, ApiError> {
    let input: DescribeJobInput = parse_input(body)?;
    let datastore = required(input.datastore_id, "datastoreId")?;
    let job_id = required(input.job_id, "jobId")?;
    let jobs = datastore_jobs(store, ctx, &datastore, kind)?;
    let job = jobs
        .iter()
        .find(|j| j.record.id() == Some(job_id.as_str()))
        .ok_or_else(|| ApiError::not_found(format!("Job with ID {job_id} does not exist")))?;
    let key = if kind == Kind::ExportJob {
        "ExportJobProperties"
    } else {
        "ImportJobProperties"
    };
    let mut out = serde_json::Map::new();
    out.insert(key.to_owned(), to_value(&&*job.wire)?);
    to_json(&out).map(Outcome::body)
}

/// The fields only `GetDataTransformationProfile` returns.
const GET_ONLY: [&str; 2] = ["ProfileMapping", "ChangeDescription"];

/// `ListDataTransformationProfiles`.
pub(crate) fn list_profiles(store: &Store, ctx: Ctx<'_>, body: &[u8]) -> Result<Outcome, ApiError> {
    let input: ListProfilesInput = parse_input(body)?;
    let page = page_size(input.max_results, MAX_PROFILE_RESULTS, MAX_PROFILE_RESULTS)?;
    match &input.source_format {
        None => {
            return Err(constraint(
                "null",
                "sourceFormat",
                "Member must not be null",
            ))
        }
        Some(format) if !["CCDA", "CSV"].contains(&format.as_str()) => {
            return Err(constraint(
                format,
                "sourceFormat",
                "Member must satisfy enum value set: [CCDA, CSV]",
            ));
        }
        Some(_) => {}
    }
    let fingerprint = fnv1a(&[
        ctx.account.as_bytes(),
        ctx.region.as_bytes(),
        b"profiles",
        input.source_format.as_deref().unwrap_or("").as_bytes(),
    ]);
    let selected: Vec<&Profile> = store
        .jobs
        .profiles(ctx.account, ctx.region)
        .iter()
        .filter(|p| input.source_format.is_none() || p.source_format == input.source_format)
        .collect();
    let listing = Listing {
        key: "Items",
        fingerprint,
        page,
        next_token: input.next_token.as_deref(),
    };
    listing.answer(&selected, |p| {
        let mut summary = p.json.clone();
        for field in GET_ONLY {
            summary.remove(field);
        }
        Value::Object(summary)
    })
}

/// `GetDataTransformationProfile`: the latest version (the emulator keeps one version
/// per profile; asking for another is `ResourceNotFoundException`).
pub(crate) fn get_profile(store: &Store, ctx: Ctx<'_>, body: &[u8]) -> Result<Outcome, ApiError> {
    let input: GetProfileInput = parse_input(body)?;
    let id = input
        .profile_id
        .ok_or_else(|| constraint("null", "profileId", "Member must not be null"))?;
    let profile = store
        .jobs
        .profiles(ctx.account, ctx.region)
        .iter()
        .find(|p| p.id == id && input.profile_version.is_none_or(|v| v == p.version))
        .ok_or_else(|| {
            ApiError::not_found(format!("Data transformation profile {id} does not exist"))
        })?;
    let mut out = profile.json.clone();
    out.entry("ProfileMapping")
        .or_insert_with(|| Value::Object(Map::new()));
    to_json(&out).map(Outcome::body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_bound_submit_time_strictly() {
        let record = Record::from_value_as(
            Kind::ExportJob,
            &json!({"JobId": "j", "DatastoreId": "d", "JobStatus": "COMPLETED", "SubmitTime": 100.0}),
        )
        .unwrap();
        let wire = wire_json(&record, &JOB_TIMESTAMPS).unwrap();
        let job = Job { record, wire };
        let after = |t: f64| ListJobsInput {
            submitted_after: Some(t),
            ..ListJobsInput::default()
        };
        assert!(job_matches(&after(99.5), &job));
        assert!(!job_matches(&after(100.0), &job));
        let status = ListJobsInput {
            job_status: Some("FAILED".to_owned()),
            ..ListJobsInput::default()
        };
        assert!(!job_matches(&status, &job));
    }
}

//! Listing the export and import jobs of each data store: every page, the raw records,
//! the loop guard, as [`crate::listing`] lists data stores.
//!
//! A job says where a data store's data went (an export's S3 location, key and role)
//! or came from, so a job listing that fails is a collection error about its data
//! store (`resource` = the data store's ARN), never a silently shorter inventory. The
//! one exception: a data store that is `DELETED` may have no job history left to list,
//! and `ResourceNotFoundException` for it is not an error.
//!
//! Both listings are asked with `SubmittedAfter` when the configuration bounds the jobs
//! by time ([`JobSelection::submitted_after`]): the service filters, so an old data
//! store with years of jobs costs the pages of the recent ones only. Each job is
//! checked to belong to the data store it was listed for.

use std::sync::Arc;

use aws_sdk_healthlake::operation::list_fhir_export_jobs::ListFHIRExportJobsError;
use aws_sdk_healthlake::operation::list_fhir_import_jobs::ListFHIRImportJobsError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::DateTime;
use hlaudit_model::{CollectionError, Kind, Record};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::task::JoinSet;

use crate::capture::CaptureBody;
use crate::config::JobSelection;
use crate::failure;
use crate::listing::{page_suffix, Next, Pages, Paging, RegionTarget};
use crate::retry::{AttemptError, Classify, GaveUp, Transient};

/// The operation of export job listings, as collection errors name it.
pub(crate) const LIST_EXPORT_JOBS: &str = "ListFHIRExportJobs";
/// The operation of import job listings.
pub(crate) const LIST_IMPORT_JOBS: &str = "ListFHIRImportJobs";

/// How jobs are listed: the time bound, the page size, the bound on requests in
/// flight and the retries.
#[derive(Debug)]
pub(crate) struct JobSettings {
    pub submitted_after: Option<DateTime>,
    pub paging: Paging,
}

impl JobSettings {
    pub(crate) fn new(selection: &JobSelection, paging: Paging) -> Self {
        JobSettings {
            submitted_after: selection.submitted_after.map(|t| {
                DateTime::from_secs_and_nanos(t.0.timestamp(), t.0.timestamp_subsec_nanos())
            }),
            paging,
        }
    }
}

/// The data store a listing is for, taken from its record.
#[derive(Debug, Clone)]
struct Parent {
    id: String,
    arn: String,
    name: Option<String>,
    deleted: bool,
    context: hlaudit_model::identity::Context,
}

impl Parent {
    fn of(record: &Record) -> Option<Self> {
        Some(Parent {
            id: record.id()?.to_owned(),
            arn: record.arn()?.to_owned(),
            name: record.name().map(str::to_owned),
            deleted: record.status() == Some("DELETED"),
            context: record.context().clone(),
        })
    }

    fn described(&self) -> String {
        match &self.name {
            Some(name) => format!("data store {name} ({})", self.arn),
            None => format!("data store {}", self.arn),
        }
    }
}

/// The jobs of every data store of `datastores` (records of other kinds are skipped),
/// export then import jobs of each data store, data stores in the order given; and the
/// collection errors. The data stores are listed concurrently (bounded by the
/// settings' semaphore).
pub(crate) async fn list_jobs(
    client: &aws_sdk_healthlake::Client,
    target: &RegionTarget,
    datastores: &[Record],
    settings: &Arc<JobSettings>,
) -> (Vec<Record>, Vec<CollectionError>) {
    let mut tasks = JoinSet::new();
    let parents = datastores
        .iter()
        .filter(|r| r.kind() == Kind::Datastore)
        .filter_map(Parent::of);
    for (i, parent) in parents.enumerate() {
        for kind in [Kind::ExportJob, Kind::ImportJob] {
            let (client, target, settings, parent) = (
                client.clone(),
                target.clone(),
                settings.clone(),
                parent.clone(),
            );
            tasks.spawn(async move {
                let out = list_one(&client, &target, &parent, kind, &settings).await;
                (i, kind, out)
            });
        }
    }
    let mut done = Vec::new();
    let mut errors = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(one) => done.push(one),
            Err(e) => errors.push(CollectionError {
                account: target.account.clone(),
                region: Some(target.region.clone()),
                operation: LIST_EXPORT_JOBS.to_owned(),
                resource: None,
                code: "internal".to_owned(),
                message: format!("a job listing task failed: {e}"),
            }),
        }
    }
    // Completion order varies with timing; records and errors come in data store order.
    done.sort_by_key(|(i, kind, _)| (*i, *kind));
    let mut records = Vec::new();
    for (_, _, (jobs, errs)) in done {
        records.extend(jobs);
        errors.extend(errs);
    }
    (records, errors)
}

/// The first page (one job at most) of the export or import jobs of `datastore`: the
/// one request that shows whether its jobs can be listed, as [`crate::check_access`]
/// makes it. A page that fails after its retries is the error a collection would
/// record.
pub(crate) async fn probe(
    client: &aws_sdk_healthlake::Client,
    target: &RegionTarget,
    datastore: &Record,
    kind: Kind,
    settings: &JobSettings,
) -> Result<(), CollectionError> {
    let Some(parent) = Parent::of(datastore) else {
        return Ok(());
    };
    let key = target.healthlake_key();
    settings
        .paging
        .retrier
        .call(&key, operation(kind), &settings.paging.requests, || {
            fetch_page(client, kind, &parent.id, settings, None)
        })
        .await
        .map(|_| ())
        .map_err(|gave_up| page_error(&gave_up, target, &parent, kind, settings, 1))
}

/// Every page of one data store's export or import jobs.
async fn list_one(
    client: &aws_sdk_healthlake::Client,
    target: &RegionTarget,
    parent: &Parent,
    kind: Kind,
    settings: &JobSettings,
) -> (Vec<Record>, Vec<CollectionError>) {
    let operation = operation(kind);
    let key = target.healthlake_key();
    let mut records = Vec::new();
    let mut errors = Vec::new();
    let mut pages = Pages::default();
    loop {
        let page_number = pages.advance();
        let result = settings
            .paging
            .retrier
            .call(&key, operation, &settings.paging.requests, || {
                fetch_page(client, kind, &parent.id, settings, pages.next_token.clone())
            })
            .await;
        let (token, body) = match result {
            Ok(page) => page,
            Err(gave_up) => {
                if gone(parent, service_code(&gave_up.error)) {
                    tracing::debug!(datastore = %parent.arn, operation, "deleted data store has no jobs to list");
                } else {
                    errors.push(page_error(
                        &gave_up,
                        target,
                        parent,
                        kind,
                        settings,
                        page_number,
                    ));
                }
                break;
            }
        };
        records.extend(records_of(&body, target, parent, kind, &mut errors));
        match pages.follow(token.as_deref()) {
            Next::Page => {}
            Next::Done => break,
            Next::Loop => {
                errors.push(error(
                    target,
                    parent,
                    kind,
                    "pagination-loop",
                    format!(
                        "page {page_number} of the {}s of {} returned a NextToken already \
                         seen in this listing; listing stopped, later pages were not read",
                        kind.noun(),
                        parent.described()
                    ),
                ));
                break;
            }
        }
    }
    (records, errors)
}

fn operation(kind: Kind) -> &'static str {
    if kind == Kind::ExportJob {
        LIST_EXPORT_JOBS
    } else {
        LIST_IMPORT_JOBS
    }
}

/// The SDK error of either listing.
#[derive(Debug)]
pub(crate) enum ListJobsError {
    Export(SdkError<ListFHIRExportJobsError, HttpResponse>),
    Import(SdkError<ListFHIRImportJobsError, HttpResponse>),
}

impl Classify for ListJobsError {
    fn transient(&self) -> Option<Transient> {
        match self {
            ListJobsError::Export(e) => e.transient(),
            ListJobsError::Import(e) => e.transient(),
        }
    }
}

/// Whether a listing failed only because its data store is gone: a `DELETED` data
/// store the service no longer knows (`ResourceNotFoundException`) has no job history
/// left to list. Any other failure, and this one for a live data store, is an error.
fn gone(parent: &Parent, code: Option<&str>) -> bool {
    parent.deleted && code == Some("ResourceNotFoundException")
}

/// The service's error code of a failed attempt, for a service error.
fn service_code(error: &AttemptError<ListJobsError>) -> Option<&str> {
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;
    match error {
        AttemptError::Sdk(ListJobsError::Export(SdkError::ServiceError(s))) => s.err().code(),
        AttemptError::Sdk(ListJobsError::Import(SdkError::ServiceError(s))) => s.err().code(),
        _ => None,
    }
}

type PageAttempt = Result<(Option<String>, Vec<u8>), AttemptError<ListJobsError>>;

/// One attempt at one page: the `NextToken` and the body as sent, checked to hold as
/// many jobs as the SDK read (a body cut short or malformed is retried).
async fn fetch_page(
    client: &aws_sdk_healthlake::Client,
    kind: Kind,
    datastore_id: &str,
    settings: &JobSettings,
    next_token: Option<String>,
) -> PageAttempt {
    let capture = CaptureBody::default();
    // The two listings take the same input; only the SDK's builder, error and output
    // types differ, so one request shape serves both.
    macro_rules! list_page {
        ($operation:ident, $error:path, $list:ident) => {{
            let out = client
                .$operation()
                .datastore_id(datastore_id)
                .set_submitted_after(settings.submitted_after)
                .set_max_results(settings.paging.page_size)
                .set_next_token(next_token)
                .customize()
                .interceptor(capture.clone())
                .send()
                .await
                .map_err(|e| AttemptError::Sdk($error(e)))?;
            (out.next_token().map(str::to_owned), out.$list().len())
        }};
    }
    let (token, count) = if kind == Kind::ExportJob {
        list_page!(
            list_fhir_export_jobs,
            ListJobsError::Export,
            export_job_properties_list
        )
    } else {
        list_page!(
            list_fhir_import_jobs,
            ListJobsError::Import,
            import_job_properties_list
        )
    };
    let body = capture.body()?;
    let raw = raw_list(&body, kind).map_err(AttemptError::Unreadable)?;
    if raw.len() != count {
        return Err(AttemptError::Unreadable(format!(
            "the response body holds {} jobs but the SDK read {count}",
            raw.len()
        )));
    }
    Ok((token, body))
}

/// The job objects of a response body, as the exact text sent.
fn raw_list(body: &[u8], kind: Kind) -> Result<Vec<&RawValue>, String> {
    #[derive(Deserialize)]
    struct Export<'a> {
        #[serde(rename = "ExportJobPropertiesList", borrow, default)]
        list: Vec<&'a RawValue>,
    }
    #[derive(Deserialize)]
    struct Import<'a> {
        #[serde(rename = "ImportJobPropertiesList", borrow, default)]
        list: Vec<&'a RawValue>,
    }
    let parsed = if kind == Kind::ExportJob {
        serde_json::from_slice::<Export<'_>>(body).map(|p| p.list)
    } else {
        serde_json::from_slice::<Import<'_>>(body).map(|p| p.list)
    };
    parsed.map_err(|e| {
        format!(
            "the {} response body is not the expected JSON: {e}",
            operation(kind)
        )
    })
}

/// The records of one checked response body: each job with its data store's context.
/// A job that is not a valid record, or that names another data store, is an error.
fn records_of(
    body: &[u8],
    target: &RegionTarget,
    parent: &Parent,
    kind: Kind,
    errors: &mut Vec<CollectionError>,
) -> Vec<Record> {
    let list = match raw_list(body, kind) {
        Ok(list) => list,
        Err(why) => {
            errors.push(error(target, parent, kind, "invalid-response", why));
            return Vec::new();
        }
    };
    let source = target.source(parent.context.account.as_deref());
    let mut records = Vec::with_capacity(list.len());
    for raw in list {
        let record = RawValue::from_string(raw.get().to_owned())
            .map_err(|e| e.to_string())
            .and_then(|owned| {
                Record::existing(kind, owned).map_err(|e| format!("{}: {}", e.path, e.message))
            });
        match record {
            Ok(record) => {
                let belongs = matches!(record.identity(),
                    hlaudit_model::Identity::Job(j) if j.datastore_id == parent.id);
                if !belongs {
                    errors.push(error(
                        target,
                        parent,
                        kind,
                        "invalid-record",
                        format!(
                            "the {} listing of {} returned {}, which names another data store; \
                             it was left out",
                            kind.noun(),
                            parent.described(),
                            record.identity()
                        ),
                    ));
                    continue;
                }
                records.push(
                    record
                        .with_context(parent.context.clone())
                        .with_source(source.clone()),
                );
            }
            Err(why) => errors.push(error(
                target,
                parent,
                kind,
                "invalid-record",
                format!(
                    "a job listed for {} is not a valid {} object: {why}",
                    parent.described(),
                    kind.api_shape()
                ),
            )),
        }
    }
    records
}

fn page_error(
    gave_up: &GaveUp<AttemptError<ListJobsError>>,
    target: &RegionTarget,
    parent: &Parent,
    kind: Kind,
    settings: &JobSettings,
    page_number: usize,
) -> CollectionError {
    let call = target.healthlake_call(operation(kind), settings.paging.endpoint.as_deref());
    let (code, message) = gave_up.error.code_and_message(|e| match e {
        ListJobsError::Export(e) => failure::describe(e, &call),
        ListJobsError::Import(e) => failure::describe(e, &call),
    });
    let page = page_suffix(page_number);
    error(
        target,
        parent,
        kind,
        &code,
        format!(
            "the {}s of {} could not be listed{page}: {message}{}",
            kind.noun(),
            parent.described(),
            gave_up.tried()
        ),
    )
}

fn error(
    target: &RegionTarget,
    parent: &Parent,
    kind: Kind,
    code: &str,
    message: String,
) -> CollectionError {
    CollectionError {
        account: parent
            .context
            .account
            .clone()
            .or_else(|| target.account.clone()),
        region: Some(target.region.clone()),
        operation: operation(kind).to_owned(),
        resource: Some(parent.arn.clone()),
        code: code.to_owned(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/ds1";

    fn parent() -> Parent {
        let record = Record::from_value(&json!({
            "DatastoreId": "ds1", "DatastoreArn": ARN, "DatastoreName": "clinical",
        }))
        .unwrap();
        Parent::of(&record).unwrap()
    }

    fn target() -> RegionTarget {
        RegionTarget {
            account: Some("111122223333".to_owned()),
            region: "us-east-1".to_owned(),
            profile: None,
        }
    }

    #[test]
    fn keeps_each_job_as_sent_with_its_data_store_context() {
        let body = br#"{"ExportJobPropertiesList":[{"JobId":"j1","DatastoreId":"ds1","JobStatus":"COMPLETED","SubmitTime":1.5,"Later":{"x":[1]}}]}"#;
        let mut errors = Vec::new();
        let records = records_of(body, &target(), &parent(), Kind::ExportJob, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(records.len(), 1);
        assert_eq!(
            records[0].raw_json(),
            r#"{"JobId":"j1","DatastoreId":"ds1","JobStatus":"COMPLETED","SubmitTime":1.5,"Later":{"x":[1]}}"#
        );
        assert_eq!(records[0].kind(), Kind::ExportJob);
        assert_eq!(records[0].account(), Some("111122223333"));
        assert_eq!(records[0].region(), Some("us-east-1"));
    }

    #[test]
    fn a_job_of_another_data_store_or_an_invalid_one_is_an_error() {
        let body = br#"{"ImportJobPropertiesList":[{"JobId":"j1","DatastoreId":"other"},{"DatastoreId":"ds1"},{"JobId":"j3","DatastoreId":"ds1"}]}"#;
        let mut errors = Vec::new();
        let records = records_of(body, &target(), &parent(), Kind::ImportJob, &mut errors);
        assert_eq!(records.len(), 1);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.iter().all(|e| e.code == "invalid-record"
            && e.resource.as_deref() == Some(ARN)
            && e.operation == LIST_IMPORT_JOBS));
        assert!(
            errors[0].message.contains("another data store"),
            "{}",
            errors[0].message
        );
        assert!(errors[1].message.contains("JobId"), "{}", errors[1].message);
    }

    #[test]
    fn only_a_deleted_data_store_may_be_unknown_to_the_job_listings() {
        let live = parent();
        let deleted = Parent {
            deleted: true,
            ..parent()
        };
        assert!(gone(&deleted, Some("ResourceNotFoundException")));
        assert!(!gone(&live, Some("ResourceNotFoundException")));
        assert!(!gone(&deleted, Some("AccessDeniedException")));
        assert!(!gone(&deleted, None));
    }

    #[test]
    fn a_body_of_the_other_listing_or_cut_short_is_unreadable() {
        let body = br#"{"ExportJobPropertiesList":[{"JobId":"j1","DatastoreId":"ds1"}]}"#;
        assert_eq!(raw_list(body, Kind::ExportJob).unwrap().len(), 1);
        assert!(raw_list(body, Kind::ImportJob).unwrap().is_empty());
        let cut = raw_list(&body[..body.len() / 2], Kind::ExportJob).unwrap_err();
        assert!(cut.contains("ListFHIRExportJobs"), "{cut}");
    }
}

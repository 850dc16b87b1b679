//! Listing the data stores of one region: every page, the raw records, the loop guard.

use std::collections::HashSet;
use std::sync::Arc;

use aws_sdk_healthlake::operation::list_fhir_datastores::{
    ListFHIRDatastoresError, ListFhirDatastoresOutput,
};
use aws_sdk_healthlake::types::{DatastoreFilter, DatastoreStatus};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::DateTime;
use hlaudit_model::{CollectionError, Record, Source, Timestamp};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::Semaphore;

use crate::capture::CaptureBody;
use crate::config::Filters;
use crate::failure::{self, Call};
use crate::limiter::{Caller, LimitKey};
use crate::retry::{AttemptError, GaveUp, Retrier};

/// The operation name recorded in collection errors.
pub(crate) const LIST_OPERATION: &str = "ListFHIRDatastores";

/// One region of one credential set to list.
#[derive(Debug, Clone)]
pub(crate) struct RegionTarget {
    /// The account of the credentials, when known (STS).
    pub account: Option<String>,
    /// The region.
    pub region: String,
    /// The profile of the credential set, when one was named.
    pub profile: Option<String>,
}

impl RegionTarget {
    /// Whose request quota the calls of this target count against.
    pub(crate) fn caller(&self) -> Caller {
        Caller::of(self.account.as_deref(), self.profile.as_deref())
    }

    /// The limiter key of this target's HealthLake calls.
    pub(crate) fn healthlake_key(&self) -> LimitKey {
        LimitKey {
            caller: self.caller(),
            region: self.region.clone(),
            service: "healthlake",
        }
    }

    /// A HealthLake call of this target, as failures describe it; `endpoint` is the
    /// HealthLake endpoint when it is replaced.
    pub(crate) fn healthlake_call<'a>(
        &'a self,
        operation: &'static str,
        endpoint: Option<&'a str>,
    ) -> Call<'a> {
        Call {
            service: "healthlake",
            operation,
            region: &self.region,
            profile: self.profile.as_deref(),
            endpoint,
        }
    }

    /// Where the records listed for `account` in this region come from.
    pub(crate) fn source(&self, account: Option<&str>) -> Source {
        Source {
            file: Arc::from(format!(
                "healthlake://{}/{}",
                account.unwrap_or_default(),
                self.region
            )),
            line: 0,
            column: 0,
        }
    }
}

/// The pages of one listing: the number and `NextToken` of the page to ask for, and
/// the tokens already followed, so that a service sending one again (a pagination
/// loop) stops the listing instead of running it forever.
#[derive(Debug, Default)]
pub(crate) struct Pages {
    /// The page asked for, from 1 (0 before the first).
    pub number: usize,
    /// The `NextToken` to send; `None` for the first page.
    pub next_token: Option<String>,
    seen: HashSet<String>,
}

/// What follows a page.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Another page, asked for with the token this one returned.
    Page,
    /// Nothing: the page returned no `NextToken`.
    Done,
    /// Nothing: the page returned a `NextToken` already followed.
    Loop,
}

impl Pages {
    /// Moves on to the next page; its number.
    pub(crate) fn advance(&mut self) -> usize {
        self.number += 1;
        self.number
    }

    /// Follows the `NextToken` the current page returned.
    pub(crate) fn follow(&mut self, token: Option<&str>) -> Next {
        match token {
            None | Some("") => Next::Done,
            Some(token) if !self.seen.insert(token.to_owned()) => Next::Loop,
            Some(token) => {
                self.next_token = Some(token.to_owned());
                Next::Page
            }
        }
    }
}

/// How a message names page `page_number` of a listing: nothing for the first.
pub(crate) fn page_suffix(page_number: usize) -> String {
    if page_number == 1 {
        String::new()
    } else {
        format!(" (page {page_number})")
    }
}

/// How to list: the filter, the page size and the limit on requests in flight.
#[derive(Debug)]
pub(crate) struct ListSettings {
    pub filter: Option<DatastoreFilter>,
    pub paging: Paging,
}

/// How every HealthLake listing (data stores, jobs, profiles) asks for its pages.
#[derive(Debug, Clone)]
pub(crate) struct Paging {
    pub page_size: Option<i32>,
    /// The HealthLake endpoint when it is replaced: messages name it (and profile
    /// requests go to it without their host prefix).
    pub endpoint: Option<String>,
    /// Held during each page request: bounds the requests in flight across regions.
    pub requests: Arc<Semaphore>,
    /// Retries each page request.
    pub retrier: Arc<Retrier>,
}

/// The `Filter` of `ListFHIRDatastores` for `filters`, or `None` when nothing is set.
pub(crate) fn datastore_filter(filters: &Filters) -> Option<DatastoreFilter> {
    if filters.is_empty() {
        return None;
    }
    Some(
        DatastoreFilter::builder()
            .set_datastore_name(filters.name.clone())
            .set_datastore_status(filters.status.as_deref().map(DatastoreStatus::from))
            .set_created_before(filters.created_before.map(date_time))
            .set_created_after(filters.created_after.map(date_time))
            .build(),
    )
}

fn date_time(t: Timestamp) -> DateTime {
    DateTime::from_secs_and_nanos(t.0.timestamp(), t.0.timestamp_subsec_nanos())
}

/// The part of a `ListFHIRDatastores` response body the records are taken from; the
/// elements stay the exact JSON text the service sent.
#[derive(Deserialize)]
struct RawPage<'a> {
    #[serde(rename = "DatastorePropertiesList", borrow, default)]
    list: Vec<&'a RawValue>,
}

/// Lists every page of one region, calling `on_page` with the records of each page
/// as it arrives. Returns the collection errors: a page that failed after its
/// retries, a `NextToken` seen before (`pagination-loop`), a record that is not a
/// valid `DatastoreProperties` object. Listing stops at the first page that fails,
/// since the next page cannot be asked for.
///
/// A page whose answer is malformed or cut short is asked again with the same
/// `NextToken` (see [`fetch_page`]), so a fault never skips or repeats a page.
pub(crate) async fn list_region(
    client: &aws_sdk_healthlake::Client,
    target: &RegionTarget,
    settings: &ListSettings,
    on_page: &mut (dyn FnMut(Vec<Record>) + Send),
) -> Vec<CollectionError> {
    let mut errors = Vec::new();
    let mut pages = Pages::default();
    let key = target.healthlake_key();
    loop {
        let page_number = pages.advance();
        let result = settings
            .paging
            .retrier
            .call(&key, LIST_OPERATION, &settings.paging.requests, || {
                fetch_page(client, settings, pages.next_token.clone())
            })
            .await;
        let (output, body) = match result {
            Ok(page) => page,
            Err(gave_up) => {
                errors.push(page_error(&gave_up, target, settings, page_number));
                break;
            }
        };
        let records = records_of(&body, target, &mut errors);
        tracing::debug!(region = %target.region, page = page_number, records = records.len(), "page listed");
        on_page(records);
        match pages.follow(output.next_token()) {
            Next::Page => {}
            Next::Done => break,
            Next::Loop => {
                tracing::warn!(region = %target.region, page = page_number, "NextToken repeats");
                errors.push(error(
                    target,
                    "pagination-loop",
                    &format!(
                        "page {page_number} returned a NextToken already seen in this listing; \
                         listing stopped to avoid an endless loop, later pages were not read"
                    ),
                ));
                break;
            }
        }
    }
    errors
}

/// Lists the first page of one region only (up to `settings.page_size` data stores):
/// the one request that shows whether the region can be listed, as
/// [`crate::check_access`] makes it. A page that fails after its retries is the error
/// [`list_region`] would record.
pub(crate) async fn first_page(
    client: &aws_sdk_healthlake::Client,
    target: &RegionTarget,
    settings: &ListSettings,
) -> Result<Vec<Record>, CollectionError> {
    let key = target.healthlake_key();
    let (_, body) = settings
        .paging
        .retrier
        .call(&key, LIST_OPERATION, &settings.paging.requests, || {
            fetch_page(client, settings, None)
        })
        .await
        .map_err(|gave_up| page_error(&gave_up, target, settings, 1))?;
    let mut errors = Vec::new();
    let records = records_of(&body, target, &mut errors);
    match errors.into_iter().next() {
        Some(e) if records.is_empty() => Err(e),
        _ => Ok(records),
    }
}

/// The collection error of page `page_number` of a listing that failed after its
/// retries.
fn page_error(
    gave_up: &GaveUp<PageError>,
    target: &RegionTarget,
    settings: &ListSettings,
    page_number: usize,
) -> CollectionError {
    let call = target.healthlake_call(LIST_OPERATION, settings.paging.endpoint.as_deref());
    let (code, message) = gave_up
        .error
        .code_and_message(|err| failure::describe(err, &call));
    let message = if page_number == 1 {
        format!("{message}{}", gave_up.tried())
    } else {
        format!(
            "page {page_number} could not be listed: {message}{}",
            gave_up.tried()
        )
    };
    error(target, &code, &message)
}

type PageError = AttemptError<SdkError<ListFHIRDatastoresError, HttpResponse>>;

type PageAttempt = Result<(ListFhirDatastoresOutput, Vec<u8>), PageError>;

/// One attempt at one page: the typed output and the body as sent, checked to be the
/// JSON the typed output was read from. A body the collector cannot read (not kept,
/// not JSON, another count of data stores) is [`AttemptError::Unreadable`], retried
/// like a malformed answer.
async fn fetch_page(
    client: &aws_sdk_healthlake::Client,
    settings: &ListSettings,
    next_token: Option<String>,
) -> PageAttempt {
    let capture = CaptureBody::default();
    let output = client
        .list_fhir_datastores()
        .set_filter(settings.filter.clone())
        .set_max_results(settings.paging.page_size)
        .set_next_token(next_token)
        .customize()
        .interceptor(capture.clone())
        .send()
        .await
        .map_err(AttemptError::Sdk)?;
    let body = capture.body()?;
    check_page(&body, output.datastore_properties_list().len())
        .map_err(AttemptError::Unreadable)?;
    Ok((output, body))
}

/// Checks that a body the SDK accepted is the page it read: JSON with the same number
/// of data stores.
fn check_page(body: &[u8], typed_count: usize) -> Result<(), String> {
    let page: RawPage<'_> = serde_json::from_slice(body).map_err(|e| {
        format!("the ListFHIRDatastores response body is not the expected JSON: {e}")
    })?;
    if page.list.len() != typed_count {
        return Err(format!(
            "the response body holds {} data stores but the SDK read {typed_count}",
            page.list.len()
        ));
    }
    Ok(())
}

/// The records of one response body ([`check_page`] has accepted it). An element
/// that is not a usable record is an error, never a silently shorter list.
fn records_of(
    body: &[u8],
    target: &RegionTarget,
    errors: &mut Vec<CollectionError>,
) -> Vec<Record> {
    let page: RawPage<'_> = match serde_json::from_slice(body) {
        Ok(page) => page,
        Err(e) => {
            errors.push(error(
                target,
                "invalid-response",
                &format!("the ListFHIRDatastores response body is not the expected JSON: {e}"),
            ));
            return Vec::new();
        }
    };
    let mut records = Vec::with_capacity(page.list.len());
    for raw in page.list {
        let owned = match RawValue::from_string(raw.get().to_owned()) {
            Ok(owned) => owned,
            Err(e) => {
                errors.push(error(target, "invalid-record", &e.to_string()));
                continue;
            }
        };
        match Record::from_raw(owned) {
            Ok(record) => {
                let source = target.source(record.account());
                records.push(record.with_source(source));
            }
            Err(e) => {
                let mut err = error(
                    target,
                    "invalid-record",
                    &format!("a data store in the response is not a valid DatastoreProperties object: {e}"),
                );
                err.resource = arn_of(raw);
                errors.push(err);
            }
        }
    }
    records
}

fn arn_of(raw: &RawValue) -> Option<String> {
    #[derive(Deserialize)]
    struct ArnOnly {
        #[serde(rename = "DatastoreArn")]
        arn: Option<String>,
    }
    serde_json::from_str::<ArnOnly>(raw.get())
        .ok()
        .and_then(|a| a.arn)
}

fn error(target: &RegionTarget, code: &str, message: &str) -> CollectionError {
    CollectionError {
        account: target.account.clone(),
        region: Some(target.region.clone()),
        operation: LIST_OPERATION.to_owned(),
        resource: None,
        code: code.to_owned(),
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_each_token_once() {
        let mut pages = Pages::default();
        assert_eq!(pages.advance(), 1);
        assert_eq!(pages.next_token, None);
        assert_eq!(pages.follow(Some("a")), Next::Page);
        assert_eq!(pages.next_token.as_deref(), Some("a"));
        assert_eq!(pages.advance(), 2);
        assert_eq!(pages.follow(Some("b")), Next::Page);
        assert_eq!(pages.follow(Some("a")), Next::Loop);
        assert_eq!(pages.next_token.as_deref(), Some("b"));
        assert_eq!(pages.follow(Some("")), Next::Done);
        assert_eq!(pages.follow(None), Next::Done);
        assert_eq!(page_suffix(1), "");
        assert_eq!(page_suffix(2), " (page 2)");
    }

    fn target() -> RegionTarget {
        RegionTarget {
            account: Some("111122223333".to_owned()),
            region: "us-east-1".to_owned(),
            profile: None,
        }
    }

    const ARN: &str = "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/a";

    #[test]
    fn keeps_each_record_as_sent() {
        let body = format!(
            r#"{{"DatastorePropertiesList":[{{"DatastoreId":"a","DatastoreArn":"{ARN}","Future":{{"x": [1, 2]}}}}],"NextToken":"t"}}"#
        );
        let mut errors = Vec::new();
        check_page(body.as_bytes(), 1).unwrap();
        let records = records_of(body.as_bytes(), &target(), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            records[0].raw_json(),
            format!(r#"{{"DatastoreId":"a","DatastoreArn":"{ARN}","Future":{{"x": [1, 2]}}}}"#)
        );
        assert_eq!(
            records[0]
                .source
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("healthlake://111122223333/us-east-1")
        );
    }

    #[test]
    fn an_invalid_record_is_an_error() {
        let body = format!(
            r#"{{"DatastorePropertiesList":[{{"DatastoreId":"a","DatastoreArn":"{ARN}","CreatedAt":true}},{{"DatastoreId":"b","DatastoreArn":"{ARN}"}}]}}"#
        );
        let mut errors = Vec::new();
        let records = records_of(body.as_bytes(), &target(), &mut errors);
        assert_eq!(records.len(), 1);
        let codes: Vec<&str> = errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, ["invalid-record"]);
        assert_eq!(errors[0].resource.as_deref(), Some(ARN));
        assert!(
            errors[0].message.contains("CreatedAt"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn a_body_cut_short_or_with_another_count_is_unreadable() {
        let body = format!(r#"{{"DatastorePropertiesList":[{{"DatastoreArn":"{ARN}"}}]}}"#);
        assert!(check_page(body.as_bytes(), 1).is_ok());
        let count = check_page(body.as_bytes(), 3).unwrap_err();
        assert!(
            count.contains("holds 1 data stores but the SDK read 3"),
            "{count}"
        );
        let half = &body.as_bytes()[..body.len() / 2];
        let cut = check_page(half, 1).unwrap_err();
        assert!(cut.contains("not the expected JSON"), "{cut}");
    }

    #[test]
    fn filters_map_to_the_api_filter() {
        assert!(datastore_filter(&Filters::default()).is_none());
        let f = datastore_filter(&Filters {
            name: Some("prod".to_owned()),
            status: Some("ACTIVE".to_owned()),
            created_before: Some(Timestamp::parse("2024-01-02T03:04:05.5Z").unwrap()),
            created_after: None,
        })
        .unwrap();
        assert_eq!(f.datastore_name(), Some("prod"));
        assert_eq!(f.datastore_status(), Some(&DatastoreStatus::Active));
        let before = f.created_before().unwrap();
        assert_eq!(before.secs(), 1_704_164_645);
        assert_eq!(before.subsec_nanos(), 500_000_000);
        assert!(f.created_after().is_none());
    }
}

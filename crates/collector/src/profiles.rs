//! Listing the data transformation profiles of one region: every page, the raw records,
//! the loop guard, as [`crate::listing`] lists data stores.
//!
//! `SourceFormat` is required by the listing (the SDK refuses to send it without one), so
//! a region is listed once per format the SDK's model knows (`CCDA`, `CSV` in 1.127,
//! from [`SourceFormat::values`], so a newer SDK lists new formats too).
//!
//! The decision: list, never get. `ListDataTransformationProfiles` returns each
//! profile's `DataTransformationProfileSummary` (id, version, formats, name,
//! description, last update), and `GetDataTransformationProfile` returns the same plus
//! `ProfileMapping` (the profile's whole content, every template file) and
//! `ChangeDescription`. Neither returns the profile's KMS key or an ARN (in the API
//! model of aws-sdk-healthlake 1.127 the key is only an input of
//! `CreateDataTransformationProfile`), so a get per profile would cost a request each
//! and copy the profile's content into the snapshot without giving any policy a field
//! it needs. The summaries are kept as sent: a field AWS adds later (the key, say)
//! reaches the snapshot untouched.
//!
//! Profile operations carry the host prefix `datatransformation.` in the SDK's model.
//! When the HealthLake endpoint is replaced (`--endpoint-url`,
//! `AWS_ENDPOINT_URL_HEALTHLAKE`), the replacement names the exact host to talk to (an
//! emulator, a proxy, a VPC endpoint), so the prefix is dropped, as the SDKs' own
//! `disable_host_prefix_injection` setting does; the public endpoint keeps it.

use aws_sdk_healthlake::operation::list_data_transformation_profiles::ListDataTransformationProfilesError;
use aws_sdk_healthlake::types::SourceFormat;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use hlaudit_model::identity::Context;
use hlaudit_model::{CollectionError, Kind, Record};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::capture::CaptureBody;
use crate::failure;
use crate::listing::{page_suffix, Next, Pages, Paging, RegionTarget};
use crate::retry::{AttemptError, GaveUp};

/// The operation of profile listings, as collection errors name it.
pub(crate) const LIST_PROFILES: &str = "ListDataTransformationProfiles";

/// The host prefix of the profile operations.
const HOST_PREFIX: &str = "datatransformation.";

/// The largest `MaxResults` of `ListDataTransformationProfiles`.
const MAX_PAGE_SIZE: i32 = 100;

/// Every profile of one region, of every source format, with `context` (the region's
/// account and region), and the collection errors: a page that failed after its
/// retries, a repeating `NextToken`, an item that is not a valid profile. A failure is
/// about the region (`resource` is `None`); the data stores of the region are
/// unaffected.
pub(crate) async fn list_profiles(
    client: &aws_sdk_healthlake::Client,
    target: &RegionTarget,
    context: &Context,
    settings: &Paging,
) -> (Vec<Record>, Vec<CollectionError>) {
    let mut records = Vec::new();
    let mut errors = Vec::new();
    let formats = SourceFormat::values();
    for (i, format) in formats.iter().enumerate() {
        let (r, e, failed) = list_format(client, target, context, settings, format).await;
        records.extend(r);
        errors.extend(e);
        // A listing that failed after its retries (denied, throttled past the budget)
        // would fail the same way for the next format: one error for the region, which
        // says what was left out.
        if let (Some(error), true) = (errors.last_mut(), failed) {
            if let Some(rest) = formats.get(i + 1..).filter(|r| !r.is_empty()) {
                error.message.push_str(&format!(
                    "; the {} profiles were not listed either",
                    rest.join(" and ")
                ));
            }
            break;
        }
    }
    (records, errors)
}

/// Every page of the profiles of one source format, the errors, and whether a page
/// failed after its retries.
async fn list_format(
    client: &aws_sdk_healthlake::Client,
    target: &RegionTarget,
    context: &Context,
    settings: &Paging,
    format: &str,
) -> (Vec<Record>, Vec<CollectionError>, bool) {
    let key = target.healthlake_key();
    let source = target.source(context.account.as_deref());
    let mut records = Vec::new();
    let mut errors = Vec::new();
    let mut pages = Pages::default();
    loop {
        let page_number = pages.advance();
        let result = settings
            .retrier
            .call(&key, LIST_PROFILES, &settings.requests, || {
                fetch_page(client, settings, format, pages.next_token.clone())
            })
            .await;
        let (token, body) = match result {
            Ok(page) => page,
            Err(gave_up) => {
                errors.push(page_error(
                    &gave_up,
                    target,
                    context,
                    settings,
                    format,
                    page_number,
                ));
                return (records, errors, true);
            }
        };
        for item in items(&body).unwrap_or_default() {
            let record = RawValue::from_string(item.get().to_owned())
                .map_err(|e| e.to_string())
                .and_then(|raw| {
                    Record::existing(Kind::TransformationProfile, raw)
                        .map_err(|e| format!("{}: {}", e.path, e.message))
                });
            match record {
                Ok(r) => records.push(r.with_context(context.clone()).with_source(source.clone())),
                Err(why) => errors.push(error(
                    target,
                    context,
                    "invalid-record",
                    format!("a profile in the response is not a valid DataTransformationProfileSummary: {why}"),
                )),
            }
        }
        match pages.follow(token.as_deref()) {
            Next::Page => {}
            Next::Done => break,
            Next::Loop => {
                errors.push(error(
                    target,
                    context,
                    "pagination-loop",
                    format!(
                        "page {page_number} of the {format} transformation profiles \
                         returned a NextToken already seen in this listing; listing \
                         stopped, later pages were not read"
                    ),
                ));
                break;
            }
        }
    }
    (records, errors, false)
}

/// The first page of the region's profiles (as `settings` sizes it): the one request
/// that shows whether they can be listed, as [`crate::check_access`] makes it.
pub(crate) async fn probe(
    client: &aws_sdk_healthlake::Client,
    target: &RegionTarget,
    settings: &Paging,
) -> Result<(), CollectionError> {
    let key = target.healthlake_key();
    let context = Context {
        account: target.account.clone(),
        region: Some(target.region.clone()),
        partition: None,
    };
    let first = SourceFormat::values().first().copied().unwrap_or("CCDA");
    settings
        .retrier
        .call(&key, LIST_PROFILES, &settings.requests, || {
            fetch_page(client, settings, first, None)
        })
        .await
        .map(|_| ())
        .map_err(|gave_up| page_error(&gave_up, target, &context, settings, first, 1))
}

type ProfilesError = SdkError<ListDataTransformationProfilesError, HttpResponse>;

type PageAttempt = Result<(Option<String>, Vec<u8>), AttemptError<ProfilesError>>;

/// One attempt at one page: the `NextToken` and the body as sent, checked to hold as
/// many profiles as the SDK read.
async fn fetch_page(
    client: &aws_sdk_healthlake::Client,
    settings: &Paging,
    format: &str,
    next_token: Option<String>,
) -> PageAttempt {
    let capture = CaptureBody::default();
    let mut call = client
        .list_data_transformation_profiles()
        .source_format(SourceFormat::from(format))
        .set_max_results(settings.page_size.map(|n| n.min(MAX_PAGE_SIZE)))
        .set_next_token(next_token)
        .customize()
        .interceptor(capture.clone());
    if settings.endpoint.is_some() {
        call = call.interceptor(NoHostPrefix);
    }
    let output = call.send().await.map_err(AttemptError::Sdk)?;
    let body = capture.body()?;
    let count = items(&body).map_err(AttemptError::Unreadable)?.len();
    if count != output.items().len() {
        return Err(AttemptError::Unreadable(format!(
            "the response body holds {count} profiles but the SDK read {}",
            output.items().len()
        )));
    }
    Ok((output.next_token().map(str::to_owned), body))
}

/// The profile objects of a response body, as the exact text sent.
fn items(body: &[u8]) -> Result<Vec<&RawValue>, String> {
    #[derive(Deserialize)]
    struct Page<'a> {
        #[serde(rename = "Items", borrow, default)]
        items: Vec<&'a RawValue>,
    }
    serde_json::from_slice::<Page<'_>>(body)
        .map(|p| p.items)
        .map_err(|e| format!("the {LIST_PROFILES} response body is not the expected JSON: {e}"))
}

fn page_error(
    gave_up: &GaveUp<AttemptError<ProfilesError>>,
    target: &RegionTarget,
    context: &Context,
    settings: &Paging,
    format: &str,
    page_number: usize,
) -> CollectionError {
    let call = target.healthlake_call(LIST_PROFILES, settings.endpoint.as_deref());
    let (code, message) = gave_up
        .error
        .code_and_message(|e| failure::describe(e, &call));
    let page = page_suffix(page_number);
    error(
        target,
        context,
        &code,
        format!(
            "the {format} data transformation profiles of {} could not be listed{page}: \
             {message}{}",
            target.region,
            gave_up.tried()
        ),
    )
}

fn error(target: &RegionTarget, context: &Context, code: &str, message: String) -> CollectionError {
    CollectionError {
        account: context.account.clone().or_else(|| target.account.clone()),
        region: Some(target.region.clone()),
        operation: LIST_PROFILES.to_owned(),
        resource: None,
        code: code.to_owned(),
        message,
    }
}

/// Sends a request to the replaced endpoint as given, without the model's host prefix
/// (see the module overview). Runs before signing, so the signature covers the host
/// the request goes to.
#[derive(Debug)]
struct NoHostPrefix;

impl Intercept for NoHostPrefix {
    fn name(&self) -> &'static str {
        "hlaudit::NoHostPrefix"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        if let Some(uri) = without_prefix(request.uri()) {
            request.set_uri(uri)?;
        }
        Ok(())
    }
}

/// `uri` without [`HOST_PREFIX`] at the start of its host, when it has it.
fn without_prefix(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once("://")?;
    let rest = rest.strip_prefix(HOST_PREFIX)?;
    Some(format!("{scheme}://{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_the_host_prefix_only_where_it_is() {
        assert_eq!(
            without_prefix("http://datatransformation.127.0.0.1:4566/").as_deref(),
            Some("http://127.0.0.1:4566/")
        );
        assert_eq!(
            without_prefix("https://healthlake.us-east-1.amazonaws.com/"),
            None
        );
    }

    #[test]
    fn reads_the_items_as_sent() {
        let body = br#"{"Items":[{"ProfileId":"p1","Version":1,"Later":true}],"NextToken":"t"}"#;
        let listed = items(body).unwrap();
        assert_eq!(
            listed[0].get(),
            r#"{"ProfileId":"p1","Version":1,"Later":true}"#
        );
        assert!(items(&body[..10]).is_err());
    }
}

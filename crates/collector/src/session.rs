//! What other AWS-facing crates of hlaudit share with collection: the SDK configuration
//! of a credential set (one HTTPS client, the retry and timeout settings, the profile)
//! and the classification of a failed request into a code and a message that names the
//! fix. Sending findings to Security Hub uses the same credentials, retries and error
//! messages as listing data stores, so a user configures them once.

use std::error::Error;

use aws_config::SdkConfig;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::config::RetrySettings;
use crate::failure::{self, Call};
use crate::sdk;

/// Loads the shared SDK configuration of one credential set: the named profile, or the
/// default chain, with hlaudit's HTTPS client, retries and attempt timeout.
/// Credentials are resolved on the first request and cached.
pub async fn sdk_config(
    profile: Option<&str>,
    region: Option<&str>,
    retry: &RetrySettings,
) -> SdkConfig {
    sdk::load(profile, region, retry, sdk::https_client()).await
}

/// The request that failed, as a message names it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The IAM service prefix, e.g. `securityhub`.
    pub service: &'static str,
    /// The API operation, e.g. `BatchImportFindings`.
    pub operation: &'static str,
    /// The region the request was sent to.
    pub region: &'a str,
    /// The credential set's profile, when one was named.
    pub profile: Option<&'a str>,
}

/// A failed request: a stable code and a message naming the cause and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFailure {
    /// The service's error code, or a kebab-case code for what failed on the way.
    pub code: String,
    /// The cause and, when there is one, how to fix it.
    pub message: String,
    /// Whether the cause lies with the credentials (every request made with them fails
    /// the same way).
    pub credentials: bool,
}

/// Classifies a failed request as collection does (service error code, expired or
/// missing credentials, unreachable endpoint, timeout), logging its full error chain at
/// info level. The endpoint named in messages is `AWS_ENDPOINT_URL_<SERVICE>` (or
/// `AWS_ENDPOINT_URL`) when one replaces the service's.
pub fn describe_failure<E, R>(err: &SdkError<E, R>, request: &Request<'_>) -> RequestFailure
where
    E: ProvideErrorMetadata + Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let endpoint = sdk::replaced_endpoint(request.service, None);
    let call = Call {
        service: request.service,
        operation: request.operation,
        region: request.region,
        profile: request.profile,
        endpoint: endpoint.as_deref(),
    };
    let failure = failure::describe(err, &call);
    RequestFailure {
        code: failure.code,
        message: failure.message,
        credentials: failure.credentials,
    }
}

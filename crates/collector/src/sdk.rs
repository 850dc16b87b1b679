//! Building SDK clients from `aws-config`, and turning SDK errors into data.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::config::{RetryMode, RetrySettings};

/// The longest one attempt may take (connect, send, read the whole answer); a hung
/// connection then becomes a retried timeout instead of a hung audit.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

/// The wait between retries never exceeds this.
const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// Loads the shared configuration of one credential set: the named profile, or the
/// default chain. Credentials are resolved lazily (on the first request) and cached.
///
/// `region`, when the regions are given, spares the region lookup of the chain (which
/// may wait on instance metadata); each client gets its own region anyway.
pub(crate) async fn load(
    profile: Option<&str>,
    region: Option<&str>,
    retry: &RetrySettings,
) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config(retry))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .build(),
        );
    if let Some(name) = profile {
        loader = loader.profile_name(name);
    }
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_owned()));
    }
    loader.load().await
}

fn retry_config(retry: &RetrySettings) -> RetryConfig {
    let base = match retry.mode {
        RetryMode::Standard => RetryConfig::standard(),
        RetryMode::Adaptive => RetryConfig::adaptive(),
    };
    base.with_max_attempts(retry.max_attempts)
        .with_initial_backoff(retry.initial_backoff)
        .with_max_backoff(MAX_BACKOFF.max(retry.initial_backoff))
}

/// A HealthLake client for one region. `endpoint_url` replaces the resolved endpoint;
/// without it `AWS_ENDPOINT_URL_HEALTHLAKE` (and the other endpoint settings of the
/// shared configuration) apply.
pub(crate) fn healthlake(
    sdk: &SdkConfig,
    region: &str,
    endpoint_url: Option<&str>,
) -> aws_sdk_healthlake::Client {
    let mut builder =
        aws_sdk_healthlake::config::Builder::from(sdk).region(Region::new(region.to_owned()));
    if let Some(url) = endpoint_url {
        builder = builder.endpoint_url(url);
    }
    aws_sdk_healthlake::Client::from_conf(builder.build())
}

/// A KMS client for one region (endpoint from the shared configuration, e.g.
/// `AWS_ENDPOINT_URL_KMS`).
pub(crate) fn kms(sdk: &SdkConfig, region: &str) -> aws_sdk_kms::Client {
    let config = aws_sdk_kms::config::Builder::from(sdk)
        .region(Region::new(region.to_owned()))
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

/// An STS client in `region` (endpoint from the shared configuration, e.g.
/// `AWS_ENDPOINT_URL_STS`).
pub(crate) fn sts(sdk: &SdkConfig, region: &str) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::config::Builder::from(sdk)
        .region(Region::new(region.to_owned()))
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

/// The stable code and the message of a failed request, as recorded in a collection
/// error: the service's error code (`AccessDeniedException`, `ThrottlingException`)
/// when the service answered, otherwise a kebab-case code for what failed on the way
/// (`timeout`, `dispatch-failure`, `response-error`, `construction-failure`).
pub(crate) fn describe<E, R>(err: &SdkError<E, R>) -> (String, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let code = e.code().unwrap_or("unknown-service-error").to_owned();
            let message = match e.message() {
                Some(m) if !m.is_empty() => m.to_owned(),
                _ => DisplayErrorContext(e).to_string(),
            };
            (code, message)
        }
        SdkError::TimeoutError(_) => ("timeout".to_owned(), context(err)),
        SdkError::DispatchFailure(_) => ("dispatch-failure".to_owned(), context(err)),
        SdkError::ResponseError(_) => ("response-error".to_owned(), context(err)),
        SdkError::ConstructionFailure(_) => ("construction-failure".to_owned(), context(err)),
        _ => ("sdk-error".to_owned(), context(err)),
    }
}

fn context<E, R>(err: &SdkError<E, R>) -> String
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    DisplayErrorContext(err).to_string()
}

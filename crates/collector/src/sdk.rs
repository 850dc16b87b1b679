//! Building SDK clients from `aws-config` (errors are classified in `failure`).

use std::time::Duration;

use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_http_client::Builder;
use aws_smithy_runtime_api::client::http::SharedHttpClient;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::config::{RetryMode, RetrySettings};
use crate::retry::MAX_BACKOFF;

/// The longest one attempt may take (connect, send, read the whole answer); a hung
/// connection then becomes a retried timeout instead of a hung audit.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

/// Loads the shared configuration of one credential set: the named profile, or the
/// default chain. Credentials are resolved lazily (on the first request) and cached.
///
/// `region`, when the regions are given, spares the region lookup of the chain (which
/// may wait on instance metadata); each client gets its own region anyway. `http` is
/// the HTTP client of every client of the set; give every credential set of a run the
/// same one (see [`https_client`]).
pub(crate) async fn load(
    profile: Option<&str>,
    region: Option<&str>,
    retry: &RetrySettings,
    http: SharedHttpClient,
) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .retry_config(sdk_retry(retry))
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

/// The HTTP client of SDK clients (and of the credential providers): hyper 1 with
/// rustls on ring, trusting the platform's certificates. Plain `http://` endpoints (an
/// emulator on 127.0.0.1) work too.
///
/// A run builds one and shares it among all its credential sets: each client keeps its
/// own connection pool, so one per profile opened connections per profile, and a run of
/// 1,000 profiles held 4,110 file descriptors (27 with one client), past the usual
/// limit of 1,024. The client carries no credentials (each request is signed by the
/// SDK client that sends it), so sharing it mixes no accounts.
pub(crate) fn https_client() -> SharedHttpClient {
    Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// Attempts of the SDK's own strategy, for clients built from the shared configuration
/// outside this crate's collection when `--max-attempts` is not given.
const SDK_MAX_ATTEMPTS: u32 = 5;

/// The SDK strategy the shared configuration carries, for the clients that keep it
/// (credential providers, other crates' clients built from a [`SdkConfig`]).
fn sdk_retry(retry: &RetrySettings) -> RetryConfig {
    let base = match retry.mode {
        RetryMode::Standard => RetryConfig::standard(),
        RetryMode::Adaptive => RetryConfig::adaptive(),
    };
    base.with_max_attempts(retry.max_attempts.unwrap_or(SDK_MAX_ATTEMPTS))
        .with_initial_backoff(retry.initial_backoff)
        .with_max_backoff(MAX_BACKOFF.max(retry.initial_backoff))
}

/// The SDK's retries are off in the collection's clients: each `send` is one attempt,
/// and `crate::retry` retries (the reasons are in its overview).
fn one_attempt() -> RetryConfig {
    RetryConfig::disabled()
}

/// A HealthLake client for one region. `endpoint_url` replaces the resolved endpoint;
/// without it `AWS_ENDPOINT_URL_HEALTHLAKE` (and the other endpoint settings of the
/// shared configuration) apply.
pub(crate) fn healthlake(
    sdk: &SdkConfig,
    region: &str,
    endpoint_url: Option<&str>,
) -> aws_sdk_healthlake::Client {
    let mut builder = aws_sdk_healthlake::config::Builder::from(sdk)
        .region(Region::new(region.to_owned()))
        .retry_config(one_attempt());
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
        .retry_config(one_attempt())
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

/// An STS client in `region` (endpoint from the shared configuration, e.g.
/// `AWS_ENDPOINT_URL_STS`).
pub(crate) fn sts(sdk: &SdkConfig, region: &str) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::config::Builder::from(sdk)
        .region(Region::new(region.to_owned()))
        .retry_config(one_attempt())
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

/// A CloudTrail client for one region (endpoint from the shared configuration, e.g.
/// `AWS_ENDPOINT_URL_CLOUDTRAIL`).
pub(crate) fn cloudtrail(sdk: &SdkConfig, region: &str) -> aws_sdk_cloudtrail::Client {
    let config = aws_sdk_cloudtrail::config::Builder::from(sdk)
        .region(Region::new(region.to_owned()))
        .retry_config(one_attempt())
        .build();
    aws_sdk_cloudtrail::Client::from_conf(config)
}

/// The endpoint requests to `service` go to when it is replaced, for messages:
/// `explicit` (HealthLake's `--endpoint-url`), else `AWS_ENDPOINT_URL_<SERVICE>`, else
/// `AWS_ENDPOINT_URL`; `None` for the service's public endpoint.
pub(crate) fn replaced_endpoint(service: &str, explicit: Option<&str>) -> Option<String> {
    let from_env = |name: String| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    explicit
        .map(str::to_owned)
        .or_else(|| from_env(format!("AWS_ENDPOINT_URL_{}", service.to_ascii_uppercase())))
        .or_else(|| from_env("AWS_ENDPOINT_URL".to_owned()))
}

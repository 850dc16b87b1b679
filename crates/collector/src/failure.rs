//! What a failed AWS request means for the user: a stable code and a message that names
//! the cause and the fix, classified from the SDK's error types.
//!
//! The SDK's own rendering (`dispatch failure: other: ... (DispatchFailure(DispatchFailure
//! { source: ConnectorError { ...`) names the layers a request went through, not what to
//! do. Here the error is classified by its types: a service error by its code, a
//! dispatch failure by the [`CredentialsError`] or the [`ConnectorError`] kind (and the
//! [`std::io::Error`] kind) in its source chain. Two causes have no public type and are
//! recognised by their display text: an SSO token that expired (aws-config's token
//! error is private) and a name that does not resolve (hyper-util's connect error).
//! The full chain is logged at info level (`-v`) and the SDK's debug rendering at debug
//! level (`-vv`), never in the message.

use std::error::Error;

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::result::{ConnectorError, SdkError};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::regions;

/// How renewed or missing credentials are provided, said once in every credential
/// message.
const CREDENTIALS_HINT: &str = "name a profile with --profile NAME or AWS_PROFILE, \
    run `aws sso login --profile NAME` for an SSO profile, or set AWS_ACCESS_KEY_ID and \
    AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN for temporary credentials)";

/// The request that failed, as the messages name it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    /// The IAM service prefix: `healthlake`, `kms`, `sts`.
    pub service: &'static str,
    /// The API operation, e.g. `ListFHIRDatastores`.
    pub operation: &'static str,
    /// The region the request was sent to.
    pub region: &'a str,
    /// The credential set's profile, when one was named.
    pub profile: Option<&'a str>,
    /// The endpoint when it was replaced (flag or `AWS_ENDPOINT_URL_*`), else `None`
    /// for the service's public endpoint of the region.
    pub endpoint: Option<&'a str>,
}

/// A failed request as recorded in a collection error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The service's error code, or a kebab-case code for what failed on the way.
    pub code: String,
    /// The cause and, when there is one, how to fix it.
    pub message: String,
    /// Whether the cause lies with the credentials, so every request made with them
    /// fails the same way (a caller reports it once, not per call).
    pub credentials: bool,
}

impl Failure {
    fn new(code: &str, message: String) -> Self {
        Failure {
            code: code.to_owned(),
            message,
            credentials: false,
        }
    }

    fn of_credentials(code: &str, message: String) -> Self {
        Failure {
            credentials: true,
            ..Failure::new(code, message)
        }
    }
}

/// Classifies a failed request, logging its full error chain at info level.
pub(crate) fn describe<E, R>(err: &SdkError<E, R>, call: &Call<'_>) -> Failure
where
    E: ProvideErrorMetadata + Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let failure = classify(err, call);
    tracing::info!(
        region = call.region,
        operation = call.operation,
        code = %failure.code,
        "{} failed: {}",
        call.operation,
        chain(err)
    );
    tracing::debug!(operation = call.operation, "{err:?}");
    failure
}

fn classify<E, R>(err: &SdkError<E, R>, call: &Call<'_>) -> Failure
where
    E: ProvideErrorMetadata + Error + 'static,
    R: std::fmt::Debug + 'static,
{
    if let SdkError::ServiceError(service) = err {
        let e = service.err();
        let code = e.code().unwrap_or("unknown-service-error");
        let said = match e.message() {
            Some(m) if !m.is_empty() => m.to_owned(),
            _ => e.to_string(),
        };
        return service_failure(code, &said, call);
    }
    if let Some(credentials) = find::<CredentialsError>(err) {
        return credentials_failure(credentials, call);
    }
    match err {
        SdkError::TimeoutError(_) => Failure::new(
            "timeout",
            format!(
                "no answer from {} in time, after retries; check the network path to it (proxy, VPC endpoint, firewall) or raise --retry-budget",
                endpoint_name(call)
            ),
        ),
        SdkError::DispatchFailure(dispatch) => match dispatch.as_connector_error() {
            Some(connector) => connector_failure(connector, err, call),
            None => Failure::new("dispatch-failure", chain(err)),
        },
        SdkError::ResponseError(_) => Failure::new(
            "response-error",
            format!(
                "the answer of {} could not be read: {}",
                endpoint_name(call),
                chain(err)
            ),
        ),
        SdkError::ConstructionFailure(_) => Failure::new(
            "construction-failure",
            format!("the {} request could not be built: {}", call.operation, chain(err)),
        ),
        _ => Failure::new("sdk-error", chain(err)),
    }
}

/// A service error: the codes a user acts on get a cause and a hint; the rest keep the
/// service's message.
fn service_failure(code: &str, said: &str, call: &Call<'_>) -> Failure {
    let action = format!("{}:{}", call.service, call.operation);
    match code {
        c if is_denied(c) => Failure::new(
            code,
            format!(
                "access denied: these credentials may not call {action} in {} ({said}); \
                 grant the actions of the IAM policy in docs/collect.md",
                call.region
            ),
        ),
        "ExpiredTokenException" | "ExpiredToken" => Failure::of_credentials(
            code,
            format!(
                "the credentials{} have expired ({said}); renew them: {CREDENTIALS_HINT}",
                profile_suffix(call)
            ),
        ),
        "UnrecognizedClientException" | "InvalidClientTokenId" => Failure::of_credentials(
            code,
            format!(
                "the access key{} is not valid ({said}); check the credentials: {CREDENTIALS_HINT}",
                profile_suffix(call)
            ),
        ),
        _ => Failure::new(code, said.to_owned()),
    }
}

/// Whether a service error code says the caller may not make the call (IAM, a service
/// control policy, a key policy or a permissions boundary denied it).
pub(crate) fn is_denied(code: &str) -> bool {
    matches!(
        code,
        "AccessDeniedException" | "AccessDenied" | "UnauthorizedOperation"
    )
}

/// Credentials that could not be loaded at all, before any request was sent.
fn credentials_failure(err: &CredentialsError, call: &Call<'_>) -> Failure {
    let whose = profile_suffix(call);
    match err {
        CredentialsError::CredentialsNotLoaded(_) => Failure::of_credentials(
            "no-credentials",
            format!(
                "no AWS credentials found{whose} (none in the environment, the shared config \
                 and credentials files, web identity, or container and instance metadata); \
                 provide them: {CREDENTIALS_HINT}"
            ),
        ),
        CredentialsError::ProviderTimedOut(_) => Failure::of_credentials(
            "credentials-timeout",
            format!(
                "loading the AWS credentials{whose} timed out (a credential process, SSO or \
                 instance metadata did not answer); -v shows which source"
            ),
        ),
        CredentialsError::InvalidConfiguration(_) => Failure::of_credentials(
            "invalid-credentials-configuration",
            format!(
                "the AWS configuration{whose} cannot give credentials: {}; fix the profile in \
                 ~/.aws/config or ~/.aws/credentials, or {CREDENTIALS_HINT}",
                source_text(err)
            ),
        ),
        _ if sso_token_expired(err) => Failure::of_credentials(
            "expired-credentials",
            format!(
                "the SSO session{whose} has expired; run `aws sso login{}` and try again",
                call.profile
                    .map(|p| format!(" --profile {p}"))
                    .unwrap_or_default()
            ),
        ),
        _ => Failure::of_credentials(
            "credentials-error",
            format!(
                "the AWS credentials{whose} could not be loaded: {}; {CREDENTIALS_HINT}",
                source_text(err)
            ),
        ),
    }
}

/// A request that reached no server, or got no answer.
fn connector_failure<E, R>(
    connector: &ConnectorError,
    err: &SdkError<E, R>,
    call: &Call<'_>,
) -> Failure
where
    E: Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let endpoint = endpoint_name(call);
    if connector.is_timeout() {
        return Failure::new(
            "timeout",
            format!(
                "no answer from {endpoint} in time, after retries; check the network path to it \
                 (proxy, VPC endpoint, firewall)"
            ),
        );
    }
    let io_kind = find::<std::io::Error>(err).map(std::io::Error::kind);
    if io_kind == Some(std::io::ErrorKind::ConnectionRefused) {
        return Failure::new(
            "endpoint-unreachable",
            format!("cannot connect to {endpoint}: connection refused; check the endpoint URL and that the service listens there"),
        );
    }
    if io_kind == Some(std::io::ErrorKind::TimedOut) {
        return Failure::new(
            "timeout",
            format!("cannot connect to {endpoint}: the connection timed out; check the network path to it (proxy, VPC endpoint, firewall)"),
        );
    }
    if connector.is_io() && is_dns_failure(err) {
        let offered = regions::known_healthlake_regions();
        if call.endpoint.is_none() && !offered.iter().any(|r| r == call.region) {
            return Failure::new(
                "unknown-region",
                format!(
                    "HealthLake has no endpoint in `{}` ({} does not resolve): the region does \
                     not exist or HealthLake is not offered there; HealthLake is offered in {}",
                    call.region,
                    public_host(call),
                    offered.join(", ")
                ),
            );
        }
        return Failure::new(
            "endpoint-unreachable",
            format!("cannot connect to {endpoint}: its host name does not resolve; check the endpoint URL, DNS and the network"),
        );
    }
    if connector.is_io() {
        return Failure::new(
            "endpoint-unreachable",
            format!("the connection to {endpoint} failed: {}", chain(err)),
        );
    }
    Failure::new("dispatch-failure", chain(err))
}

/// Whether the request reached no server: the connection was refused or the host
/// name did not resolve (a wrong endpoint or region far more often than an outage).
pub(crate) fn is_unreachable<E, R>(err: &SdkError<E, R>) -> bool
where
    E: Error + 'static,
    R: std::fmt::Debug + 'static,
{
    find::<std::io::Error>(err).map(std::io::Error::kind)
        == Some(std::io::ErrorKind::ConnectionRefused)
        || is_dns_failure(err)
}

/// hyper-util reports a failed lookup as a connect error displayed `dns error`; the
/// SDK's own resolver as a `ResolveDnsError`.
fn is_dns_failure<E, R>(err: &SdkError<E, R>) -> bool
where
    E: Error + 'static,
    R: std::fmt::Debug + 'static,
{
    find::<aws_smithy_runtime_api::client::dns::ResolveDnsError>(err).is_some()
        || sources(err).any(|e| e.to_string() == "dns error")
}

/// Whether aws-config's SSO token provider said the token expired (its error type is
/// private, so its display text is matched).
fn sso_token_expired(err: &CredentialsError) -> bool {
    let mut next: Option<&(dyn Error + 'static)> = Some(err);
    while let Some(e) = next {
        if e.to_string().contains("SSO token has expired") {
            return true;
        }
        next = e.source();
    }
    false
}

fn profile_suffix(call: &Call<'_>) -> String {
    call.profile
        .map(|p| format!(" of profile `{p}`"))
        .unwrap_or_default()
}

fn endpoint_name(call: &Call<'_>) -> String {
    match call.endpoint {
        Some(url) => format!("the {} endpoint {url}", service_name(call.service)),
        None => format!("{} ({})", public_host(call), call.region),
    }
}

fn service_name(service: &str) -> &str {
    match service {
        "healthlake" => "HealthLake",
        "kms" => "KMS",
        "sts" => "STS",
        other => other,
    }
}

fn public_host(call: &Call<'_>) -> String {
    format!("{}.{}.amazonaws.com", call.service, call.region)
}

/// The messages of the error's sources, joined: what a provider said, without the
/// wrapper's own words.
fn source_text(err: &CredentialsError) -> String {
    let mut parts = Vec::new();
    let mut next = err.source();
    while let Some(e) = next {
        parts.push(e.to_string());
        next = e.source();
    }
    if parts.is_empty() {
        err.to_string()
    } else {
        parts.join(": ")
    }
}

/// Every error of the chain, the error itself first.
fn sources<'a>(err: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(err), |e: &&'a (dyn Error + 'static)| (*e).source())
}

/// The first error of type `T` in the chain.
pub(crate) fn find<'a, T: Error + 'static>(err: &'a (dyn Error + 'static)) -> Option<&'a T> {
    sources(err).find_map(|e| e.downcast_ref::<T>())
}

/// The display of every error in the chain, joined with `: `, consecutive repeats
/// dropped: the full chain without the SDK's debug rendering.
pub(crate) fn chain(err: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in sources(err) {
        let text = e.to_string();
        if parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

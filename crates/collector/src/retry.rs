//! Retrying the collector's read calls: hlaudit's own loop around every request, with
//! a time budget per call instead of a small attempt count.
//!
//! The SDK's clients are built with retries off (one attempt per `send`) and every
//! call goes through [`Retrier::call`]. The reasons: the SDK's standard and adaptive
//! strategies share a retry quota (a token bucket per client, emptied by a burst of
//! throttling and 5xx answers), and once it is empty a throttled call fails at once, so
//! a busy account lost calls that one more wait would have saved; their attempt count
//! bounds a throttled call by luck rather than by time; a body that arrives malformed
//! or cut short is not retried by them; and their client-side rate limiting is per
//! client, not per account, region and service. Every call the collector makes is an
//! idempotent read (`ListFHIRDatastores` pages, `ListTagsForResource`, `DescribeKey`,
//! `GetKeyRotationStatus`, `GetCallerIdentity`), so sending one again is always safe,
//! and a page is asked again with the same `NextToken`.
//!
//! What is retried ([`Transient`]): throttling, 5xx answers, timeouts, broken
//! connections, and answers whose body is malformed or cut short, with exponential
//! backoff and full jitter, until the call's [`RetryPolicy::budget`] would be
//! exceeded. A connection refused or a host name that does not resolve is retried
//! only [`UNREACHABLE_ATTEMPTS`] times: it nearly always means a wrong endpoint or
//! region, which minutes of retries would only hide. Everything else (access denied,
//! validation, not found, credentials) fails at once. Each attempt also waits for the
//! [`crate::limiter`] of its (caller, region, service) and for a permit of the caller's
//! semaphore, which it gives back while it sleeps.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tokio::sync::Semaphore;

use crate::config::{RetryMode, RetrySettings};
use crate::failure::Failure;
use crate::limiter::{LimitKey, Limiters, Signal};

/// The longest wait between two attempts.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// Attempts for a call whose endpoint refuses connections or does not resolve.
pub(crate) const UNREACHABLE_ATTEMPTS: u32 = 3;

/// Why an attempt failed in a way worth trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transient {
    /// The service throttled the request.
    Throttled,
    /// A 5xx answer, or an error code that means the same.
    ServerError,
    /// No answer in time.
    Timeout,
    /// The connection broke.
    Connection,
    /// A success whose body is malformed or cut short.
    Unreadable,
    /// The endpoint refused the connection or its name did not resolve.
    Unreachable,
}

impl Transient {
    fn name(self) -> &'static str {
        match self {
            Transient::Throttled => "throttled",
            Transient::ServerError => "server error",
            Transient::Timeout => "timeout",
            Transient::Connection => "connection broken",
            Transient::Unreadable => "unreadable answer",
            Transient::Unreachable => "endpoint unreachable",
        }
    }
}

/// Why one attempt did not give a usable answer.
#[derive(Debug)]
pub(crate) enum AttemptError<E> {
    /// The SDK's error (a service error, a dispatch failure, ...).
    Sdk(E),
    /// An answer the SDK accepted whose body cannot be used as sent: the collector
    /// reads the body itself, and a body cut short or malformed is a transient fault.
    Unreadable(String),
}

impl<E> AttemptError<E> {
    /// The collection error code and message of an attempt that failed for good:
    /// `describe`'s for the SDK's error, `invalid-response` for an unreadable answer.
    pub(crate) fn code_and_message(
        &self,
        describe: impl FnOnce(&E) -> Failure,
    ) -> (String, String) {
        match self {
            AttemptError::Sdk(e) => {
                let failure = describe(e);
                (failure.code, failure.message)
            }
            AttemptError::Unreadable(why) => ("invalid-response".to_owned(), why.clone()),
        }
    }
}

/// Errors an attempt can end with, and whether each is worth another attempt.
pub(crate) trait Classify {
    /// The transient fault, or `None` for an error that another attempt would repeat.
    fn transient(&self) -> Option<Transient>;
}

impl<E: ProvideErrorMetadata + std::error::Error + 'static> Classify for SdkError<E, HttpResponse> {
    fn transient(&self) -> Option<Transient> {
        match self {
            SdkError::ServiceError(service) => {
                let status = service.raw().status().as_u16();
                if (200..300).contains(&status) {
                    // The generated deserializers turn a 2xx body they cannot parse
                    // into an unmodeled service error.
                    return Some(Transient::Unreadable);
                }
                classify_code(service.err().code(), status)
            }
            SdkError::TimeoutError(_) => Some(Transient::Timeout),
            SdkError::ResponseError(_) => Some(Transient::Unreadable),
            SdkError::DispatchFailure(dispatch) => {
                if crate::failure::find::<CredentialsError>(self).is_some() {
                    return None;
                }
                let connector = dispatch.as_connector_error()?;
                if connector.is_timeout() {
                    Some(Transient::Timeout)
                } else if connector.is_io() {
                    if crate::failure::is_unreachable(self) {
                        Some(Transient::Unreachable)
                    } else {
                        Some(Transient::Connection)
                    }
                } else {
                    None
                }
            }
            _ => None,
        }
    }
}

impl<E: Classify> Classify for AttemptError<E> {
    fn transient(&self) -> Option<Transient> {
        match self {
            AttemptError::Sdk(e) => e.transient(),
            AttemptError::Unreadable(_) => Some(Transient::Unreadable),
        }
    }
}

/// The error codes AWS SDKs treat as throttling.
const THROTTLING_CODES: [&str; 13] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
];

/// Error codes that mean the service failed, whatever the status.
const SERVER_ERROR_CODES: [&str; 8] = [
    "InternalServerException",
    "InternalFailure",
    "InternalError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "RequestTimeout",
    "RequestTimeoutException",
    "KMSInternalException",
];

/// A service error by its code and HTTP status.
pub(crate) fn classify_code(code: Option<&str>, status: u16) -> Option<Transient> {
    match code {
        Some(c) if THROTTLING_CODES.contains(&c) => Some(Transient::Throttled),
        Some(c) if SERVER_ERROR_CODES.contains(&c) => Some(Transient::ServerError),
        _ if status == 429 => Some(Transient::Throttled),
        _ if matches!(status, 500 | 502 | 503 | 504) => Some(Transient::ServerError),
        _ => None,
    }
}

/// How calls are retried: the validated form of [`RetrySettings`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RetryPolicy {
    /// The longest a call may take, its retries and waits included; no retry starts
    /// that would end its wait past it.
    pub budget: Duration,
    /// At most this many attempts per call, when set.
    pub max_attempts: Option<u32>,
    /// The wait before the first retry (the ceiling of its jitter).
    pub initial_backoff: Duration,
    /// Whether attempts wait for the adaptive rate limiter.
    pub rate_limit: bool,
}

impl RetryPolicy {
    pub(crate) fn of(settings: &RetrySettings) -> Self {
        RetryPolicy {
            budget: settings.budget,
            max_attempts: settings.max_attempts,
            initial_backoff: settings.initial_backoff,
            rate_limit: settings.mode == RetryMode::Adaptive,
        }
    }

    /// The ceiling of the wait after `failures` failed attempts (1 for the first
    /// retry): the initial backoff doubled each time, up to [`MAX_BACKOFF`].
    pub(crate) fn ceiling(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(16);
        self.initial_backoff
            .saturating_mul(1 << doublings)
            .min(MAX_BACKOFF.max(self.initial_backoff))
    }

    /// Whether another attempt may follow `failures` failed ones, the last for
    /// `cause`.
    fn allows(&self, failures: u32, cause: Transient) -> bool {
        let cap = match cause {
            Transient::Unreachable => Some(
                self.max_attempts
                    .map_or(UNREACHABLE_ATTEMPTS, |m| m.min(UNREACHABLE_ATTEMPTS)),
            ),
            _ => self.max_attempts,
        };
        cap.is_none_or(|cap| failures < cap)
    }
}

/// A call that failed for good: its last error and what was tried.
#[derive(Debug)]
pub(crate) struct GaveUp<E> {
    /// The last attempt's error.
    pub error: E,
    /// Attempts made.
    pub attempts: u32,
    /// Time from the first attempt to giving up.
    pub elapsed: Duration,
}

impl<E> GaveUp<E> {
    /// What was tried, to append to the error's message: empty for a call that was
    /// not retried.
    pub(crate) fn tried(&self) -> String {
        if self.attempts <= 1 {
            return String::new();
        }
        format!(
            " (after {} attempts over {:.1} s; --retry-budget sets how long a call is retried)",
            self.attempts,
            self.elapsed.as_secs_f64()
        )
    }
}

/// Retries calls by a [`RetryPolicy`], through one adaptive limiter per
/// (caller, region, service). One per collection, shared by every task.
#[derive(Debug)]
pub(crate) struct Retrier {
    policy: RetryPolicy,
    limiters: Limiters,
    retries: AtomicU64,
    throttled: AtomicU64,
}

impl Retrier {
    pub(crate) fn new(policy: RetryPolicy) -> Arc<Self> {
        Arc::new(Retrier {
            policy,
            limiters: Limiters::default(),
            retries: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
        })
    }

    /// Retries so far, and how many of them followed throttling.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (
            self.retries.load(Ordering::Relaxed),
            self.throttled.load(Ordering::Relaxed),
        )
    }

    /// Runs `attempt` until it succeeds, fails for good, or the budget would be
    /// exceeded. Each attempt waits for the limiter of `key`, then holds a permit of
    /// `requests`; the budget runs from the first attempt's start.
    pub(crate) async fn call<T, E, F, Fut>(
        &self,
        key: &LimitKey,
        operation: &'static str,
        requests: &Semaphore,
        mut attempt: F,
    ) -> Result<T, GaveUp<E>>
    where
        E: Classify,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let limiter = self.policy.rate_limit.then(|| self.limiters.get(key));
        let mut started: Option<Instant> = None;
        let mut failures = 0u32;
        loop {
            let result = {
                // The limiter first: an attempt waiting for its turn must not hold a
                // permit that a call to another region could use.
                if let Some(limiter) = &limiter {
                    limiter.acquire().await;
                }
                // The semaphore is never closed; going on without a permit would only
                // lose the bound on requests in flight.
                let _permit = requests.acquire().await.ok();
                started.get_or_insert_with(Instant::now);
                attempt().await
            };
            let error = match result {
                Ok(value) => {
                    if let Some(limiter) = &limiter {
                        limiter.record(Signal::Answered);
                    }
                    return Ok(value);
                }
                Err(e) => e,
            };
            failures += 1;
            let cause = error.transient();
            if let Some(limiter) = &limiter {
                limiter.record(if cause == Some(Transient::Throttled) {
                    Signal::Throttled
                } else {
                    Signal::Answered
                });
            }
            let elapsed = started.map_or(Duration::ZERO, |s| s.elapsed());
            let gave_up = |error| GaveUp {
                error,
                attempts: failures,
                elapsed,
            };
            let Some(cause) = cause else {
                return Err(gave_up(error));
            };
            if !self.policy.allows(failures, cause) {
                return Err(gave_up(error));
            }
            let wait = jitter(self.policy.ceiling(failures));
            if elapsed + wait > self.policy.budget {
                return Err(gave_up(error));
            }
            self.retries.fetch_add(1, Ordering::Relaxed);
            if cause == Transient::Throttled {
                self.throttled.fetch_add(1, Ordering::Relaxed);
            }
            tracing::debug!(
                operation,
                region = %key.region,
                attempt = failures,
                cause = cause.name(),
                wait_ms = wait.as_millis() as u64,
                rate = limiter.as_ref().and_then(|l| l.rate()),
                "retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }
}

/// A wait drawn uniformly from `[0, ceiling]` ("full jitter"): callers throttled
/// together do not come back together.
fn jitter(ceiling: Duration) -> Duration {
    ceiling.mul_f64(fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limiter::Caller;
    use std::sync::atomic::AtomicU32;

    fn policy(budget_ms: u64, max_attempts: Option<u32>) -> RetryPolicy {
        RetryPolicy {
            budget: Duration::from_millis(budget_ms),
            max_attempts,
            initial_backoff: Duration::from_millis(1),
            rate_limit: true,
        }
    }

    fn key() -> LimitKey {
        LimitKey {
            caller: Caller::of(Some("111122223333"), None),
            region: "us-east-1".to_owned(),
            service: "healthlake",
        }
    }

    #[derive(Debug, PartialEq)]
    struct Fake(Option<Transient>);

    impl Classify for Fake {
        fn transient(&self) -> Option<Transient> {
            self.0
        }
    }

    /// Runs a call whose attempts fail with `faults` in turn, then succeed.
    async fn run(
        policy: RetryPolicy,
        faults: Vec<Option<Transient>>,
    ) -> (Result<u32, GaveUp<Fake>>, u32) {
        let retrier = Retrier::new(policy);
        let requests = Semaphore::new(1);
        let count = AtomicU32::new(0);
        let result = retrier
            .call(&key(), "Test", &requests, || async {
                let n = count.fetch_add(1, Ordering::SeqCst);
                match faults.get(n as usize) {
                    Some(fault) => Err(Fake(*fault)),
                    None => Ok(n),
                }
            })
            .await;
        (result, count.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn retries_transient_faults_beyond_any_small_count() {
        // More failures than the SDK's default attempt counts (3 or 5) allow.
        let faults = vec![Some(Transient::Throttled); 6]
            .into_iter()
            .chain([Some(Transient::ServerError), Some(Transient::Unreadable)])
            .collect();
        let (result, attempts) = run(policy(60_000, None), faults).await;
        assert_eq!(result.unwrap(), 8);
        assert_eq!(attempts, 9);
    }

    #[tokio::test]
    async fn fails_at_once_on_an_error_that_would_repeat() {
        let (result, attempts) = run(policy(60_000, None), vec![None]).await;
        let gave_up = result.unwrap_err();
        assert_eq!((gave_up.attempts, attempts), (1, 1));
        assert_eq!(gave_up.tried(), "");
    }

    #[tokio::test]
    async fn stops_when_the_budget_would_be_exceeded() {
        let mut p = policy(30, None);
        p.initial_backoff = Duration::from_millis(10);
        let started = Instant::now();
        let (result, attempts) = run(p, vec![Some(Transient::Throttled); 1_000]).await;
        let gave_up = result.unwrap_err();
        assert!(started.elapsed() < Duration::from_millis(500));
        assert!((2..20).contains(&attempts), "{attempts}");
        assert!(
            gave_up.tried().contains("--retry-budget"),
            "{}",
            gave_up.tried()
        );
    }

    #[tokio::test]
    async fn max_attempts_caps_and_unreachable_endpoints_get_few() {
        let (result, attempts) = run(
            policy(60_000, Some(2)),
            vec![Some(Transient::ServerError); 9],
        )
        .await;
        assert!(result.is_err());
        assert_eq!(attempts, 2);
        let (result, attempts) =
            run(policy(60_000, None), vec![Some(Transient::Unreachable); 9]).await;
        assert!(result.is_err());
        assert_eq!(attempts, UNREACHABLE_ATTEMPTS);
    }

    #[test]
    fn backoff_doubles_up_to_the_ceiling() {
        let p = RetryPolicy {
            initial_backoff: Duration::from_secs(1),
            ..policy(1, None)
        };
        let ceilings: Vec<u64> = (1..=7).map(|n| p.ceiling(n).as_secs()).collect();
        assert_eq!(ceilings, [1, 2, 4, 8, 16, 20, 20]);
        assert_eq!(p.ceiling(u32::MAX), MAX_BACKOFF);
        for _ in 0..100 {
            assert!(jitter(Duration::from_secs(4)) <= Duration::from_secs(4));
        }
    }

    #[test]
    fn classifies_codes_and_statuses() {
        assert_eq!(
            classify_code(Some("ThrottlingException"), 400),
            Some(Transient::Throttled)
        );
        assert_eq!(classify_code(None, 429), Some(Transient::Throttled));
        assert_eq!(
            classify_code(Some("InternalServerException"), 500),
            Some(Transient::ServerError)
        );
        assert_eq!(classify_code(None, 503), Some(Transient::ServerError));
        for code in [
            "AccessDeniedException",
            "ValidationException",
            "ResourceNotFoundException",
            "ExpiredTokenException",
        ] {
            assert_eq!(classify_code(Some(code), 400), None, "{code}");
        }
    }
}

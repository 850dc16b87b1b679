//! The HTTP side: one handler for `POST /` that authenticates, injects faults,
//! dispatches on `X-Amz-Target` and logs.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use futures_util::StreamExt;

use crate::auth;
use crate::faults::{fnv1a, splitmix64, BodyFault, Dice, ErrorFault, FaultKind, Faults};
use crate::identity::StsAccounts;
use crate::jobs;
use crate::log::{LogEntry, RequestLog};
use crate::ops::{self, Ctx, Outcome};
use crate::protocol::{ApiError, Operation, CONTENT_TYPE};
use crate::state::Store;
use hlaudit_model::Kind;

/// Which account an access key belongs to.
#[derive(Debug, Clone)]
pub(crate) struct Accounts {
    pub by_key: BTreeMap<String, String>,
    pub default: String,
    /// Learns the account of keys not in `by_key` from STS, when set.
    pub sts: Option<std::sync::Arc<StsAccounts>>,
}

impl Accounts {
    fn of(&self, access_key: &str) -> &str {
        self.by_key.get(access_key).unwrap_or(&self.default)
    }
}

/// Everything the handler shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub store: RwLock<Store>,
    pub faults: RwLock<Faults>,
    /// How many times each request content was seen (for the dice).
    pub attempts: Mutex<HashMap<u64, u64>>,
    pub log: RequestLog,
    pub accounts: Accounts,
    pub page_size: usize,
    /// Requests received, for request ids.
    pub requests: AtomicU64,
    /// When each region with a throttling window got its first request.
    pub window_starts: Mutex<HashMap<String, Instant>>,
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub fn faults(&self) -> Faults {
        read(&self.faults).clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        *write(&self.faults) = faults;
        self.window_starts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Whether `region` is inside its throttling window of `length`, which starts at
    /// the region's first request.
    fn in_throttle_window(&self, region: &str, length: Duration) -> bool {
        let mut starts = self
            .window_starts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let start = *starts.entry(region.to_owned()).or_insert_with(Instant::now);
        start.elapsed() < length
    }

    pub fn with_store<R>(&self, f: impl FnOnce(&Store) -> R) -> R {
        f(&read(&self.store))
    }

    fn attempt(&self, key: u64) -> u64 {
        let mut attempts = self.attempts.lock().unwrap_or_else(PoisonError::into_inner);
        let n = attempts.entry(key).or_insert(0);
        let this = *n;
        *n += 1;
        this
    }
}

/// The axum handler for every request.
pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let faults = shared.faults();
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    let target = header_str(&headers, "x-amz-target").unwrap_or("");
    let n = shared.requests.fetch_add(1, Ordering::Relaxed);
    let mut entry = LogEntry {
        seq: 0,
        request_id: request_id(n),
        operation: Operation::from_target(target)
            .map_or_else(|| target.to_owned(), |op| op.name().to_owned()),
        region: None,
        account: None,
        status: 0,
        error_code: None,
        fault: None,
        resource: None,
        returned: None,
        request_token: None,
        response_token: None,
    };
    let learned = learned_account(&shared, &headers).await;
    let response = respond(
        &shared, &faults, &method, &uri, &headers, &body, learned, &mut entry,
    );
    shared.log.push(entry);
    response
}

/// The account of a request's access key learned from STS: `None` when the key is
/// mapped, no STS is set, or the request is not signed (`respond` then decides).
async fn learned_account(shared: &Shared, headers: &HeaderMap) -> Option<Result<String, ApiError>> {
    let sts = shared.accounts.sts.as_ref()?;
    let scope = auth::parse(
        header_str(headers, "authorization"),
        header_str(headers, "x-amz-date"),
    )
    .ok()?;
    if shared.accounts.by_key.contains_key(&scope.access_key) {
        return None;
    }
    Some(
        sts.account(
            &scope.access_key,
            header_str(headers, "x-amz-security-token"),
        )
        .await,
    )
}

#[allow(clippy::too_many_arguments)]
fn respond(
    shared: &Shared,
    faults: &Faults,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    learned: Option<Result<String, ApiError>>,
    entry: &mut LogEntry,
) -> Response {
    if method != Method::POST || uri.path() != "/" {
        return error(entry, &ApiError::unknown_operation());
    }
    let scope = match auth::parse(
        header_str(headers, "authorization"),
        header_str(headers, "x-amz-date"),
    ) {
        Ok(scope) => scope,
        Err(e) => return error(entry, &e),
    };
    let account = match learned {
        Some(Ok(account)) => account,
        Some(Err(e)) => return error(entry, &e),
        None => shared.accounts.of(&scope.access_key).to_owned(),
    };
    let region = scope.region;
    entry.region = Some(region.clone());
    entry.account = Some(account.clone());
    let Some(op) = Operation::from_target(header_str(headers, "x-amz-target").unwrap_or("")) else {
        return error(entry, &ApiError::unknown_operation());
    };

    if faults.expired_token.contains(&region) {
        entry.fault = Some(FaultKind::ExpiredToken);
        return error(entry, &ApiError::expired_token());
    }
    if faults.access_denied.contains(&region) {
        entry.fault = Some(FaultKind::AccessDenied);
        return error(entry, &ApiError::access_denied(op.name(), &region));
    }
    if matches!(op, Operation::ListTagsForResource | Operation::TagResource) {
        entry.resource = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("ResourceARN")?.as_str().map(str::to_owned));
    }
    if op.names_datastore() {
        // Per-resource faults name data stores by ARN; a data store the caller does not
        // have gets the ARN it would have.
        entry.resource = crate::jobs::datastore_of(body).map(|id| {
            shared.with_store(|s| {
                s.by_id(&account, &region, &id)
                    .and_then(|d| d.record.arn().map(str::to_owned))
                    .unwrap_or_else(|| {
                        format!("arn:aws:healthlake:{region}:{account}:datastore/fhir/{id}")
                    })
            })
        });
    }
    if let Some(length) = faults.throttle_windows.get(&region) {
        if shared.in_throttle_window(&region, *length) {
            entry.fault = Some(FaultKind::ThrottlingWindow);
            return error(entry, &ApiError::throttling());
        }
    }
    let denied_call = |arn: &String| {
        faults
            .denied_calls
            .contains(&(op.name().to_owned(), arn.clone()))
    };
    let denied_resource = |arn: &String| {
        matches!(op, Operation::ListTagsForResource | Operation::TagResource)
            && faults.denied_resources.contains(arn)
    };
    if entry
        .resource
        .as_ref()
        .is_some_and(|arn| denied_resource(arn) || denied_call(arn))
        || (op.is_about_region() && denied_call(&region))
    {
        entry.fault = Some(FaultKind::AccessDenied);
        return error(entry, &ApiError::access_denied(op.name(), &region));
    }
    let key = fnv1a(&[
        op.name().as_bytes(),
        account.as_bytes(),
        region.as_bytes(),
        body,
    ]);
    let dice = Dice::new(faults.seed, key, shared.attempt(key));
    if let Some(fault) = dice.error_fault(faults) {
        let (kind, err) = match fault {
            ErrorFault::Throttling => (FaultKind::Throttling, ApiError::throttling()),
            ErrorFault::InternalServer => (FaultKind::ServerError, ApiError::internal()),
            ErrorFault::Unavailable => (FaultKind::ServerError, ApiError::unavailable()),
        };
        entry.fault = Some(kind);
        return error(entry, &err);
    }

    let ctx = Ctx {
        account: &account,
        region: &region,
        page_size: shared.page_size,
        loop_tokens: faults.next_token_loop.contains(&region),
        seed: faults.seed,
    };
    let result = match op {
        Operation::ListFhirDatastores => {
            entry.request_token = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v.get("NextToken")?.as_str().map(str::to_owned));
            ops::list(&read(&shared.store), ctx, body)
        }
        Operation::DescribeFhirDatastore => ops::describe(&read(&shared.store), ctx, body),
        Operation::ListTagsForResource => ops::list_tags(&read(&shared.store), ctx, body),
        Operation::CreateFhirDatastore => ops::create(&mut write(&shared.store), ctx, body),
        Operation::TagResource => ops::tag(&mut write(&shared.store), ctx, body),
        Operation::ListFhirExportJobs | Operation::ListFhirImportJobs => {
            entry.request_token = request_token(body);
            let kind = job_kind(op);
            jobs::list_jobs(&read(&shared.store), ctx, kind, body)
        }
        Operation::DescribeFhirExportJob | Operation::DescribeFhirImportJob => {
            jobs::describe_job(&read(&shared.store), ctx, job_kind(op), body)
        }
        Operation::ListDataTransformationProfiles => {
            entry.request_token = request_token(body);
            jobs::list_profiles(&read(&shared.store), ctx, body)
        }
        Operation::GetDataTransformationProfile => {
            jobs::get_profile(&read(&shared.store), ctx, body)
        }
    };
    match result {
        Ok(outcome) => success(entry, outcome, dice.body_fault(faults)),
        Err(e) => error(entry, &e),
    }
}

fn request_token(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("NextToken")?.as_str().map(str::to_owned))
}

fn job_kind(op: Operation) -> Kind {
    match op {
        Operation::ListFhirExportJobs | Operation::DescribeFhirExportJob => Kind::ExportJob,
        _ => Kind::ImportJob,
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A request id shaped like AWS's, unique per emulator run and request.
fn request_id(n: u64) -> String {
    let h = splitmix64(n);
    let l = splitmix64(h);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        (h >> 12) & 0xfff,
        l & 0xffff_ffff_ffff
    )
}

fn base(status: u16, entry: &LogEntry) -> axum::http::response::Builder {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, CONTENT_TYPE)
        .header(
            "x-amzn-RequestId",
            HeaderValue::from_str(&entry.request_id).unwrap_or(HeaderValue::from_static("0")),
        )
}

fn error(entry: &mut LogEntry, e: &ApiError) -> Response {
    entry.status = e.status;
    entry.error_code = Some(e.code.to_owned());
    build(base(e.status, entry), Body::from(e.body()))
}

fn success(entry: &mut LogEntry, outcome: Outcome, body_fault: Option<BodyFault>) -> Response {
    entry.status = 200;
    entry.returned = outcome.returned;
    entry.response_token = outcome.next_token;
    if outcome.looped {
        entry.fault = Some(FaultKind::NextTokenLoop);
    }
    let full = outcome.body.into_bytes();
    let half = full.len() / 2;
    match body_fault {
        None => build(base(200, entry), Body::from(full)),
        Some(BodyFault::Malformed) => {
            entry.fault = Some(FaultKind::MalformedBody);
            build(base(200, entry), Body::from(full[..half].to_vec()))
        }
        Some(BodyFault::Truncated) => {
            entry.fault = Some(FaultKind::TruncatedBody);
            // Announce the whole body, send half, then fail the stream: the server
            // closes the connection mid-body, as a dropped connection would. The pause
            // lets the head and the first half reach the client first.
            let first = Bytes::from(full[..half].to_vec());
            let chunks = futures_util::stream::once(async move { Ok(first) }).chain(
                futures_util::stream::once(async {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionAborted,
                        "injected truncation",
                    ))
                }),
            );
            let builder = base(200, entry).header(header::CONTENT_LENGTH, full.len());
            build(builder, Body::from_stream(chunks))
        }
    }
}

fn build(builder: axum::http::response::Builder, body: Body) -> Response {
    builder.body(body).unwrap_or_else(|_| {
        // Only reachable with an invalid header value, which the builders above never
        // produce; answer 500 rather than panic.
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

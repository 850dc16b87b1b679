//! A HealthLake-compatible endpoint on 127.0.0.1 for tests, benchmarks and demos.
//!
//! No public emulator (moto, LocalStack's free edition) serves HealthLake, so hlaudit
//! brings its own. The main design decision: speak the *real* wire protocol, so the
//! real clients (the Rust SDK, the AWS CLI) are what the tests exercise. Requests are
//! awsJson 1.0 (`POST /`, `X-Amz-Target: HealthLake.<Operation>`), signed with SigV4;
//! the emulator does not verify signatures but reads the credential scope strictly,
//! and serves each (account, region) its own data stores: the region is the one the
//! request was signed for, the account the one its access key maps to.
//!
//! Served: `ListFHIRDatastores` (filters, `MaxResults` 1-500, opaque `NextToken`),
//! `DescribeFHIRDatastore`, `ListTagsForResource`, and `CreateFHIRDatastore` and
//! `TagResource` so a test can build state through the SDK; the export and import jobs
//! of each data store (`ListFHIRExportJobs`, `ListFHIRImportJobs`,
//! `DescribeFHIRExportJob`, `DescribeFHIRImportJob`) and the transformation profiles of
//! each (account, region) (`ListDataTransformationProfiles`,
//! `GetDataTransformationProfile`). Records are served as
//! their JSON was read, ISO 8601 timestamps turned into epoch seconds as the API sends
//! them.
//!
//! Faults ([`Faults`]) are decided by dice that depend only on the seed and the
//! request, so a run is reproducible whatever the concurrency. Every request is
//! recorded in a [`LogEntry`]. `docs/emulator.md` describes the behaviour in full,
//! including the choices where the API reference is silent (an exact `DatastoreName`
//! match, a default page size of 100).
//!
//! ```no_run
//! # async fn demo(records: Vec<hlaudit_model::Record>) -> Result<(), hlaudit_emulator::EmulatorError> {
//! use hlaudit_emulator::{Emulator, Faults};
//! let emulator = Emulator::builder()
//!     .records(records)
//!     .faults(Faults { seed: 7, throttle_rate: 0.2, ..Faults::default() })
//!     .start()
//!     .await?;
//! let endpoint = emulator.endpoint_url(); // e.g. http://127.0.0.1:41234
//! // ... point the SDK at `endpoint` with any fake credentials ...
//! let throttled = emulator.log().iter().filter(|e| e.fault.is_some()).count();
//! emulator.shutdown().await?;
//! # let _ = (endpoint, throttled); Ok(()) }
//! ```

#![forbid(unsafe_code)]

pub mod auth;
pub mod datastore;
mod error;
mod faults;
mod identity;
mod jobs;
mod log;
mod ops;
pub mod protocol;
mod server;
pub mod snapshot;
mod state;
pub mod synthetic;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use hlaudit_model::Record;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use error::EmulatorError;
pub use faults::{FaultKind, Faults, RegionSet};
pub use jobs::MAX_PROFILE_RESULTS;
pub use log::LogEntry;
pub use ops::MAX_RESULTS;
pub use protocol::Operation;
pub use snapshot::{load_snapshot, load_snapshots};
pub use state::DEFAULT_ACCOUNT;

use server::{Accounts, Shared};

/// The page size of `ListFHIRDatastores` when a request gives no `MaxResults`. AWS
/// does not document its default; 100 is the common AWS choice.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// Entry point: [`Emulator::builder`].
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// A builder with no data, no faults, port 0 (a free port) on 127.0.0.1.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder {
            records: Vec::new(),
            profiles: Vec::new(),
            faults: Faults::default(),
            access_keys: BTreeMap::new(),
            default_account: None,
            sts_endpoint: None,
            page_size: DEFAULT_PAGE_SIZE,
            port: 0,
            request_log: None,
        }
    }
}

/// Configures an emulator; [`EmulatorBuilder::start`] runs it.
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    records: Vec<Record>,
    profiles: Vec<(String, String, Value)>,
    faults: Faults,
    access_keys: BTreeMap<String, String>,
    default_account: Option<String>,
    sts_endpoint: Option<String>,
    page_size: usize,
    port: u16,
    request_log: Option<PathBuf>,
}

impl EmulatorBuilder {
    /// Adds records to serve (their tags from `Record::tags`). Each data store is
    /// served to the account and region of its ARN; a repeated ARN is served once (the
    /// first). Export and import jobs are served with their data store (by
    /// `DatastoreId`, in the account and region of their context when it names them).
    pub fn records(mut self, records: impl IntoIterator<Item = Record>) -> Self {
        self.records.extend(records);
        self
    }

    /// Adds data transformation profiles to serve to `account` in `region`: each the
    /// JSON of a `GetDataTransformationProfile` output (`ProfileId` and `Version`
    /// required; any other field, known to the API or not, is served as given).
    /// `ListDataTransformationProfiles` serves each without `ProfileMapping` and
    /// `ChangeDescription`.
    pub fn profiles(
        mut self,
        account: impl Into<String>,
        region: impl Into<String>,
        profiles: impl IntoIterator<Item = Value>,
    ) -> Self {
        let (account, region) = (account.into(), region.into());
        self.profiles.extend(
            profiles
                .into_iter()
                .map(|p| (account.clone(), region.clone(), p)),
        );
        self
    }

    /// Sets the faults (replacing any set before).
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Maps an access key id to an account. Keys not mapped use the default account.
    pub fn access_key(mut self, access_key: impl Into<String>, account: impl Into<String>) -> Self {
        self.access_keys.insert(access_key.into(), account.into());
        self
    }

    /// The account of access keys not mapped. Without it: the only account in the
    /// data, or [`DEFAULT_ACCOUNT`] when the data has none or several.
    pub fn default_account(mut self, account: impl Into<String>) -> Self {
        self.default_account = Some(account.into());
        self
    }

    /// Learns the account of access keys not mapped with [`EmulatorBuilder::access_key`]
    /// from this STS endpoint (`GetCallerIdentity` with the request's access key and
    /// session token; moto's server answers it for the credentials it issued), so
    /// assumed-role credentials see their own account's data stores. Keys STS does not
    /// accept are refused with `UnrecognizedClientException`.
    pub fn sts_endpoint(mut self, url: impl Into<String>) -> Self {
        self.sts_endpoint = Some(url.into());
        self
    }

    /// The `ListFHIRDatastores` page size when a request gives no `MaxResults`
    /// (1-500, default [`DEFAULT_PAGE_SIZE`]).
    pub fn page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size;
        self
    }

    /// The port on 127.0.0.1 (0, the default, picks a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Also writes the request log to this file as JSON Lines (created or truncated).
    pub fn request_log(mut self, path: impl Into<PathBuf>) -> Self {
        self.request_log = Some(path.into());
        self
    }

    fn prepare(self) -> Result<(Arc<Shared>, SocketAddr), EmulatorError> {
        self.faults.validate()?;
        if !(1..=MAX_RESULTS).contains(&self.page_size) {
            return Err(EmulatorError::InvalidPageSize(self.page_size));
        }
        let mut store = state::Store::new(self.records)?;
        for (account, region, profile) in self.profiles {
            store.jobs.insert_profile(&account, &region, profile)?;
        }
        let default = match self.default_account {
            Some(a) => a,
            None => {
                let accounts = store.accounts();
                match (accounts.len(), accounts.first()) {
                    (1, Some(only)) => (*only).to_owned(),
                    _ => DEFAULT_ACCOUNT.to_owned(),
                }
            }
        };
        let log = match &self.request_log {
            Some(path) => log::RequestLog::with_file(path)?,
            None => log::RequestLog::default(),
        };
        let shared = Arc::new(Shared {
            store: std::sync::RwLock::new(store),
            faults: std::sync::RwLock::new(self.faults),
            attempts: std::sync::Mutex::new(Default::default()),
            log,
            accounts: Accounts {
                by_key: self.access_keys,
                default,
                sts: self
                    .sts_endpoint
                    .map(|url| Arc::new(identity::StsAccounts::new(url))),
            },
            page_size: self.page_size,
            requests: Default::default(),
            window_starts: Default::default(),
        });
        Ok((shared, SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))))
    }

    /// Binds and starts serving on the current tokio runtime. The server shares that
    /// runtime: on a single-threaded one (the default of `#[tokio::test]`), the
    /// clients must be async too; use [`EmulatorBuilder::start_blocking`] for blocking
    /// clients.
    pub async fn start(self) -> Result<RunningEmulator, EmulatorError> {
        let (shared, addr) = self.prepare()?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(serve(listener, shared.clone(), rx));
        Ok(RunningEmulator {
            addr,
            shared,
            shutdown: Some(tx),
            task: Some(Task::Tokio(task)),
        })
    }

    /// Starts the emulator on a thread of its own with its own tokio runtime, for
    /// tests that are not async. Dropping the handle (or
    /// [`RunningEmulator::shutdown_blocking`]) stops it.
    pub fn start_blocking(self) -> Result<RunningEmulator, EmulatorError> {
        let (shared, addr) = self.prepare()?;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (tx, rx) = oneshot::channel();
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("hlaudit-emulator".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(EmulatorError::Thread(e.to_string())));
                        return Ok(());
                    }
                };
                runtime.block_on(async move {
                    let bound = TcpListener::bind(addr).await.and_then(|l| {
                        let local = l.local_addr()?;
                        Ok((l, local))
                    });
                    match bound {
                        Ok((listener, local)) => {
                            let _ = ready_tx.send(Ok(local));
                            serve(listener, thread_shared, rx).await
                        }
                        Err(source) => {
                            let _ = ready_tx.send(Err(EmulatorError::Bind { addr, source }));
                            Ok(())
                        }
                    }
                })
            })
            .map_err(|e| EmulatorError::Thread(e.to_string()))?;
        let addr = ready_rx
            .recv()
            .map_err(|_| EmulatorError::Thread("stopped before listening".to_owned()))??;
        Ok(RunningEmulator {
            addr,
            shared,
            shutdown: Some(tx),
            task: Some(Task::Thread(thread)),
        })
    }
}

async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    stop: oneshot::Receiver<()>,
) -> Result<(), EmulatorError> {
    let app = axum::Router::new()
        .fallback(server::handle)
        .with_state(shared);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            // A dropped sender also stops the server.
            let _ = stop.await;
        })
        .await
        .map_err(EmulatorError::Serve)
}

#[derive(Debug)]
enum Task {
    Tokio(tokio::task::JoinHandle<Result<(), EmulatorError>>),
    Thread(std::thread::JoinHandle<Result<(), EmulatorError>>),
}

/// A running emulator. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningEmulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<Task>,
}

impl RunningEmulator {
    /// The address it listens on (127.0.0.1 and the port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, for `--endpoint-url` or the SDK's `endpoint_url`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn log(&self) -> Vec<LogEntry> {
        self.shared.log.entries()
    }

    /// Forgets the requests logged so far (a JSON Lines file keeps them).
    pub fn clear_log(&self) {
        self.shared.log.clear();
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.shared.faults()
    }

    /// Replaces the faults from the next request on (for example: build state
    /// through the SDK without faults, then turn them on). Fails if they are invalid.
    pub fn set_faults(&self, faults: Faults) -> Result<(), EmulatorError> {
        faults.validate()?;
        self.shared.set_faults(faults);
        Ok(())
    }

    /// The `DatastoreProperties` of one (account, region), as the wire carries them,
    /// in listing order.
    pub fn datastores(&self, account: &str, region: &str) -> Vec<Value> {
        self.shared.with_store(|s| {
            s.list(account, region)
                .iter()
                .filter_map(|d| serde_json::from_str(d.wire.get()).ok())
                .collect()
        })
    }

    /// The export jobs (`kind` [`hlaudit_model::Kind::ExportJob`]) or import jobs of a
    /// data store, as the wire carries them, in listing order.
    pub fn jobs(
        &self,
        account: &str,
        region: &str,
        datastore_id: &str,
        kind: hlaudit_model::Kind,
    ) -> Vec<Value> {
        self.shared.with_store(|s| {
            s.jobs
                .of(account, region, datastore_id)
                .map(|j| {
                    let list = if kind == hlaudit_model::Kind::ExportJob {
                        &j.export
                    } else {
                        &j.import
                    };
                    list.iter()
                        .filter_map(|j| serde_json::from_str(j.wire.get()).ok())
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    /// Every job served, as `(account, region, kind, JobProperties)`.
    pub fn all_jobs(&self) -> Vec<(String, String, hlaudit_model::Kind, Value)> {
        self.shared.with_store(|s| {
            let mut out = Vec::new();
            for ((account, region, _), jobs) in s.jobs.all() {
                for (kind, list) in [
                    (hlaudit_model::Kind::ExportJob, &jobs.export),
                    (hlaudit_model::Kind::ImportJob, &jobs.import),
                ] {
                    for j in list {
                        if let Ok(v) = serde_json::from_str(j.wire.get()) {
                            out.push((account.clone(), region.clone(), kind, v));
                        }
                    }
                }
            }
            out
        })
    }

    /// The tags of a data store, by ARN (`None` when no such data store).
    pub fn tags(&self, arn: &str) -> Option<BTreeMap<String, String>> {
        let parts = hlaudit_model::Arn::parse(arn).ok()?;
        self.shared.with_store(|s| {
            s.by_arn(&parts.account, &parts.region, arn)
                .map(|d| d.tags.clone())
        })
    }

    /// The (account, region) pairs that hold data stores, with their counts.
    pub fn partitions(&self) -> Vec<(String, String, usize)> {
        self.shared.with_store(|s| {
            s.partitions()
                .map(|((a, r), list)| (a.clone(), r.clone(), list.len()))
                .collect()
        })
    }

    /// The account of access keys that are not mapped.
    pub fn default_account(&self) -> &str {
        &self.shared.accounts.default
    }

    /// Stops accepting, lets requests in flight finish, and waits for the server.
    pub async fn shutdown(mut self) -> Result<(), EmulatorError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(Task::Tokio(handle)) => handle
                .await
                .map_err(|e| EmulatorError::Thread(e.to_string()))?,
            Some(Task::Thread(thread)) => tokio::task::spawn_blocking(move || join(thread))
                .await
                .map_err(|e| EmulatorError::Thread(e.to_string()))?,
            None => Ok(()),
        }
    }

    /// Stops a blocking emulator and waits for its thread. For one started with
    /// [`EmulatorBuilder::start`], only signals the stop (the server task ends on its
    /// runtime).
    pub fn shutdown_blocking(mut self) -> Result<(), EmulatorError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(Task::Thread(thread)) => join(thread),
            Some(Task::Tokio(_)) | None => Ok(()),
        }
    }
}

fn join(thread: std::thread::JoinHandle<Result<(), EmulatorError>>) -> Result<(), EmulatorError> {
    thread
        .join()
        .map_err(|_| EmulatorError::Thread("the emulator thread panicked".to_owned()))?
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

//! The one error type of the emulator library.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the emulator could not load its data or start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// A snapshot file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Snapshot files could not be read: every problem, rendered like a compiler
    /// error (file, line, column, the source line, a hint).
    #[error("{}", .0.render().trim_end())]
    Snapshot(hlaudit_model::snapshot::SnapshotErrors),
    /// A record's properties cannot be served (a timestamp that is neither epoch
    /// seconds nor ISO 8601).
    #[error("data store `{arn}`: field `{field}`: {message}")]
    Record {
        /// `DatastoreArn` of the record.
        arn: String,
        /// The field path, e.g. `BackupStatusInfo.LatestRestorePoint`.
        field: String,
        /// What was wrong.
        message: String,
    },
    /// A fault setting is out of range.
    #[error("fault setting `{name}` = {value}: {expected}")]
    InvalidFault {
        /// The setting, e.g. `throttle_rate`.
        name: &'static str,
        /// The value given.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// The default page size is outside 1-500.
    #[error("default page size {0} is outside 1-500")]
    InvalidPageSize(usize),
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The server stopped with an I/O error.
    #[error("the emulator's server failed: {0}")]
    Serve(#[source] std::io::Error),
    /// The thread that runs a blocking emulator could not be started, or stopped
    /// before it reported its address.
    #[error("the emulator thread failed: {0}")]
    Thread(String),
    /// The request log file could not be created or written.
    #[error("request log {path}: {source}")]
    RequestLog {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

// Not `#[from]`: the rendering already holds every error, and a `source` would make
// error reporters print it twice.
impl From<hlaudit_model::snapshot::SnapshotErrors> for EmulatorError {
    fn from(errors: hlaudit_model::snapshot::SnapshotErrors) -> Self {
        EmulatorError::Snapshot(errors)
    }
}

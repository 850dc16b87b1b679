//! The request log: one entry per request, readable by tests and optionally written
//! as JSON Lines.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};

use crate::error::EmulatorError;
use crate::faults::FaultKind;

/// One request as the emulator answered it. No credential is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// Arrival order, from 0.
    pub seq: u64,
    /// The `x-amzn-RequestId` sent back.
    pub request_id: String,
    /// The operation's API name (`ListFHIRDatastores`), or the `X-Amz-Target` as sent
    /// when it names no operation served here (empty when absent).
    pub operation: String,
    /// The region of the request's credential scope, when it had a valid one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The account the request's access key maps to, when it had a valid scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The HTTP status sent.
    pub status: u16,
    /// The error's `__type` short name, for an error response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The fault injected, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<FaultKind>,
    /// The `ResourceARN` the request names (`ListTagsForResource`, `TagResource`), or
    /// the ARN of the data store a job request names by `DatastoreId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Items in a listing page: data stores, jobs or transformation profiles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returned: Option<usize>,
    /// The `NextToken` the request carried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_token: Option<String>,
    /// The `NextToken` the response carried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_token: Option<String>,
}

/// The log of one running emulator.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: Mutex<Vec<LogEntry>>,
    sink: Option<(PathBuf, Mutex<BufWriter<File>>)>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a Vec or a writer half-updated in a
    // way that matters here; keep serving.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RequestLog {
    /// A log that also appends each entry to `path` (created or truncated).
    pub fn with_file(path: &Path) -> Result<Self, EmulatorError> {
        let file = File::create(path).map_err(|source| EmulatorError::RequestLog {
            path: path.to_owned(),
            source,
        })?;
        Ok(RequestLog {
            entries: Mutex::new(Vec::new()),
            sink: Some((path.to_owned(), Mutex::new(BufWriter::new(file)))),
        })
    }

    /// Records an entry; its `seq` is set here, in arrival order at the log.
    pub fn push(&self, mut entry: LogEntry) {
        let mut entries = lock(&self.entries);
        entry.seq = entries.len() as u64;
        if let Some((path, sink)) = &self.sink {
            let mut sink = lock(sink);
            let written = serde_json::to_writer(&mut *sink, &entry)
                .map_err(std::io::Error::from)
                .and_then(|()| sink.write_all(b"\n"))
                .and_then(|()| sink.flush());
            if let Err(e) = written {
                tracing::warn!(path = %path.display(), error = %e, "cannot write the request log");
            }
        }
        entries.push(entry);
    }

    /// A copy of every entry so far.
    pub fn entries(&self) -> Vec<LogEntry> {
        lock(&self.entries).clone()
    }

    /// Forgets the entries so far (the file keeps them).
    pub fn clear(&self) {
        lock(&self.entries).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(op: &str) -> LogEntry {
        LogEntry {
            seq: 99,
            request_id: "r".to_owned(),
            operation: op.to_owned(),
            region: Some("us-east-1".to_owned()),
            account: None,
            status: 200,
            error_code: None,
            fault: Some(FaultKind::Throttling),
            resource: None,
            returned: None,
            request_token: None,
            response_token: None,
        }
    }

    #[test]
    fn numbers_entries_and_writes_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let log = RequestLog::with_file(&path).unwrap();
        log.push(entry("A"));
        log.push(entry("B"));
        let entries = log.entries();
        assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [0, 1]);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<LogEntry> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines, entries);
        assert!(text.contains(r#""fault":"throttling""#), "{text}");
    }
}

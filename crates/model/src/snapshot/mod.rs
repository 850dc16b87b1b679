//! Snapshot reading and writing.
//!
//! hlaudit reads, recognising the shape by content, never by file name:
//!
//! 1. the output of `aws healthlake list-fhir-datastores`:
//!    `{"DatastorePropertiesList": [...], "NextToken": "..."}` (a non-empty `NextToken`
//!    means the listing is incomplete and becomes an `incomplete-listing` collection error);
//! 2. the output of `aws healthlake describe-fhir-datastore`: `{"DatastoreProperties": {...}}`;
//! 3. a bare JSON array of `DatastoreProperties` objects;
//! 4. JSON Lines, one `DatastoreProperties` object per line (blank lines allowed);
//! 5. hlaudit's own snapshot, a versioned envelope written by [`write_snapshot`]
//!    (see `docs/snapshot.md` and `docs/snapshot.schema.json`).
//!
//! The main design decision: records are never collected by the reader. A serde visitor
//! walks the record array element by element, each element is taken as raw JSON text
//! (the record keeps it untouched), checked by [`Record::from_raw`] and handed to a
//! callback ([`for_each_record`]); [`read_files`] is one such callback that builds an
//! [`Inventory`]. Files up to [`WHOLE_FILE_LIMIT`] are read into memory and parsed with
//! serde_json's fast slice reader; bigger files and standard input are read as a stream,
//! so memory follows the largest record, not the file.
//!
//! Every record gets its [`Source`] (file, line and column of its opening brace). Bad input
//! never passes silently: every problem becomes a [`SnapshotError`] naming the file, line
//! and column and what was expected, rendered like a compiler error; all problems of all
//! inputs are collected in one pass ([`SnapshotErrors`]).
//!
//! ```
//! let text = r#"{"DatastorePropertiesList": [{
//!   "DatastoreId": "a1b2", "DatastoreStatus": "ACTIVE",
//!   "DatastoreArn": "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/a1b2"}]}"#;
//! let inv = hlaudit_model::snapshot::read_reader("list.json", text.as_bytes()).unwrap();
//! assert_eq!(inv.records[0].region(), "us-east-1");
//! assert_eq!(inv.records[0].source.as_ref().unwrap().to_string(), "list.json:1:30");
//! ```

mod error;
mod input;
mod read;
mod records;
mod write;

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::Arc;

use serde_json::value::RawValue;

pub use error::{ErrorKind, SnapshotError, SnapshotErrors, Snippet};
pub use write::write_snapshot;

use input::{Input, Pos};
use read::relative_to;

use crate::inventory::{CollectionError, Inventory, Warning};
use crate::record::{Record, RecordError, Source, DATASTORE_STATUSES};
use crate::timestamp::Timestamp;

/// The hlaudit snapshot format version this build writes and the newest it reads.
pub const SNAPSHOT_VERSION: u64 = 1;

/// Regular files up to this size are read into memory and parsed in one go (faster);
/// bigger ones, and standard input, are streamed.
pub const WHOLE_FILE_LIMIT: u64 = 256 * 1024 * 1024;

/// After this many errors in one input, reading it stops.
pub const MAX_ERRORS_PER_INPUT: usize = 100;

/// The shape an input was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `aws healthlake list-fhir-datastores` output.
    List,
    /// `aws healthlake describe-fhir-datastore` output.
    Describe,
    /// A bare JSON array of `DatastoreProperties` objects.
    Array,
    /// JSON Lines, one `DatastoreProperties` object per line.
    Lines,
    /// An hlaudit snapshot.
    Hlaudit,
}

/// What an hlaudit snapshot says about its collection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SnapshotMeta {
    /// The format version (`hlauditSnapshot`).
    pub version: u64,
    /// The hlaudit version that wrote it.
    pub tool_version: Option<String>,
    /// When the data was collected.
    pub collected_at: Option<Timestamp>,
    /// Accounts the collection covered (including ones without data stores).
    pub accounts: Vec<String>,
    /// Regions the collection covered (including ones without data stores).
    pub regions: Vec<String>,
}

/// What one input held besides its records.
#[derive(Debug, Clone, Default)]
pub struct FileSummary {
    /// The input as named.
    pub name: String,
    /// The shape recognised, when one was.
    pub shape: Option<Shape>,
    /// How many records were handed on.
    pub records: usize,
    /// The envelope of an hlaudit snapshot.
    pub snapshot: Option<SnapshotMeta>,
    /// Collection errors the input records (an hlaudit snapshot's `errors`, or an
    /// `incomplete-listing` for a listing with a `NextToken`).
    pub errors: Vec<CollectionError>,
    /// Warnings about records (`unknown-status`).
    pub warnings: Vec<Warning>,
}

/// Reads snapshot files (`-` is standard input) into one [`Inventory`].
///
/// Every problem in every file is collected before returning; any problem makes the
/// result an error. The same `DatastoreArn` seen twice is kept once, with a
/// `duplicate-arn` warning naming both places; an unknown `DatastoreStatus` gives an
/// `unknown-status` warning. `coverage` gets the accounts and regions, the inputs, and
/// from hlaudit snapshots `collectedAt` (the earliest), `toolVersion` and the errors.
pub fn read_files(paths: &[impl AsRef<str>]) -> Result<Inventory, SnapshotErrors> {
    let mut asm = Assembler::default();
    let mut errors = Vec::new();
    for path in paths {
        let name = path.as_ref();
        let result = if name == "-" {
            let stdin = std::io::stdin();
            let lock = stdin.lock();
            read_input(name, Input::stream(lock), &mut |r| asm.push(r))
        } else {
            match open(name) {
                Ok(input) => read_input(name, input, &mut |r| asm.push(r)),
                Err(e) => Err(e.into()),
            }
        };
        match result {
            Ok(summary) => asm.add(summary),
            Err(e) => errors.extend(e.0),
        }
    }
    if errors.is_empty() {
        Ok(asm.finish())
    } else {
        Err(SnapshotErrors(errors))
    }
}

/// Reads one input from a reader (streaming) into an [`Inventory`]; `name` is how errors
/// and sources name it.
pub fn read_reader(name: &str, reader: impl Read) -> Result<Inventory, SnapshotErrors> {
    let mut asm = Assembler::default();
    let summary = read_input(name, Input::stream(reader), &mut |r| asm.push(r))?;
    asm.add(summary);
    Ok(asm.finish())
}

/// Streams the records of one input to `f` as they are read, without holding them: memory
/// follows the largest record, whatever the size of the input.
///
/// Records that are valid are handed on even when others are not; the result says whether
/// the whole input was good. Duplicates are not detected here (that needs every ARN).
///
/// ```
/// let text = "{\"DatastoreId\":\"a\",\"DatastoreArn\":\"arn:aws:healthlake:eu-west-2:1:datastore/fhir/a\"}\n";
/// let mut regions = Vec::new();
/// let summary = hlaudit_model::snapshot::for_each_record("in.jsonl", text.as_bytes(), |r| {
///     regions.push(r.region().to_owned());
/// })
/// .unwrap();
/// assert_eq!((summary.records, regions), (1, vec!["eu-west-2".to_owned()]));
/// ```
pub fn for_each_record(
    name: &str,
    reader: impl Read,
    mut f: impl FnMut(Record),
) -> Result<FileSummary, SnapshotErrors> {
    read_input(name, Input::stream(reader), &mut f)
}

/// Opens a file: whole when it is a regular file up to [`WHOLE_FILE_LIMIT`], else a stream.
fn open(name: &str) -> Result<Input<'static>, SnapshotError> {
    let io = |e: std::io::Error| SnapshotError::new(name, 0, 0, ErrorKind::Io(e.to_string()));
    let mut file = std::fs::File::open(name).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.is_dir() {
        return Err(SnapshotError::new(
            name,
            0,
            0,
            ErrorKind::Io("it is a directory; name the snapshot files in it".to_owned()),
        ));
    }
    if meta.is_file() && meta.len() <= WHOLE_FILE_LIMIT {
        let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
        file.read_to_end(&mut bytes).map_err(io)?;
        Ok(Input::whole(bytes))
    } else {
        Ok(Input::stream(file))
    }
}

fn read_input(
    name: &str,
    input: Input<'_>,
    sink: &mut dyn FnMut(Record),
) -> Result<FileSummary, SnapshotErrors> {
    let mut st = FileReader {
        name: Arc::from(name),
        sink,
        errors: Vec::new(),
        summary: FileSummary {
            name: name.to_owned(),
            ..FileSummary::default()
        },
        pending: None,
        current_key: None,
        stopped: false,
    };
    read::read_input(input, &mut st);
    if st.errors.is_empty() {
        Ok(st.summary)
    } else {
        Err(SnapshotErrors(st.errors))
    }
}

/// The state of reading one input: where records go, and what went wrong.
pub(crate) struct FileReader<'f> {
    name: Arc<str>,
    sink: &'f mut dyn FnMut(Record),
    errors: Vec<SnapshotError>,
    summary: FileSummary,
    /// An error raised inside a serde visitor, reported instead of serde's own.
    pending: Option<SnapshotError>,
    /// The envelope key being read, for type errors in its value.
    current_key: Option<(String, Pos)>,
    stopped: bool,
}

type SnippetFn<'a> = dyn Fn(usize, usize) -> Option<Snippet> + 'a;

impl FileReader<'_> {
    fn stopped(&self) -> bool {
        self.stopped
    }

    fn push_error(&mut self, e: SnapshotError) {
        if self.stopped {
            return;
        }
        if self.errors.len() >= MAX_ERRORS_PER_INPUT {
            self.errors.push(SnapshotError::new(
                &self.name,
                e.line,
                e.column,
                ErrorKind::TooManyErrors(self.errors.len()),
            ));
            self.stopped = true;
            return;
        }
        self.errors.push(e);
    }

    /// A serde_json error at `at` as a malformed-JSON (or wrong-shape) error.
    fn syntax_error(&self, e: &serde_json::Error, at: Pos) -> SnapshotError {
        let message = strip_position(&e.to_string());
        let kind = match (e.classify(), &self.current_key) {
            (serde_json::error::Category::Data, Some((key, _))) => ErrorKind::Envelope {
                field: key.clone(),
                message,
            },
            (serde_json::error::Category::Data, None) => ErrorKind::UnknownShape { found: message },
            _ => ErrorKind::Syntax(message),
        };
        let hint = match e.classify() {
            serde_json::error::Category::Eof => {
                Some("the input ends inside a JSON value: was it cut short?")
            }
            _ if e.to_string().starts_with("trailing comma") => {
                Some("JSON allows no comma after the last element of an array or object")
            }
            _ if e.to_string().starts_with("expected `,`") => {
                Some("is a comma missing after the value before this one?")
            }
            _ if e.to_string().starts_with("trailing characters") => Some(
                "a snapshot file holds one JSON document (or JSON Lines of records); \
                 give several outputs as separate files",
            ),
            _ if e.to_string().starts_with("key must be a string") => {
                Some("JSON keys are written in double quotes")
            }
            _ => None,
        };
        let mut err = SnapshotError::new(&self.name, at.line, at.column, kind);
        err.hint = hint.map(str::to_owned);
        err
    }

    /// Reports the error that ended a serde_json parse.
    fn fail(
        &mut self,
        e: serde_json::Error,
        at: Pos,
        snippet: impl Fn(usize, usize) -> Option<Snippet>,
    ) {
        if let Some(p) = self.pending.take() {
            self.push_error(p);
            return;
        }
        if self.stopped {
            return;
        }
        let mut err = self.syntax_error(&e, at);
        err.snippet = snippet(at.line, at.column).map(Box::new);
        self.push_error(err);
    }

    /// Checks one `DatastoreProperties` object found at `pos` and hands it on.
    fn record(
        &mut self,
        raw: Box<RawValue>,
        pos: Pos,
        tags: Option<BTreeMap<String, String>>,
        enrichments: BTreeMap<String, serde_json::Value>,
        snippet: &SnippetFn<'_>,
    ) {
        match Record::from_raw_keeping(raw) {
            Ok(mut r) => {
                r.tags = tags;
                r.enrichments = enrichments;
                let source = Source {
                    file: self.name.clone(),
                    line: u32::try_from(pos.line).unwrap_or(u32::MAX),
                    column: u32::try_from(pos.column).unwrap_or(u32::MAX),
                };
                if let Some(status) = r.status().filter(|_| !r.status_is_known()) {
                    self.summary.warnings.push(Warning {
                        code: "unknown-status".to_owned(),
                        message: format!(
                            "data store `{}` has DatastoreStatus `{status}`, which is not one of {}",
                            r.id(),
                            DATASTORE_STATUSES.join(", ")
                        ),
                        source: Some(source.clone()),
                    });
                }
                r.source = Some(source);
                self.summary.records += 1;
                (self.sink)(r);
            }
            Err((e, raw)) => self.record_error(e, raw.get(), pos, snippet),
        }
    }

    fn record_error(&mut self, e: RecordError, text: &str, pos: Pos, snippet: &SnippetFn<'_>) {
        // Point at the value of the field when it can be found (serde_json points just
        // past a value of the wrong type), else where serde_json stopped, else the brace.
        let (rel_line, rel_col) = match path_offset(text, &e.path) {
            Some(off) if e.path != "." => line_col(text, off),
            _ if e.line > 0 => (e.line, e.column),
            _ => (1, 1),
        };
        let at = relative_to(pos, rel_line, rel_col);
        let (kind, hint) = if e.message.starts_with("required field") {
            (
                ErrorKind::MissingField { field: e.path },
                Some(
                    "every data store needs `DatastoreId` and `DatastoreArn`, as \
                     `aws healthlake list-fhir-datastores` prints them"
                        .to_owned(),
                ),
            )
        } else {
            let hint = match e.path.as_str() {
                "CreatedAt" => Some(
                    "timestamps are epoch seconds (1603761064.881) or ISO 8601 with an offset \
                     (2020-10-27T01:11:04.881000+00:00)",
                ),
                "DatastoreArn" => Some(
                    "a data store ARN looks like \
                     arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/ID",
                ),
                "." => Some("each record is a DatastoreProperties JSON object"),
                _ => None,
            };
            (
                ErrorKind::InvalidField {
                    path: e.path,
                    message: e.message,
                },
                hint.map(str::to_owned),
            )
        };
        let mut err = SnapshotError::new(&self.name, at.line, at.column, kind);
        err.hint = hint;
        err.snippet = snippet(at.line, at.column)
            .or_else(|| {
                let line = text.lines().nth(rel_line - 1)?;
                Some(Snippet::new(
                    line.as_bytes(),
                    rel_col,
                    rel_line == 1 && pos.column > 1,
                ))
            })
            .map(Box::new);
        self.push_error(err);
    }

    /// One element of an hlaudit snapshot's `records`.
    fn wrapped_record(&mut self, text: &str, pos: Pos, snippet: &SnippetFn<'_>) {
        #[derive(serde::Deserialize)]
        #[serde(expecting = "a snapshot record object {\"properties\": {...}, \"tags\": {...}}")]
        struct Wrapped<'a> {
            #[serde(borrow)]
            properties: Option<&'a RawValue>,
            #[serde(default)]
            tags: Option<BTreeMap<String, String>>,
            #[serde(default)]
            enrichments: Option<BTreeMap<String, serde_json::Value>>,
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let parsed: Result<Wrapped<'_>, _> = serde_path_to_error::deserialize(&mut de);
        let envelope_error = |field: String, message: String, at: Pos| {
            let mut err = SnapshotError::new(
                &self.name,
                at.line,
                at.column,
                ErrorKind::Envelope { field, message },
            );
            err.snippet = snippet(at.line, at.column).map(Box::new);
            err
        };
        match parsed {
            Ok(Wrapped {
                properties: Some(props),
                tags,
                enrichments,
            }) => {
                let off = (props.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
                let (l, c) = line_col(text, off);
                let at = relative_to(pos, l, c);
                self.record(
                    props.to_owned(),
                    at,
                    tags,
                    enrichments.unwrap_or_default(),
                    snippet,
                );
            }
            Ok(Wrapped {
                properties: None, ..
            }) => {
                let err = envelope_error(
                    "records[].properties".to_owned(),
                    "missing: each snapshot record holds its DatastoreProperties in `properties`"
                        .to_owned(),
                    pos,
                );
                self.push_error(err);
            }
            Err(e) => {
                let path = e.path().to_string();
                let inner = e.into_inner();
                let at = relative_to(pos, inner.line(), inner.column());
                let field = if path == "." || path.is_empty() {
                    "records[]".to_owned()
                } else {
                    format!("records[].{path}")
                };
                let err = envelope_error(field, strip_position(&inner.to_string()), at);
                self.push_error(err);
            }
        }
    }
}

/// serde_json appends " at line L column C"; positions are reported separately.
pub(crate) fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// The 1-based line and column of a byte offset in a text.
fn line_col(text: &str, off: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..off.min(text.len())];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, off - line_start + 1)
}

/// The byte offset of the value at a field path (`A.B`, `A.B[2]`) in a JSON object's text.
fn path_offset(text: &str, path: &str) -> Option<usize> {
    if path == "." || path.is_empty() {
        return None;
    }
    let mut off = 0;
    for seg in path.split('.') {
        let (key, indexes) = seg.split_at(seg.find('[').unwrap_or(seg.len()));
        if !key.is_empty() {
            off += value_offset(text.get(off..)?, key)?;
        }
        for idx in indexes.split('[').filter(|s| !s.is_empty()) {
            let n: usize = idx.trim_end_matches(']').parse().ok()?;
            off += element_offset(text.get(off..)?, n)?;
        }
    }
    Some(off)
}

/// Skips JSON whitespace from `j`.
fn skip_ws(b: &[u8], mut j: usize) -> usize {
    while j < b.len() && b" \t\r\n".contains(&b[j]) {
        j += 1;
    }
    j
}

/// Skips a JSON string starting at its opening quote `b[i]`; returns the index of its
/// closing quote.
fn skip_string(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() && b[i] != b'"' {
        if b[i] == b'\\' {
            i += 1;
        }
        i += 1;
    }
    i
}

/// The byte offset of the value of a key of the JSON object `text` starts with.
fn value_offset(text: &str, key: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return None;
                }
            }
            b'"' => {
                let start = i + 1;
                i = skip_string(b, i);
                let name = b.get(start..i.min(b.len()))?;
                if depth == 1 && name == key.as_bytes() {
                    let j = skip_ws(b, i + 1);
                    if b.get(j) == Some(&b':') {
                        return Some(skip_ws(b, j + 1));
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The byte offset of element `n` of the JSON array `text` starts with.
fn element_offset(text: &str, n: usize) -> Option<usize> {
    let b = text.as_bytes();
    if b.first() != Some(&b'[') {
        return None;
    }
    let mut depth = 0usize;
    let mut seen = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' | b'[' => {
                depth += 1;
                if depth == 1 && n == 0 {
                    return Some(skip_ws(b, i + 1));
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return None;
                }
            }
            b'"' => i = skip_string(b, i),
            b',' if depth == 1 => {
                seen += 1;
                if seen == n {
                    return Some(skip_ws(b, i + 1));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Builds one inventory from the records and summaries of several inputs.
#[derive(Default)]
struct Assembler {
    inv: Inventory,
    /// Hash of an ARN -> index in `inv.records` of the first record with that hash (a
    /// hash rather than the ARN saves a copy of every ARN; records are compared by ARN).
    seen: HashMap<u64, usize>,
    /// Further records whose ARN hash collides with a different ARN's (rare).
    collided: HashMap<u64, Vec<usize>>,
}

/// FNV-1a: quick, and good enough to spread ARNs (collisions are checked).
fn arn_hash(arn: &str) -> u64 {
    arn.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Assembler {
    fn push(&mut self, r: Record) {
        let h = arn_hash(r.arn());
        let records = &self.inv.records;
        let same = |i: &usize| records[*i].arn() == r.arn();
        let dup = match self.seen.get(&h) {
            None => None,
            Some(i) if same(i) => Some(*i),
            Some(_) => self
                .collided
                .get(&h)
                .and_then(|v| v.iter().copied().find(same)),
        };
        if let Some(i) = dup {
            let place = |s: &Option<Source>| s.as_ref().map_or("?".to_owned(), Source::to_string);
            self.inv.warnings.push(Warning {
                code: "duplicate-arn".to_owned(),
                message: format!(
                    "data store `{}` appears twice, at {} and at {}; the second is ignored",
                    r.arn(),
                    place(&self.inv.records[i].source),
                    place(&r.source)
                ),
                source: r.source.clone(),
            });
            return;
        }
        let index = self.inv.records.len();
        match self.seen.entry(h) {
            Entry::Vacant(e) => {
                e.insert(index);
            }
            Entry::Occupied(_) => self.collided.entry(h).or_default().push(index),
        }
        self.inv.records.push(r);
    }

    fn add(&mut self, s: FileSummary) {
        let cov = &mut self.inv.coverage;
        cov.inputs.push(s.name);
        if let Some(meta) = s.snapshot {
            cov.accounts.extend(meta.accounts);
            cov.regions.extend(meta.regions);
            cov.collected_at = match (cov.collected_at, meta.collected_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if cov.tool_version.is_none() {
                cov.tool_version = meta.tool_version;
            }
        }
        self.inv.errors.extend(s.errors);
        self.inv.warnings.extend(s.warnings);
    }

    fn finish(mut self) -> Inventory {
        self.inv.refresh_coverage();
        self.inv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_values_by_field_path() {
        let text = r#"{"A": {"DatastoreArn": 1, "s": "}\"{"}, "DatastoreArn" :
  "x", "P": {"L": [1, {"k": 2}, [3]]}}"#;
        let off = path_offset(text, "DatastoreArn").unwrap();
        assert_eq!(&text[off..off + 3], "\"x\"");
        assert_eq!(line_col(text, off), (2, 3));
        let off = path_offset(text, "A.DatastoreArn").unwrap();
        assert_eq!(&text[off..off + 1], "1");
        let off = path_offset(text, "P.L[1].k").unwrap();
        assert_eq!(&text[off..off + 1], "2");
        let off = path_offset(text, "P.L[2]").unwrap();
        assert_eq!(&text[off..off + 3], "[3]");
        assert_eq!(path_offset(text, "Nope"), None);
        assert_eq!(path_offset(text, "A.s.x"), None);
        assert_eq!(path_offset(text, "."), None);
    }
}

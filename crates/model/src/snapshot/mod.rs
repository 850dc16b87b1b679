//! Snapshot reading and writing.
//!
//! hlaudit reads, recognising the shape by content, never by file name:
//!
//! 1. the output of `aws healthlake list-fhir-datastores`:
//!    `{"DatastorePropertiesList": [...], "NextToken": "..."}` (a non-empty `NextToken`
//!    means the listing is incomplete and becomes an `incomplete-listing` collection error,
//!    unless the caller says every page is given: [`ReadOptions::pages_complete`]);
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
//! [`Inventory`]. Files given to [`read_files`] are read into memory whole, whatever their
//! size (pipes and standard input up to [`WHOLE_FILE_LIMIT`]), and parsed with serde_json's
//! fast slice reader: the inventory holds every record anyway, and the records of a UTF-8
//! input keep their place in its text instead of copying theirs, so streaming would save
//! no memory there and costs five times the time per record. Everything given to
//! [`read_reader`] and [`for_each_record`] is read as a stream, so memory follows the
//! largest record, not the input. JSON Lines are read line by line either way, so one
//! malformed line does not hide the next.
//!
//! Every record gets its [`Source`](crate::record::Source) (file, line and column of its opening brace). Bad input
//! never passes silently: every problem becomes a [`SnapshotError`] naming the file, line
//! and column and what was expected, rendered like a compiler error; all problems of all
//! inputs are collected in one pass ([`SnapshotErrors`]).
//!
//! Each file uses only the files listed after it (and the public types of this file,
//! which `sniff`, `envelope`, `sink` and `assemble` fill in):
//!
//! - `sniff` recognises an input's shape and hands it to its reader; uses `envelope`,
//!   `json_lines`, `positioned`, `sink`, `input`, `position`, `error`.
//! - `envelope` reads the top-level value (AWS CLI outputs, hlaudit snapshots, a bare
//!   array); uses `record_array`, `positioned`, `sink`, `listing`, `position`, `error`.
//! - `json_lines` reads JSON Lines line by line; uses `sink`, `input`, `position`, `error`.
//! - `record_array` reads an array of records element by element; uses `positioned`,
//!   `sink`, `position`.
//! - `positioned` reads one raw value with where it starts, in memory or in a stream; uses
//!   `input`, `position`, `error`.
//! - `sink` checks one input's records, hands them on and collects its errors; uses
//!   `locate`, `position`, `error`.
//! - `input` holds one input's bytes, whole or streamed; uses `position`, `error`.
//! - `assemble` (inputs into one inventory) uses `listing` and `error`; `write` (the
//!   snapshot format) uses `error`.
//! - `listing` (pages of a listing, and what the caller's word that they are every page
//!   settles) uses none of the others.
//! - `locate` (a field's value in a record's text), `position` (lines, columns and their
//!   conversions) and `error` use none of the others.
//!
//! ```
//! let text = r#"{"DatastorePropertiesList": [{
//!   "DatastoreId": "a1b2", "DatastoreStatus": "ACTIVE",
//!   "DatastoreArn": "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/a1b2"}]}"#;
//! let inv = hlaudit_model::snapshot::read_reader("list.json", text.as_bytes()).unwrap();
//! assert_eq!(inv.records[0].region(), Some("us-east-1"));
//! assert_eq!(inv.records[0].source.as_ref().unwrap().to_string(), "list.json:1:30");
//! ```

mod assemble;
mod envelope;
mod error;
mod input;
mod json_lines;
mod listing;
mod locate;
mod position;
mod positioned;
mod record_array;
mod sink;
mod sniff;
mod write;

use std::io::Read;
use std::sync::Arc;

pub use assemble::DuplicatePolicy;
pub use error::{ConflictingCopies, ErrorKind, SnapshotError, SnapshotErrors, Snippet};
pub use write::write_snapshot;

/// Whether a file starting with `head` (its first kilobytes) looks like a snapshot of a
/// shape hlaudit reads; for skipping other files when walking a folder.
///
/// ```
/// use hlaudit_model::snapshot::looks_like_snapshot;
/// assert!(looks_like_snapshot(br#"{"DatastorePropertiesList": []}"#));
/// assert!(looks_like_snapshot(b"[ {\"DatastoreId\": \"a\"} ]"));
/// assert!(!looks_like_snapshot(br#"{"name": "my-package", "version": "1.0.0"}"#));
/// ```
pub fn looks_like_snapshot(head: &[u8]) -> bool {
    sniff::looks_like_snapshot(head)
}

use assemble::Assembler;
use input::Input;
use sink::InputSink;

use crate::inventory::{CollectionError, Inventory, Warning};
use crate::kind::Kind;
use crate::record::Record;
use crate::timestamp::Timestamp;

/// The newest hlaudit snapshot format version this build reads and writes. Version 2 added
/// a record's `kind`, `identity` and `context` (for planned data stores and jobs); a
/// snapshot of data stores that exist is still written as version 1, which every hlaudit
/// reads.
pub const SNAPSHOT_VERSION: u64 = 2;

/// The version a snapshot of only existing data stores is written as.
pub const SNAPSHOT_VERSION_DATASTORES: u64 = 1;

/// [`read_files`] reads regular files whole, whatever their size; standard input and other
/// inputs that are not regular files (pipes) are held whole when they end within this many
/// bytes, and read as a stream after them otherwise, so that an endless pipe is not held
/// before its first byte is looked at.
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
    /// The output of `aws healthlake list-fhir-export-jobs` (`ExportJobPropertiesList`),
    /// `list-fhir-import-jobs` (`ImportJobPropertiesList`) or
    /// `list-data-transformation-profiles` (`Items`), by the kind of its records.
    ResourceList(Kind),
    /// The output of `aws healthlake describe-fhir-export-job` (`ExportJobProperties`) or
    /// `describe-fhir-import-job` (`ImportJobProperties`), by the kind of its record; or of
    /// `get-data-transformation-profile` (a profile's fields at the top level).
    ResourceDescribe(Kind),
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
    /// What came of each (account, region) the collection attempted.
    pub scopes: Vec<crate::inventory::ScopeCoverage>,
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
    /// The non-empty `NextToken` of a list output: more pages follow this one.
    pub next_token: Option<NextToken>,
    /// Warnings about records (`unknown-status`).
    pub warnings: Vec<Warning>,
}

/// The `NextToken` of a list output, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextToken {
    /// The token, as the service sent it.
    pub value: String,
    /// 1-based line of its key.
    pub line: usize,
    /// 1-based column of its key.
    pub column: usize,
}

/// How several inputs become one inventory.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Which copy counts when two inputs hold one data store with different content.
    pub duplicates: DuplicatePolicy,
    /// The caller says the list outputs given are every page of their listings (saved
    /// with a `--next-token` loop, since the AWS CLI does not page through
    /// `list-fhir-datastores`, `list-fhir-export-jobs` or `list-fhir-import-jobs` by
    /// itself). A page's `NextToken` is then no `incomplete-listing` by itself; instead
    /// the pages are grouped by the account and region of their data stores, or the data
    /// store of their jobs, and a listing without its last page, a page of several
    /// listings, or a `NextToken` on two pages is still an error. Every listing taken as
    /// complete on this word gets a `vouched-listing` warning, so the report shows the
    /// completeness was asserted, not observed. Off by default.
    pub pages_complete: bool,
}

/// Reads snapshot files (`-` is standard input) into one [`Inventory`].
///
/// Every problem in every file is collected before returning; any problem makes the
/// result an error. The same `DatastoreArn` seen twice with the same content is kept once,
/// with a `duplicate-arn` warning naming both places; with different content it is an
/// error naming both places and the first difference (see [`read_files_with`] to choose a
/// copy instead). An unknown `DatastoreStatus` gives an `unknown-status` warning.
/// `coverage` gets the accounts and regions, the inputs, and from hlaudit snapshots
/// `collectedAt` (the earliest), `toolVersion` and the errors.
pub fn read_files(paths: &[impl AsRef<str>]) -> Result<Inventory, SnapshotErrors> {
    read_files_with(paths, ReadOptions::default())
}

/// [`read_files`] with options.
pub fn read_files_with(
    paths: &[impl AsRef<str>],
    options: ReadOptions,
) -> Result<Inventory, SnapshotErrors> {
    let mut asm = Assembler::new(options);
    let mut errors = Vec::new();
    for path in paths {
        let name = path.as_ref();
        let result = if name == "-" {
            match Input::whole_up_to(std::io::stdin().lock(), WHOLE_FILE_LIMIT) {
                Ok(input) => read_input(name, input, &mut |r| asm.push(r)),
                Err(e) => Err(SnapshotError::new(name, 0, 0, ErrorKind::Io(e.to_string())).into()),
            }
        } else {
            match open(name) {
                Ok(input) => read_input(name, input, &mut |r| asm.push(r)),
                Err(e) => Err(e.into()),
            }
        };
        asm.end_input(result, &mut errors);
    }
    asm.finish_with(errors)
}

/// Reads one input from a reader (streaming) into an [`Inventory`]; `name` is how errors
/// and sources name it.
pub fn read_reader(name: &str, reader: impl Read) -> Result<Inventory, SnapshotErrors> {
    let mut asm = Assembler::new(ReadOptions::default());
    let mut errors = Vec::new();
    let result = read_input(name, Input::stream(reader), &mut |r| asm.push(r));
    asm.end_input(result, &mut errors);
    asm.finish_with(errors)
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
///     regions.extend(r.region().map(str::to_owned));
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

/// Opens a file: whole when it is a regular file, else (a pipe) whole when it ends within
/// [`WHOLE_FILE_LIMIT`] and a stream after that.
///
/// A regular file is read whole whatever its size, since [`read_files`] keeps every record:
/// the records of a UTF-8 file share its text, so holding the file costs what holding the
/// records would, and the slice reader is five times faster per record than the stream.
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
    if meta.is_file() {
        let bytes = read_whole(&mut file, meta.len()).map_err(io)?;
        Ok(Input::whole(bytes))
    } else {
        Input::whole_up_to(file, WHOLE_FILE_LIMIT).map_err(io)
    }
}

/// Reads a file whole, a large one in pieces on every core (as every snapshot file is
/// read): for other large files hlaudit reads, such as a JSON report read as a baseline.
pub fn read_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    read_whole(&mut file, len)
}

/// Reads a regular file of about `len` bytes whole. The size is a hint: a file that grows
/// while it is read is read to its end.
///
/// A large file is read in pieces on every core. Reading a file the page cache holds is
/// mostly faulting in fresh pages and copying into them (about 110 ms for 164 MB on one
/// core, before any parsing can start), and both go as fast as there are cores to do them.
fn read_whole(file: &mut std::fs::File, len: u64) -> std::io::Result<Vec<u8>> {
    /// Pieces read at once, and the size below which a file is read in one piece.
    const PIECE: usize = 16 << 20;
    let len = usize::try_from(len).unwrap_or(0);
    #[cfg(unix)]
    if len >= 2 * PIECE {
        use rayon::prelude::*;
        use std::io::{Seek, SeekFrom};
        use std::os::unix::fs::FileExt;
        let mut bytes = vec![0u8; len];
        let shared: &std::fs::File = file;
        let pieces = bytes
            .par_chunks_mut(PIECE)
            .enumerate()
            .try_for_each(|(i, piece)| shared.read_exact_at(piece, (i * PIECE) as u64));
        match pieces {
            Ok(()) => {
                file.seek(SeekFrom::Start(len as u64))?;
                file.read_to_end(&mut bytes)?;
                return Ok(bytes);
            }
            // It shrank while it was read: read it again, to its end.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                file.seek(SeekFrom::Start(0))?;
            }
            Err(e) => return Err(e),
        }
    }
    let mut bytes = Vec::with_capacity(len.saturating_add(1));
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn read_input(
    name: &str,
    input: Input<'_>,
    sink: &mut dyn FnMut(Record),
) -> Result<FileSummary, SnapshotErrors> {
    let mut st = InputSink {
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
        kind: Kind::Datastore,
    };
    sniff::read_input(input, &mut st);
    if st.errors.is_empty() {
        Ok(st.summary)
    } else {
        Err(SnapshotErrors(st.errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_read_in_pieces_is_the_file() {
        // Three pieces and a part of one, each byte telling where it is.
        let len = 3 * (16 << 20) + 12_345;
        let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut tmp, &bytes).unwrap();
        let mut file = std::fs::File::open(tmp.path()).unwrap();
        assert!(read_whole(&mut file, len as u64).unwrap() == bytes);
        // A size hint that is short (the file grew) or long (it shrank) still reads it all.
        for hint in [len as u64 - (20 << 20), len as u64 + (1 << 20)] {
            let mut file = std::fs::File::open(tmp.path()).unwrap();
            assert!(read_whole(&mut file, hint).unwrap() == bytes, "hint {hint}");
        }
    }

    #[test]
    fn records_share_the_text_of_a_whole_utf8_file_and_copy_otherwise() {
        let a = r#"{"DatastoreId":"a","DatastoreArn":"arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/a","DatastoreName":"café"}"#;
        let b = r#"{"DatastoreId":"b","DatastoreArn":"arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/b"}"#;
        let text = format!("{{\"DatastorePropertiesList\": [\n  {a},\n  {b}\n]}}\n");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.json");
        std::fs::write(&path, &text).unwrap();
        let name = path.to_str().unwrap();

        let inv = read_files(&[name]).unwrap();
        let texts: Vec<&str> = inv.records.iter().map(Record::raw_json).collect();
        assert_eq!(texts, vec![a, b]);
        assert!(inv.records.iter().all(Record::text_is_shared));
        let source = inv.records[1].source.as_ref().unwrap();
        assert_eq!((source.line, source.column), (3, 3));

        // A stream copies each record's text.
        let inv = read_reader("-", text.as_bytes()).unwrap();
        let texts: Vec<&str> = inv.records.iter().map(Record::raw_json).collect();
        assert_eq!(texts, vec![a, b]);
        assert!(!inv.records.iter().any(Record::text_is_shared));

        // So do JSON Lines (one per line, or pretty-printed) and hlaudit snapshots.
        std::fs::write(&path, format!("{a}\n{{\n  \"DatastoreId\": \"c\",\n  \"DatastoreArn\": \"arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/c\"\n}}\n")).unwrap();
        let inv = read_files(&[name]).unwrap();
        assert_eq!(inv.records.len(), 2);
        assert_eq!(inv.records[0].raw_json(), a);
        assert!(inv.records[1].raw_json().ends_with("/c\"\n}"));
        assert!(inv.records.iter().all(Record::text_is_shared));
        let snapshot = format!(
            "{{\"hlauditSnapshot\": 1, \"records\": [{{\"properties\": {a}, \"tags\": {{\"k\": \"v\"}}}}]}}"
        );
        std::fs::write(&path, snapshot).unwrap();
        let inv = read_files(&[name]).unwrap();
        assert_eq!(inv.records[0].raw_json(), a);
        assert!(inv.records[0].text_is_shared());
        assert_eq!(inv.records[0].tags.as_ref().unwrap()["k"], "v");

        // A file that is not UTF-8 is still read, and the bad byte reported where it is.
        let mut bytes = text.into_bytes();
        let at = bytes.iter().rposition(|&c| c == b'b').unwrap();
        bytes[at] = 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let err = read_files(&[name]).unwrap_err().render();
        assert!(err.contains(&format!("{name}:3:")), "{err}");
    }
}

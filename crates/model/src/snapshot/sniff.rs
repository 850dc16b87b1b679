//! Recognising an input's shape by its content and handing out its records one by one.
//!
//! A JSON array, the AWS CLI outputs and hlaudit snapshots are parsed by one serde_json
//! deserializer whose visitor walks the record array element by element (each element is
//! taken as raw text, checked by [`Record::from_raw`] and handed on, never collected), so
//! memory follows the largest record. JSON Lines are read line by line.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::envelope::TopSeed;
use super::error::{ErrorKind, SnapshotError};
use super::file_reader::{FileReader, SnippetFn};
use super::input::{Input, LineIndex, Pos, SharedInput};
use super::records::read_lines;
use super::Shape;
use crate::record::{RawText, Record, RecordError};

/// The top-level keys that mark an AWS CLI output or an hlaudit snapshot.
pub(crate) const ENVELOPE_KEYS: [&str; 4] = [
    "DatastorePropertiesList",
    "DatastoreProperties",
    "NextToken",
    "hlauditSnapshot",
];

/// What the accepted shapes are, for error hints.
pub(crate) const ACCEPTED: &str = "accepted shapes: the output of `aws healthlake \
list-fhir-datastores` ({\"DatastorePropertiesList\": [...]}) or `describe-fhir-datastore` \
({\"DatastoreProperties\": {...}}), a JSON array of DatastoreProperties objects, JSON Lines \
(one DatastoreProperties object per line), or an hlaudit snapshot ({\"hlauditSnapshot\": 1, ...})";

/// Reads one input to its end (or to its first malformed JSON), reporting into `st`.
pub(crate) fn read_input(mut input: Input<'_>, st: &mut FileReader<'_>) {
    if let Err(e) = sniff_and_read(&mut input, st) {
        let pos = input.position();
        st.push_error(SnapshotError::new(
            &st.name,
            0,
            0,
            ErrorKind::Io(format!("{e} (after line {})", pos.line)),
        ));
    }
}

fn sniff_and_read(input: &mut Input<'_>, st: &mut FileReader<'_>) -> std::io::Result<()> {
    input.skip_bom()?;
    let first = input.skip_ws()?;
    let at = input.position();
    match first {
        None => {
            st.push_error(SnapshotError::new(&st.name, 0, 0, ErrorKind::Empty).with_hint(ACCEPTED));
            Ok(())
        }
        Some(b'[') => {
            st.summary.shape = Some(Shape::Array);
            read_structured(input, st);
            Ok(())
        }
        Some(b'{') => {
            let head = input.peek_n(1024)?;
            match first_key(head) {
                Some(k) if !ENVELOPE_KEYS.contains(&k.as_str()) && is_record_key(&k) => {
                    st.summary.shape = Some(Shape::Lines);
                    read_lines(input, st)
                }
                _ => {
                    read_structured(input, st);
                    Ok(())
                }
            }
        }
        Some(b) => {
            let mut e = SnapshotError::new(
                &st.name,
                at.line,
                at.column,
                ErrorKind::UnknownShape {
                    found: format!("{}, not a JSON object or array", describe_start(b)),
                },
            )
            .with_hint(ACCEPTED);
            e.snippet = input.snippet(at.line, at.column).map(Box::new);
            st.push_error(e);
            Ok(())
        }
    }
}

/// What a JSON value starting with this byte is, for messages.
fn describe_start(b: u8) -> &'static str {
    match b {
        b'"' => "a string",
        b't' | b'f' => "a boolean",
        b'n' => "null",
        b'-' | b'0'..=b'9' => "a number",
        _ => "text that is not JSON",
    }
}

/// Whether a top-level key is one a `DatastoreProperties` object has (so the input is a
/// stream of records): a field of the current API or any `Datastore*` field.
fn is_record_key(k: &str) -> bool {
    const FIELDS: [&str; 11] = [
        "CreatedAt",
        "SseConfiguration",
        "PreloadDataConfig",
        "IdentityProviderConfiguration",
        "ErrorCause",
        "NlpConfiguration",
        "AnalyticsConfiguration",
        "ProfileConfiguration",
        "BackupStatusInfo",
        "DatastoreId",
        "DatastoreArn",
    ];
    k.starts_with("Datastore") || FIELDS.contains(&k)
}

/// The first key of the object starting `head` (`{` included), when it is a plain string.
fn first_key(head: &[u8]) -> Option<String> {
    let rest = head.get(1..)?;
    let start = rest.iter().position(|b| !b" \t\r\n".contains(b))?;
    let rest = rest.get(start..)?.strip_prefix(b"\"")?;
    let end = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
    if rest[end] != b'"' {
        return None;
    }
    String::from_utf8(rest[..end].to_vec()).ok()
}

/// A top-level array or object (AWS CLI output, hlaudit snapshot), whole file or stream.
fn read_structured(input: &mut Input<'_>, st: &mut FileReader<'_>) {
    if input.is_whole() {
        let (buf, start) = input.whole_buf();
        let index = LineIndex::new(buf);
        let mode = SliceMode {
            index: &index,
            base: buf.as_ptr() as usize,
            text: input.whole_text(),
        };
        let mut de = serde_json::Deserializer::from_slice(&buf[start..]);
        let result = TopSeed {
            st: &mut *st,
            mode: &mode,
            start: index.pos(start),
        }
        .deserialize(&mut de)
        .and_then(|()| de.end());
        if let Err(e) = result {
            // serde_json's positions in a slice are absolute once the start is added. For
            // a value of the wrong type the slice reader gives the column before the value
            // (the stream reader, the value's own); point at the value in both.
            let base = index.pos(start);
            let column = match e.classify() {
                serde_json::error::Category::Data => e.column() + 1,
                _ => e.column(),
            };
            let at = relative_to(base, e.line(), column);
            st.fail(e, at, |l, c| index.snippet(l, c));
        }
    } else {
        let cell = RefCell::new(input);
        let mode = StreamMode {
            input: &cell,
            anchor: std::cell::Cell::new(Pos::default()),
        };
        let base = cell.borrow().position();
        let mut de = serde_json::Deserializer::from_reader(SharedInput(&cell));
        let result = TopSeed {
            st: &mut *st,
            mode: &mode,
            start: base,
        }
        .deserialize(&mut de)
        .and_then(|()| de.end());
        if let Err(e) = result {
            if let Some(io) = cell.borrow_mut().io_error.take() {
                st.push_error(SnapshotError::new(
                    &st.name,
                    0,
                    0,
                    ErrorKind::Io(io.to_string()),
                ));
                return;
            }
            let at = relative_to(base, e.line(), e.column());
            st.fail(e, at, |l, c| cell.borrow_mut().snippet(l, c));
        }
    }
}

/// Converts a serde_json position counted from `base` (line 1 is `base`'s line, whose
/// column 1 is `base`'s column) to a position in the input.
pub(crate) fn relative_to(base: Pos, line: usize, column: usize) -> Pos {
    if line <= 1 {
        Pos {
            line: base.line,
            column: base.column + column.max(1) - 1,
            offset: 0,
        }
    } else {
        Pos {
            line: base.line + line - 1,
            column: column.max(1),
            offset: 0,
        }
    }
}

/// How positions are found: in memory by pointer arithmetic on borrowed raw values, in a
/// stream by asking the input how far serde_json has read.
pub(crate) trait Mode<'de> {
    /// A raw JSON value as this mode deserializes it.
    type Raw: Deserialize<'de> + Deref<Target = RawValue> + Send;
    /// Called when serde_json has just peeked the first byte of the next value (array
    /// elements and object keys).
    fn mark_peeked(&self) -> Pos;
    /// Called before an object's value, after its colon (nothing peeked yet).
    fn mark_value(&self) -> Pos;
    /// Where a value deserialized after `mark` starts.
    fn locate(&self, mark: Pos, raw: &RawValue) -> Pos;
    /// The raw value as an owned box.
    fn into_box(raw: Self::Raw) -> Box<RawValue>;
    /// The whole input's text, when records can share it instead of copying theirs.
    fn shared_text(&self) -> Option<Arc<String>> {
        None
    }
    /// The text of a line, for an error message.
    fn snippet(&self, line: usize, column: usize) -> Option<super::error::Snippet>;
}

struct SliceMode<'i, 'a> {
    index: &'i LineIndex<'a>,
    base: usize,
    /// The whole input as text, when it is UTF-8.
    text: Option<&'i Arc<String>>,
}

/// A record's text: a piece of the input's shared text when there is one, else a copy.
fn record_text<'de, M: Mode<'de>>(shared: Option<&Arc<String>>, raw: M::Raw) -> RawText {
    match shared.and_then(|t| RawText::piece_of(t, raw.get())) {
        Some(text) => text,
        None => RawText::Owned(M::into_box(raw)),
    }
}

impl<'de> Mode<'de> for SliceMode<'_, '_> {
    type Raw = &'de RawValue;
    fn mark_peeked(&self) -> Pos {
        Pos::default()
    }
    fn mark_value(&self) -> Pos {
        Pos::default()
    }
    fn locate(&self, _mark: Pos, raw: &RawValue) -> Pos {
        self.index
            .pos((raw.get().as_ptr() as usize).saturating_sub(self.base))
    }
    fn into_box(raw: &'de RawValue) -> Box<RawValue> {
        raw.to_owned()
    }
    fn shared_text(&self) -> Option<Arc<String>> {
        self.text.map(Arc::clone)
    }
    fn snippet(&self, line: usize, column: usize) -> Option<super::error::Snippet> {
        self.index.snippet(line, column)
    }
}

struct StreamMode<'a, 'b, 'r> {
    input: &'a RefCell<&'b mut Input<'r>>,
    /// The start of the last value marked: error snippets in it are found from there.
    anchor: std::cell::Cell<Pos>,
}

impl<'de> Mode<'de> for StreamMode<'_, '_, '_> {
    type Raw = Box<RawValue>;
    fn mark_peeked(&self) -> Pos {
        // serde_json has taken the value's first byte (never a line break) to peek at it.
        let p = self.input.borrow().position();
        let start = Pos {
            line: p.line,
            column: p.column.saturating_sub(1).max(1),
            offset: p.offset.saturating_sub(1),
        };
        self.anchor.set(start);
        start
    }
    fn mark_value(&self) -> Pos {
        // serde_json holds no peeked byte after a colon: the value starts after the
        // whitespace that follows.
        let start = self
            .input
            .borrow_mut()
            .peek_past_ws()
            .unwrap_or_else(|_| self.input.borrow().position());
        self.anchor.set(start);
        start
    }
    fn locate(&self, mark: Pos, _raw: &RawValue) -> Pos {
        mark
    }
    fn into_box(raw: Box<RawValue>) -> Box<RawValue> {
        raw
    }
    fn snippet(&self, line: usize, column: usize) -> Option<super::error::Snippet> {
        let mut input = self.input.borrow_mut();
        let anchor = self.anchor.get();
        if line >= anchor.line && anchor.line > 0 {
            if let Some(s) = input.snippet_from(anchor, line, column) {
                return Some(s);
            }
        }
        input.snippet(line, column)
    }
}

/// Deserializes one value as raw text together with where it starts.
pub(crate) struct Positioned<'m, M> {
    pub(crate) mode: &'m M,
    /// Whether serde_json has peeked the value's first byte (array elements, keys).
    pub(crate) peeked: bool,
}

impl<'de, M: Mode<'de>> DeserializeSeed<'de> for Positioned<'_, M> {
    type Value = (M::Raw, Pos);
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let mark = if self.peeked {
            self.mode.mark_peeked()
        } else {
            self.mode.mark_value()
        };
        let raw = M::Raw::deserialize(d)?;
        let pos = self.mode.locate(mark, &raw);
        Ok((raw, pos))
    }
}

/// An array of records: `DatastoreProperties` objects, or (`wrapped`) hlaudit snapshot
/// records `{"properties": {...}, "tags": {...}, "enrichments": {...}}`.
pub(crate) struct RecordArray<'a, 'f, 'm, M> {
    pub(crate) st: &'a mut FileReader<'f>,
    pub(crate) mode: &'m M,
    pub(crate) wrapped: bool,
}

impl<'de, M: Mode<'de>> DeserializeSeed<'de> for RecordArray<'_, '_, '_, M> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, M: Mode<'de>> Visitor<'de> for RecordArray<'_, '_, '_, M> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.wrapped {
            f.write_str("an array of hlaudit snapshot records")
        } else {
            f.write_str("an array of DatastoreProperties objects")
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mode = self.mode;
        let snippet = |l: usize, c: usize| mode.snippet(l, c);
        if self.wrapped {
            let shared = mode.shared_text();
            while let Some((raw, pos)) = seq.next_element_seed(Positioned { mode, peeked: true })? {
                self.st
                    .wrapped_record(raw.get(), pos, shared.as_ref(), &snippet);
                if self.st.stopped() {
                    return Err(de::Error::custom("stopped"));
                }
            }
            return Ok(());
        }
        // Plain records are split off the array here, one after another, while batches of
        // them are checked on the other cores (field types, the ARN, the copy of the text);
        // they are handed on in input order as their batches complete.
        let (tx, rx) = std::sync::mpsc::channel::<(usize, Built)>();
        let mut ready: BTreeMap<usize, Built> = BTreeMap::new();
        let mut accepted = 0;
        let st = &mut *self.st;
        let result = rayon::in_place_scope(|s| {
            let mut batch: Vec<(M::Raw, Pos)> = Vec::with_capacity(BATCH);
            let mut sent = 0;
            loop {
                let (done, err) = match seq.next_element_seed(Positioned { mode, peeked: true }) {
                    Ok(Some(item)) => {
                        batch.push(item);
                        (false, None)
                    }
                    Ok(None) => (true, None),
                    Err(e) => (true, Some(e)),
                };
                if !batch.is_empty() && (done || batch.len() == BATCH) {
                    let b = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    let tx = tx.clone();
                    let shared = mode.shared_text();
                    let id = sent;
                    sent += 1;
                    s.spawn(move |_| {
                        let built: Built = b
                            .into_iter()
                            .map(|(raw, pos)| {
                                let text = record_text::<M>(shared.as_ref(), raw);
                                (Record::from_text_keeping(text), pos)
                            })
                            .collect();
                        // The receiver outlives the scope, so this cannot fail.
                        let _ = tx.send((id, built));
                    });
                }
                ready.extend(rx.try_iter());
                hand_on(st, &mut ready, &mut accepted, &snippet);
                if st.stopped() {
                    return Err(de::Error::custom("stopped"));
                }
                if let Some(e) = err {
                    // What was read before the error is still checked and reported (below).
                    return Err(e);
                }
                if done {
                    return Ok(());
                }
            }
        });
        // Every batch has been checked once the scope ends.
        drop(tx);
        ready.extend(rx.try_iter());
        hand_on(st, &mut ready, &mut accepted, &snippet);
        result
    }
}

/// How many records are checked together.
const BATCH: usize = 1024;

/// The records of a batch as built, with where each starts.
type Built = Vec<(Result<Record, (RecordError, RawText)>, Pos)>;

/// Hands on the batches that are ready, in order, from batch `next` on.
fn hand_on(
    st: &mut FileReader<'_>,
    ready: &mut BTreeMap<usize, Built>,
    next: &mut usize,
    snippet: &SnippetFn<'_>,
) {
    while let Some(built) = ready.remove(next) {
        *next += 1;
        for (b, pos) in built {
            if st.stopped() {
                return;
            }
            st.accept(b, pos, None, BTreeMap::new(), snippet);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_key_decides_between_envelope_and_json_lines() {
        assert_eq!(
            first_key(b"{ \n \"DatastoreId\": 1").as_deref(),
            Some("DatastoreId")
        );
        assert_eq!(first_key(b"{\"a\\\"b\": 1"), None);
        assert_eq!(first_key(b"{}"), None);
        assert!(is_record_key("DatastoreArn") && is_record_key("DatastoreFutureThing"));
        assert!(is_record_key("CreatedAt"));
        assert!(!is_record_key("Items"));
        assert!(ENVELOPE_KEYS
            .iter()
            .all(|k| k.starts_with("Datastore") || *k == "NextToken" || *k == "hlauditSnapshot"));
    }

    #[test]
    fn relative_positions_become_absolute() {
        let base = Pos {
            line: 10,
            column: 9,
            offset: 0,
        };
        let p = relative_to(base, 1, 5);
        assert_eq!((p.line, p.column), (10, 13));
        let p = relative_to(base, 3, 5);
        assert_eq!((p.line, p.column), (12, 5));
    }

    #[test]
    fn scalars_at_the_top_level_are_an_unknown_shape() {
        for (text, found) in [
            ("42", "a number"),
            ("\"x\"", "a string"),
            ("true", "a boolean"),
            ("<", "text"),
        ] {
            let errs = crate::snapshot::read_reader("t", text.as_bytes()).unwrap_err();
            let msg = errs.errors()[0].kind.to_string();
            assert!(msg.contains(found), "{text}: {msg}");
        }
    }

    #[test]
    fn an_object_without_keys_is_an_unknown_shape_at_its_brace() {
        for text in ["{}", "\n  {}", "\n  { }\n {\"a\": 1}"] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t.json");
            std::fs::write(&path, text).unwrap();
            let whole = crate::snapshot::read_files(&[path.to_str().unwrap()]).unwrap_err();
            let streamed = crate::snapshot::read_reader("t", text.as_bytes()).unwrap_err();
            for errs in [whole, streamed] {
                let e = &errs.errors()[0];
                assert!(
                    e.kind.to_string().contains("an empty object"),
                    "{text:?}: {e}"
                );
                let want = if text.starts_with('{') {
                    (1, 1)
                } else {
                    (2, 3)
                };
                assert_eq!((e.line, e.column), want, "{text:?}");
            }
        }
    }

    /// A list of `n` records, one per line; `bad` ones lack `DatastoreId`.
    fn list(n: usize, bad: &[usize], tail: &str) -> String {
        let arn = "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/";
        let recs: Vec<String> = (0..n)
            .map(|i| {
                if bad.contains(&i) {
                    format!("{{\"DatastoreArn\": \"{arn}{i}\"}}")
                } else {
                    format!("{{\"DatastoreId\": \"{i}\", \"DatastoreArn\": \"{arn}{i}\"}}")
                }
            })
            .collect();
        format!(
            "{{\"DatastorePropertiesList\": [\n{}{tail}\n]}}",
            recs.join(",\n")
        )
    }

    #[test]
    fn records_across_batches_keep_their_order_and_errors_theirs() {
        let n = 3 * BATCH + 7;
        let text = list(n, &[5, 2 * BATCH + 1], "");
        let errs = crate::snapshot::read_reader("l.json", text.as_bytes()).unwrap_err();
        let lines: Vec<usize> = errs.errors().iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![5 + 2, 2 * BATCH + 1 + 2], "{}", errs.render());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.json");
        std::fs::write(&path, list(n, &[], "")).unwrap();
        let inv = crate::snapshot::read_files(&[path.to_str().unwrap()]).unwrap();
        let ids: Vec<String> = inv.records.iter().map(|r| r.id().to_owned()).collect();
        let want: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        assert_eq!(ids, want);
        assert_eq!(
            inv.records[n - 1].source.as_ref().unwrap().line as usize,
            n + 1
        );
    }

    #[test]
    fn a_syntax_error_comes_after_the_record_errors_before_it() {
        let text = list(BATCH + 3, &[1, BATCH + 1], ",\n{\"DatastoreId\": }");
        for whole in [true, false] {
            let errs = if whole {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("s.json");
                std::fs::write(&path, &text).unwrap();
                crate::snapshot::read_files(&[path.to_str().unwrap()]).unwrap_err()
            } else {
                crate::snapshot::read_reader("s.json", text.as_bytes()).unwrap_err()
            };
            let lines: Vec<usize> = errs.errors().iter().map(|e| e.line).collect();
            assert_eq!(lines, vec![3, BATCH + 3, BATCH + 5], "{}", errs.render());
        }
    }

    #[test]
    fn a_list_stops_after_too_many_bad_records() {
        let bad: Vec<usize> = (0..2 * BATCH).collect();
        let text = list(2 * BATCH, &bad, "");
        let errs = crate::snapshot::read_reader("b.json", text.as_bytes()).unwrap_err();
        assert_eq!(errs.len(), crate::snapshot::MAX_ERRORS_PER_INPUT + 1);
        assert!(matches!(
            errs.errors().last().unwrap().kind,
            crate::snapshot::ErrorKind::TooManyErrors(100)
        ));
    }

    #[test]
    fn an_envelope_needs_its_version_and_records() {
        let errs = crate::snapshot::read_reader("t", &b"{\"records\": []}"[..]).unwrap_err();
        assert!(
            errs.render().contains("`hlauditSnapshot`: missing"),
            "{}",
            errs.render()
        );
        let errs = crate::snapshot::read_reader("t", &b"{\"hlauditSnapshot\": 1}"[..]).unwrap_err();
        assert!(
            errs.render().contains("`records`: missing"),
            "{}",
            errs.render()
        );
        let errs = crate::snapshot::read_reader("t", &b"{\"DatastorePropertiesList\": {}}"[..])
            .unwrap_err();
        assert!(
            errs.render()
                .contains("expected an array of DatastoreProperties objects"),
            "{}",
            errs.render()
        );
        let errs = crate::snapshot::read_reader(
            "t",
            &b"{\"hlauditSnapshot\": \"1\", \"records\": []}"[..],
        )
        .unwrap_err();
        assert!(
            errs.render()
                .contains("snapshot field `hlauditSnapshot`: invalid type"),
            "{}",
            errs.render()
        );
    }

    #[test]
    fn a_record_with_an_unknown_first_key_gets_a_hint() {
        let text =
            b"{\"Zz\": 1, \"DatastoreId\": \"a\", \"DatastoreArn\": \"arn:aws:healthlake:r:1:x\"}";
        let errs = crate::snapshot::read_reader("t", &text[..]).unwrap_err();
        let hint = errs.errors()[0].hint.clone().unwrap_or_default();
        assert!(hint.contains("first key `Zz`"), "{hint}");
    }

    #[test]
    fn concatenated_documents_are_refused_with_a_hint() {
        let text = b"{\"DatastorePropertiesList\": []}\n{\"DatastorePropertiesList\": []}";
        let errs = crate::snapshot::read_reader("t", &text[..]).unwrap_err();
        let e = &errs.errors()[0];
        assert_eq!((e.line, e.column), (2, 1));
        assert!(e
            .hint
            .as_deref()
            .unwrap_or_default()
            .contains("separate files"));
    }

    #[test]
    fn version_zero_is_not_a_newer_version() {
        let errs =
            crate::snapshot::read_reader("t", &b"{\"hlauditSnapshot\": 0, \"records\": []}"[..])
                .unwrap_err();
        assert!(
            errs.render().contains("format versions start at 1"),
            "{}",
            errs.render()
        );
    }

    #[test]
    fn unknown_envelope_keys_are_ignored() {
        let text = b"{\"hlauditSnapshot\": 1, \"addedLater\": {\"x\": [1]}, \"records\": []}";
        let inv = crate::snapshot::read_reader("t", &text[..]).unwrap();
        assert!(inv.records.is_empty());
    }
}

//! Recognising an input's shape by its content and handing out its records one by one.
//!
//! A JSON array, the AWS CLI outputs and hlaudit snapshots are parsed by one serde_json
//! deserializer whose visitor walks the record array element by element (each element is
//! taken as raw text, checked by [`Record::from_raw`] and handed on, never collected), so
//! memory follows the largest record. JSON Lines are read line by line.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::{ErrorKind, SnapshotError};
use super::input::{Input, LineIndex, Pos, SharedInput};
use super::records::read_lines;
use super::{FileReader, Shape, SnapshotMeta, SNAPSHOT_VERSION};
use crate::inventory::CollectionError;
use crate::timestamp::Timestamp;

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
        };
        let mut de = serde_json::Deserializer::from_slice(&buf[start..]);
        let result = TopSeed {
            st: &mut *st,
            mode: &mode,
        }
        .deserialize(&mut de)
        .and_then(|()| de.end());
        if let Err(e) = result {
            // serde_json's positions in a slice are absolute once the start is added.
            let base = index.pos(start);
            let at = relative_to(base, e.line(), e.column());
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
    type Raw: Deserialize<'de> + Deref<Target = RawValue>;
    /// Called when serde_json has just peeked the first byte of the next value (array
    /// elements and object keys).
    fn mark_peeked(&self) -> Pos;
    /// Called before an object's value, after its colon (nothing peeked yet).
    fn mark_value(&self) -> Pos;
    /// Where a value deserialized after `mark` starts.
    fn locate(&self, mark: Pos, raw: &RawValue) -> Pos;
    /// The raw value as an owned box.
    fn into_box(raw: Self::Raw) -> Box<RawValue>;
    /// The text of a line, for an error message.
    fn snippet(&self, line: usize, column: usize) -> Option<super::error::Snippet>;
}

struct SliceMode<'i, 'a> {
    index: &'i LineIndex<'a>,
    base: usize,
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
        // serde_json holds no peeked byte after a colon, so the whitespace before the value
        // can be skipped here to find where the value starts.
        let mut input = self.input.borrow_mut();
        let _ = input.skip_ws();
        let start = input.position();
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
struct Positioned<'m, M> {
    mode: &'m M,
    /// Whether serde_json has peeked the value's first byte (array elements, keys).
    peeked: bool,
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

/// The top-level value: an array of records or an envelope object.
struct TopSeed<'a, 'f, 'm, M> {
    st: &'a mut FileReader<'f>,
    mode: &'m M,
}

impl<'de, M: Mode<'de>> DeserializeSeed<'de> for TopSeed<'_, '_, '_, M> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, M: Mode<'de>> Visitor<'de> for TopSeed<'_, '_, '_, M> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object or array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        RecordArray {
            st: self.st,
            mode: self.mode,
            wrapped: false,
        }
        .visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let st = self.st;
        let mode = self.mode;
        let snip = |l: usize, c: usize| mode.snippet(l, c);
        let mut keys: Vec<String> = Vec::new();
        let mut first_pos = None;
        let mut first_snippet = None;
        let mut snapshot_snippet = None;
        let mut snapshot_keys_at: Option<(String, Pos)> = None;
        let mut version: Option<u64> = None;
        let mut has_records = false;
        while let Some((raw_key, kpos)) = map.next_key_seed(Positioned { mode, peeked: true })? {
            let key: Cow<'_, str> =
                serde_json::from_str(raw_key.get()).unwrap_or(Cow::Borrowed("?"));
            let key = key.into_owned();
            if first_pos.is_none() {
                first_pos = Some(kpos);
                // Errors about the whole object point here once it has been read; the
                // line may be gone from a stream's buffer by then.
                first_snippet = mode.snippet(kpos.line, kpos.column);
            }
            st.current_key = Some((key.clone(), kpos));
            match key.as_str() {
                "DatastorePropertiesList" => {
                    st.summary.shape = Some(Shape::List);
                    map.next_value_seed(RecordArray {
                        st: &mut *st,
                        mode,
                        wrapped: false,
                    })?;
                }
                "records" => {
                    has_records = true;
                    if snapshot_keys_at.is_none() {
                        snapshot_keys_at = Some((key.clone(), kpos));
                        snapshot_snippet = mode.snippet(kpos.line, kpos.column);
                    }
                    map.next_value_seed(RecordArray {
                        st: &mut *st,
                        mode,
                        wrapped: true,
                    })?;
                }
                "DatastoreProperties" => {
                    st.summary.shape = Some(Shape::Describe);
                    let (raw, pos) = map.next_value_seed(Positioned {
                        mode,
                        peeked: false,
                    })?;
                    st.record(M::into_box(raw), pos, None, BTreeMap::new(), &|l, c| {
                        mode.snippet(l, c)
                    });
                }
                "NextToken" => {
                    let (raw, _) = map.next_value_seed(Positioned {
                        mode,
                        peeked: false,
                    })?;
                    let token: Option<String> = envelope_field(st, &key, kpos, raw.get(), &snip)
                        .map_err(de::Error::custom)?;
                    if token.is_some_and(|t| !t.is_empty()) {
                        st.summary.errors.push(CollectionError {
                            account: None,
                            region: None,
                            operation: "ListFHIRDatastores".to_owned(),
                            resource: None,
                            code: "incomplete-listing".to_owned(),
                            message: format!(
                                "{}:{}:{}: the listing has a NextToken, so more data stores \
                                 exist than this file holds; save the output of \
                                 `aws healthlake list-fhir-datastores` without --max-items",
                                st.name, kpos.line, kpos.column
                            ),
                        });
                    }
                }
                "hlauditSnapshot" => {
                    let (raw, vpos) = map.next_value_seed(Positioned {
                        mode,
                        peeked: false,
                    })?;
                    let v: u64 = envelope_field(st, &key, kpos, raw.get(), &snip)
                        .map_err(de::Error::custom)?;
                    if v == 0 || v > SNAPSHOT_VERSION {
                        let mut e = SnapshotError::new(
                            &st.name,
                            vpos.line,
                            vpos.column,
                            ErrorKind::UnsupportedVersion {
                                found: v,
                                supported: SNAPSHOT_VERSION,
                            },
                        )
                        .with_hint(
                            "this snapshot was written by a newer hlaudit; upgrade hlaudit to read it",
                        );
                        e.snippet = mode.snippet(vpos.line, vpos.column).map(Box::new);
                        st.pending = Some(e);
                        return Err(de::Error::custom("unsupported version"));
                    }
                    version = Some(v);
                    st.summary.shape = Some(Shape::Hlaudit);
                    st.meta().version = v;
                }
                "toolVersion" | "collectedAt" | "accounts" | "regions" | "errors" => {
                    if snapshot_keys_at.is_none() {
                        snapshot_keys_at = Some((key.clone(), kpos));
                        snapshot_snippet = mode.snippet(kpos.line, kpos.column);
                    }
                    let (raw, _) = map.next_value_seed(Positioned {
                        mode,
                        peeked: false,
                    })?;
                    let text = raw.get();
                    match key.as_str() {
                        "toolVersion" => {
                            let v: String = envelope_field(st, &key, kpos, text, &snip)
                                .map_err(de::Error::custom)?;
                            st.meta().tool_version = Some(v);
                        }
                        "collectedAt" => {
                            let v: Timestamp = envelope_field(st, &key, kpos, text, &snip)
                                .map_err(de::Error::custom)?;
                            st.meta().collected_at = Some(v);
                        }
                        "accounts" => {
                            let v: Vec<String> = envelope_field(st, &key, kpos, text, &snip)
                                .map_err(de::Error::custom)?;
                            st.meta().accounts = v;
                        }
                        "regions" => {
                            let v: Vec<String> = envelope_field(st, &key, kpos, text, &snip)
                                .map_err(de::Error::custom)?;
                            st.meta().regions = v;
                        }
                        _ => {
                            let v: Vec<CollectionError> =
                                envelope_field(st, &key, kpos, text, &snip)
                                    .map_err(de::Error::custom)?;
                            st.summary.errors.extend(v);
                        }
                    }
                }
                _ => {
                    // Unknown keys are ignored: later snapshot versions may add some.
                    map.next_value::<IgnoredAny>()?;
                }
            }
            st.current_key = None;
            keys.push(key);
            if st.stopped() {
                return Err(de::Error::custom("stopped"));
            }
        }
        let at = first_pos.unwrap_or_default();
        let envelope = |field: &str, message: &str| {
            SnapshotError::new(
                &st.name,
                at.line,
                at.column,
                ErrorKind::Envelope {
                    field: field.to_owned(),
                    message: message.to_owned(),
                },
            )
        };
        let err = if version.is_some() && !has_records {
            let mut e = envelope(
                "records",
                "missing: an hlaudit snapshot lists its records, `\"records\": []` when there are none",
            );
            e.snippet = first_snippet.map(Box::new);
            Some(e)
        } else if let (None, Some((k, p))) = (version, &snapshot_keys_at) {
            let mut e = envelope(
                "hlauditSnapshot",
                &format!("missing: the object has the hlaudit snapshot field `{k}` but no format version"),
            )
            .with_hint("an hlaudit snapshot starts with `\"hlauditSnapshot\": 1`");
            (e.line, e.column) = (p.line, p.column);
            e.snippet = snapshot_snippet.map(Box::new);
            Some(e)
        } else if !keys.iter().any(|k| ENVELOPE_KEYS.contains(&k.as_str())) {
            let found = if keys.is_empty() {
                "an empty object".to_owned()
            } else {
                let shown: Vec<String> = keys.iter().take(6).map(|k| format!("`{k}`")).collect();
                format!(
                    "an object with the key{} {}{}",
                    if keys.len() == 1 { "" } else { "s" },
                    shown.join(", "),
                    if keys.len() > 6 { ", ..." } else { "" }
                )
            };
            let looks_like_a_record = keys
                .iter()
                .any(|k| k == "DatastoreId" || k == "DatastoreArn");
            let hint = if looks_like_a_record {
                format!(
                    "this looks like a single DatastoreProperties record, but its first key \
                     `{}` is not a DatastoreProperties field hlaudit knows, so it was read as an \
                     envelope; wrap it as {{\"DatastoreProperties\": {{...}}}} or put \
                     `DatastoreId` first",
                    keys[0]
                )
            } else {
                ACCEPTED.to_owned()
            };
            let mut e = SnapshotError::new(
                &st.name,
                at.line,
                at.column,
                ErrorKind::UnknownShape { found },
            )
            .with_hint(hint);
            e.snippet = first_snippet.map(Box::new);
            Some(e)
        } else {
            None
        };
        if let Some(e) = err {
            st.push_error(e);
        }
        Ok(())
    }
}

/// Parses a small envelope value; on failure records an error at its key.
fn envelope_field<T: DeserializeOwned>(
    st: &mut FileReader<'_>,
    key: &str,
    kpos: Pos,
    text: &str,
    snippet: &super::SnippetFn<'_>,
) -> Result<T, &'static str> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path.is_empty() || path == "." {
            key.to_owned()
        } else {
            format!("{key}.{path}")
        };
        let inner = e.into_inner();
        let mut err = SnapshotError::new(
            &st.name,
            kpos.line,
            kpos.column,
            ErrorKind::Envelope {
                field,
                message: super::strip_position(&inner.to_string()),
            },
        );
        err.snippet = snippet(kpos.line, kpos.column).map(Box::new);
        st.pending = Some(err);
        "envelope field"
    })
}

/// An array of records: `DatastoreProperties` objects, or (`wrapped`) hlaudit snapshot
/// records `{"properties": {...}, "tags": {...}, "enrichments": {...}}`.
struct RecordArray<'a, 'f, 'm, M> {
    st: &'a mut FileReader<'f>,
    mode: &'m M,
    wrapped: bool,
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
        while let Some((raw, pos)) = seq.next_element_seed(Positioned { mode, peeked: true })? {
            if self.wrapped {
                self.st.wrapped_record(raw.get(), pos, &snippet);
            } else {
                self.st
                    .record(M::into_box(raw), pos, None, BTreeMap::new(), &snippet);
            }
            if self.st.stopped() {
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

/// The metadata of an hlaudit snapshot, created on first use.
impl FileReader<'_> {
    fn meta(&mut self) -> &mut SnapshotMeta {
        self.summary
            .snapshot
            .get_or_insert_with(SnapshotMeta::default)
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
    fn unknown_envelope_keys_are_ignored() {
        let text = b"{\"hlauditSnapshot\": 1, \"addedLater\": {\"x\": [1]}, \"records\": []}";
        let inv = crate::snapshot::read_reader("t", &text[..]).unwrap();
        assert!(inv.records.is_empty());
    }
}

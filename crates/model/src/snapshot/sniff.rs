//! Recognising an input's shape by its content and handing it to the reader for that
//! shape: JSON Lines to [`json_lines`](super::json_lines), everything else (a bare array,
//! the AWS CLI outputs, hlaudit snapshots) to one serde_json deserializer driven by
//! [`TopLevel`] (see [`envelope`](super::envelope)).

use std::cell::{Cell, RefCell};

use serde::de::DeserializeSeed;

use super::envelope::{TopLevel, ACCEPTED, ENVELOPE_KEYS};
use super::error::{ErrorKind, SnapshotError};
use super::input::{Input, LineIndex, SharedInput};
use super::json_lines::read_json_lines;
use super::position::{advance, last_value_start, relative_to, Pos};
use super::positioned::{SliceMode, StreamMode};
use super::sink::InputSink;
use super::Shape;
use crate::kind::Kind;

/// Reads one input to its end (or to its first malformed JSON), reporting into `st`.
pub(crate) fn read_input(mut input: Input<'_>, st: &mut InputSink<'_>) {
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

fn sniff_and_read(input: &mut Input<'_>, st: &mut InputSink<'_>) -> std::io::Result<()> {
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
                // `get-data-transformation-profile` prints the profile's fields at the top
                // level, `ProfileId` first.
                Some(k) if k == "ProfileId" => {
                    st.kind = Kind::TransformationProfile;
                    st.summary.shape = Some(Shape::ResourceDescribe(st.kind));
                    read_json_lines(input, st)
                }
                Some(k) if !ENVELOPE_KEYS.contains(&k.as_str()) && is_record_key(&k) => {
                    st.summary.shape = Some(Shape::Lines);
                    read_json_lines(input, st)
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

/// Whether text starting `head` looks like one of the snapshot shapes: an object whose
/// first key is an AWS CLI output's, an hlaudit snapshot's or a `DatastoreProperties`
/// field, or an array that is empty or starts with such an object. For walking a folder,
/// where files that are not snapshots are skipped; a file named on its own is read (and
/// its problems reported) whatever it looks like.
pub(crate) fn looks_like_snapshot(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let trim = |b: &[u8]| -> usize {
        b.iter()
            .position(|c| !b" \t\r\n".contains(c))
            .unwrap_or(b.len())
    };
    let start = trim(head);
    let head = &head[start..];
    let object = |o: &[u8]| {
        first_key(o).is_some_and(|k| {
            ENVELOPE_KEYS.contains(&k.as_str()) || is_record_key(&k) || k == "ProfileId"
        })
    };
    match head.first() {
        Some(b'{') => object(head),
        Some(b'[') => {
            let rest = &head[1..];
            let rest = &rest[trim(rest)..];
            match rest.first() {
                Some(b']') => true,
                Some(b'{') => object(rest),
                _ => false,
            }
        }
        _ => false,
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
fn read_structured(input: &mut Input<'_>, st: &mut InputSink<'_>) {
    if input.is_whole() {
        let (buf, start) = input.whole_buf();
        let index = LineIndex::new(buf);
        let mode = SliceMode {
            index: &index,
            base: buf.as_ptr() as usize,
            text: input.whole_text(),
        };
        let mut de = serde_json::Deserializer::from_slice(&buf[start..]);
        let result = TopLevel {
            st: &mut *st,
            mode: &mode,
            start: index.pos(start),
        }
        .deserialize(&mut de)
        .and_then(|()| de.end());
        if let Err(e) = result {
            // serde_json's positions in a slice are absolute once the start is added. For
            // an error about what was read (a wrong shape) the slice reader gives the
            // column before the byte the stream reader gives; a value of the wrong type is
            // then placed at its start, in both modes.
            let base = index.pos(start);
            let column = match e.classify() {
                serde_json::error::Category::Data => e.column() + 1,
                _ => e.column(),
            };
            let mut at = relative_to(base, e.line(), column);
            if let Some(key) = st.value_error_key(&e).filter(|_| !buf.is_empty()) {
                let end = index.offset(at.line, at.column).unwrap_or(buf.len());
                let from = usize::try_from(key.offset).unwrap_or(usize::MAX);
                // What serde_json has read, and the byte it peeked at.
                if let Some(read) = buf.get(from..=end.min(buf.len() - 1)) {
                    if let Some(i) = last_value_start(read) {
                        at = index.pos(from + i);
                    }
                }
            }
            st.fail(e, at, |l, c| index.snippet(l, c));
        }
    } else {
        let cell = RefCell::new(input);
        let mode = StreamMode {
            input: &cell,
            anchor: Cell::new(Pos::default()),
        };
        let base = cell.borrow().position();
        let mut de = serde_json::Deserializer::from_reader(SharedInput(&cell));
        let result = TopLevel {
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
            let mut at = relative_to(base, e.line(), e.column());
            if let Some(key) = st.value_error_key(&e) {
                let input = cell.borrow();
                if let Some(read) = input.read_since(key.offset) {
                    if let Some(i) = last_value_start(read) {
                        at = advance(key, &read[..i]);
                    }
                }
            }
            st.fail(e, at, |l, c| cell.borrow_mut().snippet(l, c));
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
        // An envelope key is never taken for a record's first key.
        assert!(ENVELOPE_KEYS
            .iter()
            .all(|k| k.starts_with("DatastoreProperties") || !is_record_key(k)));
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
}

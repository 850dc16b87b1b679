//! JSON Lines: one `DatastoreProperties` object per line, blank lines allowed. A record
//! pretty-printed over several lines (its first line just `{`) is accepted too.
//!
//! Each line is parsed on its own, so a malformed line is reported and reading goes on
//! with the next one; memory follows the longest line.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::Snippet;
use super::input::{Input, LineIndex, SharedInput};
use super::position::{relative_to, Pos};
use super::sink::InputSink;
use crate::record::RawText;

/// Reads records line by line until the input ends (or a multi-line record is malformed).
pub(crate) fn read_json_lines(input: &mut Input<'_>, st: &mut InputSink<'_>) -> io::Result<()> {
    // A whole input held as text: records keep their place in it instead of a copy.
    let shared = input.whole_text().cloned();
    let text_of = |raw: &RawValue| RawText::piece_or_copy(shared.as_ref(), raw);
    while let Some((start, range)) = input.next_line()? {
        if st.stopped() {
            break;
        }
        let line = input.slice(range.clone());
        let Some(first) = line.iter().position(|b| !b" \t\r".contains(b)) else {
            continue;
        };
        let mut body = &line[first..];
        while let [rest @ .., b' ' | b'\t' | b'\r'] = body {
            body = rest;
        }
        let at = Pos {
            line: start.line,
            column: start.column + first,
            offset: start.offset + first as u64,
        };
        if body == b"{" {
            input.unread_line(start, range);
            if !multi_line_record(input, st, &text_of)? {
                break;
            }
            continue;
        }
        let snippet = |l: usize, c: usize| (l == at.line).then(|| Snippet::new(line, c, false));
        match serde_json::from_slice::<&RawValue>(body) {
            Ok(raw) => st.record(text_of(raw), at, None, BTreeMap::new(), &snippet),
            Err(e) => {
                let pos = relative_to(at, e.line(), e.column());
                let mut err = st.syntax_error(&e, pos);
                err.snippet = snippet(pos.line, pos.column).map(Box::new);
                if e.is_eof() {
                    err.hint = Some(
                        "the line ends inside a JSON value; JSON Lines hold one complete \
                         object per line"
                            .to_owned(),
                    );
                } else if e.to_string().starts_with("trailing characters") {
                    err.hint = Some(
                        "JSON Lines hold exactly one JSON object per line, with nothing \
                         (not even a comma) after it"
                            .to_owned(),
                    );
                }
                st.push_error(err);
            }
        }
    }
    Ok(())
}

/// Reads one record that starts with a line holding just `{`. Returns false when it is
/// malformed (the rest of the input cannot then be split into records reliably).
fn multi_line_record(
    input: &mut Input<'_>,
    st: &mut InputSink<'_>,
    text_of: &dyn Fn(&RawValue) -> RawText,
) -> io::Result<bool> {
    input.skip_ws()?;
    let at = input.position();
    if input.is_whole() {
        let (buf, start) = input.whole_buf();
        let snippet = |l: usize, c: usize| LineIndex::new(buf).snippet(l, c);
        let mut de = serde_json::Deserializer::from_slice(&buf[start..]);
        match <&RawValue>::deserialize(&mut de) {
            Ok(raw) => {
                let len = raw.get().len();
                st.record(text_of(raw), at, None, BTreeMap::new(), &snippet);
                input.advance(len);
                Ok(true)
            }
            Err(e) => {
                let pos = relative_to(at, e.line(), e.column());
                let mut err = st.syntax_error(&e, pos);
                err.snippet = snippet(pos.line, pos.column).map(Box::new);
                st.push_error(err);
                Ok(false)
            }
        }
    } else {
        let cell = RefCell::new(&mut *input);
        let snippet = |l: usize, c: usize| {
            let mut input = cell.borrow_mut();
            input.snippet_from(at, l, c).or_else(|| input.snippet(l, c))
        };
        let mut de = serde_json::Deserializer::from_reader(SharedInput(&cell));
        match Box::<RawValue>::deserialize(&mut de) {
            Ok(raw) => {
                st.record(RawText::Owned(raw), at, None, BTreeMap::new(), &snippet);
                Ok(true)
            }
            Err(e) => {
                if let Some(io) = cell.borrow_mut().io_error.take() {
                    return Err(io);
                }
                let pos = relative_to(at, e.line(), e.column());
                let mut err = st.syntax_error(&e, pos);
                err.snippet = snippet(pos.line, pos.column).map(Box::new);
                st.push_error(err);
                Ok(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::snapshot::{read_files, read_reader};

    const ARN: &str = "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/";

    #[test]
    fn pretty_printed_records_crlf_and_blank_lines_are_accepted() {
        let text = format!(
            "{{\"DatastoreId\": \"a\", \"DatastoreArn\": \"{ARN}a\"}}\r\n\r\n   \n{{\n  \"DatastoreId\": \"b\",\n  \"DatastoreArn\": \"{ARN}b\"\n}}\n  {{\"DatastoreId\": \"c\", \"DatastoreArn\": \"{ARN}c\"}}  \n"
        );
        let inv = read_reader("x.jsonl", text.as_bytes()).unwrap();
        let got: Vec<String> = inv
            .records
            .iter()
            .map(|r| r.source.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(got, vec!["x.jsonl:1:1", "x.jsonl:4:1", "x.jsonl:8:3"]);
        assert!(inv.records[1].raw_json().contains("\n  \"DatastoreArn\""));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.jsonl");
        std::fs::write(&path, &text).unwrap();
        let whole = read_files(&[path.to_str().unwrap()]).unwrap();
        assert_eq!(whole.records, inv.records);
    }

    #[test]
    fn a_malformed_multi_line_record_stops_the_file() {
        let text = format!(
            "{{\n  \"DatastoreId\": \"b\"\n  \"DatastoreArn\": \"{ARN}b\"\n}}\n{{\"DatastoreId\": \"c\"}}\n"
        );
        let errs = read_reader("x.jsonl", text.as_bytes()).unwrap_err();
        assert_eq!(errs.len(), 1, "{}", errs.render());
        assert_eq!((errs.errors()[0].line, errs.errors()[0].column), (3, 3));
    }

    #[test]
    fn reading_stops_after_too_many_errors() {
        let text = "{\"DatastoreId\": \"x\"}\n".repeat(150);
        let errs = read_reader("x.jsonl", text.as_bytes()).unwrap_err();
        assert_eq!(errs.len(), crate::snapshot::MAX_ERRORS_PER_INPUT + 1);
        let last = errs.errors().last().unwrap();
        assert!(matches!(
            last.kind,
            crate::snapshot::ErrorKind::TooManyErrors(100)
        ));
    }

    #[test]
    fn a_byte_order_mark_does_not_shift_columns() {
        let text = format!("\u{feff}[{{\"DatastoreId\": \"a\", \"DatastoreArn\": \"{ARN}a\"}}]");
        let streamed = read_reader("b.json", text.as_bytes()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        std::fs::write(&path, &text).unwrap();
        let whole = read_files(&[path.to_str().unwrap()]).unwrap();
        let col = |inv: &crate::Inventory| inv.records[0].source.as_ref().unwrap().column;
        assert_eq!((col(&streamed), col(&whole)), (2, 2));
    }

    #[test]
    fn a_trailing_comma_gets_a_json_lines_hint() {
        let text = format!("{{\"DatastoreId\": \"a\", \"DatastoreArn\": \"{ARN}a\"}},\n");
        let errs = read_reader("x.jsonl", text.as_bytes()).unwrap_err();
        let e = &errs.errors()[0];
        assert_eq!(e.column, text.len() - 1);
        assert!(e
            .hint
            .as_deref()
            .unwrap()
            .contains("one JSON object per line"));
    }
}

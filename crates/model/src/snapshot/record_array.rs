//! An array of records (`DatastoreProperties` objects, or hlaudit snapshot records),
//! walked element by element by a serde visitor: each element is taken as raw text,
//! checked by [`Record::from_text_keeping_as`] in batches on other cores and handed on in
//! input order, never collected, so memory follows the largest record.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};

use super::position::Pos;
use super::positioned::{Mode, Positioned};
use super::sink::{InputSink, SnippetFn};
use crate::record::{RawText, Record, RecordError};

/// An array of records: `DatastoreProperties` objects, or (`wrapped`) hlaudit snapshot
/// records `{"properties": {...}, "tags": {...}, "enrichments": {...}}`.
pub(crate) struct RecordArray<'a, 'f, 'm, M> {
    pub(crate) st: &'a mut InputSink<'f>,
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
        let kind = st.kind;
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
                                (Record::from_text_keeping_as(kind, text), pos)
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

/// A record's text: a piece of the input's shared text when there is one, else a copy.
fn record_text<'de, M: Mode<'de>>(shared: Option<&Arc<String>>, raw: M::Raw) -> RawText {
    match shared.and_then(|t| RawText::piece_of(t, raw.get())) {
        Some(text) => text,
        None => RawText::Owned(M::into_box(raw)),
    }
}

/// How many records are checked together.
const BATCH: usize = 1024;

/// The records of a batch as built, with where each starts.
type Built = Vec<(Result<Record, (RecordError, RawText)>, Pos)>;

/// Hands on the batches that are ready, in order, from batch `next` on.
fn hand_on(
    st: &mut InputSink<'_>,
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
        let ids: Vec<String> = inv
            .records
            .iter()
            .map(|r| r.id().unwrap_or_default().to_owned())
            .collect();
        let want: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        assert_eq!(ids, want);
        assert_eq!(
            inv.records[n - 1].source.as_ref().unwrap().line as usize,
            n + 1
        );
    }

    /// The records of a whole file are held in about as much room as they take, not in
    /// up to twice as much (and copied several times over) as doubling would give.
    #[test]
    fn the_records_of_a_whole_file_are_given_the_room_they_take() {
        let n = 5 * BATCH + 100;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.json");
        std::fs::write(&path, list(n, &[], "")).unwrap();
        let inv = crate::snapshot::read_files(&[path.to_str().unwrap()]).unwrap();
        assert_eq!(inv.records.len(), n);
        assert!(
            inv.records.capacity() <= n + n / 16,
            "{} for {n}",
            inv.records.capacity()
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
}

//! Where one input's records and errors go: [`InputSink`] checks each record and hands it
//! on, turns positions inside a record into positions in the file, and collects every
//! error (up to [`MAX_ERRORS_PER_INPUT`]). Every reader of an input shape reports into it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::value::RawValue;

use super::error::{ErrorKind, SnapshotError, Snippet};
use super::locate::path_offset;
use super::position::{line_col, relative_to, Pos};
use super::{FileSummary, MAX_ERRORS_PER_INPUT};
use crate::identity::{Context, Identity};
use crate::inventory::Warning;
use crate::json_keys::check_unique_keys;
use crate::json_keys::strip_position;
use crate::kind::Kind;
use crate::record::{
    RawText, Record, RecordError, RecordErrorKind, Source, DATASTORE_STATUSES, JOB_STATUSES,
};

/// The state of reading one input: where its records go, and what went wrong.
pub(crate) struct InputSink<'f> {
    pub(super) name: Arc<str>,
    pub(super) sink: &'f mut dyn FnMut(Record),
    pub(super) errors: Vec<SnapshotError>,
    pub(super) summary: FileSummary,
    /// An error raised inside a serde visitor, reported instead of serde's own.
    pub(super) pending: Option<SnapshotError>,
    /// The envelope key being read, for type errors in its value.
    pub(super) current_key: Option<(String, Pos)>,
    pub(super) stopped: bool,
    /// The kind of the records of an AWS CLI output (a listing's, a describe's): data
    /// stores unless the output's key says otherwise.
    pub(super) kind: Kind,
}

/// What to do about a repeated name in an input.
pub(crate) const DUPLICATE_KEY_HINT: &str =
    "AWS never writes a name twice in one object, so the file was edited or made by another \
     tool; keep the value AWS holds and remove the other (most JSON readers keep the last)";

pub(crate) type SnippetFn<'a> = dyn Fn(usize, usize) -> Option<Snippet> + 'a;

impl InputSink<'_> {
    pub(super) fn stopped(&self) -> bool {
        self.stopped
    }

    pub(super) fn push_error(&mut self, e: SnapshotError) {
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

    /// Where the field being read starts (its key), when `e` is a value of the wrong
    /// type or an unexpected value in it: serde_json raises those just after reading the
    /// value, so the last value read from there is the one at fault.
    pub(super) fn value_error_key(&self, e: &serde_json::Error) -> Option<Pos> {
        if e.classify() != serde_json::error::Category::Data {
            return None;
        }
        let message = e.to_string();
        if !(message.starts_with("invalid type: ") || message.starts_with("invalid value: ")) {
            return None;
        }
        self.current_key.as_ref().map(|(_, at)| *at)
    }

    /// A serde_json error at `at` as a malformed-JSON (or wrong-shape) error.
    pub(super) fn syntax_error(&self, e: &serde_json::Error, at: Pos) -> SnapshotError {
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
    pub(super) fn fail(
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
    pub(super) fn record(
        &mut self,
        raw: RawText,
        pos: Pos,
        tags: Option<BTreeMap<String, String>>,
        enrichments: BTreeMap<String, serde_json::Value>,
        snippet: &SnippetFn<'_>,
    ) {
        self.accept(
            Record::from_text_keeping_as(self.kind, raw),
            pos,
            tags,
            enrichments,
            snippet,
        );
    }

    /// Checks one record of an hlaudit snapshot (format version 2 may say its kind,
    /// identity and context) and hands it on.
    fn snapshot_record(
        &mut self,
        raw: RawText,
        pos: Pos,
        w: WrappedExtras,
        snippet: &SnippetFn<'_>,
    ) {
        let built = match (w.kind, w.identity) {
            (Kind::Datastore, Some(Identity::Planned(p))) => Record::planned_text(raw, *p),
            (_, Some(Identity::Planned(_))) => {
                return self.push_error(self.envelope_at(
                    "records[].identity",
                    format!("a planned record is a data store, not {}", w.kind),
                    pos,
                    snippet,
                ))
            }
            // A profile's account and region are part of its identity: the stated
            // identity is compared with the one the properties and context give.
            (kind, given) => {
                match Record::from_text_keeping_as(kind, raw).map(|r| match &w.context {
                    Some(c) => r.with_context(c.clone()),
                    None => r,
                }) {
                    Ok(r) if given.as_ref().is_some_and(|g| g != r.identity()) => {
                        return self.push_error(self.envelope_at(
                            "records[].identity",
                            format!(
                                "says {}, but the properties are {}",
                                given.map(|g| g.to_string()).unwrap_or_default(),
                                r.identity()
                            ),
                            pos,
                            snippet,
                        ))
                    }
                    other => other,
                }
            }
        };
        let built = match (built, w.context) {
            (Ok(r), Some(context)) => Ok(r.with_context(context)),
            (built, _) => built,
        };
        self.accept(built, pos, w.tags, w.enrichments, snippet);
    }

    fn envelope_at(
        &self,
        field: &str,
        message: String,
        at: Pos,
        snippet: &SnippetFn<'_>,
    ) -> SnapshotError {
        let mut err = SnapshotError::new(
            &self.name,
            at.line,
            at.column,
            ErrorKind::Envelope {
                field: field.to_owned(),
                message,
            },
        );
        err.snippet = snippet(at.line, at.column).map(Box::new);
        err
    }

    /// Hands on a record built by [`Record::from_raw_keeping`] (perhaps on another thread)
    /// from the object found at `pos`, or reports why it could not be built.
    pub(super) fn accept(
        &mut self,
        built: Result<Record, (RecordError, RawText)>,
        pos: Pos,
        tags: Option<BTreeMap<String, String>>,
        enrichments: BTreeMap<String, serde_json::Value>,
        snippet: &SnippetFn<'_>,
    ) {
        match built {
            Ok(mut r) => {
                r.tags = tags;
                r.enrichments = enrichments;
                let source = Source {
                    file: self.name.clone(),
                    line: u32::try_from(pos.line).unwrap_or(u32::MAX),
                    column: u32::try_from(pos.column).unwrap_or(u32::MAX),
                };
                if let Some(status) = r.status().filter(|_| !r.status_is_known()) {
                    let (field, known) = match r.kind() {
                        Kind::Datastore => ("DatastoreStatus", &DATASTORE_STATUSES[..]),
                        Kind::ExportJob | Kind::ImportJob => ("JobStatus", &JOB_STATUSES[..]),
                        // A profile has no status, so this is never reached.
                        Kind::TransformationProfile => ("Status", &[][..]),
                    };
                    self.summary.warnings.push(Warning {
                        code: "unknown-status".to_owned(),
                        message: format!(
                            "{} `{}` has {field} `{status}`, which is not one of {}",
                            r.kind().noun(),
                            r.id().map_or_else(|| r.key(), std::borrow::Cow::Borrowed),
                            known.join(", ")
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
        // A repeated name is located where it repeats, which a path search cannot find.
        let (rel_line, rel_col) = match path_offset(text, &e.path) {
            _ if matches!(
                e.kind,
                RecordErrorKind::DuplicateKey | RecordErrorKind::Unreadable
            ) =>
            {
                (e.line.max(1), e.column.max(1))
            }
            Some(off) if e.path != "." => line_col(text, off),
            _ if e.line > 0 => (e.line, e.column),
            _ => (1, 1),
        };
        let at = relative_to(pos, rel_line, rel_col);
        let (kind, hint) = if e.kind == RecordErrorKind::Missing {
            let hint = if e.path == "ProfileId" {
                "every transformation profile needs `ProfileId`, as `aws healthlake \
                 list-data-transformation-profiles` prints them; an output whose records are \
                 under `Items` is read as that listing"
            } else if e.path == "JobId" || text.contains("\"JobId\"") {
                "every export or import job needs `JobId` and `DatastoreId`, as \
                 `aws healthlake list-fhir-export-jobs` prints them"
            } else {
                "every data store needs `DatastoreId` and `DatastoreArn`, as \
                 `aws healthlake list-fhir-datastores` prints them"
            };
            (
                ErrorKind::MissingField { field: e.path },
                Some(hint.to_owned()),
            )
        } else if e.kind == RecordErrorKind::DuplicateKey {
            (
                ErrorKind::DuplicateKey { path: e.path },
                Some(DUPLICATE_KEY_HINT.to_owned()),
            )
        } else {
            let hint = match e.path.as_str() {
                _ if e.kind == RecordErrorKind::Unreadable => Some(
                    "write the value as AWS does: a surrogate escape in a pair, a number \
                     within the range of a double, nesting of at most 127 levels",
                ),
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
    ///
    /// `shared` is the whole input's text when `text` is a piece of it: the record then
    /// keeps its place in it instead of a copy.
    pub(super) fn wrapped_record(
        &mut self,
        text: &str,
        pos: Pos,
        shared: Option<&Arc<String>>,
        snippet: &SnippetFn<'_>,
    ) {
        #[derive(serde::Deserialize)]
        #[serde(expecting = "a snapshot record object {\"properties\": {...}, \"tags\": {...}}")]
        struct Wrapped<'a> {
            #[serde(borrow)]
            properties: Option<&'a RawValue>,
            #[serde(default)]
            tags: Option<BTreeMap<String, String>>,
            #[serde(default)]
            enrichments: Option<BTreeMap<String, serde_json::Value>>,
            #[serde(default)]
            kind: Kind,
            #[serde(default)]
            identity: Option<Identity>,
            #[serde(default)]
            context: Option<Context>,
        }
        // Tags and enrichments are maps, which keep one value of a repeated name silently.
        if let Err(d) = check_unique_keys(text) {
            let at = relative_to(pos, d.line, d.column);
            let mut err = SnapshotError::new(
                &self.name,
                at.line,
                at.column,
                ErrorKind::DuplicateKey {
                    path: format!("records[].{}", d.path()),
                },
            )
            .with_hint(DUPLICATE_KEY_HINT);
            err.snippet = snippet(at.line, at.column).map(Box::new);
            self.push_error(err);
            return;
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
                kind,
                identity,
                context,
            }) => {
                let off = (props.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
                let (l, c) = line_col(text, off);
                let at = relative_to(pos, l, c);
                let raw = RawText::piece_or_copy(shared, props);
                let extras = WrappedExtras {
                    tags,
                    enrichments: enrichments.unwrap_or_default(),
                    kind,
                    identity,
                    context,
                };
                self.snapshot_record(raw, at, extras, snippet);
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

/// What an hlaudit snapshot record holds beside its properties.
struct WrappedExtras {
    tags: Option<BTreeMap<String, String>>,
    enrichments: BTreeMap<String, serde_json::Value>,
    kind: Kind,
    identity: Option<Identity>,
    context: Option<Context>,
}

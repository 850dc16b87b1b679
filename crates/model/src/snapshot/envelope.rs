//! The top-level value of an input: a bare array of records, or an envelope object (an
//! AWS CLI output or an hlaudit snapshot) whose keys are read one by one, the record
//! array among them streamed by [`RecordArray`].

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

use super::error::{ErrorKind, SnapshotError};
use super::listing;
use super::position::Pos;
use super::positioned::{Mode, Positioned};
use super::record_array::RecordArray;
use super::sink::{InputSink, SnippetFn, DUPLICATE_KEY_HINT};
use super::{NextToken, Shape, SnapshotMeta, SNAPSHOT_VERSION};
use crate::inventory::{CollectionError, ScopeCoverage};
use crate::kind::Kind;
use crate::record::RawText;
use crate::timestamp::Timestamp;

/// The top-level keys that mark an AWS CLI output or an hlaudit snapshot.
pub(crate) const ENVELOPE_KEYS: [&str; 9] = [
    "DatastorePropertiesList",
    "DatastoreProperties",
    "NextToken",
    "hlauditSnapshot",
    "ExportJobPropertiesList",
    "ExportJobProperties",
    "ImportJobPropertiesList",
    "ImportJobProperties",
    "Items",
];

/// The kind of the records under an AWS CLI output's key other than a data store
/// listing's, and whether the key holds a list of them (else one).
fn resource_key(key: &str) -> Option<(Kind, bool)> {
    Some(match key {
        "ExportJobPropertiesList" => (Kind::ExportJob, true),
        "ExportJobProperties" => (Kind::ExportJob, false),
        "ImportJobPropertiesList" => (Kind::ImportJob, true),
        "ImportJobProperties" => (Kind::ImportJob, false),
        "Items" => (Kind::TransformationProfile, true),
        _ => return None,
    })
}

/// What the accepted shapes are, for error hints.
pub(crate) const ACCEPTED: &str = "accepted shapes: the output of `aws healthlake \
list-fhir-datastores` ({\"DatastorePropertiesList\": [...]}) or `describe-fhir-datastore` \
({\"DatastoreProperties\": {...}}), a JSON array of DatastoreProperties objects, JSON Lines \
(one DatastoreProperties object per line), an hlaudit snapshot ({\"hlauditSnapshot\": 1, ...}), \
or the output of `list-fhir-export-jobs` / `describe-fhir-export-job` (and the import ones), \
`list-data-transformation-profiles` or `get-data-transformation-profile`";

/// The top-level value: an array of records or an envelope object.
pub(crate) struct TopLevel<'a, 'f, 'm, M> {
    pub(crate) st: &'a mut InputSink<'f>,
    pub(crate) mode: &'m M,
    /// Where the value starts: errors about an object without keys point here.
    pub(crate) start: Pos,
}

impl<'de, M: Mode<'de>> DeserializeSeed<'de> for TopLevel<'_, '_, '_, M> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, M: Mode<'de>> Visitor<'de> for TopLevel<'_, '_, '_, M> {
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
        let start = self.start;
        let snip = |l: usize, c: usize| mode.snippet(l, c);
        let mut keys: Vec<String> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
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
            if !seen.insert(key.clone()) {
                // Which of two `DatastorePropertiesList`s or versions counts is a guess.
                let mut e = SnapshotError::new(
                    &st.name,
                    kpos.line,
                    kpos.column,
                    ErrorKind::DuplicateKey { path: key },
                )
                .with_hint(DUPLICATE_KEY_HINT);
                e.snippet = mode.snippet(kpos.line, kpos.column).map(Box::new);
                st.pending = Some(e);
                return Err(de::Error::custom("duplicate key"));
            }
            if first_pos.is_none() {
                first_pos = Some(kpos);
                // Errors about the whole object point here once it has been read; the
                // line may be gone from a stream's buffer by then.
                first_snippet = mode.snippet(kpos.line, kpos.column);
            }
            st.current_key = Some((key.clone(), kpos));
            let resource = resource_key(&key);
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
                _ if resource.is_some() => {
                    let (kind, list) = resource.unwrap_or_default();
                    st.kind = kind;
                    if list {
                        st.summary.shape = Some(Shape::ResourceList(kind));
                        map.next_value_seed(RecordArray {
                            st: &mut *st,
                            mode,
                            wrapped: false,
                        })?;
                    } else {
                        st.summary.shape = Some(Shape::ResourceDescribe(kind));
                        let (raw, pos) = map.next_value_seed(Positioned {
                            mode,
                            peeked: false,
                        })?;
                        let raw = RawText::Owned(M::into_box(raw));
                        st.record(raw, pos, None, BTreeMap::new(), &|l, c| mode.snippet(l, c));
                    }
                }
                "DatastoreProperties" => {
                    st.summary.shape = Some(Shape::Describe);
                    let (raw, pos) = map.next_value_seed(Positioned {
                        mode,
                        peeked: false,
                    })?;
                    let raw = RawText::Owned(M::into_box(raw));
                    st.record(raw, pos, None, BTreeMap::new(), &|l, c| mode.snippet(l, c));
                }
                "NextToken" => {
                    let (raw, _) = map.next_value_seed(Positioned {
                        mode,
                        peeked: false,
                    })?;
                    let token: Option<String> = envelope_field(st, &key, kpos, raw.get(), &snip)
                        .map_err(de::Error::custom)?;
                    // The error names what is listed, which a later key may say.
                    if let Some(value) = token.filter(|t| !t.is_empty()) {
                        st.summary.next_token = Some(NextToken {
                            value,
                            line: kpos.line,
                            column: kpos.column,
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
                        let (kind, hint) = if v == 0 {
                            (
                                ErrorKind::Envelope {
                                    field: key.clone(),
                                    message: "format versions start at 1".to_owned(),
                                },
                                "hlaudit writes `\"hlauditSnapshot\": 1`",
                            )
                        } else {
                            (
                                ErrorKind::UnsupportedVersion {
                                    found: v,
                                    supported: SNAPSHOT_VERSION,
                                },
                                "this snapshot was written by a newer hlaudit; upgrade hlaudit to read it",
                            )
                        };
                        let mut e = SnapshotError::new(&st.name, vpos.line, vpos.column, kind)
                            .with_hint(hint);
                        e.snippet = mode.snippet(vpos.line, vpos.column).map(Box::new);
                        st.pending = Some(e);
                        return Err(de::Error::custom("unsupported version"));
                    }
                    version = Some(v);
                    st.summary.shape = Some(Shape::Hlaudit);
                    st.meta().version = v;
                }
                "toolVersion" | "collectedAt" | "accounts" | "regions" | "scopes" | "errors" => {
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
                        "scopes" => {
                            let v: Vec<ScopeCoverage> = envelope_field(st, &key, kpos, text, &snip)
                                .map_err(de::Error::custom)?;
                            st.meta().scopes = v;
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
        if let Some(token) = &st.summary.next_token {
            let error = listing::incomplete_listing(&st.name, token, st.kind);
            st.summary.errors.push(error);
        }
        let at = first_pos.unwrap_or(start);
        let first_snippet = first_snippet.or_else(|| mode.snippet(start.line, start.column));
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
    st: &mut InputSink<'_>,
    key: &str,
    kpos: Pos,
    text: &str,
    snippet: &SnippetFn<'_>,
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
                message: crate::json_keys::strip_position(&inner.to_string()),
            },
        );
        err.snippet = snippet(kpos.line, kpos.column).map(Box::new);
        st.pending = Some(err);
        "envelope field"
    })
}

/// The metadata of an hlaudit snapshot, created on first use.
impl InputSink<'_> {
    fn meta(&mut self) -> &mut SnapshotMeta {
        self.summary
            .snapshot
            .get_or_insert_with(SnapshotMeta::default)
    }
}

#[cfg(test)]
mod tests {
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

//! One HealthLake data store: its `DatastoreProperties` JSON as read, plus context.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::arn::Arn;
use crate::json_keys::check_unique_keys;
use crate::timestamp::Timestamp;

/// The seven values of `DatastoreStatus` in the current API. Other values are kept as
/// they are (AWS may add more); [`Record::status_is_known`] tells them apart.
pub const DATASTORE_STATUSES: [&str; 7] = [
    "CREATING",
    "ACTIVE",
    "DELETING",
    "DELETED",
    "CREATE_FAILED",
    "UPDATING",
    "UPDATE_FAILED",
];

/// The values of `IdentityProviderConfiguration.AuthorizationStrategy` in the current API.
pub const AUTHORIZATION_STRATEGIES: [&str; 3] = ["SMART_ON_FHIR_V1", "SMART_ON_FHIR", "AWS_AUTH"];

/// Where a record was read from: a file (or `-` for standard input, or a description of a
/// live collection) and the 1-based line and column where its JSON object starts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Source {
    /// The file as the user named it, `-` for standard input, or e.g.
    /// `healthlake://123456789012/us-east-1` for a live collection.
    pub file: Arc<str>,
    /// 1-based line of the record's opening brace; 0 when unknown.
    pub line: u32,
    /// 1-based column of the record's opening brace; 0 when unknown.
    pub column: u32,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.file)
        } else {
            write!(f, "{}:{}:{}", self.file, self.line, self.column)
        }
    }
}

/// Why a JSON document is not a usable `DatastoreProperties` record.
///
/// `line` and `column` are relative to the record's own JSON text (1-based); a snapshot
/// reader adds the record's position in its file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct RecordError {
    /// Which kind of problem it is.
    pub kind: RecordErrorKind,
    /// The field path, e.g. `IdentityProviderConfiguration.FineGrainedAuthorizationEnabled`,
    /// or `.` for the record itself.
    pub path: String,
    /// What was wrong and what was expected.
    pub message: String,
    /// 1-based line within the record's JSON text; 0 when unknown.
    pub line: usize,
    /// 1-based column within the record's JSON text; 0 when unknown.
    pub column: usize,
}

/// The kinds of [`RecordError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordErrorKind {
    /// A required field (`DatastoreId`, `DatastoreArn`) is missing.
    Missing,
    /// A field has the wrong type or an unusable value, or the record is not an object.
    Invalid,
    /// An object of the record repeats a name, so readers may disagree on its value
    /// (see [`crate::json_keys`]); `line` and `column` point at the second occurrence.
    DuplicateKey,
}

/// One data store.
///
/// The `DatastoreProperties` document is held as its exact JSON text, so every field,
/// including ones this version of hlaudit does not know, is kept and written back
/// untouched. The frequently used values are extracted once when the record is built.
#[derive(Debug, Clone)]
pub struct Record {
    raw: RawText,
    id: String,
    arn: String,
    arn_parts: Arn,
    name: Option<String>,
    status: Option<String>,
    created_at: Option<Timestamp>,
    /// Tags of the data store, when known: `None` means tags were not collected (a
    /// policy about tags then cannot pass), `Some(empty)` means there are none.
    pub tags: Option<BTreeMap<String, String>>,
    /// What a collection found beside the record, keyed by a PascalCase name (for
    /// example `KmsKey` with the KMS `DescribeKey` metadata). Policies reach it as
    /// context; it is written to hlaudit snapshots.
    pub enrichments: BTreeMap<String, serde_json::Value>,
    /// Where the record was read from.
    pub source: Option<Source>,
}

impl Record {
    /// Builds a record from the JSON text of a `DatastoreProperties` object, checking that
    /// `DatastoreId` and `DatastoreArn` are present and that every known field has the type
    /// the API gives it. Unknown fields are accepted and kept.
    ///
    /// ```
    /// use serde_json::value::RawValue;
    /// let raw = RawValue::from_string(r#"{
    ///   "DatastoreId": "a1b2", "DatastoreArn": "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/a1b2",
    ///   "DatastoreStatus": "ACTIVE", "CreatedAt": 1603761064.881, "SomeFutureField": {"x": 1}
    /// }"#.to_owned()).unwrap();
    /// let rec = hlaudit_model::Record::from_raw(raw).unwrap();
    /// assert_eq!(rec.region(), "us-east-1");
    /// assert!(rec.raw_json().contains("SomeFutureField"));
    /// ```
    pub fn from_raw(raw: Box<RawValue>) -> Result<Self, RecordError> {
        Self::from_raw_keeping(raw).map_err(|(e, _)| e)
    }

    /// Like [`Record::from_raw`], but hands the JSON text back with the error, so a
    /// snapshot reader can point into it (for example at the value of `DatastoreArn`).
    pub fn from_raw_keeping(raw: Box<RawValue>) -> Result<Self, (RecordError, Box<RawValue>)> {
        match Extracted::from_text(raw.get()) {
            Ok(x) => Ok(Record::build(x, RawText::Owned(raw))),
            Err(e) => Err((e, raw)),
        }
    }

    /// Like [`Record::from_raw_keeping`], for text that may be shared with other records.
    pub(crate) fn from_text_keeping(raw: RawText) -> Result<Self, (RecordError, RawText)> {
        match Extracted::from_text(raw.get()) {
            Ok(x) => Ok(Record::build(x, raw)),
            Err(e) => Err((e, raw)),
        }
    }

    fn build(x: Extracted, raw: RawText) -> Record {
        Record {
            id: x.id,
            arn: x.arn,
            arn_parts: x.arn_parts,
            name: x.name,
            status: x.status,
            created_at: x.created_at,
            raw,
            tags: None,
            enrichments: BTreeMap::new(),
            source: None,
        }
    }

    /// Builds a record from a JSON value (serialising it first). Convenient in tests and
    /// for the collector; readers use [`Record::from_raw`].
    pub fn from_value(value: &serde_json::Value) -> Result<Self, RecordError> {
        let text = serde_json::to_string(value).map_err(|e| field_error(".", &e.to_string()))?;
        let raw = RawValue::from_string(text).map_err(|e| field_error(".", &e.to_string()))?;
        Self::from_raw(raw)
    }

    /// The `DatastoreProperties` JSON exactly as read.
    pub fn raw_json(&self) -> &str {
        self.raw.get()
    }

    /// The `DatastoreProperties` document parsed into a tree (allocates; the engine uses
    /// its own cheaper representation).
    pub fn properties(&self) -> serde_json::Value {
        // The text was validated as a JSON object when the record was built.
        serde_json::from_str(self.raw.get()).unwrap_or(serde_json::Value::Null)
    }

    /// Whether the text is a piece of a whole input shared with other records.
    #[cfg(test)]
    pub(crate) fn text_is_shared(&self) -> bool {
        matches!(self.raw, RawText::Shared { .. })
    }

    /// `DatastoreId`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `DatastoreArn`.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// The parts of `DatastoreArn`.
    pub fn arn_parts(&self) -> &Arn {
        &self.arn_parts
    }

    /// The account, from `DatastoreArn`.
    pub fn account(&self) -> &str {
        &self.arn_parts.account
    }

    /// The region, from `DatastoreArn`.
    pub fn region(&self) -> &str {
        &self.arn_parts.region
    }

    /// The partition, from `DatastoreArn`.
    pub fn partition(&self) -> &str {
        &self.arn_parts.partition
    }

    /// `DatastoreName`, when present.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// `DatastoreStatus`, when present.
    pub fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }

    /// Whether `DatastoreStatus` is one of the seven values of the current API.
    pub fn status_is_known(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| DATASTORE_STATUSES.contains(&s))
    }

    /// `CreatedAt`, when present.
    pub fn created_at(&self) -> Option<Timestamp> {
        self.created_at
    }

    /// Sets where the record came from (builder style).
    pub fn with_source(mut self, source: Source) -> Self {
        self.source = Some(source);
        self
    }

    /// Sets the tags (builder style).
    pub fn with_tags(mut self, tags: BTreeMap<String, String>) -> Self {
        self.tags = Some(tags);
        self
    }
}

/// A record's JSON text: its own copy, or a piece of a whole snapshot file read into memory
/// and shared by the records in it (which saves copying every record, and the memory for
/// the copies).
#[derive(Clone)]
pub(crate) enum RawText {
    /// The record's own copy.
    Owned(Box<RawValue>),
    /// `text[start..end]`, a JSON value that was checked when it was cut out.
    Shared {
        text: Arc<String>,
        start: u32,
        end: u32,
    },
}

impl RawText {
    /// `piece`, a JSON value borrowed from `text` (the reader cuts it out of a file
    /// serde_json has parsed), as a piece of it; `None` when `piece` does not lie within
    /// `text` (the reader then copies it instead).
    pub(crate) fn piece_of(text: &Arc<String>, piece: &str) -> Option<RawText> {
        let start = (piece.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
        let end = start.checked_add(piece.len())?;
        text.get(start..end)?;
        Some(RawText::Shared {
            text: Arc::clone(text),
            start: u32::try_from(start).ok()?,
            end: u32::try_from(end).ok()?,
        })
    }

    /// `raw` as a piece of `shared` when it is one, else a copy of it.
    pub(crate) fn piece_or_copy(shared: Option<&Arc<String>>, raw: &RawValue) -> RawText {
        shared
            .and_then(|t| RawText::piece_of(t, raw.get()))
            .unwrap_or_else(|| RawText::Owned(raw.to_owned()))
    }

    /// The JSON text.
    pub(crate) fn get(&self) -> &str {
        match self {
            RawText::Owned(raw) => raw.get(),
            // `shared` checked the range; the fallback cannot be reached.
            RawText::Shared { text, start, end } => {
                text.get(*start as usize..*end as usize).unwrap_or("")
            }
        }
    }
}

impl fmt::Debug for RawText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RawValue").field(&self.get()).finish()
    }
}

/// The values a [`Record`] extracts from its JSON text.
struct Extracted {
    id: String,
    arn: String,
    arn_parts: Arn,
    name: Option<String>,
    status: Option<String>,
    created_at: Option<Timestamp>,
}

impl Extracted {
    fn from_text(text: &str) -> Result<Self, RecordError> {
        check_unique_keys(text).map_err(|d| RecordError {
            kind: RecordErrorKind::DuplicateKey,
            path: d.path(),
            message: format!(
                "the key `{}` appears twice; JSON readers disagree on which value counts \
                 (most keep the last), so the record cannot be audited as AWS or a client \
                 reads it",
                d.key
            ),
            line: d.line,
            column: d.column,
        })?;
        let header = parse_header(text)?;
        let id = header.datastore_id.ok_or_else(|| missing("DatastoreId"))?;
        let arn = header
            .datastore_arn
            .ok_or_else(|| missing("DatastoreArn"))?;
        if id.is_empty() {
            return Err(field_error("DatastoreId", "must not be empty"));
        }
        let arn_parts = Arn::parse(&arn)
            .map_err(|e| field_error("DatastoreArn", &format!("`{arn}` is not an ARN: it {e}")))?;
        let created_at = match header.created_at {
            None => None,
            Some(TimeField::Number(n)) => Some(
                Timestamp::from_epoch_seconds(n)
                    .map_err(|e| field_error("CreatedAt", &e.to_string()))?,
            ),
            Some(TimeField::Text(s)) => {
                Some(Timestamp::parse(&s).map_err(|e| field_error("CreatedAt", &e.to_string()))?)
            }
        };
        Ok(Extracted {
            id: id.into_owned(),
            arn: arn.into_owned(),
            arn_parts,
            name: header.datastore_name.map(Cow::into_owned),
            status: header.datastore_status.map(Cow::into_owned),
            created_at,
        })
    }
}

impl PartialEq for Record {
    fn eq(&self, other: &Self) -> bool {
        self.raw.get() == other.raw.get()
            && self.tags == other.tags
            && self.enrichments == other.enrichments
    }
}

fn missing(field: &str) -> RecordError {
    RecordError {
        kind: RecordErrorKind::Missing,
        path: field.to_owned(),
        message: format!("required field `{field}` is missing"),
        line: 0,
        column: 0,
    }
}

fn field_error(field: &str, message: &str) -> RecordError {
    RecordError {
        kind: RecordErrorKind::Invalid,
        path: field.to_owned(),
        message: message.to_owned(),
        line: 0,
        column: 0,
    }
}

fn parse_header(text: &str) -> Result<Header<'_>, RecordError> {
    // serde accepts a struct written as an array; a record must be an object.
    let first = text.trim_start().chars().next();
    if first != Some('{') {
        let found = match first {
            Some('[') => "an array",
            Some('"') => "a string",
            Some('n') => "null",
            Some('t' | 'f') => "a boolean",
            None => "nothing",
            _ => "a number",
        };
        return Err(RecordError {
            kind: RecordErrorKind::Invalid,
            path: ".".to_owned(),
            message: format!("expected a DatastoreProperties object, found {found}"),
            line: 1,
            column: 1 + text.len() - text.trim_start().len(),
        });
    }
    // The plain parse is the fast path; only a failure is parsed again to learn the path.
    if let Ok(header) = serde_json::from_str::<Header<'_>>(text) {
        return Ok(header);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize::<_, Header<'_>>(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = strip_position(&inner.to_string());
        RecordError {
            kind: RecordErrorKind::Invalid,
            path: if path.is_empty() {
                ".".to_owned()
            } else {
                path
            },
            message: message.replace("a borrowed string", "a string"),
            line: inner.line(),
            column: inner.column(),
        }
    })
}

/// serde_json appends " at line L column C"; the position is reported separately.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// The known fields of `DatastoreProperties`, typed as the API types them. Deserialising
/// into this checks the types without building a tree; unknown fields are skipped here
/// and kept in the raw text.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", expecting = "a DatastoreProperties object")]
#[allow(dead_code)] // most fields exist to be type-checked
struct Header<'a> {
    #[serde(borrow)]
    datastore_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    datastore_arn: Option<Cow<'a, str>>,
    #[serde(borrow)]
    datastore_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    datastore_status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    created_at: Option<TimeField<'a>>,
    #[serde(borrow)]
    datastore_type_version: Option<Cow<'a, str>>,
    #[serde(borrow)]
    datastore_endpoint: Option<Cow<'a, str>>,
    #[serde(borrow)]
    sse_configuration: Option<SseConfiguration<'a>>,
    #[serde(borrow)]
    preload_data_config: Option<PreloadDataConfig<'a>>,
    #[serde(borrow)]
    identity_provider_configuration: Option<IdentityProviderConfiguration<'a>>,
    #[serde(borrow)]
    error_cause: Option<ErrorCause<'a>>,
    #[serde(borrow)]
    nlp_configuration: Option<StatusOnly<'a>>,
    #[serde(borrow)]
    analytics_configuration: Option<StatusOnly<'a>>,
    #[serde(borrow)]
    profile_configuration: Option<ProfileConfiguration<'a>>,
    #[serde(borrow)]
    backup_status_info: Option<BackupStatusInfo<'a>>,
}

/// A timestamp field: epoch seconds or an ISO 8601 string. Deserialised by hand rather
/// than as an untagged enum, which buffers every value before trying each variant.
enum TimeField<'a> {
    Number(f64),
    Text(Cow<'a, str>),
}

impl<'de: 'a, 'a> Deserialize<'de> for TimeField<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TimeVisitor;
        impl<'de> serde::de::Visitor<'de> for TimeVisitor {
            type Value = TimeField<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("epoch seconds (a number) or an ISO 8601 date-time string")
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(TimeField::Number(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(TimeField::Number(v as f64))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(TimeField::Number(v as f64))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(TimeField::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(TimeField::Text(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_any(TimeVisitor)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", expecting = "an SseConfiguration object")]
#[allow(dead_code)] // fields exist to be type-checked
struct SseConfiguration<'a> {
    #[serde(borrow)]
    kms_encryption_config: Option<KmsEncryptionConfig<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", expecting = "a KmsEncryptionConfig object")]
#[allow(dead_code)]
struct KmsEncryptionConfig<'a> {
    #[serde(borrow)]
    cmk_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    kms_key_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", expecting = "a PreloadDataConfig object")]
#[allow(dead_code)]
struct PreloadDataConfig<'a> {
    #[serde(borrow)]
    preload_data_type: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(
    rename_all = "PascalCase",
    expecting = "an IdentityProviderConfiguration object"
)]
#[allow(dead_code)]
struct IdentityProviderConfiguration<'a> {
    #[serde(borrow)]
    authorization_strategy: Option<Cow<'a, str>>,
    fine_grained_authorization_enabled: Option<bool>,
    #[serde(borrow)]
    metadata: Option<Cow<'a, str>>,
    #[serde(borrow)]
    idp_lambda_arn: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", expecting = "an ErrorCause object")]
#[allow(dead_code)]
struct ErrorCause<'a> {
    #[serde(borrow)]
    error_message: Option<Cow<'a, str>>,
    #[serde(borrow)]
    error_category: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", expecting = "an object with a Status")]
#[allow(dead_code)]
struct StatusOnly<'a> {
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", expecting = "a ProfileConfiguration object")]
#[allow(dead_code)]
struct ProfileConfiguration<'a> {
    #[serde(borrow)]
    default_profiles: Option<Vec<Cow<'a, str>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", expecting = "a BackupStatusInfo object")]
#[allow(dead_code)]
struct BackupStatusInfo<'a> {
    #[serde(borrow)]
    configuration: Option<BackupConfiguration<'a>>,
    #[serde(borrow)]
    backup_enabled_at: Option<TimeField<'a>>,
    #[serde(borrow)]
    earliest_restore_point: Option<TimeField<'a>>,
    #[serde(borrow)]
    latest_restore_point: Option<TimeField<'a>>,
    #[serde(borrow)]
    scheduled_permanent_deletion_time: Option<TimeField<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", expecting = "a backup Configuration object")]
#[allow(dead_code)]
struct BackupConfiguration<'a> {
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    backup_type: Option<Cow<'a, str>>,
    retention_period_in_days: Option<i64>,
    backup_tags_enabled: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(text: &str) -> Result<Record, RecordError> {
        Record::from_raw(RawValue::from_string(text.to_owned()).unwrap())
    }

    const ARN: &str = "arn:aws:healthlake:us-west-2:111122223333:datastore/fhir/abc";

    #[test]
    fn keeps_unknown_fields_and_extracts_context() {
        let r = rec(&format!(
            r#"{{"DatastoreId":"abc","DatastoreArn":"{ARN}","DatastoreStatus":"UPDATING","New":[1,2]}}"#
        ))
        .unwrap();
        assert_eq!(r.account(), "111122223333");
        assert_eq!(r.partition(), "aws");
        assert!(r.status_is_known());
        assert_eq!(r.properties()["New"][1], 2);
    }

    #[test]
    fn names_the_field_of_the_wrong_type() {
        let e = rec(&format!(
            r#"{{"DatastoreId":"abc","DatastoreArn":"{ARN}",
  "IdentityProviderConfiguration": {{"FineGrainedAuthorizationEnabled": "yes"}}}}"#
        ))
        .unwrap_err();
        assert_eq!(
            e.path,
            "IdentityProviderConfiguration.FineGrainedAuthorizationEnabled"
        );
        assert!(e.message.contains("expected a boolean"), "{}", e.message);
        assert_eq!(e.line, 2);
    }

    #[test]
    fn metadata_must_be_a_string_and_is_named_when_not() {
        let ok = rec(&format!(
            r#"{{"DatastoreId":"abc","DatastoreArn":"{ARN}",
  "IdentityProviderConfiguration": {{"Metadata": "{{\"issuer\":\"https://x\"}}"}}}}"#
        ));
        assert!(ok.is_ok());
        for (value, found) in [
            ("5", "integer `5`"),
            ("-2", "integer `-2`"),
            ("1.5", "floating point `1.5`"),
            ("true", "boolean `true`"),
            ("[1]", "sequence"),
            ("{\"a\": 1}", "map"),
        ] {
            let e = rec(&format!(
                r#"{{"DatastoreId":"abc","DatastoreArn":"{ARN}",
  "IdentityProviderConfiguration": {{"Metadata": {value}}}}}"#
            ))
            .unwrap_err();
            assert_eq!(e.path, "IdentityProviderConfiguration.Metadata", "{value}");
            assert_eq!(
                e.message,
                format!("invalid type: {found}, expected a string"),
                "{value}"
            );
            assert_eq!(e.line, 2, "{value}");
        }
        let null = rec(&format!(
            r#"{{"DatastoreId":"abc","DatastoreArn":"{ARN}","IdentityProviderConfiguration": {{"Metadata": null}}}}"#
        ));
        assert!(null.is_ok(), "null is an absent value");
    }

    #[test]
    fn requires_id_and_arn() {
        let e = rec(r#"{"DatastoreArn":"arn:aws:healthlake:r:1:x"}"#).unwrap_err();
        assert_eq!(e.path, "DatastoreId");
        let e = rec(r#"{"DatastoreId":"x","DatastoreArn":"nope"}"#).unwrap_err();
        assert_eq!(e.path, "DatastoreArn");
        let e = rec(r#"[1]"#).unwrap_err();
        assert!(
            e.message.contains("DatastoreProperties object"),
            "{}",
            e.message
        );
    }

    #[test]
    fn accepts_both_timestamp_forms() {
        let a = rec(&format!(
            r#"{{"DatastoreId":"a","DatastoreArn":"{ARN}","CreatedAt":1603761064.881}}"#
        ))
        .unwrap();
        let b = rec(&format!(
            r#"{{"DatastoreId":"a","DatastoreArn":"{ARN}","CreatedAt":"2020-10-27T01:11:04.881000+00:00"}}"#
        ))
        .unwrap();
        assert_eq!(a.created_at(), b.created_at());
        let e = rec(&format!(
            r#"{{"DatastoreId":"a","DatastoreArn":"{ARN}","CreatedAt":true}}"#
        ))
        .unwrap_err();
        assert_eq!(e.path, "CreatedAt");
    }
}

//! One HealthLake resource (a data store, existing or planned, or a job): its API JSON
//! as read, plus its kind, identity and context.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::arn::Arn;
use crate::identity::{Context, Identity, JobOf, Planned, ProfileIn};
use crate::json_keys::{self, strip_position, Problem, Ty};
use crate::kind::Kind;
use crate::planned::PlanDetail;
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

/// The values of `JobStatus` (export and import jobs) in the current API.
pub const JOB_STATUSES: [&str; 10] = [
    "SUBMITTED",
    "QUEUED",
    "IN_PROGRESS",
    "COMPLETED_WITH_ERRORS",
    "COMPLETED",
    "FAILED",
    "CANCEL_SUBMITTED",
    "CANCEL_IN_PROGRESS",
    "CANCEL_COMPLETED",
    "CANCEL_FAILED",
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
    /// A value readers disagree on: a lone UTF-16 surrogate escape, a number beyond a
    /// double, nesting beyond 127 levels (see [`crate::json_keys::check_record_text`]);
    /// `line` and `column` point at it.
    Unreadable,
}

/// One resource: a data store (existing or planned) or a job, as its API JSON.
///
/// The JSON document (`DatastoreProperties`, `ExportJobProperties`, ...) is held as its
/// exact text, so every field, including ones this version of hlaudit does not know, is
/// kept and written back untouched. The frequently used values are extracted once when
/// the record is built. Which fields a record must have depends on its [`Kind`] and on
/// whether it exists: an existing data store needs `DatastoreId` and `DatastoreArn`, a
/// planned one neither, a job its `JobId` and `DatastoreId`, a transformation profile its
/// `ProfileId`.
#[derive(Debug, Clone)]
pub struct Record {
    raw: RawText,
    kind: Kind,
    identity: Identity,
    context: Context,
    id: Option<String>,
    name: Option<String>,
    status: Option<String>,
    created_at: Option<Timestamp>,
    /// Tags of the resource, when known: `None` means tags were not collected (a
    /// policy about tags then cannot pass), `Some(empty)` means there are none.
    pub tags: Option<BTreeMap<String, String>>,
    /// What a collection found beside the record, keyed by a PascalCase name (for
    /// example `KmsKey` with the KMS `DescribeKey` metadata). Policies reach it as
    /// context; it is written to hlaudit snapshots.
    pub enrichments: BTreeMap<String, serde_json::Value>,
    /// Where the record was read from.
    pub source: Option<Source>,
    /// For a planned data store: where its properties are written, what is known only
    /// after deploy, what was left to defaults (see [`crate::planned`]).
    plan: Option<Arc<PlanDetail>>,
}

impl Record {
    /// Builds an existing data store from the JSON text of a `DatastoreProperties` object,
    /// checking that `DatastoreId` and `DatastoreArn` are present and that every known
    /// field has the type the API gives it. Unknown fields are accepted and kept.
    ///
    /// ```
    /// use serde_json::value::RawValue;
    /// let raw = RawValue::from_string(r#"{
    ///   "DatastoreId": "a1b2", "DatastoreArn": "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/a1b2",
    ///   "DatastoreStatus": "ACTIVE", "CreatedAt": 1603761064.881, "SomeFutureField": {"x": 1}
    /// }"#.to_owned()).unwrap();
    /// let rec = hlaudit_model::Record::from_raw(raw).unwrap();
    /// assert_eq!(rec.region(), Some("us-east-1"));
    /// assert!(rec.raw_json().contains("SomeFutureField"));
    /// ```
    pub fn from_raw(raw: Box<RawValue>) -> Result<Self, RecordError> {
        Self::existing(Kind::Datastore, raw)
    }

    /// Builds an existing resource of `kind` from its API JSON (see [`Record::from_raw`]
    /// for data stores). A job needs `JobId` and `DatastoreId`; its context is unknown
    /// until [`Record::with_context`] sets it from its data store. A transformation
    /// profile needs `ProfileId`; the API returns no ARN for it, so its account and region
    /// (which are part of its identity) come from [`Record::with_context`] too:
    ///
    /// ```
    /// use hlaudit_model::{identity::Context, Kind, Record};
    /// let profile = Record::from_value_as(
    ///     Kind::TransformationProfile,
    ///     &serde_json::json!({"ProfileId": "p1", "Version": 2, "SourceFormat": "CSV"}),
    /// )
    /// .unwrap()
    /// .with_context(Context {
    ///     account: Some("111122223333".into()),
    ///     region: Some("us-east-1".into()),
    ///     partition: Some("aws".into()),
    /// });
    /// assert_eq!(profile.key(), "111122223333/us-east-1/transformation-profile/p1");
    /// ```
    pub fn existing(kind: Kind, raw: Box<RawValue>) -> Result<Self, RecordError> {
        Self::from_text_keeping_as(kind, RawText::Owned(raw)).map_err(|(e, _)| e)
    }

    /// Like [`Record::from_raw`], but hands the JSON text back with the error, so a
    /// snapshot reader can point into it (for example at the value of `DatastoreArn`).
    pub fn from_raw_keeping(raw: Box<RawValue>) -> Result<Self, (RecordError, Box<RawValue>)> {
        match Extracted::of(Kind::Datastore, raw.get()) {
            Ok(x) => Ok(Record::build(Kind::Datastore, x, RawText::Owned(raw))),
            Err(e) => Err((e, raw)),
        }
    }

    /// Builds a data store a template or plan will create, declared at `planned`. Known
    /// fields are type-checked as for an existing one; `DatastoreId` and `DatastoreArn`
    /// are not required (they do not exist yet). Its context is unknown until
    /// [`Record::with_context`] sets it.
    pub fn planned(raw: Box<RawValue>, planned: Planned) -> Result<Self, RecordError> {
        let x = Extracted::datastore(raw.get(), false)?;
        let mut record = Record::build(Kind::Datastore, x, RawText::Owned(raw));
        record.identity = Identity::Planned(Box::new(planned));
        Ok(record)
    }

    /// Like [`Record::planned`], for text that may be shared with other records.
    pub(crate) fn planned_text(
        raw: RawText,
        planned: Planned,
    ) -> Result<Self, (RecordError, RawText)> {
        match Extracted::datastore(raw.get(), false) {
            Ok(x) => {
                let mut record = Record::build(Kind::Datastore, x, raw);
                record.identity = Identity::Planned(Box::new(planned));
                Ok(record)
            }
            Err(e) => Err((e, raw)),
        }
    }

    /// Like [`Record::existing`], for text that may be shared with other records.
    pub(crate) fn from_text_keeping_as(
        kind: Kind,
        raw: RawText,
    ) -> Result<Self, (RecordError, RawText)> {
        match Extracted::of(kind, raw.get()) {
            Ok(x) => Ok(Record::build(kind, x, raw)),
            Err(e) => Err((e, raw)),
        }
    }

    fn build(kind: Kind, x: Extracted, raw: RawText) -> Record {
        Record {
            kind,
            identity: x.identity,
            context: x.context,
            id: x.id,
            name: x.name,
            status: x.status,
            created_at: x.created_at,
            raw,
            tags: None,
            enrichments: BTreeMap::new(),
            source: None,
            plan: None,
        }
    }

    /// Builds a planned data store from a JSON value (see [`Record::planned`]).
    pub fn planned_from_value(
        value: &serde_json::Value,
        planned: Planned,
    ) -> Result<Self, RecordError> {
        Self::planned(raw_of(value)?, planned)
    }

    /// Attaches what a template or plan says beyond the JSON (builder style).
    pub fn with_plan(mut self, plan: PlanDetail) -> Self {
        self.plan = Some(Arc::new(plan));
        self
    }

    /// What a template or plan says beyond the JSON, for a planned data store read from
    /// one.
    pub fn plan(&self) -> Option<&PlanDetail> {
        self.plan.as_deref()
    }

    /// Builds an existing data store from a JSON value (serialising it first).
    /// Convenient in tests and for the collector; readers use [`Record::from_raw`].
    pub fn from_value(value: &serde_json::Value) -> Result<Self, RecordError> {
        Self::existing(Kind::Datastore, raw_of(value)?)
    }

    /// Builds an existing resource of `kind` from a JSON value.
    pub fn from_value_as(kind: Kind, value: &serde_json::Value) -> Result<Self, RecordError> {
        Self::existing(kind, raw_of(value)?)
    }

    /// The API JSON exactly as read.
    pub fn raw_json(&self) -> &str {
        self.raw.get()
    }

    /// The API JSON parsed into a tree (allocates; the engine uses its own cheaper
    /// representation).
    pub fn properties(&self) -> serde_json::Value {
        // The text was validated as a JSON object when the record was built.
        serde_json::from_str(self.raw.get()).unwrap_or(serde_json::Value::Null)
    }

    /// Whether the text is a piece of a whole input shared with other records.
    #[cfg(test)]
    pub(crate) fn text_is_shared(&self) -> bool {
        matches!(self.raw, RawText::Shared { .. })
    }

    /// What the record is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Where the record's text ends in the whole file it shares, and the file's length;
    /// `None` when it holds its own copy.
    pub(crate) fn shared_position(&self) -> Option<(usize, usize)> {
        match &self.raw {
            RawText::Shared { text, end, .. } => Some((*end, text.len())),
            RawText::Owned(_) => None,
        }
    }

    /// Lets go of the record's text (it reads as empty afterwards), so that the text of a
    /// whole file is freed once no record holds it. `empty` is one shared empty text.
    pub(crate) fn release_text(&mut self, empty: &Arc<String>) {
        self.raw = RawText::Shared {
            text: Arc::clone(empty),
            start: 0,
            end: 0,
        };
    }

    /// Which resource it is.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The stable key findings, baselines and duplicate removal use (see
    /// [`Identity::key`]): the ARN of an existing data store.
    pub fn key(&self) -> Cow<'_, str> {
        self.identity.key(self.kind)
    }

    /// The resource's own id: `DatastoreId` of a data store (absent for a planned one),
    /// `JobId` of a job.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The ARN, for what exists and has one (`DatastoreArn`).
    pub fn arn(&self) -> Option<&str> {
        self.identity.arn()
    }

    /// Account, region and partition, as far as known.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// The account, when known (from the ARN of what exists).
    pub fn account(&self) -> Option<&str> {
        self.context.account.as_deref()
    }

    /// The region, when known.
    pub fn region(&self) -> Option<&str> {
        self.context.region.as_deref()
    }

    /// The partition, when known.
    pub fn partition(&self) -> Option<&str> {
        self.context.partition.as_deref()
    }

    /// `DatastoreName`, `JobName` or `ProfileName`, when present.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// `DatastoreStatus` or `JobStatus`, when present (a transformation profile has none).
    pub fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }

    /// Whether the status is one the current API defines for the record's kind.
    pub fn status_is_known(&self) -> bool {
        let known: &[&str] = match self.kind {
            Kind::Datastore => &DATASTORE_STATUSES,
            Kind::ExportJob | Kind::ImportJob => &JOB_STATUSES,
            Kind::TransformationProfile => &[],
        };
        self.status.as_deref().is_some_and(|s| known.contains(&s))
    }

    /// `CreatedAt` of a data store, `SubmitTime` of a job, `LastUpdatedAt` of a
    /// transformation profile (the API gives no creation time), when present.
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

    /// Sets account, region and partition where the identity does not name them (a
    /// planned data store, a job, a transformation profile); the context of an ARN is what
    /// the ARN says and is kept. A profile's account and region are part of its identity,
    /// so they are set there too.
    pub fn with_context(mut self, context: Context) -> Self {
        self.set_context(context);
        self
    }

    /// Like [`Record::with_context`], in place.
    pub fn set_context(&mut self, context: Context) {
        if self.identity.arn().is_none() {
            if let Identity::Profile(p) = &mut self.identity {
                p.account.clone_from(&context.account);
                p.region.clone_from(&context.region);
            }
            self.context = context;
        }
    }
}

fn raw_of(value: &serde_json::Value) -> Result<Box<RawValue>, RecordError> {
    let text = serde_json::to_string(value).map_err(|e| field_error(".", &e.to_string()))?;
    RawValue::from_string(text).map_err(|e| field_error(".", &e.to_string()))
}

impl From<Record> for crate::report::Resource {
    /// The resource of a record, taking the record's strings rather than copying them;
    /// the rest of the record (its text, enrichments) is freed.
    fn from(r: Record) -> Self {
        crate::report::Resource {
            kind: r.kind,
            identity: r.identity,
            id: r.id,
            name: r.name,
            account: r.context.account,
            region: r.context.region,
            partition: r.context.partition,
            status: r.status,
            source: r.source,
            tags: r.tags,
            job: None,
        }
    }
}

/// A record's JSON text: its own copy, or a piece of a whole snapshot file read into memory
/// and shared by the records in it (which saves copying every record, and the memory for
/// the copies).
#[derive(Clone)]
pub(crate) enum RawText {
    /// The record's own copy.
    Owned(Box<RawValue>),
    /// `text[start..end]`, a JSON value that was checked when it was cut out. The
    /// offsets are `usize` so that a file of any size can be shared.
    Shared {
        text: Arc<String>,
        start: usize,
        end: usize,
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
            start,
            end,
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
            RawText::Shared { text, start, end } => text.get(*start..*end).unwrap_or(""),
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
    identity: Identity,
    context: Context,
    id: Option<String>,
    name: Option<String>,
    status: Option<String>,
    created_at: Option<Timestamp>,
}

impl Extracted {
    /// The values of an existing resource of `kind`.
    fn of(kind: Kind, text: &str) -> Result<Self, RecordError> {
        match kind {
            Kind::Datastore => Extracted::datastore(text, true),
            Kind::ExportJob | Kind::ImportJob => Extracted::job(kind, text),
            Kind::TransformationProfile => Extracted::profile(text),
        }
    }

    /// The values of a data store; `exists` requires `DatastoreId` and `DatastoreArn`
    /// (a planned data store has neither yet).
    fn datastore(text: &str, exists: bool) -> Result<Self, RecordError> {
        let fit = check_record_fit(text, Kind::Datastore, DATASTORE)?;
        // A record whose known fields all have their types is not parsed again; any other
        // is left to the typed reading, which accepts it or names the field.
        let header = match fit.and_then(|top| Top::of(text, &top)) {
            Some(top) => top,
            None => parse_typed::<DatastoreHeader<'_>>(text)?.top(),
        };
        let created_at = timestamp("CreatedAt", header.created_at)?;
        let id = match header.datastore_id {
            Some(id) if id.is_empty() => {
                return Err(field_error("DatastoreId", "must not be empty"))
            }
            Some(id) => Some(id.into_owned()),
            None if exists => return Err(missing("DatastoreId")),
            None => None,
        };
        let (identity, context) = match header.datastore_arn {
            Some(arn) if exists => {
                let [partition, _, region, account, _] = Arn::split(&arn).map_err(|e| {
                    field_error("DatastoreArn", &format!("`{arn}` is not an ARN: it {e}"))
                })?;
                let context = Context {
                    account: Some(account.to_owned()),
                    region: Some(region.to_owned()),
                    partition: Some(partition.to_owned()),
                };
                (Identity::Arn(arn.into_owned()), context)
            }
            None if exists => return Err(missing("DatastoreArn")),
            // A planned data store's identity is set by the caller.
            _ => (Identity::Arn(String::new()), Context::default()),
        };
        Ok(Extracted {
            identity,
            context,
            id,
            name: header.datastore_name.map(Cow::into_owned),
            status: header.datastore_status.map(Cow::into_owned),
            created_at,
        })
    }

    /// The values of an export or import job, which needs `JobId` and `DatastoreId`.
    fn job(kind: Kind, text: &str) -> Result<Self, RecordError> {
        check_record_text(text, kind)?;
        let header: JobHeader<'_> = if kind == Kind::ExportJob {
            parse_typed::<ExportJobHeader<'_>>(text)?.common()
        } else {
            parse_typed::<ImportJobHeader<'_>>(text)?.common()
        };
        let nonempty = |v: Option<Cow<'_, str>>, field: &str| match v {
            None => Err(missing(field)),
            Some(v) if v.is_empty() => Err(field_error(field, "must not be empty")),
            Some(v) => Ok(v.into_owned()),
        };
        let job_id = nonempty(header.job_id, "JobId")?;
        let datastore_id = nonempty(header.datastore_id, "DatastoreId")?;
        Ok(Extracted {
            identity: Identity::Job(Box::new(JobOf {
                datastore_id,
                job_id: job_id.clone(),
            })),
            context: Context::default(),
            id: Some(job_id),
            name: header.job_name.map(Cow::into_owned),
            status: header.job_status.map(Cow::into_owned),
            created_at: timestamp("SubmitTime", header.submit_time)?,
        })
    }
}

impl Extracted {
    /// The values of a transformation profile, which needs `ProfileId`. Its account and
    /// region are unknown until [`Record::with_context`] sets them.
    fn profile(text: &str) -> Result<Self, RecordError> {
        check_record_text(text, Kind::TransformationProfile)?;
        let header: ProfileHeader<'_> = parse_typed(text)?;
        let profile_id = match header.profile_id {
            None => return Err(missing("ProfileId")),
            Some(v) if v.is_empty() => return Err(field_error("ProfileId", "must not be empty")),
            Some(v) => v.into_owned(),
        };
        Ok(Extracted {
            identity: Identity::Profile(Box::new(ProfileIn {
                account: None,
                region: None,
                profile_id: profile_id.clone(),
            })),
            context: Context::default(),
            id: Some(profile_id),
            name: header.profile_name.map(Cow::into_owned),
            status: None,
            created_at: timestamp("LastUpdatedAt", header.last_updated_at)?,
        })
    }
}

/// Refuses a record whose objects repeat a name, and one that is not an object.
fn check_record_text(text: &str, kind: Kind) -> Result<(), RecordError> {
    json_keys::check_record_text(text).map_err(problem)?;
    check_object(text, kind)
}

/// [`check_record_text`], which also says whether every field of `schema` (the fields of
/// `kind`'s typed header) has its type, and where the top-level ones start.
fn check_record_fit(
    text: &str,
    kind: Kind,
    schema: &'static [(&'static str, Ty)],
) -> Result<Option<Vec<(usize, usize)>>, RecordError> {
    let fit = json_keys::check_record_fit(text, schema).map_err(problem)?;
    check_object(text, kind)?;
    Ok(fit.fits.then_some(fit.top))
}

/// A problem [`json_keys`] found, as a record error.
fn problem(p: Problem) -> RecordError {
    match p {
        Problem::DuplicateKey(d) => RecordError {
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
        },
        Problem::Unreadable(u) => RecordError {
            kind: RecordErrorKind::Unreadable,
            path: if u.path.is_empty() {
                ".".to_owned()
            } else {
                u.path
            },
            message: format!(
                "{}; JSON readers disagree on such a value (some refuse it, others read \
                 something else), so the record cannot be audited as AWS or a client reads it",
                u.message
            ),
            line: u.line,
            column: u.column,
        },
    }
}

/// Refuses a record that is not an object (serde accepts a struct written as an array).
fn check_object(text: &str, kind: Kind) -> Result<(), RecordError> {
    let first = text.trim_start().chars().next();
    if first == Some('{') {
        return Ok(());
    }
    let found = match first {
        Some('[') => "an array",
        Some('"') => "a string",
        Some('n') => "null",
        Some('t' | 'f') => "a boolean",
        None => "nothing",
        _ => "a number",
    };
    Err(RecordError {
        kind: RecordErrorKind::Invalid,
        path: ".".to_owned(),
        message: format!("expected a {} object, found {found}", kind.api_shape()),
        line: 1,
        column: 1 + text.len() - text.trim_start().len(),
    })
}

fn timestamp(field: &str, value: Option<TimeField<'_>>) -> Result<Option<Timestamp>, RecordError> {
    match value {
        None => Ok(None),
        Some(TimeField::Number(n)) => Timestamp::from_epoch_seconds(n)
            .map(Some)
            .map_err(|e| field_error(field, &e.to_string())),
        Some(TimeField::Text(s)) => Timestamp::parse(&s)
            .map(Some)
            .map_err(|e| field_error(field, &e.to_string())),
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

/// Deserialises `text` into `T`, which type-checks the known fields; a failure names the
/// field path and its line and column in `text`.
fn parse_typed<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, RecordError> {
    // The plain parse is the fast path; only a failure is parsed again to learn the path.
    if let Ok(value) = serde_json::from_str::<T>(text) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| {
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

/// Declares a JSON object whose known fields are type-checked and kept nowhere (the
/// record's text keeps them); every field is optional, unknown fields are skipped.
macro_rules! checked_object {
    ($(#[doc = $doc:literal])* $name:ident, $expecting:literal { $($field:ident: $ty:ty),* $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase", expecting = $expecting)]
        #[allow(dead_code)] // the fields exist to be type-checked
        struct $name {
            $($field: Option<$ty>),*
        }
    };
}

/// The known fields of `DatastoreProperties`, typed as the API types them. Deserialising
/// into this checks the types without building a tree; the values hlaudit uses often are
/// borrowed, the rest only checked.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", expecting = "a DatastoreProperties object")]
#[allow(dead_code)] // most fields exist to be type-checked
struct DatastoreHeader<'a> {
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
    datastore_type_version: Option<Str>,
    datastore_endpoint: Option<Str>,
    sse_configuration: Option<SseConfiguration>,
    preload_data_config: Option<PreloadDataConfig>,
    identity_provider_configuration: Option<IdentityProviderConfiguration>,
    error_cause: Option<ErrorCause>,
    nlp_configuration: Option<StatusOnly>,
    analytics_configuration: Option<StatusOnly>,
    profile_configuration: Option<ProfileConfiguration>,
    backup_status_info: Option<BackupStatusInfo>,
}

impl<'a> DatastoreHeader<'a> {
    /// The values kept.
    fn top(self) -> Top<'a> {
        Top {
            datastore_id: self.datastore_id,
            datastore_arn: self.datastore_arn,
            datastore_name: self.datastore_name,
            datastore_status: self.datastore_status,
            created_at: self.created_at,
        }
    }
}

/// What hlaudit keeps of a data store's known fields.
#[derive(Debug, PartialEq)]
struct Top<'a> {
    datastore_id: Option<Cow<'a, str>>,
    datastore_arn: Option<Cow<'a, str>>,
    datastore_name: Option<Cow<'a, str>>,
    datastore_status: Option<Cow<'a, str>>,
    created_at: Option<TimeField<'a>>,
}

impl<'a> Top<'a> {
    /// The values, read from where [`json_keys::check_record_fit`] found them in `text` (a
    /// record that fits [`DATASTORE`]): as the typed reading reads them, escapes decoded.
    /// `None` if one cannot be read, which leaves it to the typed reading.
    fn of(text: &'a str, found: &[(usize, usize)]) -> Option<Top<'a>> {
        let mut top = Top {
            datastore_id: None,
            datastore_arn: None,
            datastore_name: None,
            datastore_status: None,
            created_at: None,
        };
        for &(field, at) in found {
            let null = text.as_bytes().get(at) == Some(&b'n');
            let string = || json_keys::string_at(text, at);
            let slot = match DATASTORE[field].0 {
                "DatastoreId" => &mut top.datastore_id,
                "DatastoreArn" => &mut top.datastore_arn,
                "DatastoreName" => &mut top.datastore_name,
                "DatastoreStatus" => &mut top.datastore_status,
                "CreatedAt" => {
                    top.created_at = match text.as_bytes().get(at)? {
                        b'n' => None,
                        b'"' => Some(TimeField::Text(string()?)),
                        _ => Some(TimeField::Number(json_keys::number_at(text, at)?)),
                    };
                    continue;
                }
                _ => continue,
            };
            *slot = if null { None } else { Some(string()?) };
        }
        Some(top)
    }
}

/// The known fields of `DatastoreProperties` and their types, as [`DatastoreHeader`] types
/// them, for [`json_keys::check_record_fit`]; a test checks the two name the same fields.
static DATASTORE: &[(&str, Ty)] = &[
    ("DatastoreId", Ty::Str),
    ("DatastoreArn", Ty::Str),
    ("DatastoreName", Ty::Str),
    ("DatastoreStatus", Ty::Str),
    ("CreatedAt", Ty::Time),
    ("DatastoreTypeVersion", Ty::Str),
    ("DatastoreEndpoint", Ty::Str),
    (
        "SseConfiguration",
        Ty::Obj(&[(
            "KmsEncryptionConfig",
            Ty::Obj(&[("CmkType", Ty::Str), ("KmsKeyId", Ty::Str)]),
        )]),
    ),
    (
        "PreloadDataConfig",
        Ty::Obj(&[("PreloadDataType", Ty::Str)]),
    ),
    (
        "IdentityProviderConfiguration",
        Ty::Obj(&[
            ("AuthorizationStrategy", Ty::Str),
            ("FineGrainedAuthorizationEnabled", Ty::Bool),
            ("Metadata", Ty::Str),
            ("IdpLambdaArn", Ty::Str),
        ]),
    ),
    (
        "ErrorCause",
        Ty::Obj(&[("ErrorMessage", Ty::Str), ("ErrorCategory", Ty::Str)]),
    ),
    ("NlpConfiguration", Ty::Obj(&[("Status", Ty::Str)])),
    ("AnalyticsConfiguration", Ty::Obj(&[("Status", Ty::Str)])),
    (
        "ProfileConfiguration",
        Ty::Obj(&[("DefaultProfiles", Ty::Strs)]),
    ),
    (
        "BackupStatusInfo",
        Ty::Obj(&[
            (
                "Configuration",
                Ty::Obj(&[
                    ("Status", Ty::Str),
                    ("BackupType", Ty::Str),
                    ("RetentionPeriodInDays", Ty::Int),
                    ("BackupTagsEnabled", Ty::Bool),
                ]),
            ),
            ("BackupEnabledAt", Ty::Time),
            ("EarliestRestorePoint", Ty::Time),
            ("LatestRestorePoint", Ty::Time),
            ("ScheduledPermanentDeletionTime", Ty::Time),
        ]),
    ),
];

/// What hlaudit keeps of an export or import job's known fields.
struct JobHeader<'a> {
    job_id: Option<Cow<'a, str>>,
    job_name: Option<Cow<'a, str>>,
    job_status: Option<Cow<'a, str>>,
    datastore_id: Option<Cow<'a, str>>,
    submit_time: Option<TimeField<'a>>,
}

/// The known fields of `ExportJobProperties`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", expecting = "an ExportJobProperties object")]
#[allow(dead_code)] // most fields exist to be type-checked
struct ExportJobHeader<'a> {
    #[serde(borrow)]
    job_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    job_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    job_status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    datastore_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    submit_time: Option<TimeField<'a>>,
    end_time: Option<Time>,
    output_data_config: Option<OutputDataConfig>,
    data_access_role_arn: Option<Str>,
    message: Option<Str>,
}

/// The known fields of `ImportJobProperties`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", expecting = "an ImportJobProperties object")]
#[allow(dead_code)] // most fields exist to be type-checked
struct ImportJobHeader<'a> {
    #[serde(borrow)]
    job_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    job_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    job_status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    datastore_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    submit_time: Option<TimeField<'a>>,
    end_time: Option<Time>,
    input_data_config: Option<InputDataConfig>,
    job_output_data_config: Option<OutputDataConfig>,
    job_progress_report: Option<serde::de::IgnoredAny>,
    data_access_role_arn: Option<Str>,
    message: Option<Str>,
    validation_level: Option<Str>,
}

/// The known fields of a transformation profile: the `GetDataTransformationProfile`
/// output, of which a `DataTransformationProfileSummary` is a subset. `KmsKeyId` is
/// accepted by `CreateDataTransformationProfile` but returned by neither call in the
/// current API; it is type-checked in case a later version returns it.
#[derive(Deserialize)]
#[serde(
    rename_all = "PascalCase",
    expecting = "a DataTransformationProfile object"
)]
#[allow(dead_code)] // most fields exist to be type-checked
struct ProfileHeader<'a> {
    #[serde(borrow)]
    profile_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    profile_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    last_updated_at: Option<TimeField<'a>>,
    version: Option<i64>,
    source_format: Option<Str>,
    target_format: Option<Str>,
    profile_mapping: Option<BTreeMap<String, Str>>,
    profile_description: Option<Str>,
    change_description: Option<Str>,
    kms_key_id: Option<Str>,
}

/// The fields both job headers keep, taken the same way from each.
macro_rules! job_header_common {
    ($($header:ident),*) => {$(
        impl<'a> $header<'a> {
            fn common(self) -> JobHeader<'a> {
                JobHeader {
                    job_id: self.job_id,
                    job_name: self.job_name,
                    job_status: self.job_status,
                    datastore_id: self.datastore_id,
                    submit_time: self.submit_time,
                }
            }
        }
    )*};
}

job_header_common!(ExportJobHeader, ImportJobHeader);

/// A JSON string whose value is not needed: deserialising it checks the type and keeps
/// nothing (`null` is an absent value, as `Option<Str>`).
struct Str;

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl serde::de::Visitor<'_> for StrVisitor {
            type Value = Str;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E>(self, _: &str) -> Result<Str, E> {
                Ok(Str)
            }
        }
        d.deserialize_str(StrVisitor)
    }
}

/// A timestamp whose value is not needed: epoch seconds or an ISO 8601 string, checked
/// for its type only.
struct Time;

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        TimeField::deserialize(d).map(|_| Time)
    }
}

/// A timestamp field: epoch seconds or an ISO 8601 string. Deserialised by hand rather
/// than as an untagged enum, which buffers every value before trying each variant.
#[derive(Debug, PartialEq)]
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

checked_object!(SseConfiguration, "an SseConfiguration object" {
    kms_encryption_config: KmsEncryptionConfig,
});

checked_object!(KmsEncryptionConfig, "a KmsEncryptionConfig object" {
    cmk_type: Str,
    kms_key_id: Str,
});

checked_object!(PreloadDataConfig, "a PreloadDataConfig object" {
    preload_data_type: Str,
});

checked_object!(IdentityProviderConfiguration, "an IdentityProviderConfiguration object" {
    authorization_strategy: Str,
    fine_grained_authorization_enabled: bool,
    metadata: Str,
    idp_lambda_arn: Str,
});

checked_object!(ErrorCause, "an ErrorCause object" {
    error_message: Str,
    error_category: Str,
});

checked_object!(StatusOnly, "an object with a Status" {
    status: Str,
});

checked_object!(ProfileConfiguration, "a ProfileConfiguration object" {
    default_profiles: Vec<Str>,
});

checked_object!(BackupStatusInfo, "a BackupStatusInfo object" {
    configuration: BackupConfiguration,
    backup_enabled_at: Time,
    earliest_restore_point: Time,
    latest_restore_point: Time,
    scheduled_permanent_deletion_time: Time,
});

checked_object!(BackupConfiguration, "a backup Configuration object" {
    status: Str,
    backup_type: Str,
    retention_period_in_days: i64,
    backup_tags_enabled: bool,
});

checked_object!(OutputDataConfig, "an OutputDataConfig object" {
    s3_configuration: S3Configuration,
});

checked_object!(S3Configuration, "an S3Configuration object" {
    s3_uri: Str,
    kms_key_id: Str,
});

checked_object!(InputDataConfig, "an InputDataConfig object" {
    s3_uri: Str,
});

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
        assert_eq!(r.account(), Some("111122223333"));
        assert_eq!(r.partition(), Some("aws"));
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
    fn a_profile_needs_its_id_and_takes_account_and_region_from_its_context() {
        let profile = |text: &str| {
            Record::existing(
                Kind::TransformationProfile,
                RawValue::from_string(text.to_owned()).unwrap(),
            )
        };
        let r = profile(
            r#"{"ProfileId":"p1","ProfileName":"ccda","Version":3,"SourceFormat":"CCDA",
                "TargetFormat":"FHIR_R4","ProfileMapping":{"a":"b"},"LastUpdatedAt":1700000000}"#,
        )
        .unwrap();
        assert_eq!(
            (r.id(), r.name(), r.status()),
            (Some("p1"), Some("ccda"), None)
        );
        assert!(r.created_at().is_some() && r.account().is_none());
        assert_eq!(r.key(), "?/?/transformation-profile/p1");
        let r = r.with_context(Context {
            account: Some("111122223333".into()),
            region: Some("eu-west-1".into()),
            partition: Some("aws".into()),
        });
        assert_eq!(r.key(), "111122223333/eu-west-1/transformation-profile/p1");
        assert_eq!(r.account(), Some("111122223333"));
        assert_eq!(profile(r#"{"Version":1}"#).unwrap_err().path, "ProfileId");
        let e = profile(r#"{"ProfileId":"p","ProfileMapping":{"a":1}}"#).unwrap_err();
        assert_eq!(e.path, "ProfileMapping.a");
        let e = profile(r#"{"ProfileId":"p","Version":"1"}"#).unwrap_err();
        assert_eq!(e.path, "Version");
        assert!(profile(r#"{"ProfileId":"p","KmsKeyId":7}"#).is_err());
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

    /// The fields a serde-derived struct `T` names, as its deserializer is asked for them.
    fn fields_of<T: Deserialize<'static>>() -> Vec<&'static str> {
        use serde::de::{value::Error, Error as _, Visitor};
        struct Probe(Vec<&'static str>);
        impl<'de> serde::Deserializer<'de> for &mut Probe {
            type Error = Error;
            fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
                Err(Error::custom("probe"))
            }
            fn deserialize_struct<V: Visitor<'de>>(
                self,
                _: &'static str,
                fields: &'static [&'static str],
                _: V,
            ) -> Result<V::Value, Error> {
                self.0.extend_from_slice(fields);
                Err(Error::custom("probe"))
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
                byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
                enum identifier ignored_any
            }
        }
        let mut probe = Probe(Vec::new());
        let _ = T::deserialize(&mut probe);
        probe.0
    }

    /// The known fields at `path` (dotted) in [`DATASTORE`].
    fn schema_at(path: &str) -> Vec<&'static str> {
        let mut fields: &[(&str, Ty)] = DATASTORE;
        for part in path.split('.').filter(|p| !p.is_empty()) {
            fields = match fields.iter().find(|(n, _)| *n == part) {
                Some((_, Ty::Obj(inner))) => inner,
                _ => panic!("{path} is not an object of DATASTORE"),
            };
        }
        fields.iter().map(|(n, _)| *n).collect()
    }

    /// Every object path of [`DATASTORE`].
    fn object_paths(fields: &[(&str, Ty)], at: &str, out: &mut Vec<String>) {
        out.push(at.to_owned());
        for (name, ty) in fields {
            if let Ty::Obj(inner) = ty {
                let path = if at.is_empty() {
                    (*name).to_owned()
                } else {
                    format!("{at}.{name}")
                };
                object_paths(inner, &path, out);
            }
        }
    }

    /// The fast check's schema names exactly the fields the typed reading types, object by
    /// object, so that a field added to one and not the other fails here (a field the schema
    /// did not know would take any type there, and pass unchecked).
    #[test]
    fn the_fast_schema_knows_the_fields_the_typed_reading_types() {
        let structs: Vec<(&str, Vec<&str>)> = vec![
            ("", fields_of::<DatastoreHeader<'static>>()),
            ("SseConfiguration", fields_of::<SseConfiguration>()),
            (
                "SseConfiguration.KmsEncryptionConfig",
                fields_of::<KmsEncryptionConfig>(),
            ),
            ("PreloadDataConfig", fields_of::<PreloadDataConfig>()),
            (
                "IdentityProviderConfiguration",
                fields_of::<IdentityProviderConfiguration>(),
            ),
            ("ErrorCause", fields_of::<ErrorCause>()),
            ("NlpConfiguration", fields_of::<StatusOnly>()),
            ("AnalyticsConfiguration", fields_of::<StatusOnly>()),
            ("ProfileConfiguration", fields_of::<ProfileConfiguration>()),
            ("BackupStatusInfo", fields_of::<BackupStatusInfo>()),
            (
                "BackupStatusInfo.Configuration",
                fields_of::<BackupConfiguration>(),
            ),
        ];
        for (path, fields) in &structs {
            assert!(!fields.is_empty(), "{path}");
            assert_eq!(&schema_at(path), fields, "{path}");
        }
        let mut paths = Vec::new();
        object_paths(DATASTORE, "", &mut paths);
        let checked: Vec<String> = structs.iter().map(|(p, _)| (*p).to_owned()).collect();
        assert_eq!(paths, checked);
    }

    /// Values at the edges of what serde reads as each type.
    const EDGE_VALUES: &[&str] = &[
        "null",
        "true",
        "false",
        "0",
        "-0",
        "7",
        "-1",
        "1.5",
        "1.0",
        "1e2",
        "-0.0",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        r#""x""#,
        r#""\u0000""#,
        r#""2020-10-27T01:11:04Z""#,
        "[]",
        r#"["a"]"#,
        "[null]",
        "[1]",
        r#"[["a"]]"#,
        r#"[{}]"#,
        "{}",
        r#"{"x": 1}"#,
        r#"["a", null]"#,
        r#"[{"Status": "x"}]"#,
    ];

    /// Every path of [`DATASTORE`], objects included.
    fn every_path(
        fields: &'static [(&'static str, Ty)],
        at: &[&'static str],
        out: &mut Vec<Vec<&'static str>>,
    ) {
        for (name, ty) in fields {
            let mut path = at.to_vec();
            path.push(name);
            out.push(path.clone());
            if let Ty::Obj(inner) = ty {
                every_path(inner, &path, out);
            }
        }
    }

    /// Every edge value at every known field, alone in its record: the fast check reads
    /// each as the typed reading does.
    #[test]
    fn every_edge_value_at_every_known_field_reads_as_the_typed_reading_reads_it() {
        let mut paths = Vec::new();
        every_path(DATASTORE, &[], &mut paths);
        let mut read_fast = 0;
        for path in &paths {
            for value in EDGE_VALUES {
                let mut text = (*value).to_owned();
                for name in path.iter().rev() {
                    text = format!("{{\"{name}\": {text}}}");
                }
                match fast(&text) {
                    Ok(Some(top)) => {
                        read_fast += 1;
                        assert_eq!(Ok(top), typed(&text), "{text}");
                    }
                    Ok(None) => {}
                    Err(e) => assert_eq!(Err(e), typed(&text), "{text}"),
                }
            }
        }
        assert!(read_fast > paths.len() * 3, "{read_fast}");
    }

    /// A JSON value for a field of type `ty`: of its type when `right`, else any value
    /// (of its type or not), both drawn from values at the edges of what serde accepts.
    fn value_for(ty: &'static Ty, right: bool) -> proptest::strategy::BoxedStrategy<String> {
        use proptest::prelude::*;
        let pick = |v: &'static [&'static str]| proptest::sample::select(v).prop_map(str::to_owned);
        let strings: &'static [&'static str] = &[
            r#""x""#,
            r#""""#,
            r#""a\"b\u0041\n""#,
            r#""\ud83d\ude00""#,
            "null",
        ];
        let right_value = match ty {
            Ty::Str => pick(strings).boxed(),
            Ty::Bool => pick(&["true", "false", "null"]).boxed(),
            Ty::Int => pick(&[
                "0",
                "7",
                "-1",
                "9223372036854775807",
                "-9223372036854775808",
                "null",
            ])
            .boxed(),
            Ty::Time => pick(&[
                "1603761064",
                "1603761064.881",
                "-1",
                "0",
                "1e9",
                r#""2020-10-27T01:11:04Z""#,
                r#""2020-10-27T01:11:04.5\u002b00:00""#,
                "null",
            ])
            .boxed(),
            Ty::Strs => pick(&["[]", r#"["a"]"#, r#"["a", "b\n"]"#, "null"]).boxed(),
            Ty::Obj(fields) => object_for(fields, true),
        };
        if right {
            return right_value;
        }
        let any = pick(EDGE_VALUES);
        prop_oneof![3 => right_value, 1 => any].boxed()
    }

    /// An object of some of `fields` (names sometimes spelt with an escape) and an unknown
    /// field, every value of its type when `right`.
    fn object_for(
        fields: &'static [(&'static str, Ty)],
        right: bool,
    ) -> proptest::strategy::BoxedStrategy<String> {
        use proptest::prelude::*;
        let members: Vec<BoxedStrategy<Option<String>>> = fields
            .iter()
            .map(|(name, ty)| {
                (proptest::option::of(value_for(ty, right)), any::<bool>())
                    .prop_map(move |(v, escape)| {
                        v.map(|v| {
                            let spelt = if escape {
                                format!("\\u{:04x}{}", u32::from(name.as_bytes()[0]), &name[1..])
                            } else {
                                (*name).to_owned()
                            };
                            format!("\"{spelt}\": {v}")
                        })
                    })
                    .boxed()
            })
            .collect();
        (members, proptest::option::of(value_for(&Ty::Str, false)))
            .prop_map(|(members, unknown)| {
                let mut parts: Vec<String> = members.into_iter().flatten().collect();
                if let Some(u) = unknown {
                    parts.push(format!("\"Unknown\": {u}"));
                }
                format!("{{{}}}", parts.join(", "))
            })
            .boxed()
    }

    /// What the typed reading alone makes of a data store's text.
    fn typed(text: &str) -> Result<Top<'_>, RecordError> {
        check_record_text(text, Kind::Datastore)?;
        parse_typed::<DatastoreHeader<'_>>(text).map(DatastoreHeader::top)
    }

    /// What the fast check makes of it: `Ok(None)` when it leaves it to the typed reading.
    fn fast(text: &str) -> Result<Option<Top<'_>>, RecordError> {
        Ok(check_record_fit(text, Kind::Datastore, DATASTORE)?
            .map(|found| Top::of(text, &found).expect("a text that fits reads")))
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(2000))]

        /// A record the fast check lets through is one the typed reading accepts, with the
        /// same values; one it refuses, the typed reading refuses with the same error.
        #[test]
        fn the_fast_check_reads_a_record_as_the_typed_reading_does(
            text in object_for(DATASTORE, false)
        ) {
            match fast(&text) {
                Ok(Some(top)) => proptest::prop_assert_eq!(Ok(top), typed(&text), "{}", text),
                Ok(None) => {}
                Err(e) => proptest::prop_assert_eq!(Err(e), typed(&text), "{}", text),
            }
        }

        /// A record whose known fields all have their types is read by the fast check alone.
        #[test]
        fn a_record_of_the_right_types_is_read_without_the_typed_reading(
            text in object_for(DATASTORE, true)
        ) {
            let top = fast(&text);
            proptest::prop_assert!(matches!(top, Ok(Some(_))), "{}: {:?}", text, top);
            proptest::prop_assert_eq!(top.map(Option::unwrap), typed(&text), "{}", text);
        }
    }
}

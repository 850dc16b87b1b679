//! The hlaudit inventory model.
//!
//! The central design decision: a HealthLake resource is kept as the API's own JSON
//! (`DatastoreProperties`, `ExportJobProperties`, ..., PascalCase, every field including
//! ones AWS adds later), exactly as it was read, in a [`Record`]. Beside that raw document
//! the record carries the few values every part of hlaudit needs often (id, name, status),
//! what a policy may ask about beside the JSON (tags, enrichments such as KMS key state)
//! and where the record came from, so a finding can point at the file and line.
//!
//! Keeping the raw text (a [`serde_json::value::RawValue`]) rather than a parsed tree means
//! reading a snapshot costs little more than validating it, and the rules engine parses
//! only what its compiled policies need.
//!
//! Every record also has three things that say what and where it is (`docs/model.md`
//! describes them for users):
//!
//! - a [`Kind`]: data store, export job, import job or transformation profile, the API
//!   shape of its JSON. It
//!   decides which fields the record must have and which policies apply to it. A data
//!   store a template will create is a data store too, so every data store policy applies
//!   to it.
//! - an [`Identity`]: the ARN of what exists, the file and address of what a template or
//!   plan will create, the data store id and job id of a job (jobs have no ARN). Its
//!   [`Identity::key`] is what fingerprints, report order, duplicate removal and baselines
//!   match on; for an existing data store it is the ARN, so keys made before kinds existed
//!   still match.
//! - a [`Context`]: account, region and partition, taken from the ARN of what exists and
//!   otherwise given by whoever builds the record, possibly unknown. Unknown context is
//!   never guessed: a policy reading it sees it absent and fails closed.
//!
//! A job names its data store by `DatastoreId`; [`link`] finds it in the inventory, and
//! gives the job its account, region and tags.
//!
//! The other modules hold the [`Inventory`] (records plus what a collection covered and
//! every collection error), [`finding`]s and their statuses, the domain [`report::Report`]
//! the reporters render, and [`snapshot`] reading and writing.

#![forbid(unsafe_code)]

pub mod arn;
pub mod compliance;
pub mod finding;
pub mod identity;
pub mod inventory;
pub mod invisible;
pub mod json_keys;
pub mod kind;
pub mod link;
pub mod planned;
pub mod record;
pub mod report;
pub mod snapshot;
pub mod timestamp;

pub use arn::Arn;
pub use finding::{Evidence, Finding, Said, Severity, Status};
pub use identity::{Context, Identity};
pub use inventory::{CollectionError, Coverage, Inventory, Warning};
pub use kind::Kind;
pub use record::{Record, RecordError, RecordErrorKind, Source};
pub use timestamp::Timestamp;

/// The version of hlaudit this model belongs to (the workspace version).
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

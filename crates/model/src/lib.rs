//! The hlaudit inventory model.
//!
//! The central design decision: a HealthLake data store is kept as the API's own JSON
//! (`DatastoreProperties`, PascalCase, every field including ones AWS adds later), exactly
//! as it was read, in a [`Record`]. Beside that raw document the record carries the few
//! values every part of hlaudit needs often (id, ARN and its parts, name, status), the
//! context a policy may ask about (tags, enrichments such as KMS key state) and where the
//! record came from, so a finding can point at the file and line.
//!
//! Keeping the raw text (a [`serde_json::value::RawValue`]) rather than a parsed tree means
//! reading a snapshot costs little more than validating it, and the rules engine parses
//! only what its compiled policies need.
//!
//! The other modules hold the [`Inventory`] (records plus what a collection covered and
//! every collection error), [`finding`]s and their statuses, the domain [`report::Report`]
//! the reporters render, and [`snapshot`] reading and writing.

#![forbid(unsafe_code)]

pub mod arn;
pub mod finding;
pub mod identity;
pub mod inventory;
pub mod invisible;
pub mod json_keys;
pub mod kind;
pub mod record;
pub mod report;
pub mod snapshot;
pub mod timestamp;

pub use arn::Arn;
pub use finding::{Evidence, Finding, Severity, Status};
pub use identity::{Context, Identity};
pub use inventory::{CollectionError, Coverage, Inventory, Warning};
pub use kind::Kind;
pub use record::{Record, RecordError, RecordErrorKind, Source};
pub use timestamp::Timestamp;

/// The version of hlaudit this model belongs to (the workspace version).
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

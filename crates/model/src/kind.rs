//! What a record is: its [`Kind`].
//!
//! A kind names the API shape of a record's JSON (a data store's `DatastoreProperties`, an
//! export job's `ExportJobProperties`, ...), so it decides which fields a record must have
//! and which policies apply to it. Whether a data store exists or is only planned in a
//! template is not a kind but part of its identity: every data store
//! policy applies to a planned data store too, which is the point of checking templates.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The kind of a record.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A FHIR data store (`DatastoreProperties`), existing or planned.
    #[default]
    Datastore,
    /// A FHIR export job (`ExportJobProperties`).
    ExportJob,
    /// A FHIR import job (`ImportJobProperties`).
    ImportJob,
    /// A data transformation profile: the `GetDataTransformationProfile` output, or the
    /// `DataTransformationProfileSummary` a listing gives (a subset of it).
    TransformationProfile,
}

impl Kind {
    /// Every kind, in a stable order.
    pub const ALL: [Kind; 4] = [
        Kind::Datastore,
        Kind::ExportJob,
        Kind::ImportJob,
        Kind::TransformationProfile,
    ];

    /// The stable name used in policy files, reports and snapshots, e.g. `export-job`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Datastore => "datastore",
            Kind::ExportJob => "export-job",
            Kind::ImportJob => "import-job",
            Kind::TransformationProfile => "transformation-profile",
        }
    }

    /// The name of the API object the record's JSON is, e.g. `ExportJobProperties`.
    pub fn api_shape(self) -> &'static str {
        match self {
            Kind::Datastore => "DatastoreProperties",
            Kind::ExportJob => "ExportJobProperties",
            Kind::ImportJob => "ImportJobProperties",
            // The API has no one name for it: `GetDataTransformationProfile` returns its
            // fields at the top level, a listing a `DataTransformationProfileSummary`.
            Kind::TransformationProfile => "DataTransformationProfile",
        }
    }

    /// The words a message uses for one of them, e.g. `export job`.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Datastore => "data store",
            Kind::ExportJob => "export job",
            Kind::ImportJob => "import job",
            Kind::TransformationProfile => "transformation profile",
        }
    }

    /// Whether records of this kind belong to a data store (they carry its `DatastoreId`),
    /// so they take its account, region and tags.
    pub fn belongs_to_datastore(self) -> bool {
        matches!(self, Kind::ExportJob | Kind::ImportJob)
    }

    /// Whether this is the kind a policy applies to when it names none.
    pub fn is_default(&self) -> bool {
        *self == Kind::Datastore
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind name that is not one of [`Kind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a kind of record; the kinds are datastore, export-job, import-job and \
     transformation-profile"
)]
pub struct UnknownKind(pub String);

impl FromStr for Kind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>(), Ok(k));
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{k}\""));
        }
        let e = "data-store".parse::<Kind>().unwrap_err();
        assert!(e.to_string().contains("datastore, export-job"), "{e}");
        assert_eq!(Kind::default(), Kind::Datastore);
    }
}

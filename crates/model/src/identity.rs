//! Which resource a record is: its [`Identity`], and the [`Context`] it lives in.
//!
//! An identity is what findings, fingerprints, baselines and waivers are keyed on, so it
//! must name the same resource in every run:
//!
//! - what exists and has an ARN (a data store) is its ARN;
//! - what is only planned (a data store in a CloudFormation template or a Terraform plan)
//!   is the file plus the logical id or resource address in it;
//! - a job (an export or import job), which has no ARN of its own, is its data store's id
//!   plus its job id;
//! - a transformation profile, for which the API returns no ARN, is its `ProfileId` within
//!   its account and region (profile ids are only unique there).
//!
//! Account, region and partition are context: known from the ARN of what exists, and from
//! what the user or the parent data store says for the rest, possibly unknown. A policy
//! that reads an unknown context value sees it absent and fails closed, as it does for any
//! absent value.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::arn::Arn;
use crate::kind::Kind;

/// Which resource a record is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Identity {
    /// A resource that exists, by its ARN.
    Arn(String),
    /// A resource a template or plan will create.
    Planned(Box<Planned>),
    /// A job of a data store.
    Job(Box<JobOf>),
    /// A transformation profile of an account and region.
    Profile(Box<ProfileIn>),
}

/// Where a planned resource is declared.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Planned {
    /// The template or plan file, as the user named it (relative paths keep keys the same
    /// on every machine).
    pub file: String,
    /// The logical id (CloudFormation) or resource address (Terraform) in the file.
    pub address: String,
}

/// A job, by its data store and its own id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobOf {
    /// The `DatastoreId` of the data store the job belongs to.
    pub datastore_id: String,
    /// The `JobId`.
    pub job_id: String,
}

/// A transformation profile, by its account, region and `ProfileId`. Account and region
/// are the context the profile was collected in (or that a snapshot says); either may be
/// unknown for a profile read from a plain CLI listing, and is then absent from the key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileIn {
    /// The 12-digit account id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The region, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The `ProfileId`.
    pub profile_id: String,
}

impl Identity {
    /// The stable text findings are keyed on: the ARN of what exists (so every
    /// fingerprint and baseline written before kinds existed still matches),
    /// `FILE#ADDRESS` for what is planned, `DATASTORE_ID/KIND/JOB_ID` for a job,
    /// `ACCOUNT/REGION/KIND/PROFILE_ID` for a transformation profile (`?` for an unknown
    /// account or region).
    ///
    /// ```
    /// use hlaudit_model::{identity::{Identity, JobOf}, Kind};
    /// let job = Identity::Job(Box::new(JobOf { datastore_id: "ds1".into(), job_id: "j9".into() }));
    /// assert_eq!(job.key(Kind::ExportJob), "ds1/export-job/j9");
    /// ```
    pub fn key(&self, kind: Kind) -> Cow<'_, str> {
        match self {
            Identity::Arn(arn) => Cow::Borrowed(arn),
            Identity::Planned(p) => Cow::Owned(format!("{}#{}", p.file, p.address)),
            Identity::Job(j) => Cow::Owned(format!("{}/{kind}/{}", j.datastore_id, j.job_id)),
            Identity::Profile(p) => Cow::Owned(format!(
                "{}/{}/{kind}/{}",
                p.account.as_deref().unwrap_or("?"),
                p.region.as_deref().unwrap_or("?"),
                p.profile_id
            )),
        }
    }

    /// The ARN, for what exists.
    pub fn arn(&self) -> Option<&str> {
        match self {
            Identity::Arn(arn) => Some(arn),
            _ => None,
        }
    }

    /// Whether this is a resource a template or plan will create.
    pub fn is_planned(&self) -> bool {
        matches!(self, Identity::Planned(_))
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identity::Arn(arn) => f.write_str(arn),
            Identity::Planned(p) => write!(f, "{} in {}", p.address, p.file),
            Identity::Job(j) => write!(f, "job {} of data store {}", j.job_id, j.datastore_id),
            Identity::Profile(p) => {
                write!(f, "profile {}", p.profile_id)?;
                match (&p.account, &p.region) {
                    (Some(a), Some(r)) => write!(f, " in {a}/{r}"),
                    (Some(a), None) => write!(f, " in account {a}"),
                    (None, Some(r)) => write!(f, " in {r}"),
                    (None, None) => Ok(()),
                }
            }
        }
    }
}

/// Account, region and partition of a record, each possibly unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Context {
    /// The 12-digit account id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The region, e.g. `us-east-1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The partition, e.g. `aws`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
}

impl Context {
    /// The context an ARN names. An empty part (`arn:aws:healthlake::1:...`) is kept as
    /// the empty text the ARN holds, as a policy reading the ARN would see it.
    pub fn of_arn(arn: &Arn) -> Self {
        Context {
            account: Some(arn.account.clone()),
            region: Some(arn.region.clone()),
            partition: Some(arn.partition.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record and resource holds one, and nearly all of them are ARNs: the other
    /// variants are boxed.
    #[test]
    fn an_identity_is_small() {
        assert!(std::mem::size_of::<Identity>() <= 32);
    }

    #[test]
    fn keys_are_the_arn_for_what_exists_and_distinct_otherwise() {
        let arn = "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/x";
        assert_eq!(Identity::Arn(arn.into()).key(Kind::Datastore), arn);
        let planned = Identity::Planned(Box::new(Planned {
            file: "infra/stack.yaml".into(),
            address: "Store".into(),
        }));
        assert_eq!(planned.key(Kind::Datastore), "infra/stack.yaml#Store");
        assert!(planned.is_planned() && planned.arn().is_none());
        let job = Identity::Job(Box::new(JobOf {
            datastore_id: "x".into(),
            job_id: "1".into(),
        }));
        assert_ne!(job.key(Kind::ExportJob), job.key(Kind::ImportJob));
        let profile = |account: Option<&str>| {
            Identity::Profile(Box::new(ProfileIn {
                account: account.map(str::to_owned),
                region: Some("us-east-1".into()),
                profile_id: "p1".into(),
            }))
        };
        let tp = Kind::TransformationProfile;
        assert_eq!(
            profile(Some("111122223333")).key(tp),
            "111122223333/us-east-1/transformation-profile/p1"
        );
        assert_eq!(
            profile(None).key(tp),
            "?/us-east-1/transformation-profile/p1"
        );
        assert_eq!(
            serde_json::to_value(profile(None)).unwrap(),
            serde_json::json!({"profile": {"region": "us-east-1", "profileId": "p1"}})
        );
        assert_eq!(
            serde_json::to_value(&planned).unwrap(),
            serde_json::json!({"planned": {"file": "infra/stack.yaml", "address": "Store"}})
        );
    }

    #[test]
    fn context_of_an_arn_keeps_what_the_arn_says() {
        let arn = Arn::parse("arn:aws:healthlake::111122223333:datastore/fhir/x").unwrap();
        let c = Context::of_arn(&arn);
        assert_eq!(c.region.as_deref(), Some(""));
        assert_eq!(c.account.as_deref(), Some("111122223333"));
    }
}

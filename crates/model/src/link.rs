//! Which data store a job belongs to: a [`DatastoreIndex`] over the records of an
//! inventory, and [`link_to_datastores`], which gives each job its data store's context and
//! tags.
//!
//! A job names its data store by `DatastoreId` only, which is unique within an account,
//! region and partition, so a job belongs to the existing data store with its
//! `DatastoreId` whose context agrees with every part of the job's context that is known.
//! A job whose context is unknown (read from a plain `aws healthlake list-fhir-export-jobs`
//! output, which does not say where it ran) belongs to the one data store with its
//! `DatastoreId`; with none, or several in different accounts or regions, it belongs to
//! none. Nothing is guessed: a job without a data store keeps its unknown context and no
//! tags, so a policy reading them fails closed, and a warning says so.
//!
//! Both the inventory readers (which fill in context, tags and warnings once) and the
//! rules engine (which gives a job policy its data store's fields as `@datastore`) use the
//! same index, so they always agree on which data store a job belongs to.

use std::collections::HashMap;

use crate::identity::{Context, Identity};
use crate::inventory::Warning;
use crate::kind::Kind;
use crate::record::Record;

/// The existing data stores of a list of records, by `DatastoreId`.
#[derive(Debug, Default)]
pub struct DatastoreIndex<'a> {
    by_id: HashMap<&'a str, Vec<usize>>,
}

/// Which data store a record belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatastoreOf {
    /// The record is not of a kind that belongs to a data store (a data store, a
    /// transformation profile).
    NotAJob,
    /// The index in the records of its data store.
    Found(usize),
    /// No data store in the records has its `DatastoreId` (and context).
    Missing,
    /// Several do (in different accounts or regions) and the job's context does not say
    /// which: the indexes of the candidates.
    Ambiguous(Vec<usize>),
}

impl<'a> DatastoreIndex<'a> {
    /// Indexes the existing data stores of `records` (planned ones have no
    /// `DatastoreId` a job could name).
    pub fn of(records: &'a [Record]) -> Self {
        let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, r) in records.iter().enumerate() {
            if r.kind() == Kind::Datastore && r.arn().is_some() {
                if let Some(id) = r.id() {
                    by_id.entry(id).or_default().push(i);
                }
            }
        }
        DatastoreIndex { by_id }
    }

    /// Whether no data store is indexed.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The data store `rec` belongs to, looked up in the records the index was built
    /// from.
    pub fn datastore_of(&self, records: &[Record], rec: &Record) -> DatastoreOf {
        let Identity::Job(job) = rec.identity() else {
            return DatastoreOf::NotAJob;
        };
        let candidates: Vec<usize> = self
            .by_id
            .get(job.datastore_id.as_str())
            .into_iter()
            .flatten()
            .copied()
            .filter(|i| agrees(rec.context(), records[*i].context()))
            .collect();
        match candidates.len() {
            0 => DatastoreOf::Missing,
            1 => DatastoreOf::Found(candidates[0]),
            _ => DatastoreOf::Ambiguous(candidates),
        }
    }
}

/// Whether every known part of a job's context is the data store's.
fn agrees(job: &Context, store: &Context) -> bool {
    let same = |a: &Option<String>, b: &Option<String>| a.is_none() || a == b;
    same(&job.account, &store.account)
        && same(&job.region, &store.region)
        && same(&job.partition, &store.partition)
}

/// Gives every job of `records` its data store's context (account, region, partition)
/// and tags (jobs have none of their own in the API), and returns a warning for each job
/// without a data store in `records`, or with several it could belong to.
///
/// ```
/// use hlaudit_model::{link::link_to_datastores, Kind, Record};
/// let store = Record::from_value(&serde_json::json!({
///     "DatastoreId": "a", "DatastoreName": "clinical-prod",
///     "DatastoreArn": "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/a"})).unwrap();
/// let job = |ds: &str| Record::from_value_as(Kind::ExportJob,
///     &serde_json::json!({"JobId": "j1", "DatastoreId": ds})).unwrap();
/// let mut records = vec![store.with_tags([("owner".into(), "x".into())].into()), job("a"), job("b")];
/// let warnings = link_to_datastores(&mut records);
/// assert_eq!(records[1].account(), Some("111122223333"));
/// assert_eq!(records[1].tags.as_ref().unwrap()["owner"], "x");
/// assert_eq!(records[2].account(), None);
/// assert_eq!(warnings[0].code, "job-without-datastore");
/// ```
pub fn link_to_datastores(records: &mut [Record]) -> Vec<Warning> {
    if !records.iter().any(|r| r.kind().belongs_to_datastore()) {
        return Vec::new();
    }
    let links: Vec<(usize, DatastoreOf)> = {
        let index = DatastoreIndex::of(records);
        records
            .iter()
            .enumerate()
            .filter(|(_, r)| r.kind().belongs_to_datastore())
            .map(|(i, r)| (i, index.datastore_of(records, r)))
            .collect()
    };
    let mut warnings = Vec::new();
    for (i, link) in links {
        match link {
            DatastoreOf::Found(s) => {
                let (context, tags) = (records[s].context().clone(), records[s].tags.clone());
                let job = &mut records[i];
                job.set_context(context);
                if job.tags.is_none() {
                    job.tags = tags;
                }
            }
            DatastoreOf::Missing => warnings.push(unlinked(
                &records[i],
                "job-without-datastore",
                "its data store is not in the inventory".to_owned(),
            )),
            DatastoreOf::Ambiguous(c) => {
                let arns: Vec<&str> = c.iter().filter_map(|s| records[*s].arn()).collect();
                warnings.push(unlinked(
                    &records[i],
                    "job-datastore-ambiguous",
                    format!(
                        "several data stores have its DatastoreId ({}) and the job does not \
                         say its account and region",
                        arns.join(", ")
                    ),
                ));
            }
            DatastoreOf::NotAJob => {}
        }
    }
    warnings
}

fn unlinked(job: &Record, code: &str, why: String) -> Warning {
    let datastore = match job.identity() {
        Identity::Job(j) => j.datastore_id.as_str(),
        _ => "",
    };
    Warning {
        code: code.to_owned(),
        message: format!(
            "{} `{}` of data store `{datastore}`: {why}; it is audited with its data \
             store's fields (@datastore), tags and any unknown account or region absent, \
             so policies reading them fail",
            job.kind().noun(),
            job.id().unwrap_or_default(),
        ),
        source: job.source.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(account: &str, id: &str) -> Record {
        Record::from_value(&serde_json::json!({
            "DatastoreId": id,
            "DatastoreArn": format!("arn:aws:healthlake:us-east-1:{account}:datastore/fhir/{id}"),
        }))
        .unwrap()
    }

    fn job(ds: &str, account: Option<&str>) -> Record {
        Record::from_value_as(
            Kind::ImportJob,
            &serde_json::json!({"JobId": "j", "DatastoreId": ds}),
        )
        .unwrap()
        .with_context(Context {
            account: account.map(str::to_owned),
            ..Context::default()
        })
    }

    #[test]
    fn a_job_of_unknown_context_needs_exactly_one_data_store_with_its_id() {
        let mut records = vec![
            store("111111111111", "a"),
            store("222222222222", "a"),
            job("a", None),
            job("a", Some("222222222222")),
            job("a", Some("333333333333")),
        ];
        let warnings = link_to_datastores(&mut records);
        let codes: Vec<&str> = warnings.iter().map(|w| w.code.as_str()).collect();
        assert_eq!(codes, ["job-datastore-ambiguous", "job-without-datastore"]);
        assert!(warnings[0]
            .message
            .contains("222222222222:datastore/fhir/a"));
        assert_eq!(records[2].account(), None);
        assert_eq!(records[3].region(), Some("us-east-1"));
        assert_eq!(records[4].region(), None);
        // Linking again changes nothing.
        let again = records.clone();
        link_to_datastores(&mut records);
        assert_eq!(
            records.iter().map(Record::context).collect::<Vec<_>>(),
            again.iter().map(Record::context).collect::<Vec<_>>()
        );
    }

    #[test]
    fn data_stores_and_profiles_belong_to_no_data_store() {
        let records = vec![store("111111111111", "a")];
        let index = DatastoreIndex::of(&records);
        assert_eq!(
            index.datastore_of(&records, &records[0]),
            DatastoreOf::NotAJob
        );
        assert!(!index.is_empty());
    }
}

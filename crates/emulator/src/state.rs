//! The data stores the emulator serves, kept per (account, region) as their ARNs say.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use hlaudit_model::{Kind, Record, Timestamp};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::EmulatorError;
use crate::jobs::JobStore;

/// The account used when the data holds none or several and no mapping names one.
pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// `(account, region)`.
pub(crate) type PartitionKey = (String, String);

/// One data store as served.
#[derive(Debug, Clone)]
pub(crate) struct Datastore {
    /// The record as loaded (id, ARN, name, status, creation time).
    pub record: Record,
    /// `DatastoreProperties` as sent on the wire: the record's JSON, with ISO 8601
    /// timestamps turned into epoch seconds.
    pub wire: Box<RawValue>,
    /// The tags.
    pub tags: BTreeMap<String, String>,
}

/// The data stores of one (account, region), in the order loaded or created, with
/// indexes by id and ARN (a collection's tag calls look up every ARN).
#[derive(Debug, Default)]
struct Partition {
    list: Vec<Datastore>,
    by_id: HashMap<String, usize>,
    by_arn: HashMap<String, usize>,
}

/// Every data store, by partition.
#[derive(Debug, Default)]
pub(crate) struct Store {
    partitions: BTreeMap<PartitionKey, Partition>,
    /// `(account, region, ClientToken)` of `CreateFHIRDatastore` -> data store id.
    client_tokens: HashMap<(String, String, String), String>,
    /// Data stores created through the API, for id generation.
    pub created: u64,
    /// The export and import jobs of the data stores, and the transformation profiles.
    pub jobs: JobStore,
}

impl Store {
    /// Builds the store. A second record with the same key is dropped (the first
    /// wins, as the snapshot readers do). Transformation profiles are served to the
    /// account and region of their context. Jobs are served with their data store: the
    /// one of their account and region when their context names them, else the first
    /// data store with their `DatastoreId`; a job whose data store is not served is an
    /// error.
    pub fn new(records: Vec<Record>) -> Result<Self, EmulatorError> {
        let mut store = Store::default();
        let mut seen = BTreeSet::new();
        let mut jobs = Vec::new();
        for record in records {
            if !seen.insert((record.kind(), record.key().into_owned())) {
                continue;
            }
            match record.kind() {
                Kind::ExportJob | Kind::ImportJob => jobs.push(record),
                Kind::TransformationProfile => store.insert_profile(&record)?,
                _ => {
                    store.insert(record)?;
                }
            }
        }
        for job in jobs {
            store.insert_job(job)?;
        }
        Ok(store)
    }

    /// Adds a transformation profile record to the account and region of its context.
    fn insert_profile(&mut self, record: &Record) -> Result<(), EmulatorError> {
        let (Some(account), Some(region)) = (record.account(), record.region()) else {
            return Err(EmulatorError::Record {
                arn: record.key().into_owned(),
                field: ".".to_owned(),
                message: "a transformation profile is served to the account and region of its \
                          context, and this one has none"
                    .to_owned(),
            });
        };
        let (account, region) = (account.to_owned(), region.to_owned());
        self.jobs
            .insert_profile(&account, &region, record.properties())
    }

    /// Adds an export or import job to its data store (see [`Store::new`]).
    pub fn insert_job(&mut self, job: Record) -> Result<(), EmulatorError> {
        let datastore = match job.identity() {
            hlaudit_model::Identity::Job(j) => j.datastore_id.clone(),
            _ => String::new(),
        };
        let home = self
            .partitions
            .iter()
            .filter(|((a, r), _)| {
                job.account().is_none_or(|x| x == a) && job.region().is_none_or(|x| x == r)
            })
            .find(|(_, p)| p.by_id.contains_key(&datastore))
            .map(|(key, _)| key.clone());
        let Some((account, region)) = home else {
            return Err(EmulatorError::Record {
                arn: job.key().into_owned(),
                field: "DatastoreId".to_owned(),
                message: format!("no data store `{datastore}` is served for this job"),
            });
        };
        self.jobs.insert(&account, &region, job)
    }

    /// Adds a record (its tags from `record.tags`).
    pub fn insert(&mut self, record: Record) -> Result<&Datastore, EmulatorError> {
        let (Some(arn), Some(id), Some(account), Some(region), Kind::Datastore) = (
            record.arn(),
            record.id(),
            record.account(),
            record.region(),
            record.kind(),
        ) else {
            return Err(EmulatorError::Record {
                arn: record.key().into_owned(),
                field: ".".to_owned(),
                message: "only data stores that exist (with an id and an ARN) can be served"
                    .to_owned(),
            });
        };
        let key = (account.to_owned(), region.to_owned());
        let (id, arn) = (id.to_owned(), arn.to_owned());
        let wire = wire_properties(&record)?;
        let tags = record.tags.clone().unwrap_or_default();
        let p = self.partitions.entry(key).or_default();
        let index = p.list.len();
        p.by_id.entry(id).or_insert(index);
        p.by_arn.insert(arn, index);
        p.list.push(Datastore { record, wire, tags });
        Ok(&p.list[index])
    }

    /// The accounts present in the data.
    pub fn accounts(&self) -> BTreeSet<&str> {
        self.partitions.keys().map(|(a, _)| a.as_str()).collect()
    }

    /// The data stores of one partition.
    pub fn list(&self, account: &str, region: &str) -> &[Datastore] {
        self.partition(account, region)
            .map_or(&[], |p| p.list.as_slice())
    }

    fn partition(&self, account: &str, region: &str) -> Option<&Partition> {
        self.partitions
            .get(&(account.to_owned(), region.to_owned()))
    }

    /// The data store with this id in one partition.
    pub fn by_id(&self, account: &str, region: &str, id: &str) -> Option<&Datastore> {
        let p = self.partition(account, region)?;
        p.by_id.get(id).map(|&i| &p.list[i])
    }

    /// The data store with this ARN in one partition.
    pub fn by_arn(&self, account: &str, region: &str, arn: &str) -> Option<&Datastore> {
        let p = self.partition(account, region)?;
        p.by_arn.get(arn).map(|&i| &p.list[i])
    }

    /// The data store with this ARN in one partition, for changing its tags.
    pub fn by_arn_mut(&mut self, account: &str, region: &str, arn: &str) -> Option<&mut Datastore> {
        let p = self
            .partitions
            .get_mut(&(account.to_owned(), region.to_owned()))?;
        let i = *p.by_arn.get(arn)?;
        p.list.get_mut(i)
    }

    /// The data store a `ClientToken` created, if any.
    pub fn by_client_token(&self, account: &str, region: &str, token: &str) -> Option<&Datastore> {
        let id =
            self.client_tokens
                .get(&(account.to_owned(), region.to_owned(), token.to_owned()))?;
        self.by_id(account, region, id)
    }

    /// Remembers which data store a `ClientToken` created.
    pub fn remember_client_token(&mut self, account: &str, region: &str, token: &str, id: &str) {
        self.client_tokens.insert(
            (account.to_owned(), region.to_owned(), token.to_owned()),
            id.to_owned(),
        );
    }

    /// Every partition with its data stores.
    pub fn partitions(&self) -> impl Iterator<Item = (&PartitionKey, &[Datastore])> {
        self.partitions.iter().map(|(k, p)| (k, p.list.as_slice()))
    }
}

/// The timestamp fields of `DatastoreProperties`, as paths.
const TIMESTAMP_FIELDS: [&[&str]; 5] = [
    &["CreatedAt"],
    &["BackupStatusInfo", "BackupEnabledAt"],
    &["BackupStatusInfo", "EarliestRestorePoint"],
    &["BackupStatusInfo", "LatestRestorePoint"],
    &["BackupStatusInfo", "ScheduledPermanentDeletionTime"],
];

/// The record's JSON as the API sends it. Unchanged when every timestamp already is a
/// number; otherwise re-serialised with the ISO 8601 strings replaced by epoch seconds.
pub(crate) fn wire_properties(record: &Record) -> Result<Box<RawValue>, EmulatorError> {
    wire_json(record, &TIMESTAMP_FIELDS)
}

/// A record's JSON as the API sends it, the ISO 8601 strings at `fields` turned into
/// epoch seconds (unchanged when they already are numbers).
pub(crate) fn wire_json(
    record: &Record,
    fields: &[&[&str]],
) -> Result<Box<RawValue>, EmulatorError> {
    let mut value: Value = record.properties();
    let mut changed = false;
    for path in fields.iter().copied() {
        let Some(slot) = lookup_mut(&mut value, path) else {
            continue;
        };
        let Value::String(text) = slot else {
            continue;
        };
        let field_error = |message: String| EmulatorError::Record {
            arn: record.key().into_owned(),
            field: path.join("."),
            message,
        };
        let ts = Timestamp::parse(text).map_err(|e| field_error(e.to_string()))?;
        let number = serde_json::Number::from_f64(ts.epoch_seconds())
            .ok_or_else(|| field_error("not representable as epoch seconds".to_owned()))?;
        *slot = Value::Number(number);
        changed = true;
    }
    let text = if changed {
        serde_json::to_string(&value).map_err(|e| EmulatorError::Record {
            arn: record.key().into_owned(),
            field: ".".to_owned(),
            message: e.to_string(),
        })?
    } else {
        record.raw_json().to_owned()
    };
    RawValue::from_string(text).map_err(|e| EmulatorError::Record {
        arn: record.key().into_owned(),
        field: ".".to_owned(),
        message: e.to_string(),
    })
}

fn lookup_mut<'a>(value: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |v, key| v.get_mut(*key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(id: &str, region: &str, created: Value) -> Record {
        Record::from_value(&json!({
            "DatastoreId": id,
            "DatastoreArn": format!("arn:aws:healthlake:{region}:111122223333:datastore/fhir/{id}"),
            "DatastoreStatus": "ACTIVE",
            "CreatedAt": created,
        }))
        .unwrap()
    }

    #[test]
    fn iso_timestamps_go_out_as_epoch_seconds() {
        let r = record("a", "us-east-1", json!("2020-10-27T01:11:04.881000+00:00"));
        let wire: Value = serde_json::from_str(wire_properties(&r).unwrap().get()).unwrap();
        assert_eq!(wire["CreatedAt"].as_f64(), Some(1603761064.881));
        let r = record("b", "us-east-1", json!(1603761064.881));
        assert_eq!(wire_properties(&r).unwrap().get(), r.raw_json());
    }

    #[test]
    fn partitions_by_account_and_region_and_drops_duplicate_arns() {
        let store = Store::new(vec![
            record("a", "us-east-1", json!(1)),
            record("b", "eu-west-1", json!(2)),
            record("a", "us-east-1", json!(3)),
        ])
        .unwrap();
        assert_eq!(store.list("111122223333", "us-east-1").len(), 1);
        assert_eq!(store.list("111122223333", "eu-west-1").len(), 1);
        assert!(store.list("999999999999", "us-east-1").is_empty());
        assert!(store.by_id("111122223333", "eu-west-1", "b").is_some());
        assert!(store.by_id("111122223333", "us-east-1", "b").is_none());
        assert_eq!(
            store.accounts().into_iter().collect::<Vec<_>>(),
            ["111122223333"]
        );
    }

    #[test]
    fn jobs_are_served_with_their_data_store_and_profiles_in_their_context() {
        let job = |ds: &str| {
            Record::from_value_as(
                Kind::ExportJob,
                &json!({"JobId": "j1", "DatastoreId": ds, "SubmitTime": "2024-01-02T00:00:00Z"}),
            )
            .unwrap()
        };
        let profile = Record::from_value_as(
            Kind::TransformationProfile,
            &json!({"ProfileId": "p1", "Version": 1}),
        )
        .unwrap()
        .with_context(hlaudit_model::identity::Context {
            account: Some("111122223333".into()),
            region: Some("eu-west-1".into()),
            partition: None,
        });
        let store = Store::new(vec![
            job("b"),
            record("a", "us-east-1", json!(1)),
            record("b", "eu-west-1", json!(2)),
            profile,
        ])
        .unwrap();
        let jobs = store.jobs.of("111122223333", "eu-west-1", "b").unwrap();
        assert_eq!(jobs.export.len(), 1);
        assert!(jobs.export[0]
            .wire
            .get()
            .contains("\"SubmitTime\":1704153600"));
        assert!(store.jobs.of("111122223333", "us-east-1", "b").is_none());
        assert_eq!(store.jobs.profiles("111122223333", "eu-west-1").len(), 1);
        let e = Store::new(vec![job("nowhere")]).unwrap_err().to_string();
        assert!(e.contains("no data store `nowhere`"), "{e}");
    }

    #[test]
    fn unparsable_backup_timestamp_is_an_error_naming_the_field() {
        let r = Record::from_value(&json!({
            "DatastoreId": "x",
            "DatastoreArn": "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/x",
            "BackupStatusInfo": {"LatestRestorePoint": "soon"},
        }))
        .unwrap();
        let e = wire_properties(&r).unwrap_err().to_string();
        assert!(e.contains("BackupStatusInfo.LatestRestorePoint"), "{e}");
    }
}

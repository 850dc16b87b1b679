//! Generated data stores for tests, benchmarks and demos that need many of them.
//!
//! The mix resembles a real estate of HealthLake data stores: most ACTIVE, a few in
//! every other state; customer-managed and AWS-owned keys; AWS_AUTH and SMART on FHIR;
//! tags on most, none on some. The same arguments always give the same records.

use std::collections::BTreeMap;

use hlaudit_model::{Kind, Record};
use serde_json::json;

use crate::datastore::DatastoreJson;
use crate::error::EmulatorError;
use crate::faults::{fnv1a, splitmix64};

const NAMES: [&str; 6] = [
    "patient-records",
    "claims",
    "research-cohort",
    "imaging-index",
    "sandbox",
    "analytics",
];
const TEAMS: [&str; 4] = ["clinical-platform", "data-science", "finance", "security"];
const ENVIRONMENTS: [&str; 3] = ["production", "staging", "development"];

/// `count` data stores of one account and region, deterministic in `seed`. Ids are
/// unique per (account, region, index), so generated sets can be merged.
///
/// ```
/// let stores = hlaudit_emulator::synthetic::datastores("123456789012", "us-east-1", 3, 7).unwrap();
/// assert_eq!(stores.len(), 3);
/// assert_eq!(stores[0].region(), Some("us-east-1"));
/// ```
pub fn datastores(
    account: &str,
    region: &str,
    count: usize,
    seed: u64,
) -> Result<Vec<Record>, EmulatorError> {
    let base = fnv1a(&[account.as_bytes(), region.as_bytes(), &seed.to_le_bytes()]);
    (0..count)
        .map(|i| datastore(account, region, i, base))
        .collect()
}

fn datastore(account: &str, region: &str, i: usize, base: u64) -> Result<Record, EmulatorError> {
    let h = splitmix64(base ^ splitmix64(i as u64));
    let roll = |salt: u64, n: u64| splitmix64(h ^ salt) % n;
    let id = format!("{:016x}{:016x}", h, splitmix64(h));
    let status = match roll(1, 100) {
        0..=84 => "ACTIVE",
        85..=89 => "CREATING",
        90..=93 => "DELETED",
        94..=96 => "CREATE_FAILED",
        _ => "UPDATING",
    };
    // 2021-01-01T00:00:00Z plus up to ~5 years, millisecond precision.
    let created_ms = 1_609_459_200_000u64 + roll(2, 5 * 365 * 86_400_000);
    let mut store = DatastoreJson::new(account, region, &id)
        .name(format!(
            "{}-{i}",
            NAMES[roll(6, NAMES.len() as u64) as usize]
        ))
        .status(status)
        .created_at(created_ms as f64 / 1000.0)
        .type_version("R4")
        .endpoint();
    store = if roll(3, 10) < 6 {
        store.customer_managed_key(&format!(
            "arn:aws:kms:{region}:{account}:key/{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            h >> 32,
            (h >> 16) & 0xffff,
            h & 0xfff,
            (h >> 20) & 0xfff,
            splitmix64(h ^ 9) & 0xffff_ffff_ffff
        ))
    } else {
        store.aws_owned_key()
    };
    store = if roll(4, 10) < 7 {
        store.aws_auth()
    } else {
        let metadata = json!({"issuer": "https://idp.example.org/oauth2",
                              "authorization_endpoint": "https://idp.example.org/oauth2/authorize",
                              "token_endpoint": "https://idp.example.org/oauth2/token"});
        store.smart_on_fhir(
            roll(5, 2) == 0,
            &metadata.to_string(),
            &format!("arn:aws:lambda:{region}:{account}:function:smart-idp"),
        )
    };
    if roll(7, 10) == 0 {
        store = store.preload("SYNTHEA");
    }
    if status == "CREATE_FAILED" {
        store = store.error_cause("The KMS key is not accessible", "NON_RETRYABLE_ERROR");
    }
    let arn = store.arn().unwrap_or_default().to_owned();
    let props = store.build();
    let mut tags = BTreeMap::new();
    if roll(8, 10) < 8 {
        tags.insert(
            "Environment".to_owned(),
            ENVIRONMENTS[roll(10, 3) as usize].to_owned(),
        );
        tags.insert("Owner".to_owned(), TEAMS[roll(11, 4) as usize].to_owned());
        if roll(12, 10) < 7 {
            tags.insert("DataClassification".to_owned(), "PHI".to_owned());
        }
    }
    Record::from_value(&props)
        .map(|r| r.with_tags(tags))
        .map_err(|e| EmulatorError::Record {
            arn,
            field: e.path,
            message: e.message,
        })
}

/// `count` export jobs and `count` import jobs of one data store (existing, with an id
/// and an ARN), deterministic in `seed`, submitted over the 400 days before `now`
/// (epoch seconds), newest last. Most completed; some failed, some still running; most
/// export to a customer managed key of the data store's account, some to another
/// account's bucket or role.
///
/// ```
/// let store = &hlaudit_emulator::synthetic::datastores("123456789012", "us-east-1", 1, 7).unwrap()[0];
/// let jobs = hlaudit_emulator::synthetic::jobs(store, 2, 7, 1_700_000_000).unwrap();
/// assert_eq!(jobs.len(), 4);
/// ```
pub fn jobs(
    datastore: &Record,
    count: usize,
    seed: u64,
    now: i64,
) -> Result<Vec<Record>, EmulatorError> {
    let (Some(id), Some(account), Some(region)) =
        (datastore.id(), datastore.account(), datastore.region())
    else {
        return Err(EmulatorError::Record {
            arn: datastore.key().into_owned(),
            field: ".".to_owned(),
            message: "jobs are generated for a data store that exists".to_owned(),
        });
    };
    let base = fnv1a(&[id.as_bytes(), &seed.to_le_bytes()]);
    let mut out = Vec::with_capacity(2 * count);
    for kind in [Kind::ExportJob, Kind::ImportJob] {
        for i in 0..count {
            let h =
                splitmix64(base ^ splitmix64((i as u64) << 1 | u64::from(kind == Kind::ImportJob)));
            let value = job_json(kind, id, account, region, i, count, h, now);
            let record =
                Record::from_value_as(kind, &value).map_err(|e| EmulatorError::Record {
                    arn: datastore.key().into_owned(),
                    field: e.path,
                    message: e.message,
                })?;
            out.push(record.with_context(datastore.context().clone()));
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn job_json(
    kind: Kind,
    datastore: &str,
    account: &str,
    region: &str,
    i: usize,
    count: usize,
    h: u64,
    now: i64,
) -> serde_json::Value {
    let roll = |salt: u64, n: u64| splitmix64(h ^ salt) % n;
    let job_id = format!("{:016x}{:016x}", h, splitmix64(h ^ 1));
    // Spread over 400 days, oldest first.
    let span = 400 * 86_400i64;
    let step = span / (count.max(1) as i64);
    let submit = now - span + step * i as i64 + (roll(2, 3600) as i64);
    let status = match roll(1, 20) {
        0 => "FAILED",
        1 => "IN_PROGRESS",
        2 => "COMPLETED_WITH_ERRORS",
        _ => "COMPLETED",
    };
    let other = "999999999999";
    let owner = if roll(3, 10) == 0 { other } else { account };
    let key = if roll(4, 5) == 0 {
        // An AWS managed key alias: not a customer managed key.
        "alias/aws/s3".to_owned()
    } else {
        format!(
            "arn:aws:kms:{region}:{owner}:key/{:08x}-0000-4000-8000-{:012x}",
            h >> 32,
            h & 0xffff_ffff_ffff
        )
    };
    let bucket = format!(
        "s3://hl-{}-{owner}-{region}/{datastore}/",
        if kind == Kind::ExportJob {
            "exports"
        } else {
            "import-errors"
        }
    );
    let role = format!("arn:aws:iam::{owner}:role/HealthLakeDataAccess");
    let mut job = json!({
        "JobId": job_id,
        "JobName": format!("{}-{i}", if kind == Kind::ExportJob { "export" } else { "import" }),
        "JobStatus": status,
        "SubmitTime": submit,
        "DatastoreId": datastore,
        "DataAccessRoleArn": role,
    });
    if status != "IN_PROGRESS" {
        job["EndTime"] = json!(submit + 600 + roll(5, 7200) as i64);
    }
    if status == "FAILED" {
        job["Message"] = json!("Access denied to the S3 location");
    }
    let s3 = json!({"S3Uri": bucket, "KmsKeyId": key});
    if kind == Kind::ExportJob {
        job["OutputDataConfig"] = json!({"S3Configuration": s3});
    } else {
        job["InputDataConfig"] =
            json!({"S3Uri": format!("s3://hl-sources-{account}-{region}/batch-{i}/")});
        job["JobOutputDataConfig"] = json!({"S3Configuration": s3});
        job["ValidationLevel"] = json!("strict");
    }
    job
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn deterministic_unique_and_varied() {
        let a = datastores("111122223333", "us-east-1", 500, 1).unwrap();
        let b = datastores("111122223333", "us-east-1", 500, 1).unwrap();
        assert_eq!(a, b);
        let ids: BTreeSet<&str> = a.iter().filter_map(Record::id).collect();
        assert_eq!(ids.len(), 500);
        let statuses: BTreeSet<&str> = a.iter().filter_map(Record::status).collect();
        assert!(statuses.len() >= 4, "{statuses:?}");
        assert!(a.iter().all(Record::status_is_known));
        let active = a.iter().filter(|r| r.status() == Some("ACTIVE")).count();
        assert!((380..=470).contains(&active), "{active}");
        let other_region = datastores("111122223333", "eu-west-1", 500, 1).unwrap();
        assert!(other_region
            .iter()
            .all(|r| !r.id().is_some_and(|id| ids.contains(id))));
        assert!(a
            .iter()
            .any(|r| r.tags.as_ref().is_some_and(BTreeMap::is_empty)));
    }

    #[test]
    fn jobs_belong_to_their_data_store_and_vary() {
        let store = &datastores("111122223333", "us-east-1", 1, 1).unwrap()[0];
        let jobs = jobs(store, 50, 1, 1_700_000_000).unwrap();
        assert_eq!(jobs.len(), 100);
        assert!(jobs.iter().all(|j| j.region() == Some("us-east-1")));
        let ids: BTreeSet<String> = jobs.iter().map(|j| j.key().into_owned()).collect();
        assert_eq!(ids.len(), 100);
        let statuses: BTreeSet<&str> = jobs.iter().filter_map(Record::status).collect();
        assert!(statuses.len() >= 3, "{statuses:?}");
        assert!(jobs.iter().all(Record::status_is_known));
        assert_eq!(jobs, super::jobs(store, 50, 1, 1_700_000_000).unwrap());
    }
}

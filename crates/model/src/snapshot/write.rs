//! Writing hlaudit snapshots.

use std::io::{BufWriter, Write};

use serde::Serialize;

use super::error::{ErrorKind, SnapshotError};
use super::{SNAPSHOT_VERSION, SNAPSHOT_VERSION_DATASTORES};
use crate::identity::Context;
use crate::inventory::Inventory;
use crate::kind::Kind;
use crate::record::Record;

/// Writes an inventory as an hlaudit snapshot (format version [`SNAPSHOT_VERSION`]): the
/// envelope, then one record per line, each record's `DatastoreProperties` JSON written
/// exactly as it was read.
///
/// `toolVersion` is the inventory's when known (it was collected by that hlaudit), else
/// this hlaudit's; `collectedAt` is written when known.
///
/// ```
/// use hlaudit_model::snapshot::{read_reader, write_snapshot};
/// let text = r#"[{"DatastoreId":"a","DatastoreArn":"arn:aws:healthlake:us-east-1:1:datastore/fhir/a"}]"#;
/// let inv = read_reader("in.json", text.as_bytes()).unwrap();
/// let mut out = Vec::new();
/// write_snapshot(&inv, &mut out).unwrap();
/// let back = read_reader("out.json", out.as_slice()).unwrap();
/// assert_eq!(back.records, inv.records);
/// ```
pub fn write_snapshot(inv: &Inventory, w: &mut impl Write) -> Result<(), SnapshotError> {
    let mut out = BufWriter::new(w);
    write_all(inv, &mut out)
        .and_then(|()| out.flush())
        .map_err(|e| SnapshotError::new("<output>", 0, 0, ErrorKind::Write(e.to_string())))
}

fn json<T: Serialize + ?Sized>(w: &mut impl Write, v: &T) -> std::io::Result<()> {
    serde_json::to_writer(&mut *w, v).map_err(std::io::Error::other)
}

fn write_all(inv: &Inventory, w: &mut impl Write) -> std::io::Result<()> {
    let cov = &inv.coverage;
    // Version 1 readers would refuse or misread a planned data store or a job; a snapshot
    // of data stores that exist keeps the version every hlaudit reads.
    let plain = |r: &Record| r.kind() == Kind::Datastore && r.arn().is_some();
    let version = if inv.records.iter().all(plain) {
        SNAPSHOT_VERSION_DATASTORES
    } else {
        SNAPSHOT_VERSION
    };
    write!(
        w,
        "{{\n  \"hlauditSnapshot\": {version},\n  \"toolVersion\": "
    )?;
    json(
        w,
        cov.tool_version.as_deref().unwrap_or(crate::TOOL_VERSION),
    )?;
    if let Some(t) = &cov.collected_at {
        w.write_all(b",\n  \"collectedAt\": ")?;
        json(w, t)?;
    }
    w.write_all(b",\n  \"accounts\": ")?;
    json(w, &cov.accounts)?;
    w.write_all(b",\n  \"regions\": ")?;
    json(w, &cov.regions)?;
    if !cov.scopes.is_empty() {
        w.write_all(b",\n  \"scopes\": ")?;
        json(w, &cov.scopes)?;
    }
    w.write_all(b",\n  \"errors\": [")?;
    for (i, e) in inv.errors.iter().enumerate() {
        w.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
        json(w, e)?;
    }
    if !inv.errors.is_empty() {
        w.write_all(b"\n  ")?;
    }
    w.write_all(b"],\n  \"records\": [")?;
    for (i, r) in inv.records.iter().enumerate() {
        w.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
        w.write_all(b"{")?;
        if !plain(r) {
            w.write_all(b"\"kind\": ")?;
            json(w, &r.kind())?;
            w.write_all(b", \"identity\": ")?;
            json(w, r.identity())?;
            if *r.context() != Context::default() {
                w.write_all(b", \"context\": ")?;
                json(w, r.context())?;
            }
            w.write_all(b", ")?;
        }
        w.write_all(b"\"properties\": ")?;
        w.write_all(r.raw_json().as_bytes())?;
        // A job's tags are its data store's (the API gives jobs none): reading links them
        // again, so writing them would only copy the data store's.
        if let Some(tags) = r.tags.as_ref().filter(|_| !r.kind().belongs_to_datastore()) {
            w.write_all(b", \"tags\": ")?;
            json(w, tags)?;
        }
        if !r.enrichments.is_empty() {
            w.write_all(b", \"enrichments\": ")?;
            json(w, &r.enrichments)?;
        }
        w.write_all(b"}")?;
    }
    if !inv.records.is_empty() {
        w.write_all(b"\n  ")?;
    }
    w.write_all(b"]\n}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{Identity, Planned};

    /// An existing data store, a planned one with a context, an export job and a
    /// transformation profile: written as version 2 and read back with the same kinds,
    /// identities and contexts.
    #[test]
    fn planned_data_stores_and_jobs_round_trip_as_version_2() {
        let existing = Record::from_value(&serde_json::json!({
            "DatastoreId": "a",
            "DatastoreArn": "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/a"
        }))
        .unwrap();
        let planned = Record::planned(
            serde_json::value::RawValue::from_string(
                r#"{"DatastoreName":"claims","DatastoreTypeVersion":"R4"}"#.to_owned(),
            )
            .unwrap(),
            Planned {
                file: "infra/stack.yaml".into(),
                address: "Claims".into(),
            },
        )
        .unwrap()
        .with_context(Context {
            account: Some("111122223333".into()),
            region: Some("eu-west-2".into()),
            partition: None,
        });
        let job = Record::from_value_as(
            Kind::ExportJob,
            &serde_json::json!({"JobId": "j1", "DatastoreId": "a", "JobStatus": "COMPLETED",
                                "SubmitTime": 1700000000}),
        )
        .unwrap();
        let profile = Record::from_value_as(
            Kind::TransformationProfile,
            &serde_json::json!({"ProfileId": "p1", "Version": 1, "SourceFormat": "CSV",
                                "TargetFormat": "FHIR_R4", "LastUpdatedAt": 1700000000}),
        )
        .unwrap()
        .with_context(Context {
            account: Some("111122223333".into()),
            region: Some("us-east-1".into()),
            partition: Some("aws".into()),
        });
        let mut inv = Inventory {
            records: vec![existing, planned, job, profile],
            ..Inventory::default()
        };
        // Reading links the job to its data store; so does the inventory written. The job's
        // tags are its data store's, written once, with the data store.
        inv.records[0].tags = Some([("Owner".to_owned(), "x".to_owned())].into());
        assert!(crate::link::link_to_datastores(&mut inv.records).is_empty());
        let mut out = Vec::new();
        write_snapshot(&inv, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("\"hlauditSnapshot\": 2"), "{text}");
        let back = crate::snapshot::read_reader("s.json", text.as_bytes()).unwrap();
        let seen: Vec<(Kind, &Identity, &Context)> = back
            .records
            .iter()
            .map(|r| (r.kind(), r.identity(), r.context()))
            .collect();
        let want: Vec<(Kind, &Identity, &Context)> = inv
            .records
            .iter()
            .map(|r| (r.kind(), r.identity(), r.context()))
            .collect();
        assert_eq!(seen, want);
        assert_eq!(back.records[2].key(), "a/export-job/j1");
        assert_eq!(text.matches("\"tags\"").count(), 1, "{text}");
        assert_eq!(back.records[2].tags, inv.records[0].tags);
        assert_eq!(back.records[1].region(), Some("eu-west-2"));
        assert_eq!(
            back.records[3].key(),
            "111122223333/us-east-1/transformation-profile/p1"
        );

        // Only existing data stores: still version 1, which every hlaudit reads.
        inv.records.truncate(1);
        let mut out = Vec::new();
        write_snapshot(&inv, &mut out).unwrap();
        assert!(String::from_utf8(out)
            .unwrap()
            .contains("\"hlauditSnapshot\": 1"));
    }

    #[test]
    fn a_record_whose_identity_disagrees_with_its_properties_is_refused() {
        let text = r#"{"hlauditSnapshot": 2, "records": [
  {"kind": "export-job", "identity": {"job": {"datastoreId": "b", "jobId": "j1"}},
   "properties": {"JobId": "j1", "DatastoreId": "a"}},
  {"kind": "export-job", "identity": {"planned": {"file": "x", "address": "y"}},
   "properties": {"JobId": "j2", "DatastoreId": "a"}},
  {"kind": "backup-job", "properties": {}},
  {"kind": "transformation-profile",
   "identity": {"profile": {"account": "111122223333", "profileId": "p9"}},
   "context": {"account": "444455556666"}, "properties": {"ProfileId": "p9"}}
]}"#;
        let e = crate::snapshot::read_reader("s.json", text.as_bytes()).unwrap_err();
        let all = e.to_string();
        assert!(all.contains("records[].identity"), "{all}");
        assert!(all.contains("job j1 of data store b"), "{all}");
        assert!(all.contains("a planned record is a data store"), "{all}");
        assert!(all.contains("unknown variant `backup-job`"), "{all}");
        assert!(
            all.contains("says profile p9 in account 111122223333, but the properties are profile p9 in account 444455556666"),
            "{all}"
        );
    }

    #[test]
    fn writes_one_record_per_line_with_its_json_untouched() {
        let raw = serde_json::value::RawValue::from_string(
            "{ \"DatastoreId\":\"a\",\n \"DatastoreArn\":\"arn:aws:healthlake:us-east-1:1:datastore/fhir/a\", \"X\": 1.50 }"
                .to_owned(),
        )
        .unwrap();
        let mut r = Record::from_raw(raw).unwrap();
        r.tags = Some([("k".to_owned(), "v".to_owned())].into());
        let mut inv = Inventory::default();
        inv.records.push(r);
        inv.coverage.tool_version = Some("9.9.9".to_owned());
        inv.refresh_coverage();
        let mut out = Vec::new();
        write_snapshot(&inv, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "{\n  \"hlauditSnapshot\": 1,\n  \"toolVersion\": \"9.9.9\",\n  \"accounts\": [\"1\"],\n  \"regions\": [\"us-east-1\"],\n  \"errors\": [],\n  \"records\": [\n    {\"properties\": { \"DatastoreId\":\"a\",\n \"DatastoreArn\":\"arn:aws:healthlake:us-east-1:1:datastore/fhir/a\", \"X\": 1.50 }, \"tags\": {\"k\":\"v\"}}\n  ]\n}\n"
        );
    }

    #[test]
    fn a_failing_writer_is_an_error() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let e = write_snapshot(&Inventory::default(), &mut Full).unwrap_err();
        assert!(e.to_string().contains("disk full"), "{e}");
    }
}

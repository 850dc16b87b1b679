//! Loading the records to serve from snapshot files, through hlaudit's own reader
//! ([`hlaudit_model::snapshot::read_files`]): every shape it accepts (AWS CLI list and
//! describe output, JSON arrays, JSON Lines, hlaudit snapshots with their tags) can be
//! served.

use std::path::Path;

use hlaudit_model::Record;

use crate::error::EmulatorError;

/// Reads every record of the snapshot files, in order; a repeated ARN is kept once.
pub fn load_snapshots<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<Record>, EmulatorError> {
    let mut names = Vec::with_capacity(paths.len());
    for path in paths {
        let path = path.as_ref();
        let name = path.to_str().ok_or_else(|| EmulatorError::Io {
            path: path.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the file name is not valid UTF-8",
            ),
        })?;
        names.push(name.to_owned());
    }
    let inventory = hlaudit_model::snapshot::read_files(&names)?;
    Ok(inventory.records)
}

/// Reads every record of one snapshot file.
pub fn load_snapshot(path: &Path) -> Result<Vec<Record>, EmulatorError> {
    load_snapshots(&[path])
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"{"DatastoreId":"a","DatastoreArn":"arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/a","CreatedAt":1603761064.881}"#;
    const TWO: &str = r#"{"DatastoreId":"b","DatastoreArn":"arn:aws:healthlake:eu-west-1:111122223333:datastore/fhir/b"}"#;

    #[test]
    fn reads_aws_cli_output_and_hlaudit_snapshots_with_their_tags() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("list.json");
        std::fs::write(&list, format!(r#"{{"DatastorePropertiesList":[{ONE}]}}"#)).unwrap();
        let ours = dir.path().join("ours.json");
        std::fs::write(
            &ours,
            format!(
                r#"{{"hlauditSnapshot":1,"records":[{{"properties":{TWO},"tags":{{"Env":"prod"}}}}]}}"#
            ),
        )
        .unwrap();
        let records = load_snapshots(&[&list, &ours]).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].region(), Some("us-east-1"));
        assert_eq!(records[1].tags.as_ref().unwrap()["Env"], "prod");
    }

    #[test]
    fn serves_the_jobs_and_profiles_of_a_collected_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("collected.json");
        let store = Record::from_value(&serde_json::from_str(ONE).unwrap()).unwrap();
        let job = Record::from_value_as(
            hlaudit_model::Kind::ImportJob,
            &serde_json::json!({"JobId": "j1", "DatastoreId": "a", "JobStatus": "FAILED"}),
        )
        .unwrap()
        .with_context(store.context().clone());
        let profile = Record::from_value_as(
            hlaudit_model::Kind::TransformationProfile,
            &serde_json::json!({"ProfileId": "p1", "Version": 1, "SourceFormat": "CSV"}),
        )
        .unwrap()
        .with_context(store.context().clone());
        let inventory = hlaudit_model::Inventory {
            records: vec![store, job, profile],
            ..hlaudit_model::Inventory::default()
        };
        let mut file = std::fs::File::create(&path).unwrap();
        hlaudit_model::snapshot::write_snapshot(&inventory, &mut file).unwrap();
        drop(file);
        let records = load_snapshot(&path).unwrap();
        assert_eq!(records.len(), 3);
        let served = crate::state::Store::new(records).unwrap();
        let jobs = served.jobs.of("111122223333", "us-east-1", "a").unwrap();
        assert_eq!(jobs.import.len(), 1);
        assert_eq!(served.jobs.profiles("111122223333", "us-east-1").len(), 1);
    }

    #[test]
    fn bad_input_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, r#"[{"DatastoreId": "x"}]"#).unwrap();
        let e = load_snapshot(&bad).unwrap_err().to_string();
        assert!(e.contains("bad.json") && e.contains("DatastoreArn"), "{e}");
        let e = load_snapshot(&dir.path().join("missing.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.json"), "{e}");
    }
}

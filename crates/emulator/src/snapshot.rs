//! Loading the records to serve from snapshot files.
//!
//! Accepted shapes: the output of `aws healthlake list-fhir-datastores`
//! (`{"DatastorePropertiesList": [...]}`), of `describe-fhir-datastore`
//! (`{"DatastoreProperties": {...}}`), a JSON array of `DatastoreProperties`, and JSON
//! Lines (one per line), and hlaudit's own snapshot (`{"hlauditSnapshot": 1, "records":
//! [{"properties": {...}, "tags": {...}}]}`), whose tags are served too.

use std::collections::BTreeMap;
use std::path::Path;

use hlaudit_model::Record;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::EmulatorError;

/// Reads every record of a snapshot file.
pub fn load_snapshot(path: &Path) -> Result<Vec<Record>, EmulatorError> {
    let text = std::fs::read_to_string(path).map_err(|source| EmulatorError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_snapshot(path, &text)
}

/// Reads the records of a snapshot given as text; `path` names it in errors.
pub fn parse_snapshot(path: &Path, text: &str) -> Result<Vec<Record>, EmulatorError> {
    let err = |line: usize, column: usize, message: String| EmulatorError::Snapshot {
        path: path.to_owned(),
        line,
        column,
        message,
    };
    let trimmed = text.trim_start();
    let mut tags: Vec<Option<BTreeMap<String, String>>> = Vec::new();
    let raws: Vec<(usize, Box<RawValue>)> = if trimmed.starts_with('[') {
        let items: Vec<Box<RawValue>> =
            serde_json::from_str(text).map_err(|e| err(e.line(), e.column(), e.to_string()))?;
        items.into_iter().map(|r| (0, r)).collect()
    } else if trimmed.starts_with('{') && is_single_document(text) {
        #[derive(Deserialize)]
        struct Envelope {
            #[serde(rename = "DatastorePropertiesList")]
            list: Option<Vec<Box<RawValue>>>,
            #[serde(rename = "DatastoreProperties")]
            one: Option<Box<RawValue>>,
            #[serde(rename = "DatastoreId")]
            id: Option<serde::de::IgnoredAny>,
            #[serde(rename = "hlauditSnapshot")]
            version: Option<u32>,
            records: Option<Vec<HlauditRecord>>,
        }
        #[derive(Deserialize)]
        struct HlauditRecord {
            properties: Box<RawValue>,
            #[serde(default)]
            tags: Option<BTreeMap<String, String>>,
        }
        let env: Envelope =
            serde_json::from_str(text).map_err(|e| err(e.line(), e.column(), e.to_string()))?;
        if let (Some(_), Some(records)) = (env.version, env.records) {
            let mut raws = Vec::with_capacity(records.len());
            for r in records {
                raws.push((0, r.properties));
                tags.push(r.tags);
            }
            raws
        } else {
            match (env.list, env.one, env.id) {
                (Some(list), _, _) => list.into_iter().map(|r| (0, r)).collect(),
                (None, Some(one), _) => vec![(0, one)],
                (None, None, Some(_)) => {
                    let raw = RawValue::from_string(text.trim().to_owned())
                        .map_err(|e| err(e.line(), e.column(), e.to_string()))?;
                    vec![(1, raw)]
                }
                (None, None, None) => return Err(err(
                    1,
                    1,
                    "unknown shape: expected `DatastorePropertiesList`, `DatastoreProperties`, \
                     a JSON array or JSON Lines of DatastoreProperties"
                        .to_owned(),
                )),
            }
        }
    } else {
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let raw = RawValue::from_string(line.trim().to_owned())
                .map_err(|e| err(i + 1, e.column(), e.to_string()))?;
            out.push((i + 1, raw));
        }
        out
    };
    if raws.is_empty() && text.trim().is_empty() {
        return Err(err(1, 1, "the file is empty".to_owned()));
    }
    raws.into_iter()
        .enumerate()
        .map(|(index, (line, raw))| {
            Record::from_raw(raw)
                .map_err(|e| {
                    let at = if line > 0 {
                        format!("line {line}")
                    } else {
                        format!("record {}", index + 1)
                    };
                    err(
                        if line > 0 { line } else { 0 },
                        0,
                        format!("{at}: {}: {}", e.path, e.message),
                    )
                })
                .map(|r| match tags.get_mut(index).and_then(Option::take) {
                    Some(t) => r.with_tags(t),
                    None => r,
                })
        })
        .collect()
}

/// Whether the text is one JSON document (not JSON Lines starting with an object).
fn is_single_document(text: &str) -> bool {
    let mut de = serde_json::Deserializer::from_str(text).into_iter::<serde::de::IgnoredAny>();
    matches!(de.next(), Some(Ok(_))) && de.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"{"DatastoreId":"a","DatastoreArn":"arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/a","CreatedAt":1603761064.881}"#;
    const TWO: &str = r#"{"DatastoreId":"b","DatastoreArn":"arn:aws:healthlake:eu-west-1:111122223333:datastore/fhir/b"}"#;

    fn parse(text: &str) -> Result<Vec<Record>, EmulatorError> {
        parse_snapshot(Path::new("s.json"), text)
    }

    #[test]
    fn reads_every_shape() {
        assert_eq!(
            parse(&format!(
                r#"{{"DatastorePropertiesList":[{ONE},{TWO}],"NextToken":"x"}}"#
            ))
            .unwrap()
            .len(),
            2
        );
        assert_eq!(
            parse(&format!(r#"{{"DatastoreProperties":{ONE}}}"#))
                .unwrap()
                .len(),
            1
        );
        assert_eq!(parse(&format!("[{ONE},\n{TWO}]")).unwrap().len(), 2);
        assert_eq!(parse(&format!("{ONE}\n\n{TWO}\n")).unwrap().len(), 2);
        assert_eq!(parse(ONE).unwrap().len(), 1);
        let h = parse(&format!(
            r#"{{"hlauditSnapshot":1,"records":[{{"properties":{ONE},"tags":{{"Env":"prod"}}}},{{"properties":{TWO}}}]}}"#
        ))
        .unwrap();
        assert_eq!(h[0].tags.as_ref().unwrap()["Env"], "prod");
        assert_eq!(h[1].tags, None);
    }

    #[test]
    fn errors_name_file_and_place() {
        let e = parse("[{\"DatastoreId\": 1}]").unwrap_err().to_string();
        assert!(e.starts_with("s.json:"), "{e}");
        assert!(e.contains("DatastoreId"), "{e}");
        let e = parse(&format!("{ONE}\n{{broken\n"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("s.json:2:"), "{e}");
        assert!(parse("   ").is_err());
        assert!(parse(r#"{"Something": 1}"#).is_err());
    }
}

//! Writing hlaudit snapshots.

use std::io::{BufWriter, Write};

use serde::Serialize;

use super::error::{ErrorKind, SnapshotError};
use super::SNAPSHOT_VERSION;
use crate::inventory::Inventory;

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
    write!(
        w,
        "{{\n  \"hlauditSnapshot\": {SNAPSHOT_VERSION},\n  \"toolVersion\": "
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
        w.write_all(b"{\"properties\": ")?;
        w.write_all(r.raw_json().as_bytes())?;
        if let Some(tags) = &r.tags {
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
    use crate::record::Record;

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

//! Snapshot reading and writing: every input shape from `fixtures/snapshots/`, every bad
//! input from `fixtures/snapshots/bad/` (rendered errors pinned with insta), and the
//! write-then-read round trip (proptest).

// A test fails by panicking; helpers outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hlaudit_model::snapshot::{self, ErrorKind, Shape};
use hlaudit_model::{CollectionError, Inventory, Kind, Record, Timestamp};
use proptest::prelude::*;

/// The workspace's `fixtures/snapshots`, as a path relative to this crate (tests run in
/// the crate directory); renderings strip the `../../` so they read like a user's paths.
fn fixtures() -> PathBuf {
    Path::new("../../fixtures/snapshots").to_path_buf()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    files.sort();
    files
}

/// Reads a file as a stream (the path for standard input and files over the size limit).
fn read_streamed(path: &str) -> Result<Inventory, snapshot::SnapshotErrors> {
    snapshot::read_reader(path, std::fs::File::open(path).unwrap())
}

fn sources(inv: &Inventory) -> Vec<String> {
    inv.records
        .iter()
        .map(|r| format!("{} {}", r.source.as_ref().unwrap(), r.id().unwrap()))
        .collect()
}

#[test]
fn every_good_fixture_is_read_with_its_shape() {
    let dir = fixtures();
    let expected: BTreeMap<&str, (Shape, usize)> = [
        ("aws-cli-doc-example.json", (Shape::List, 1)),
        ("describe-fhir-datastore.json", (Shape::Describe, 1)),
        ("list-cli-v2-iso8601.json", (Shape::List, 2)),
        ("bare-array.json", (Shape::Array, 2)),
        ("datastores.jsonl", (Shape::Lines, 3)),
        ("hlaudit-snapshot.json", (Shape::Hlaudit, 3)),
        // An empty export: read without error, and holding nothing.
        ("empty-list.json", (Shape::List, 0)),
        // A name, status and key type holding bidirectional and zero-width characters.
        ("invisible-name.json", (Shape::List, 1)),
        // Jobs and transformation profiles, as the AWS CLI prints them.
        (
            "list-fhir-export-jobs.json",
            (Shape::ResourceList(Kind::ExportJob), 2),
        ),
        (
            "describe-fhir-import-job.json",
            (Shape::ResourceDescribe(Kind::ImportJob), 1),
        ),
        (
            "list-data-transformation-profiles.json",
            (Shape::ResourceList(Kind::TransformationProfile), 2),
        ),
        (
            "get-data-transformation-profile.json",
            (Shape::ResourceDescribe(Kind::TransformationProfile), 1),
        ),
    ]
    .into_iter()
    .collect();
    let files = files_in(&dir);
    assert_eq!(
        files.len(),
        expected.len(),
        "a fixture without an expectation: {files:?}"
    );
    for file in files {
        let base = Path::new(&file).file_name().unwrap().to_str().unwrap();
        let (shape, n) = expected[base];
        let summary =
            snapshot::for_each_record(&file, std::fs::File::open(&file).unwrap(), |_| {}).unwrap();
        assert_eq!((summary.shape, summary.records), (Some(shape), n), "{file}");
        let whole = snapshot::read_files(&[&file]).unwrap();
        let streamed = read_streamed(&file).unwrap();
        assert_eq!(whole.records, streamed.records, "{file}");
        assert_eq!(sources(&whole), sources(&streamed), "{file}");
        assert_eq!(whole.coverage.inputs, vec![file.clone()]);
        for r in &whole.records {
            assert!(r.source.as_ref().unwrap().line > 0);
            assert!(r.raw_json().starts_with('{') && r.raw_json().ends_with('}'));
        }
    }
}

#[test]
fn the_aws_documentation_example_reads_as_printed() {
    let path = fixtures().join("aws-cli-doc-example.json");
    let inv = snapshot::read_files(&[path.to_str().unwrap()]).unwrap();
    let r = &inv.records[0];
    assert_eq!(r.id(), Some("<Data store ID>"));
    assert_eq!(r.region(), Some("us-east-1"));
    assert_eq!(r.name(), Some("Demo"));
    assert_eq!(r.status(), Some("ACTIVE"));
    assert_eq!(
        r.created_at().unwrap().to_rfc3339(),
        "2020-10-27T01:11:04.881Z"
    );
    assert_eq!(r.source.as_ref().unwrap().line, 3);
    assert_eq!(r.source.as_ref().unwrap().column, 9);
    assert!(r.raw_json().contains("\"PreloadDataType\": \"SYNTHEA\""));
    assert!(inv.warnings.is_empty() && inv.errors.is_empty());
    assert_eq!(inv.coverage.regions, vec!["us-east-1"]);
}

#[test]
fn jobs_read_from_cli_outputs_take_their_data_store_given_beside_them() {
    let dir = fixtures();
    let files = [
        dir.join("list-fhir-export-jobs.json"),
        dir.join("describe-fhir-import-job.json"),
        dir.join("list-data-transformation-profiles.json"),
    ];
    let files: Vec<&str> = files.iter().map(|p| p.to_str().unwrap()).collect();
    let inv = snapshot::read_files(&files).unwrap();
    assert_eq!(inv.records.len(), 5);
    // No data store is given: every job warns, and none has an account.
    let codes: Vec<&str> = inv.warnings.iter().map(|w| w.code.as_str()).collect();
    assert_eq!(codes, ["job-without-datastore"; 3]);
    assert!(inv.records.iter().all(|r| r.account().is_none()));
    let profile = &inv.records[3];
    assert_eq!(profile.kind(), Kind::TransformationProfile);
    assert_eq!(
        profile.key(),
        "?/?/transformation-profile/5e1c0a2b-8d3f-4c6e-9a7b-1f2e3d4c5b6a"
    );

    // With the data store's listing, the jobs live in its account and carry its tags.
    let store = serde_json::json!({"hlauditSnapshot": 1, "records": [{
        "properties": {"DatastoreId": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
            "DatastoreArn": "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/a1b2c3d4e5f60718293a4b5c6d7e8f90"},
        "tags": {"owner": "data-team"}}]});
    let tmp = std::env::temp_dir().join(format!("hlaudit-store-{}.json", std::process::id()));
    std::fs::write(&tmp, store.to_string()).unwrap();
    let mut with_store = files.clone();
    with_store.push(tmp.to_str().unwrap());
    let inv = snapshot::read_files(&with_store).unwrap();
    std::fs::remove_file(&tmp).unwrap();
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
    for job in inv
        .records
        .iter()
        .filter(|r| r.kind().belongs_to_datastore())
    {
        assert_eq!(job.account(), Some("111122223333"));
        assert_eq!(job.tags.as_ref().unwrap()["owner"], "data-team");
    }
}

#[test]
fn a_job_listing_is_complete_on_the_callers_word_only_with_its_last_page() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("jobs-1.json");
    let last = dir.path().join("jobs-2.json");
    std::fs::write(
        &first,
        r#"{"ExportJobPropertiesList": [{"JobId": "j1", "DatastoreId": "d"}], "NextToken": "t"}"#,
    )
    .unwrap();
    std::fs::write(
        &last,
        r#"{"ExportJobPropertiesList": [{"JobId": "j2", "DatastoreId": "d"}]}"#,
    )
    .unwrap();
    let options = snapshot::ReadOptions {
        pages_complete: true,
        ..snapshot::ReadOptions::default()
    };
    let read = |files: &[&std::path::Path]| {
        let names: Vec<&str> = files.iter().map(|f| f.to_str().unwrap()).collect();
        snapshot::read_files_with(&names, options).unwrap()
    };
    // The first page alone: its listing's last page is missing.
    let inv = read(&[&first]);
    assert_eq!(inv.errors.len(), 1, "{:?}", inv.errors);
    let e = &inv.errors[0];
    assert_eq!(
        (e.operation.as_str(), e.code.as_str(), e.resource.as_deref()),
        ("ListFHIRExportJobs", "incomplete-listing", Some("d"))
    );
    assert!(e.message.contains("its last page"), "{}", e.message);
    // Both pages: complete on the caller's word, and said to be.
    let inv = read(&[&first, &last]);
    assert!(inv.errors.is_empty(), "{:?}", inv.errors);
    assert_eq!(inv.records.len(), 2);
    assert!(inv
        .warnings
        .iter()
        .any(|w| w.code == "vouched-listing" && w.message.contains("export jobs of data store d")));
}

#[test]
fn timestamps_in_every_form() {
    let dir = fixtures();
    let read = |f: &str| snapshot::read_files(&[dir.join(f).to_str().unwrap()]).unwrap();
    let created = |inv: &Inventory, i: usize| inv.records[i].created_at().unwrap().to_rfc3339();
    // AWS CLI v2: ISO 8601 with offsets, including a negative one.
    let v2 = read("list-cli-v2-iso8601.json");
    assert_eq!(created(&v2, 0), "2024-03-12T14:05:33.512Z");
    assert_eq!(created(&v2, 1), "2024-05-02T16:41:07.004Z");
    // Epoch seconds, integer and fractional.
    let arr = read("bare-array.json");
    assert_eq!(created(&arr, 0), "2024-03-01T00:00:00.000Z");
    assert_eq!(created(&arr, 1), "2020-01-01T00:00:00.500Z");
    // JSON Lines mixing both, and `Z`.
    let lines = read("datastores.jsonl");
    assert_eq!(created(&lines, 1), "2025-01-15T08:00:00.000Z");
    assert_eq!(created(&lines, 2), "2022-04-15T05:20:00.000Z");
    // The record JSON is kept as written.
    assert!(v2.records[1]
        .raw_json()
        .contains("\"2024-05-02T09:41:07.004000-07:00\""));
}

#[test]
fn hlaudit_snapshots_carry_coverage_tags_enrichments_and_errors() {
    let path = fixtures().join("hlaudit-snapshot.json");
    let inv = snapshot::read_files(&[path.to_str().unwrap()]).unwrap();
    assert_eq!(inv.coverage.tool_version.as_deref(), Some("0.1.0"));
    assert_eq!(
        inv.coverage.collected_at.unwrap().to_rfc3339(),
        "2026-11-28T09:30:00.000Z"
    );
    assert_eq!(inv.coverage.accounts, vec!["111122223333", "444455556666"]);
    assert_eq!(
        inv.coverage.regions,
        vec!["eu-west-2", "us-east-1", "us-west-2"]
    );
    assert_eq!(inv.errors.len(), 1);
    assert_eq!(inv.errors[0].code, "AccessDeniedException");
    assert_eq!(inv.records[0].tags.as_ref().unwrap()["environment"], "prod");
    assert_eq!(inv.records[0].enrichments["KmsKey"]["KeyState"], "Enabled");
    assert_eq!(inv.records[1].tags, Some(BTreeMap::new()));
    assert_eq!(inv.records[2].tags, None);
    assert!(!inv.is_complete());
}

#[test]
fn bad_inputs_render_like_compiler_errors() {
    let dir = fixtures().join("bad");
    for file in files_in(&dir) {
        let name = Path::new(&file)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let whole = snapshot::read_files(&[&file]).expect_err(&file);
        let streamed = read_streamed(&file).expect_err(&file);
        assert_eq!(
            whole.render(),
            streamed.render(),
            "{file}: whole file and stream differ"
        );
        for e in whole.errors() {
            assert_eq!(&*e.file, file.as_str());
        }
        insta::with_settings!({ filters => vec![(r"\.\./\.\./", "")], prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(name, whole.render());
        });
    }
}

#[test]
fn all_errors_of_all_inputs_come_back_at_once() {
    let dir = fixtures().join("bad");
    let files = files_in(&dir);
    let all = snapshot::read_files(&files).unwrap_err();
    let one_by_one: usize = files
        .iter()
        .map(|f| snapshot::read_files(&[f]).unwrap_err().len())
        .sum();
    assert_eq!(all.len(), one_by_one);
    assert!(all
        .render()
        .ends_with(&format!("in {} inputs\n", files.len())));
}

const ARN: &str = "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/";

#[test]
fn every_bad_record_of_a_file_is_reported() {
    let text = format!(
        "[\n{{\"DatastoreId\": \"a\"}},\n{{\"DatastoreId\": \"b\", \"DatastoreArn\": \"{ARN}b\"}},\n{{\"DatastoreArn\": \"{ARN}c\"}},\n{{\"DatastoreId\": 7, \"DatastoreArn\": \"{ARN}d\"}}\n]"
    );
    let errs = snapshot::read_reader("many.json", text.as_bytes()).unwrap_err();
    let got: Vec<(usize, usize, String)> = errs
        .errors()
        .iter()
        .map(|e| (e.line, e.column, e.kind.to_string()))
        .collect();
    assert_eq!(
        got,
        vec![
            (2, 1, "record has no `DatastoreArn`".to_owned()),
            (4, 1, "record has no `DatastoreId`".to_owned()),
            (
                5,
                17,
                "`DatastoreId`: invalid type: integer `7`, expected a string".to_owned()
            ),
        ]
    );
    // The good record was still handed on.
    let mut ids = Vec::new();
    let _ = snapshot::for_each_record("many.json", text.as_bytes(), |r| {
        ids.push(r.id().unwrap_or_default().to_owned())
    });
    assert_eq!(ids, vec!["b"]);
}

#[test]
fn a_bad_json_line_does_not_hide_the_next_ones() {
    let text = format!(
        "{{\"DatastoreId\": \"a\", \"DatastoreArn\": \"{ARN}a\"}}\n{{\"DatastoreId\": \"b\",\n\n{{\"DatastoreId\": \"c\"}}\n{{\"DatastoreId\": \"d\", \"DatastoreArn\": \"{ARN}d\"}},\n"
    );
    let errs = snapshot::read_reader("x.jsonl", text.as_bytes()).unwrap_err();
    let got: Vec<(usize, &ErrorKind)> = errs.errors().iter().map(|e| (e.line, &e.kind)).collect();
    assert_eq!(got.len(), 3, "{}", errs.render());
    assert_eq!(got[0].0, 2);
    assert!(matches!(got[0].1, ErrorKind::Syntax(_)));
    assert_eq!(got[1].0, 4);
    assert!(matches!(got[1].1, ErrorKind::MissingField { .. }));
    assert_eq!(got[2].0, 5);
    assert!(errs.errors()[2]
        .hint
        .as_deref()
        .unwrap()
        .contains("one JSON object per line"));
}

#[test]
fn duplicate_arns_are_kept_once_with_a_warning_naming_both_places() {
    let one = format!("[{{\"DatastoreId\": \"a\", \"DatastoreArn\": \"{ARN}a\"}}]");
    let dir = tempfile::tempdir().unwrap();
    let (p1, p2) = (dir.path().join("one.json"), dir.path().join("two.jsonl"));
    std::fs::write(&p1, &one).unwrap();
    std::fs::write(&p2, format!("\n  {}\n", &one[1..one.len() - 1])).unwrap();
    let (p1, p2) = (p1.to_str().unwrap(), p2.to_str().unwrap());
    let inv = snapshot::read_files(&[p1, p2]).unwrap();
    assert_eq!(inv.records.len(), 1);
    assert_eq!(inv.warnings.len(), 1);
    let w = &inv.warnings[0];
    assert_eq!(w.code, "duplicate-arn");
    assert!(w.message.contains(&format!("{p1}:1:2")), "{}", w.message);
    assert!(w.message.contains(&format!("{p2}:2:3")), "{}", w.message);
    assert_eq!(inv.coverage.inputs, vec![p1, p2]);
}

#[test]
fn an_unknown_status_is_a_warning_not_an_error() {
    let text = format!(
        "{{\"DatastoreId\": \"a\", \"DatastoreArn\": \"{ARN}a\", \"DatastoreStatus\": \"HIBERNATING\"}}"
    );
    let inv = snapshot::read_reader("s.jsonl", text.as_bytes()).unwrap();
    assert_eq!(inv.records.len(), 1);
    assert_eq!(inv.warnings[0].code, "unknown-status");
    assert!(inv.warnings[0].message.contains("HIBERNATING"));
}

#[test]
fn a_next_token_makes_the_listing_incomplete() {
    let text = format!(
        "{{\"DatastorePropertiesList\": [{{\"DatastoreId\": \"a\", \"DatastoreArn\": \"{ARN}a\"}}],\n \"NextToken\": \"eyJ...\"}}"
    );
    let inv = snapshot::read_reader("page.json", text.as_bytes()).unwrap();
    assert_eq!(inv.records.len(), 1);
    assert_eq!(inv.errors[0].code, "incomplete-listing");
    assert!(inv.errors[0].message.starts_with("page.json:2:2:"));
    let text = "{\"NextToken\": null, \"DatastorePropertiesList\": []}";
    let inv = snapshot::read_reader("last.json", text.as_bytes()).unwrap();
    assert!(inv.is_complete() && inv.records.is_empty());
}

/// A page of `aws healthlake list-fhir-datastores` output holding data stores `ids` of
/// `region`, with `token` as its `NextToken`.
fn list_page(region: &str, ids: std::ops::Range<usize>, token: Option<&str>) -> String {
    let records: Vec<String> = ids
        .map(|i| {
            format!(
                "{{\"DatastoreId\": \"{region}-{i}\", \"DatastoreArn\": \
                 \"arn:aws:healthlake:{region}:123456789012:datastore/fhir/{region}-{i}\"}}"
            )
        })
        .collect();
    let token = token.map_or(String::new(), |t| format!(",\n \"NextToken\": \"{t}\""));
    format!(
        "{{\"DatastorePropertiesList\": [{}]{token}}}",
        records.join(", ")
    )
}

/// Writes `pages` to files and reads them all, with or without `--pages-complete`.
fn read_pages(pages: &[(&str, String)], complete: bool) -> (Inventory, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = pages
        .iter()
        .map(|(name, text)| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path.to_str().unwrap().to_owned()
        })
        .collect();
    let options = snapshot::ReadOptions {
        pages_complete: complete,
        ..snapshot::ReadOptions::default()
    };
    let inv = snapshot::read_files_with(&names, options).unwrap();
    (inv, names)
}

fn error_codes(inv: &Inventory) -> Vec<&str> {
    inv.errors.iter().map(|e| e.code.as_str()).collect()
}

// Regression: `aws healthlake list-fhir-datastores` prints one page and a NextToken whatever
// its options, so advice to drop --max-items could not help; the advice names what works.
#[test]
fn an_incomplete_listing_names_both_fixes_that_work() {
    let (inv, _) = read_pages(
        &[("p1.json", list_page("us-east-1", 0..2, Some("t1")))],
        false,
    );
    assert_eq!(error_codes(&inv), vec!["incomplete-listing"]);
    let message = &inv.errors[0].message;
    assert!(message.contains("hlaudit collect"), "{message}");
    assert!(message.contains("--next-token"), "{message}");
    assert!(message.contains("--pages-complete"), "{message}");
    assert!(!message.contains("--max-items"), "{message}");
}

#[test]
fn every_page_is_still_incomplete_without_the_callers_word() {
    let pages = [
        ("p1.json", list_page("us-east-1", 0..2, Some("t1"))),
        ("p2.json", list_page("us-east-1", 2..4, None)),
    ];
    let (inv, _) = read_pages(&pages, false);
    assert_eq!(error_codes(&inv), vec!["incomplete-listing"]);
    assert_eq!(inv.records.len(), 4);
    assert!(inv.warnings.is_empty());
}

#[test]
fn every_page_with_the_callers_word_is_complete_and_says_so() {
    let pages = [
        ("p1.json", list_page("us-east-1", 0..2, Some("t1"))),
        ("p2.json", list_page("us-east-1", 2..4, Some("t2"))),
        ("p3.json", list_page("us-east-1", 4..5, None)),
        // Another region's listing of one page needs nobody's word.
        ("eu.json", list_page("eu-west-2", 0..1, None)),
    ];
    let (inv, names) = read_pages(&pages, true);
    assert!(inv.is_complete(), "{:?}", inv.errors);
    assert_eq!(inv.records.len(), 6);
    assert_eq!(inv.warnings.len(), 1, "{:?}", inv.warnings);
    let w = &inv.warnings[0];
    assert_eq!(w.code, "vouched-listing");
    assert!(w
        .message
        .contains("account 123456789012 in region us-east-1"));
    assert!(w.message.contains("3 pages"));
    assert_eq!(
        w.source.as_ref().unwrap().to_string(),
        format!("{}:2:2", names[0])
    );
}

#[test]
fn a_missing_last_page_stays_incomplete_with_the_callers_word() {
    let pages = [
        ("p1.json", list_page("us-east-1", 0..2, Some("t1"))),
        ("p2.json", list_page("us-east-1", 2..4, Some("t2"))),
        // The last page of another region ends nothing here.
        ("eu.json", list_page("eu-west-2", 0..1, None)),
    ];
    let (inv, names) = read_pages(&pages, true);
    assert_eq!(error_codes(&inv), vec!["incomplete-listing"]);
    let e = &inv.errors[0];
    assert_eq!(e.region.as_deref(), Some("us-east-1"));
    assert_eq!(e.account.as_deref(), Some("123456789012"));
    assert!(
        e.message.starts_with(&format!("{}:2:2:", names[0])),
        "{}",
        e.message
    );
    assert!(e.message.contains("its last page"), "{}", e.message);
    assert!(inv.warnings.is_empty());
}

#[test]
fn a_page_given_twice_is_a_pagination_loop_and_its_records_are_audited_once() {
    let page = list_page("us-east-1", 0..2, Some("t1"));
    let pages = [
        ("p1.json", page.clone()),
        ("p1-again.json", page),
        ("p2.json", list_page("us-east-1", 2..3, None)),
    ];
    let (inv, _) = read_pages(&pages, true);
    assert_eq!(error_codes(&inv), vec!["pagination-loop"]);
    assert!(inv.errors[0].message.contains("same NextToken"));
    assert_eq!(inv.records.len(), 3);
    let duplicates = inv.warnings.iter().filter(|w| w.code == "duplicate-arn");
    assert_eq!(duplicates.count(), 2);
}

#[test]
fn an_empty_last_page_ends_the_one_listing_that_lacks_one() {
    let pages = [
        ("p1.json", list_page("us-east-1", 0..2, Some("t1"))),
        ("p2.json", list_page("us-east-1", 0..0, None)),
    ];
    let (inv, _) = read_pages(&pages, true);
    assert!(inv.is_complete(), "{:?}", inv.errors);
    assert!(inv.warnings[0]
        .message
        .contains("empty pages without a NextToken"));
}

#[test]
fn the_callers_word_leaves_the_errors_of_hlaudit_snapshots_alone() {
    let snapshot = "{\"hlauditSnapshot\": 1, \"records\": [], \"errors\": [{\"operation\": \
                    \"ListFHIRDatastores\", \"code\": \"incomplete-listing\", \"message\": \"cut\"}]}";
    let (inv, _) = read_pages(&[("s.json", snapshot.to_owned())], true);
    assert_eq!(error_codes(&inv), vec!["incomplete-listing"]);
    assert_eq!(inv.errors[0].message, "cut");
}

#[test]
fn errors_on_a_long_minified_line_are_windowed() {
    let mut text = String::from("[");
    for i in 0..50 {
        text.push_str(&format!(
            "{{\"DatastoreId\": \"id{i}\", \"DatastoreArn\": \"{ARN}{i}\"}},"
        ));
    }
    text.push_str("{\"DatastoreId\": \"x\", \"DatastoreArn\": \"nope\"}]");
    let errs = snapshot::read_reader("min.json", text.as_bytes()).unwrap_err();
    let e = &errs.errors()[0];
    assert_eq!((e.line, e.column), (1, text.len() - 7));
    let s = e.snippet.as_ref().unwrap();
    assert!(s.text.starts_with('…') && s.text.chars().count() < 120);
    assert_eq!(s.text.chars().nth(s.caret - 1), Some('"'));
}

fn record_strategy() -> impl Strategy<Value = (String, Option<BTreeMap<String, String>>, bool)> {
    let status = prop::sample::select(vec![
        "CREATING",
        "ACTIVE",
        "DELETING",
        "DELETED",
        "CREATE_FAILED",
        "UPDATING",
        "UPDATE_FAILED",
    ]);
    let region = prop::sample::select(vec!["us-east-1", "eu-west-2", "ap-southeast-2"]);
    let account = prop::sample::select(vec!["111122223333", "444455556666"]);
    let created = prop_oneof![
        (1_500_000_000u64..1_800_000_000).prop_map(|s| serde_json::json!(s)),
        (1_500_000_000_000u64..1_800_000_000_000)
            .prop_map(|ms| serde_json::json!(ms as f64 / 1000.0)),
        (1_500_000_000i64..1_800_000_000).prop_map(|s| {
            serde_json::json!(chrono::DateTime::from_timestamp(s, 0).unwrap().to_rfc3339())
        }),
    ];
    let tags = prop::option::of(prop::collection::btree_map(
        "[a-z:-]{1,12}",
        "\\PC{0,20}",
        0..4,
    ));
    (
        status,
        region,
        account,
        created,
        "\\PC{0,30}",
        tags,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(status, region, account, created, name, tags, pretty, extra)| {
            let mut v = serde_json::json!({
                "DatastoreId": "ID",
                "DatastoreArn": format!("arn:aws:healthlake:{region}:{account}:datastore/fhir/ID"),
                "DatastoreName": name,
                "DatastoreStatus": status,
                "CreatedAt": created,
                "IdentityProviderConfiguration": {"AuthorizationStrategy": "AWS_AUTH", "FineGrainedAuthorizationEnabled": false},
            });
            if extra {
                v["SomeFutureField"] = serde_json::json!({"Nested": [1, 2.5, null, "x"]});
            }
            let text = if pretty {
                serde_json::to_string_pretty(&v).unwrap()
            } else {
                serde_json::to_string(&v).unwrap()
            };
            (text, tags, extra)
        })
}

fn inventory_strategy() -> impl Strategy<Value = Inventory> {
    (
        prop::collection::vec(record_strategy(), 0..12),
        prop::option::of(1_500_000_000_000i64..1_800_000_000_000),
        prop::option::of("[0-9]\\.[0-9]{1,2}\\.[0-9]"),
        prop::collection::vec(
            (
                "[a-z-]{1,12}",
                "\\PC{0,40}",
                prop::option::of("us-west-[1-2]"),
            ),
            0..3,
        ),
        prop::collection::vec("us-gov-west-1|eu-central-1", 0..2),
    )
        .prop_map(|(records, collected_ms, tool, errors, extra_regions)| {
            let mut inv = Inventory::default();
            for (i, (text, tags, enrich)) in records.into_iter().enumerate() {
                let text = text.replace("ID", &format!("ds{i:04}"));
                let raw = serde_json::value::RawValue::from_string(text).unwrap();
                let mut r = Record::from_raw(raw).unwrap();
                r.tags = tags;
                if enrich {
                    r.enrichments.insert(
                        "KmsKey".to_owned(),
                        serde_json::json!({"KeyState": "Enabled", "Index": i}),
                    );
                }
                inv.records.push(r);
            }
            inv.coverage.collected_at = collected_ms
                .map(|ms| Timestamp(chrono::DateTime::from_timestamp_millis(ms).unwrap()));
            inv.coverage.tool_version = tool;
            inv.coverage.regions = extra_regions;
            inv.errors = errors
                .into_iter()
                .map(|(code, message, region)| CollectionError {
                    account: region.as_ref().map(|_| "999988887777".to_owned()),
                    region,
                    operation: "ListFHIRDatastores".to_owned(),
                    resource: None,
                    code,
                    message,
                })
                .collect();
            inv.refresh_coverage();
            inv
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn writing_then_reading_a_snapshot_gives_the_same_inventory(inv in inventory_strategy()) {
        let mut out = Vec::new();
        snapshot::write_snapshot(&inv, &mut out).unwrap();
        let back = snapshot::read_reader("rt.json", out.as_slice()).unwrap();
        prop_assert_eq!(&back.records, &inv.records);
        for (a, b) in back.records.iter().zip(&inv.records) {
            prop_assert_eq!(a.raw_json(), b.raw_json());
            prop_assert_eq!(a.created_at(), b.created_at());
        }
        prop_assert_eq!(&back.errors, &inv.errors);
        prop_assert_eq!(&back.coverage.accounts, &inv.coverage.accounts);
        prop_assert_eq!(&back.coverage.regions, &inv.coverage.regions);
        prop_assert_eq!(back.coverage.collected_at, inv.coverage.collected_at);
        let tool = inv.coverage.tool_version.clone().unwrap_or_else(|| hlaudit_model::TOOL_VERSION.to_owned());
        prop_assert_eq!(back.coverage.tool_version.clone(), Some(tool));
        prop_assert!(back.warnings.is_empty());
        // Writing what was read gives the same bytes.
        let mut again = Vec::new();
        let mut back2 = back.clone();
        back2.coverage.inputs.clear();
        snapshot::write_snapshot(&back2, &mut again).unwrap();
        let mut inv2 = inv.clone();
        inv2.coverage.tool_version = back2.coverage.tool_version.clone();
        let mut first = Vec::new();
        snapshot::write_snapshot(&inv2, &mut first).unwrap();
        prop_assert_eq!(String::from_utf8(again).unwrap(), String::from_utf8(first).unwrap());
    }
}

/// Every good and bad fixture, as bytes, for mutation.
fn all_fixture_bytes() -> Vec<Vec<u8>> {
    let dir = fixtures();
    files_in(&dir)
        .into_iter()
        .chain(files_in(&dir.join("bad")))
        .map(|f| std::fs::read(f).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Damaged input never panics, never passes silently when unparsable, points inside
    /// the input, and reads the same whole or streamed.
    #[test]
    fn damaged_inputs_give_the_same_positioned_errors_whole_or_streamed(
        pick in 0usize..64,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
    ) {
        let fixtures = all_fixture_bytes();
        let mut bytes = fixtures[pick % fixtures.len()].clone();
        for (at, byte, op) in edits {
            if bytes.is_empty() {
                bytes.push(byte);
                continue;
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, b"{}[],:\"\n \\"[usize::from(byte) % 10]),
                _ => {
                    bytes.remove(i);
                }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("damaged.json");
        std::fs::write(&path, &bytes).unwrap();
        let path = path.to_str().unwrap();
        let whole = snapshot::read_files(&[path]);
        let streamed = snapshot::read_reader(path, bytes.as_slice());
        let lines = bytes.split(|&b| b == b'\n').count();
        match (&whole, &streamed) {
            (Ok(a), Ok(b)) => {
                prop_assert_eq!(&a.records, &b.records);
                prop_assert_eq!(sources(a), sources(b));
            }
            (Err(a), Err(b)) => {
                prop_assert_eq!(a.errors().len(), b.errors().len());
                for (x, y) in a.errors().iter().zip(b.errors()) {
                    prop_assert_eq!(&x.kind, &y.kind);
                    // serde_json's slice and stream readers place a control character in a
                    // string differently (at it, or after it); everything else must agree.
                    if !x.kind.to_string().contains("control character") {
                        prop_assert_eq!((x.line, x.column), (y.line, y.column));
                    }
                    prop_assert!(x.line <= lines, "line {} of {}", x.line, lines);
                }
                prop_assert!(a.render().starts_with("error: "));
            }
            _ => prop_assert!(false, "whole and streamed disagree: {:?} vs {:?}", whole.is_ok(), streamed.is_ok()),
        }
    }
}

/// The errors of reading `text` as a file (whole) and as a stream, with their positions.
fn errors_whole_and_streamed(text: &str) -> [Vec<(usize, usize, String)>; 2] {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typed.json");
    std::fs::write(&path, text).unwrap();
    let path = path.to_str().unwrap();
    let list = |r: Result<_, snapshot::SnapshotErrors>| match r {
        Ok(_) => Vec::new(),
        Err(e) => e
            .errors()
            .iter()
            .map(|x| (x.line, x.column, x.kind.to_string()))
            .collect(),
    };
    [
        list(snapshot::read_files(&[path])),
        list(snapshot::read_reader(path, text.as_bytes())),
    ]
}

#[test]
fn a_value_of_the_wrong_type_is_shown_at_its_start_whole_or_streamed() {
    // serde_json's slice and stream readers place these differently, and each a byte or a
    // line away from the value (after a number the stream reader has taken a line break).
    for value in [
        "0",
        "12",
        "-3",
        "1.5e3",
        "true",
        "null",
        "\"x, \\\"y\\\"\"",
        "{}",
    ] {
        for after in ["\n    ", " ", "\r\n", ""] {
            for rest in [
                "{\"DatastoreId\": \"a\"}\n  ],\n  \"NextToken\": \"\"\n}\n",
                "",
            ] {
                let text = format!("{{\n  \"DatastorePropertiesList\": {value}{after}{rest}");
                let [whole, streamed] = errors_whole_and_streamed(&text);
                assert_eq!(whole.len(), 1, "{text:?}: {whole:?}");
                assert_eq!(whole, streamed, "{text:?}");
                assert_eq!((whole[0].0, whole[0].1), (2, 30), "{text:?}: {whole:?}");
                assert!(whole[0].2.contains("invalid type"), "{:?}", whole[0]);
            }
        }
    }
    // A value on the line after its key, after a string holding a colon and a comma.
    let text = "{\"NextToken\": \"a, \\\"b\\\": c\", \"DatastorePropertiesList\":\n   7\n}";
    let [whole, streamed] = errors_whole_and_streamed(text);
    assert_eq!(whole, streamed);
    assert_eq!((whole[0].0, whole[0].1), (2, 4), "{whole:?}");
}

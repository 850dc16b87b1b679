//! The CDK cloud assembly reader through the crate's public API: the hand-made assembly
//! under `fixtures/iac/cdk-manual` (a stack, a stack without data stores, a nested
//! assembly) and the synthesised one of `fixtures/iac/cdk-app`, the manifest's
//! environment and tags applied, and every manifest error rendered as the user sees it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hlaudit_iac::{read_path, recognise, recognise_text, FileKind, IacErrors, Options, Read};
use hlaudit_model::{Context, Record};
use serde_json::{json, Value};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn manual() -> PathBuf {
    root().join("fixtures/iac/cdk-manual")
}

fn read(path: &Path, display: &str, opts: &Options) -> Read {
    match read_path(path, display, FileKind::CdkAssembly, opts) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

fn errors(path: &Path) -> IacErrors {
    match read_path(path, "cdk.out", FileKind::CdkAssembly, &Options::default()) {
        Ok(r) => panic!("read without error: {:?}", r.records),
        Err(e) => e,
    }
}

fn summary(r: &Record) -> Value {
    json!({
        "key": r.key(),
        "source": r.source.as_ref().map(ToString::to_string),
        "context": r.context(),
        "properties": r.properties(),
        "tags": r.tags,
        "names": r.plan().map(|p| &p.names),
        "defaults": r.plan().map(|p| &p.defaults),
    })
}

fn summaries(read: &Read) -> Value {
    json!({
        "records": read.records.iter().map(summary).collect::<Vec<_>>(),
        "templates": read.templates,
        "plans": read.plans,
        "without_datastores": read.without_datastores,
        "warnings": read.warnings,
    })
}

#[test]
fn assemblies_are_recognised_by_their_manifest() {
    let dir = manual();
    assert_eq!(recognise(&dir).unwrap(), Some(FileKind::CdkAssembly));
    assert_eq!(
        recognise(&dir.join("manifest.json")).unwrap(),
        Some(FileKind::CdkAssembly)
    );
    assert_eq!(
        recognise(&dir.join("assembly-Staging")).unwrap(),
        Some(FileKind::CdkAssembly)
    );
    assert_eq!(
        recognise(&dir.join("ManualStack.template.json")).unwrap(),
        Some(FileKind::Template)
    );
    for other in ["tree.json", "ManualStack.assets.json", "cdk.out"] {
        assert_eq!(recognise(&dir.join(other)).unwrap(), None, "{other}");
    }
    assert_eq!(recognise(&root().join("fixtures/iac")).unwrap(), None);
    assert_eq!(
        recognise_text(
            r#"{"version": "38.0.1", "artifacts": {"S": {"type": "aws:cloudformation:stack"}}}"#
        ),
        Some(FileKind::CdkAssembly)
    );
}

#[test]
fn the_manual_assembly_reads_as_pinned() {
    let r = read(&manual(), "cdk-manual", &Options::default());
    insta::assert_json_snapshot!("cdk-manual", summaries(&r));
    assert_eq!(r.templates, 3);
    assert_eq!(r.plans, 0);
    assert_eq!(
        r.without_datastores,
        ["cdk-manual/NetworkStack.template.json"]
    );
    let keys: Vec<String> = r.records.iter().map(|r| r.key().into_owned()).collect();
    assert_eq!(
        keys,
        [
            "cdk-manual/assembly-Staging/StagingAppStackABCD1234.template.json#Store",
            "cdk-manual/ManualStack.template.json#Store",
        ]
    );
}

#[test]
fn the_stack_environment_gives_the_context_the_user_left_unknown() {
    let r = read(&manual(), "cdk-manual", &Options::default());
    let (staging, stack) = (&r.records[0], &r.records[1]);
    assert_eq!(stack.account(), Some("222233334444"));
    assert_eq!(stack.region(), Some("eu-central-1"));
    assert_eq!(stack.partition(), Some("aws"));
    // `aws://unknown-account/unknown-region`: an environment-agnostic stack.
    assert_eq!(staging.account(), None);
    assert_eq!(staging.region(), None);

    let opts = Options {
        context: Context {
            account: None,
            region: Some("eu-west-1".into()),
            partition: Some("aws".into()),
        },
        parameters: BTreeMap::new(),
    };
    let r = read(&manual(), "cdk-manual", &opts);
    let (staging, stack) = (&r.records[0], &r.records[1]);
    assert_eq!(stack.account(), Some("222233334444"));
    assert_eq!(stack.region(), Some("eu-west-1"), "the user's region first");
    assert_eq!(staging.region(), Some("eu-west-1"));
}

#[test]
fn records_name_their_stack_and_construct_and_carry_the_stack_tags() {
    let r = read(&manual(), "cdk-manual", &Options::default());
    let (staging, stack) = (&r.records[0], &r.records[1]);
    let names = &stack.plan().unwrap().names;
    assert_eq!(names["stack"], "ManualStack");
    assert_eq!(staging.plan().unwrap().names["stack"], "Staging-AppStack");
    // The resource's own tag wins over the stack tag of the same key.
    assert_eq!(
        stack.tags,
        Some(BTreeMap::from([
            ("CostCenter".to_owned(), "health-42".to_owned()),
            ("Owner".to_owned(), "records-team".to_owned()),
        ]))
    );
    assert_eq!(staging.tags, Some(BTreeMap::new()));
}

#[test]
fn the_construct_path_comes_from_the_template() {
    let r = read(&manual(), "cdk-manual", &Options::default());
    let names = &r.records[1].plan().unwrap().names;
    assert_eq!(
        names.get("construct").map(String::as_str),
        Some("ManualStack/Store/Resource")
    );
}

#[test]
fn the_manifest_file_reads_as_its_folder() {
    let by_dir = read(&manual(), "cdk-manual", &Options::default());
    let by_file = read(
        &manual().join("manifest.json"),
        "cdk-manual/manifest.json",
        &Options::default(),
    );
    assert_eq!(summaries(&by_dir), summaries(&by_file));
}

/// A copy of the manual assembly in a temporary folder, with `edit` applied to its
/// manifest.
fn broken(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&manual(), tmp.path());
    let m = tmp.path().join("manifest.json");
    let text = std::fs::read_to_string(&m).unwrap();
    std::fs::write(&m, edit(&text)).unwrap();
    tmp
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn manifest_problems_are_all_reported_at_their_place() {
    let tmp = broken(|t| {
        t.replace("aws://222233334444/eu-central-1\",\n      \"properties\": {\n        \"templateFile\": \"ManualStack", "eu-central-1\",\n      \"properties\": {\n        \"templateFile\": \"ManualStack")
            .replace("NetworkStack.template.json", "Missing.template.json")
            .replace("\"directoryName\": \"assembly-Staging\",", "")
    });
    let e = errors(tmp.path());
    assert_eq!(e.0.len(), 3, "{e}");
    for err in &e.0 {
        assert_eq!(err.file, "cdk.out/manifest.json");
        assert!(
            err.line > 0 && err.column > 0 && err.hint.is_some(),
            "{err:?}"
        );
    }
    insta::assert_snapshot!("error-manifest", e.to_string());
}

#[test]
fn a_manifest_that_is_not_json_or_not_an_assembly_is_refused() {
    let tmp = broken(|t| t.replacen("\"artifacts\": {", "\"artifacts\": {,", 1));
    let e = errors(tmp.path());
    assert!(e.0[0].message.starts_with("not valid JSON"), "{e}");
    assert_eq!(e.0[0].line, 3);

    let tmp = broken(|_| "{\"version\": \"38.0.1\", \"artifacts\": []}".into());
    let e = errors(tmp.path());
    assert!(
        e.0[0].message.contains("`artifacts` must be a mapping"),
        "{e}"
    );
}

#[test]
fn a_missing_nested_assembly_is_an_error() {
    let tmp = broken(|t| {
        t.replace(
            "\"directoryName\": \"assembly-Staging\"",
            "\"directoryName\": \"assembly-Gone\"",
        )
    });
    let e = errors(tmp.path());
    assert_eq!(e.0.len(), 1, "{e}");
    assert_eq!(e.0[0].file, "cdk.out/assembly-Gone/manifest.json");
    assert!(e.0[0].message.contains("cannot read the manifest"), "{e}");
}

#[test]
fn template_errors_come_back_with_the_template_named() {
    let tmp = broken(|t| t.to_owned());
    let template = tmp.path().join("ManualStack.template.json");
    let text = std::fs::read_to_string(&template).unwrap();
    std::fs::write(&template, text.replace("\"R4\"", "\"R5\"")).unwrap();
    let e = errors(tmp.path());
    assert!(
        e.0.iter()
            .all(|e| e.file == "cdk.out/ManualStack.template.json"),
        "{e}"
    );
}

#[test]
fn stack_parameters_in_the_manifest_are_used_unless_the_user_gives_them() {
    let tmp = broken(|t| {
        t.replace(
            "\"templateFile\": \"ManualStack.template.json\",",
            "\"templateFile\": \"ManualStack.template.json\",\n        \"parameters\": {\"StoreName\": \"from-manifest\"},",
        )
    });
    let template = tmp.path().join("ManualStack.template.json");
    let text = std::fs::read_to_string(&template).unwrap();
    let text = text
        .replace("\"manual-records\"", "{\"Ref\": \"StoreName\"}")
        .replace(
            "\"Parameters\": {",
            "\"Parameters\": {\n  \"StoreName\": {\"Type\": \"String\"},",
        );
    std::fs::write(&template, text).unwrap();
    let r = read(tmp.path(), "cdk.out", &Options::default());
    assert_eq!(r.records[1].properties()["DatastoreName"], "from-manifest");

    let opts = Options {
        parameters: BTreeMap::from([("StoreName".to_owned(), "from-user".to_owned())]),
        ..Options::default()
    };
    let r = read(tmp.path(), "cdk.out", &opts);
    assert_eq!(r.records[1].properties()["DatastoreName"], "from-user");
}

/// The assembly `cdk synth` wrote for the fixture app (`.ci/setup-cdk.sh`).
#[test]
fn the_synthesised_app_gives_its_three_data_stores() {
    let dir = root().join("fixtures/iac/cdk-app/cdk.out");
    assert!(
        dir.join("manifest.json").exists(),
        "{} is missing: run `bash .ci/setup-cdk.sh`",
        dir.display()
    );
    assert_eq!(recognise(&dir).unwrap(), Some(FileKind::CdkAssembly));
    let r = read(&dir, "cdk.out", &Options::default());
    assert_eq!(r.templates, 3);
    let found: Vec<(String, String, String)> = r
        .records
        .iter()
        .map(|rec| {
            let names = &rec.plan().unwrap().names;
            (
                rec.key().into_owned(),
                names["stack"].clone(),
                names.get("construct").cloned().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "cdk.out/assembly-Prod/ProdArchiveStackE7C91713.template.json#ArchiveDatastore"
                    .to_owned(),
                "Prod-ArchiveStack".to_owned(),
                "Prod/ArchiveStack/ArchiveDatastore".to_owned()
            ),
            (
                "cdk.out/ClinicalStack.template.json#ClinicalDatastore".to_owned(),
                "ClinicalStack".to_owned(),
                "ClinicalStack/ClinicalDatastore".to_owned()
            ),
            (
                "cdk.out/ResearchStack.template.json#CohortDatastoreFA74C864".to_owned(),
                "ResearchStack".to_owned(),
                "ResearchStack/Cohort/Datastore".to_owned()
            ),
        ]
    );
    for rec in &r.records {
        assert_eq!(rec.account(), Some("111122223333"));
        assert_eq!(rec.region(), Some("us-east-1"));
    }
    assert_eq!(
        r.records[0].tags.as_ref().unwrap()["Environment"],
        "production"
    );
}

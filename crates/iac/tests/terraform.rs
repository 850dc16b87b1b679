//! The Terraform plan reader through the crate's public API: every fixture under
//! `fixtures/iac/terraform` read and pinned, the semantics that decide policies checked
//! one by one (unknown values, defaults, actions, context), and every error rendered as
//! the user sees it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use hlaudit_iac::{
    read_path, read_text, recognise, recognise_text, FileKind, IacErrors, Options, Read,
};
use hlaudit_model::{Context, Record};
use serde_json::{json, Value};

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/iac/terraform")
        .join(name)
}

fn fixture(name: &str) -> String {
    let path = fixture_path(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read(name: &str, text: &str, opts: &Options) -> Read {
    match read_text(name, text, FileKind::TerraformPlan, opts) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

fn read_fixture(name: &str) -> Read {
    read(name, &fixture(name), &Options::default())
}

fn errors(text: &str) -> IacErrors {
    match read_text(
        "bad.json",
        text,
        FileKind::TerraformPlan,
        &Options::default(),
    ) {
        Ok(r) => panic!("read without error: {:?}", r.records),
        Err(e) => e,
    }
}

/// A record as data, for pinning.
fn summary(r: &Record) -> Value {
    json!({
        "key": r.key(),
        "source": r.source.as_ref().map(ToString::to_string),
        "context": r.context(),
        "properties": r.properties(),
        "tags": r.tags,
        "plan": r.plan(),
    })
}

fn summaries(read: &Read) -> Value {
    json!({
        "records": read.records.iter().map(summary).collect::<Vec<_>>(),
        "plans": read.plans,
        "without_datastores": read.without_datastores,
        "warnings": read.warnings,
    })
}

fn record<'a>(read: &'a Read, address: &str) -> &'a Record {
    read.records
        .iter()
        .find(|r| r.key().ends_with(&format!("#{address}")))
        .unwrap_or_else(|| panic!("no record {address}"))
}

fn unknowns(r: &Record) -> Vec<(String, String)> {
    r.plan()
        .unwrap()
        .unknowns
        .iter()
        .map(|u| (u.pointer.clone(), u.expression.clone()))
        .collect()
}

fn location(r: &Record, pointer: &str) -> (u32, u32) {
    let l = r
        .plan()
        .unwrap()
        .locations
        .iter()
        .find(|l| l.pointer == pointer)
        .unwrap_or_else(|| panic!("no location {pointer}"));
    (l.line, l.column)
}

/// The 1-based line and column of the `n`th (0-based) occurrence of `needle`.
fn position_of(text: &str, needle: &str, n: usize) -> (u32, u32) {
    let at = text
        .match_indices(needle)
        .nth(n)
        .unwrap_or_else(|| panic!("no {needle}"))
        .0;
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap().chars().count() + 1;
    (line as u32, column as u32)
}

#[test]
fn every_fixture_reads_as_pinned() {
    for name in [
        "plan-create.json",
        "plan-modules.json",
        "plan-update.json",
        "plan-no-healthlake.json",
    ] {
        let text = fixture(name);
        assert_eq!(
            recognise_text(&text),
            Some(FileKind::TerraformPlan),
            "{name} is not recognised"
        );
        assert_eq!(
            recognise(&fixture_path(name)).unwrap(),
            Some(FileKind::TerraformPlan)
        );
        let r = read(name, &text, &Options::default());
        assert_eq!(r.plans, 1);
        assert_eq!(r.templates, 0);
        insta::assert_json_snapshot!(name, summaries(&r));
    }
}

#[test]
fn a_key_known_after_apply_is_unknown_and_names_its_reference() {
    let r = read_fixture("plan-create.json");
    assert_eq!(r.records.len(), 2, "the KMS key is not a data store");
    let rec = record(&r, "awscc_healthlake_fhir_datastore.clinical");
    let p = rec.properties();
    assert_eq!(
        p["SseConfiguration"],
        json!({"KmsEncryptionConfig": {"CmkType": "CUSTOMER_MANAGED_KMS_KEY"}})
    );
    assert_eq!(
        unknowns(rec),
        [(
            "/SseConfiguration/KmsEncryptionConfig/KmsKeyId".to_owned(),
            "known after apply (aws_kms_key.healthlake.arn)".to_owned()
        )]
    );
    // Known values are kept as written, the SMART metadata as the text jsonencode gave.
    let idp = &p["IdentityProviderConfiguration"];
    assert_eq!(idp["AuthorizationStrategy"], "SMART_ON_FHIR");
    assert_eq!(idp["FineGrainedAuthorizationEnabled"], true);
    let metadata: Value = serde_json::from_str(idp["Metadata"].as_str().unwrap()).unwrap();
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        json!(["S256"])
    );
    // Run-time attributes never reach the JSON; a null one is absent.
    for absent in [
        "DatastoreArn",
        "DatastoreId",
        "DatastoreEndpoint",
        "DatastoreStatus",
        "CreatedAt",
        "Id",
        "PreloadDataConfig",
        "Tags",
    ] {
        assert!(p.get(absent).is_none(), "{absent}");
    }
    let detail = rec.plan().unwrap();
    assert!(detail.defaults.is_empty(), "{:?}", detail.defaults);
    assert_eq!(detail.names["action"], "create");
    assert_eq!(
        rec.tags,
        Some(BTreeMap::from([
            ("DataClassification".to_owned(), "phi".to_owned()),
            ("Owner".to_owned(), "clinical-platform".to_owned())
        ]))
    );
    // The provider configuration gives the region; nothing gives the account.
    assert_eq!(rec.region(), Some("us-east-1"));
    assert_eq!(rec.partition(), Some("aws"));
    assert_eq!(rec.account(), None);
}

#[test]
fn attributes_the_configuration_leaves_out_take_the_schema_defaults() {
    let r = read_fixture("plan-create.json");
    let rec = record(&r, "awscc_healthlake_fhir_datastore.research");
    let p = rec.properties();
    // `identity_provider_configuration` is "known after apply" in the plan because the
    // provider computes it, but the configuration does not write it.
    assert_eq!(
        p["IdentityProviderConfiguration"],
        json!({"AuthorizationStrategy": "AWS_AUTH", "FineGrainedAuthorizationEnabled": false})
    );
    assert_eq!(
        p["SseConfiguration"],
        json!({"KmsEncryptionConfig": {"CmkType": "AWS_OWNED_KMS_KEY"}})
    );
    assert_eq!(
        p["PreloadDataConfig"],
        json!({"PreloadDataType": "SYNTHEA"})
    );
    let detail = rec.plan().unwrap();
    assert_eq!(detail.defaults, ["/IdentityProviderConfiguration"]);
    assert!(detail.unknowns.is_empty(), "{:?}", detail.unknowns);
}

#[test]
fn positions_point_at_the_snake_case_keys_on_a_one_line_plan() {
    let text = fixture("plan-create.json");
    assert_eq!(text.lines().count(), 1);
    let r = read("plan-create.json", &text, &Options::default());
    let rec = record(&r, "awscc_healthlake_fhir_datastore.clinical");
    // The entry opens right before its address (the second time the address appears:
    // the first is in planned_values).
    let (line, column) = position_of(
        &text,
        "{\"address\":\"awscc_healthlake_fhir_datastore.clinical\"",
        1,
    );
    assert_eq!(location(rec, ""), (line, column));
    assert_eq!(
        rec.source.as_ref().unwrap().to_string(),
        format!("plan-create.json:{line}:{column}")
    );
    let after = text.match_indices("\"after\":").nth(1).unwrap().0;
    let cmk = after + text[after..].find("\"cmk_type\"").unwrap();
    let expected = (1, text[..cmk].chars().count() as u32 + 1);
    assert_eq!(
        location(rec, "/SseConfiguration/KmsEncryptionConfig/CmkType"),
        expected
    );
    let tags = after + text[after..].find("\"tags\"").unwrap();
    assert_eq!(
        location(rec, "/@tags"),
        (1, text[..tags].chars().count() as u32 + 1)
    );
}

#[test]
fn module_instances_keep_their_addresses_and_follow_module_variables() {
    let text = fixture("plan-modules.json");
    let r = read("plan-modules.json", &text, &Options::default());
    let keys: Vec<String> = r.records.iter().map(|r| r.key().into_owned()).collect();
    assert_eq!(
        keys,
        [
            "plan-modules.json#module.health[\"clinical\"].awscc_healthlake_fhir_datastore.archive[0]",
            "plan-modules.json#module.health[\"clinical\"].awscc_healthlake_fhir_datastore.main",
            "plan-modules.json#module.health[\"research\"].awscc_healthlake_fhir_datastore.main",
        ]
    );
    let main = record(
        &r,
        "module.health[\"clinical\"].awscc_healthlake_fhir_datastore.main",
    );
    assert_eq!(
        main.plan().unwrap().names["module"],
        "module.health[\"clinical\"]"
    );
    // The key ARN is followed through the module's variable to the root module; the
    // identity provider configuration is an expression the plan does not show, so
    // whether it writes `fine_grained_authorization_enabled` cannot be told.
    assert_eq!(
        unknowns(main),
        [
            (
                "/IdentityProviderConfiguration/FineGrainedAuthorizationEnabled".to_owned(),
                "known after apply (module.health[\"clinical\"].var.smart, \
                 module.health[\"clinical\"].local.smart_metadata)"
                    .to_owned()
            ),
            (
                "/SseConfiguration/KmsEncryptionConfig/KmsKeyId".to_owned(),
                "known after apply (aws_kms_key.shared.arn)".to_owned()
            )
        ]
    );
    assert!(main.properties()["IdentityProviderConfiguration"]
        .get("FineGrainedAuthorizationEnabled")
        .is_none());
    assert!(main.plan().unwrap().defaults.is_empty());
    // The region comes from `var.region`, whose value the plan holds.
    assert_eq!(main.region(), Some("eu-west-1"));
    // A pretty-printed plan: positions on their own lines.
    let at = position_of(
        &text,
        "\"address\": \"module.health[\\\"clinical\\\"].awscc_healthlake_fhir_datastore.main\"",
        1,
    );
    assert_eq!(location(main, ""), (at.0 - 1, at.1 - 2));

    let research = record(
        &r,
        "module.health[\"research\"].awscc_healthlake_fhir_datastore.main",
    );
    let u = unknowns(research);
    let idp = u
        .iter()
        .find(|(p, _)| p == "/IdentityProviderConfiguration")
        .unwrap();
    assert!(
        idp.1
            .starts_with("known after apply (module.health[\"research\"]."),
        "{}",
        idp.1
    );
    assert!(research
        .properties()
        .get("IdentityProviderConfiguration")
        .is_none());

    let archive = record(
        &r,
        "module.health[\"clinical\"].awscc_healthlake_fhir_datastore.archive[0]",
    );
    assert_eq!(
        archive.plan().unwrap().defaults,
        ["/SseConfiguration", "/IdentityProviderConfiguration"]
    );
    assert!(unknowns(archive).is_empty());
    assert_eq!(archive.tags, Some(BTreeMap::new()));
}

#[test]
fn updates_name_the_data_store_they_change_and_take_its_context() {
    let r = read_fixture("plan-update.json");
    let keys: Vec<String> = r.records.iter().map(|r| r.key().into_owned()).collect();
    assert_eq!(
        keys,
        [
            "plan-update.json#awscc_healthlake_fhir_datastore.claims",
            "plan-update.json#awscc_healthlake_fhir_datastore.patients",
            "plan-update.json#awscc_healthlake_fhir_datastore.reference",
        ]
    );
    let patients = record(&r, "awscc_healthlake_fhir_datastore.patients");
    let names = &patients.plan().unwrap().names;
    assert_eq!(names["action"], "update");
    assert_eq!(
        names["arn"],
        "arn:aws:healthlake:eu-west-2:444455556666:datastore/fhir/a1b2c3d4e5f60718293a4b5c6d7e8f90"
    );
    assert_eq!(patients.account(), Some("444455556666"));
    assert_eq!(patients.region(), Some("eu-west-2"));
    assert_eq!(patients.partition(), Some("aws"));
    assert_eq!(patients.tags.as_ref().unwrap()["DataClassification"], "phi");
    assert!(
        patients.arn().is_none(),
        "a planned record is keyed by its address"
    );

    let claims = record(&r, "awscc_healthlake_fhir_datastore.claims");
    assert_eq!(claims.plan().unwrap().names["action"], "replace");
    assert!(claims.plan().unwrap().names["replaces"].ends_with("5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"));
    let reference = record(&r, "awscc_healthlake_fhir_datastore.reference");
    assert_eq!(reference.plan().unwrap().names["action"], "no-op");
    assert_eq!(
        reference.properties()["SseConfiguration"]["KmsEncryptionConfig"],
        json!({"CmkType": "AWS_OWNED_KMS_KEY"})
    );
    assert_eq!(
        r.warnings,
        ["plan-update.json: `awscc_healthlake_fhir_datastore.sandbox` is deleted by this plan; it is not checked"]
    );
}

#[test]
fn the_users_context_comes_first() {
    let opts = Options {
        context: Context {
            account: Some("111122223333".into()),
            region: Some("ca-central-1".into()),
            partition: None,
        },
        parameters: BTreeMap::new(),
    };
    let r = read("plan-update.json", &fixture("plan-update.json"), &opts);
    let rec = record(&r, "awscc_healthlake_fhir_datastore.patients");
    assert_eq!(rec.account(), Some("111122223333"));
    assert_eq!(rec.region(), Some("ca-central-1"));
    assert_eq!(rec.partition(), Some("aws"), "from the ARN");
}

#[test]
fn a_plan_without_data_stores_says_so() {
    let r = read_fixture("plan-no-healthlake.json");
    assert!(r.records.is_empty());
    assert_eq!(r.without_datastores, ["plan-no-healthlake.json"]);
    let empty = read(
        "empty.json",
        r#"{"format_version":"1.2","terraform_version":"1.9.8","planned_values":{"root_module":{}},"configuration":{"root_module":{}}}"#,
        &Options::default(),
    );
    assert_eq!(empty.without_datastores, ["empty.json"]);
}

#[test]
fn unknown_attributes_are_kept_in_the_api_spelling() {
    let text = r#"{"format_version":"1.2","terraform_version":"1.9.8","resource_changes":[
      {"address":"awscc_healthlake_fhir_datastore.x","mode":"managed","type":"awscc_healthlake_fhir_datastore","name":"x",
       "change":{"actions":["create"],"before":null,
         "after":{"datastore_type_version":"R4","some_future_setting":{"nested_value":"on","list_of":[{"a_b":1}]}},
         "after_unknown":{"datastore_id":true,"tags":true}}}]}"#;
    let r = read("p.json", text, &Options::default());
    let rec = &r.records[0];
    assert_eq!(
        rec.properties()["SomeFutureSetting"],
        json!({"NestedValue": "on", "ListOf": [{"AB": 1}]})
    );
    assert_eq!(
        location(rec, "/SomeFutureSetting/ListOf/0/AB"),
        position_of(text, "\"a_b\"", 0)
    );
    // Without a configuration, what is unknown stays unknown.
    assert_eq!(
        unknowns(rec),
        [("/@tags".to_owned(), "known after apply".to_owned())]
    );
    assert_eq!(rec.tags, None);
    assert_eq!(rec.region(), None);
}

#[test]
fn a_constant_configuration_without_fine_grained_authorization_gives_false() {
    let text = r#"{"format_version":"1.2","terraform_version":"1.9.8","resource_changes":[
      {"address":"awscc_healthlake_fhir_datastore.x","mode":"managed","type":"awscc_healthlake_fhir_datastore","name":"x",
       "change":{"actions":["create"],"before":null,
         "after":{"datastore_type_version":"R4","identity_provider_configuration":{"authorization_strategy":"SMART_ON_FHIR_V1"}},
         "after_unknown":{"identity_provider_configuration":{"fine_grained_authorization_enabled":true,"idp_lambda_arn":true},
                          "sse_configuration":true,"tags":true}}}],
      "configuration":{"root_module":{"resources":[{"address":"awscc_healthlake_fhir_datastore.x","mode":"managed",
        "type":"awscc_healthlake_fhir_datastore","name":"x","provider_config_key":"awscc","expressions":{
        "datastore_type_version":{"constant_value":"R4"},
        "identity_provider_configuration":{"constant_value":{"authorization_strategy":"SMART_ON_FHIR_V1","idp_lambda_arn":null}}}}]}}}"#;
    let r = read("p.json", text, &Options::default());
    let rec = &r.records[0];
    assert_eq!(
        rec.properties()["IdentityProviderConfiguration"],
        json!({"AuthorizationStrategy": "SMART_ON_FHIR_V1", "FineGrainedAuthorizationEnabled": false})
    );
    let detail = rec.plan().unwrap();
    assert_eq!(
        detail.defaults,
        [
            "/SseConfiguration",
            "/IdentityProviderConfiguration/FineGrainedAuthorizationEnabled"
        ]
    );
    assert!(detail.unknowns.is_empty(), "{:?}", detail.unknowns);
    assert_eq!(rec.tags, Some(BTreeMap::new()));
}

#[test]
fn escaped_text_is_read_as_json_reads_it() {
    // Terraform writes JSON as Go does: `<`, `>` and `&` escaped; other tools may escape
    // characters outside the BMP as surrogate pairs.
    let text = r#"{"format_version":"1.2","terraform_version":"1.9.8","resource_changes":[
      {"address":"awscc_healthlake_fhir_datastore.x","mode":"managed","type":"awscc_healthlake_fhir_datastore","name":"x",
       "change":{"actions":["create"],"before":null,
         "after":{"datastore_name":"a\u0026b \ud83d\ude00","datastore_type_version":"R4",
           "identity_provider_configuration":{"authorization_strategy":"SMART_ON_FHIR","metadata":"{\"issuer\":\"\u003chttps://x\u003e\"}"}},
         "after_unknown":{}}}]}"#;
    let r = read("p.json", text, &Options::default());
    let p = r.records[0].properties();
    assert_eq!(p["DatastoreName"], "a&b \u{1F600}");
    assert_eq!(
        p["IdentityProviderConfiguration"]["Metadata"],
        "{\"issuer\":\"<https://x>\"}"
    );
    assert_eq!(
        location(&r.records[0], "/IdentityProviderConfiguration/Metadata"),
        position_of(text, "\"metadata\"", 0)
    );
}

#[test]
fn an_attribute_of_the_wrong_type_is_an_error_at_the_attribute() {
    let text = r#"{"format_version":"1.2","terraform_version":"1.9.8","resource_changes":[
      {"address":"awscc_healthlake_fhir_datastore.x","mode":"managed","type":"awscc_healthlake_fhir_datastore","name":"x",
       "change":{"actions":["create"],"before":null,"after":{"datastore_type_version":"R4","datastore_name":7},"after_unknown":{}}}]}"#;
    let e = errors(text);
    assert_eq!(e.0.len(), 1, "{e}");
    let at = position_of(text, "\"datastore_name\"", 0);
    assert_eq!((e.0[0].line, e.0[0].column), (at.0 as usize, at.1 as usize));
    assert!(
        e.0[0].message.contains("DatastoreName"),
        "{}",
        e.0[0].message
    );
}

#[test]
fn errors_point_at_the_problem_with_a_hint() {
    let e = errors("{\"format_version\": \"1.2\",\n \"resource_changes\": [}");
    assert_eq!(e.0.len(), 1);
    assert_eq!((e.0[0].line, e.0[0].column), (2, 23));
    assert!(
        e.0[0].message.starts_with("not a readable Terraform plan"),
        "{}",
        e.0[0].message
    );
    insta::assert_snapshot!("error-not-json", e.to_string());

    let e = errors("{\"format_version\": \"1.2\",\n \"resource_changes\": {\"a\": 1}}");
    assert_eq!((e.0[0].line, e.0[0].column), (2, 22));
    insta::assert_snapshot!("error-resource-changes-not-a-list", e.to_string());

    let e = errors("{\"format_version\": \"1.2\", \"resource_changes\": [1,\n  {\"type\": \"awscc_healthlake_fhir_datastore\", \"mode\": \"managed\", \"address\": \"a.b\", \"change\": {\"after\": {}}}]}");
    assert_eq!(e.0.len(), 2, "every problem in one pass: {e}");
    assert_eq!((e.0[0].line, e.0[0].column), (1, 48));
    assert_eq!(e.0[1].line, 2);
    insta::assert_snapshot!("error-bad-entries", e.to_string());

    let e = errors("{\"format_version\": 1.2, \"terraform_version\": \"1.9.8\"}");
    assert!(
        e.0[0].message.contains("must be text"),
        "{}",
        e.0[0].message
    );
    let e = errors("{\"terraform_version\": \"1.9.8\", \"planned_values\": {}}");
    assert!(e.0[0].message.contains("no `format_version`"));
}

#[test]
fn a_plan_in_another_format_version_is_refused() {
    let e = errors(&fixture("plan-format-2.json"));
    assert_eq!(e.0.len(), 1);
    let err = &e.0[0];
    assert_eq!((err.line, err.column), (2, 21));
    assert!(err.message.contains("format 2.0"), "{}", err.message);
    assert!(err.hint.is_some());
    insta::assert_snapshot!("error-format-2", e.to_string());
}

#[test]
fn a_newer_minor_format_is_read_with_a_warning() {
    let text = fixture("plan-create.json").replacen("\"1.2\"", "\"1.7\"", 1);
    let r = read("p.json", &text, &Options::default());
    assert_eq!(r.records.len(), 2);
    assert!(r.warnings[0].contains("1.7"), "{:?}", r.warnings);
}

#[test]
fn a_state_is_recognised_and_refused_with_a_hint() {
    let state = r#"{"format_version":"1.0","terraform_version":"1.9.8","values":{"root_module":{"resources":[]}}}"#;
    assert_eq!(recognise_text(state), Some(FileKind::TerraformPlan));
    let e = errors(state);
    assert!(
        e.0[0].message.contains("state, not of a plan"),
        "{}",
        e.0[0].message
    );
    assert!(e.0[0]
        .hint
        .as_deref()
        .unwrap()
        .contains("terraform plan -out"));
    insta::assert_snapshot!("error-state", e.to_string());
}

#[test]
fn other_json_is_not_a_plan() {
    for text in [
        r#"{"format_version":"1.0","provider_schemas":{}}"#,
        r#"{"DatastorePropertiesList":[]}"#,
        r#"{"version":"55.0.0","artifacts":{}}"#,
        r#"[{"format_version":"1.2"}]"#,
    ] {
        assert_ne!(
            recognise_text(text),
            Some(FileKind::TerraformPlan),
            "{text}"
        );
    }
}

#[test]
fn a_plan_is_read_from_its_path() {
    let r = read_path(
        &fixture_path("plan-create.json"),
        "plans/plan-create.json",
        FileKind::TerraformPlan,
        &Options::default(),
    )
    .unwrap();
    assert!(r.records[0].key().starts_with("plans/plan-create.json#"));
}

/// A plan of `n` unrelated resources and one data store, on one line, as terraform writes.
fn big_plan(n: usize) -> String {
    let mut changes = Vec::with_capacity(n + 1);
    for i in 0..n {
        changes.push(format!(
            r#"{{"address":"aws_s3_object.o[{i}]","mode":"managed","type":"aws_s3_object","name":"o","index":{i},"provider_name":"registry.terraform.io/hashicorp/aws","change":{{"actions":["create"],"before":null,"after":{{"bucket":"b","key":"objects/{i}.json","content_type":"application/json","tags":{{"Owner":"data-platform","Index":"{i}"}},"metadata":{{"k":"é"}}}},"after_unknown":{{"id":true,"etag":true,"version_id":true}},"before_sensitive":false,"after_sensitive":{{"tags":{{}}}}}}}}"#
        ));
    }
    changes.push(r#"{"address":"awscc_healthlake_fhir_datastore.last","mode":"managed","type":"awscc_healthlake_fhir_datastore","name":"last","change":{"actions":["create"],"before":null,"after":{"datastore_type_version":"R4"},"after_unknown":{}}}"#.to_owned());
    format!(
        r#"{{"format_version":"1.2","terraform_version":"1.9.8","resource_changes":[{}]}}"#,
        changes.join(",")
    )
}

#[test]
fn a_large_one_line_plan_is_located_exactly() {
    let text = big_plan(2000);
    let r = read("big.json", &text, &Options::default());
    let rec = &r.records[0];
    let at = text.find("{\"address\":\"awscc_").unwrap();
    assert_eq!(
        location(rec, ""),
        (1, text[..at].chars().count() as u32 + 1)
    );
}

#[test]
fn errors_in_a_long_line_are_located_without_printing_the_line() {
    let text = big_plan(100).replace(
        r#""change":{"actions":["create"],"before":null,"after":{"datastore_type_version":"R4"}"#,
        r#""change":{"actions":["create"],"before":null,"after":"R4""#,
    );
    let e = errors(&text);
    let at = text.find(r#""after":"R4""#).unwrap() + r#""after":"#.len();
    assert_eq!(
        (e.0[0].line, e.0[0].column),
        (1, text[..at].chars().count() + 1)
    );
    assert!(
        e.0[0].message.contains("`change.after` is not an object"),
        "{}",
        e.0[0].message
    );
    assert_eq!(e.0[0].snippet, None);
    assert!(e.to_string().len() < 500);
}

/// Release builds: `cargo test -p hlaudit-iac --release -- --ignored`.
#[test]
#[ignore = "timing; run in release"]
fn a_50_mb_plan_is_read_in_well_under_two_seconds() {
    let text = big_plan(170_000);
    assert!(text.len() > 50_000_000, "{}", text.len());
    let start = std::time::Instant::now();
    let r = read("big.json", &text, &Options::default());
    let took = start.elapsed();
    assert_eq!(r.records.len(), 1);
    assert!(took.as_secs_f64() < 2.0, "{took:?}");
}

#[test]
fn no_other_fixture_is_taken_for_a_plan() {
    fn walk(dir: &std::path::Path, seen: &mut usize) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "node_modules" && name != "terraform" {
                    walk(&path, seen);
                }
                continue;
            }
            if recognise(&path).unwrap() == Some(FileKind::TerraformPlan) {
                panic!("{} is taken for a plan", path.display());
            }
            *seen += 1;
        }
    }
    let mut seen = 0;
    walk(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures"),
        &mut seen,
    );
    assert!(seen > 50, "only {seen} files checked");
}

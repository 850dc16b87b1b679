//! The CloudFormation/SAM template reader through the crate's public API: every fixture
//! under `fixtures/iac/cfn` read and pinned, the semantics that decide policies checked
//! one by one, and every error rendered as the user sees it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use hlaudit_iac::{read_text, recognise_text, FileKind, IacErrors, Options, Read};
use hlaudit_model::{Context, Record};
use proptest::prelude::*;
use serde_json::{json, Value};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/iac/cfn")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn known_context() -> Options {
    Options {
        context: Context {
            account: Some("111122223333".into()),
            region: Some("us-east-1".into()),
            partition: None,
        },
        parameters: BTreeMap::new(),
    }
}

fn read(name: &str, text: &str, opts: &Options) -> Read {
    match read_text(name, text, FileKind::Template, opts) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

fn read_fixture(name: &str, opts: &Options) -> Read {
    read(name, &fixture(name), opts)
}

fn errors(text: &str) -> IacErrors {
    match read_text("bad.yaml", text, FileKind::Template, &Options::default()) {
        Ok(r) => panic!("read without error: {:?}", r.records),
        Err(e) => e,
    }
}

/// A record as data, for pinning and comparing.
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
        "templates": read.templates,
        "without_datastores": read.without_datastores,
        "warnings": read.warnings,
    })
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

#[test]
fn every_fixture_reads_as_pinned() {
    for name in [
        "cmk.yaml",
        "aws-owned.json",
        "no-encryption.yaml",
        "conditions.yaml",
        "import-value.yaml",
        "sam.yaml",
        "no-datastore.yaml",
    ] {
        let text = fixture(name);
        assert_eq!(
            recognise_text(&text),
            Some(FileKind::Template),
            "{name} is not recognised"
        );
        let r = read(name, &text, &known_context());
        insta::assert_json_snapshot!(name, summaries(&r));
    }
}

#[test]
fn a_key_created_in_the_template_resolves_to_its_arn() {
    let r = read_fixture("cmk.yaml", &known_context());
    let rec = &r.records[0];
    let p = rec.properties();
    assert_eq!(
        p["SseConfiguration"]["KmsEncryptionConfig"]["KmsKeyId"],
        "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000"
    );
    assert_eq!(
        p["SseConfiguration"]["KmsEncryptionConfig"]["CmkType"],
        "CUSTOMER_MANAGED_KMS_KEY"
    );
    assert_eq!(
        location(rec, "/SseConfiguration/KmsEncryptionConfig/CmkType"),
        (32, 11)
    );
    assert_eq!(location(rec, ""), (23, 3));
    // The stack name is known only at deploy: the name is left out and listed.
    assert!(p.get("DatastoreName").is_none());
    assert_eq!(
        unknowns(rec),
        vec![(
            "/DatastoreName".to_owned(),
            "Fn::Sub \"${AWS::StackName}-fhir\" uses Ref AWS::StackName (known at deploy)"
                .to_owned()
        )]
    );
    assert_eq!(rec.context().partition.as_deref(), Some("aws"));
    assert_eq!(rec.tags.as_ref().unwrap()["Owner"], "clinical-data");
    assert_eq!(location(rec, "/@tags/Owner"), (54, 11));
}

#[test]
fn metadata_written_with_to_json_string_is_compact_json_located_inside() {
    let r = read_fixture("cmk.yaml", &known_context());
    let rec = &r.records[0];
    let meta = rec.properties()["IdentityProviderConfiguration"]["Metadata"].clone();
    let meta: Value = serde_json::from_str(meta.as_str().unwrap()).unwrap();
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    let text = rec.properties()["IdentityProviderConfiguration"]["Metadata"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        text.starts_with("{\"issuer\":\"https://idp.example.com/oauth2\","),
        "{text}"
    );
    assert_eq!(
        location(
            rec,
            "/IdentityProviderConfiguration/Metadata/code_challenge_methods_supported"
        ),
        (51, 13)
    );
    assert_eq!(
        location(
            rec,
            "/IdentityProviderConfiguration/Metadata/code_challenge_methods_supported/0"
        ),
        (52, 17)
    );
}

#[test]
fn an_unknown_account_leaves_the_key_unknown_not_guessed() {
    let r = read_fixture("cmk.yaml", &Options::default());
    let rec = &r.records[0];
    let kms = &rec.properties()["SseConfiguration"]["KmsEncryptionConfig"];
    assert!(kms.get("KmsKeyId").is_none());
    assert!(unknowns(rec).iter().any(|(p, e)| p
        == "/SseConfiguration/KmsEncryptionConfig/KmsKeyId"
        && e.starts_with("Fn::GetAtt StoreKey.Arn")));
    assert_eq!(rec.context(), &Context::default());
}

#[test]
fn schema_defaults_are_filled_in_and_listed() {
    let r = read_fixture("no-encryption.yaml", &Options::default());
    let rec = &r.records[0];
    let p = rec.properties();
    assert_eq!(
        p["SseConfiguration"],
        json!({"KmsEncryptionConfig": {"CmkType": "AWS_OWNED_KMS_KEY"}})
    );
    assert_eq!(
        p["IdentityProviderConfiguration"],
        json!({"AuthorizationStrategy": "AWS_AUTH", "FineGrainedAuthorizationEnabled": false})
    );
    assert_eq!(
        rec.plan().unwrap().defaults,
        vec!["/SseConfiguration", "/IdentityProviderConfiguration"]
    );
    assert_eq!(rec.tags, Some(BTreeMap::new()));
    for field in [
        "DatastoreId",
        "DatastoreArn",
        "DatastoreStatus",
        "DatastoreEndpoint",
        "CreatedAt",
    ] {
        assert!(p.get(field).is_none(), "{field}");
    }
    // A given IdentityProviderConfiguration without FineGrainedAuthorizationEnabled.
    let r = read_fixture("sam.yaml", &Options::default());
    assert_eq!(
        r.records[0].plan().unwrap().defaults,
        vec![
            "/SseConfiguration",
            "/IdentityProviderConfiguration/FineGrainedAuthorizationEnabled"
        ]
    );
}

#[test]
fn an_import_is_unknown_and_named_as_written() {
    let r = read_fixture("import-value.yaml", &known_context());
    let rec = &r.records[0];
    assert_eq!(
        unknowns(rec),
        vec![(
            "/SseConfiguration/KmsEncryptionConfig/KmsKeyId".to_owned(),
            "Fn::ImportValue SharedKeyArn".to_owned()
        )]
    );
    // The encryption block is written, so no default stands in for it.
    assert!(rec
        .plan()
        .unwrap()
        .defaults
        .iter()
        .all(|d| d != "/SseConfiguration"));
}

#[test]
fn an_undecided_condition_gives_one_variant_per_value() {
    let r = read_fixture("conditions.yaml", &known_context());
    // ProdOnlyStore's condition IsProd is false with the default Environment.
    assert_eq!(r.records.len(), 1);
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    let rec = &r.records[0];
    let plan = rec.plan().unwrap();
    assert_eq!(
        plan.assumption.as_deref(),
        Some("condition UseSmart is true")
    );
    assert_eq!(
        rec.properties()["IdentityProviderConfiguration"]["AuthorizationStrategy"],
        "SMART_ON_FHIR"
    );
    assert_eq!(plan.alternatives.len(), 1);
    let alt = &plan.alternatives[0];
    assert_eq!(
        alt.detail.assumption.as_deref(),
        Some("condition UseSmart is false")
    );
    assert_eq!(
        alt.properties["IdentityProviderConfiguration"]["AuthorizationStrategy"],
        "AWS_AUTH"
    );
    // Decided conditions are evaluated: the default KeyMode is cmk.
    assert_eq!(
        rec.properties()["SseConfiguration"]["KmsEncryptionConfig"]["CmkType"],
        "CUSTOMER_MANAGED_KMS_KEY"
    );
    assert_eq!(rec.properties()["DatastoreName"], "fhir-dev");
    assert_eq!(rec.tags.as_ref().unwrap()["Tier"], "bronze");
}

#[test]
fn parameters_given_override_defaults_and_decide_conditions() {
    let mut opts = known_context();
    opts.parameters.insert("KeyMode".into(), "aws-owned".into());
    opts.parameters.insert("AuthMode".into(), "iam".into());
    opts.parameters.insert("Environment".into(), "prod".into());
    let r = read_fixture("conditions.yaml", &opts);
    assert_eq!(r.records.len(), 2);
    let rec = &r.records[0];
    assert!(rec.plan().unwrap().alternatives.is_empty());
    assert!(rec.plan().unwrap().assumption.is_none());
    assert_eq!(
        rec.properties()["SseConfiguration"],
        json!({"KmsEncryptionConfig": {"CmkType": "AWS_OWNED_KMS_KEY"}})
    );
    assert_eq!(rec.tags.as_ref().unwrap()["Tier"], "gold");
    opts.parameters.insert("KeyMode".into(), "other".into());
    let e = read_text(
        "conditions.yaml",
        &fixture("conditions.yaml"),
        FileKind::Template,
        &opts,
    )
    .unwrap_err();
    assert!(e.0[0].message.contains("AllowedValues"), "{e}");
}

#[test]
fn a_resource_condition_that_is_undecided_is_an_assumption() {
    let text = "\
Parameters:
  Env:
    Type: String
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Store:
    Type: AWS::HealthLake::FHIRDatastore
    Condition: IsProd
    Properties:
      DatastoreTypeVersion: R4
      DatastoreName: !If [IsProd, prod, dev]
";
    let r = read("t.yaml", text, &Options::default());
    let rec = &r.records[0];
    assert_eq!(
        rec.plan().unwrap().assumption.as_deref(),
        Some("condition IsProd is true")
    );
    assert!(rec.plan().unwrap().alternatives.is_empty());
    assert_eq!(rec.properties()["DatastoreName"], "prod");
}

#[test]
fn derived_conditions_follow_their_variable() {
    let text = "\
Parameters:
  Mode:
    Type: String
Conditions:
  UseCmk: !Equals [!Ref Mode, cmk]
  NoCmk: !Not [!Condition UseCmk]
Resources:
  Store:
    Type: AWS::HealthLake::FHIRDatastore
    Properties:
      DatastoreTypeVersion: R4
      DatastoreName: !If [UseCmk, a, b]
      SseConfiguration:
        KmsEncryptionConfig:
          CmkType: !If [NoCmk, AWS_OWNED_KMS_KEY, CUSTOMER_MANAGED_KMS_KEY]
";
    let r = read("t.yaml", text, &Options::default());
    let rec = &r.records[0];
    let plan = rec.plan().unwrap();
    assert_eq!(plan.alternatives.len(), 1);
    let kms = |p: &Value| p["SseConfiguration"]["KmsEncryptionConfig"]["CmkType"].clone();
    assert_eq!(kms(&rec.properties()), "CUSTOMER_MANAGED_KMS_KEY");
    assert_eq!(kms(&plan.alternatives[0].properties), "AWS_OWNED_KMS_KEY");
}

#[test]
fn too_many_undecided_conditions_leave_the_values_unknown() {
    let mut text = String::from("Parameters:\n  P:\n    Type: String\nConditions:\n");
    for i in 0..5 {
        text.push_str(&format!("  C{i}: !Equals [!Ref P, v{i}]\n"));
    }
    text.push_str("Resources:\n  Store:\n    Type: AWS::HealthLake::FHIRDatastore\n    Properties:\n      DatastoreTypeVersion: R4\n      Tags:\n");
    for i in 0..5 {
        text.push_str(&format!(
            "        - Key: T{i}\n          Value: !If [C{i}, a, b]\n"
        ));
    }
    let r = read("t.yaml", &text, &Options::default());
    let rec = &r.records[0];
    assert!(rec.plan().unwrap().alternatives.is_empty());
    assert_eq!(unknowns(rec).len(), 5);
    assert_eq!(unknowns(rec)[0].0, "/@tags/T0");
    assert!(rec.tags.as_ref().unwrap().is_empty());
}

#[test]
fn intrinsics_evaluate_as_cloudformation_does() {
    let text = r#"
Transform: AWS::LanguageExtensions
Parameters:
  Names:
    Type: CommaDelimitedList
    Default: "alpha, beta"
Mappings:
  Keys:
    us-east-1:
      Type: AWS_OWNED_KMS_KEY
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: validator
      Role: arn:aws:iam::111122223333:role/r
      Runtime: python3.12
      Handler: index.handler
      Code:
        ZipFile: "x"
  FnVersion:
    Type: AWS::Lambda::Version
    Properties:
      FunctionName: !Ref Fn
  FnAlias:
    Type: AWS::Lambda::Alias
    Properties:
      FunctionName: !Ref Fn
      FunctionVersion: !GetAtt FnVersion.Version
      Name: live
  Alias:
    Type: AWS::KMS::Alias
    Properties:
      AliasName: alias/fhir
      TargetKeyId: !Ref Key
  Key:
    Type: AWS::KMS::Key
  Store:
    Type: AWS::HealthLake::FHIRDatastore
    Properties:
      DatastoreTypeVersion: R4
      DatastoreName: !Join
        - "-"
        - - !Select [1, !Ref Names]
          - !Select [0, !Split [",", "x,y"]]
          - !Sub ["${A}-${!Literal}", {A: !Length [1, 2, 3]}]
          - {"Fn::Base64": "hi"}
          - !Ref AWS::URLSuffix
      SseConfiguration:
        KmsEncryptionConfig:
          CmkType: !FindInMap [Keys, !Ref "AWS::Region", Type]
      IdentityProviderConfiguration:
        AuthorizationStrategy: SMART_ON_FHIR
        FineGrainedAuthorizationEnabled: "true"
        IdpLambdaArn: !Ref FnAlias
        Metadata: !Sub "${FnVersion}|${Fn.Arn}|${Alias}|${Key}"
      PreloadDataConfig: !Ref AWS::NoValue
"#;
    let r = read("t.yaml", text, &known_context());
    let p = r.records[0].properties();
    assert_eq!(p["DatastoreName"], "beta-x-3-${Literal}-aGk=-amazonaws.com");
    assert!(p.get("PreloadDataConfig").is_none());
    let idp = &p["IdentityProviderConfiguration"];
    assert_eq!(idp["FineGrainedAuthorizationEnabled"], true);
    let f = "arn:aws:lambda:us-east-1:111122223333:function:validator";
    assert_eq!(idp["IdpLambdaArn"], format!("{f}:live"));
    assert_eq!(
        idp["Metadata"],
        format!("{f}:1|{f}|alias/fhir|00000000-0000-0000-0000-000000000000")
    );
    assert_eq!(
        p["SseConfiguration"]["KmsEncryptionConfig"]["CmkType"],
        "AWS_OWNED_KMS_KEY"
    );
}

#[test]
fn unknown_values_never_pass_silently() {
    let text = r#"
Parameters:
  KeyArn:
    Type: String
  Ssm:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /fhir/key
Resources:
  Store:
    Type: AWS::HealthLake::FHIRDatastore
    Properties:
      DatastoreTypeVersion: R4
      DatastoreName: !Select [0, !GetAZs ""]
      SseConfiguration:
        KmsEncryptionConfig:
          CmkType: CUSTOMER_MANAGED_KMS_KEY
          KmsKeyId: !Ref KeyArn
      IdentityProviderConfiguration:
        AuthorizationStrategy: AWS_AUTH
        IdpLambdaArn: !Sub "arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:x"
        Metadata: !Ref Ssm
      Tags: !Split [",", !ImportValue Tags]
"#;
    let r = read("t.yaml", text, &Options::default());
    let rec = &r.records[0];
    let u = unknowns(rec);
    let at = |p: &str| {
        u.iter()
            .find(|(q, _)| q == p)
            .map(|(_, e)| e.as_str())
            .unwrap_or_else(|| panic!("no unknown at {p}: {u:?}"))
    };
    assert!(at("/DatastoreName").starts_with("Fn::GetAZs"));
    assert_eq!(
        at("/SseConfiguration/KmsEncryptionConfig/KmsKeyId"),
        "Ref KeyArn (parameter without Default or --parameter)"
    );
    assert!(at("/IdentityProviderConfiguration/IdpLambdaArn").contains("AWS::Region"));
    assert!(at("/IdentityProviderConfiguration/Metadata").contains("SSM"));
    assert_eq!(at("/@tags"), "Fn::ImportValue Tags");
    assert_eq!(rec.tags, None);
    let p = rec.properties();
    assert!(p.get("DatastoreName").is_none());
    assert!(p["IdentityProviderConfiguration"]
        .get("IdpLambdaArn")
        .is_none());
    // A pseudo parameter with a known context is known.
    let r = read("t.yaml", text, &known_context());
    assert_eq!(
        r.records[0].properties()["IdentityProviderConfiguration"]["IdpLambdaArn"],
        "arn:aws:lambda:us-east-1:111122223333:function:x"
    );
}

#[test]
fn a_macro_or_unknown_properties_leave_the_whole_resource_undecided() {
    let text = "\
Transform: [MyMacro, AWS::Serverless-2016-10-31]
Resources:
  Store:
    Type: AWS::HealthLake::FHIRDatastore
    Properties:
      DatastoreTypeVersion: R4
";
    let r = read("t.yaml", text, &Options::default());
    let rec = &r.records[0];
    assert_eq!(
        unknowns(rec),
        vec![(
            String::new(),
            "Transform MyMacro (a macro that rewrites the template at deploy)".to_owned()
        )]
    );
    let text = "\
Resources:
  Store:
    Type: AWS::HealthLake::FHIRDatastore
    Properties: !ImportValue StoreProperties
";
    let r = read("t.yaml", text, &Options::default());
    let rec = &r.records[0];
    assert_eq!(unknowns(rec)[0].0, "");
    assert_eq!(rec.tags, None);
    assert!(rec.plan().unwrap().defaults.is_empty());
}

#[test]
fn an_include_transform_is_a_macro_and_a_nested_stack_is_a_warning() {
    let text = "\
Transform:
  Name: AWS::Include
  Parameters:
    Location: s3://bucket/snippet.yaml
Resources:
  Child:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: https://example.com/child.yaml
  Store:
    Type: AWS::HealthLake::FHIRDatastore
    Properties:
      DatastoreTypeVersion: R4
";
    let r = read("t.yaml", text, &Options::default());
    assert!(unknowns(&r.records[0])[0]
        .1
        .starts_with("Transform AWS::Include"));
    assert_eq!(r.warnings.len(), 1);
    assert!(
        r.warnings[0].contains("`Child` is a nested stack"),
        "{:?}",
        r.warnings
    );
}

#[test]
fn a_template_without_a_data_store_is_no_error() {
    let r = read_fixture("no-datastore.yaml", &Options::default());
    assert!(r.records.is_empty());
    assert_eq!(r.without_datastores, vec!["no-datastore.yaml"]);
    assert_eq!(r.templates, 1);
}

#[test]
fn cdk_construct_paths_are_kept() {
    let text = r#"{"Resources": {"StoreABC123": {"Type": "AWS::HealthLake::FHIRDatastore",
      "Properties": {"DatastoreTypeVersion": "R4"},
      "Metadata": {"aws:cdk:path": "App/Stack/Store/Resource"}}}}"#;
    let r = read("Stack.template.json", text, &Options::default());
    assert_eq!(
        r.records[0].plan().unwrap().names["construct"],
        "App/Stack/Store/Resource"
    );
    assert_eq!(r.records[0].key(), "Stack.template.json#StoreABC123");
}

#[test]
fn errors_render_like_a_compiler_and_all_at_once() {
    let cases = [
        ("unknown-function", "Resources:\n  S:\n    Type: AWS::HealthLake::FHIRDatastore\n    Properties:\n      DatastoreTypeVersion: R4\n      DatastoreName: !Foo bar\n      PreloadDataConfig: {\"Fn::Bar\": 1}\n      IdentityProviderConfiguration: !GetAttr [A, B]\n"),
        ("bad-sub", "Resources:\n  S:\n    Type: AWS::HealthLake::FHIRDatastore\n    Properties:\n      DatastoreTypeVersion: R4\n      DatastoreName: !Sub \"${Undefined}-x\"\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub \"${Open\"\n"),
        ("missing-ref", "Resources:\n  S:\n    Type: AWS::HealthLake::FHIRDatastore\n    Properties:\n      DatastoreTypeVersion: R4\n      DatastoreName: !Ref Nmae\nParameters:\n  Name:\n    Type: String\n"),
        ("find-in-map", "Mappings:\n  M:\n    a:\n      b: c\nResources:\n  S:\n    Type: AWS::HealthLake::FHIRDatastore\n    Properties:\n      DatastoreTypeVersion: R4\n      DatastoreName: !FindInMap [M, a, zz]\n"),
        ("condition-cycle", "Conditions:\n  A: !Condition B\n  B: !Not [!Condition A]\nResources:\n  S:\n    Type: AWS::HealthLake::FHIRDatastore\n    Condition: A\n    Properties:\n      DatastoreTypeVersion: R4\n"),
        ("bad-property", "Resources:\n  S:\n    Type: AWS::HealthLake::FHIRDatastore\n    Properties:\n      DatastoreTypeVersion: R4\n      SseConfiguraton: {}\n      IdentityProviderConfiguration:\n        AuthorizationStrategy: OPEN\n        FineGrainedAuthorizationEnabled: [1]\n"),
        ("missing-required", "Resources:\n  S:\n    Type: AWS::HealthLake::FHIRDatastore\n    Properties:\n      DatastoreName: x\n"),
        ("shapes", "Resources:\n  S:\n    Type: AWS::HealthLake::FHIRDatastore\n    Properties:\n      DatastoreTypeVersion: R4\n      DatastoreName: !Join [\"-\"]\n      PreloadDataConfig:\n        PreloadDataType: !Select [5, [a]]\n"),
        ("duplicate-tag", "Resources:\n  S:\n    Type: AWS::HealthLake::FHIRDatastore\n    Properties:\n      DatastoreTypeVersion: R4\n      Tags:\n        - {Key: Owner, Value: a}\n        - {Key: Owner, Value: b}\n"),
        ("duplicate-key", "Resources:\n  S:\n    Type: AWS::HealthLake::FHIRDatastore\n    Properties:\n      DatastoreTypeVersion: R4\n      DatastoreTypeVersion: R4\n"),
        ("bad-json", "{\n  \"Resources\": {\n    \"S\": {\"Type\": \"AWS::HealthLake::FHIRDatastore\",}\n  }\n}\n"),
        ("bad-yaml", "Resources:\n  S:\n    Type: [AWS::HealthLake::FHIRDatastore\n"),
        ("to-json-without-transform", "Resources:\n  S:\n    Type: AWS::HealthLake::FHIRDatastore\n    Properties:\n      DatastoreTypeVersion: R4\n      IdentityProviderConfiguration:\n        AuthorizationStrategy: SMART_ON_FHIR\n        Metadata: !ToJsonString {a: 1}\n"),
    ];
    for (name, text) in cases {
        let e = errors(text);
        for err in &e.0 {
            assert!(
                err.line > 0 && err.hint.is_some(),
                "{name}: {}",
                err.render()
            );
        }
        insta::assert_snapshot!(format!("error-{name}"), e.to_string());
    }
}

#[test]
fn json_and_yaml_forms_of_a_template_read_the_same() {
    let yaml = read_fixture("aws-owned.json", &known_context());
    let as_yaml = "\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Store:
    Type: AWS::HealthLake::FHIRDatastore
    Properties:
      DatastoreName: owned-key-store
      DatastoreTypeVersion: R4
      PreloadDataConfig: {PreloadDataType: SYNTHEA}
      SseConfiguration:
        KmsEncryptionConfig: {CmkType: AWS_OWNED_KMS_KEY}
      IdentityProviderConfiguration:
        AuthorizationStrategy: AWS_AUTH
        FineGrainedAuthorizationEnabled: false
      Tags: [{Key: Owner, Value: research}]
";
    let other = read("aws-owned.json", as_yaml, &known_context());
    assert_eq!(yaml.records[0].properties(), other.records[0].properties());
    assert_eq!(yaml.records[0].tags, other.records[0].tags);
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_-]{1,12}",
        Just("R4".to_owned()),
        Just("AWS_OWNED_KMS_KEY".to_owned()),
        Just("true".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn reading_never_panics_on_arbitrary_text(text in "\\PC{0,300}") {
        let _ = read_text("t.yaml", &text, FileKind::Template, &Options::default());
        let _ = recognise_text(&text);
    }

    #[test]
    fn reading_never_panics_on_yaml_punctuation(text in "[-:{}\\[\\],'\"!&*#|>%@ \n\ta-z0-9?.~]{0,200}") {
        let _ = read_text("t.yaml", &text, FileKind::Template, &Options::default());
        let _ = recognise_text(&text);
    }

    #[test]
    fn reading_never_panics_on_template_shaped_text(
        name in scalar(), cmk in scalar(), tag in scalar(),
        func in prop_oneof![Just("!Ref"), Just("!Sub"), Just("!GetAtt"), Just("!If"), Just("!Foo"), Just("")],
    ) {
        let text = format!(
            "Resources:\n  S:\n    Type: AWS::HealthLake::FHIRDatastore\n    Properties:\n      DatastoreTypeVersion: R4\n      DatastoreName: {func} {name}\n      SseConfiguration:\n        KmsEncryptionConfig:\n          CmkType: {cmk}\n      Tags:\n        - Key: {tag}\n          Value: {func} [{name}, {tag}]\n"
        );
        let _ = read_text("t.yaml", &text, FileKind::Template, &Options::default());
    }

    #[test]
    fn json_and_yaml_forms_give_the_same_records(
        name in "[a-z][a-z0-9-]{0,10}",
        cmk in prop_oneof![Just("AWS_OWNED_KMS_KEY"), Just("CUSTOMER_MANAGED_KMS_KEY")],
        fgae in any::<bool>(),
        tags in proptest::collection::btree_map("[A-Z][a-z]{0,6}", "[a-z0-9]{0,8}", 0..4),
    ) {
        let template = json!({
            "Resources": {"Store": {"Type": "AWS::HealthLake::FHIRDatastore", "Properties": {
                "DatastoreName": name,
                "DatastoreTypeVersion": "R4",
                "SseConfiguration": {"KmsEncryptionConfig": {"CmkType": cmk}},
                "IdentityProviderConfiguration": {"AuthorizationStrategy": "AWS_AUTH", "FineGrainedAuthorizationEnabled": fgae},
                "Tags": tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
            }}}
        });
        let as_json = serde_json::to_string_pretty(&template).unwrap();
        let as_yaml = to_yaml(&template, 0);
        let a = read("t", &as_json, &Options::default());
        let b = read("t", &as_yaml, &Options::default());
        prop_assert_eq!(a.records[0].properties(), b.records[0].properties());
        prop_assert_eq!(&a.records[0].tags, &b.records[0].tags);
        prop_assert_eq!(&a.records[0].plan().unwrap().defaults, &b.records[0].plan().unwrap().defaults);
    }
}

/// Block YAML for a JSON value (strings quoted).
fn to_yaml(v: &Value, indent: usize) -> String {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) if !m.is_empty() => m
            .iter()
            .map(|(k, v)| match v {
                Value::Object(o) if !o.is_empty() => {
                    format!("{pad}{k}:\n{}", to_yaml(v, indent + 2))
                }
                Value::Array(a) if !a.is_empty() => {
                    format!("{pad}{k}:\n{}", to_yaml(v, indent + 2))
                }
                _ => format!("{pad}{k}: {}\n", v),
            })
            .collect(),
        Value::Array(a) if !a.is_empty() => a
            .iter()
            .map(|item| {
                let inner = to_yaml(item, indent + 2);
                format!("{pad}- {}\n", inner.trim_start().trim_end())
            })
            .collect(),
        _ => format!("{pad}{v}\n"),
    }
}

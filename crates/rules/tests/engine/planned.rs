//! Planned data stores: run-time policies, values known only after deploy (three-valued
//! conditions), shapes under undecided conditions, defaults and locations.

use hlaudit_model::identity::Planned;
use hlaudit_model::planned::{Alternative, Located, PlanDetail, Unknown};
use hlaudit_model::{Context, Finding, Inventory, Record, Status, Timestamp};
use hlaudit_rules::{compile, evaluate, EvalOptions, Overrides, PolicySource};
use serde_json::json;

const POLICIES: &str = r#"
policies:
  - id: P-CMK
    title: CMK
    severity: high
    description: d
    assert: {path: SseConfiguration.KmsEncryptionConfig.CmkType, equals: CUSTOMER_MANAGED_KMS_KEY}
  - id: P-REGION
    title: key in region
    severity: medium
    description: d
    applies_when: {path: SseConfiguration.KmsEncryptionConfig.CmkType, equals: CUSTOMER_MANAGED_KMS_KEY}
    assert: {path: SseConfiguration.KmsEncryptionConfig.KmsKeyId|arn.region, equals: {path: "@region"}}
  - id: P-EITHER
    title: either
    severity: low
    description: d
    assert:
      any:
        - {path: SseConfiguration.KmsEncryptionConfig.KmsKeyId, starts_with: "arn:"}
        - {path: DatastoreName, equals: ok}
  - id: P-RUN
    title: backups
    severity: low
    description: d
    runtime: true
    assert: {path: BackupStatusInfo.Configuration.Status, equals: ENABLED}
"#;

fn planned(props: serde_json::Value, plan: PlanDetail, ctx: Context) -> Record {
    Record::planned_from_value(
        &props,
        Planned {
            file: "t.yaml".into(),
            address: "Store".into(),
        },
    )
    .unwrap()
    .with_context(ctx)
    .with_tags(Default::default())
    .with_plan(plan)
}

fn run(rec: Record, unknown_fails: bool) -> Vec<(String, Finding)> {
    let set = compile(
        &[PolicySource::from_text("p.yaml", POLICIES)],
        &Overrides::none(),
    )
    .unwrap();
    let inv = Inventory {
        records: vec![rec],
        ..Inventory::default()
    };
    let opts = EvalOptions::at(Timestamp::now()).unknown_fails(unknown_fails);
    evaluate(&set, &inv, opts)
        .into_iter()
        .map(|f| (set.get(f.policy_index()).unwrap().meta.id.clone(), f))
        .collect()
}

fn get<'a>(fs: &'a [(String, Finding)], id: &str) -> &'a Finding {
    &fs.iter().find(|(i, _)| i == id).unwrap().1
}

fn us_east() -> Context {
    Context {
        account: Some("111122223333".into()),
        region: Some("us-east-1".into()),
        partition: Some("aws".into()),
    }
}

#[test]
fn a_default_fails_with_a_note_and_points_at_the_resource() {
    let plan = PlanDetail {
        locations: vec![Located {
            pointer: String::new(),
            line: 4,
            column: 3,
        }],
        defaults: vec!["/SseConfiguration".into()],
        ..PlanDetail::default()
    };
    let rec = planned(
        json!({"DatastoreTypeVersion": "R4", "SseConfiguration": {"KmsEncryptionConfig": {"CmkType": "AWS_OWNED_KMS_KEY"}}}),
        plan,
        us_east(),
    );
    let fs = run(rec, false);
    let f = get(&fs, "P-CMK");
    assert_eq!(f.status, Status::Fail);
    assert!(f.evidence()[0]
        .note
        .as_deref()
        .unwrap()
        .contains("default applies"));
    assert_eq!(f.location().unwrap().to_string(), "t.yaml:4:3");
    // Run-time policies are SKIP with the reason.
    let r = get(&fs, "P-RUN");
    assert_eq!(r.status, Status::Skip);
    assert!(
        r.message().contains("not evaluated before deploy"),
        "{}",
        r.message()
    );
}

#[test]
fn an_unknown_value_leaves_the_pair_undecided_unless_unknowns_fail() {
    let plan = PlanDetail {
        locations: vec![
            Located {
                pointer: String::new(),
                line: 4,
                column: 3,
            },
            Located {
                pointer: "/SseConfiguration/KmsEncryptionConfig/CmkType".into(),
                line: 9,
                column: 11,
            },
        ],
        unknowns: vec![Unknown {
            pointer: "/SseConfiguration/KmsEncryptionConfig/KmsKeyId".into(),
            expression: "Fn::ImportValue SharedKey".into(),
        }],
        ..PlanDetail::default()
    };
    let props = json!({"DatastoreTypeVersion": "R4", "SseConfiguration": {"KmsEncryptionConfig": {"CmkType": "CUSTOMER_MANAGED_KMS_KEY"}}});
    let fs = run(planned(props.clone(), plan.clone(), us_east()), false);
    assert_eq!(get(&fs, "P-CMK").status, Status::Pass);
    let r = get(&fs, "P-REGION");
    assert_eq!(r.status, Status::Skip);
    assert!(r.undecided());
    assert!(
        r.message().contains("Fn::ImportValue SharedKey"),
        "{}",
        r.message()
    );
    assert_eq!(
        &*r.evidence()[0].pointer,
        "/SseConfiguration/KmsEncryptionConfig/KmsKeyId"
    );
    // `any` with one undecided child and one false child is undecided.
    assert!(get(&fs, "P-EITHER").undecided());
    let strict = run(planned(props, plan, us_east()), true);
    assert_eq!(get(&strict, "P-REGION").status, Status::Fail);
    assert!(get(&strict, "P-REGION").undecided());
}

#[test]
fn a_true_child_decides_any_despite_an_unknown_one() {
    let plan = PlanDetail {
        unknowns: vec![Unknown {
            pointer: "/SseConfiguration".into(),
            expression: "Ref Sse (parameter without Default or --parameter)".into(),
        }],
        ..PlanDetail::default()
    };
    let fs = run(
        planned(json!({"DatastoreName": "ok"}), plan, us_east()),
        false,
    );
    assert_eq!(get(&fs, "P-EITHER").status, Status::Pass);
    assert!(get(&fs, "P-CMK").undecided());
}

#[test]
fn an_unknown_region_is_undecided_not_failed() {
    let props = json!({"SseConfiguration": {"KmsEncryptionConfig": {"CmkType": "CUSTOMER_MANAGED_KMS_KEY",
        "KmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000"}}});
    let fs = run(
        planned(props, PlanDetail::default(), Context::default()),
        false,
    );
    let r = get(&fs, "P-REGION");
    assert_eq!(r.status, Status::Skip);
    assert!(r.message().contains("--region"), "{}", r.message());
}

#[test]
fn every_shape_must_hold_and_a_failing_one_is_named() {
    let cmk = json!({"SseConfiguration": {"KmsEncryptionConfig": {"CmkType": "CUSTOMER_MANAGED_KMS_KEY",
        "KmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000"}}});
    let owned =
        json!({"SseConfiguration": {"KmsEncryptionConfig": {"CmkType": "AWS_OWNED_KMS_KEY"}}});
    let plan = PlanDetail {
        assumption: Some("condition UseCmk is true".into()),
        alternatives: vec![Alternative {
            properties: owned,
            tags: Some(Default::default()),
            detail: PlanDetail {
                assumption: Some("condition UseCmk is false".into()),
                ..PlanDetail::default()
            },
        }],
        ..PlanDetail::default()
    };
    let fs = run(planned(cmk.clone(), plan, us_east()), false);
    let f = get(&fs, "P-CMK");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message().contains("when condition UseCmk is false"),
        "{}",
        f.message()
    );
    // Both shapes pass the region policy where it applies.
    assert_eq!(get(&fs, "P-REGION").status, Status::Pass);
    // Without the alternative, the same record passes.
    let fs = run(planned(cmk, PlanDetail::default(), us_east()), false);
    assert_eq!(get(&fs, "P-CMK").status, Status::Pass);
}

//! Protocol conformance over plain HTTP: targets, errors, pagination, filters, auth.

use hlaudit_emulator::datastore::DatastoreJson;
use hlaudit_emulator::{Emulator, RunningEmulator};
use serde_json::{json, Value};

use crate::common::*;

fn emulator(records: Vec<hlaudit_model::Record>) -> RunningEmulator {
    Emulator::builder()
        .records(records)
        .access_key(KEY, ACCOUNT)
        .access_key(OTHER_KEY, OTHER_ACCOUNT)
        .start_blocking()
        .unwrap()
}

#[test]
fn lists_every_page_once_with_max_results_and_the_default_page_size() {
    let emu = emulator(records(ACCOUNT, "us-east-1", 250));
    let want = ids(&emu.datastores(ACCOUNT, "us-east-1"));
    assert_eq!(want.len(), 250);

    let (got, pages) = list_all(emu.addr(), signed("us-east-1"), None, Some(100));
    assert_eq!((ids(&got), pages), (want.clone(), 3));
    let (got, pages) = list_all(emu.addr(), signed("us-east-1"), None, Some(1));
    assert_eq!((ids(&got), pages), (want.clone(), 250));
    // No MaxResults: pages of DEFAULT_PAGE_SIZE (100).
    let (got, pages) = list_all(emu.addr(), signed("us-east-1"), None, None);
    assert_eq!((ids(&got), pages), (want.clone(), 3));
    let (got, pages) = list_all(emu.addr(), signed("us-east-1"), None, Some(500));
    assert_eq!((ids(&got), pages), (want, 1));

    let log = emu.log();
    let sizes: Vec<usize> = log.iter().filter_map(|e| e.returned).take(3).collect();
    assert_eq!(sizes, [100, 100, 50]);
    assert!(log.iter().all(|e| e.status == 200 && e.fault.is_none()));
}

#[test]
fn region_comes_from_the_signature_and_account_from_the_access_key() {
    let mut data = records(ACCOUNT, "us-east-1", 3);
    data.extend(records(ACCOUNT, "eu-west-2", 5));
    data.extend(records(OTHER_ACCOUNT, "us-east-1", 7));
    let emu = emulator(data);
    let count = |key, region| {
        list_all(emu.addr(), Auth::Signed { key, region }, None, None)
            .0
            .len()
    };
    assert_eq!(count(KEY, "us-east-1"), 3);
    assert_eq!(count(KEY, "eu-west-2"), 5);
    assert_eq!(count(OTHER_KEY, "us-east-1"), 7);
    assert_eq!(count(OTHER_KEY, "eu-west-2"), 0);
    assert_eq!(count(KEY, "ap-south-1"), 0);
    // An unmapped key gets the default account: several accounts in the data, so
    // 123456789012, which has nothing.
    assert_eq!(emu.default_account(), "123456789012");
    assert_eq!(count("AKIDUNKNOWN", "us-east-1"), 0);
    let log = emu.log();
    assert_eq!(log[0].region.as_deref(), Some("us-east-1"));
    assert_eq!(log[0].account.as_deref(), Some(ACCOUNT));
    assert_eq!(log[2].account.as_deref(), Some(OTHER_ACCOUNT));
}

#[test]
fn the_only_account_in_the_data_is_the_default() {
    let emu = Emulator::builder()
        .records(records(OTHER_ACCOUNT, "us-east-1", 2))
        .start_blocking()
        .unwrap();
    assert_eq!(emu.default_account(), OTHER_ACCOUNT);
    let (got, _) = list_all(
        emu.addr(),
        Auth::Signed {
            key: "ANYKEY",
            region: "us-east-1",
        },
        None,
        None,
    );
    assert_eq!(got.len(), 2);
}

#[test]
fn max_results_outside_1_to_500_is_a_validation_error() {
    let emu = emulator(records(ACCOUNT, "us-east-1", 3));
    for bad in [0, -1, 501, 100_000] {
        let r = op(
            emu.addr(),
            "ListFHIRDatastores",
            "us-east-1",
            json!({"MaxResults": bad}),
        );
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.error_code(), "ValidationException");
        assert_eq!(r.json()["__type"], "ValidationException");
        assert!(r.json()["Message"].as_str().unwrap().contains("maxResults"));
    }
    for good in [1, 500] {
        let r = op(
            emu.addr(),
            "ListFHIRDatastores",
            "us-east-1",
            json!({"MaxResults": good}),
        );
        assert_eq!(r.status, 200, "{good}");
    }
    let r = op(
        emu.addr(),
        "ListFHIRDatastores",
        "us-east-1",
        json!({"MaxResults": "ten"}),
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "SerializationException")
    );
}

#[test]
fn a_next_token_that_is_not_ours_or_from_another_listing_is_refused() {
    let emu = emulator(records(ACCOUNT, "us-east-1", 10));
    let first = op(
        emu.addr(),
        "ListFHIRDatastores",
        "us-east-1",
        json!({"MaxResults": 2}),
    );
    let token = first.json()["NextToken"].as_str().unwrap().to_owned();
    for bad in [
        json!("garbage"),
        json!(""),
        json!(token.replace(&token[..4], "ffff")),
    ] {
        let r = op(
            emu.addr(),
            "ListFHIRDatastores",
            "us-east-1",
            json!({"NextToken": bad, "MaxResults": 2}),
        );
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (400, "ValidationException"),
            "{bad}"
        );
    }
    // The same token under another filter or in another region is refused too.
    let r = op(
        emu.addr(),
        "ListFHIRDatastores",
        "us-east-1",
        json!({"NextToken": token, "Filter": {"DatastoreStatus": "ACTIVE"}}),
    );
    assert_eq!(r.error_code(), "ValidationException");
    let r = op(
        emu.addr(),
        "ListFHIRDatastores",
        "eu-west-1",
        json!({"NextToken": token}),
    );
    assert_eq!(r.error_code(), "ValidationException");
    // And it still works where it belongs.
    let r = op(
        emu.addr(),
        "ListFHIRDatastores",
        "us-east-1",
        json!({"NextToken": token, "MaxResults": 2}),
    );
    assert_eq!(r.status, 200);
}

#[test]
fn filters_select_exactly_what_they_name() {
    let emu = emulator(records(ACCOUNT, "us-east-1", 30));
    let all = emu.datastores(ACCOUNT, "us-east-1");
    let select = |f: &dyn Fn(&Value) -> bool| -> Vec<String> {
        ids(&all.iter().filter(|v| f(v)).cloned().collect::<Vec<_>>())
    };
    let listed =
        |filter: Value| ids(&list_all(emu.addr(), signed("us-east-1"), Some(filter), Some(4)).0);

    // Name: exact match only ("store-1" is not a prefix filter for "store-10").
    assert_eq!(
        listed(json!({"DatastoreName": "store-1"})),
        select(&|v| v["DatastoreName"] == "store-1")
    );
    assert_eq!(listed(json!({"DatastoreName": "store-1"})).len(), 1);
    assert!(listed(json!({"DatastoreName": "store"})).is_empty());
    for status in STATUSES {
        assert_eq!(
            listed(json!({"DatastoreStatus": status})),
            select(&|v| v["DatastoreStatus"] == status)
        );
    }
    let t = 1_700_000_000.0 + 10.0 * 3600.0; // between store-9 and store-10
    let created = |v: &Value| v["CreatedAt"].as_f64().unwrap();
    assert_eq!(
        listed(json!({"CreatedBefore": t})),
        select(&|v| created(v) < t)
    );
    assert_eq!(
        listed(json!({"CreatedAfter": t})),
        select(&|v| created(v) > t)
    );
    assert_eq!(listed(json!({"CreatedAfter": t})).len(), 20);
    let t2 = t + 5.0 * 3600.0;
    assert_eq!(
        listed(json!({"CreatedAfter": t, "CreatedBefore": t2, "DatastoreStatus": "ACTIVE"})),
        select(&|v| created(v) > t && created(v) < t2 && v["DatastoreStatus"] == "ACTIVE")
    );

    let r = op(
        emu.addr(),
        "ListFHIRDatastores",
        "us-east-1",
        json!({"Filter": {"DatastoreStatus": "SLEEPING"}}),
    );
    assert_eq!(r.error_code(), "ValidationException");
    let r = op(
        emu.addr(),
        "ListFHIRDatastores",
        "us-east-1",
        json!({"Filter": {"DatastoreName": ""}}),
    );
    assert_eq!(r.error_code(), "ValidationException");
}

#[test]
fn describe_and_list_tags_serve_the_snapshot() {
    let emu = emulator(records(ACCOUNT, "us-east-1", 3));
    let want = &emu.datastores(ACCOUNT, "us-east-1")[1];
    let id = want["DatastoreId"].as_str().unwrap();
    let arn = want["DatastoreArn"].as_str().unwrap();

    let r = op(
        emu.addr(),
        "DescribeFHIRDatastore",
        "us-east-1",
        json!({"DatastoreId": id}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(&r.json()["DatastoreProperties"], want);

    let r = op(
        emu.addr(),
        "DescribeFHIRDatastore",
        "us-east-1",
        json!({"DatastoreId": "nope"}),
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "ResourceNotFoundException")
    );
    // Same id, other region: not there.
    let r = op(
        emu.addr(),
        "DescribeFHIRDatastore",
        "eu-west-1",
        json!({"DatastoreId": id}),
    );
    assert_eq!(r.error_code(), "ResourceNotFoundException");
    let r = op(emu.addr(), "DescribeFHIRDatastore", "us-east-1", json!({}));
    assert_eq!(r.error_code(), "ValidationException");

    let r = op(
        emu.addr(),
        "ListTagsForResource",
        "us-east-1",
        json!({"ResourceARN": arn}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"Tags": [{"Key": "Env", "Value": "dev"}, {"Key": "Index", "Value": "1"}]})
    );
    let r = op(
        emu.addr(),
        "ListTagsForResource",
        "us-east-1",
        json!({"ResourceARN": arn.replace("111122223333", "999999999999")}),
    );
    assert_eq!(r.error_code(), "ResourceNotFoundException");
    let r = op(
        emu.addr(),
        "ListTagsForResource",
        "us-east-1",
        json!({"ResourceARN": "not-an-arn"}),
    );
    assert_eq!(r.error_code(), "ValidationException");
}

#[test]
fn create_and_tag_build_state_through_the_api() {
    let emu = emulator(Vec::new());
    let r = op(
        emu.addr(),
        "CreateFHIRDatastore",
        "ap-southeast-2",
        json!({"DatastoreName": "made", "DatastoreTypeVersion": "R4", "ClientToken": "t1",
               "Tags": [{"Key": "Env", "Value": "test"}],
               "SseConfiguration": {"KmsEncryptionConfig": {"CmkType": "CUSTOMER_MANAGED_KMS_KEY", "KmsKeyId": "arn:aws:kms:ap-southeast-2:111122223333:key/k"}}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let created = r.json();
    assert_eq!(created["DatastoreStatus"], "CREATING");
    let id = created["DatastoreId"].as_str().unwrap().to_owned();
    let arn = created["DatastoreArn"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);
    assert_eq!(
        arn,
        format!("arn:aws:healthlake:ap-southeast-2:{ACCOUNT}:datastore/fhir/{id}")
    );

    // The same ClientToken gives the same data store, not a second one.
    let again = op(
        emu.addr(),
        "CreateFHIRDatastore",
        "ap-southeast-2",
        json!({"DatastoreName": "made", "DatastoreTypeVersion": "R4", "ClientToken": "t1"}),
    );
    assert_eq!(again.json()["DatastoreId"], id.as_str());

    let listed = emu.datastores(ACCOUNT, "ap-southeast-2");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["DatastoreStatus"], "ACTIVE");
    assert_eq!(listed[0]["DatastoreName"], "made");
    assert_eq!(
        listed[0]["SseConfiguration"]["KmsEncryptionConfig"]["CmkType"],
        "CUSTOMER_MANAGED_KMS_KEY"
    );
    assert!(listed[0]["CreatedAt"].is_number());

    let r = op(
        emu.addr(),
        "TagResource",
        "ap-southeast-2",
        json!({"ResourceARN": arn, "Tags": [{"Key": "Owner", "Value": "team"}, {"Key": "Env", "Value": "prod"}]}),
    );
    assert_eq!((r.status, r.body.as_str()), (200, "{}"));
    let tags = emu.tags(&arn).unwrap();
    assert_eq!(tags.get("Env").map(String::as_str), Some("prod"));
    assert_eq!(tags.get("Owner").map(String::as_str), Some("team"));

    let r = op(
        emu.addr(),
        "CreateFHIRDatastore",
        "ap-southeast-2",
        json!({"DatastoreName": "x"}),
    );
    assert_eq!(r.error_code(), "ValidationException");
    let r = op(
        emu.addr(),
        "CreateFHIRDatastore",
        "ap-southeast-2",
        json!({"DatastoreTypeVersion": "R4", "IdentityProviderConfiguration": {"FineGrainedAuthorizationEnabled": "yes"}}),
    );
    assert_eq!(r.error_code(), "ValidationException");
    assert!(
        r.body.contains("FineGrainedAuthorizationEnabled"),
        "{}",
        r.body
    );
    let r = op(
        emu.addr(),
        "TagResource",
        "us-east-1",
        json!({"ResourceARN": arn, "Tags": []}),
    );
    assert_eq!(r.error_code(), "ResourceNotFoundException");
}

#[test]
fn requests_without_a_sigv4_header_are_refused_as_aws_does() {
    let emu = emulator(records(ACCOUNT, "us-east-1", 1));
    let list = Some("HealthLake.ListFHIRDatastores");
    let r = call(emu.addr(), list, "{}", Auth::None);
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"__type": "com.amazon.coral.service#MissingAuthenticationTokenException",
               "message": "Request is missing Authentication Token"})
    );
    let r = call(emu.addr(), list, "{}", Auth::Raw("Bearer abc"));
    assert_eq!(r.error_code(), "IncompleteSignatureException");
    let wrong_service = hlaudit_emulator::auth::fake_authorization(KEY, DATE, "us-east-1")
        .replace("/healthlake/", "/s3/");
    let r = call(emu.addr(), list, "{}", Auth::Raw(&wrong_service));
    assert_eq!(r.error_code(), "InvalidSignatureException");
    let other_day = hlaudit_emulator::auth::fake_authorization(KEY, "20261128", "us-east-1");
    let r = call(emu.addr(), list, "{}", Auth::Raw(&other_day));
    assert_eq!(r.error_code(), "InvalidSignatureException");
    // None of these reached the service: no region or account in the log.
    assert!(emu
        .log()
        .iter()
        .all(|e| e.region.is_none() && e.status == 400));
}

#[test]
fn unknown_targets_and_paths_are_unknown_operations() {
    let emu = emulator(Vec::new());
    for target in [
        None,
        Some("HealthLake.DeleteFHIRDatastore"),
        Some("DynamoDB_20120810.ListTables"),
    ] {
        let r = call(emu.addr(), target, "{}", signed("us-east-1"));
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (400, "UnknownOperationException"),
            "{target:?}"
        );
    }
    let r = op(emu.addr(), "ListFHIRDatastores", "us-east-1", json!([1, 2]));
    assert_eq!(r.error_code(), "SerializationException");
    // An empty body is an empty input.
    let r = call(
        emu.addr(),
        Some("HealthLake.ListFHIRDatastores"),
        "",
        signed("us-east-1"),
    );
    assert_eq!(r.status, 200);
}

#[test]
fn responses_carry_the_json_content_type_and_a_request_id() {
    let emu = emulator(records(ACCOUNT, "us-east-1", 1));
    let ok = op(emu.addr(), "ListFHIRDatastores", "us-east-1", json!({}));
    let err = op(
        emu.addr(),
        "DescribeFHIRDatastore",
        "us-east-1",
        json!({"DatastoreId": "x"}),
    );
    for r in [&ok, &err] {
        assert_eq!(r.headers["content-type"], "application/x-amz-json-1.0");
        assert_eq!(r.headers["x-amzn-requestid"].len(), 36);
    }
    assert_ne!(
        ok.headers["x-amzn-requestid"],
        err.headers["x-amzn-requestid"]
    );
    let log = emu.log();
    assert_eq!(log[0].request_id, ok.headers["x-amzn-requestid"]);
}

#[test]
fn iso_8601_timestamps_go_out_as_epoch_seconds() {
    let props = DatastoreJson::new(ACCOUNT, "us-east-1", "iso")
        .created_at("2020-10-27T01:11:04.881000+00:00")
        .field(
            "BackupStatusInfo",
            json!({"LatestRestorePoint": "2020-10-28T00:00:00Z"}),
        )
        .field("SomeFutureField", json!({"kept": true}));
    let record = hlaudit_model::Record::from_value(&props.build()).unwrap();
    let emu = emulator(vec![record]);
    let r = op(emu.addr(), "ListFHIRDatastores", "us-east-1", json!({}));
    let v = &r.json()["DatastorePropertiesList"][0];
    assert_eq!(v["CreatedAt"].as_f64(), Some(1603761064.881));
    assert_eq!(
        v["BackupStatusInfo"]["LatestRestorePoint"].as_f64(),
        Some(1603843200.0)
    );
    assert_eq!(v["SomeFutureField"], json!({"kept": true}));
}

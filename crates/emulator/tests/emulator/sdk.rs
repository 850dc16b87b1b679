//! Wire compatibility with the Rust SDK: parsing, pagination, error mapping, retries.

use std::collections::BTreeSet;

use aws_sdk_healthlake::error::ProvideErrorMetadata;
use aws_sdk_healthlake::types::{
    DatastoreFilter, DatastoreProperties, DatastoreStatus, FhirVersion, Tag,
};
use aws_sdk_healthlake::Client;
use hlaudit_emulator::{Emulator, FaultKind, Faults, RegionSet, RunningEmulator};

use crate::common::*;

/// Every data store through the SDK's paginator.
async fn all_pages(sdk: &Client, page: i32) -> Vec<DatastoreProperties> {
    let mut pages = sdk
        .list_fhir_datastores()
        .max_results(page)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        out.extend(page.unwrap().datastore_properties_list().iter().cloned());
    }
    out
}

async fn start(faults: Faults) -> RunningEmulator {
    let mut data = records(ACCOUNT, "us-east-1", 250);
    data.extend(records(ACCOUNT, "eu-west-1", 20));
    Emulator::builder()
        .records(data)
        .access_key(KEY, ACCOUNT)
        .faults(faults)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_sdk_paginates_and_parses_every_data_store() {
    let emu = start(Faults::default()).await;
    let sdk = sdk_client(&emu, "us-east-1", 1);
    let items = all_pages(&sdk, 40).await;
    let want = emu.datastores(ACCOUNT, "us-east-1");
    assert_eq!(items.len(), want.len());
    for (got, want) in items.iter().zip(&want) {
        assert_eq!(got.datastore_id(), want["DatastoreId"].as_str().unwrap());
        assert_eq!(got.datastore_arn(), want["DatastoreArn"].as_str().unwrap());
        assert_eq!(got.datastore_name(), want["DatastoreName"].as_str());
        assert_eq!(
            got.datastore_status().as_str(),
            want["DatastoreStatus"].as_str().unwrap()
        );
        assert_eq!(got.datastore_type_version(), &FhirVersion::R4);
        let created = got.created_at().unwrap();
        assert_eq!(created.as_secs_f64(), want["CreatedAt"].as_f64().unwrap());
        let auth = got.identity_provider_configuration().unwrap();
        assert!(!auth.fine_grained_authorization_enabled());
    }
    assert_eq!(emu.log().len(), 7); // ceil(250 / 40)

    let filtered = sdk
        .list_fhir_datastores()
        .filter(
            DatastoreFilter::builder()
                .datastore_status(DatastoreStatus::Deleted)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(filtered
        .datastore_properties_list()
        .iter()
        .all(|d| d.datastore_status() == &DatastoreStatus::Deleted));
    assert_eq!(filtered.datastore_properties_list().len(), 83);

    let arn = want[7]["DatastoreArn"].as_str().unwrap();
    let tags = sdk
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    let tags: Vec<(String, String)> = tags
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    assert_eq!(tags, emu.tags(arn).unwrap().into_iter().collect::<Vec<_>>());

    let err = sdk
        .describe_fhir_datastore()
        .datastore_id("nope")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_resource_not_found_exception());
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_sdk_retries_throttling_and_server_errors_and_loses_nothing() {
    let emu = start(Faults {
        seed: 11,
        throttle_rate: 0.3,
        server_error_rate: 0.1,
        ..Faults::default()
    })
    .await;
    let sdk = sdk_client(&emu, "us-east-1", 12);
    let items = all_pages(&sdk, 25).await;
    let got: Vec<&str> = items.iter().map(|d| d.datastore_id()).collect();
    let want = ids(&emu.datastores(ACCOUNT, "us-east-1"));
    assert_eq!(got, want);
    assert_eq!(got.iter().collect::<BTreeSet<_>>().len(), 250);
    let log = emu.log();
    assert!(log.iter().any(|e| e.fault == Some(FaultKind::Throttling)));
    assert!(log.iter().any(|e| e.fault == Some(FaultKind::ServerError)));
    assert_eq!(log.iter().filter(|e| e.status == 200).count(), 10);
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn throttling_is_retried_as_throttling_and_access_denied_is_not_retried() {
    let emu = start(Faults {
        throttle_rate: 1.0,
        access_denied: RegionSet::only(["eu-west-1"]),
        ..Faults::default()
    })
    .await;
    let err = sdk_client(&emu, "us-east-1", 3)
        .list_fhir_datastores()
        .send()
        .await
        .unwrap_err();
    let err = err.into_service_error();
    assert!(err.is_throttling_exception(), "{err:?}");
    assert_eq!(emu.log().len(), 3, "three attempts");

    emu.clear_log();
    let err = sdk_client(&emu, "eu-west-1", 3)
        .list_fhir_datastores()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    assert_eq!(emu.log().len(), 1, "no retry");
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_sdk_builds_state_and_sees_broken_bodies_as_errors() {
    let emu = start(Faults::default()).await;
    let sdk = sdk_client(&emu, "ap-south-1", 1);
    let created = sdk
        .create_fhir_datastore()
        .datastore_name("made-by-sdk")
        .datastore_type_version(FhirVersion::R4)
        .tags(Tag::builder().key("Env").value("ci").build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(created.datastore_status(), &DatastoreStatus::Creating);
    sdk.tag_resource()
        .resource_arn(created.datastore_arn())
        .tags(Tag::builder().key("Owner").value("qa").build().unwrap())
        .send()
        .await
        .unwrap();
    let described = sdk
        .describe_fhir_datastore()
        .datastore_id(created.datastore_id())
        .send()
        .await
        .unwrap();
    let props = described.datastore_properties().unwrap();
    assert_eq!(props.datastore_name(), Some("made-by-sdk"));
    assert_eq!(props.datastore_status(), &DatastoreStatus::Active);
    let tags = emu.tags(created.datastore_arn()).unwrap();
    assert_eq!(tags.len(), 2);

    emu.set_faults(Faults {
        malformed_body_rate: 1.0,
        ..Faults::default()
    })
    .unwrap();
    assert!(sdk.list_fhir_datastores().send().await.is_err());
    emu.set_faults(Faults {
        truncated_body_rate: 1.0,
        ..Faults::default()
    })
    .unwrap();
    assert!(sdk.list_fhir_datastores().send().await.is_err());
    emu.shutdown().await.unwrap();
}

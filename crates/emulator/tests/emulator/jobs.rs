//! Export and import jobs and transformation profiles on the wire: the SDK parses every
//! job of every page, filters are applied by the emulator as the API says, and errors
//! carry the codes the SDK models.

use aws_sdk_healthlake::error::ProvideErrorMetadata;
use aws_sdk_healthlake::primitives::DateTime;
use aws_sdk_healthlake::types::JobStatus;
use hlaudit_emulator::{synthetic, Emulator, Faults, RunningEmulator};
use hlaudit_model::{Kind, Record};
use serde_json::json;

use crate::common::*;

/// Jobs of data store 0 and 1 are submitted from this instant on, one hour apart.
const NOW: i64 = 1_750_000_000;

fn data() -> (Vec<Record>, Vec<Record>) {
    let stores = records(ACCOUNT, "us-east-1", 3);
    let mut jobs = synthetic::jobs(&stores[0], 25, 3, NOW).unwrap();
    jobs.extend(synthetic::jobs(&stores[1], 2, 3, NOW).unwrap());
    (stores, jobs)
}

async fn start(faults: Faults) -> (RunningEmulator, Vec<Record>, Vec<Record>) {
    let (stores, jobs) = data();
    let emu = Emulator::builder()
        .records(stores.clone())
        .records(jobs.clone())
        .access_key(KEY, ACCOUNT)
        .faults(faults)
        .start()
        .await
        .unwrap();
    (emu, stores, jobs)
}

#[tokio::test]
async fn the_sdk_pages_through_every_job_of_a_data_store_and_filters_them() {
    let (emu, stores, jobs) = start(Faults::default()).await;
    let sdk = sdk_client(&emu, "us-east-1", 1);
    let ds = stores[0].id().unwrap();
    let want = emu.jobs(ACCOUNT, "us-east-1", ds, Kind::ExportJob);
    assert_eq!(want.len(), 25);

    let mut pages = sdk
        .list_fhir_export_jobs()
        .datastore_id(ds)
        .max_results(7)
        .into_paginator()
        .send();
    let (mut got, mut count) = (Vec::new(), 0);
    while let Some(page) = pages.next().await {
        count += 1;
        got.extend(page.unwrap().export_job_properties_list().to_vec());
    }
    assert_eq!(count, 4, "25 jobs in pages of 7");
    assert_eq!(got.len(), 25);
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.job_id(), w["JobId"].as_str().unwrap());
        assert_eq!(g.datastore_id(), ds);
        assert_eq!(g.job_status().as_str(), w["JobStatus"].as_str().unwrap());
        assert_eq!(
            g.submit_time().secs(),
            w["SubmitTime"].as_i64().unwrap(),
            "SubmitTime goes out as epoch seconds"
        );
        let s3 = g
            .output_data_config()
            .unwrap()
            .as_s3_configuration()
            .unwrap();
        assert_eq!(
            s3.s3_uri(),
            w["OutputDataConfig"]["S3Configuration"]["S3Uri"]
                .as_str()
                .unwrap()
        );
    }

    // SubmittedAfter and SubmittedBefore are strict bounds on SubmitTime.
    let times: Vec<i64> = want
        .iter()
        .map(|w| w["SubmitTime"].as_i64().unwrap())
        .collect();
    let cut = times[20];
    let recent = sdk
        .list_fhir_export_jobs()
        .datastore_id(ds)
        .submitted_after(DateTime::from_secs(cut))
        .send()
        .await
        .unwrap();
    assert_eq!(
        recent.export_job_properties_list().len(),
        times.iter().filter(|t| **t > cut).count()
    );
    let failed = sdk
        .list_fhir_export_jobs()
        .datastore_id(ds)
        .job_status(JobStatus::Failed)
        .send()
        .await
        .unwrap();
    assert!(failed
        .export_job_properties_list()
        .iter()
        .all(|j| j.job_status() == &JobStatus::Failed));

    // Import jobs are a listing of their own, with their own fields.
    let imports = sdk
        .list_fhir_import_jobs()
        .datastore_id(stores[1].id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(imports.import_job_properties_list().len(), 2);
    let first = &imports.import_job_properties_list()[0];
    assert!(first.input_data_config().unwrap().as_s3_uri().is_ok());
    assert!(first.job_output_data_config().is_some());

    // Describe finds a job by data store and id.
    let job = jobs.iter().find(|j| j.kind() == Kind::ImportJob).unwrap();
    let described = sdk
        .describe_fhir_import_job()
        .datastore_id(ds)
        .job_id(job.id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.import_job_properties().unwrap().job_id(),
        job.id().unwrap()
    );
    // A data store without jobs lists none; one the account does not have is not found.
    let none = sdk
        .list_fhir_export_jobs()
        .datastore_id(stores[2].id().unwrap())
        .send()
        .await
        .unwrap();
    assert!(none.export_job_properties_list().is_empty());
    let err = sdk
        .list_fhir_export_jobs()
        .datastore_id("0123456789abcdef0123456789abcdef")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    let err = sdk
        .list_fhir_export_jobs()
        .datastore_id(ds)
        .max_results(501)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    // Another region has other data stores: not found there.
    let other = sdk_client(&emu, "eu-west-1", 1);
    let err = other
        .list_fhir_import_jobs()
        .datastore_id(ds)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
}

#[tokio::test]
async fn one_denied_call_about_one_data_store_is_refused_and_logged_with_its_arn() {
    let (stores, _) = data();
    let arn = stores[0].arn().unwrap().to_owned();
    let (emu, _, _) = start(Faults {
        denied_calls: [("ListFHIRImportJobs".to_owned(), arn.clone())].into(),
        ..Faults::default()
    })
    .await;
    let sdk = sdk_client(&emu, "us-east-1", 1);
    let ds = stores[0].id().unwrap();
    let err = sdk
        .list_fhir_import_jobs()
        .datastore_id(ds)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    sdk.list_fhir_export_jobs()
        .datastore_id(ds)
        .send()
        .await
        .unwrap();
    let log = emu.log();
    assert!(log
        .iter()
        .all(|e| e.resource.as_deref() == Some(arn.as_str())));
}

#[test]
fn profiles_are_listed_without_their_content_and_got_with_it() {
    let profile = |i: usize, format: &str| {
        json!({
            "ProfileId": format!("p{i:031}"), "Version": 2, "SourceFormat": format,
            "TargetFormat": "FHIR_R4", "ProfileName": format!("profile-{i}"),
            "LastUpdatedAt": 1_700_000_000 + i, "ProfileMapping": {"main.liquid": "{{ x }}"},
            "ChangeDescription": "second version", "FutureField": [1],
        })
    };
    let emu = Emulator::builder()
        .access_key(KEY, ACCOUNT)
        .profiles(
            ACCOUNT,
            "us-east-1",
            (0..250).map(|i| profile(i, if i % 5 == 0 { "CSV" } else { "CCDA" })),
        )
        .start_blocking()
        .unwrap();
    let addr = emu.addr();
    let list =
        |body: serde_json::Value| op(addr, "ListDataTransformationProfiles", "us-east-1", body);
    let no_format = list(json!({}));
    assert_eq!(
        no_format.error_code(),
        "ValidationException",
        "SourceFormat is required"
    );
    let first = list(json!({"SourceFormat": "CCDA"}));
    assert_eq!(first.status, 200, "{}", first.body);
    let first = first.json();
    assert_eq!(
        first["Items"].as_array().unwrap().len(),
        100,
        "default page of 100"
    );
    let item = &first["Items"][0];
    assert_eq!(item["ProfileName"], "profile-1");
    assert_eq!(item["FutureField"], json!([1]));
    assert!(item.get("ProfileMapping").is_none() && item.get("ChangeDescription").is_none());
    let second = list(json!({"SourceFormat": "CCDA", "NextToken": first["NextToken"]})).json();
    assert_eq!(second["Items"].as_array().unwrap().len(), 100);
    assert!(second.get("NextToken").is_none());
    let csv = list(json!({"SourceFormat": "CSV", "MaxResults": 100})).json();
    assert_eq!(csv["Items"].as_array().unwrap().len(), 50);
    assert!(csv["Items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["SourceFormat"] == "CSV"));
    let too_many = op(
        addr,
        "ListDataTransformationProfiles",
        "us-east-1",
        json!({"SourceFormat": "CSV", "MaxResults": 101}),
    );
    assert_eq!(too_many.error_code(), "ValidationException");
    let got = op(
        addr,
        "GetDataTransformationProfile",
        "us-east-1",
        json!({"ProfileId": item["ProfileId"]}),
    )
    .json();
    assert_eq!(got["ProfileMapping"]["main.liquid"], "{{ x }}");
    let missing = op(
        addr,
        "GetDataTransformationProfile",
        "us-east-1",
        json!({"ProfileId": item["ProfileId"], "ProfileVersion": 1}),
    );
    assert_eq!(missing.error_code(), "ResourceNotFoundException");
    let elsewhere = op(
        addr,
        "ListDataTransformationProfiles",
        "eu-west-1",
        json!({"SourceFormat": "CSV"}),
    )
    .json();
    assert!(elsewhere["Items"].as_array().unwrap().is_empty());
    emu.shutdown_blocking().unwrap();
}

//! Export and import jobs (issue 18, "Collection"), against the emulator over HTTP through
//! the real SDK: every job of every data store is collected exactly once, as served and
//! with its data store's account and region, through throttling, 5xx answers and
//! malformed or cut-short pages; `--jobs-since` bounds them by `SubmittedAfter`;
//! `--no-jobs` asks nothing; a job listing denied for one data store is one ERROR naming
//! the data store and the call, exit 2 unless `--allow-partial`. The transformation
//! profiles of each region are collected the same way (the SDK's host prefix dropped for
//! the replaced endpoint), and a profile listing that fails is an ERROR for its region.

mod collect_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Instant;

use collect_support::*;
use hlaudit_e2e::{run, Run};
use hlaudit_emulator::{Emulator, FaultKind, Faults, LogEntry, RunningEmulator};
use hlaudit_model::{Inventory, Kind, Record};
use hlaudit_testkit::report::{Report, Status};
use serde_json::{json, Value};

const DAY: i64 = 86_400;

fn now() -> i64 {
    hlaudit_model::Timestamp::now().epoch_seconds() as i64
}

/// Job `i` of `kind` of data store `store`, submitted `days_ago` days before now, with a
/// field no SDK knows.
fn job(kind: Kind, store: &Record, i: usize, days_ago: i64) -> Record {
    let ds = store.id().unwrap();
    let account = store.account().unwrap();
    let region = store.region().unwrap();
    let s3 = json!({"S3Uri": format!("s3://bucket-{region}/{ds}/{i}/"),
                    "KmsKeyId": format!("arn:aws:kms:{region}:{account}:key/k{i}")});
    let mut value = json!({
        "JobId": format!("{:032x}", (i as u128) << 8 | u128::from(kind == Kind::ImportJob)),
        "JobName": format!("{kind}-{i}"),
        "JobStatus": if i % 5 == 4 { "FAILED" } else { "COMPLETED" },
        "SubmitTime": now() - days_ago * DAY,
        "DatastoreId": ds,
        "DataAccessRoleArn": format!("arn:aws:iam::{account}:role/hl-{i}"),
        "FutureJobField": {"Index": i},
    });
    if kind == Kind::ExportJob {
        value["OutputDataConfig"] = json!({"S3Configuration": s3});
    } else {
        value["InputDataConfig"] = json!({"S3Uri": format!("s3://source-{region}/{i}/")});
        value["JobOutputDataConfig"] = json!({"S3Configuration": s3});
    }
    Record::from_value_as(kind, &value).unwrap()
}

/// `exports` export jobs and `imports` import jobs of every store, submitted every
/// `spacing` days from 1 day ago back.
fn jobs_of(stores: &[Record], exports: usize, imports: usize, spacing: i64) -> Vec<Record> {
    let mut out = Vec::new();
    for store in stores {
        for i in 0..exports {
            out.push(job(Kind::ExportJob, store, i, 1 + spacing * i as i64));
        }
        for i in 0..imports {
            out.push(job(Kind::ImportJob, store, i, 1 + spacing * i as i64));
        }
    }
    out
}

/// `collect` of `regions` into a snapshot (without transformation profiles), read back.
fn collect(
    emu: &RunningEmulator,
    dir: &Path,
    regions: &[&str],
    extra: &[&str],
) -> (Run, Option<Inventory>) {
    let mut args = vec!["--no-transformation-profiles"];
    args.extend(extra);
    collect_with(emu, dir, regions, &args)
}

/// `collect` of `regions` with `extra` flags into a snapshot, read back.
fn collect_with(
    emu: &RunningEmulator,
    dir: &Path,
    regions: &[&str],
    extra: &[&str],
) -> (Run, Option<Inventory>) {
    let path = dir.join("snapshot.json");
    let _ = std::fs::remove_file(&path);
    let out = run(aws_command("collect", &emu.endpoint_url(), dir)
        .args(["--regions", &regions.join(",")])
        .args(extra)
        .arg("-o")
        .arg(&path));
    let inv = path.exists().then(|| read_snapshot(&path));
    (out, inv)
}

/// The jobs of an inventory by (kind, key).
fn collected_jobs(inv: &Inventory) -> BTreeMap<(Kind, String), &Record> {
    let jobs: Vec<&Record> = inv
        .records
        .iter()
        .filter(|r| matches!(r.kind(), Kind::ExportJob | Kind::ImportJob))
        .collect();
    let by_key: BTreeMap<(Kind, String), &Record> = jobs
        .iter()
        .map(|r| ((r.kind(), r.key().into_owned()), *r))
        .collect();
    assert_eq!(by_key.len(), jobs.len(), "a job was collected twice");
    by_key
}

/// Every job the emulator serves for the data stores of `stores` submitted after
/// `after` (epoch seconds) was collected once, as served, with its data store's context;
/// and nothing else.
fn assert_jobs_complete(emu: &RunningEmulator, inv: &Inventory, stores: &[Record], after: i64) {
    let collected = collected_jobs(inv);
    let mut expected = 0;
    for store in stores {
        let (account, region) = (store.account().unwrap(), store.region().unwrap());
        for kind in [Kind::ExportJob, Kind::ImportJob] {
            for wire in emu.jobs(account, region, store.id().unwrap(), kind) {
                if wire["SubmitTime"].as_f64().unwrap() <= after as f64 {
                    continue;
                }
                expected += 1;
                let key = format!(
                    "{}/{kind}/{}",
                    store.id().unwrap(),
                    wire["JobId"].as_str().unwrap()
                );
                let record = collected
                    .get(&(kind, key.clone()))
                    .unwrap_or_else(|| panic!("{key} was not collected"));
                assert_eq!(
                    record.properties(),
                    wire,
                    "{key} differs from what was served"
                );
                assert_eq!(record.account(), Some(account), "{key}");
                assert_eq!(record.region(), Some(region), "{key}");
            }
        }
    }
    assert_eq!(
        collected.len(),
        expected,
        "jobs that were not asked for were collected"
    );
}

fn job_requests(log: &[LogEntry]) -> impl Iterator<Item = &LogEntry> {
    log.iter()
        .filter(|e| e.operation == "ListFHIRExportJobs" || e.operation == "ListFHIRImportJobs")
}

#[test]
fn every_job_is_collected_once_through_throttling_5xx_and_broken_pages() {
    let dir = tempfile::tempdir().unwrap();
    let regions = ["us-east-1", "eu-west-2"];
    let stores = datastores(ACCOUNT, &regions, 12);
    // 9 export and 6 import jobs per data store, 10 days apart: the default 90 days keep
    // them all; pages of 4 give 3 export pages and 2 import pages per data store.
    let jobs = jobs_of(&stores, 9, 6, 10);
    let mut records = stores.clone();
    records.extend(jobs);
    let emu = emulator(
        records,
        Faults {
            seed: 18,
            throttle_rate: 0.15,
            server_error_rate: 0.05,
            malformed_body_rate: 0.05,
            truncated_body_rate: 0.05,
            ..Faults::default()
        },
    );
    let started = Instant::now();
    let (out, inv) = collect(&emu, dir.path(), &regions, &["--page-size", "4"]);
    let took = started.elapsed();
    assert_eq!(out.code, Some(0), "stderr:\n{}", out.stderr);
    assert!(
        out.stderr
            .contains("collected 24 data stores (216 export jobs, 144 import jobs) in 2 regions"),
        "{}",
        out.stderr
    );
    let inv = inv.expect("the snapshot is written");
    assert!(inv.errors.is_empty(), "{:#?}", inv.errors);
    assert_eq!(
        inv.records
            .iter()
            .filter(|r| r.kind() == Kind::Datastore)
            .count(),
        24
    );
    assert_jobs_complete(&emu, &inv, &stores, now() - 90 * DAY - 3600);
    assert_eq!(collected_jobs(&inv).len(), 24 * 15);

    let log = emu.log();
    let faults: Vec<(String, FaultKind)> = job_requests(&log)
        .filter_map(|e| Some((e.operation.clone(), e.fault?)))
        .collect();
    // The dice depend on the request body, which holds SubmittedAfter (now - 90 days):
    // which request fails changes from run to run, so the kinds are asked of both
    // listings together (over ~200 attempts, each kind is all but certain).
    for op in ["ListFHIRExportJobs", "ListFHIRImportJobs"] {
        assert!(
            faults.iter().any(|(o, _)| o == op),
            "no fault on {op}: the test proves nothing"
        );
    }
    for fault in [FaultKind::Throttling, FaultKind::ServerError] {
        assert!(
            faults.iter().any(|(_, f)| *f == fault),
            "no {fault:?}: the test proves nothing"
        );
    }
    assert!(
        faults
            .iter()
            .any(|(_, f)| matches!(f, FaultKind::MalformedBody | FaultKind::TruncatedBody)),
        "no broken page: {faults:?}"
    );
    // Each page (data store, listing, token) was answered whole exactly once, and every
    // page that failed was asked again.
    let mut answered: BTreeMap<(String, Option<String>, Option<String>), usize> = BTreeMap::new();
    for e in job_requests(&log).filter(|e| e.status == 200 && e.fault.is_none()) {
        *answered
            .entry((
                e.operation.clone(),
                e.resource.clone(),
                e.request_token.clone(),
            ))
            .or_default() += 1;
    }
    assert!(
        answered.values().all(|n| *n == 1),
        "a page was read twice: {answered:?}"
    );
    for e in job_requests(&log).filter(|e| e.fault.is_some()) {
        let key = (
            e.operation.clone(),
            e.resource.clone(),
            e.request_token.clone(),
        );
        assert!(
            answered.contains_key(&key),
            "{key:?} failed and was never asked again"
        );
    }
    let pages = answered.len();
    let requests = job_requests(&log).count();
    eprintln!(
        "jobs with faults: {} jobs of 24 data stores, {pages} pages, {requests} job requests, {took:.1?}",
        24 * 15
    );
}

#[test]
fn jobs_since_bounds_the_jobs_and_no_jobs_asks_for_none() {
    let dir = tempfile::tempdir().unwrap();
    let region = "us-east-1";
    let stores = datastores(ACCOUNT, &[region], 3);
    // Jobs 1, 101, 201 and 301 days old.
    let mut records = stores.clone();
    records.extend(jobs_of(&stores, 4, 4, 100));
    let emu = emulator(records, Faults::default());
    let started = now();
    let count = |extra: &[&str]| {
        let (out, inv) = collect(&emu, dir.path(), &[region], extra);
        assert_eq!(out.code, Some(0), "{extra:?}\nstderr:\n{}", out.stderr);
        let inv = inv.expect("the snapshot is written");
        assert!(inv.errors.is_empty(), "{:#?}", inv.errors);
        inv
    };
    let default = count(&[]);
    assert_jobs_complete(&emu, &default, &stores, started - 90 * DAY);
    assert_eq!(
        collected_jobs(&default).len(),
        3 * 2,
        "one job of each kind per data store"
    );

    let longer = count(&["--jobs-since", "250d"]);
    assert_jobs_complete(&emu, &longer, &stores, started - 250 * DAY);
    assert_eq!(collected_jobs(&longer).len(), 3 * 2 * 3);

    let hours = count(&["--jobs-since", "12h"]);
    assert!(
        collected_jobs(&hours).is_empty(),
        "every job is older than 12 hours"
    );

    let all = count(&["--jobs-since", "all"]);
    assert_jobs_complete(&emu, &all, &stores, 0);
    assert_eq!(collected_jobs(&all).len(), 3 * 2 * 4);

    emu.clear_log();
    let none = count(&["--no-jobs"]);
    assert!(collected_jobs(&none).is_empty());
    assert_eq!(none.records.len(), 3);
    assert_eq!(
        job_requests(&emu.log()).count(),
        0,
        "--no-jobs still listed jobs"
    );

    let bad = run(
        aws_command("collect", &emu.endpoint_url(), dir.path()).args([
            "--region",
            region,
            "--jobs-since",
            "soon",
        ]),
    );
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    assert!(
        bad.stderr.contains("--jobs-since") && bad.stderr.contains("90d"),
        "{}",
        bad.stderr
    );
}

/// The messages of the HLAUDIT-COLLECTION ERROR findings of a JSON report.
fn collection_errors(stdout: &str) -> Vec<(String,)> {
    let report = Report::parse(stdout);
    report
        .findings_of("HLAUDIT-COLLECTION")
        .filter(|f| f.status == Status::Error)
        .map(|f| (f.message.clone(),))
        .collect()
}

#[test]
fn a_job_listing_denied_for_one_data_store_is_one_error_naming_it_and_the_call() {
    let dir = tempfile::tempdir().unwrap();
    let region = "us-east-1";
    let stores = datastores(ACCOUNT, &[region], 6);
    let denied = stores[2].arn().unwrap().to_owned();
    let mut records = stores.clone();
    records.extend(jobs_of(&stores, 3, 2, 5));
    let emu = emulator(
        records,
        Faults {
            denied_calls: BTreeSet::from([("ListFHIRExportJobs".to_owned(), denied.clone())]),
            ..Faults::default()
        },
    );
    let (out, inv) = collect(&emu, dir.path(), &[region], &[]);
    assert_eq!(out.code, Some(2), "stderr:\n{}", out.stderr);
    let inv = inv.expect("the snapshot is written");
    let errors: Vec<(&str, &str, Option<&str>)> = inv
        .errors
        .iter()
        .map(|e| (e.operation.as_str(), e.code.as_str(), e.resource.as_deref()))
        .collect();
    assert_eq!(
        errors,
        [(
            "ListFHIRExportJobs",
            "AccessDeniedException",
            Some(denied.as_str())
        )]
    );
    let message = &inv.errors[0].message;
    for part in [
        "healthlake:ListFHIRExportJobs",
        denied.as_str(),
        "store-00002",
        "export jobs",
    ] {
        assert!(message.contains(part), "`{part}` not in: {message}");
    }
    // The rest was collected: the other data stores' jobs, and its own import jobs.
    let collected = collected_jobs(&inv);
    assert_eq!(collected.len(), 6 * 5 - 3);
    let denied_id = stores[2].id().unwrap();
    assert!(collected
        .keys()
        .all(|(kind, key)| !(*kind == Kind::ExportJob && key.starts_with(denied_id))));
    let asked = emu
        .log()
        .iter()
        .filter(|e| e.operation == "ListFHIRExportJobs" && e.resource.as_deref() == Some(&denied))
        .count();
    assert_eq!(asked, 1, "the denied call was retried");
    // scan: one ERROR finding about the data store, exit 2; with --allow-partial the
    // exit code follows the other findings and the ERROR stays.
    let scan = |extra: &[&str]| {
        run(aws_command("scan", &emu.endpoint_url(), dir.path())
            .args([
                "--region",
                region,
                "--no-transformation-profiles",
                "--format",
                "json",
            ])
            .args(extra))
    };
    let out = scan(&[]);
    assert_eq!(
        out.code,
        Some(2),
        "stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    let errors = collection_errors(&out.stdout);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].0.contains("ListFHIRExportJobs"), "{errors:?}");
    assert!(
        errors[0].0.contains(&denied) && errors[0].0.contains("store-00002"),
        "the ERROR does not name the data store: {errors:?}"
    );
    let out = scan(&["--allow-partial"]);
    assert!(matches!(out.code, Some(0 | 1)), "stderr:\n{}", out.stderr);
    assert_eq!(collection_errors(&out.stdout).len(), 1);
}

/// Profile `i` as `GetDataTransformationProfile` would return it.
fn profile(region: &str, i: usize) -> Value {
    json!({
        "ProfileId": format!("{:08x}{i:024x}", region.len()),
        "Version": 1 + i % 3,
        "SourceFormat": if i.is_multiple_of(2) { "CCDA" } else { "CSV" },
        "TargetFormat": "FHIR_R4",
        "ProfileName": format!("profile-{region}-{i}"),
        "LastUpdatedAt": 1_700_000_000 + i,
        "ProfileMapping": {"main.liquid": "{{ msg }}"},
        "ChangeDescription": "first",
        "FutureProfileField": {"Index": i},
    })
}

#[test]
fn transformation_profiles_are_collected_once_per_region_and_a_failed_listing_is_an_error_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let regions = ["us-east-1", "eu-west-2"];
    let counts = [130usize, 5];
    let mut builder = Emulator::builder()
        .records(datastores(ACCOUNT, &regions, 3))
        .default_account(ACCOUNT)
        .faults(Faults {
            seed: 18,
            throttle_rate: 0.15,
            server_error_rate: 0.05,
            malformed_body_rate: 0.05,
            truncated_body_rate: 0.05,
            ..Faults::default()
        });
    for (region, count) in regions.iter().zip(counts) {
        builder = builder.profiles(ACCOUNT, *region, (0..count).map(|i| profile(region, i)));
    }
    let emu = builder.start_blocking().unwrap();
    let started = Instant::now();
    let (out, inv) = collect_with(
        &emu,
        dir.path(),
        &regions,
        &["--no-jobs", "--page-size", "40"],
    );
    assert_eq!(out.code, Some(0), "stderr:\n{}", out.stderr);
    let inv = inv.expect("the snapshot is written");
    assert!(inv.errors.is_empty(), "{:#?}", inv.errors);
    let profiles: BTreeMap<String, &Record> = inv
        .records
        .iter()
        .filter(|r| r.kind() == Kind::TransformationProfile)
        .map(|r| (r.key().into_owned(), r))
        .collect();
    assert_eq!(
        profiles.len(),
        135,
        "a profile is missing or was collected twice"
    );
    for (region, count) in regions.iter().zip(counts) {
        for i in 0..count {
            let mut want = profile(region, i);
            let id = want["ProfileId"].as_str().unwrap().to_owned();
            let key = format!("{ACCOUNT}/{region}/transformation-profile/{id}");
            let got = profiles
                .get(&key)
                .unwrap_or_else(|| panic!("{key} was not collected"));
            // The listing's summary, as served: no content, the unknown field kept.
            let object = want.as_object_mut().unwrap();
            object.remove("ProfileMapping");
            object.remove("ChangeDescription");
            assert_eq!(got.properties(), want, "{key}");
            assert_eq!(got.region(), Some(*region));
        }
    }
    let log = emu.log();
    let listed: Vec<&LogEntry> = log
        .iter()
        .filter(|e| e.operation == "ListDataTransformationProfiles")
        .collect();
    assert!(
        listed.iter().any(|e| e.fault.is_some()),
        "no fault on a profile page"
    );
    assert!(log
        .iter()
        .all(|e| e.operation != "GetDataTransformationProfile"));
    let pages = listed
        .iter()
        .filter(|e| e.status == 200 && e.fault.is_none())
        .count();
    // One listing per source format (SourceFormat is required): 65 CCDA and 65 CSV
    // profiles in pages of 40, then 3 and 2.
    assert_eq!(pages, 2 + 2 + 1 + 1);

    eprintln!(
        "profiles with faults: 135 profiles, {:.1?}",
        started.elapsed()
    );
    // A listing refused in one region: an ERROR for that region; its data stores and
    // the other region are still collected.
    emu.set_faults(Faults {
        denied_calls: BTreeSet::from([(
            "ListDataTransformationProfiles".to_owned(),
            "eu-west-2".to_owned(),
        )]),
        ..Faults::default()
    })
    .unwrap();
    let (out, inv) = collect_with(&emu, dir.path(), &regions, &["--no-jobs"]);
    assert_eq!(out.code, Some(2), "stderr:\n{}", out.stderr);
    let inv = inv.expect("the snapshot is written");
    let errors: Vec<(&str, Option<&str>, Option<&str>, &str)> = inv
        .errors
        .iter()
        .map(|e| {
            (
                e.operation.as_str(),
                e.region.as_deref(),
                e.resource.as_deref(),
                e.code.as_str(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [(
            "ListDataTransformationProfiles",
            Some("eu-west-2"),
            None,
            "AccessDeniedException"
        )]
    );
    assert!(inv.errors[0]
        .message
        .contains("healthlake:ListDataTransformationProfiles"));
    assert_eq!(
        inv.records
            .iter()
            .filter(|r| r.kind() == Kind::Datastore)
            .count(),
        6
    );
    assert_eq!(
        inv.records
            .iter()
            .filter(|r| r.kind() == Kind::TransformationProfile)
            .count(),
        130
    );

    emu.clear_log();
    let (out, inv) = collect(&emu, dir.path(), &regions, &["--no-jobs"]);
    assert_eq!(out.code, Some(0), "stderr:\n{}", out.stderr);
    assert_eq!(inv.unwrap().records.len(), 6);
    assert!(emu
        .log()
        .iter()
        .all(|e| e.operation == "ListFHIRDatastores" || e.operation == "ListTagsForResource"));
}

/// The scale case: 2,000 data stores with 25 export and 25 import jobs each over the
/// last 400 days (synthetic), 10% throttling and 2% 5xx, the default 90 days: every job
/// in the window is collected once. About a minute in a debug build on 2 cores.
#[test]
#[ignore = "takes about a minute; run with --ignored"]
fn jobs_of_two_thousand_data_stores_through_throttling() {
    let dir = tempfile::tempdir().unwrap();
    let region = "us-east-1";
    let stores = hlaudit_emulator::synthetic::datastores(ACCOUNT, region, 2_000, 18).unwrap();
    let mut records = stores.clone();
    for store in &stores {
        records.extend(hlaudit_emulator::synthetic::jobs(store, 25, 18, now()).unwrap());
    }
    let emu = emulator(
        records,
        Faults {
            seed: 18,
            throttle_rate: 0.10,
            server_error_rate: 0.02,
            ..Faults::default()
        },
    );
    let started = Instant::now();
    let (out, inv) = collect(&emu, dir.path(), &[region], &["--no-tags"]);
    let took = started.elapsed();
    assert_eq!(out.code, Some(0), "stderr:\n{}", out.stderr);
    let inv = inv.expect("the snapshot is written");
    assert!(inv.errors.is_empty(), "{:#?}", inv.errors);
    assert_jobs_complete(&emu, &inv, &stores, now() - 90 * DAY);
    let jobs = collected_jobs(&inv).len();
    let log = emu.log();
    eprintln!(
        "2,000 data stores: {jobs} jobs in the last 90 days, {} job requests ({} throttled), {} requests in all, {took:.1?}",
        job_requests(&log).count(),
        job_requests(&log)
            .filter(|e| e.fault == Some(FaultKind::Throttling))
            .count(),
        log.len()
    );
}

/// The coverage counts data stores, not jobs or profiles, and a job or profile listing
/// that fails leaves its region partial (every data store was listed), not failed. The account
/// comes from STS (moto's server answers `GetCallerIdentity` for any key with its
/// default account), as in a real run.
#[test]
fn coverage_counts_data_stores_and_a_failed_job_or_profile_listing_leaves_the_region_partial() {
    const MOTO_ACCOUNT: &str = "123456789012";
    let moto = hlaudit_e2e::moto::start();
    let dir = tempfile::tempdir().unwrap();
    let (listed, other) = ("us-east-1", "eu-west-2");
    let stores = datastores(MOTO_ACCOUNT, &[listed, other], 4);
    let denied = stores[1].arn().unwrap().to_owned();
    let mut records = stores.clone();
    records.extend(jobs_of(&stores, 3, 3, 7));
    let emu = hlaudit_emulator::Emulator::builder()
        .records(records)
        .default_account(MOTO_ACCOUNT)
        .profiles(MOTO_ACCOUNT, listed, (0..3).map(|i| profile(listed, i)))
        .faults(Faults {
            denied_calls: BTreeSet::from([
                ("ListFHIRImportJobs".to_owned(), denied.clone()),
                (
                    "ListDataTransformationProfiles".to_owned(),
                    other.to_owned(),
                ),
            ]),
            ..Faults::default()
        })
        .start_blocking()
        .unwrap();
    let path = dir.path().join("snapshot.json");
    let mut cmd = hlaudit_e2e::hlaudit();
    clean_aws_env(&mut cmd, dir.path());
    cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_ENDPOINT_URL_STS", &moto.endpoint)
        .args(["collect", "--endpoint-url", &emu.endpoint_url()])
        .args([
            "--no-kms",
            "--no-trails",
            "--regions",
            &format!("{listed},{other}"),
        ])
        .arg("-o")
        .arg(&path);
    let out = run(&mut cmd);
    assert_eq!(out.code, Some(2), "stderr:\n{}", out.stderr);
    let inv = read_snapshot(&path);
    assert_eq!(inv.errors.len(), 2, "{:#?}", inv.errors);
    assert_eq!(inv.records.len(), 8 + 8 * 6 - 3 + 3);
    let scopes: Vec<(&str, &str, usize, usize)> = inv
        .coverage
        .scopes
        .iter()
        .map(|s| (s.region.as_str(), s.state.as_str(), s.datastores, s.errors))
        .collect();
    // Sorted by region: eu-west-2 before us-east-1.
    assert_eq!(
        scopes,
        [(other, "partial", 4, 1), (listed, "partial", 4, 1)],
        "{:#?}",
        inv.coverage
    );
    assert_eq!(inv.coverage.accounts, [MOTO_ACCOUNT]);
    drop(moto);
}

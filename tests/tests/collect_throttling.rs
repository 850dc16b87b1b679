//! Collection that survives throttling (issue 14, "Throttling and retries"), against the
//! emulator over HTTP through the real SDK: throttled calls and 5xx answers are retried
//! until a time budget per call, malformed and cut-short answers are retried like them
//! (a page is asked again with the same `NextToken`, never skipped or repeated), a
//! region that throttles everything for a while is still read in full once it recovers,
//! and an access denied fails at once, without retries.

mod collect_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use collect_support::*;
use hlaudit_e2e::{run, Run};
use hlaudit_emulator::{FaultKind, Faults, LogEntry, RunningEmulator};
use hlaudit_model::Inventory;

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-2", "ap-southeast-2"];

/// Collects every region of `regions` with the default retry settings (plus `extra`
/// flags) into a snapshot, and reads it back.
fn collect(
    emu: &RunningEmulator,
    dir: &Path,
    regions: &[&str],
    extra: &[&str],
) -> (Run, Option<Inventory>, Duration) {
    let path = dir.join("snapshot.json");
    let started = Instant::now();
    let out = run(
        default_retries_command("collect", &emu.endpoint_url(), dir)
            .args(["--regions", &regions.join(",")])
            .args(extra)
            .arg("-o")
            .arg(&path),
    );
    let took = started.elapsed();
    let inv = path.exists().then(|| read_snapshot(&path));
    (out, inv, took)
}

/// Every data store the emulator serves in `regions` was collected exactly once, as
/// served, with exactly its tags.
fn assert_complete(emu: &RunningEmulator, inv: &Inventory, regions: &[&str], per_region: usize) {
    assert!(inv.errors.is_empty(), "{:#?}", inv.errors);
    assert_eq!(inv.records.len(), regions.len() * per_region);
    let collected: BTreeMap<&str, &hlaudit_model::Record> = inv
        .records
        .iter()
        .filter_map(|r| Some((r.arn()?, r)))
        .collect();
    assert_eq!(collected.len(), inv.records.len(), "an ARN was collected twice");
    for region in regions {
        let served = emu.datastores(ACCOUNT, region);
        assert_eq!(served.len(), per_region);
        for wire in &served {
            let arn = wire["DatastoreArn"].as_str().unwrap();
            let record = collected
                .get(arn)
                .unwrap_or_else(|| panic!("{arn} was not collected"));
            assert_eq!(&record.properties(), wire, "{arn} differs from what was served");
            assert_eq!(record.tags, emu.tags(arn), "tags of {arn}");
        }
    }
}

fn count(log: &[LogEntry], operation: &str, fault: Option<FaultKind>) -> usize {
    log.iter()
        .filter(|e| e.operation == operation && e.fault == fault)
        .count()
}

/// Every page that failed was asked again with the same `NextToken` and then came
/// whole; each token was answered successfully exactly once.
fn assert_pages_retried_with_the_same_token(log: &[LogEntry]) {
    let pages: Vec<&LogEntry> = log
        .iter()
        .filter(|e| e.operation == "ListFHIRDatastores")
        .collect();
    let mut answered: BTreeMap<(Option<&str>, Option<&str>), usize> = BTreeMap::new();
    for page in pages.iter().filter(|e| e.status == 200 && e.fault.is_none()) {
        *answered
            .entry((page.region.as_deref(), page.request_token.as_deref()))
            .or_default() += 1;
    }
    assert!(answered.values().all(|n| *n == 1), "a page was read twice: {answered:?}");
    for failed in pages.iter().filter(|e| e.fault.is_some()) {
        let key = (failed.region.as_deref(), failed.request_token.as_deref());
        assert!(
            answered.contains_key(&key),
            "the page asked with {key:?} failed and was never asked again"
        );
    }
}

/// The first measurement: 5% malformed and 5% cut-short answers over 1,200 data
/// stores lost 300 of them (whole pages) and gave 39 collection errors. Now every one is
/// collected and the run exits 0, in the default settings.
#[test]
fn malformed_and_truncated_answers_are_retried_and_no_page_is_lost_or_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let per_region = 1_200;
    let emu = emulator(
        datastores(ACCOUNT, &REGIONS[..1], per_region),
        Faults {
            seed: 14,
            malformed_body_rate: 0.05,
            truncated_body_rate: 0.05,
            ..Faults::default()
        },
    );
    let (out, inv, took) = collect(&emu, dir.path(), &REGIONS[..1], &["--page-size", "50"]);
    assert_eq!(out.code, Some(0), "stderr:\n{}", out.stderr);
    let inv = inv.expect("the snapshot is written");
    assert_complete(&emu, &inv, &REGIONS[..1], per_region);

    let log = emu.log();
    let broken: usize = [FaultKind::MalformedBody, FaultKind::TruncatedBody]
        .into_iter()
        .map(|f| count(&log, "ListFHIRDatastores", Some(f)))
        .sum();
    assert!(broken > 0, "no page was broken: the test proves nothing");
    for fault in [FaultKind::MalformedBody, FaultKind::TruncatedBody] {
        assert!(
            count(&log, "ListTagsForResource", Some(fault)) > 20,
            "{fault:?}"
        );
    }
    assert_pages_retried_with_the_same_token(&log);
    eprintln!("malformed and truncated: {per_region} data stores in {took:.1?}");
}

/// The headline: 20% throttling and 5% 5xx on every call, 1,200 data stores
/// with tags in each of 3 regions, default settings. Before: exit 2, 3 tag listings
/// lost. Now: exit 0, every data store once with its tags, no collection error.
#[test]
fn throttling_and_server_errors_on_every_call_lose_nothing_in_the_default_settings() {
    let dir = tempfile::tempdir().unwrap();
    let per_region = 1_200;
    let emu = emulator(
        datastores(ACCOUNT, &REGIONS, per_region),
        Faults {
            seed: 20_260_601,
            throttle_rate: 0.20,
            server_error_rate: 0.05,
            ..Faults::default()
        },
    );
    let (out, inv, took) = collect(&emu, dir.path(), &REGIONS, &[]);
    assert_eq!(out.code, Some(0), "stderr:\n{}", out.stderr);
    assert_complete(&emu, &inv.expect("the snapshot is written"), &REGIONS, per_region);
    let log = emu.log();
    let throttled = count(&log, "ListTagsForResource", Some(FaultKind::Throttling));
    let failed = count(&log, "ListTagsForResource", Some(FaultKind::ServerError));
    assert!(throttled > 600 && failed > 150, "throttled {throttled}, 5xx {failed}");
    eprintln!(
        "20% throttling, 5% 5xx: {} data stores, {} requests, in {took:.1?}",
        REGIONS.len() * per_region,
        log.len()
    );
}

/// Runs a collection where `REGIONS[0]` throttles every call for `window`, then
/// recovers, and checks that both regions are complete.
fn survives_a_throttling_window(window: Duration, per_region: usize) {
    let dir = tempfile::tempdir().unwrap();
    let regions = &REGIONS[..2];
    let emu = emulator(
        datastores(ACCOUNT, regions, per_region),
        Faults {
            throttle_windows: BTreeMap::from([(REGIONS[0].to_owned(), window)]),
            ..Faults::default()
        },
    );
    let (out, inv, took) = collect(&emu, dir.path(), regions, &[]);
    assert_eq!(out.code, Some(0), "stderr:\n{}", out.stderr);
    assert_complete(&emu, &inv.expect("the snapshot is written"), regions, per_region);
    let log = emu.log();
    let in_window = log
        .iter()
        .filter(|e| e.fault == Some(FaultKind::ThrottlingWindow))
        .count();
    assert!(in_window > 0, "the window throttled nothing");
    // The client-side limit slowed the throttling region down: far fewer throttled
    // attempts than a fixed-rate client retrying every data store would make.
    let throttled_tags = log
        .iter()
        .filter(|e| {
            e.operation == "ListTagsForResource" && e.fault == Some(FaultKind::ThrottlingWindow)
        })
        .count();
    assert!(
        throttled_tags < 8 * per_region,
        "{throttled_tags} throttled tag calls"
    );
    assert!(took >= window, "{took:?}");
    eprintln!(
        "a {window:?} throttling window: {} throttled attempts, complete in {took:.1?}",
        in_window
    );
}

/// A region that throttles every call for 5 seconds (the 30-second case of the issue,
/// scaled for CI) and then recovers is still read in full.
#[test]
fn a_region_that_throttles_everything_for_a_while_is_still_complete() {
    survives_a_throttling_window(Duration::from_secs(5), 300);
}

/// The case: 30 seconds of throttling on every call, 1,200 data stores.
#[test]
#[ignore = "takes about a minute; run with --ignored"]
fn a_region_that_throttles_everything_for_30_seconds_is_still_complete() {
    survives_a_throttling_window(Duration::from_secs(30), 1_200);
}

/// Tags that answer AccessDenied are one ERROR for that data store, at once: one
/// ListTagsForResource request for it, no retry, and the rest is collected.
#[test]
fn a_data_store_whose_tags_are_denied_is_one_error_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let records = datastores(ACCOUNT, &REGIONS[..1], 40);
    let denied = records[7].arn().unwrap().to_owned();
    let emu = emulator(
        records,
        Faults {
            denied_resources: BTreeSet::from([denied.clone()]),
            ..Faults::default()
        },
    );
    let (out, inv, took) = collect(&emu, dir.path(), &REGIONS[..1], &[]);
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
            "ListTagsForResource",
            "AccessDeniedException",
            Some(denied.as_str())
        )]
    );
    assert!(
        !inv.errors[0].message.contains("attempts"),
        "{}",
        inv.errors[0].message
    );
    assert_eq!(inv.records.len(), 40);
    let asked = emu
        .log()
        .iter()
        .filter(|e| e.operation == "ListTagsForResource" && e.resource.as_deref() == Some(&denied))
        .count();
    assert_eq!(asked, 1, "the denied call was retried");
    assert!(took < Duration::from_secs(20), "{took:?}");
}

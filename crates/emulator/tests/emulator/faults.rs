//! Fault injection: deterministic under a seed, each kind as a client sees it.

use std::time::{Duration, Instant};

use hlaudit_emulator::{Emulator, FaultKind, Faults, LogEntry, RegionSet, RunningEmulator};
use serde_json::json;

use crate::common::*;

fn emulator(faults: Faults) -> RunningEmulator {
    let mut data = records(ACCOUNT, "us-east-1", 40);
    data.extend(records(ACCOUNT, "eu-west-1", 40));
    Emulator::builder()
        .records(data)
        .access_key(KEY, ACCOUNT)
        .faults(faults)
        .start_blocking()
        .unwrap()
}

/// A fixed workload: 200 describes (each id repeated twice, so retries draw again)
/// and 40 pages, in one order.
fn workload(emu: &RunningEmulator) -> Vec<(Option<FaultKind>, u16)> {
    let stores = emu.datastores(ACCOUNT, "us-east-1");
    for round in 0..5 {
        for d in &stores {
            op(
                emu.addr(),
                "DescribeFHIRDatastore",
                "us-east-1",
                json!({"DatastoreId": d["DatastoreId"]}),
            );
        }
        for _ in 0..8 {
            op(
                emu.addr(),
                "ListFHIRDatastores",
                "eu-west-1",
                json!({"MaxResults": 5 + round}),
            );
        }
    }
    emu.log().iter().map(|e| (e.fault, e.status)).collect()
}

fn faults(seed: u64) -> Faults {
    Faults {
        seed,
        throttle_rate: 0.2,
        server_error_rate: 0.1,
        malformed_body_rate: 0.05,
        truncated_body_rate: 0.05,
        ..Faults::default()
    }
}

#[test]
fn the_same_seed_gives_the_same_faults_and_another_seed_others() {
    let a = workload(&emulator(faults(42)));
    let b = workload(&emulator(faults(42)));
    let c = workload(&emulator(faults(43)));
    assert_eq!(a.len(), 240);
    assert_eq!(a, b);
    assert_ne!(a, c);
    let count = |kind| a.iter().filter(|(f, _)| *f == Some(kind)).count();
    // 240 draws at 20% / 10% / 5% / 5% (of the successes): loose bounds.
    assert!((25..=75).contains(&count(FaultKind::Throttling)), "{a:?}");
    assert!((8..=45).contains(&count(FaultKind::ServerError)), "{a:?}");
    assert!(
        count(FaultKind::MalformedBody) + count(FaultKind::TruncatedBody) >= 3,
        "{a:?}"
    );
}

#[test]
fn a_retried_request_draws_again_so_retries_get_through() {
    let emu = emulator(Faults {
        seed: 9,
        throttle_rate: 0.5,
        ..Faults::default()
    });
    let id = emu.datastores(ACCOUNT, "us-east-1")[0]["DatastoreId"].clone();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let r = op(
            emu.addr(),
            "DescribeFHIRDatastore",
            "us-east-1",
            json!({"DatastoreId": id}),
        );
        if r.status == 200 {
            break;
        }
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (400, "ThrottlingException")
        );
        assert!(attempts < 30, "never got through");
    }
    assert_eq!(emu.log().len(), attempts);
}

#[test]
fn server_errors_are_500_internal_or_503_unavailable() {
    let emu = emulator(Faults {
        seed: 3,
        server_error_rate: 1.0,
        ..Faults::default()
    });
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..20 {
        let r = op(
            emu.addr(),
            "ListFHIRDatastores",
            "us-east-1",
            json!({"MaxResults": i + 1}),
        );
        seen.insert((r.status, r.error_code()));
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        [
            (500, "InternalServerException".to_owned()),
            (503, "ServiceUnavailableException".to_owned())
        ]
    );
    assert!(emu
        .log()
        .iter()
        .all(|e| e.fault == Some(FaultKind::ServerError)));
}

#[test]
fn denied_regions_get_access_denied_and_others_do_not() {
    let emu = emulator(Faults {
        access_denied: RegionSet::only(["eu-west-1"]),
        ..Faults::default()
    });
    let r = op(emu.addr(), "ListFHIRDatastores", "eu-west-1", json!({}));
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "AccessDeniedException")
    );
    assert!(r.json()["Message"]
        .as_str()
        .unwrap()
        .contains("healthlake:ListFHIRDatastores"));
    let r = op(emu.addr(), "ListFHIRDatastores", "us-east-1", json!({}));
    assert_eq!(r.status, 200);
    let log = emu.log();
    assert_eq!(log[0].fault, Some(FaultKind::AccessDenied));
    assert_eq!(log[1].fault, None);
}

#[test]
fn a_looping_region_returns_the_next_token_it_was_given() {
    let emu = emulator(Faults {
        next_token_loop: RegionSet::only(["us-east-1"]),
        ..Faults::default()
    });
    let first = op(
        emu.addr(),
        "ListFHIRDatastores",
        "us-east-1",
        json!({"MaxResults": 10}),
    )
    .json();
    let token = first["NextToken"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        let page = op(
            emu.addr(),
            "ListFHIRDatastores",
            "us-east-1",
            json!({"MaxResults": 10, "NextToken": token}),
        )
        .json();
        assert_eq!(page["NextToken"], token.as_str());
        assert_eq!(
            page["DatastorePropertiesList"].as_array().unwrap().len(),
            10
        );
    }
    let log = emu.log();
    assert_eq!(log[0].fault, None);
    assert!(log[1..]
        .iter()
        .all(|e| e.fault == Some(FaultKind::NextTokenLoop)
            && e.request_token.as_deref() == Some(token.as_str())
            && e.response_token.as_deref() == Some(token.as_str())));
    // A region whose data fits on one page loops too.
    let small = Emulator::builder()
        .records(records(ACCOUNT, "ca-central-1", 2))
        .faults(Faults {
            next_token_loop: RegionSet::All,
            ..Faults::default()
        })
        .start_blocking()
        .unwrap();
    let first = op(
        small.addr(),
        "ListFHIRDatastores",
        "ca-central-1",
        json!({}),
    )
    .json();
    assert_eq!(
        first["DatastorePropertiesList"].as_array().unwrap().len(),
        2
    );
    let token = first["NextToken"].as_str().unwrap().to_owned();
    let again = op(
        small.addr(),
        "ListFHIRDatastores",
        "ca-central-1",
        json!({"NextToken": token}),
    )
    .json();
    assert_eq!(again["NextToken"], token.as_str());
    assert!(small
        .log()
        .iter()
        .all(|e| e.fault == Some(FaultKind::NextTokenLoop)));
    // Other regions paginate normally.
    let (all, pages) = list_all(emu.addr(), signed("eu-west-1"), None, Some(10));
    assert_eq!((all.len(), pages), (40, 4));
}

#[test]
fn malformed_bodies_are_complete_responses_that_are_not_json() {
    let emu = emulator(Faults {
        malformed_body_rate: 1.0,
        ..Faults::default()
    });
    let r = op(emu.addr(), "ListFHIRDatastores", "us-east-1", json!({}));
    assert_eq!(r.status, 200);
    assert!(r.complete);
    assert!(
        serde_json::from_str::<serde_json::Value>(&r.body).is_err(),
        "{}",
        r.body
    );
    assert!(r.body.starts_with("{\"DatastorePropertiesList\":["));
    // Errors are never mangled.
    let r = op(
        emu.addr(),
        "DescribeFHIRDatastore",
        "us-east-1",
        json!({"DatastoreId": "x"}),
    );
    assert_eq!(r.error_code(), "ResourceNotFoundException");
    assert_eq!(emu.log()[0].fault, Some(FaultKind::MalformedBody));
}

#[test]
fn truncated_bodies_end_before_their_content_length() {
    let emu = emulator(Faults {
        truncated_body_rate: 1.0,
        ..Faults::default()
    });
    let r = op(emu.addr(), "ListFHIRDatastores", "us-east-1", json!({}));
    assert_eq!(r.status, 200);
    assert!(
        !r.complete,
        "{} bytes, {:?}",
        r.body.len(),
        r.headers.get("content-length")
    );
    assert_eq!(emu.log()[0].fault, Some(FaultKind::TruncatedBody));
}

#[test]
fn latency_is_added_to_every_response() {
    let emu = emulator(Faults {
        latency: Duration::from_millis(150),
        ..Faults::default()
    });
    let start = Instant::now();
    let r = call(
        emu.addr(),
        Some("HealthLake.ListFHIRDatastores"),
        "{}",
        Auth::None,
    );
    assert_eq!(r.status, 400);
    let r = op(emu.addr(), "ListFHIRDatastores", "us-east-1", json!({}));
    assert_eq!(r.status, 200);
    assert!(
        start.elapsed() >= Duration::from_millis(300),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn faults_can_be_changed_while_running_and_bad_ones_are_refused() {
    let emu = emulator(Faults::default());
    assert_eq!(
        op(emu.addr(), "ListFHIRDatastores", "us-east-1", json!({})).status,
        200
    );
    emu.set_faults(Faults {
        throttle_rate: 1.0,
        ..Faults::default()
    })
    .unwrap();
    assert_eq!(
        op(emu.addr(), "ListFHIRDatastores", "us-east-1", json!({})).error_code(),
        "ThrottlingException"
    );
    assert!(emu
        .set_faults(Faults {
            throttle_rate: 2.0,
            ..Faults::default()
        })
        .is_err());
    assert_eq!(emu.faults().throttle_rate, 1.0);
    assert!(Emulator::builder()
        .faults(Faults {
            server_error_rate: -0.1,
            ..Faults::default()
        })
        .start_blocking()
        .is_err());
}

#[test]
fn the_request_log_is_written_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.jsonl");
    let emu = Emulator::builder()
        .records(records(ACCOUNT, "us-east-1", 3))
        .faults(Faults {
            access_denied: RegionSet::only(["eu-west-1"]),
            ..Faults::default()
        })
        .request_log(&path)
        .start_blocking()
        .unwrap();
    op(emu.addr(), "ListFHIRDatastores", "us-east-1", json!({}));
    op(emu.addr(), "ListFHIRDatastores", "eu-west-1", json!({}));
    call(
        emu.addr(),
        Some("HealthLake.ListFHIRDatastores"),
        "{}",
        Auth::None,
    );
    let from_file: Vec<LogEntry> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(from_file, emu.log());
    assert_eq!(from_file.len(), 3);
    assert_eq!(from_file[0].returned, Some(3));
    assert_eq!(
        from_file[1].error_code.as_deref(),
        Some("AccessDeniedException")
    );
    assert_eq!(
        from_file[2].error_code.as_deref(),
        Some("MissingAuthenticationTokenException")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(KEY), "the log must not carry access keys");
    emu.shutdown_blocking().unwrap();
}

#[test]
fn faults_do_not_depend_on_how_concurrent_requests_interleave() {
    use std::collections::BTreeMap;
    let run = || {
        let emu = emulator(faults(5));
        let ids: Vec<String> = ids(&emu.datastores(ACCOUNT, "us-east-1"));
        let addr = emu.addr();
        let outcomes: BTreeMap<String, Vec<u16>> = std::thread::scope(|s| {
            let handles: Vec<_> = ids
                .chunks(5)
                .map(|chunk| {
                    s.spawn(move || {
                        chunk
                            .iter()
                            .map(|id| {
                                let statuses = (0..4)
                                    .map(|_| {
                                        op(
                                            addr,
                                            "DescribeFHIRDatastore",
                                            "us-east-1",
                                            json!({"DatastoreId": id}),
                                        )
                                        .status
                                    })
                                    .collect::<Vec<u16>>();
                                (id.clone(), statuses)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        outcomes
    };
    let a = run();
    assert_eq!(a.len(), 40);
    assert!(a.values().flatten().any(|&s| s != 200));
    assert_eq!(a, run());
}

#[test]
fn a_throttling_window_throttles_its_region_only_then_recovers() {
    let window = Duration::from_millis(400);
    let emu = emulator(Faults {
        throttle_windows: std::collections::BTreeMap::from([("us-east-1".to_owned(), window)]),
        ..Faults::default()
    });
    let list = |region| op(emu.addr(), "ListFHIRDatastores", region, json!({})).status;
    let started = Instant::now();
    assert_eq!(list("us-east-1"), 400);
    assert_eq!(list("eu-west-1"), 200);
    assert_eq!(list("us-east-1"), 400);
    std::thread::sleep(window.saturating_sub(started.elapsed()) + Duration::from_millis(50));
    assert_eq!(list("us-east-1"), 200);
    let kinds: Vec<Option<FaultKind>> = emu.log().iter().map(|e| e.fault).collect();
    assert_eq!(
        kinds,
        [
            Some(FaultKind::ThrottlingWindow),
            None,
            Some(FaultKind::ThrottlingWindow),
            None
        ]
    );
}

#[test]
fn a_denied_resource_denies_its_tags_only_and_the_log_names_it() {
    let emu = emulator(Faults::default());
    let stores = emu.datastores(ACCOUNT, "us-east-1");
    let denied = stores[3]["DatastoreArn"].as_str().unwrap().to_owned();
    let allowed = stores[4]["DatastoreArn"].as_str().unwrap().to_owned();
    emu.set_faults(Faults {
        denied_resources: std::collections::BTreeSet::from([denied.clone()]),
        ..Faults::default()
    })
    .unwrap();
    let tags = |arn: &str| {
        op(
            emu.addr(),
            "ListTagsForResource",
            "us-east-1",
            json!({"ResourceARN": arn}),
        )
    };
    let refused = tags(&denied);
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains("AccessDeniedException"),
        "{}",
        refused.body
    );
    let ok = tags(&allowed);
    assert_eq!(ok.status, 200, "{}", ok.body);
    let log: Vec<(Option<String>, Option<FaultKind>)> = emu
        .log()
        .into_iter()
        .map(|e| (e.resource, e.fault))
        .collect();
    assert_eq!(
        log,
        [
            (Some(denied), Some(FaultKind::AccessDenied)),
            (Some(allowed), None)
        ]
    );
}

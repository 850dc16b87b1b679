//! Collecting at scale through faults (issue 6): 3 regions x 1,200 data stores, pages of
//! 100, 20% throttling and 5% server errors (seeded): every data store is collected
//! exactly once, with its tags, and each record is the service's JSON untouched,
//! including a field no SDK knows.

mod collect_support;

use std::collections::{BTreeMap, BTreeSet};

use collect_support::*;
use hlaudit_e2e::run;
use hlaudit_emulator::{FaultKind, Faults};

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-2", "ap-southeast-2"];
const PER_REGION: usize = 1_200;

#[test]
fn every_data_store_is_collected_exactly_once_with_tags_through_throttling_and_5xx() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(
        datastores(ACCOUNT, &REGIONS, PER_REGION),
        Faults {
            seed: 20_260_601,
            throttle_rate: 0.20,
            server_error_rate: 0.05,
            ..Faults::default()
        },
    );
    let out_path = dir.path().join("snapshot.json");
    let out = run(
        aws_command("collect", &emu.endpoint_url(), dir.path()).args([
            "--regions",
            &REGIONS.join(","),
            "--page-size",
            "100",
            "--max-attempts",
            "10",
            "-o",
            out_path.to_str().unwrap(),
        ]),
    );
    assert_eq!(out.code, Some(0), "stderr:\n{}", out.stderr);
    let inv = read_snapshot(&out_path);
    assert!(inv.errors.is_empty(), "{:?}", inv.errors);

    // Exactly once: as many records as served, no ARN twice, the same set.
    assert_eq!(inv.records.len(), REGIONS.len() * PER_REGION);
    let arns: BTreeSet<&str> = inv.records.iter().filter_map(|r| r.arn()).collect();
    assert_eq!(arns.len(), inv.records.len(), "an ARN was collected twice");

    // Every record equals the wire JSON the emulator serves (unknown field included),
    // and carries exactly the tags it was given.
    for region in REGIONS {
        let served = emu.datastores(ACCOUNT, region);
        assert_eq!(served.len(), PER_REGION);
        let collected: BTreeMap<&str, &hlaudit_model::Record> = inv
            .records
            .iter()
            .filter(|r| r.region() == Some(region))
            .filter_map(|r| Some((r.arn()?, r)))
            .collect();
        assert_eq!(collected.len(), PER_REGION, "{region}");
        for wire in &served {
            let arn = wire["DatastoreArn"].as_str().unwrap();
            let record = collected
                .get(arn)
                .unwrap_or_else(|| panic!("{arn} was not collected"));
            assert_eq!(
                &record.properties(),
                wire,
                "{arn} differs from what was served"
            );
            assert!(record.raw_json().contains("\"FutureField\""));
            assert_eq!(record.tags, emu.tags(arn), "tags of {arn}");
        }
    }
    assert_eq!(inv.coverage.regions.len(), 3);
    assert_eq!(inv.coverage.accounts, [ACCOUNT]);

    // The faults did happen, and the pages were of the size asked for.
    let log = emu.log();
    let throttled = log
        .iter()
        .filter(|e| e.fault == Some(FaultKind::Throttling))
        .count();
    let failed = log
        .iter()
        .filter(|e| e.fault == Some(FaultKind::ServerError))
        .count();
    assert!(
        throttled > 300 && failed > 50,
        "throttled {throttled}, 5xx {failed}"
    );
    let pages: Vec<_> = log
        .iter()
        .filter(|e| e.operation == "ListFHIRDatastores" && e.status == 200)
        .collect();
    assert_eq!(pages.len(), REGIONS.len() * PER_REGION / 100);
    assert!(pages.iter().all(|p| p.returned == Some(100)));
    let tag_calls = log
        .iter()
        .filter(|e| e.operation == "ListTagsForResource" && e.status == 200)
        .count();
    assert_eq!(tag_calls, REGIONS.len() * PER_REGION);
}

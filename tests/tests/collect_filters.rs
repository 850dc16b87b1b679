//! The server-side filters (issue 6): `--name`, `--status`, `--created-before` and
//! `--created-after`, alone and together, give exactly the data stores they select,
//! across pages.

mod collect_support;

use collect_support::*;
use hlaudit_e2e::run;
use hlaudit_emulator::Faults;

const REGION: &str = "eu-west-1";
const COUNT: usize = 240;

/// Collects with `filters` and returns the ids collected.
fn collect_ids(endpoint: &str, filters: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("filtered.json");
    let out = run(aws_command("collect", endpoint, dir.path())
        .args(["--region", REGION, "--page-size", "25", "--no-tags", "-o"])
        .arg(&path)
        .args(filters));
    assert_eq!(out.code, Some(0), "{filters:?}\nstderr:\n{}", out.stderr);
    let inv = read_snapshot(&path);
    assert!(
        inv.records.iter().all(|r| r.tags.is_none()),
        "--no-tags leaves tags uncollected"
    );
    ids(&inv)
}

/// The ids of the data stores `keep` selects, computed from the test data itself.
fn expected(keep: impl Fn(usize) -> bool) -> Vec<String> {
    let mut ids: Vec<String> = (0..COUNT)
        .filter(|&i| keep(i))
        .map(|i| datastore(ACCOUNT, REGION, i).id().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// An instant between data store `i`'s creation and the next one's.
fn between(i: usize) -> String {
    (CREATED_BASE + 3600 * i as i64 + 1800).to_string()
}

#[test]
fn each_filter_selects_exactly_its_data_stores() {
    let emu = emulator(
        (0..COUNT).map(|i| datastore(ACCOUNT, REGION, i)).collect(),
        Faults::default(),
    );
    let ep = emu.endpoint_url();

    assert_eq!(collect_ids(&ep, &[]), expected(|_| true));
    assert_eq!(
        collect_ids(&ep, &["--name", "store-00042"]),
        expected(|i| i == 42)
    );
    assert_eq!(
        collect_ids(&ep, &["--name", "no-such-store"]),
        expected(|_| false)
    );
    for status in ["ACTIVE", "CREATING", "DELETED"] {
        assert_eq!(
            collect_ids(&ep, &["--status", status]),
            expected(|i| STATUSES[i % STATUSES.len()] == status),
            "{status}"
        );
    }
    assert_eq!(
        collect_ids(&ep, &["--created-before", &between(99)]),
        expected(|i| i <= 99)
    );
    assert_eq!(
        collect_ids(&ep, &["--created-after", &between(199)]),
        expected(|i| i >= 200)
    );
    // ISO 8601 and epoch seconds mean the same instant.
    let iso = "2023-11-15T08:43:20Z"; // CREATED_BASE + 10 h 30 min
    assert_eq!(
        collect_ids(&ep, &["--created-after", iso]),
        expected(|i| i >= 11)
    );
    assert_eq!(
        collect_ids(
            &ep,
            &[
                "--status",
                "ACTIVE",
                "--created-after",
                &between(49),
                "--created-before",
                &between(149),
            ]
        ),
        expected(|i| (50..=149).contains(&i) && STATUSES[i % STATUSES.len()] == "ACTIVE")
    );
}

#[test]
fn a_status_that_does_not_exist_is_refused_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(Vec::new(), Faults::default());
    let path = dir.path().join("never.json");
    let out = run(aws_command("collect", &emu.endpoint_url(), dir.path())
        .args(["--region", REGION, "--status", "RUNNING", "-o"])
        .arg(&path));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("RUNNING"), "{}", out.stderr);
    assert!(!path.exists());
    assert!(emu.log().is_empty(), "no request is sent for a bad flag");
}

/// The regions of a collected snapshot's coverage, and of its records.
fn collected_regions(endpoint: &str, env: Option<&str>) -> (Vec<String>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.json");
    let mut cmd = aws_command("collect", endpoint, dir.path());
    if let Some(list) = env {
        cmd.env("HLAUDIT_HEALTHLAKE_REGIONS", list);
    }
    let out = run(cmd.args(["--regions", "all", "--no-tags", "-o"]).arg(&path));
    assert_eq!(out.code, Some(0), "{env:?}\nstderr:\n{}", out.stderr);
    let inv = read_snapshot(&path);
    let mut covered: Vec<String> = inv.coverage.regions.iter().map(|r| r.to_string()).collect();
    covered.sort();
    let mut of_records: Vec<String> = inv
        .records
        .iter()
        .filter_map(|r| r.region().map(str::to_owned))
        .collect();
    of_records.sort();
    of_records.dedup();
    (covered, of_records)
}

#[test]
fn regions_all_lists_every_healthlake_region_or_the_configured_ones() {
    // Data stores in two HealthLake regions and one region that is not in the table.
    let mut records = datastores(ACCOUNT, &["us-east-1", "eu-west-2"], 3);
    records.extend(datastores(ACCOUNT, &["sa-east-1"], 2));
    let emu = emulator(records, Faults::default());
    let ep = emu.endpoint_url();

    let (covered, found) = collected_regions(&ep, None);
    let table: Vec<String> = hlaudit_collector::HEALTHLAKE_REGIONS
        .iter()
        .map(|r| (*r).to_owned())
        .collect();
    assert_eq!(covered, table, "all = the HealthLake region table");
    assert_eq!(found, ["eu-west-2", "us-east-1"]);

    // HLAUDIT_HEALTHLAKE_REGIONS replaces the table (a region AWS added later).
    let (covered, found) = collected_regions(&ep, Some("sa-east-1, us-east-1"));
    assert_eq!(covered, ["sa-east-1", "us-east-1"]);
    assert_eq!(found, ["sa-east-1", "us-east-1"]);
}

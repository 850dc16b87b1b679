//! Listings of more than one page, saved with the real AWS CLI (from `.venv`, installed by
//! `.ci/setup-python.sh`) against the emulator: `aws healthlake list-fhir-datastores`
//! prints one page and a `NextToken` and does not fetch the next itself, so a page alone is
//! an incomplete listing whose advice names what works, and every page saved with a
//! `--next-token` loop reads as the whole listing only with `--pages-complete`; so do the
//! pages of a data store's export jobs (`list-fhir-export-jobs`). The loop of
//! `docs/snapshot.md` is run as written.

mod collect_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use collect_support::*;
use hlaudit_e2e::{binary, hlaudit, repo_root, run, Run};
use hlaudit_emulator::Faults;
use serde_json::Value;

const REGION: &str = "us-east-1";
/// More than two pages of the emulator's default page size (100).
const COUNT: usize = 250;

fn venv_bin(name: &str) -> PathBuf {
    repo_root().join(".venv").join("bin").join(name)
}

fn aws_cli() -> PathBuf {
    let cli = venv_bin("aws");
    assert!(
        cli.exists(),
        "the AWS CLI is not installed at {}: run `bash .ci/setup-python.sh` (CI does it \
         through .ci/test.sh)",
        cli.display()
    );
    cli
}

/// The AWS CLI's environment: nothing from the machine, the test credentials.
fn aws_env(cmd: &mut Command, dir: &Path) {
    clean_aws_env(cmd, dir);
    cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET);
}

/// Saves every page of the region's listing as `page-N.json` in `dir`, calling the AWS
/// CLI once per page with the previous page's `NextToken`, as the documented loop does.
fn save_every_page(endpoint: &str, dir: &Path) -> Vec<String> {
    save_every_page_of(endpoint, dir, &["list-fhir-datastores"], "page")
}

/// Saves every page of `aws healthlake ARGS` as `PREFIX-N.json` in `dir` (see
/// [`save_every_page`]).
fn save_every_page_of(endpoint: &str, dir: &Path, args: &[&str], prefix: &str) -> Vec<String> {
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut cmd = Command::new(aws_cli());
        aws_env(&mut cmd, dir);
        cmd.arg("healthlake")
            .args(args)
            .args(["--endpoint-url", endpoint, "--region", REGION])
            .args(["--output", "json"]);
        if let Some(t) = &token {
            cmd.args(["--next-token", t]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "aws failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = dir.join(format!("{prefix}-{}.json", pages.len() + 1));
        std::fs::write(&path, &out.stdout).unwrap();
        pages.push(path.to_str().unwrap().to_owned());
        let page: Value = serde_json::from_slice(&out.stdout).unwrap();
        token = page["NextToken"].as_str().map(str::to_owned);
        if token.is_none() {
            return pages;
        }
        assert!(pages.len() < 10, "the listing does not end");
    }
}

fn check(pages: &[String], extra: &[&str]) -> Run {
    run(hlaudit()
        .args(["check", "--fail-on", "none"])
        .args(pages)
        .args(extra))
}

fn all_output(r: &Run) -> String {
    format!("{}\n{}", r.stdout, r.stderr)
}

#[test]
fn every_page_saved_by_the_aws_cli_reads_as_the_whole_listing_only_when_vouched_for() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(datastores(ACCOUNT, &[REGION], COUNT), Faults::default());
    let pages = save_every_page(&emu.endpoint_url(), dir.path());
    assert_eq!(pages.len(), 3, "{pages:?}");

    // One page alone: incomplete, with advice that works.
    let one = check(&pages[..1], &[]);
    assert_eq!(one.code, Some(2), "{}", one.stderr);
    let text = all_output(&one);
    assert!(text.contains("incomplete-listing"), "{text}");
    assert!(text.contains("hlaudit collect"), "{text}");
    assert!(text.contains("--next-token"), "{text}");
    assert!(text.contains("--pages-complete"), "{text}");
    assert!(!text.contains("--max-items"), "{text}");

    // Every page, without the caller's word: still incomplete.
    let unvouched = check(&pages, &[]);
    assert_eq!(unvouched.code, Some(2), "{}", unvouched.stderr);
    assert!(all_output(&unvouched).contains("incomplete-listing"));

    // Every page, vouched for: complete, and said to be vouched for.
    let vouched = check(&pages, &["--pages-complete"]);
    assert_eq!(vouched.code, Some(0), "{}", all_output(&vouched));
    assert!(
        !all_output(&vouched).contains("incomplete-listing"),
        "{}",
        all_output(&vouched)
    );
    assert!(
        vouched.stderr.contains("warning[vouched-listing]"),
        "{}",
        vouched.stderr
    );
    let rows = run(hlaudit()
        .args(["inventory", "--format", "json", "--pages-complete"])
        .args(&pages));
    assert_eq!(rows.code, Some(0), "{}", rows.stderr);
    let rows: Vec<Value> = serde_json::from_str(&rows.stdout).unwrap();
    assert_eq!(rows.len(), COUNT);
    // Exit as the policies decide (the test data stores use AWS-owned keys).
    let gated = run(hlaudit().arg("check").args(&pages).arg("--pages-complete"));
    assert_ne!(gated.code, Some(2), "{}", all_output(&gated));

    // Every page but the last, vouched for: still incomplete, the last page missing.
    let cut = check(&pages[..2], &["--pages-complete"]);
    assert_eq!(cut.code, Some(2), "{}", cut.stderr);
    let text = all_output(&cut);
    assert!(text.contains("incomplete-listing"), "{text}");
    assert!(text.contains("its last page"), "{text}");

    // The same page twice: the repeated NextToken is said to be suspicious.
    let twice = [pages[0].clone(), pages[0].clone(), pages[2].clone()];
    let twice = check(&twice, &["--pages-complete"]);
    assert_eq!(twice.code, Some(2), "{}", twice.stderr);
    assert!(all_output(&twice).contains("pagination-loop"));
}

/// An export job of `store`.
fn export_job(store: &hlaudit_model::Record, i: usize) -> hlaudit_model::Record {
    let id = store.id().unwrap();
    let value = serde_json::json!({
        "JobId": format!("{i:032x}"),
        "JobStatus": "COMPLETED",
        "SubmitTime": CREATED_BASE + i as i64 * 86_400,
        "DatastoreId": id,
        "DataAccessRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/export"),
        "OutputDataConfig": {"S3Configuration": {
            "S3Uri": format!("s3://exports-{ACCOUNT}/{i}/"),
            "KmsKeyId": format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/k{i}")
        }},
    });
    hlaudit_model::Record::from_value_as(hlaudit_model::Kind::ExportJob, &value).unwrap()
}

#[test]
fn every_page_of_a_job_listing_reads_as_the_whole_listing_only_when_vouched_for() {
    const JOBS: usize = 7;
    let dir = tempfile::tempdir().unwrap();
    let stores = datastores(ACCOUNT, &[REGION], 2);
    let store_id = stores[0].id().unwrap().to_owned();
    let mut records = stores.clone();
    records.extend((0..JOBS).map(|i| export_job(&stores[0], i)));
    let emu = emulator(records, Faults::default());
    let stores_page = save_every_page(&emu.endpoint_url(), dir.path());
    assert_eq!(stores_page.len(), 1);
    let job_pages = save_every_page_of(
        &emu.endpoint_url(),
        dir.path(),
        &[
            "list-fhir-export-jobs",
            "--datastore-id",
            &store_id,
            "--max-results",
            "3",
        ],
        "exports",
    );
    assert_eq!(job_pages.len(), 3, "{job_pages:?}");
    let inputs: Vec<String> = stores_page.iter().chain(&job_pages).cloned().collect();

    // Every page, without the caller's word: incomplete, with advice that works.
    let unvouched = check(&inputs, &[]);
    assert_eq!(unvouched.code, Some(2), "{}", unvouched.stderr);
    let text = all_output(&unvouched);
    assert!(text.contains("incomplete-listing"), "{text}");
    assert!(text.contains("ListFHIRExportJobs"), "{text}");
    assert!(text.contains("--pages-complete"), "{text}");

    // Every page, vouched for: every job audited, and said to be vouched for.
    let vouched = check(&inputs, &["--format", "json", "--pages-complete"]);
    assert_eq!(vouched.code, Some(0), "{}", vouched.stderr);
    assert!(
        vouched.stderr.contains("warning[vouched-listing]")
            && vouched.stderr.contains("the export jobs of data store"),
        "{}",
        vouched.stderr
    );
    let report: Value = serde_json::from_str(&vouched.stdout).unwrap();
    let jobs = report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "export-job")
        .count();
    assert_eq!(jobs, JOBS);

    // Every page but the last, vouched for: still incomplete, the last page missing.
    let cut: Vec<String> = stores_page.iter().chain(&job_pages[..2]).cloned().collect();
    let cut = check(&cut, &["--pages-complete"]);
    assert_eq!(cut.code, Some(2), "{}", cut.stderr);
    let text = all_output(&cut);
    assert!(text.contains("incomplete-listing"), "{text}");
    assert!(text.contains("its last page"), "{text}");
}

/// The first `bash` block of `docs/snapshot.md` that uses `--next-token`.
fn documented_loop() -> String {
    let markdown = std::fs::read_to_string(repo_root().join("docs/snapshot.md")).unwrap();
    let mut block: Option<String> = None;
    for line in markdown.lines() {
        match (&mut block, line.trim_start()) {
            (None, l) if l.starts_with("```bash") => block = Some(String::new()),
            (Some(b), l) if l.starts_with("```") => {
                if b.contains("--next-token") {
                    return b.clone();
                }
                block = None;
            }
            (Some(b), _) => {
                b.push_str(line);
                b.push('\n');
            }
            _ => {}
        }
    }
    panic!("docs/snapshot.md has no bash block with a --next-token loop");
}

#[test]
fn the_documented_loop_saves_every_page_and_the_check_reads_them() {
    let script = documented_loop();
    assert!(script.contains("--pages-complete"), "{script}");
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(datastores(ACCOUNT, &[REGION], COUNT), Faults::default());
    let path = format!(
        "{}:{}:{}",
        aws_cli().parent().unwrap().display(),
        binary("hlaudit", "hlaudit").parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    aws_env(&mut cmd, dir.path());
    let out = run(cmd
        .args(["-eo", "pipefail", "-c", &script])
        .current_dir(dir.path())
        .env("PATH", path)
        .env("AWS_ENDPOINT_URL", emu.endpoint_url())
        .env("NO_COLOR", "1"));
    let mut saved: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("page-"))
        .collect();
    saved.sort();
    assert_eq!(
        saved,
        [
            "page-us-east-1-1.json",
            "page-us-east-1-2.json",
            "page-us-east-1-3.json"
        ],
        "{}",
        out.stderr
    );
    // The check exits as the policies decide, never for an incomplete listing.
    assert_ne!(out.code, Some(2), "{}", all_output(&out));
    assert!(!all_output(&out).contains("incomplete-listing"));
    assert!(
        out.stderr.contains("warning[vouched-listing]"),
        "{}",
        out.stderr
    );
}

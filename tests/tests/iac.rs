//! End to end: templates, CDK output and Terraform plans through `hlaudit check`, as a
//! pull request's CI job runs it: findings at the template line, defaults, values known
//! only after deploy, run-time policies, bad files beside good ones, and stable
//! fingerprints.

use std::path::{Path, PathBuf};

use hlaudit_e2e::{hlaudit, repo_root, run, Run};
use hlaudit_testkit::report::{Report, Status};

const AS_OF: &str = "2026-12-01T00:00:00Z";

/// A folder under the repository's target dir (relative paths keep keys short).
fn workdir(name: &str) -> (tempfile::TempDir, PathBuf) {
    let base = repo_root().join("target").join("iac-e2e");
    std::fs::create_dir_all(&base).unwrap();
    let dir = tempfile::Builder::new()
        .prefix(name)
        .tempdir_in(&base)
        .unwrap();
    let rel = dir.path().strip_prefix(repo_root()).unwrap().to_path_buf();
    (dir, rel)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    std::fs::write(repo_root().join(dir).join(name), text).unwrap();
    dir.join(name).to_string_lossy().into_owned()
}

fn check(inputs: &[&str], extra: &[&str], json: &Path) -> (Run, Report) {
    let mut cmd = hlaudit();
    cmd.arg("check")
        .args(inputs)
        .args(["--as-of", AS_OF, "--format", "terminal"])
        .args(["-o", &format!("json={}", json.display())])
        .args(extra);
    let r = run(&mut cmd);
    let report = Report::read(repo_root().join(json));
    (r, report)
}

/// The 1-based line of the first line of `text` containing `needle`, and the column of
/// its first non-blank character.
fn line_of(text: &str, needle: &str) -> (u64, u64) {
    let (i, l) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in the template"));
    let col = l.len() - l.trim_start().len() + 1;
    (i as u64 + 1, col as u64)
}

const AWS_OWNED: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Description: A data store with an AWS owned key.
Resources:
  ClinicalStore:
    Type: AWS::HealthLake::FHIRDatastore
    Properties:
      DatastoreName: clinical
      DatastoreTypeVersion: R4
      SseConfiguration:
        KmsEncryptionConfig:
          CmkType: AWS_OWNED_KMS_KEY
"#;

const NO_ENCRYPTION: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Resources:
  ResearchStore:
    Type: AWS::HealthLake::FHIRDatastore
    Properties:
      DatastoreTypeVersion: R4
"#;

const IMPORTED_KEY: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Resources:
  SharedKeyStore:
    Type: AWS::HealthLake::FHIRDatastore
    Properties:
      DatastoreTypeVersion: R4
      SseConfiguration:
        KmsEncryptionConfig:
          CmkType: CUSTOMER_MANAGED_KMS_KEY
          KmsKeyId: !ImportValue SharedKeyArn
"#;

#[test]
fn an_aws_owned_key_fails_at_the_line_of_the_property() {
    let (_keep, dir) = workdir("owned");
    let t = write(&dir, "store.yaml", AWS_OWNED);
    let sarif = dir.join("r.sarif");
    let (r, report) = check(
        &[&t],
        &["-o", &format!("sarif={}", sarif.display())],
        &dir.join("r.json"),
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let f = report.findings_of("HL-ENC-01").next().unwrap();
    assert_eq!(f.status, Status::Fail);
    let (line, column) = line_of(AWS_OWNED, "CmkType");
    let at = f.location.as_ref().expect("a location");
    assert_eq!(
        (at.file.as_str(), at.line, at.column),
        (t.as_str(), line, column)
    );
    assert!(
        f.message
            .contains("Planned data store clinical (ClinicalStore in"),
        "{}",
        f.message
    );
    assert_eq!(
        f.resource().identity.as_ref().unwrap()["planned"]["address"],
        "ClinicalStore"
    );
    // The terminal says where, and SARIF points GitHub at the same line and column.
    assert!(
        r.stdout.contains(&format!("at {t}:{line}:{column}")),
        "{}",
        r.stdout
    );
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join(&sarif)).unwrap()).unwrap();
    let result = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "HL-ENC-01" && r["level"] != "none")
        .unwrap();
    let loc = &result["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], t.as_str());
    assert_eq!(loc["region"]["startLine"], line);
    assert_eq!(loc["region"]["startColumn"], column);
    // What is not known before deploy is not pretended: the ARN-based policies of the
    // data store's own context have nothing to decide here, and run-time ones are SKIP.
    let bak = report.findings_of("HL-BAK-01").next().unwrap();
    assert_eq!(bak.status, Status::Skip);
    assert!(
        bak.message.contains("not evaluated before deploy"),
        "{}",
        bak.message
    );
    assert!(r.stderr.contains("read 1 template"), "{}", r.stderr);
}

#[test]
fn a_template_that_never_mentions_encryption_fails_on_the_default() {
    let (_keep, dir) = workdir("default");
    let t = write(&dir, "store.yaml", NO_ENCRYPTION);
    let (r, report) = check(&[&t], &["--only", "HL-ENC-01"], &dir.join("r.json"));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let f = report.findings_of("HL-ENC-01").next().unwrap();
    assert_eq!(f.status, Status::Fail);
    let note = f.evidence[0].note.as_deref().unwrap_or_default();
    assert!(note.contains("default applies"), "{:?}", f.evidence);
    assert_eq!(
        f.evidence[0].found,
        Some(serde_json::json!("AWS_OWNED_KMS_KEY"))
    );
    // A default points at the resource.
    let (line, _) = line_of(NO_ENCRYPTION, "ResearchStore:");
    assert_eq!(f.location.as_ref().unwrap().line, line);
}

#[test]
fn a_value_known_only_after_deploy_is_undecided_unless_unknowns_fail() {
    let (_keep, dir) = workdir("unknown");
    let t = write(&dir, "store.yaml", IMPORTED_KEY);
    let ctx = ["--account", "111122223333", "--region", "us-east-1"];
    let only = ["--only", "HL-ENC-*"];
    let args: Vec<&str> = ctx.iter().chain(only.iter()).copied().collect();
    let (r, report) = check(&[&t], &args, &dir.join("r.json"));
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        report.findings_of("HL-ENC-01").next().unwrap().status,
        Status::Pass
    );
    let undecided: Vec<_> = report.findings.iter().filter(|f| f.undecided).collect();
    assert_eq!(undecided.len(), 3, "HL-ENC-02, 03 and 04 read the key id");
    for f in &undecided {
        assert_eq!(f.status, Status::Skip);
        assert!(
            f.message.contains("Fn::ImportValue SharedKeyArn"),
            "{}",
            f.message
        );
        assert_eq!(
            f.evidence[0].pointer,
            "/SseConfiguration/KmsEncryptionConfig/KmsKeyId"
        );
    }
    assert_eq!(report.summary.undecided, 3);
    assert!(
        r.stdout.contains("3 undecided before deploy"),
        "{}",
        r.stdout
    );

    let mut strict = args.clone();
    strict.extend(["--unknown", "fail"]);
    let (r, report) = check(&[&t], &strict, &dir.join("strict.json"));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(report.with_status(Status::Fail).count(), 3);
}

#[test]
fn an_unknown_region_leaves_the_region_policies_undecided() {
    let (_keep, dir) = workdir("noregion");
    let t = write(
        &dir,
        "store.yaml",
        &IMPORTED_KEY.replace(
            "!ImportValue SharedKeyArn",
            "arn:aws:kms:us-east-1:111122223333:key/0b6f1c2e-4c1a-4d8e-9f3a-7e2b5c9d1a40",
        ),
    );
    let (r, report) = check(&[&t], &["--only", "HL-ENC-03"], &dir.join("r.json"));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let f = report.findings_of("HL-ENC-03").next().unwrap();
    assert!(f.undecided, "{f:?}");
    assert!(f.message.contains("--region"), "{}", f.message);
    let (r, report) = check(
        &[&t],
        &[
            "--only",
            "HL-ENC-03",
            "--region",
            "eu-west-2",
            "--account",
            "111122223333",
        ],
        &dir.join("r2.json"),
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(
        report.findings_of("HL-ENC-03").next().unwrap().status,
        Status::Fail
    );
}

#[test]
fn a_bad_template_is_an_error_and_every_other_file_is_still_reported() {
    let (_keep, dir) = workdir("folder");
    write(&dir, "a-store.yaml", AWS_OWNED);
    let bad = write(
        &dir,
        "b-broken.yaml",
        "AWSTemplateFormatVersion: \"2010-09-09\"\nResources:\n  Store:\n    Type: AWS::HealthLake::FHIRDatastore\n    Properties:\n      DatastoreName: !Frobnicate x\n      DatastoreTypeVersion: R4\n",
    );
    write(
        &dir,
        "package.json",
        "{\"name\": \"infra\", \"version\": \"1.0.0\"}\n",
    );
    write(&dir, "notes.md", "# not a template\n");
    write(
        &dir,
        "network.yaml",
        "AWSTemplateFormatVersion: \"2010-09-09\"\nResources:\n  Bucket:\n    Type: AWS::S3::Bucket\n",
    );
    let folder = dir.to_string_lossy().into_owned();
    let (r, report) = check(&[&folder], &[], &dir.join("r.json"));
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("error:"), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("{bad}:6:")), "{}", r.stderr);
    assert!(r.stderr.contains("read 2 templates"), "{}", r.stderr);
    assert!(r.stderr.contains("skipped 2 other files"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("network.yaml declares no HealthLake data store"),
        "{}",
        r.stderr
    );
    // The good template is audited, and the bad one is an ERROR finding.
    assert_eq!(
        report.findings_of("HL-ENC-01").next().unwrap().status,
        Status::Fail
    );
    assert!(report.with_status(Status::Error).count() >= 1);
    assert!(report.summary.incomplete);
}

#[test]
fn fingerprints_do_not_move_with_unrelated_lines() {
    let (_keep, dir) = workdir("stable");
    let t = write(&dir, "store.yaml", AWS_OWNED);
    let (_, before) = check(&[&t], &[], &dir.join("a.json"));
    let moved = AWS_OWNED.replace(
        "Resources:\n",
        "Parameters:\n  Unused:\n    Type: String\n    Default: x\n# a comment\nResources:\n",
    );
    write(&dir, "store.yaml", &moved);
    let (_, after) = check(&[&t], &[], &dir.join("b.json"));
    let prints =
        |r: &Report| -> Vec<String> { r.findings.iter().map(|f| f.fingerprint.clone()).collect() };
    assert_eq!(prints(&before), prints(&after));
    let line = |r: &Report| r.findings_of("HL-ENC-01").next().unwrap().location.clone();
    assert_ne!(line(&before), line(&after), "the location follows the line");
}

#[test]
fn snapshots_and_templates_mix_in_one_run() {
    let (_keep, dir) = workdir("mixed");
    let t = write(&dir, "store.yaml", AWS_OWNED);
    let (r, report) = check(
        &["fixtures/demo/snapshot.json", &t],
        &["--only", "HL-ENC-01"],
        &dir.join("r.json"),
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let planned = report
        .findings
        .iter()
        .filter(|f| {
            f.resource()
                .identity
                .as_ref()
                .unwrap()
                .get("planned")
                .is_some()
        })
        .count();
    assert_eq!(planned, 1);
    assert!(
        report.findings.len() > 10,
        "the demo's data stores are there too"
    );
}

/// The CDK fixture app, synthesised by `.ci/setup-cdk.sh` (part of the test command).
const CDK_OUT: &str = "fixtures/iac/cdk-app/cdk.out";

#[test]
fn a_synthesised_cdk_app_gives_its_findings_with_construct_paths() {
    assert!(
        repo_root().join(CDK_OUT).join("manifest.json").exists(),
        "{CDK_OUT} is missing: run `bash .ci/setup-cdk.sh` (the test command does)"
    );
    let (_keep, dir) = workdir("cdk");
    let (r, report) = check(&[CDK_OUT], &[], &dir.join("r.json"));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("read 3 templates"), "{}", r.stderr);
    let status = |policy: &str, address: &str| -> Status {
        report
            .findings_of(policy)
            .find(|f| f.resource().identity.as_ref().unwrap()["planned"]["address"] == address)
            .unwrap_or_else(|| panic!("no {policy} finding for {address}"))
            .status
    };
    // (a) a key created in the stack; (b) an AWS owned key and plain PKCE; (c) in the
    // Prod stage's nested assembly, no encryption setting at all.
    assert_eq!(status("HL-ENC-01", "ClinicalDatastore"), Status::Pass);
    assert_eq!(status("HL-ENC-01", "CohortDatastoreFA74C864"), Status::Fail);
    assert_eq!(status("HL-MD-03", "CohortDatastoreFA74C864"), Status::Fail);
    assert_eq!(status("HL-ENC-01", "ArchiveDatastore"), Status::Fail);
    assert_eq!(status("HL-AUTH-01", "ArchiveDatastore"), Status::Fail);
    // The stack's environment gives the context: the key created in the stack is in the
    // data store's account and region, decided before deploy.
    assert_eq!(status("HL-ENC-03", "ClinicalDatastore"), Status::Pass);
    assert_eq!(status("HL-ENC-04", "ClinicalDatastore"), Status::Pass);
    let f = report
        .findings_of("HL-ENC-01")
        .find(|f| f.status == Status::Fail && f.message.contains("Cohort"))
        .unwrap();
    assert!(
        f.message
            .contains("construct ResearchStack/Cohort/Datastore"),
        "{}",
        f.message
    );
    let at = f.location.as_ref().unwrap();
    assert!(
        at.file.ends_with("cdk.out/ResearchStack.template.json") && at.line > 0,
        "{at:?}"
    );
    let archive = report
        .findings_of("HL-ENC-01")
        .find(|f| f.message.contains("ArchiveDatastore"))
        .unwrap();
    assert!(
        archive
            .location
            .as_ref()
            .unwrap()
            .file
            .contains("assembly-Prod/"),
        "{:?}",
        archive.location
    );
}

#[test]
fn terraform_plans_give_their_findings_and_refuse_an_unknown_format() {
    let (_keep, dir) = workdir("plans");
    let plans = [
        "fixtures/iac/terraform/plan-create.json",
        "fixtures/iac/terraform/plan-modules.json",
        "fixtures/iac/terraform/plan-update.json",
        "fixtures/iac/terraform/plan-no-healthlake.json",
    ];
    let (r, report) = check(&plans, &[], &dir.join("r.json"));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("4 Terraform plans"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("plan-no-healthlake.json declares no HealthLake data store"),
        "{}",
        r.stderr
    );
    // A data store only deleted by the plan is not checked, and a warning says so.
    assert!(r.stderr.contains("is deleted by this plan"), "{}", r.stderr);
    let of = |policy: &str, address: &str| {
        report
            .findings_of(policy)
            .find(|f| f.resource().identity.as_ref().unwrap()["planned"]["address"] == address)
            .unwrap_or_else(|| panic!("no {policy} finding for {address}"))
            .clone()
    };
    // An AWS owned key, written in the plan.
    assert_eq!(
        of("HL-ENC-01", "awscc_healthlake_fhir_datastore.research").status,
        Status::Fail
    );
    // A key ARN known only after apply: the key policies are undecided, naming it.
    let f = of("HL-ENC-03", "awscc_healthlake_fhir_datastore.clinical");
    assert!(f.undecided, "{f:?}");
    assert!(f.message.contains("known after apply"), "{}", f.message);
    // A module instance left without encryption gets the default, said as the plan's.
    let f = of(
        "HL-ENC-01",
        "module.health[\"clinical\"].awscc_healthlake_fhir_datastore.archive[0]",
    );
    assert_eq!(f.status, Status::Fail);
    let note = f.evidence[0].note.as_deref().unwrap_or_default();
    assert!(note.contains("not set in the plan"), "{note}");
    assert!(f.location.as_ref().unwrap().line > 1);

    let (r, _) = check(
        &["fixtures/iac/terraform/plan-format-2.json"],
        &[],
        &dir.join("bad.json"),
    );
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("plan-format-2.json:"), "{}", r.stderr);
    assert!(r.stderr.contains("format_version"), "{}", r.stderr);
}

#[test]
fn an_absolute_path_inside_the_repository_is_named_relative_to_its_root_in_sarif() {
    let (_keep, dir) = workdir("absolute");
    let t = write(&dir, "store.yaml", AWS_OWNED);
    let absolute = repo_root().join(&t).to_string_lossy().into_owned();
    let sarif = dir.join("r.sarif");
    let (r, _) = check(
        &[&absolute],
        &["-o", &format!("sarif={}", sarif.display())],
        &dir.join("r.json"),
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join(&sarif)).unwrap()).unwrap();
    let run = &log["runs"][0];
    let artifact = &run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(artifact["uri"], t.as_str(), "{artifact}");
    assert_eq!(artifact["uriBaseId"], "%SRCROOT%");
    let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        base.starts_with("file:///") && base.ends_with('/'),
        "{base}"
    );
}

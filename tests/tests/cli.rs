//! End to end: `hlaudit inventory` on every fixture shape, bad input, stdin, help and
//! completions, through the real binary.

use std::io::Write;
use std::process::Stdio;

use hlaudit_e2e::{hlaudit, run};

const GOOD: &[(&str, usize)] = &[
    ("fixtures/snapshots/aws-cli-doc-example.json", 1),
    ("fixtures/snapshots/describe-fhir-datastore.json", 1),
    ("fixtures/snapshots/list-cli-v2-iso8601.json", 0),
    ("fixtures/snapshots/bare-array.json", 0),
    ("fixtures/snapshots/datastores.jsonl", 0),
    ("fixtures/snapshots/hlaudit-snapshot.json", 0),
    // 40 data stores, 8 export and import jobs, 2 transformation profiles.
    ("fixtures/demo/snapshot.json", 50),
];

fn inventory_json(path: &str) -> Vec<serde_json::Value> {
    let out = run(hlaudit().args(["inventory", "--format", "json", path]));
    // The hlaudit snapshot fixture records a region that could not be listed: the
    // inventory is printed, and the run still fails closed.
    let expected = if path.ends_with("hlaudit-snapshot.json") {
        2
    } else {
        0
    };
    assert_eq!(out.code, Some(expected), "{path}: {}", out.stderr);
    if expected == 2 {
        assert!(out.stderr.contains("incomplete"), "{}", out.stderr);
    }
    serde_json::from_str(&out.stdout).expect("inventory --format json prints JSON")
}

#[test]
fn every_fixture_shape_is_read() {
    for (path, expected) in GOOD {
        let rows = inventory_json(path);
        assert!(!rows.is_empty(), "{path} gave no data stores");
        if *expected > 0 {
            assert_eq!(rows.len(), *expected, "{path}");
        }
        for row in &rows {
            assert!(
                row["id"].as_str().is_some_and(|s| !s.is_empty()),
                "{path}: {row}"
            );
            // Only data stores have an ARN.
            if row["kind"] == "datastore" {
                assert!(row["arn"].as_str().is_some_and(|s| s.starts_with("arn:")));
            }
            // Every row points back at the file and line it came from.
            let source = row["source"].as_str().unwrap_or_default();
            assert!(source.starts_with(path), "{path}: source {source}");
        }
    }
}

#[test]
fn several_files_and_stdin_are_one_inventory() {
    let demo = std::fs::read("fixtures/demo/snapshot.json")
        .or_else(|_| std::fs::read(hlaudit_e2e::repo_root().join("fixtures/demo/snapshot.json")))
        .expect("demo fixture");
    let mut child = hlaudit()
        .args([
            "inventory",
            "--format",
            "json",
            "-",
            "fixtures/snapshots/describe-fhir-datastore.json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hlaudit starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&demo)
        .expect("write stdin");
    let out = child.wait_with_output().expect("hlaudit ends");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(rows.len(), 51);
    assert!(rows[0]["source"]
        .as_str()
        .is_some_and(|s| s.starts_with("-:")));
}

#[test]
fn the_same_arn_twice_is_kept_once_with_a_warning() {
    let out = run(hlaudit().args([
        "inventory",
        "--format",
        "json",
        "fixtures/demo/snapshot.json",
        "fixtures/demo/snapshot.json",
    ]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(rows.len(), 50);
    assert!(out.stderr.contains("duplicate-arn"), "{}", out.stderr);
}

#[test]
fn bad_input_names_file_line_and_column_and_exits_2() {
    let dir = hlaudit_e2e::repo_root().join("fixtures/snapshots/bad");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("bad fixtures") {
        let path = entry.expect("entry").path();
        let rel = format!(
            "fixtures/snapshots/bad/{}",
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
        );
        let out = run(hlaudit().args(["inventory", &rel]));
        assert_eq!(out.code, Some(2), "{rel} must exit 2: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{rel}: nothing on stdout");
        assert!(
            out.stderr.contains(&rel),
            "{rel}: stderr names the file: {}",
            out.stderr
        );
        // An empty file has no line to point at; every other problem has one.
        assert!(
            rel.ends_with("empty.json") || out.stderr.contains(&format!("{rel}:")),
            "{rel}: stderr gives a line: {}",
            out.stderr
        );
        seen += 1;
    }
    assert!(seen >= 8, "only {seen} bad fixtures");
}

#[test]
fn a_missing_file_is_an_input_error() {
    let out = run(hlaudit().args(["inventory", "fixtures/does-not-exist.json"]));
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("does-not-exist.json"), "{}", out.stderr);
}

#[test]
fn fixture_cases_are_evaluated_at_a_fixed_time_unless_as_of_says_otherwise() {
    // A data store created 2025-12-15 is 17 days old at the default test time
    // (2026-01-01T00:00:00Z): not older than 30 days, so the case named `fail` holds
    // whatever the day the test runs; at a later --as-of it is older and the case fails.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("age.yaml"),
        "policies:\n  - id: T-AGE-01\n    title: Old enough\n    severity: low\n    \
         description: The data store is older than 30 days.\n    \
         assert: {path: CreatedAt, older_than: 30d}\n",
    )
    .unwrap();
    let cases = dir.path().join("cases").join("T-AGE-01");
    std::fs::create_dir_all(&cases).unwrap();
    std::fs::write(
        cases.join("fail.json"),
        r#"[{"DatastoreId": "a", "CreatedAt": "2025-12-15T00:00:00Z",
            "DatastoreArn": "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/a"}]"#,
    )
    .unwrap();
    let policy = dir.path().join("age.yaml");
    let cases_dir = dir.path().join("cases");
    let args = |extra: &[&str]| {
        let mut cmd = hlaudit();
        cmd.arg("rules")
            .arg("test")
            .arg(&policy)
            .arg("--cases")
            .arg(&cases_dir)
            .args(extra);
        run(&mut cmd)
    };
    let default = args(&[]);
    assert_eq!(
        default.code,
        Some(0),
        "{}{}",
        default.stdout,
        default.stderr
    );
    let later = args(&["--as-of", "2026-03-01T00:00:00Z"]);
    assert_eq!(later.code, Some(1), "{}{}", later.stdout, later.stderr);
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(hlaudit().args(["inventory"])).code, Some(2));
    assert_eq!(run(hlaudit().args(["no-such-command"])).code, Some(2));
}

#[test]
fn help_documents_exit_codes_and_examples() {
    let out = run(hlaudit().arg("--help"));
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.contains("Exit codes:"), "{}", out.stdout);
    for cmd in ["inventory", "check", "completions"] {
        let out = run(hlaudit().args([cmd, "--help"]));
        assert_eq!(out.code, Some(0), "{cmd}");
        assert!(
            out.stdout.contains("Examples:"),
            "{cmd} --help has examples"
        );
    }
    let out = run(hlaudit().arg("--version"));
    assert!(out.stdout.starts_with("hlaudit "), "{}", out.stdout);
}

/// `hlaudit --version` names the release and the commit it was built from (issue 17).
#[test]
fn version_names_the_release_and_the_commit() {
    let out = run(hlaudit().arg("--version"));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let line = out.stdout.trim_end();
    let rest = line
        .strip_prefix(&format!("hlaudit {} (commit ", env!("CARGO_PKG_VERSION")))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("unexpected --version output: {line}"));
    // Built from this checkout: a commit of this repository (HEAD may have moved since
    // the build, so any commit it knows will do), or `unknown` without git.
    let known = std::process::Command::new("git")
        .current_dir(hlaudit_e2e::repo_root())
        .args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("{rest}^{{commit}}"))
        .output()
        .map(|o| o.status.success());
    match known {
        Ok(true) => assert!(
            rest.len() >= 7 && rest.bytes().all(|b| b.is_ascii_hexdigit()),
            "{line}"
        ),
        _ => assert_eq!(rest, "unknown", "{line}"),
    }
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(hlaudit().args(["completions", shell]));
        assert_eq!(out.code, Some(0), "{shell}");
        assert!(
            out.stdout.contains("inventory"),
            "{shell} script names subcommands"
        );
        assert!(out.stdout.len() > 500, "{shell} script is not empty");
    }
}

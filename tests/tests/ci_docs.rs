//! The CI workflows of `docs/ci.md`, run: every script step of every workflow that calls
//! hlaudit is executed with bash as the CI would (GitHub's `bash -eo pipefail`), in a folder
//! laid out as the workflows expect (`inventory/snapshot.json`, `infra/`), with the binary
//! under test on PATH. An option the CLI does not have, or a file a later step expects and
//! an earlier one did not write, fails the test, so the docs cannot drift from the CLI.

use std::path::{Path, PathBuf};
use std::process::Command;

use hlaudit_e2e::{binary, repo_root, run};
use serde_yaml_ng::Value;

/// The YAML code blocks of a Markdown file.
fn yaml_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_start()) {
            (None, l) if l.starts_with("```yaml") => current = Some(String::new()),
            (Some(_), l) if l.starts_with("```") => blocks.extend(current.take()),
            (Some(b), _) => {
                b.push_str(line);
                b.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

/// The shell scripts of a workflow, in order: GitHub's `steps[].run`, GitLab's
/// `before_script` and `script`.
fn scripts(workflow: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let text = |v: &Value| v.as_str().map(str::to_owned);
    if let Some(jobs) = workflow.get("jobs").and_then(Value::as_mapping) {
        for job in jobs.values() {
            for step in job
                .get("steps")
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
            {
                out.extend(step.get("run").and_then(text));
            }
        }
        return out;
    }
    for job in workflow.as_mapping().into_iter().flat_map(|m| m.values()) {
        for key in ["before_script", "script"] {
            for line in job
                .get(key)
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
            {
                out.extend(text(line));
            }
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// Runs a workflow's scripts in `dir`; returns (script, exit code, stderr) of each.
fn run_workflow(workflow: &Value, dir: &Path, summary: &Path) -> Vec<(String, i32, String)> {
    let bin_dir: PathBuf = binary("hlaudit", "hlaudit").parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut results = Vec::new();
    for script in scripts(workflow) {
        // The binary under test stands in for the one the workflow installs.
        if script.contains("cargo install") {
            assert!(
                script.contains("cargo install --locked"),
                "install with the lock file: {script}"
            );
            continue;
        }
        let r = run(Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
            .current_dir(dir)
            .env("PATH", &path)
            .env("GITHUB_STEP_SUMMARY", summary)
            .env("NO_COLOR", "1"));
        results.push((script, r.code.unwrap_or(-1), r.stderr));
    }
    results
}

#[test]
fn every_workflow_in_the_ci_docs_runs_against_the_fixtures() {
    let docs = std::fs::read_to_string(repo_root().join("docs/ci.md")).unwrap();
    let blocks = yaml_blocks(&docs);
    assert_eq!(blocks.len(), 3, "two GitHub workflows and one GitLab job");
    for (i, block) in blocks.iter().enumerate() {
        let workflow: Value = serde_yaml_ng::from_str(block)
            .unwrap_or_else(|e| panic!("workflow {i} of docs/ci.md is not YAML: {e}"));
        assert!(
            scripts(&workflow)
                .iter()
                .any(|s| s.contains("hlaudit check")),
            "workflow {i} runs no check"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("inventory")).unwrap();
        std::fs::copy(
            repo_root().join("fixtures/demo/snapshot.json"),
            dir.path().join("inventory/snapshot.json"),
        )
        .unwrap();
        copy_dir(
            &repo_root().join("fixtures/iac/cfn"),
            &dir.path().join("infra"),
        );
        let summary = dir.path().join("summary.md");
        // Twice: the second run finds the first one's report as its baseline.
        let mut second_stderr = String::new();
        for round in 0..2 {
            for (script, code, stderr) in run_workflow(&workflow, dir.path(), &summary) {
                if round == 1 {
                    second_stderr.push_str(&stderr);
                }
                // 1 is the gate doing its job (the fixtures break policies on purpose).
                let allowed = if script.contains("hlaudit check") {
                    1
                } else {
                    0
                };
                assert!(
                    code == 0 || code == allowed,
                    "workflow {i}, round {round}: `{script}` exited {code}:\n{stderr}"
                );
            }
        }
        for expected in [
            "hlaudit.sarif",
            "hlaudit.json",
            "hlaudit-junit.xml",
            "hlaudit.md",
        ] {
            if block.contains(expected) {
                assert!(
                    dir.path().join(expected).exists(),
                    "workflow {i} names {expected} but no step wrote it"
                );
            }
        }
        if block.contains("GITHUB_STEP_SUMMARY") {
            let text = std::fs::read_to_string(&summary).unwrap_or_default();
            assert!(text.contains("HL-"), "workflow {i} wrote no summary");
        }
        if block.contains("--baseline") {
            assert!(dir.path().join("baseline/hlaudit.json").exists());
            assert!(
                second_stderr.contains("baseline baseline/hlaudit.json: 0 new"),
                "the second run compared with the first: {second_stderr}"
            );
        }
    }
}

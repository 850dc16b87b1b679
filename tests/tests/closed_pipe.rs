//! A reader that goes away (`hlaudit ... | head`, `hlaudit ... 2>&1 | head -3`) never makes
//! hlaudit panic: every command ends with the exit code its run would have had, through a
//! real pipe whose read end is closed before or while hlaudit writes.
//!
//! Rust ignores SIGPIPE, so each write after the close fails with `EPIPE`; `println!` and
//! `eprintln!` panic on it (exit 101), as did clap_complete's generators and the log
//! subscriber's error report.

mod collect_support;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use collect_support::{aws_command, datastores, emulator, ACCOUNT};
use hlaudit_e2e::{hlaudit, run};
use hlaudit_emulator::Faults;

const DEMO: &str = "fixtures/demo/snapshot.json";
const AS_OF: &str = "2026-11-28T09:30:00Z";
/// Runs of each command in each way of closing: the moment of the close varies.
const REPEAT: usize = 3;

/// How the reader goes away.
#[derive(Debug, Clone, Copy)]
enum Close {
    /// Standard output's reader is gone before hlaudit writes; stderr is read whole.
    StdoutAtOnce,
    /// Standard output's reader takes a few bytes and goes; stderr is read whole.
    StdoutAfter(usize),
    /// Standard error's reader is gone before hlaudit writes; stdout is read whole.
    StderrAtOnce,
    /// `2>&1 | head -c N`: both streams on one pipe whose reader takes a few bytes.
    BothAfter(usize),
}

const CLOSES: [Close; 4] = [
    Close::StdoutAtOnce,
    Close::StdoutAfter(64),
    Close::StderrAtOnce,
    Close::BothAfter(200),
];

/// Reads up to `n` bytes (fewer if the stream ends first).
fn read_some(mut r: impl Read, n: usize) {
    let mut buf = vec![0; n];
    let mut got = 0;
    while got < n {
        match r.read(&mut buf[got..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => got += k,
        }
    }
}

/// Runs `cmd` with its reader going away as `close` says; returns the exit code and
/// whatever of stderr could be read.
fn run_closed(mut cmd: Command, close: Close) -> (Option<i32>, String) {
    cmd.stdin(Stdio::null());
    let mut stderr_text = String::new();
    let status = match close {
        Close::StdoutAtOnce | Close::StdoutAfter(_) => {
            let mut child = cmd
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            // Stderr is drained beside: a command that writes more than a pipe holds
            // to stderr before its first byte to stdout would otherwise wait forever.
            let mut stderr = child.stderr.take().unwrap();
            let drain = std::thread::spawn(move || {
                let mut text = String::new();
                stderr.read_to_string(&mut text).unwrap();
                text
            });
            let stdout = child.stdout.take().unwrap();
            if let Close::StdoutAfter(n) = close {
                read_some(stdout, n);
            } else {
                drop(stdout);
            }
            stderr_text = drain.join().unwrap();
            child.wait().unwrap()
        }
        Close::StderrAtOnce => {
            let mut child = cmd
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            drop(child.stderr.take());
            std::io::copy(&mut child.stdout.take().unwrap(), &mut std::io::sink()).unwrap();
            child.wait().unwrap()
        }
        Close::BothAfter(n) => {
            let (reader, writer) = std::io::pipe().unwrap();
            let mut child = cmd
                .stdout(writer.try_clone().unwrap())
                .stderr(writer)
                .spawn()
                .unwrap();
            // The command holds the write ends now; ours are closed, so the reader sees
            // the end when the child exits.
            drop(cmd);
            read_some(reader, n);
            child.wait().unwrap()
        }
    };
    (status.code(), stderr_text)
}

/// Runs `make()` REPEAT times in every way of closing and checks the exit code.
fn assert_survives(what: &str, want: i32, make: impl Fn() -> Command) {
    for close in CLOSES {
        for attempt in 0..REPEAT {
            let (code, stderr) = run_closed(make(), close);
            assert!(
                !stderr.contains("panicked"),
                "{what} ({close:?}, run {attempt}) panicked:\n{stderr}"
            );
            assert_eq!(
                code,
                Some(want),
                "{what} ({close:?}, run {attempt}): stderr:\n{stderr}"
            );
        }
    }
}

fn hl<'a>(args: &'a [&'a str]) -> impl Fn() -> Command + 'a {
    move || {
        let mut cmd = hlaudit();
        cmd.args(args);
        cmd
    }
}

/// A policy file of 60 broken policies: 80 KB of compiler-style diagnostics on stderr,
/// more than a pipe holds.
fn policy_with_many_errors(dir: &Path) -> String {
    use std::fmt::Write as _;
    let mut yaml = String::from("policies:\n");
    for i in 0..60 {
        write!(
            yaml,
            "  - id: BAD-{i:03}\n    title: a policy with a typo\n    severty: high\n    check:\n      path: DatastoreStatus\n      equalz: ACTIVE\n"
        )
        .unwrap();
    }
    let path = dir.join("bad.yaml");
    std::fs::write(&path, yaml).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn check_ends_with_its_exit_code_whatever_the_reader_does() {
    // Findings at or above high: 1, in the terminal and the JSON formats.
    for format in ["terminal", "json"] {
        assert_survives(
            &format!("check --format {format}"),
            1,
            hl(&["check", DEMO, "--as-of", AS_OF, "--format", format]),
        );
    }
    // Verbose logging to stderr as well.
    assert_survives(
        "check -vv",
        1,
        hl(&["check", DEMO, "--as-of", AS_OF, "-vv"]),
    );
}

#[test]
fn invalid_policy_files_exit_2_whatever_the_reader_does() {
    let dir = tempfile::tempdir().unwrap();
    let bad = policy_with_many_errors(dir.path());
    // The case: `hlaudit rules validate bad.yaml 2>&1 | head -3`.
    assert_survives("rules validate", 2, hl(&["rules", "validate", &bad]));
    assert_survives(
        "check --rules",
        2,
        hl(&["check", DEMO, "--no-builtin", "--rules", &bad]),
    );
}

#[test]
fn listing_and_explaining_commands_exit_0_whatever_the_reader_does() {
    assert_survives("rules list", 0, hl(&["rules", "list"]));
    assert_survives(
        "rules list --format json",
        0,
        hl(&["rules", "list", "--format", "json"]),
    );
    assert_survives("rules docs", 0, hl(&["rules", "docs", "-o", "-"]));
    assert_survives("inventory", 0, hl(&["inventory", DEMO]));
    assert_survives(
        "inventory --format json",
        0,
        hl(&["inventory", DEMO, "--format", "json"]),
    );
    assert_survives(
        "explain",
        0,
        hl(&["explain", "HL-ENC-01", DEMO, "--as-of", AS_OF]),
    );
    assert_survives("completions bash", 0, hl(&["completions", "bash"]));
    assert_survives("completions zsh", 0, hl(&["completions", "zsh"]));
    assert_survives("--help", 0, hl(&["--help"]));
    assert_survives("check --help", 0, hl(&["check", "--help"]));
    assert_survives("--version", 0, hl(&["--version"]));
    // A usage error, which clap writes to stderr.
    assert_survives("a usage error", 2, hl(&["check", "--no-such-flag"]));
}

#[test]
fn rules_test_and_diff_end_with_their_exit_codes_whatever_the_reader_does() {
    assert_survives("rules test", 0, hl(&["rules", "test", "rules"]));
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.json");
    let new = dir.path().join("new.json");
    let out = run(hlaudit().args([
        "check",
        DEMO,
        "--as-of",
        AS_OF,
        "--format",
        "none",
        "--only",
        "HL-ENC-*",
        "-o",
        &format!("json={}", old.display()),
        "-o",
        &format!("json={}", new.display()),
    ]));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let (old, new) = (old.to_str().unwrap(), new.to_str().unwrap());
    // Nothing new: 0, in every format.
    for format in ["terminal", "json", "markdown"] {
        assert_survives(
            &format!("diff --format {format}"),
            0,
            hl(&["diff", old, new, "--format", format]),
        );
    }
}

#[test]
fn collect_and_scan_end_with_their_exit_codes_whatever_the_reader_does() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(datastores(ACCOUNT, &["us-east-1"], 300), Faults::default());
    let endpoint = emu.endpoint_url();
    let aws = |sub: &'static str, rest: &'static [&'static str]| {
        let endpoint = endpoint.clone();
        let dir = dir.path().to_owned();
        move || {
            let mut cmd = aws_command(sub, &endpoint, &dir);
            cmd.args(["--region", "us-east-1"]).args(rest);
            cmd
        }
    };
    // The snapshot on standard output, its summary on stderr.
    assert_survives("collect -o -", 0, aws("collect", &["-o", "-"]));
    // The emulator's data stores break high policies: 1.
    assert_survives("scan", 1, aws("scan", &["--as-of", AS_OF]));
}

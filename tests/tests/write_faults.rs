//! Faults while hlaudit writes its files: a SIGKILL at any moment, and a full disk (a
//! file-size limit, and a small tmpfs where this machine lets the test mount one).
//!
//! Report files (`check -o FORMAT=PATH`) and snapshots (`collect -o FILE`) are written to
//! hidden temporary files beside their targets and renamed over them once complete, so a
//! target is always either the previous file, intact, or the new one, complete; a full disk
//! is an error naming the file (exit 2) that removes its temporary files. A SIGKILL leaves
//! its temporary files behind (nothing runs after it): they are hidden `.hlaudit-*.tmp` or
//! `.NAME.*.tmp` files that no later run reads or collides with.
//!
//! `bench/kill-writes.sh` runs the kills at length.

mod collect_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use collect_support::{aws_command, datastore, datastores, emulator, read_snapshot, ACCOUNT};
use hlaudit_e2e::{hlaudit, run};
use hlaudit_emulator::Faults;
use hlaudit_model::Inventory;

const AS_OF: &str = "2026-11-28T09:30:00Z";
/// The report files of one run, by format.
const REPORTS: [(&str, &str); 5] = [
    ("json", "r.json"),
    ("sarif", "r.sarif"),
    ("html", "r.html"),
    ("junit", "r.xml"),
    ("markdown", "r.md"),
];

/// A list-shaped snapshot (a JSON array) of `n` data stores in `path`.
fn write_input(path: &Path, n: usize) {
    let regions = ["us-east-1", "eu-west-2", "ap-southeast-2"];
    let mut text = String::from("[\n");
    for i in 0..n {
        let r = datastore(ACCOUNT, regions[i % regions.len()], i / regions.len());
        if i > 0 {
            text.push_str(",\n");
        }
        text.push_str(r.raw_json());
    }
    text.push_str("\n]\n");
    std::fs::write(path, text).unwrap();
}

/// `hlaudit check INPUT --format none -o FORMAT=DIR/NAME...` for every report.
fn check_command(input: &Path, dir: &Path) -> Command {
    let mut cmd = hlaudit();
    cmd.args([
        "check",
        "--as-of",
        AS_OF,
        "--format",
        "none",
        "--fail-on",
        "none",
    ])
    .arg(input);
    for (format, name) in REPORTS {
        cmd.arg("-o")
            .arg(format!("{format}={}", dir.join(name).display()));
    }
    cmd
}

/// Whether `text` is a whole report of `format` (what a cut-off file is not).
fn is_whole(format: &str, text: &str) -> bool {
    match format {
        "json" | "sarif" => serde_json::from_str::<serde_json::Value>(text).is_ok(),
        "html" => text.trim_end().ends_with("</html>"),
        "junit" => text.trim_end().ends_with("</testsuites>"),
        "markdown" => text.ends_with('\n'),
        _ => unreachable!("{format}"),
    }
}

/// Lengths of the reports in `dir`, by file name.
fn report_lengths(dir: &Path) -> BTreeMap<&'static str, u64> {
    REPORTS
        .iter()
        .map(|(_, name)| (*name, std::fs::metadata(dir.join(name)).unwrap().len()))
        .collect()
}

/// Files in `dir` other than `keep`, by name.
fn others(dir: &Path, keep: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect();
    names.sort();
    names
}

/// A temporary file name hlaudit uses: hidden, ending in `.tmp`.
fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp")
}

/// A fixed linear congruential generator, so the kill moments are the same every run.
struct Lcg(u64);

impl Lcg {
    fn unit(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Kill moments for runs timed at `total`: jittered slices of `0..1.1 * total` in turn, so
/// kills fall early and late in a run, until `wanted` runs were killed while running. A run
/// that ends before its moment shows runs are quicker now than when they were timed (the
/// machine was busier then), so the span shrinks by a fifth; more than `4 * wanted` runs
/// fail the test.
struct KillPlan {
    rng: Lcg,
    span: Duration,
    slices: usize,
    runs: usize,
    killed: usize,
    wanted: usize,
}

impl KillPlan {
    fn new(wanted: usize, total: Duration, seed: u64) -> Self {
        KillPlan {
            rng: Lcg(seed),
            span: total.mul_f64(1.1),
            slices: wanted + wanted / 4,
            runs: 0,
            killed: 0,
            wanted,
        }
    }

    /// The next moment, or `None` once enough runs were killed.
    fn next_moment(&mut self) -> Option<Duration> {
        if self.killed >= self.wanted {
            return None;
        }
        assert!(
            self.runs < 4 * self.wanted,
            "only {} of {} runs were still running when killed",
            self.killed,
            self.runs
        );
        let slice = (self.runs % self.slices) as f64;
        self.runs += 1;
        Some(
            self.span
                .mul_f64((slice + self.rng.unit()) / self.slices as f64),
        )
    }

    fn record(&mut self, killed: bool) {
        if killed {
            self.killed += 1;
        } else {
            self.span = self.span.mul_f64(0.8);
        }
    }
}

/// Starts `cmd` and SIGKILLs it after `after` (unless it has ended); whether it was killed.
fn kill_after(mut cmd: Command, after: Duration) -> bool {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < after {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let killed = child.try_wait().unwrap().is_none();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    killed
}

#[test]
fn a_killed_check_leaves_each_report_previous_or_complete() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let (small, big) = (dir.path().join("small.json"), dir.path().join("big.json"));
    write_input(&small, 30);
    write_input(&big, 600);

    // The previous reports, from another input, so old and new differ in length.
    let r = run(&mut check_command(&small, &out));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let old = report_lengths(&out);
    // The new reports, timed, to spread the kills over a whole run. The quicker of two
    // runs: one slowed by other work on the machine would put later kills after runs end.
    let mut total = Duration::MAX;
    for _ in 0..2 {
        let start = Instant::now();
        let r = run(&mut check_command(&big, dir.path()));
        total = total.min(start.elapsed());
        assert_eq!(r.code, Some(0), "{}", r.stderr);
    }
    let new = report_lengths(dir.path());

    let mut orphaned = 0;
    let mut plan = KillPlan::new(18, total, 0x6b69_6c6c);
    while let Some(after) = plan.next_moment() {
        plan.record(kill_after(check_command(&big, &out), after));
        for (format, name) in REPORTS {
            let text = std::fs::read_to_string(out.join(name)).unwrap();
            let len = text.len() as u64;
            assert!(
                len == old[name] || len == new[name],
                "{name} killed after {after:?} is {len} bytes, neither {} nor {}",
                old[name],
                new[name]
            );
            assert!(
                is_whole(format, &text),
                "{name} killed after {after:?} is cut off"
            );
        }
        let names: Vec<&str> = REPORTS.iter().map(|(_, n)| *n).collect();
        for name in others(&out, &names) {
            assert!(is_temporary(&name), "{name} left beside the reports");
            orphaned += 1;
            std::fs::remove_file(out.join(name)).unwrap();
        }
    }
    eprintln!(
        "check: {} of {} runs killed (kill -9) over {total:?}, {orphaned} temporary files orphaned, 0 partial reports",
        plan.killed, plan.runs
    );
}

/// Writes an hlaudit snapshot of `count` data stores of us-east-1 to `path`.
fn write_snapshot_file(path: &Path, count: usize) {
    let inv = Inventory {
        records: datastores(ACCOUNT, &["us-east-1"], count),
        ..Inventory::default()
    };
    let mut out = Vec::new();
    hlaudit_model::snapshot::write_snapshot(&inv, &mut out).unwrap();
    std::fs::write(path, out).unwrap();
}

#[test]
fn a_killed_collect_leaves_the_previous_snapshot_or_the_complete_new_one() {
    let dir = tempfile::tempdir().unwrap();
    const NEW: usize = 600;
    const OLD: usize = 7;
    let emu = emulator(datastores(ACCOUNT, &["us-east-1"], NEW), Faults::default());
    let target = dir.path().join("snapshot.json");
    let collect = || {
        let mut cmd = aws_command("collect", &emu.endpoint_url(), dir.path());
        cmd.args(["--region", "us-east-1", "-o"]).arg(&target);
        cmd
    };
    // The quicker of two timed runs (see the check test above).
    let mut total = Duration::MAX;
    for _ in 0..2 {
        let mut cmd = collect(); // builds the binary first, outside the timing
        let start = Instant::now();
        let r = run(&mut cmd);
        total = total.min(start.elapsed());
        assert_eq!(r.code, Some(0), "{}", r.stderr);
    }
    assert_eq!(read_snapshot(&target).records.len(), NEW);

    let mut orphaned = 0;
    let mut plan = KillPlan::new(15, total, 0x636f_6c6c);
    while let Some(after) = plan.next_moment() {
        write_snapshot_file(&target, OLD);
        plan.record(kill_after(collect(), after));
        // Read whole by hlaudit's own (strict) reader: a cut-off file does not read.
        let n = read_snapshot(&target).records.len();
        assert!(
            n == OLD || n == NEW,
            "killed after {after:?}: {n} data stores"
        );
        for name in others(dir.path(), &["snapshot.json"]) {
            assert!(is_temporary(&name), "{name} left beside the snapshot");
            orphaned += 1;
            std::fs::remove_file(dir.path().join(name)).unwrap();
        }
    }
    eprintln!(
        "collect: {} of {} runs killed (kill -9) over {total:?}, {orphaned} temporary files orphaned, 0 partial snapshots",
        plan.killed, plan.runs
    );
}

/// `sh -c 'ulimit -f BLOCKS; exec CMD'`: every file the command writes is limited to
/// BLOCKS blocks (512 or 1024 bytes, as the shell counts), as on a full disk.
fn with_file_size_limit(cmd: &Command, blocks: u64) -> Command {
    let mut limited = Command::new("sh");
    limited
        .arg("-c")
        .arg(format!("ulimit -f {blocks} && exec \"$0\" \"$@\""))
        .arg(cmd.get_program())
        .args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        limited.current_dir(dir);
    }
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => limited.env(key, v),
            None => limited.env_remove(key),
        };
    }
    limited
}

/// Asserts a run that hit the full disk: exit 2, an error naming `target`, the previous
/// files as they were, and no temporary file left in `dir`.
fn assert_failed_cleanly(
    r: &hlaudit_e2e::Run,
    target: &str,
    dir: &Path,
    before: &BTreeMap<PathBuf, Vec<u8>>,
) {
    assert_eq!(r.code, Some(2), "stderr:\n{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(
        r.stderr.contains(target),
        "the error does not name {target}:\n{}",
        r.stderr
    );
    for (path, bytes) in before {
        assert!(
            std::fs::read(path).unwrap() == *bytes,
            "{} was changed",
            path.display()
        );
    }
    let left: Vec<String> = others(dir, &[])
        .into_iter()
        .filter(|n| is_temporary(n))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

fn contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    others(dir, &[])
        .into_iter()
        .map(|n| (dir.join(&n), std::fs::read(dir.join(n)).unwrap()))
        .collect()
}

#[test]
fn reports_past_a_file_size_limit_fail_with_exit_2_and_replace_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let input = dir.path().join("in.json");
    write_input(&input, 200);
    let r = run(&mut check_command(&input, &out));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let before = contents(&out);
    // 16 blocks (8 or 16 KiB): the Markdown summary fits, every other report is larger,
    // the first of them (JSON) fails.
    let r = run(&mut with_file_size_limit(&check_command(&input, &out), 16));
    assert!(r.stderr.contains("too large"), "{}", r.stderr);
    assert_failed_cleanly(&r, "r.json", &out, &before);

    // The report on standard output, redirected to a file past the limit: an error of the
    // run, not a panic.
    let stdout_file = dir.path().join("stdout.txt");
    let mut cmd = hlaudit();
    cmd.args(["check", "--as-of", AS_OF, "--format", "json"])
        .arg(&input);
    let r = with_file_size_limit(&cmd, 16)
        .stdout(std::fs::File::create(&stdout_file).unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write to standard output"),
        "{stderr}"
    );
}

#[test]
fn a_snapshot_past_a_file_size_limit_fails_with_exit_2_and_keeps_the_previous_one() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(datastores(ACCOUNT, &["us-east-1"], 200), Faults::default());
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    write_snapshot_file(&out.join("snapshot.json"), 3);
    let before = contents(&out);
    for sub in ["collect", "scan"] {
        let mut cmd = aws_command(sub, &emu.endpoint_url(), dir.path());
        cmd.args(["--region", "us-east-1"]);
        if sub == "collect" {
            cmd.arg("-o");
        } else {
            cmd.args(["--format", "none", "--save-snapshot"]);
        }
        cmd.arg(out.join("snapshot.json"));
        let r = run(&mut with_file_size_limit(&cmd, 16));
        assert!(r.stderr.contains("too large"), "{sub}: {}", r.stderr);
        assert_failed_cleanly(&r, "snapshot.json", &out, &before);
    }
}

/// A tmpfs of `kib` KiB mounted for the test's lifetime, when this machine allows it
/// (root in a system that lets it mount); unmounted on drop.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(at: &Path, kib: u64) -> Option<SmallDisk> {
        std::fs::create_dir_all(at).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(at)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| SmallDisk(at.to_owned()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn reports_and_snapshots_on_a_full_tmpfs_fail_with_exit_2_and_replace_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Room for the reports of 5 data stores (more than 1 MiB since the JSON, HTML and
    // Markdown reports hold the compliance view), not for those of 400.
    let Some(disk) = SmallDisk::mount(&dir.path().join("disk"), 2048) else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    };
    let input = dir.path().join("in.json");
    write_input(&input, 5);
    let r = run(&mut check_command(&input, &disk.0));
    assert_eq!(r.code, Some(0), "the old reports fit: {}", r.stderr);
    let before = contents(&disk.0);
    // Larger reports, whose temporary files fill the disk beside the old ones.
    write_input(&input, 400);
    let r = run(&mut check_command(&input, &disk.0));
    assert!(r.stderr.contains("No space left"), "{}", r.stderr);
    assert_failed_cleanly(&r, &disk.0.display().to_string(), &disk.0, &before);

    let emu = emulator(
        datastores(ACCOUNT, &["us-east-1"], 3_000),
        Faults::default(),
    );
    for name in REPORTS.map(|(_, n)| n) {
        std::fs::remove_file(disk.0.join(name)).unwrap();
    }
    write_snapshot_file(&disk.0.join("snapshot.json"), 3);
    let before = contents(&disk.0);
    let mut cmd = aws_command("collect", &emu.endpoint_url(), dir.path());
    cmd.args(["--region", "us-east-1", "-o"])
        .arg(disk.0.join("snapshot.json"));
    let r = run(&mut cmd);
    assert!(r.stderr.contains("No space left"), "{}", r.stderr);
    assert_failed_cleanly(&r, "snapshot.json", &disk.0, &before);
}

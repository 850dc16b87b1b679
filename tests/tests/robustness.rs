//! Readers of untrusted input never crash: mutation tests of every reader, in process
//! (snapshots of every shape, policy files, waiver files, JSON reports read back as
//! baselines, `|json` documents, ARNs, timestamps) and through the real binary (`check`,
//! `rules validate`, `diff`, `--config`), starting from the fixtures. The mutator and the
//! driver are `hlaudit_e2e::mutate`; the configuration file's own harness lives beside
//! its parser (`crates/cli/src/config/file/robustness.rs`), as the binary crate has no
//! library to call.
//!
//! The property, for every case: no panic, an answer within the bound, and either a
//! valid result or an error that says where (file and line/column, or field). Through the
//! binary: exit 2 whenever the input is refused, never 101, and never 0 or 1 with an
//! error printed.
//!
//! CI runs the default budget (500 to 2,500 cases per reader, under ten seconds each in a
//! debug build); the long run is `bench/robustness.sh`. Environment: see
//! [`hlaudit_e2e::mutate::Budget`].

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use hlaudit_e2e::mutate::{run_reader, Budget, Seed, Syntax, Tally, Verdict};
use hlaudit_e2e::{hlaudit, repo_root, run};
use hlaudit_model::snapshot::{self, ErrorKind, SnapshotErrors};
use hlaudit_model::{Arn, Inventory, Status, Timestamp};
use hlaudit_rules::Diagnostics;

fn seeds(rels: &[&str]) -> Vec<Seed> {
    let root = repo_root();
    rels.iter().map(|r| Seed::file(&root, r)).collect()
}

fn finish(tally: &Tally) {
    println!("{tally}");
    tally.assert_clean();
}

/// A temporary file holding `bytes`, with the extension a reader may look at.
fn temp_file(bytes: &[u8], suffix: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new()
        .prefix("mutant")
        .suffix(suffix)
        .tempfile()
        .expect("temporary file");
    f.write_all(bytes).expect("write the temporary file");
    f.flush().expect("flush the temporary file");
    f
}

// ---------------------------------------------------------------------------------------
// Snapshots

const SNAPSHOT_SEEDS: &[&str] = &[
    "fixtures/snapshots/aws-cli-doc-example.json",
    "fixtures/snapshots/bare-array.json",
    "fixtures/snapshots/datastores.jsonl",
    "fixtures/snapshots/describe-fhir-datastore.json",
    "fixtures/snapshots/hlaudit-snapshot.json",
    "fixtures/snapshots/list-cli-v2-iso8601.json",
    "fixtures/cases/HL-MD-01/pass-json-object.json",
    "fixtures/cases/HL-BAK-03/pass-recent-restore-point-epoch.json",
    "fixtures/waivers/snapshot.json",
];

/// Whether every error of a snapshot input says where: a line (and column), or the whole
/// input for the errors that are about it (empty, unreadable).
fn snapshot_verdict(r: &Result<Inventory, SnapshotErrors>) -> Verdict {
    match r {
        Ok(_) => Verdict::Accepted,
        Err(errs) => {
            let text = errs.render();
            let located = !errs.is_empty()
                && errs.errors().iter().all(|e| {
                    !e.file.is_empty()
                        && (e.line > 0 || matches!(e.kind, ErrorKind::Empty | ErrorKind::Io(_)))
                });
            if located {
                Verdict::Located(text)
            } else {
                Verdict::Unlocated(text)
            }
        }
    }
}

/// Reads a snapshot both ways (whole file, as `check FILE` does, and streamed, as
/// standard input over the size limit is): the two must agree.
fn read_snapshot(bytes: &[u8]) -> Verdict {
    let f = temp_file(bytes, ".json");
    let path = f.path().to_string_lossy().into_owned();
    let whole = snapshot::read_files(&[path.as_str()]);
    let streamed = snapshot::read_reader(&path, bytes);
    let (a, b) = (snapshot_verdict(&whole), snapshot_verdict(&streamed));
    match (&a, &b) {
        (Verdict::Accepted, Verdict::Accepted) => {
            let (w, s) = (whole.as_ref().ok(), streamed.as_ref().ok());
            if w.map(|i| i.records.len()) != s.map(|i| i.records.len()) {
                return Verdict::Unlocated(
                    "the whole-file and streaming readers keep different records".to_owned(),
                );
            }
            a
        }
        (Verdict::Located(_), Verdict::Located(_)) => a,
        (Verdict::Unlocated(_), _) => a,
        (_, Verdict::Unlocated(_)) => b,
        _ => Verdict::Unlocated(format!(
            "the whole-file and streaming readers disagree:\nwhole: {a:?}\nstreamed: {b:?}"
        )),
    }
}

#[test]
fn snapshot_readers_never_crash() {
    let budget = Budget::from_env(2500);
    let tally = run_reader(
        "snapshot",
        &seeds(SNAPSHOT_SEEDS),
        Syntax::Json,
        &budget,
        Arc::new(read_snapshot),
    );
    finish(&tally);
}

// ---------------------------------------------------------------------------------------
// Policies and waivers

/// Whether every diagnostic names its file and line.
fn diagnostics_verdict(d: &Diagnostics) -> Verdict {
    // both renderings, as the binary shows them: drawing a snippet must not fail either
    let _ = d.render(true);
    let text = d.render(false);
    if !d.is_empty() && d.items().iter().all(|i| !i.file.is_empty() && i.line > 0) {
        Verdict::Located(text)
    } else {
        Verdict::Unlocated(text)
    }
}

fn read_policy(bytes: &[u8]) -> Verdict {
    let f = temp_file(bytes, ".yaml");
    let sources = match hlaudit_rules::read_sources(&[f.path().to_path_buf()]) {
        Ok(s) => s,
        Err(hlaudit_rules::RulesError::Invalid(d)) => return diagnostics_verdict(&d),
        Err(e) => return Verdict::Unlocated(e.to_string()),
    };
    match hlaudit_rules::compile(&sources, &hlaudit_rules::Overrides::none()) {
        Ok(_) => Verdict::Accepted,
        Err(d) => diagnostics_verdict(&d),
    }
}

#[test]
fn policy_reader_never_crashes() {
    let budget = Budget::from_env(1000);
    let tally = run_reader(
        "policy",
        &seeds(&[
            "fixtures/waivers/policies.yaml",
            "rules/operations.yaml",
            "rules/analytics.yaml",
        ]),
        Syntax::Yaml,
        &budget,
        Arc::new(read_policy),
    );
    finish(&tally);
}

fn read_waivers(bytes: &[u8]) -> Verdict {
    let f = temp_file(bytes, ".yaml");
    let sources = match hlaudit_rules::waiver::read_waiver_files(&[f.path().to_path_buf()]) {
        Ok(s) => s,
        Err(hlaudit_rules::RulesError::Invalid(d)) => return diagnostics_verdict(&d),
        Err(e) => return Verdict::Unlocated(e.to_string()),
    };
    match hlaudit_rules::waiver::load_waivers(&sources) {
        Ok(_) => Verdict::Accepted,
        Err(d) => diagnostics_verdict(&d),
    }
}

#[test]
fn waiver_reader_never_crashes() {
    let budget = Budget::from_env(1200);
    let tally = run_reader(
        "waiver",
        &seeds(&[
            "fixtures/waivers/waivers.yaml",
            "fixtures/waivers/expired.yaml",
        ]),
        Syntax::Yaml,
        &budget,
        Arc::new(read_waivers),
    );
    finish(&tally);
}

// ---------------------------------------------------------------------------------------
// JSON reports read back (baselines, `diff`)

/// JSON reports: the baseline fixture and the JSON reports the report crate pins (the
/// insta header stripped).
fn report_seeds() -> Vec<Seed> {
    let root = repo_root();
    let mut out = seeds(&["fixtures/baselines/before.json"]);
    for name in ["mixed", "hostile"] {
        let rel = format!("crates/report/tests/report/snapshots/report__formats__{name}.json.snap");
        let text = std::fs::read_to_string(root.join(&rel)).expect("the report snapshot");
        let body = text.splitn(3, "---\n").nth(2).unwrap_or(&text);
        out.push(Seed::text(&rel, body));
    }
    out
}

/// The report read whole, and as a baseline (`--baseline` reads only what a baseline
/// keeps): a report that reads whole gives the same baseline both ways, and one that does
/// not is refused as a baseline at a place, or read where what is wrong lies in what a
/// baseline steps over (evidence, the compact section).
fn read_report(bytes: &[u8]) -> Verdict {
    use hlaudit_report::baseline::Baseline;
    let lean = Baseline::read(&mut &bytes[..]);
    match hlaudit_report::json::read(&mut &bytes[..]) {
        Ok(report) => {
            let baseline = Baseline::from_report(&report);
            let _ = hlaudit_report::baseline::diff(&report, &report);
            match lean {
                Ok(lean) if lean == baseline => Verdict::Accepted,
                Ok(_) => Verdict::Unlocated("read as a baseline, it gave another one".into()),
                Err(e) => Verdict::Unlocated(format!("refused only as a baseline: {e}")),
            }
        }
        Err(e) => match lean.err().map(verdict_of) {
            None | Some(Verdict::Located(_)) => verdict_of(e),
            Some(other) => other,
        },
    }
}

fn verdict_of(e: hlaudit_report::ReportError) -> Verdict {
    use hlaudit_report::ReportError;
    match e {
        e @ ReportError::Read { line, .. } if line > 0 => Verdict::Located(e.to_string()),
        // a version 3 compact section that contradicts the report, at the value's place
        e @ ReportError::Pairs { line, .. } if line > 0 => Verdict::Located(e.to_string()),
        // the version is a field of its own: `hlauditReport`
        e @ ReportError::UnsupportedVersion { .. } => Verdict::Located(e.to_string()),
        e => Verdict::Unlocated(format!("{e}: {:?}", std::error::Error::source(&e))),
    }
}

#[test]
fn report_reader_never_crashes() {
    let budget = Budget::from_env(2000);
    let tally = run_reader(
        "report",
        &report_seeds(),
        Syntax::Json,
        &budget,
        Arc::new(read_report),
    );
    finish(&tally);
}

// ---------------------------------------------------------------------------------------
// `|json` documents (SMART metadata held in a string, parsed by the engine)

/// The built-in policy pack, compiled once.
fn builtin() -> &'static hlaudit_rules::CompiledPolicySet {
    static SET: OnceLock<hlaudit_rules::CompiledPolicySet> = OnceLock::new();
    SET.get_or_init(|| {
        hlaudit_rules::compile(
            &hlaudit_rules::builtin_sources(),
            &hlaudit_rules::Overrides::none(),
        )
        .expect("the built-in pack compiles")
    })
}

/// A record whose SMART metadata is replaced by the case's text.
fn record_template() -> &'static serde_json::Value {
    static T: OnceLock<serde_json::Value> = OnceLock::new();
    T.get_or_init(|| {
        let text = std::fs::read_to_string(
            repo_root().join("fixtures/cases/HL-MD-01/pass-json-object.json"),
        )
        .expect("the template record");
        serde_json::from_str(&text).expect("the template is JSON")
    })
}

fn metadata_seeds() -> Vec<Seed> {
    let mut out = Vec::new();
    for dir in ["HL-MD-01", "HL-MD-02", "HL-MD-08"] {
        let path = repo_root().join("fixtures/cases").join(dir);
        let mut files: Vec<_> = std::fs::read_dir(&path)
            .expect("the case folder")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            let m = &v["DatastorePropertiesList"][0]["IdentityProviderConfiguration"]["Metadata"];
            if let Some(s) = m.as_str() {
                out.push(Seed::text(&f.to_string_lossy(), s));
            }
        }
    }
    assert!(!out.is_empty(), "no SMART metadata among the seeds");
    out
}

fn read_json_doc(bytes: &[u8]) -> Verdict {
    let text = String::from_utf8_lossy(bytes);
    // the reader itself: an error is a serde_json error, which has a line and column
    let direct = match hlaudit_rules::value::parse_full(&text) {
        Ok(_) => Verdict::Accepted,
        Err(e) if e.line() > 0 => Verdict::Located(e.to_string()),
        Err(e) => return Verdict::Unlocated(e.to_string()),
    };
    // and as the engine meets it: every policy over a record holding it
    let mut doc = record_template().clone();
    doc["DatastorePropertiesList"][0]["IdentityProviderConfiguration"]["Metadata"] =
        serde_json::Value::String(text.into_owned());
    let json = serde_json::to_vec(&doc).expect("serialise the record");
    let inv = match snapshot::read_reader("metadata.json", &json[..]) {
        Ok(inv) => inv,
        Err(e) => return Verdict::Unlocated(format!("the record itself was refused: {e}")),
    };
    let as_of = hlaudit_rules::default_test_time();
    let findings = hlaudit_rules::evaluate(builtin(), &inv, hlaudit_rules::EvalOptions::at(as_of));
    for f in &findings {
        if matches!(f.status, Status::Fail | Status::Error)
            && (f.evidence().is_empty() || f.evidence().iter().any(|e| e.pointer.is_empty()))
        {
            return Verdict::Unlocated(format!(
                "a {:?} finding of policy {} points at no field: {}",
                f.status,
                builtin()
                    .get(f.policy_index())
                    .map_or("?", |p| p.meta.id.as_str()),
                f.message()
            ));
        }
    }
    direct
}

#[test]
fn json_documents_never_crash_the_engine() {
    let budget = Budget::from_env(500);
    let tally = run_reader(
        "json-doc",
        &metadata_seeds(),
        Syntax::Json,
        &budget,
        Arc::new(read_json_doc),
    );
    finish(&tally);
}

// ---------------------------------------------------------------------------------------
// ARNs and timestamps: values, whose errors the caller locates (the field)

fn arn_seeds() -> Vec<Seed> {
    [
        "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/6f7256fcb0d589f2dc28394aa3bfd8dc",
        "arn:aws:kms:us-east-1:111122223333:key/9e376fa6-82c4-4949-a679-f33aad5990b3",
        "arn:aws:lambda:us-east-1:111122223333:function:smart-token-validator:live",
        "arn:aws-us-gov:healthlake:us-gov-west-1:123456789012:datastore/fhir/a",
        "arn:aws-cn:iam::123456789012:role/x",
    ]
    .iter()
    .map(|s| Seed::text(s, s))
    .collect()
}

fn read_arn(bytes: &[u8]) -> Verdict {
    let text = String::from_utf8_lossy(bytes);
    match Arn::parse(&text) {
        Ok(arn) => match Arn::parse(&arn.to_string()) {
            Ok(again) if again == arn => Verdict::Accepted,
            other => Verdict::Unlocated(format!("{arn} does not read back: {other:?}")),
        },
        Err(e) => Verdict::Located(e.to_string()),
    }
}

#[test]
fn arn_parser_never_crashes() {
    let budget = Budget::from_env(2000);
    let tally = run_reader(
        "arn",
        &arn_seeds(),
        Syntax::Value,
        &budget,
        Arc::new(read_arn),
    );
    finish(&tally);
}

fn timestamp_seeds() -> Vec<Seed> {
    [
        "2025-06-02T14:20:31.512Z",
        "2020-10-27T01:11:04.881+02:00",
        "1603761064.881",
        "1748874031",
        "\"2025-11-26T23:00:00Z\"",
        "2025-06-02t14:20:31+0000",
        "-62135596800",
    ]
    .iter()
    .map(|s| Seed::text(s, s))
    .collect()
}

/// A timestamp read back from what hlaudit writes (`to_rfc3339`) must be the same.
fn reads_back(t: Timestamp) -> Verdict {
    let written = t.to_rfc3339();
    match Timestamp::parse(&written) {
        Ok(again) if again.to_rfc3339() == written => Verdict::Accepted,
        other => Verdict::Unlocated(format!("{written} does not read back: {other:?}")),
    }
}

fn read_timestamp(bytes: &[u8]) -> Verdict {
    let text = String::from_utf8_lossy(bytes);
    let from_text = match Timestamp::parse(&text) {
        Ok(t) => reads_back(t),
        Err(e) => Verdict::Located(e.to_string()),
    };
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
        if let Ok(t) = Timestamp::from_json(&v) {
            if let bad @ Verdict::Unlocated(_) = reads_back(t) {
                return bad;
            }
        }
    }
    from_text
}

#[test]
fn timestamp_parser_never_crashes() {
    let budget = Budget::from_env(2000);
    let tally = run_reader(
        "timestamp",
        &timestamp_seeds(),
        Syntax::Value,
        &budget,
        Arc::new(read_timestamp),
    );
    finish(&tally);
}

// ---------------------------------------------------------------------------------------
// Through the binary

/// What the binary must do with a mutated input: exit 2 when an in-process reader refused
/// it (`refused`; `None` when not known), never 101 (a panic), never 0 or 1 with an error.
fn check_exit(what: &str, refused: Option<bool>, out: &hlaudit_e2e::Run) -> Option<String> {
    let code = out.code;
    let bad = match code {
        Some(2) => None,
        Some(0 | 1) if refused == Some(true) => Some("refused input, yet not exit 2"),
        Some(0 | 1) if out.stderr.contains("error") => Some("an error printed, yet not exit 2"),
        Some(0 | 1) => None,
        _ => Some("crashed or an unknown exit code"),
    };
    if out.stderr.contains("panicked") {
        return Some(format!("{what}: panicked (exit {code:?})\n{}", out.stderr));
    }
    bad.map(|b| format!("{what}: {b} (exit {code:?})\n{}", out.stderr))
}

/// Runs `n` cases of a reader through the binary, with `args` around the mutated file.
fn cli_cases(
    name: &str,
    seeds: &[Seed],
    syntax: Syntax,
    n: u64,
    suffix: &str,
    in_process: Option<fn(&[u8]) -> Verdict>,
    args: impl Fn(&Path) -> Vec<String>,
) -> (u64, Vec<String>) {
    let budget = Budget::from_env(0);
    let mut failures = Vec::new();
    let mut rng = hlaudit_e2e::mutate::Rng::new(budget.seed ^ 0xC11);
    let mut cases = Vec::new();
    for s in seeds.iter().take(2) {
        cases.extend(hlaudit_e2e::mutate::truncations(s, false, 2, &mut rng));
    }
    for i in 0..n {
        cases.push(hlaudit_e2e::mutate::mutate(budget.seed, i, seeds, syntax));
    }
    let tried = cases.len() as u64;
    for (i, case) in cases.into_iter().enumerate() {
        // each case in a folder of its own, and run there: a mutated configuration may
        // name output files relative to itself or to the working folder
        let dir = tempfile::tempdir().expect("temporary folder");
        let file = dir.path().join(format!("mutant{suffix}"));
        std::fs::write(&file, &case.bytes).expect("write the mutant");
        let refused = in_process.map(|read| !matches!(read(&case.bytes), Verdict::Accepted));
        let out = run(hlaudit().current_dir(dir.path()).args(args(&file)));
        if let Some(msg) = check_exit(&format!("{name} case {i} ({})", case.label), refused, &out) {
            failures.push(msg);
        }
    }
    (tried, failures)
}

/// How many cases each reader gets through the binary (each is a process).
fn cli_budget() -> u64 {
    Budget::from_env(0).cli_cases.unwrap_or(20)
}

#[test]
fn the_binary_exits_2_on_every_mutated_input() {
    let n = cli_budget();
    let s = |p: &Path| p.to_string_lossy().into_owned();
    let fixture = |rel: &str| s(&repo_root().join(rel));
    let report_seed = repo_root().join("fixtures/baselines/before.json");
    let runs = [
        cli_cases(
            "check",
            &seeds(SNAPSHOT_SEEDS),
            Syntax::Json,
            n,
            ".json",
            Some(read_snapshot),
            |p| {
                [
                    "check",
                    "--no-config",
                    "--format",
                    "none",
                    "--fail-on",
                    "none",
                ]
                .map(str::to_owned)
                .into_iter()
                .chain([s(p)])
                .collect()
            },
        ),
        cli_cases(
            "rules validate",
            &seeds(&["fixtures/waivers/policies.yaml", "rules/operations.yaml"]),
            Syntax::Yaml,
            n,
            ".yaml",
            Some(read_policy),
            |p| vec!["rules".into(), "validate".into(), s(p)],
        ),
        cli_cases(
            "diff",
            &report_seeds(),
            Syntax::Json,
            n,
            ".json",
            Some(read_report),
            |p| vec!["diff".into(), s(&report_seed), s(p)],
        ),
        cli_cases(
            "--waivers",
            &seeds(&["fixtures/waivers/waivers.yaml"]),
            Syntax::Yaml,
            n,
            ".yaml",
            Some(read_waivers),
            |p| {
                [
                    "check",
                    "--no-config",
                    "--format",
                    "none",
                    "--fail-on",
                    "none",
                ]
                .map(str::to_owned)
                .into_iter()
                .chain([
                    fixture("fixtures/waivers/snapshot.json"),
                    "--waivers".into(),
                    s(p),
                ])
                .collect()
            },
        ),
        cli_cases(
            "--config",
            &seeds(&["fixtures/config/full.yaml", "fixtures/waivers/hlaudit.yaml"]),
            Syntax::Yaml,
            n,
            ".yaml",
            None,
            |p| {
                ["check", "--format", "none"]
                    .map(str::to_owned)
                    .into_iter()
                    .chain([
                        fixture("fixtures/snapshots/bare-array.json"),
                        "--config".into(),
                        s(p),
                    ])
                    .collect()
            },
        ),
    ];
    let mut all = Vec::new();
    for (name, (tried, failures)) in ["check", "rules validate", "diff", "--waivers", "--config"]
        .iter()
        .zip(runs)
    {
        println!(
            "cli {name:<15} {tried:>6} cases, {} failures",
            failures.len()
        );
        all.extend(failures);
    }
    assert!(all.is_empty(), "{}", all.join("\n"));
}

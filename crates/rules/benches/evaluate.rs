//! Evaluation speed against the floor: reads a snapshot in the list shape with
//! `hlaudit_model::snapshot::read_files`, compiles the built-in pack (plus any `--rules`
//! files) and evaluates it, and in the same run parses the same file with serde_json into
//! `IgnoredAny` (validation only: the floor). Prints the times, the ratio, records per
//! second and the peak RSS.
//!
//! Run through `bench/check-100k.sh`, or: `cargo bench -p hlaudit-rules --bench evaluate --
//! FILE [RUNS]`.

#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs)]

use std::process::ExitCode;
use std::time::Instant;

use hlaudit_model::{snapshot, Timestamp};
use hlaudit_rules::{builtin_sources, compile, evaluate, EvalOptions, Overrides};

// The allocator the `hlaudit` binary uses, so the library path is timed as it runs there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(file) = args.first() else {
        eprintln!("usage: evaluate FILE [RUNS]  (generate FILE with the gen_datastores example)");
        return ExitCode::from(2);
    };
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(3);
    let set = match compile(&builtin_sources(), &Overrides::none()) {
        Ok(s) => s,
        Err(d) => {
            eprintln!("{}", d.render(false));
            return ExitCode::from(2);
        }
    };
    let as_of = Timestamp::parse("2026-01-01T00:00:00Z").unwrap_or_else(|_| Timestamp::now());
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot read {file}: {e}");
            return ExitCode::from(2);
        }
    };
    let mb = bytes.len() as f64 / 1e6;
    let (mut floor, mut read, mut eval) = (f64::MAX, f64::MAX, f64::MAX);
    // Reading the file into memory, which `check` has to do and the floor does not (it
    // parses bytes already read): a reference for how much of `read_files` is I/O.
    let mut file_read = f64::MAX;
    let mut n = 0;
    let mut findings = 0;
    let mut counts = std::collections::BTreeMap::new();
    for _ in 0..runs {
        let t = Instant::now();
        let parsed: Result<serde::de::IgnoredAny, _> = serde_json::from_slice(&bytes);
        if parsed.is_err() {
            eprintln!("{file} is not JSON");
            return ExitCode::from(2);
        }
        floor = floor.min(t.elapsed().as_secs_f64());

        let t = Instant::now();
        let again = std::fs::read(file).map(|b| b.len());
        file_read = file_read.min(t.elapsed().as_secs_f64());
        if again.ok() != Some(bytes.len()) {
            eprintln!("{file} changed while it was measured");
            return ExitCode::from(2);
        }

        let t = Instant::now();
        let inv = match snapshot::read_files(&[file.as_str()]) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("{}", e.render());
                return ExitCode::from(2);
            }
        };
        let r = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let f = evaluate(&set, &inv, EvalOptions::at(as_of));
        let e = t.elapsed().as_secs_f64();
        read = read.min(r);
        eval = eval.min(e);
        n = inv.records.len();
        findings = f.len();
        counts.clear();
        for x in &f {
            *counts.entry(x.status.as_str()).or_insert(0usize) += 1;
        }
    }
    let total = read + eval;
    println!(
        "file               {file} ({mb:.0} MB, {n} data stores, {} policies, {findings} findings)",
        set.len()
    );
    println!("floor (IgnoredAny) {floor:8.3} s  {:8.0} MB/s", mb / floor);
    println!(
        "file read (fs::read){file_read:7.3} s  ({:.2}x floor; not in the floor, part of read_files)",
        file_read / floor
    );
    println!(
        "read_files         {read:8.3} s  ({:.2}x floor)",
        read / floor
    );
    println!(
        "evaluate           {eval:8.3} s  ({:.2}x floor, {:.0} data stores/s, {} threads)",
        eval / floor,
        n as f64 / eval,
        rayon::current_num_threads()
    );
    println!(
        "read + evaluate    {total:8.3} s  ratio {:.2}x floor  {:.0} data stores/s",
        total / floor,
        n as f64 / total
    );
    println!("statuses           {counts:?}");
    println!("peak RSS           {:8.1} MB", peak_rss_mb());
    ExitCode::SUCCESS
}

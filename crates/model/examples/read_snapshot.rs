//! Reads snapshot files and reports what was read: the benchmark driver of
//! `bench/snapshot-rss.sh`, and a quick way to see how hlaudit reads a file.
//!
//! ```text
//! cargo run --release -p hlaudit-model --example read_snapshot -- [--mode MODE] FILE...
//! ```
//!
//! Modes:
//! - `files` (default): `snapshot::read_files`, holding every record (an Inventory);
//! - `stream`: `snapshot::for_each_record`, holding none (memory follows the largest record);
//! - `ignored`: serde_json `from_slice::<IgnoredAny>` of the file read into memory, the
//!   floor any JSON reader is measured against;
//! - `errors`: print the rendered errors (or the records' sources) for each file.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::Instant;

use hlaudit_model::snapshot;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut mode = "files".to_owned();
    if args.first().map(String::as_str) == Some("--mode") && args.len() > 1 {
        mode = args[1].clone();
        args.drain(..2);
    }
    if args.is_empty() {
        eprintln!("usage: read_snapshot [--mode files|stream|ignored|errors] FILE...");
        return ExitCode::from(2);
    }
    let bytes: u64 = args
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let start = Instant::now();
    let records = match mode.as_str() {
        "files" => match snapshot::read_files(&args) {
            Ok(inv) => inv.records.len(),
            Err(e) => {
                eprint!("{}", e.render());
                return ExitCode::from(2);
            }
        },
        "stream" => {
            let mut n = 0usize;
            for p in &args {
                let file = match std::fs::File::open(p) {
                    Ok(f) => f,
                    Err(e) => {
                        eprintln!("{p}: {e}");
                        return ExitCode::from(2);
                    }
                };
                if let Err(e) = snapshot::for_each_record(p, file, |_| n += 1) {
                    eprint!("{}", e.render());
                    return ExitCode::from(2);
                }
            }
            n
        }
        "ignored" => {
            let mut n = 0usize;
            for p in &args {
                let data = match std::fs::read(p) {
                    Ok(d) => d,
                    Err(e) => {
                        eprintln!("{p}: {e}");
                        return ExitCode::from(2);
                    }
                };
                match serde_json::from_slice::<serde::de::IgnoredAny>(&data) {
                    Ok(_) => n += 1,
                    Err(e) => {
                        eprintln!("{p}: {e}");
                        return ExitCode::from(2);
                    }
                }
            }
            n
        }
        "errors" => {
            for p in &args {
                match snapshot::read_files(&[p]) {
                    Ok(inv) => {
                        for r in &inv.records {
                            if let Some(s) = &r.source {
                                println!("{s}: {}", r.key());
                            }
                        }
                        for w in &inv.warnings {
                            println!("warning[{}]: {}", w.code, w.message);
                        }
                        for e in &inv.errors {
                            println!("collection error [{}]: {}", e.code, e.message);
                        }
                    }
                    Err(e) => print!("{}", e.render()),
                }
            }
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("unknown mode `{other}`");
            return ExitCode::from(2);
        }
    };
    let secs = start.elapsed().as_secs_f64();
    println!(
        "mode={mode} bytes={bytes} records={records} seconds={secs:.3} MB/s={:.1}",
        bytes as f64 / 1e6 / secs.max(1e-9)
    );
    ExitCode::SUCCESS
}

//! The rules engine's integration tests: the data-driven cases of `tests/cases/` (one
//! generated test per file; run one with `cargo test -p hlaudit-rules --test engine
//! case_NAME`), property tests of the engine's laws, and snapshots of rendered load errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod cases {
    include!(concat!(env!("OUT_DIR"), "/cases.rs"));

    fn run_case(path: &str) {
        super::harness::run_case(path);
    }
}

mod harness;
mod laws;
#[path = "../common/load_errors.rs"]
mod load_errors;
mod planned;

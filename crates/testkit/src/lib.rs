//! Support shared by hlaudit's test suites (`publish = false`, never a dependency of a
//! shipping crate): where the repository is ([`repo_root`]) and a typed reader of
//! hlaudit's JSON report ([`report::Report`]).
//!
//! The report types are written from `docs/report.schema.json`, not borrowed from
//! `hlaudit-model`: a test that reads the report through them checks the format users
//! see, and a change to the model that changes the report makes such tests fail. Every
//! field has a default and unknown fields are ignored, so a field added to the report
//! within its version does not break a test that does not look at it.
//!
//! Data stores to serve or to read are built with `hlaudit_emulator::datastore::DatastoreJson`.
//! That builder lives in the emulator because the emulator's own library makes data
//! stores with it, and this crate stays free of the emulator (and of hlaudit's other
//! crates) so that any of their test suites can use it.

#![forbid(unsafe_code)]

pub mod report;

use std::path::{Path, PathBuf};

/// The repository root (where the workspace `Cargo.lock` is).
///
/// Taken from `CARGO_MANIFEST_DIR` as `cargo test` sets it when the test runs, so a copy
/// of the repository that shares a target directory with another (cargo reuses this
/// library across them) still finds its own files; the value compiled in is the
/// fallback. The root is the nearest folder up from there that holds `Cargo.lock`, so
/// the tests of every package of the workspace find it.
///
/// ```
/// assert!(hlaudit_testkit::repo_root().join("docs/report.schema.json").is_file());
/// ```
pub fn repo_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .ancestors()
        .find(|d| d.join("Cargo.lock").is_file())
        .map(Path::to_path_buf)
        .or_else(|| manifest_dir.parent().map(Path::to_path_buf))
        .unwrap_or(manifest_dir)
}

//! The emulator's integration tests: protocol conformance over plain HTTP, fault
//! injection, the binary, and wire compatibility with two independent clients (the
//! Rust SDK and the AWS CLI).

// Test helpers outside `#[test]` functions fail loudly too: that is their job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;
mod common;
mod faults;
mod jobs;
mod protocol;
mod sdk;

//! The `hlaudit` command line: policy and compliance auditing for AWS HealthLake FHIR data
//! stores.
//!
//! This crate only wires the libraries together: it parses arguments (clap, in two steps:
//! raw arguments, then each command validates its own), owns paths, the tokio runtime,
//! stdout and the process exit code. Collection, evaluation and rendering live in the
//! library crates, which know nothing of the command line.

#![forbid(unsafe_code)]
// No `println!` or `eprintln!` here either (the workspace lints deny them): they panic when
// the reader of a pipe has gone; everything written goes through `stdio`.

mod access;
mod aws_args;
mod cmd;
mod config;
mod exit;
mod input;
mod logging;
mod output;
mod policy_args;
mod securityhub;
mod signals;
mod stdio;
mod writeback;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: evaluation makes millions of small, short-lived allocations across threads,
/// where it is markedly faster than the system allocator (see `bench/check-100k.sh`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `hlaudit --version`: the release and the commit it was built from (`unknown` for a
/// build outside a git checkout, such as one from crates.io; see `build.rs`).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("HLAUDIT_COMMIT"),
    ")"
);

/// Policy and compliance auditing for AWS HealthLake FHIR data stores.
#[derive(Debug, Parser)]
#[command(
    name = "hlaudit",
    version = VERSION,
    about = "Policy and compliance auditing for AWS HealthLake FHIR data stores",
    long_about = "Policy and compliance auditing for AWS HealthLake FHIR data stores.\n\n\
        hlaudit evaluates declarative YAML policies over every data store of an inventory, \
        read from snapshot files (the plain output of `aws healthlake list-fhir-datastores` \
        or `describe-fhir-datastore`, JSON arrays, JSON Lines or hlaudit's own snapshots) or \
        collected live through the AWS SDK, and reports findings for people and CI systems.",
    after_help = exit::EXIT_CODES_HELP,
    propagate_version = true
)]
struct Cli {
    #[command(flatten)]
    global: logging::GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the size of the largest variant (check's many flags) costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// List the data stores of snapshot files as a table or JSON.
    Inventory(cmd::inventory::Args),
    /// Evaluate policies over snapshot files and report findings.
    Check(cmd::check::Args),
    /// List every data store live through the AWS SDK and write an hlaudit snapshot.
    Collect(cmd::collect::Args),
    /// Collect live and evaluate policies in one run.
    Scan(cmd::scan::Args),
    /// Work with policy files: list, validate, test, document.
    Rules(cmd::rules::Args),
    /// Explain one policy on data stores, clause by clause.
    Explain(cmd::explain::Args),
    /// Compare two JSON reports: fixed, new and changed findings.
    Diff(cmd::diff::Args),
    /// Print a shell completion script.
    Completions(cmd::completions::Args),
}

fn main() -> ExitCode {
    signals::survive_file_size_limit();
    let cli = Cli::parse();
    logging::init(&cli.global);
    let result = match cli.command {
        Command::Inventory(args) => cmd::inventory::run(&args),
        Command::Check(args) => cmd::check::run(&args),
        Command::Collect(args) => cmd::collect::run(&args),
        Command::Scan(args) => cmd::scan::run(&args),
        Command::Rules(args) => cmd::rules::run(&args),
        Command::Explain(args) => cmd::explain::run(&args),
        Command::Diff(args) => cmd::diff::run(&args),
        Command::Completions(args) => cmd::completions::run::<Cli>(&args),
    };
    exit::exit_code(result)
}

//! `hlaudit-emulator`: serve snapshot files as a HealthLake endpoint on 127.0.0.1.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Parser;
use hlaudit_emulator::{load_snapshots, synthetic, Emulator, Faults, RegionSet, DEFAULT_ACCOUNT};

/// A HealthLake-compatible endpoint on 127.0.0.1 for tests, benchmarks and demos.
///
/// Speaks awsJson 1.0 like the real service, so the AWS CLI and SDKs work against it
/// with any fake credentials; the region is the one each request is signed for.
#[derive(Debug, Parser)]
#[command(
    name = "hlaudit-emulator",
    version,
    after_help = "Examples:
  hlaudit-emulator --snapshot fixtures/demo/snapshot.json --port 0
  AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=fake \\
    aws healthlake list-fhir-datastores --endpoint-url http://127.0.0.1:PORT --region us-east-1
  hlaudit-emulator --synthetic us-east-1=2000 --synthetic eu-west-1=2000 --latency-ms 50
  hlaudit-emulator --snapshot s.json --throttle-rate 0.2 --server-error-rate 0.05 --seed 7 \\
    --deny-region eu-west-1 --loop-next-token us-west-2 --request-log requests.jsonl
  hlaudit-emulator --synthetic us-east-1=1200 --throttle-window us-east-1=30
  hlaudit-emulator --synthetic us-east-1=100 --synthetic-jobs 20"
)]
struct Args {
    /// A snapshot file to serve (AWS CLI list or describe output, JSON array, JSON
    /// Lines, hlaudit snapshot with tags). Repeatable.
    #[arg(long, value_name = "FILE")]
    snapshot: Vec<PathBuf>,
    /// The port on 127.0.0.1; 0 picks a free one. The address is printed on stdout.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Seed of the fault dice: the same seed gives the same faults.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Share of requests answered ThrottlingException (0-1).
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    throttle_rate: f64,
    /// Share of requests answered with HTTP 500 or 503 (0-1).
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    server_error_rate: f64,
    /// Milliseconds added before every response.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    latency_ms: u64,
    /// Share of successful responses with a body that is not valid JSON (0-1).
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    malformed_rate: f64,
    /// Share of successful responses cut off mid-body (0-1).
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    truncated_rate: f64,
    /// Region whose ListFHIRDatastores paginates forever (the first page always has a
    /// NextToken; a request carrying one gets it back); `all` for every region.
    /// Repeatable.
    #[arg(long, value_name = "REGION")]
    loop_next_token: Vec<String>,
    /// Region where every request gets AccessDeniedException; `all` for every
    /// region. Repeatable.
    #[arg(long, value_name = "REGION")]
    deny_region: Vec<String>,
    /// Region where every request gets ExpiredTokenException, as for an expired
    /// session token; `all` for every region. Repeatable.
    #[arg(long, value_name = "REGION")]
    expired_token_region: Vec<String>,
    /// Region that throttles every request for SECONDS from its first request, then
    /// recovers: `REGION=SECONDS`. Repeatable.
    #[arg(long, value_name = "REGION=SECONDS")]
    throttle_window: Vec<String>,
    /// Data store ARN whose ListTagsForResource and TagResource get
    /// AccessDeniedException. Repeatable.
    #[arg(long, value_name = "ARN")]
    deny_resource: Vec<String>,
    /// One operation about one data store that gets AccessDeniedException:
    /// `OPERATION=ARN`, e.g. `ListFHIRExportJobs=arn:aws:healthlake:...`. Repeatable.
    #[arg(long, value_name = "OPERATION=ARN")]
    deny_call: Vec<String>,
    /// Maps an access key id to an account: `AKID=123456789012`. Repeatable.
    #[arg(long, value_name = "KEY=ACCOUNT")]
    access_key: Vec<String>,
    /// Account of access keys not mapped (default: the only account in the data,
    /// else 123456789012).
    #[arg(long, value_name = "ACCOUNT")]
    default_account: Option<String>,
    /// Learn the account of access keys not mapped with --access-key from this STS
    /// endpoint (GetCallerIdentity with the request's key and session token), e.g.
    /// moto's server, whose AssumeRole credentials then see their own account's data.
    #[arg(long, value_name = "URL")]
    sts_endpoint: Option<String>,
    /// ListFHIRDatastores page size when a request gives no MaxResults (1-500).
    #[arg(long, default_value_t = hlaudit_emulator::DEFAULT_PAGE_SIZE)]
    page_size: usize,
    /// Also serve COUNT generated data stores in REGION (for the account of
    /// --default-account, else 123456789012), deterministic in --seed. Repeatable.
    #[arg(long, value_name = "REGION=COUNT")]
    synthetic: Vec<String>,
    /// Also serve COUNT export jobs and COUNT import jobs for each data store of
    /// --synthetic, submitted over the 400 days before now.
    #[arg(long, value_name = "COUNT", default_value_t = 0)]
    synthetic_jobs: usize,
    /// Also write every request as a JSON line to this file.
    #[arg(long, value_name = "FILE")]
    request_log: Option<PathBuf>,
}

fn regions(list: Vec<String>) -> RegionSet {
    if list.iter().any(|r| r == "all") {
        RegionSet::All
    } else {
        RegionSet::only(list)
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(&anyhow::Error::from(e).context("starting the runtime")),
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// Prints the error and its causes on one line each, without a backtrace, and exits 2.
#[allow(clippy::print_stderr)] // the binary's own error report
fn fail(e: &anyhow::Error) -> ExitCode {
    eprintln!("hlaudit-emulator: {e:#}");
    ExitCode::from(2)
}

fn throttle_windows(specs: &[String]) -> anyhow::Result<BTreeMap<String, Duration>> {
    let mut windows = BTreeMap::new();
    for spec in specs {
        let Some((region, secs)) = spec.split_once('=') else {
            bail!("--throttle-window `{spec}`: expected REGION=SECONDS");
        };
        let secs: f64 = secs
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && *s >= 0.0)
            .with_context(|| format!("--throttle-window `{spec}`: SECONDS must be a number"))?;
        windows.insert(region.to_owned(), Duration::from_secs_f64(secs));
    }
    Ok(windows)
}

async fn run(args: Args) -> anyhow::Result<()> {
    let throttle_windows = throttle_windows(&args.throttle_window)?;
    let mut denied_calls = std::collections::BTreeSet::new();
    for spec in &args.deny_call {
        let Some((operation, arn)) = spec.split_once('=') else {
            bail!("--deny-call `{spec}`: expected OPERATION=ARN");
        };
        denied_calls.insert((operation.to_owned(), arn.to_owned()));
    }
    let mut builder = Emulator::builder()
        .port(args.port)
        .page_size(args.page_size)
        .faults(Faults {
            seed: args.seed,
            throttle_rate: args.throttle_rate,
            server_error_rate: args.server_error_rate,
            latency: Duration::from_millis(args.latency_ms),
            malformed_body_rate: args.malformed_rate,
            truncated_body_rate: args.truncated_rate,
            next_token_loop: regions(args.loop_next_token),
            access_denied: regions(args.deny_region),
            expired_token: regions(args.expired_token_region),
            throttle_windows,
            denied_resources: args.deny_resource.into_iter().collect(),
            denied_calls,
        });
    if !args.snapshot.is_empty() {
        builder = builder.records(load_snapshots(&args.snapshot)?);
    }
    for spec in &args.synthetic {
        let Some((region, count)) = spec.split_once('=') else {
            bail!("--synthetic `{spec}`: expected REGION=COUNT");
        };
        let count: usize = count
            .parse()
            .with_context(|| format!("--synthetic `{spec}`: COUNT must be a number"))?;
        let account = args.default_account.as_deref().unwrap_or(DEFAULT_ACCOUNT);
        let stores = synthetic::datastores(account, region, count, args.seed)?;
        if args.synthetic_jobs > 0 {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            for store in &stores {
                builder =
                    builder.records(synthetic::jobs(store, args.synthetic_jobs, args.seed, now)?);
            }
        }
        builder = builder.records(stores);
    }
    for pair in &args.access_key {
        let Some((key, account)) = pair.split_once('=') else {
            bail!("--access-key `{pair}`: expected KEY=ACCOUNT");
        };
        builder = builder.access_key(key, account);
    }
    if let Some(account) = args.default_account {
        builder = builder.default_account(account);
    }
    if let Some(url) = args.sts_endpoint {
        builder = builder.sts_endpoint(url);
    }
    if let Some(path) = args.request_log {
        builder = builder.request_log(path);
    }
    let emulator = builder.start().await?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {}", emulator.endpoint_url()).context("writing to stdout")?;
    stdout.flush().context("writing to stdout")?;
    drop(stdout);
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    emulator.shutdown().await?;
    Ok(())
}

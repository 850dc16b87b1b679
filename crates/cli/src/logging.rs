//! Global flags (verbosity) and the `tracing` subscriber.

use clap::Args;
use tracing_subscriber::EnvFilter;

/// Flags that apply to every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// More log output on stderr: -v for info, -vv for debug (hlaudit's own crates only;
    /// credentials are never logged). `HLAUDIT_LOG` takes a full filter instead.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

/// Installs the stderr log subscriber. Wire-level logs of the HTTP and signing crates stay
/// off at every verbosity: they would print request headers.
pub fn init(args: &GlobalArgs) {
    let level = match args.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let default = format!(
        "{level},aws_smithy_runtime=warn,aws_smithy_http=warn,aws_sigv4=off,\
         aws_smithy_runtime_api=warn,hyper=warn,hyper_util=warn,h2=warn,rustls=warn"
    );
    let filter = std::env::var("HLAUDIT_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Never `std::io::stderr`: the subscriber reports its own write errors with
        // `eprintln!`, which panics once stderr's reader has gone.
        .with_writer(crate::stdio::stderr())
        .log_internal_errors(false)
        .with_target(args.verbose > 1)
        .without_time()
        .try_init();
}

//! `hlaudit collect -o FILE`: list every data store live and write an hlaudit snapshot.

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use clap::Args as ClapArgs;
use hlaudit_collector::{collect, NoProgress, Progress};
use hlaudit_model::snapshot::write_snapshot;
use hlaudit_model::{CollectionError, Inventory, Kind};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::access;
use crate::aws_args::AwsArgs;
use crate::exit::Outcome;
use crate::stdio::{self, errln};

/// List every HealthLake data store through the AWS SDK and write an hlaudit snapshot.
#[derive(Debug, ClapArgs)]
#[command(after_help = "Examples:\n  \
    hlaudit collect -o snapshot.json\n  \
    hlaudit collect --profile prod --profile staging --regions all -o snapshot.json\n  \
    hlaudit collect --regions us-east-1,eu-west-2 --status ACTIVE --no-tags -o active.json\n  \
    hlaudit collect --endpoint-url http://127.0.0.1:4566 --region us-east-1 -o local.json\n  \
    hlaudit collect --org --role-name hlaudit-audit --regions all --check-access\n\n\
    The snapshot is written atomically (a temporary file beside it, flushed to disk, then \
    renamed): a failed or interrupted run never leaves a partial file. Parts that could \
    not be collected are recorded in it and become ERROR findings when it is checked; \
    the run then exits 2 unless --allow-partial. With --check-access nothing is collected \
    or written: the run exits 0 when every permission checked is granted, 2 otherwise.")]
pub struct Args {
    /// The snapshot file to write (`-` writes to standard output).
    #[arg(
        short,
        long,
        value_name = "FILE",
        required_unless_present = "check_access",
        conflicts_with = "check_access"
    )]
    pub output: Option<String>,

    /// Collect nothing: make the cheapest call of every permission the collection needs
    /// (STS, Organizations, AssumeRole, one page of ListFHIRDatastores, the tags of one
    /// data store, one customer managed key) in every account and region, and print
    /// what was granted, denied or not tested.
    #[arg(long)]
    pub check_access: bool,

    /// Output format of --check-access [default: table].
    #[arg(long, value_enum, conflicts_with = "output")]
    pub format: Option<access::Format>,

    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Runs `collect`.
pub fn run(args: &Args) -> Result<Outcome> {
    if args.check_access {
        return access::run(&args.aws, args.format.unwrap_or(access::Format::Table));
    }
    let Some(output) = args.output.as_deref() else {
        bail!("collect needs --output FILE (or --check-access)");
    };
    let inventory = collect_inventory(&args.aws)?;
    write_output(&inventory, output)?;
    Ok(if inventory.errors.is_empty() || args.aws.allow_partial {
        Outcome::Clean
    } else {
        Outcome::Error
    })
}

/// Collects live with the AWS flags, showing progress on stderr when it is a terminal,
/// and prints a summary and every collection error to stderr. Shared with `scan`.
pub fn collect_inventory(aws: &AwsArgs) -> Result<Inventory> {
    let config = aws.to_config()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let bar = std::io::stderr().is_terminal().then(Bar::new);
    let progress: Arc<dyn Progress> = match &bar {
        Some(bar) => Arc::new(bar.clone()),
        None => Arc::new(NoProgress),
    };
    let inventory = runtime.block_on(async {
        tokio::select! {
            result = collect(config, progress) => result.map_err(anyhow::Error::from),
            _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted: nothing was written")),
        }
    });
    if let Some(bar) = &bar {
        bar.0.finish_and_clear();
    }
    // Requests still in flight after an interrupt are abandoned, not awaited.
    runtime.shutdown_background();
    let inventory = inventory?;
    summarize(&inventory);
    Ok(inventory)
}

fn summarize(inv: &Inventory) {
    for w in &inv.warnings {
        errln!("warning[{}]: {}", w.code, w.message);
    }
    for group in error_groups(&inv.errors) {
        errln!("{group}");
    }
    let count = |kind: Kind| inv.records.iter().filter(|r| r.kind() == kind).count();
    let datastores = count(Kind::Datastore);
    // The other kinds, when the collection holds any: "(12 export jobs, 3 import jobs)".
    let others: Vec<String> = [
        (Kind::ExportJob, "export job"),
        (Kind::ImportJob, "import job"),
        (Kind::TransformationProfile, "transformation profile"),
    ]
    .into_iter()
    .map(|(kind, noun)| (count(kind), noun))
    .filter(|(n, _)| *n > 0)
    .map(|(n, noun)| format!("{n} {noun}{}", plural(n)))
    .collect();
    let others = if others.is_empty() {
        String::new()
    } else {
        format!(" ({})", others.join(", "))
    };
    errln!(
        "collected {} data store{}{others} in {} region{} of {} account{}{}",
        datastores,
        plural(datastores),
        inv.coverage.regions.len(),
        plural(inv.coverage.regions.len()),
        inv.coverage.accounts.len(),
        plural(inv.coverage.accounts.len()),
        match inv.errors.len() {
            0 => String::new(),
            n => format!(", {n} collection error{} (incomplete)", plural(n)),
        }
    );
}

/// Collection errors with the same code, operation, account and message (one cause
/// seen in several regions or for several resources, such as missing credentials),
/// each shown once with every region and the number of resources it hit.
pub(crate) struct ErrorGroup<'a> {
    first: &'a CollectionError,
    regions: Vec<&'a str>,
    resources: usize,
}

impl std::fmt::Display for ErrorGroup<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let e = self.first;
        let account = e.account.as_deref().unwrap_or("-");
        let regions = if self.regions.is_empty() {
            "-".to_owned()
        } else {
            self.regions.join(",")
        };
        write!(f, "error[{}]: {account} {regions} {}", e.code, e.operation)?;
        match (self.resources, e.resource.as_deref()) {
            (1, Some(r)) => write!(f, " {r}")?,
            (0 | 1, _) => {}
            (n, _) => write!(f, " ({n} resources)")?,
        }
        write!(f, ": {}", e.message)
    }
}

pub(crate) fn error_groups(errors: &[CollectionError]) -> Vec<ErrorGroup<'_>> {
    let mut groups: Vec<ErrorGroup<'_>> = Vec::new();
    for e in errors {
        let same = |g: &&mut ErrorGroup<'_>| {
            g.first.code == e.code
                && g.first.operation == e.operation
                && g.first.account == e.account
                && g.first.message == e.message
        };
        let group = match groups.iter_mut().find(same) {
            Some(group) => group,
            None => {
                groups.push(ErrorGroup {
                    first: e,
                    regions: Vec::new(),
                    resources: 0,
                });
                let last = groups.len() - 1;
                &mut groups[last]
            }
        };
        if let Some(region) = e.region.as_deref() {
            if !group.regions.contains(&region) {
                group.regions.push(region);
            }
        }
        group.resources += usize::from(e.resource.is_some());
    }
    groups
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Writes the snapshot to `path` atomically, or to standard output for `-`.
pub fn write_output(inventory: &Inventory, path: &str) -> Result<()> {
    if path == "-" {
        let mut out = stdio::stdout();
        write_snapshot(inventory, &mut out).map_err(|e| anyhow!("{e}"))?;
        return Ok(out.flush()?);
    }
    write_atomically(inventory, Path::new(path))
}

/// A temporary file in the target's directory (so the rename stays on one file
/// system), written, flushed to disk, then renamed over the target; the directory is
/// synced so the rename itself survives a crash. On any failure the temporary file is
/// removed and the target is left as it was.
fn write_atomically(inventory: &Inventory, path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "snapshot".to_owned());
    if path.is_dir() {
        bail!(
            "cannot write the snapshot to {}: it is a directory",
            path.display()
        );
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    write_snapshot(inventory, tmp.as_file_mut())
        .map_err(|e| anyhow!("cannot write the snapshot to {}: {e}", path.display()))?;
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("cannot flush the snapshot to disk in {}", dir.display()))?;
    tmp.persist(path).map_err(|e| {
        anyhow!(
            "cannot rename the snapshot into {}: {}",
            path.display(),
            e.error
        )
    })?;
    // Best effort: not every platform or file system can open and sync a directory.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The progress bar on stderr: its length grows as pages bring data stores, its
/// position counts data stores complete with their tags and KMS key.
#[derive(Clone)]
struct Bar(ProgressBar, Arc<RegionCount>);

#[derive(Default)]
struct RegionCount {
    planned: AtomicUsize,
    done: AtomicUsize,
}

impl Bar {
    fn new() -> Self {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{spinner} {msg} [{bar:30}] {pos}/{len} data stores ({elapsed})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Bar(bar, Arc::default())
    }

    fn show_regions(&self) {
        let done = self.1.done.load(Ordering::Relaxed);
        let planned = self.1.planned.load(Ordering::Relaxed);
        self.0
            .set_message(format!("{done}/{planned} regions listed"));
    }
}

impl Progress for Bar {
    fn regions_planned(&self, count: usize) {
        self.1.planned.store(count, Ordering::Relaxed);
        self.show_regions();
    }

    fn page_listed(&self, _region: &str, records: usize) {
        self.0.inc_length(records as u64);
    }

    fn region_done(&self, _region: &str) {
        self.1.done.fetch_add(1, Ordering::Relaxed);
        self.show_regions();
    }

    fn record_done(&self) {
        self.0.inc(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(region: &str, resource: Option<&str>, message: &str) -> CollectionError {
        CollectionError {
            account: None,
            region: Some(region.to_owned()),
            operation: "ListFHIRDatastores".to_owned(),
            resource: resource.map(str::to_owned),
            code: "no-credentials".to_owned(),
            message: message.to_owned(),
        }
    }

    #[test]
    fn one_cause_in_several_regions_is_shown_once() {
        let errors = [
            error("us-east-1", None, "no AWS credentials found"),
            error("eu-west-2", None, "no AWS credentials found"),
            error("eu-west-2", None, "something else"),
            error("us-east-1", Some("arn:a"), "denied"),
            error("us-east-1", Some("arn:b"), "denied"),
        ];
        let lines: Vec<String> = error_groups(&errors)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            lines,
            [
                "error[no-credentials]: - us-east-1,eu-west-2 ListFHIRDatastores: no AWS credentials found",
                "error[no-credentials]: - eu-west-2 ListFHIRDatastores: something else",
                "error[no-credentials]: - us-east-1 ListFHIRDatastores (2 resources): denied",
            ]
        );
        let one = [error("us-east-1", Some("arn:a"), "denied")];
        assert_eq!(
            error_groups(&one)[0].to_string(),
            "error[no-credentials]: - us-east-1 ListFHIRDatastores arn:a: denied"
        );
    }

    #[test]
    fn writes_atomically_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snap.json");
        std::fs::write(&path, "old").unwrap();
        write_atomically(&Inventory::default(), &path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"hlauditSnapshot\""), "{text}");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["snap.json"]);
    }

    #[test]
    fn a_failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no/such/dir/snap.json");
        assert!(write_atomically(&Inventory::default(), &missing).is_err());
        assert!(write_atomically(&Inventory::default(), dir.path()).is_err());
    }
}

//! Reading the inputs of a command into an [`Inventory`]: snapshot files, and the
//! CloudFormation/SAM templates, CDK assemblies and Terraform plans that will create data
//! stores, recognised by content, in any mix, and folders of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use hlaudit_iac::FileKind;
use hlaudit_model::invisible::escape;
use hlaudit_model::snapshot::{self, DuplicatePolicy};
use hlaudit_model::{CollectionError, Context, Inventory};

use crate::stdio::errln;

/// How the inputs of a command are read together.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReadArgs {
    /// Which copy counts when two inputs hold the same data store (by ARN) with
    /// different content: `error` (the default) refuses to guess and exits 2 naming both
    /// places and the first difference; `first` or `last` in the order given; `latest`
    /// the copy from the most recently collected hlaudit snapshot (`collectedAt`).
    /// Identical copies are always audited once.
    #[arg(long, value_enum, default_value_t = OnDuplicate::Error, value_name = "WHICH")]
    pub on_duplicate: OnDuplicate,
    /// Vouch that the `aws healthlake list-fhir-datastores`, `list-fhir-export-jobs` and
    /// `list-fhir-import-jobs` outputs given are every page of their listings (saved with
    /// a `--next-token` loop; the AWS CLI does not fetch the next page by itself). A page's
    /// NextToken then no longer makes the audit incomplete, but a listing (an account and
    /// region, or a data store's jobs) without its last page, a page of several listings
    /// or a NextToken on two pages still does. Each listing taken as
    /// complete this way gets a `vouched-listing` warning in the report: asserted, not
    /// observed. `hlaudit collect` needs no such word.
    #[arg(long)]
    pub pages_complete: bool,
    /// The account that templates and plans deploy to (their `@account`,
    /// `AWS::AccountId`, and the account of ARNs of keys and functions they create).
    /// Unknown otherwise, unless a plan or CDK environment says.
    #[arg(long, value_name = "ID", value_parser = parse_account)]
    pub account: Option<String>,
    /// The region that templates and plans deploy to (their `@region`, `AWS::Region`);
    /// the partition follows from it.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// A template parameter's value, over its `Default`; repeatable.
    #[arg(long = "parameter", value_name = "NAME=VALUE", value_parser = parse_parameter)]
    pub parameters: Vec<(String, String)>,
}

fn parse_account(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err(format!("`{s}` is not a 12-digit AWS account id"))
    }
}

fn parse_parameter(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("`{s}` is not NAME=VALUE")),
    }
}

/// The values of `--on-duplicate`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OnDuplicate {
    /// Refuse: an input error naming both places and the first difference.
    #[default]
    Error,
    /// The copy in the input given first.
    First,
    /// The copy in the input given last.
    Last,
    /// The copy from the most recently collected hlaudit snapshot.
    Latest,
}

impl ReadArgs {
    fn options(&self) -> snapshot::ReadOptions {
        let duplicates = match self.on_duplicate {
            OnDuplicate::Error => DuplicatePolicy::Refuse,
            OnDuplicate::First => DuplicatePolicy::First,
            OnDuplicate::Last => DuplicatePolicy::Last,
            OnDuplicate::Latest => DuplicatePolicy::Latest,
        };
        snapshot::ReadOptions {
            duplicates,
            pages_complete: self.pages_complete,
        }
    }
}

/// Reads every input (`-` is standard input) into one inventory: snapshots as before,
/// and templates, CDK assemblies and Terraform plans as planned data stores. A folder is
/// walked for all of them, skipping other files. Problems in snapshots come back at once,
/// rendered like compiler errors, and stop the command; a template or plan that cannot be
/// read is rendered the same way on stderr and becomes a collection error (an ERROR
/// finding, exit 2), so every other file is still reported. Warnings go to stderr.
pub fn load_inventory(paths: &[String], read: &ReadArgs) -> Result<Inventory> {
    let inputs = expand(paths)?;
    let mut inventory = if inputs.snapshots.is_empty() {
        Inventory::default()
    } else {
        snapshot::read_files_with(&inputs.snapshots, read.options())?
    };
    // A warning quotes record text (a data store's name): invisible characters in it are
    // shown by code point, as in the terminal report.
    for w in &inventory.warnings {
        let message = escape(&w.message);
        match &w.source {
            Some(src) => errln!(
                "warning[{}]: {message} ({})",
                w.code,
                escape(&src.to_string())
            ),
            None => errln!("warning[{}]: {message}", w.code),
        }
    }
    if !inputs.iac.is_empty() {
        read_iac(&inputs, read, &mut inventory);
    }
    Ok(inventory)
}

/// The inputs, sorted out.
#[derive(Default)]
struct Inputs {
    snapshots: Vec<String>,
    /// (path, name for people, what it is).
    iac: Vec<(PathBuf, String, FileKind)>,
    /// Files in folders that are neither.
    skipped: usize,
}

fn expand(paths: &[String]) -> Result<Inputs> {
    let mut inputs = Inputs::default();
    let mut seen = std::collections::HashSet::new();
    for p in paths {
        if p == "-" {
            inputs.snapshots.push(p.clone());
            continue;
        }
        let path = Path::new(p);
        if path.is_dir() {
            if hlaudit_iac::recognise(path)? == Some(FileKind::CdkAssembly) {
                push_iac(&mut inputs, &mut seen, path, p, FileKind::CdkAssembly);
            } else {
                walk(path, p, &mut inputs, &mut seen)?;
            }
            continue;
        }
        match recognise_file(path) {
            Ok(Some(kind)) => push_iac(&mut inputs, &mut seen, path, p, kind),
            // A file named on its own is read as a snapshot, whose reader says what is
            // wrong with it when it is not one. Named twice, it is read twice, and the
            // snapshot reader warns of the repeated data stores as for any two copies.
            _ => {
                seen.insert(canonical(path));
                inputs.snapshots.push(p.clone());
            }
        }
    }
    Ok(inputs)
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

fn push_iac(
    inputs: &mut Inputs,
    seen: &mut std::collections::HashSet<PathBuf>,
    path: &Path,
    display: &str,
    kind: FileKind,
) {
    if seen.insert(canonical(path)) {
        inputs
            .iac
            .push((path.to_path_buf(), display.to_owned(), kind));
    }
}

fn recognise_file(path: &Path) -> std::io::Result<Option<FileKind>> {
    hlaudit_iac::recognise(path)
}

/// Folders never walked: version control, dependencies, tool caches.
const SKIPPED_DIRS: [&str; 5] = [".git", "node_modules", ".terraform", ".venv", "target"];

fn walk(
    dir: &Path,
    display: &str,
    inputs: &mut Inputs,
    seen: &mut std::collections::HashSet<PathBuf>,
) -> Result<()> {
    let mut entries: Vec<(String, PathBuf)> = Vec::new();
    let listing = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot read the folder {display}: {e}"))?;
    for entry in listing {
        let entry = entry.map_err(|e| anyhow::anyhow!("cannot read the folder {display}: {e}"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        entries.push((name, entry.path()));
    }
    entries.sort();
    for (name, path) in entries {
        let shown = format!("{}/{name}", display.trim_end_matches('/'));
        if path.is_dir() {
            if SKIPPED_DIRS.contains(&name.as_str()) {
                continue;
            }
            if hlaudit_iac::recognise(&path)? == Some(FileKind::CdkAssembly) {
                push_iac(inputs, seen, &path, &shown, FileKind::CdkAssembly);
            } else {
                walk(&path, &shown, inputs, seen)?;
            }
            continue;
        }
        match recognise_file(&path) {
            // The manifest of an assembly whose folder was taken above.
            Ok(Some(FileKind::CdkAssembly)) => {
                if let Some(parent) = path.parent() {
                    push_iac(inputs, seen, parent, display, FileKind::CdkAssembly);
                }
            }
            Ok(Some(kind)) => push_iac(inputs, seen, &path, &shown, kind),
            Ok(None) if is_snapshot(&path) => {
                if seen.insert(canonical(&path)) {
                    inputs.snapshots.push(shown);
                }
            }
            Ok(None) => inputs.skipped += 1,
            Err(e) => bail!("cannot read {shown}: {e}"),
        }
    }
    Ok(())
}

fn is_snapshot(path: &Path) -> bool {
    use std::io::Read as _;
    let mut head = Vec::with_capacity(4096);
    std::fs::File::open(path)
        .and_then(|f| f.take(4096).read_to_end(&mut head))
        .is_ok()
        && snapshot::looks_like_snapshot(&head)
}

/// Reads the templates, assemblies and plans (in parallel) into `inventory`.
fn read_iac(inputs: &Inputs, read: &ReadArgs, inventory: &mut Inventory) {
    use rayon::prelude::*;
    let opts = hlaudit_iac::Options {
        context: Context {
            account: read.account.clone(),
            region: read.region.clone(),
            partition: read.region.as_deref().map(partition_of).map(str::to_owned),
        },
        parameters: read.parameters.iter().cloned().collect::<BTreeMap<_, _>>(),
    };
    let results: Vec<_> = inputs
        .iac
        .par_iter()
        .map(|(path, display, kind)| hlaudit_iac::read_path(path, display, *kind, &opts))
        .collect();
    let (mut templates, mut plans, mut datastores, mut failed) = (0, 0, 0, 0);
    let mut empty: Vec<String> = Vec::new();
    for ((_, display, kind), result) in inputs.iac.iter().zip(results) {
        match result {
            Ok(r) => {
                templates += r.templates;
                plans += r.plans;
                datastores += r.records.len();
                empty.extend(r.without_datastores);
                for w in r.warnings {
                    errln!("warning[iac]: {}", escape(&w));
                }
                inventory.records.extend(r.records);
            }
            Err(errors) => {
                failed += 1;
                for e in &errors.0 {
                    errln!("{}", e.render().trim_end());
                }
                inventory.errors.push(CollectionError {
                    account: None,
                    region: None,
                    operation: format!("read {}", kind.noun()),
                    resource: Some(display.clone()),
                    code: "invalid-input".to_owned(),
                    message: format!(
                        "{display}: {} problem{} (first: {}); its data stores are not checked",
                        errors.0.len(),
                        if errors.0.len() == 1 { "" } else { "s" },
                        errors
                            .0
                            .first()
                            .map(ToString::to_string)
                            .unwrap_or_default()
                    ),
                });
            }
        }
    }
    let mut said = format!(
        "read {templates} template{}, {plans} Terraform plan{} and {} snapshot{}: \
         {datastores} planned data store{}",
        plural(templates),
        plural(plans),
        inputs.snapshots.len(),
        plural(inputs.snapshots.len()),
        plural(datastores),
    );
    if failed > 0 {
        said.push_str(&format!(
            "; {failed} file{} could not be read",
            plural(failed)
        ));
    }
    if inputs.skipped > 0 {
        said.push_str(&format!(
            "; skipped {} other file{}",
            inputs.skipped,
            plural(inputs.skipped)
        ));
    }
    errln!("{said}");
    for file in empty {
        errln!("note: {} declares no HealthLake data store", escape(&file));
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The partition of a region.
pub(crate) fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else {
        "aws"
    }
}

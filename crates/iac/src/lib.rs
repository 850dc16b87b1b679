//! Planned HealthLake data stores from infrastructure code: CloudFormation and SAM
//! templates (JSON and YAML, short-form tags included), AWS CDK cloud assemblies
//! (`cdk.out`) and Terraform plans (`terraform show -json PLAN`).
//!
//! Every `AWS::HealthLake::FHIRDatastore` resource of a template and every
//! `awscc_healthlake_fhir_datastore` being created or updated in a plan becomes a planned
//! [`Record`]: its JSON is the `DatastoreProperties` shape the API will return (property
//! names as the API spells them, schema defaults filled in for what is left out), its
//! identity is the file plus logical id or resource address, and its
//! [`PlanDetail`](hlaudit_model::planned::PlanDetail) says where each property is
//! written, which values are known only after deploy and which were left to defaults.
//!
//! Files are recognised by content ([`recognise`]), never by name. Bad input is an
//! [`IacError`] naming the file, line and column, with a hint.
//!
//! Modules:
//!
//! - `tree` parses JSON and YAML into a tree that keeps every node's position and YAML tag;
//! - `cfn` recognises and reads templates: `cfn_template` the template's sections,
//!   `cfn_datastore` each data store resource, with `intrinsics` resolving `Ref`, `Fn::Sub`
//!   and the rest (conditions, resource ARNs, text);
//! - `cdk` reads cloud assemblies, each stack template through `cfn`;
//! - `terraform` recognises and reads plans: `terraform_json` finds positions in the plan's
//!   text (and scans a JSON head's top-level keys, which `cdk` uses too),
//!   `terraform_change` turns a resource change into a record, `terraform_config` follows
//!   the plan's configuration to name what is known only after apply;
//! - `defaults` holds the resource schema's defaults, shared by templates and plans.

#![forbid(unsafe_code)]

mod cdk;
mod cfn;
mod cfn_datastore;
mod cfn_template;
mod defaults;
mod error;
mod intrinsics;
mod terraform;
mod terraform_change;
mod terraform_config;
mod terraform_json;
mod tree;

use std::collections::BTreeMap;
use std::path::Path;

use hlaudit_model::{Context, Record};

pub use error::{IacError, IacErrors};

/// What the user says about the deploy target.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Account, region and partition (`--account`, `--region`); each may be unknown. A
    /// plan's provider configuration or a CDK stack's environment fills what is unknown
    /// here.
    pub context: Context,
    /// Template parameter values (`--parameter NAME=VALUE`), over each parameter's
    /// `Default`.
    pub parameters: BTreeMap<String, String>,
}

/// What a file or folder holds, as recognised by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A CloudFormation or SAM template (JSON or YAML).
    Template,
    /// An AWS CDK cloud assembly: a folder with a `manifest.json` (or that file itself).
    CdkAssembly,
    /// The JSON of `terraform show -json PLAN`.
    TerraformPlan,
}

impl FileKind {
    /// For people: `template`, `CDK assembly`, `Terraform plan`.
    pub fn noun(self) -> &'static str {
        match self {
            FileKind::Template => "template",
            FileKind::CdkAssembly => "CDK assembly",
            FileKind::TerraformPlan => "Terraform plan",
        }
    }
}

/// What reading one file or folder gave.
#[derive(Debug, Default)]
pub struct Read {
    /// The planned data stores, in file order.
    pub records: Vec<Record>,
    /// Templates read (a CDK assembly counts each stack template).
    pub templates: usize,
    /// Terraform plans read.
    pub plans: usize,
    /// Files read that declare no HealthLake data store.
    pub without_datastores: Vec<String>,
    /// Things worth saying that do not stop the read (a resource skipped because a plan
    /// deletes it, an unknown `format_version` minor).
    pub warnings: Vec<String>,
}

/// Recognises what `path` holds by its content: `None` when it is neither a template,
/// a CDK assembly nor a Terraform plan (a snapshot, or anything else).
pub fn recognise(path: &Path) -> std::io::Result<Option<FileKind>> {
    if path.is_dir() {
        return Ok(cdk::is_assembly_dir(path).then_some(FileKind::CdkAssembly));
    }
    let mut head = Vec::with_capacity(HEAD);
    {
        use std::io::Read as _;
        std::fs::File::open(path)?
            .take(HEAD as u64)
            .read_to_end(&mut head)?;
    }
    Ok(recognise_text(&String::from_utf8_lossy(&head)))
}

/// How much of a file [`recognise`] looks at.
const HEAD: usize = 64 * 1024;

/// Recognises a file from its first bytes (see [`recognise`]).
pub fn recognise_text(head: &str) -> Option<FileKind> {
    let head = head.trim_start_matches('\u{feff}');
    if let Some(kind) = terraform::recognise(head) {
        return Some(kind);
    }
    if cdk::is_manifest_text(head) {
        return Some(FileKind::CdkAssembly);
    }
    cfn::recognise(head).then_some(FileKind::Template)
}

/// Reads one template, CDK assembly (folder or its `manifest.json`) or plan, named
/// `display` in findings and errors.
pub fn read_path(
    path: &Path,
    display: &str,
    kind: FileKind,
    opts: &Options,
) -> Result<Read, IacErrors> {
    match kind {
        FileKind::CdkAssembly => cdk::read_assembly(path, display, opts),
        FileKind::Template | FileKind::TerraformPlan => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                IacError::new(
                    display,
                    0,
                    0,
                    format!("cannot read the {}: {e}", kind.noun()),
                )
            })?;
            read_text(display, &text, kind, opts)
        }
    }
}

/// Reads a template or plan from its text.
pub fn read_text(
    display: &str,
    text: &str,
    kind: FileKind,
    opts: &Options,
) -> Result<Read, IacErrors> {
    match kind {
        FileKind::Template => cfn::read_template(display, text, opts),
        FileKind::TerraformPlan => terraform::read_plan(display, text, opts),
        FileKind::CdkAssembly => Err(IacError::new(
            display,
            0,
            0,
            "a CDK assembly is a folder; give the folder (or its manifest.json) as a path",
        )
        .into()),
    }
}

//! `hlaudit inventory SNAPSHOT...`: the data stores of snapshot files, as a table or JSON.

use std::io::Write;

use anyhow::Result;
use clap::{Args as ClapArgs, ValueEnum};
use comfy_table::{presets, ContentArrangement, Table};
use hlaudit_model::invisible::escape;
use hlaudit_model::{Kind, Record};
use serde::Serialize;

use crate::exit::Outcome;
use crate::input::{load_inventory, ReadArgs};
use crate::stdio::errln;

/// List the data stores of snapshot files.
#[derive(Debug, ClapArgs)]
#[command(after_help = "Examples:\n  \
    hlaudit inventory fixtures/demo/snapshot.json\n  \
    aws healthlake list-fhir-datastores | hlaudit inventory -\n  \
    hlaudit inventory --format json us-east-1.json eu-west-2.jsonl")]
pub struct Args {
    /// Snapshot files: AWS CLI output, a JSON array, JSON Lines or an hlaudit snapshot;
    /// `-` reads standard input.
    #[arg(required = true, value_name = "SNAPSHOT")]
    pub snapshots: Vec<String>,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Output formats of `inventory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people.
    Table,
    /// A JSON array, one object per data store.
    Json,
}

/// One row: what a person scanning an inventory wants to see first.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    kind: Kind,
    /// The identity key: the ARN of what exists, `FILE#ADDRESS` of what is planned.
    key: String,
    id: Option<String>,
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<String>,
    account: Option<String>,
    region: Option<String>,
    status: Option<String>,
    encryption: Option<String>,
    authorization_strategy: Option<String>,
    created_at: Option<String>,
    source: Option<String>,
}

impl From<&Record> for Row {
    fn from(r: &Record) -> Self {
        let props = r.properties();
        let text = |ptr: &str| {
            props
                .pointer(ptr)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        Row {
            kind: r.kind(),
            key: r.key().into_owned(),
            id: r.id().map(str::to_owned),
            name: r.name().map(str::to_owned),
            arn: r.arn().map(str::to_owned),
            account: r.account().map(str::to_owned),
            region: r.region().map(str::to_owned),
            status: r.status().map(str::to_owned),
            encryption: text("/SseConfiguration/KmsEncryptionConfig/CmkType"),
            authorization_strategy: text("/IdentityProviderConfiguration/AuthorizationStrategy"),
            created_at: r.created_at().map(|t| t.to_rfc3339()),
            source: r.source.as_ref().map(ToString::to_string),
        }
    }
}

/// Prints the inventory.
pub fn run(args: &Args) -> Result<Outcome> {
    let inventory = load_inventory(&args.snapshots, &args.read)?;
    let rows: Vec<Row> = inventory.records.iter().map(Row::from).collect();
    let mut out = std::io::BufWriter::new(crate::stdio::stdout());
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        Format::Table => {
            let mut table = Table::new();
            table
                .load_preset(presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_header([
                    "ID",
                    "Name",
                    "Account",
                    "Region",
                    "Status",
                    "Encryption",
                    "Authorization",
                ]);
            // Cells are record text: invisible characters (controls, bidirectional and
            // format characters) are shown by code point, so a name reads as it is.
            let cell = |s: Option<String>| match s {
                Some(s) => escape(&s).into_owned(),
                None => "-".to_owned(),
            };
            for r in rows {
                table.add_row([
                    cell(r.id.or(Some(r.key))),
                    cell(r.name),
                    cell(r.account),
                    cell(r.region),
                    cell(r.status),
                    cell(r.encryption),
                    cell(r.authorization_strategy),
                ]);
            }
            writeln!(out, "{table}")?;
            // `40 data stores, 6 export jobs in ...`: data stores always, other kinds when
            // present.
            let counts: Vec<String> = Kind::ALL
                .iter()
                .map(|k| {
                    (
                        k,
                        inventory.records.iter().filter(|r| r.kind() == *k).count(),
                    )
                })
                .filter(|(k, n)| k.is_default() || *n > 0)
                .map(|(k, n)| format!("{n} {}s", k.noun()))
                .collect();
            writeln!(
                out,
                "{} in {} accounts and {} regions",
                counts.join(", "),
                inventory.coverage.accounts.len(),
                inventory.coverage.regions.len()
            )?;
        }
    }
    out.flush()?;
    // Errors recorded in an hlaudit snapshot mean the inventory is incomplete.
    if inventory.errors.is_empty() {
        Ok(Outcome::Clean)
    } else {
        for e in &inventory.errors {
            errln!(
                "error[{}]: {} {}/{}: {}",
                escape(&e.code),
                escape(&e.operation),
                escape(e.account.as_deref().unwrap_or("*")),
                escape(e.region.as_deref().unwrap_or("*")),
                escape(&e.message)
            );
        }
        errln!(
            "error: the inventory is incomplete: {} part(s) could not be collected",
            inventory.errors.len()
        );
        Ok(Outcome::Error)
    }
}

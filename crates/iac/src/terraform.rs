//! Terraform plans: the JSON of `terraform show -json PLAN` (format 1.x).
//!
//! Every `awscc_healthlake_fhir_datastore` the plan creates, updates, replaces or leaves
//! as it is (`no-op`: it will exist with that configuration, so it is audited) becomes a
//! planned record, read by `terraform_change`; one the plan only deletes is skipped with
//! a warning. The `configuration` section says which values "known after apply" come
//! from an expression, and gives the provider's region (`terraform_config`).
//!
//! Plans reach tens of MB, usually on one line, so the plan is parsed once with
//! `serde_json` into borrowed slices (`&RawValue`), never into a positioned tree: only the
//! entries of HealthLake data stores are parsed further, with positions, and their
//! offsets in the file become lines and columns in one pass (`terraform_json`).
//!
//! A file is recognised by its first 64 KiB: a JSON object with `format_version` and one
//! of `terraform_version`, `resource_changes`, `planned_values`, `prior_state` or
//! `configuration`. That includes the JSON of a state (`terraform show -json` without a
//! plan), which the reader then refuses with a hint rather than let it pass unread.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::terraform_change::{self, PlanContext};
use crate::terraform_config::Configuration;
use crate::terraform_json::{offset_of, position, positions, top_level_keys};
use crate::{FileKind, IacError, IacErrors, Options, Read};

/// The Terraform resource type read (the awscc provider's, from the CloudFormation
/// resource schema).
pub(crate) const DATASTORE_TYPE: &str = "awscc_healthlake_fhir_datastore";

/// The newest minor of format 1 this reader was written against.
const KNOWN_MINOR: u32 = 2;

/// Whether the head of a file is the JSON of a Terraform plan (or of a state, which
/// [`read_plan`] refuses with a hint).
pub(crate) fn recognise(head: &str) -> Option<FileKind> {
    let keys = top_level_keys(head);
    let has = |k: &str| keys.iter().any(|x| x == k);
    let plan_keys = [
        "terraform_version",
        "resource_changes",
        "planned_values",
        "prior_state",
        "configuration",
    ];
    (has("format_version") && plan_keys.iter().any(|k| has(k))).then_some(FileKind::TerraformPlan)
}

/// The top level of a plan, as slices of the text.
#[derive(Deserialize)]
struct Top<'a> {
    #[serde(borrow, default)]
    format_version: Option<&'a RawValue>,
    #[serde(borrow, default)]
    resource_changes: Option<&'a RawValue>,
    #[serde(borrow, default)]
    planned_values: Option<&'a RawValue>,
    #[serde(borrow, default)]
    configuration: Option<&'a RawValue>,
    #[serde(borrow, default)]
    variables: Option<&'a RawValue>,
    #[serde(borrow, default)]
    values: Option<&'a RawValue>,
    #[serde(default)]
    errored: Option<bool>,
}

/// The fields of an entry that say whether it is a data store.
#[derive(Deserialize)]
struct EntryHead<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<&'a RawValue>,
    #[serde(borrow, default)]
    mode: Option<&'a RawValue>,
}

/// Reads a plan named `display`.
pub(crate) fn read_plan(display: &str, text: &str, opts: &Options) -> Result<Read, IacErrors> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    read(display, text, opts).map_err(|mut errors| {
        errors.sort_by_key(|e| (e.line, e.column));
        IacErrors(errors.into_iter().map(|e| with_snippet(e, text)).collect())
    })
}

/// The longest source line shown under an error: a plan is often one line of many MB.
const MAX_SNIPPET: usize = 300;

/// Adds the source line when it is short enough to show.
fn with_snippet(e: IacError, text: &str) -> IacError {
    let short = e.line > 0
        && text
            .lines()
            .nth(e.line - 1)
            .is_some_and(|l| l.len() <= MAX_SNIPPET);
    if short {
        e.with_source(text)
    } else {
        e
    }
}

fn read(display: &str, text: &str, opts: &Options) -> Result<Read, Vec<IacError>> {
    let at = |offset: usize, message: String, hint: &str| {
        let (line, column) = position(text, offset);
        IacError::new(display, line as usize, column as usize, message).with_hint(hint)
    };
    let top: Top<'_> = serde_json::from_str(text)
        .map_err(|e| {
            let message = e.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message);
            IacError::new(
                display,
                e.line(),
                e.column(),
                format!("not a readable Terraform plan: {message}"),
            )
            .with_hint("give the output of `terraform show -json PLAN`, unchanged")
        })
        .map_err(|e| vec![e])?;
    let mut read = Read {
        plans: 1,
        ..Read::default()
    };
    check_format(display, text, &top, &mut read).map_err(|e| vec![e])?;
    if top.errored == Some(true) {
        read.warnings.push(format!(
            "{display}: the plan errored, so it may be incomplete; fix the errors and plan again"
        ));
    }
    let entries: Vec<&RawValue> = match top.resource_changes {
        None => Vec::new(),
        Some(raw) if raw.get() == "null" => Vec::new(),
        Some(raw) => serde_json::from_str(raw.get()).map_err(|_| {
            vec![at(
                offset_of(text, raw),
                "`resource_changes` must be a list".into(),
                "a plan's `resource_changes` is a list of `{\"address\": ..., \"change\": {...}}`",
            )]
        })?,
    };
    let mut errors = Vec::new();
    let mut datastores: Vec<&RawValue> = Vec::new();
    for entry in entries {
        match serde_json::from_str::<EntryHead<'_>>(entry.get()) {
            Ok(h) => {
                let is = |raw: Option<&RawValue>, want: &str| {
                    raw.is_some_and(|r| r.get().trim_matches('"') == want)
                };
                if is(h.kind, DATASTORE_TYPE) && is(h.mode, "managed") {
                    datastores.push(entry);
                }
            }
            Err(_) => errors.push(at(
                offset_of(text, entry),
                "a `resource_changes` entry must be an object".into(),
                "each entry is `{\"address\": ..., \"type\": ..., \"change\": {...}}`",
            )),
        }
    }
    let configuration_value = match (datastores.is_empty(), top.configuration) {
        (false, Some(raw)) => serde_json::from_str::<serde_json::Value>(raw.get()).ok(),
        _ => None,
    };
    let variables_value = match (&configuration_value, top.variables) {
        (Some(_), Some(raw)) => serde_json::from_str::<serde_json::Value>(raw.get()).ok(),
        _ => None,
    };
    let configuration = configuration_value
        .as_ref()
        .map(|c| Configuration::new(c, variables_value.as_ref()));
    let plan = PlanContext {
        file: display,
        context: &opts.context,
        configuration: configuration.as_ref(),
    };
    let offsets: Vec<usize> = datastores.iter().map(|e| offset_of(text, e)).collect();
    for (entry, base) in datastores.iter().zip(positions(text, &offsets)) {
        let mut warnings = Vec::new();
        if let Some(record) =
            terraform_change::read(&plan, entry.get(), base, &mut errors, &mut warnings)
        {
            read.records.push(record);
        }
        read.warnings.append(&mut warnings);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if read.records.is_empty() {
        read.without_datastores.push(display.to_owned());
    }
    Ok(read)
}

/// Refuses what is not a format 1 plan: another format, or a state.
fn check_format(display: &str, text: &str, top: &Top<'_>, read: &mut Read) -> Result<(), IacError> {
    let error = |offset: usize, message: String, hint: &str| {
        let (line, column) = position(text, offset);
        IacError::new(display, line as usize, column as usize, message).with_hint(hint)
    };
    let Some(raw) = top.format_version else {
        return Err(error(
            0,
            "the plan has no `format_version`".into(),
            "give the output of `terraform show -json PLAN`, which starts with `format_version`",
        ));
    };
    let offset = offset_of(text, raw);
    let Ok(version) = serde_json::from_str::<String>(raw.get()) else {
        return Err(error(
            offset,
            format!(
                "`format_version` must be text such as \"1.2\", found {}",
                raw.get()
            ),
            "give the output of `terraform show -json PLAN`, unchanged",
        ));
    };
    let mut parts = version.split('.');
    let major = parts.next().unwrap_or("");
    let minor = parts
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or(0);
    if major != "1" {
        return Err(error(
            offset,
            format!("the plan's JSON format {version} is not one this reader knows (it reads 1.x)"),
            "a Terraform release newer than this version of hlaudit wrote it: update hlaudit, \
             or write the plan with a Terraform release whose `terraform show -json` gives format 1.x",
        ));
    }
    if minor > KNOWN_MINOR {
        read.warnings.push(format!(
            "{display}: the plan's JSON format is {version}, newer than the 1.{KNOWN_MINOR} this \
             reader was written for; attributes it does not know are kept as they are"
        ));
    }
    let is_state =
        top.values.is_some() && top.resource_changes.is_none() && top.planned_values.is_none();
    if is_state {
        let at = top.values.map(|v| offset_of(text, v)).unwrap_or(0);
        return Err(error(
            at,
            "this is the JSON of a Terraform state, not of a plan".into(),
            "run `terraform plan -out=tfplan` and give `terraform show -json tfplan`; \
             data stores that already exist are audited by collecting them from the account",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_and_states_are_recognised_by_their_first_keys() {
        let plan = r#"{"format_version":"1.2","terraform_version":"1.9.5","planned_values":{}"#;
        assert_eq!(recognise(plan), Some(FileKind::TerraformPlan));
        let state = r#"{"format_version":"1.0","terraform_version":"1.9.5","values":{}}"#;
        assert_eq!(recognise(state), Some(FileKind::TerraformPlan));
        assert_eq!(
            recognise(r#"{"format_version":"1.0","provider_schemas":{}}"#),
            None
        );
        assert_eq!(
            recognise(r#"{"terraform_version":"1.9.5","platform":"linux"}"#),
            None
        );
        assert_eq!(
            recognise(r#"{"a":{"format_version":"1.0","configuration":{}}}"#),
            None
        );
        assert_eq!(recognise("format_version: 1\nconfiguration: {}\n"), None);
    }
}

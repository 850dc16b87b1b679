//! CloudFormation and SAM templates, JSON or YAML (short-form tags included).
//!
//! Reading a template is four steps: parse it into a positioned tree (`tree`), read its
//! sections (`cfn_template`), check every expression of the template once so every
//! problem in the file is reported in one pass (`intrinsics`), and turn each
//! `AWS::HealthLake::FHIRDatastore` into a planned record (`cfn_datastore`).
//!
//! A file is recognised by content, from its first 64 KiB, by its top-level keys only:
//! `AWSTemplateFormatVersion`, the SAM `Transform`, or `Resources` whose entries have a
//! `Type`.

use std::collections::BTreeMap;

use crate::cfn_datastore::{self, DATASTORE_TYPE};
use crate::cfn_template::{entries, Template, SAM_TRANSFORM};
use crate::intrinsics::Evaluator;
use crate::tree::{self, Value};
use crate::{IacError, IacErrors, Options, Read};

/// Resource types whose template is another file.
const NESTED_STACKS: [&str; 2] = ["AWS::CloudFormation::Stack", "AWS::Serverless::Application"];

/// Whether the head of a file is a CloudFormation or SAM template.
pub(crate) fn recognise(head: &str) -> bool {
    let head = head.trim_start_matches('\u{feff}');
    let trimmed = head.trim_start();
    let keys = if trimmed.starts_with('{') {
        json_keys(trimmed)
    } else {
        yaml_keys(head)
    };
    keys.format_version || keys.sam || keys.typed_resource
}

/// What the head's top-level keys say.
#[derive(Debug, Default)]
struct HeadKeys {
    format_version: bool,
    sam: bool,
    typed_resource: bool,
}

/// Scans JSON text for top-level keys without parsing it whole: tracks nesting and
/// strings, and the key at each depth.
fn json_keys(text: &str) -> HeadKeys {
    let mut keys = HeadKeys::default();
    let mut path: Vec<String> = Vec::new();
    // The open containers: `{` or `[`.
    let mut open: Vec<char> = Vec::new();
    let mut chars = text.chars();
    let mut last_string: Option<String> = None;
    let mut after_transform = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let mut s = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(e) = chars.next() {
                                s.push(e);
                            }
                        }
                        '"' => break,
                        _ => s.push(c),
                    }
                }
                if after_transform && s == SAM_TRANSFORM {
                    keys.sam = true;
                }
                last_string = Some(s);
            }
            ':' => {
                if let Some(k) = last_string.take() {
                    let depth = open.len();
                    let in_objects = open.iter().all(|&o| o == '{');
                    path.truncate(depth.saturating_sub(1));
                    path.push(k.clone());
                    after_transform = depth == 1 && k == "Transform";
                    match (depth, path.first().map(String::as_str)) {
                        (1, _) if k == "AWSTemplateFormatVersion" => keys.format_version = true,
                        (3, Some("Resources")) if in_objects && k == "Type" => {
                            keys.typed_resource = true
                        }
                        _ => {}
                    }
                }
            }
            '{' | '[' => {
                open.push(c);
                last_string = None;
            }
            '}' | ']' => {
                open.pop();
                if open.len() <= 1 && c == '}' {
                    after_transform = false;
                }
                last_string = None;
            }
            ',' => {
                if open.len() <= 1 {
                    after_transform = false;
                }
                last_string = None;
            }
            _ => {}
        }
    }
    keys
}

/// Scans YAML text line by line for top-level keys, and for `Type:` two levels under
/// `Resources:`.
fn yaml_keys(text: &str) -> HeadKeys {
    let mut keys = HeadKeys::default();
    let mut section = String::new();
    let mut levels: Vec<usize> = Vec::new();
    for line in text.lines() {
        let content = line.trim_start();
        if content.is_empty() || content.starts_with('#') || content.starts_with("---") {
            continue;
        }
        let indent = line.len() - content.len();
        let key = content
            .split_once(':')
            .map(|(k, _)| k.trim().trim_matches(|c| c == '"' || c == '\''));
        if indent == 0 {
            levels.clear();
            section = key.unwrap_or("").to_owned();
            if section == "AWSTemplateFormatVersion" {
                keys.format_version = true;
            }
            if section == "Transform" && content.contains(SAM_TRANSFORM) {
                keys.sam = true;
            }
            continue;
        }
        if section == "Transform" && content.contains(SAM_TRANSFORM) {
            keys.sam = true;
        }
        if section != "Resources" {
            continue;
        }
        while levels.last().is_some_and(|&l| l > indent) {
            levels.pop();
        }
        if levels.last() != Some(&indent) {
            levels.push(indent);
        }
        let flow_resource = levels.len() == 1 && content.contains('{') && content.contains("Type:");
        if (levels.len() == 2 && key == Some("Type")) || flow_resource {
            keys.typed_resource = true;
        }
    }
    keys
}

/// Reads a template named `display`.
pub(crate) fn read_template(display: &str, text: &str, opts: &Options) -> Result<Read, IacErrors> {
    let root = tree::parse(display, text)?;
    if !matches!(root.value, Value::Map(_)) {
        return Err(IacError::new(
            display,
            root.line as usize,
            root.column as usize,
            format!("a template is a mapping, found {}", root.describe()),
        )
        .with_source(text)
        .with_hint("a template has `Resources` at the top level")
        .into());
    }
    let mut errors = Vec::new();
    let t = Template::new(display, &root, opts, &mut errors);
    check(display, &t, opts, &mut errors);
    let mut read = Read {
        templates: 1,
        ..Read::default()
    };
    for r in t
        .resources
        .iter()
        .filter(|r| NESTED_STACKS.contains(&r.type_name))
    {
        read.warnings.push(format!(
            "{display}: `{}` is a nested stack ({}); its template is not read here, so give \
             it as a file of its own to audit the data stores it may declare",
            r.key.name, r.type_name
        ));
    }
    for r in t.resources.iter().filter(|r| r.type_name == DATASTORE_TYPE) {
        let before = errors.len();
        match cfn_datastore::read(display, &t, r, opts, &mut errors) {
            Some(record) => read.records.push(record),
            None if errors.len() == before => read.warnings.push(format!(
                "{display}: `{}` is not created: its condition `{}` is false",
                r.key.name,
                r.condition.unwrap_or("")
            )),
            None => {}
        }
    }
    if !errors.is_empty() {
        errors.sort_by(|a, b| (a.line, a.column, &a.message).cmp(&(b.line, b.column, &b.message)));
        errors.dedup();
        return Err(IacErrors(
            errors.into_iter().map(|e| e.with_source(text)).collect(),
        ));
    }
    if read.records.is_empty() {
        read.without_datastores.push(display.to_owned());
    }
    Ok(read)
}

/// Evaluates every condition, resource and output once, for the problems in them.
fn check(display: &str, t: &Template<'_>, opts: &Options, errors: &mut Vec<IacError>) {
    let none = BTreeMap::new();
    let mut ev = Evaluator::new(display, t, opts, &none);
    for (name, node) in &t.conditions {
        let _ = ev.condition(name, node);
    }
    for r in &t.resources {
        if let Some(c) = r.condition {
            let _ = ev.condition(c, r.node.get("Condition").unwrap_or(r.node));
        }
        if let Some(p) = r.properties {
            let _ = ev.eval(p);
        }
    }
    if let Some(outputs) = t.outputs {
        for (_, o) in entries(outputs) {
            if let Some(v) = o.get("Value") {
                let _ = ev.eval(v);
            }
            if let Some(c) = o.get("Condition").and_then(|c| c.as_str()) {
                let _ = ev.condition(c, o);
            }
        }
    }
    errors.append(&mut ev.errors);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_recognised_by_their_top_level_keys() {
        assert!(recognise("AWSTemplateFormatVersion: '2010-09-09'\n"));
        assert!(recognise(
            "Transform: AWS::Serverless-2016-10-31\nResources: {}\n"
        ));
        assert!(recognise(
            "Transform:\n  - AWS::LanguageExtensions\n  - AWS::Serverless-2016-10-31\n"
        ));
        assert!(recognise(
            "Resources:\n  Store:\n    Type: AWS::HealthLake::FHIRDatastore\n"
        ));
        assert!(recognise(
            "{\"Resources\": {\"B\": {\"Type\": \"AWS::S3::Bucket\"}}}"
        ));
        assert!(recognise(
            "{\"AWSTemplateFormatVersion\": \"2010-09-09\", \"Resources\": {}}"
        ));
        assert!(recognise(
            "{\"Transform\": [\"AWS::Serverless-2016-10-31\"]}"
        ));
    }

    #[test]
    fn the_workspace_files_that_are_not_templates_are_not_recognised() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut seen = 0;
        for dir in [
            "fixtures/snapshots",
            "fixtures/iac/terraform",
            "fixtures/config",
            "fixtures/waivers",
            "fixtures/baselines",
            "rules",
        ] {
            let Ok(files) = std::fs::read_dir(root.join(dir)) else {
                continue;
            };
            for f in files.flatten().map(|f| f.path()).filter(|p| p.is_file()) {
                let Ok(text) = std::fs::read_to_string(&f) else {
                    continue;
                };
                let head: String = text.chars().take(64 * 1024).collect();
                assert!(!recognise(&head), "{} is taken for a template", f.display());
                seen += 1;
            }
        }
        for f in ["fixtures/iac/cdk-app/cdk.out/manifest.json"] {
            if let Ok(text) = std::fs::read_to_string(root.join(f)) {
                assert!(!recognise(&text), "{f} is taken for a template");
            }
        }
        assert!(seen > 10, "only {seen} files checked");
    }

    #[test]
    fn other_files_are_not_templates() {
        assert!(!recognise(
            "{\"DatastorePropertiesList\": [{\"DatastoreId\": \"x\"}]}"
        ));
        assert!(!recognise(
            "{\"format_version\": \"1.2\", \"resource_changes\": []}"
        ));
        assert!(!recognise("{\"version\": \"36.0.0\", \"artifacts\": {\"S\": {\"type\": \"aws:cloudformation:stack\"}}}"));
        assert!(!recognise("policies:\n  - id: x\n    Type: y\n"));
        assert!(!recognise("{\"Resources\": [{\"Type\": \"x\"}]}"));
        assert!(!recognise("Resources:\n  Type: x\n"));
        assert!(!recognise(
            "{\"A\": {\"Resources\": {\"B\": {\"Type\": \"x\"}}}}"
        ));
        assert!(!recognise(""));
        assert!(!recognise(
            "{\"Transform\": \"x\", \"Other\": \"AWS::Serverless-2016-10-31\"}"
        ));
    }
}

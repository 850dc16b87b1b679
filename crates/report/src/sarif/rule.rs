//! `rules[]`: one reporting descriptor per policy.

use std::collections::{BTreeMap, BTreeSet};

use hlaudit_model::finding::Severity;
use hlaudit_model::report::PolicyMeta;
use serde_json::json;
use serde_sarif::sarif as s;

use super::security_severity;

fn level_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

pub(super) fn rule(p: &PolicyMeta) -> s::ReportingDescriptor {
    let mut tags: Vec<String> = vec!["security".to_owned()];
    tags.extend(p.compliance.keys().cloned());
    tags.extend(p.tags.iter().cloned());
    let mut seen = BTreeSet::new();
    tags.retain(|t| seen.insert(t.clone()));
    let mut extra = BTreeMap::new();
    extra.insert("precision".to_owned(), json!("very-high"));
    extra.insert(
        "security-severity".to_owned(),
        json!(security_severity(p.severity)),
    );
    if !p.compliance.is_empty() {
        extra.insert("compliance".to_owned(), json!(p.compliance));
    }
    let properties = s::PropertyBag::builder()
        .tags(tags)
        .additional_properties(extra)
        .build();
    let mut builder_help_text = String::new();
    let mut help_md = String::new();
    let description = if p.description.trim().is_empty() {
        p.title.clone()
    } else {
        p.description.clone()
    };
    builder_help_text.push_str(&description);
    // Policy text comes from policy authors (the built-in pack writes it as Markdown:
    // backticks, numbered steps, indented commands), never from audited data, so it goes
    // into the help as Markdown rather than escaped.
    help_md.push_str(&description);
    for (label, body) in [("Rationale", &p.rationale), ("Remediation", &p.remediation)] {
        if !body.trim().is_empty() {
            builder_help_text.push_str(&format!("\n\n{label}: {body}"));
            help_md.push_str(&format!("\n\n**{label}**\n\n{}", body.trim_end()));
        }
    }
    if !p.compliance.is_empty() {
        let list: Vec<String> = p
            .compliance
            .iter()
            .map(|(fw, controls)| format!("{fw} {}", controls.join(", ")))
            .collect();
        builder_help_text.push_str(&format!("\n\nCompliance: {}", list.join("; ")));
        help_md.push_str("\n\n**Compliance**\n");
        for item in list {
            help_md.push_str(&format!("\n- {}", md_escape(&item)));
        }
    }
    if !p.references.is_empty() {
        builder_help_text.push_str(&format!("\n\nReferences: {}", p.references.join(" ")));
        help_md.push_str("\n\n**References**\n");
        for r in &p.references {
            help_md.push_str(&format!("\n- <{r}>"));
        }
    }
    let mut b = s::ReportingDescriptor::builder()
        .id(p.id.clone())
        .name(pascal_case(&p.title))
        .short_description(
            s::MultiformatMessageString::builder()
                .text(ensure_sentence(&p.title))
                .build(),
        )
        .full_description(
            s::MultiformatMessageString::builder()
                .text(ensure_sentence(&description))
                .build(),
        )
        .help(
            s::MultiformatMessageString::builder()
                .text(builder_help_text)
                .markdown(help_md)
                .build(),
        )
        .default_configuration(
            s::ReportingConfiguration::builder()
                .level(json!(level_name(p.severity)))
                .build(),
        )
        .properties(properties)
        .build();
    if let Some(uri) = p.references.first() {
        b.help_uri = Some(uri.clone());
    }
    b
}
fn pascal_case(title: &str) -> String {
    title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + cs.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn ensure_sentence(text: &str) -> String {
    let t = text.trim();
    if t.ends_with('.') || t.ends_with('!') || t.ends_with('?') {
        t.to_owned()
    } else {
        format!("{t}.")
    }
}

fn md_escape(text: &str) -> String {
    crate::markdown::escape(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_pascal_case() {
        assert_eq!(
            pascal_case("Data store encrypted with a customer-managed key"),
            "DataStoreEncryptedWithACustomerManagedKey"
        );
    }
}

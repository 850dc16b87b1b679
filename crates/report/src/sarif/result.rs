//! `results[]`: one result per FAIL, ERROR and WAIVED finding.

use std::collections::BTreeMap;

use hlaudit_model::finding::{BaselineState, Finding, Status};
use hlaudit_model::report::Report;
use hlaudit_model::Source;
use serde_json::json;
use serde_sarif::sarif as s;

use super::location::{is_file, physical_location};
use super::{level, security_severity, SarifOptions, FINGERPRINT_KEY};
use crate::text;

pub(super) fn result(report: &Report, options: &SarifOptions, f: &Finding) -> s::Result {
    let policy = report.policy_of(f);
    // The message and each piece of evidence read as sentences of their own.
    let mut message = text::message(report, f);
    let message_end = message.trim_end().len();
    message.truncate(message_end);
    if !message.ends_with(['.', '!', '?']) {
        message.push('.');
    }
    for e in f.evidence() {
        let at = if e.pointer.is_empty() {
            "the record".to_owned()
        } else {
            e.pointer.clone()
        };
        message.push_str(&format!(
            " At {at}, found {}; expected {}{}.",
            text::found(e.found.as_ref()),
            e.expected,
            text::note(e)
        ));
    }
    let resource = report.resource_of(f);
    // A planned data store's finding points at the template line that decided it.
    let source: Option<&Source> = f
        .location()
        .filter(|s| is_file(&s.file))
        .or_else(|| {
            resource
                .and_then(|r| r.source.as_ref())
                .filter(|s| is_file(&s.file))
        })
        .or(policy.source.as_ref().filter(|s| is_file(&s.file)));
    let physical = match source {
        // Only a template location has a meaningful column (a record's is its brace).
        Some(src) => {
            let column = if f.location().is_some() {
                src.column
            } else {
                0
            };
            physical_location(options, &src.file, src.line, column)
        }
        None => match report.coverage.inputs.iter().find(|i| is_file(i)) {
            Some(input) => physical_location(options, input, 0, 0),
            None => physical_location(options, &options.fallback_uri, 0, 0),
        },
    };
    let mut location = s::Location::builder().physical_location(physical).build();
    if let Some(r) = resource {
        location.logical_locations = Some(vec![s::LogicalLocation::builder()
            .fully_qualified_name(r.key().into_owned())
            .name(
                r.description()
                    .or_else(|| r.name.clone())
                    .or_else(|| r.id.clone())
                    .unwrap_or_else(|| r.label()),
            )
            .kind("resource")
            .build()]);
    }
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert(FINGERPRINT_KEY.to_owned(), report.fingerprint_of(f));
    let (account, region) = text::place(report, f);
    let mut props = BTreeMap::new();
    props.insert("status".to_owned(), json!(f.status.as_str()));
    props.insert("severity".to_owned(), json!(f.severity.as_str()));
    props.insert(
        "security-severity".to_owned(),
        json!(security_severity(f.severity)),
    );
    if let Some(a) = account {
        props.insert("accountId".to_owned(), json!(a));
    }
    if let Some(r) = region {
        props.insert("region".to_owned(), json!(r));
    }
    if let Some(r) = resource {
        props.insert("resourceKind".to_owned(), json!(r.kind.as_str()));
        if let Some(j) = &r.job {
            props.insert("job".to_owned(), json!(j));
        }
    }
    if !f.evidence().is_empty() {
        props.insert("evidence".to_owned(), json!(f.evidence()));
    }
    let level = match f.status {
        Status::Error => s::ResultLevel::Error,
        // Only a fixed (baseline `absent`) finding gets here with PASS or SKIP.
        Status::Pass | Status::Skip => s::ResultLevel::None,
        Status::Fail | Status::Waived => level(f.severity),
    };
    let mut result = s::Result::builder()
        .rule_id(policy.id.clone())
        .rule_index(f.policy as i64)
        .level(level)
        .message(s::Message::builder().text(message).build())
        .locations(vec![location])
        .partial_fingerprints(fingerprints)
        .properties(
            s::PropertyBag::builder()
                .additional_properties(props)
                .build(),
        )
        .build();
    if let Some(w) = &f.waiver() {
        let mut justification = format!("{} (approved by {}", w.reason, w.approved_by);
        match &w.expires {
            Some(date) => justification.push_str(&format!(", expires {date})")),
            None => justification.push(')'),
        }
        let mut sup = s::Suppression::builder()
            .kind(json!("external"))
            .status(json!("accepted"))
            .justification(justification)
            .build();
        if is_file(&w.source.file) {
            sup.location = Some(
                s::Location::builder()
                    .physical_location(physical_location(options, &w.source.file, w.source.line, 0))
                    .build(),
            );
        }
        result.suppressions = Some(vec![sup]);
    } else if f.status == Status::Waived {
        result.suppressions = Some(vec![s::Suppression::builder()
            .kind(json!("external"))
            .status(json!("accepted"))
            .build()]);
    }
    if matches!(f.status, Status::Pass | Status::Skip) {
        result.kind = Some(s::ResultKind::Pass);
    }
    if let Some(b) = f.baseline {
        result.baseline_state = Some(json!(match b {
            BaselineState::New => "new",
            BaselineState::Unchanged => "unchanged",
            BaselineState::Updated => "updated",
            BaselineState::Absent => "absent",
        }));
    }
    result
}

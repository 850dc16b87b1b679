//! One [`AsffFinding`] from one hlaudit finding.

use std::collections::BTreeMap;

use hlaudit_model::finding::{BaselineState, Finding, Severity, Status};
use hlaudit_model::report::{PolicyMeta, Report, Resource, COLLECTION_ERROR_ID};
use hlaudit_model::{Identity, Kind};

use super::limits::{self as fit, text};
use super::{
    AsffCompliance, AsffFinding, AsffFindingProviderFields, AsffFpfSeverity, AsffNote, AsffOptions,
    AsffRecommendation, AsffRemediation, AsffResource, AsffResourceDetails, AsffSeverity,
    AsffStatusReason, AsffWorkflow, COMPANY_NAME, PRODUCT_NAME, SCHEMA_VERSION,
};
use crate::{text as wording, ReportError};

/// The prefix of every ASFF type hlaudit writes for a compliance framework.
const STANDARDS: &str = "Software and Configuration Checks/Industry and Regulatory Standards";

/// The partitions `Resources[].Partition` accepts.
const PARTITIONS: [&str; 5] = ["aws", "aws-cn", "aws-us-gov", "aws-us-iso", "aws-us-iso-b"];

/// Whether a finding of this status is written.
pub(super) fn selected(status: Status, include_passed: bool) -> bool {
    match status {
        Status::Fail | Status::Error | Status::Waived => true,
        Status::Pass => include_passed,
        Status::Skip => false,
    }
}

/// The account and region of `f`'s ASFF finding (its own, else the fallbacks), or the
/// error that names what is missing.
pub(super) fn context(
    report: &Report,
    f: &Finding,
    options: &AsffOptions,
) -> Result<(String, String), ReportError> {
    let (account, region) = wording::place(report, f);
    let missing = |what: &'static str| ReportError::AsffContext {
        fingerprint: report.fingerprint_of(f),
        policy: report.policy_of(f).id.clone(),
        subject: wording::subject_label(report, f),
        missing: what,
    };
    let account = account
        .filter(|a| is_account(a))
        .or_else(|| options.account_fallback.clone())
        .ok_or_else(|| missing("account"))?;
    let region = region
        .filter(|r| is_region(r))
        .or_else(|| options.region_fallback.clone())
        .ok_or_else(|| missing("region"))?;
    Ok((account, region))
}

/// The ASFF finding of `f`.
pub(super) fn finding(
    report: &Report,
    f: &Finding,
    options: &AsffOptions,
) -> Result<AsffFinding, ReportError> {
    let policy = report.policy_of(f);
    let fingerprint = report.fingerprint_of(f);
    let resource = report.resource_of(f);
    let (account, region) = context(report, f, options)?;
    let region = text(&region, fit::REGION);
    let partition = resource
        .and_then(|r| r.partition.clone())
        .filter(|p| PARTITIONS.contains(&p.as_str()))
        .unwrap_or_else(|| partition_of(&region).to_owned());

    let now = options.now.to_rfc3339();
    let first_observed = options.baseline_at.map(|at| {
        let seen_before = matches!(
            f.baseline(),
            Some(BaselineState::Unchanged | BaselineState::Updated | BaselineState::Absent)
        );
        if seen_before {
            at.min(options.now).to_rfc3339()
        } else {
            now.clone()
        }
    });
    let label = severity_label(f.severity).to_owned();
    let types = types(policy);
    let reference = fit::url(policy.references.first().map(String::as_str));

    let mut finding = AsffFinding {
        schema_version: SCHEMA_VERSION.to_owned(),
        id: text(&fingerprint, fit::ID),
        product_arn: format!(
            "arn:{partition}:securityhub:{region}:{account}:product/{account}/default"
        ),
        product_name: PRODUCT_NAME.to_owned(),
        company_name: COMPANY_NAME.to_owned(),
        generator_id: text(&policy.id, fit::GENERATOR_ID),
        aws_account_id: account,
        region: Some(region.clone()),
        types: types.clone(),
        last_observed_at: first_observed.as_ref().map(|_| now.clone()),
        created_at: first_observed.clone().unwrap_or_else(|| now.clone()),
        first_observed_at: first_observed,
        updated_at: now.clone(),
        severity: AsffSeverity {
            label: label.clone(),
            original: Some(f.severity.as_str().to_owned()),
        },
        title: fit::prose(
            if policy.title.trim().is_empty() {
                &policy.id
            } else {
                &policy.title
            },
            fit::TITLE,
        ),
        description: text(&description(report, f), fit::DESCRIPTION),
        remediation: remediation(policy, reference.clone()),
        source_url: reference,
        product_fields: product_fields(report, f, &fingerprint),
        resources: vec![asff_resource(report, f, resource, &partition, &region)],
        compliance: Some(compliance(policy, f)),
        finding_provider_fields: Some(AsffFindingProviderFields {
            severity: Some(AsffFpfSeverity {
                label: Some(label),
                original: Some(f.severity.as_str().to_owned()),
            }),
            types,
        }),
        workflow: Some(AsffWorkflow {
            status: workflow_status(f.status).to_owned(),
        }),
        record_state: "ACTIVE".to_owned(),
        note: f.waiver().map(|w| AsffNote {
            text: text(
                &format!(
                    "Waived: {} Expires: {}. Waiver: {}.",
                    w.reason,
                    w.expires.as_deref().unwrap_or("never"),
                    w.source
                ),
                fit::NOTE_TEXT,
            ),
            updated_by: text(&w.approved_by, fit::NOTE_UPDATED_BY),
            updated_at: now,
        }),
    };
    fit::fit_size(&mut finding);
    Ok(finding)
}

/// A 12-digit account id.
fn is_account(a: &str) -> bool {
    a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())
}

/// A region name: lower-case letters, digits and dashes, within the limit.
fn is_region(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= fit::REGION
        && r.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The partition a region is in.
fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-us-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-us-iso"
    } else {
        "aws"
    }
}

/// `Severity.Label`.
pub(super) fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Info => "INFORMATIONAL",
        Severity::Low => "LOW",
        Severity::Medium => "MEDIUM",
        Severity::High => "HIGH",
        Severity::Critical => "CRITICAL",
    }
}

/// `Workflow.Status`.
fn workflow_status(s: Status) -> &'static str {
    match s {
        Status::Waived => "SUPPRESSED",
        Status::Pass | Status::Skip => "RESOLVED",
        Status::Fail | Status::Error => "NEW",
    }
}

/// `Compliance.Status`.
fn compliance_status(s: Status) -> &'static str {
    match s {
        Status::Fail | Status::Waived => "FAILED",
        Status::Error | Status::Skip => "NOT_AVAILABLE",
        Status::Pass => "PASSED",
    }
}

/// The ASFF type of a framework a policy maps to.
fn framework_type(framework: &str) -> String {
    let upper = framework.to_ascii_uppercase();
    let classifier = if upper == "HIPAA" {
        "HIPAA Controls (USA)"
    } else if upper.starts_with("NIST") && upper.contains("800-53") {
        "NIST 800-53 Controls (USA)"
    } else if upper.starts_with("NIST") && upper.contains("CSF") {
        "NIST CSF Controls (USA)"
    } else {
        framework
    };
    format!("{STANDARDS}/{classifier}")
}

/// `Types`: one per framework the policy maps to; a policy that maps to none is a best
/// practice, and a collection error only a configuration check.
pub(crate) fn types(policy: &PolicyMeta) -> Vec<String> {
    let mut types: Vec<String> = policy
        .compliance
        .keys()
        .map(|f| framework_type(f))
        .collect();
    types.dedup();
    if types.is_empty() {
        types.push(if policy.id == COLLECTION_ERROR_ID {
            "Software and Configuration Checks".to_owned()
        } else {
            "Software and Configuration Checks/AWS Security Best Practices".to_owned()
        });
    }
    fit::list(types, fit::TYPES, fit::TYPE)
}

/// The message, the evidence of every failing clause, and the waiver.
pub(crate) fn description(report: &Report, f: &Finding) -> String {
    let mut d = wording::message(report, f);
    let evidence: Vec<String> = f
        .evidence()
        .iter()
        .map(|e| {
            format!(
                "{}: found {}, expected {}{}",
                e.pointer,
                wording::found(e.found.as_ref()),
                e.expected,
                wording::note(e)
            )
        })
        .collect();
    if !evidence.is_empty() {
        if !d.trim_end().ends_with(['.', '!', '?']) {
            d.push('.');
        }
        d.push_str(" Evidence: ");
        d.push_str(&evidence.join("; "));
        d.push('.');
    }
    if let Some(w) = f.waiver() {
        d.push_str(&format!(
            " Waived by {} until {}: {}",
            w.approved_by,
            w.expires.as_deref().unwrap_or("further notice"),
            w.reason
        ));
    }
    d
}

/// `Remediation`, when the policy says how to fix it or has a reference.
fn remediation(policy: &PolicyMeta, url: Option<String>) -> Option<AsffRemediation> {
    let text = (!policy.remediation.trim().is_empty())
        .then(|| fit::prose(&policy.remediation, fit::RECOMMENDATION_TEXT));
    (text.is_some() || url.is_some()).then_some(AsffRemediation {
        recommendation: AsffRecommendation { text, url },
    })
}

/// `Compliance`.
fn compliance(policy: &PolicyMeta, f: &Finding) -> AsffCompliance {
    let requirements = policy
        .compliance
        .iter()
        .flat_map(|(framework, ids)| ids.iter().map(move |id| format!("{framework} {id}")));
    let mut reasons = Vec::new();
    if f.status == Status::Error {
        let code = if policy.id == COLLECTION_ERROR_ID {
            "COLLECTION_ERROR"
        } else {
            "EVALUATION_ERROR"
        };
        reasons.push(AsffStatusReason {
            reason_code: code.to_owned(),
            description: (!f.message().trim().is_empty())
                .then(|| text(&f.message(), fit::STATUS_REASON_DESCRIPTION)),
        });
    }
    if let Some(w) = f.waiver() {
        reasons.push(AsffStatusReason {
            reason_code: "WAIVED".to_owned(),
            description: Some(text(&w.reason, fit::STATUS_REASON_DESCRIPTION)),
        });
    }
    reasons.truncate(fit::STATUS_REASONS);
    AsffCompliance {
        status: compliance_status(f.status).to_owned(),
        related_requirements: fit::list(requirements, fit::RELATED_REQUIREMENTS, fit::REQUIREMENT),
        status_reasons: reasons,
    }
}

/// `ProductFields`: who wrote the finding, hlaudit's own view of it, and the evidence.
fn product_fields(report: &Report, f: &Finding, fingerprint: &str) -> BTreeMap<String, String> {
    let policy = report.policy_of(f);
    let mut fields: Vec<(String, String)> = vec![
        ("ProviderName".into(), report.tool.name.clone()),
        ("ProviderVersion".into(), report.tool.version.clone()),
        ("hlaudit/PolicyId".into(), policy.id.clone()),
        ("hlaudit/Status".into(), f.status.as_str().into()),
        ("hlaudit/Severity".into(), f.severity.as_str().into()),
        ("hlaudit/Fingerprint".into(), fingerprint.to_owned()),
        ("hlaudit/Resource".into(), report.resource_key(f)),
    ];
    if let Some(state) = wording::baseline_label(f) {
        fields.push(("hlaudit/Baseline".into(), state.to_owned()));
    }
    if let Some(location) = f.location() {
        fields.push(("hlaudit/Location".into(), location.to_string()));
    }
    if f.undecided() {
        fields.push(("hlaudit/Undecided".into(), "true".into()));
    }
    for (i, e) in f.evidence().iter().enumerate() {
        let key = |part: &str| format!("hlaudit/Evidence/{}/{part}", i + 1);
        fields.push((key("Pointer"), e.pointer.to_string()));
        fields.push((key("Found"), wording::found(e.found.as_ref())));
        fields.push((key("Expected"), e.expected.to_string()));
        if let Some(note) = &e.note {
            fields.push((key("Note"), note.to_string()));
        }
    }
    fit::map(fields, fit::PRODUCT_FIELDS_MAP)
}

/// The one entry of `Resources`.
fn asff_resource(
    report: &Report,
    f: &Finding,
    resource: Option<&Resource>,
    partition: &str,
    region: &str,
) -> AsffResource {
    let mut other: Vec<(String, String)> = Vec::new();
    match (f.scope(), resource) {
        (None, Some(r)) => {
            other.push(("Kind".into(), r.kind.as_str().into()));
            if r.kind == Kind::Datastore {
                other.push((
                    "CloudFormationType".into(),
                    "AWS::HealthLake::FHIRDatastore".into(),
                ));
            }
            match &r.identity {
                Identity::Arn(_) => {}
                Identity::Planned(p) => {
                    other.push(("PlannedIn".into(), p.file.clone()));
                    other.push(("Address".into(), p.address.clone()));
                }
                Identity::Job(j) => {
                    other.push(("DatastoreId".into(), j.datastore_id.clone()));
                    if let Some(arn) = r.job.as_ref().and_then(|s| s.datastore_arn.clone()) {
                        other.push(("DatastoreArn".into(), arn));
                    }
                    if let Some(did) = r.description() {
                        other.push(("Job".into(), did));
                    }
                }
                // Its id, account and region are carried like any resource's.
                Identity::Profile(_) => {}
            }
            let optional = [
                ("Id", r.id.as_ref()),
                ("Name", r.name.as_ref()),
                ("Status", r.status.as_ref()),
            ];
            for (k, v) in optional {
                if let Some(v) = v {
                    other.push((k.into(), v.clone()));
                }
            }
            if let Some(source) = &r.source {
                other.push(("Source".into(), source.to_string()));
            }
        }
        (Some(s), _) => {
            other.push(("Kind".into(), "collection-scope".into()));
            other.push(("Scope".into(), s.what.clone()));
        }
        (None, None) => {
            other.push(("Kind".into(), "unknown".into()));
        }
    }
    AsffResource {
        type_: "Other".to_owned(),
        id: text(&report.resource_key(f), fit::RESOURCE_ID),
        partition: Some(partition.to_owned()).filter(|p| PARTITIONS.contains(&p.as_str())),
        region: Some(region.to_owned()),
        tags: resource
            .and_then(|r| r.tags.as_ref())
            .filter(|tags| !tags.is_empty())
            .map(|tags| fit::map(tags.clone(), fit::TAGS_MAP)),
        details: Some(AsffResourceDetails {
            other: fit::map(other, fit::OTHER_MAP),
        }),
    }
}

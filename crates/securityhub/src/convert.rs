//! hlaudit's ASFF findings ([`AsffFinding`], the JSON the `asff` report writes) as the
//! SDK's `AwsSecurityFinding`, and back the few fields planning reads from findings
//! already in Security Hub.
//!
//! The SDK's types have no serde support, so every field hlaudit fills is mapped here
//! one by one; a test checks that no field of the JSON is lost on the way.

use std::collections::HashMap;

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, Compliance, ComplianceStatus, FindingProviderFields,
    FindingProviderSeverity, Note, Partition, Recommendation, RecordState, Remediation, Resource,
    ResourceDetails, Severity, SeverityLabel, StatusReason, Workflow, WorkflowStatus,
};
use hlaudit_report::asff::AsffFinding;

use crate::plan::{Open, Resolution};

/// The SDK finding of an hlaudit ASFF finding, with `product_arn` in its place: the
/// product ARN names the region the finding is imported into, which an aggregation
/// region changes.
pub fn to_sdk(f: &AsffFinding, product_arn: &str) -> AwsSecurityFinding {
    let resources = f
        .resources
        .iter()
        .map(|r| {
            let mut b = Resource::builder()
                .r#type(&r.type_)
                .id(&r.id)
                .set_partition(r.partition.as_deref().map(Partition::from))
                .set_region(r.region.clone())
                .set_tags(r.tags.as_ref().map(|t| hash(t.iter())));
            if let Some(d) = &r.details {
                b = b.details(
                    ResourceDetails::builder()
                        .set_other(Some(hash(d.other.iter())))
                        .build(),
                );
            }
            b.build()
        })
        .collect();
    AwsSecurityFinding::builder()
        .schema_version(&f.schema_version)
        .id(&f.id)
        .product_arn(product_arn)
        .product_name(&f.product_name)
        .company_name(&f.company_name)
        .generator_id(&f.generator_id)
        .aws_account_id(&f.aws_account_id)
        .set_region(f.region.clone())
        .set_types(Some(f.types.clone()))
        .set_first_observed_at(f.first_observed_at.clone())
        .set_last_observed_at(f.last_observed_at.clone())
        .created_at(&f.created_at)
        .updated_at(&f.updated_at)
        .severity(
            Severity::builder()
                .label(SeverityLabel::from(f.severity.label.as_str()))
                .set_original(f.severity.original.clone())
                .build(),
        )
        .title(&f.title)
        .description(&f.description)
        .set_remediation(f.remediation.as_ref().map(|r| {
            Remediation::builder()
                .recommendation(
                    Recommendation::builder()
                        .set_text(r.recommendation.text.clone())
                        .set_url(r.recommendation.url.clone())
                        .build(),
                )
                .build()
        }))
        .set_source_url(f.source_url.clone())
        .set_product_fields(Some(hash(f.product_fields.iter())))
        .set_resources(Some(resources))
        .set_compliance(f.compliance.as_ref().map(|c| {
            Compliance::builder()
                .status(ComplianceStatus::from(c.status.as_str()))
                .set_related_requirements(
                    (!c.related_requirements.is_empty()).then(|| c.related_requirements.clone()),
                )
                .set_status_reasons((!c.status_reasons.is_empty()).then(|| {
                    c.status_reasons
                        .iter()
                        .map(|s| {
                            StatusReason::builder()
                                .reason_code(&s.reason_code)
                                .set_description(s.description.clone())
                                .build()
                        })
                        .collect()
                }))
                .build()
        }))
        .set_finding_provider_fields(f.finding_provider_fields.as_ref().map(|p| {
            FindingProviderFields::builder()
                .set_severity(p.severity.as_ref().map(|s| {
                    FindingProviderSeverity::builder()
                        .set_label(s.label.as_deref().map(SeverityLabel::from))
                        .set_original(s.original.clone())
                        .build()
                }))
                .set_types((!p.types.is_empty()).then(|| p.types.clone()))
                .build()
        }))
        .set_workflow(f.workflow.as_ref().map(|w| {
            Workflow::builder()
                .status(WorkflowStatus::from(w.status.as_str()))
                .build()
        }))
        .record_state(RecordState::from(f.record_state.as_str()))
        .set_note(f.note.as_ref().map(|n| {
            Note::builder()
                .text(&n.text)
                .updated_by(&n.updated_by)
                .updated_at(&n.updated_at)
                .build()
        }))
        .build()
}

fn hash<'a>(map: impl Iterator<Item = (&'a String, &'a String)>) -> HashMap<String, String> {
    map.map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Turns a finding into its resolved form: compliance PASSED, record ARCHIVED, workflow
/// RESOLVED, updated `now`, with why in the `hlaudit/Resolution` product field.
pub fn resolve(mut f: AwsSecurityFinding, why: Resolution, now: &str) -> AwsSecurityFinding {
    let mut compliance = f
        .compliance
        .take()
        .unwrap_or_else(|| Compliance::builder().build());
    compliance.status = Some(ComplianceStatus::Passed);
    f.compliance = Some(compliance);
    f.record_state = Some(RecordState::Archived);
    f.workflow = Some(Workflow::builder().status(WorkflowStatus::Resolved).build());
    f.updated_at = Some(now.to_owned());
    f.last_observed_at = Some(now.to_owned());
    f.product_fields
        .get_or_insert_with(HashMap::new)
        .insert("hlaudit/Resolution".to_owned(), why.as_str().to_owned());
    f
}

/// What planning needs of a finding read from Security Hub; `None` for one without an
/// id or account (Security Hub always sets both).
pub fn open(f: &AwsSecurityFinding) -> Option<Open> {
    let region = f
        .resources
        .as_deref()
        .and_then(|r| r.first())
        .and_then(|r| r.region.clone())
        .or_else(|| f.region.clone());
    Some(Open {
        id: f.id.clone()?,
        generator_id: f.generator_id.clone().unwrap_or_default(),
        account: f.aws_account_id.clone()?,
        region,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use hlaudit_report::asff::{
        AsffCompliance, AsffFindingProviderFields, AsffFpfSeverity, AsffNote, AsffRecommendation,
        AsffRemediation, AsffResource, AsffResourceDetails, AsffSeverity, AsffStatusReason,
        AsffWorkflow,
    };

    use super::*;

    fn finding() -> AsffFinding {
        AsffFinding {
            schema_version: "2018-10-08".into(),
            id: "f1".into(),
            product_arn: "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default"
                .into(),
            product_name: "hlaudit".into(),
            company_name: "hlaudit".into(),
            generator_id: "HL-ENC-01".into(),
            aws_account_id: "111122223333".into(),
            region: Some("us-east-1".into()),
            types: vec!["Software and Configuration Checks/Industry and Regulatory Standards/HIPAA Controls".into()],
            first_observed_at: Some("2026-01-01T00:00:00Z".into()),
            last_observed_at: Some("2026-01-02T00:00:00Z".into()),
            created_at: "2026-01-01T00:00:00Z".into(),
            updated_at: "2026-01-02T00:00:00Z".into(),
            severity: AsffSeverity {
                label: "HIGH".into(),
                original: Some("high".into()),
            },
            title: "t".into(),
            description: "d".into(),
            remediation: Some(AsffRemediation {
                recommendation: AsffRecommendation {
                    text: Some("fix".into()),
                    url: Some("https://example.com".into()),
                },
            }),
            source_url: Some("https://example.com".into()),
            product_fields: BTreeMap::from([("hlaudit/Status".into(), "FAIL".into())]),
            resources: vec![AsffResource {
                type_: "Other".into(),
                id: "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/x".into(),
                partition: Some("aws".into()),
                region: Some("us-east-1".into()),
                tags: Some(BTreeMap::from([("Owner".into(), "a".into())])),
                details: Some(AsffResourceDetails {
                    other: BTreeMap::from([("Name".into(), "x".into())]),
                }),
            }],
            compliance: Some(AsffCompliance {
                status: "FAILED".into(),
                related_requirements: vec!["HIPAA 164.312(a)(2)(iv)".into()],
                status_reasons: vec![AsffStatusReason {
                    reason_code: "CLAUSE_FAILED".into(),
                    description: Some("why".into()),
                }],
            }),
            finding_provider_fields: Some(AsffFindingProviderFields {
                severity: Some(AsffFpfSeverity {
                    label: Some("HIGH".into()),
                    original: Some("high".into()),
                }),
                types: vec!["Software and Configuration Checks".into()],
            }),
            workflow: Some(AsffWorkflow {
                status: "NEW".into(),
            }),
            record_state: "ACTIVE".into(),
            note: Some(AsffNote {
                text: "n".into(),
                updated_by: "u".into(),
                updated_at: "2026-01-02T00:00:00Z".into(),
            }),
        }
    }

    #[test]
    fn every_field_reaches_the_sdk_finding() {
        let f = finding();
        let arn = "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default";
        let s = to_sdk(&f, arn);
        assert_eq!(s.product_arn.as_deref(), Some(arn));
        assert_eq!(s.id.as_deref(), Some("f1"));
        assert_eq!(s.generator_id.as_deref(), Some("HL-ENC-01"));
        assert_eq!(s.region.as_deref(), Some("us-east-1"));
        assert_eq!(s.types.as_deref(), Some(&f.types[..]));
        assert_eq!(s.first_observed_at, f.first_observed_at);
        assert_eq!(s.last_observed_at, f.last_observed_at);
        let sev = s.severity.as_ref().unwrap();
        assert_eq!(sev.label, Some(SeverityLabel::High));
        assert_eq!(sev.original.as_deref(), Some("high"));
        let rec = s
            .remediation
            .as_ref()
            .and_then(|r| r.recommendation.as_ref())
            .unwrap();
        assert_eq!(rec.text.as_deref(), Some("fix"));
        assert_eq!(rec.url.as_deref(), Some("https://example.com"));
        assert_eq!(s.product_fields.as_ref().unwrap()["hlaudit/Status"], "FAIL");
        let r = &s.resources.as_ref().unwrap()[0];
        assert_eq!(r.r#type.as_deref(), Some("Other"));
        assert_eq!(r.partition, Some(Partition::Aws));
        assert_eq!(r.tags.as_ref().unwrap()["Owner"], "a");
        assert_eq!(
            r.details.as_ref().unwrap().other.as_ref().unwrap()["Name"],
            "x"
        );
        let c = s.compliance.as_ref().unwrap();
        assert_eq!(c.status, Some(ComplianceStatus::Failed));
        assert_eq!(c.related_requirements.as_ref().unwrap().len(), 1);
        assert_eq!(
            c.status_reasons.as_ref().unwrap()[0].reason_code.as_deref(),
            Some("CLAUSE_FAILED")
        );
        let p = s.finding_provider_fields.as_ref().unwrap();
        assert_eq!(
            p.severity.as_ref().unwrap().label,
            Some(SeverityLabel::High)
        );
        assert_eq!(p.types.as_ref().unwrap().len(), 1);
        assert_eq!(
            s.workflow.as_ref().unwrap().status,
            Some(WorkflowStatus::New)
        );
        assert_eq!(s.record_state, Some(RecordState::Active));
        assert_eq!(s.note.as_ref().unwrap().text.as_deref(), Some("n"));
    }

    #[test]
    fn a_resolved_finding_is_passed_archived_and_says_why() {
        let s = to_sdk(&finding(), "arn");
        let r = resolve(s, Resolution::Gone, "2026-02-01T00:00:00Z");
        assert_eq!(
            r.compliance.as_ref().unwrap().status,
            Some(ComplianceStatus::Passed)
        );
        assert_eq!(r.record_state, Some(RecordState::Archived));
        assert_eq!(
            r.workflow.as_ref().unwrap().status,
            Some(WorkflowStatus::Resolved)
        );
        assert_eq!(r.updated_at.as_deref(), Some("2026-02-01T00:00:00Z"));
        assert_eq!(
            r.product_fields.as_ref().unwrap()["hlaudit/Resolution"],
            "data-store-gone"
        );
        let o = open(&r).unwrap();
        assert_eq!(o.region.as_deref(), Some("us-east-1"));
        assert_eq!(o.generator_id, "HL-ENC-01");
    }
}

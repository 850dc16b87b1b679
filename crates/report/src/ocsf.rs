//! OCSF Compliance Finding events (class 2003), one JSON object per line.
//!
//! The Open Cybersecurity Schema Framework is what SIEMs and security data lakes (Amazon
//! Security Lake among them) read. Every event is a Compliance Finding of OCSF
//! [`OCSF_VERSION`], stated in each event's `metadata.version`, with the cloud profile
//! (`cloud`: provider, account and region).
//!
//! The design decision that shapes the module is that an event carries the *same facts*
//! as the ASFF finding of the same pair ([`crate::asff`]): the fingerprint as
//! `finding_info.uid`, the same types, requirements, severity and status mapping. Where
//! the two differ it is on purpose:
//!
//! - every evaluated pair is written, PASS included: a data lake keeps the history of a
//!   control, and a PASS event is what shows it passing. Only SKIP pairs (a policy that
//!   does not apply) are left out;
//! - text is kept exactly as it is (JSON escapes what must be escaped) and nothing is cut:
//!   OCSF sets no length limits, and a data lake is read by programs;
//! - an unknown account or region is left out rather than an error.
//!
//! What OCSF has no attribute for (hlaudit's own status, the evidence of every failing
//! clause, the waiver, the baseline state, where a template decides the finding) is under
//! [`UNMAPPED_KEY`] in `unmapped`, the place OCSF keeps for source-specific data.
//!
//! ```
//! use hlaudit_model::report::Report;
//! use hlaudit_model::{Inventory, Timestamp};
//!
//! let report = Report::for_inventory(&Inventory::default(), Timestamp::now());
//! let mut out = Vec::new();
//! hlaudit_report::ocsf::write(&report, &Default::default(), &mut out)?;
//! assert!(out.is_empty());
//! # Ok::<(), hlaudit_report::ReportError>(())
//! ```

use std::collections::BTreeMap;
use std::io::Write;

use hlaudit_model::finding::{AppliedWaiver, BaselineState, Finding, Severity, Status};
use hlaudit_model::report::{PolicyMeta, Report};
use hlaudit_model::{Evidence, Identity, Kind, Source, Timestamp};
use serde::Serialize;

use crate::{asff, text as wording, ReportError};

/// The OCSF version the events follow.
pub const OCSF_VERSION: &str = "1.5.0";
/// The key in `unmapped` under which hlaudit's own data is.
pub const UNMAPPED_KEY: &str = "hlaudit";
/// `class_uid` of a Compliance Finding.
pub const CLASS_UID: u32 = 2003;
/// `category_uid` of the Findings category.
pub const CATEGORY_UID: u32 = 2;
/// `activity_id` Create: every event reports the finding as this run made it.
pub const ACTIVITY_ID: u32 = 1;

/// What the caller decides about the events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OcsfOptions {
    /// When the baseline the report was compared with was made, when there was one: a
    /// finding the baseline held was first seen then, a new one at the report's time.
    /// Without it `first_seen_time` and `last_seen_time` are not written.
    pub baseline_at: Option<Timestamp>,
}

/// One Compliance Finding event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OcsfEvent<'a> {
    /// [`ACTIVITY_ID`].
    pub activity_id: u32,
    /// `Create`.
    pub activity_name: &'static str,
    /// [`CATEGORY_UID`].
    pub category_uid: u32,
    /// `Findings`.
    pub category_name: &'static str,
    /// [`CLASS_UID`].
    pub class_uid: u32,
    /// `Compliance Finding`.
    pub class_name: &'static str,
    /// `class_uid * 100 + activity_id`.
    pub type_uid: u32,
    /// `Compliance Finding: Create`.
    pub type_name: &'static str,
    /// When the report was made, epoch milliseconds.
    pub time: i64,
    /// The same, RFC 3339.
    pub time_dt: String,
    /// 1 Informational to 5 Critical.
    pub severity_id: u8,
    /// The caption of `severity_id`.
    pub severity: &'static str,
    /// 1 New (FAIL, ERROR), 3 Suppressed (WAIVED), 4 Resolved (PASS).
    pub status_id: u8,
    /// The caption of `status_id`.
    pub status: &'static str,
    /// hlaudit's status, e.g. `FAIL`.
    pub status_code: &'static str,
    /// The message.
    pub message: String,
    /// The OCSF version and the product.
    pub metadata: Metadata<'a>,
    /// The finding.
    pub finding_info: FindingInfo<'a>,
    /// The policy and the requirements it maps to.
    pub compliance: Compliance<'a>,
    /// The resource (one).
    pub resources: Vec<ResourceDetails<'a>>,
    /// How to fix it, when the policy says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<Remediation<'a>>,
    /// The account and region (cloud profile).
    pub cloud: Cloud<'a>,
    /// hlaudit's own data, under [`UNMAPPED_KEY`].
    pub unmapped: BTreeMap<&'static str, Unmapped<'a>>,
}

/// `metadata`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metadata<'a> {
    /// [`OCSF_VERSION`].
    pub version: &'static str,
    /// hlaudit.
    pub product: Product<'a>,
    /// `["cloud"]`.
    pub profiles: Vec<&'static str>,
    /// The policy id.
    pub event_code: &'a str,
}

/// `metadata.product`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Product<'a> {
    /// `hlaudit`.
    pub name: &'a str,
    /// `hlaudit`.
    pub vendor_name: &'a str,
    /// The version.
    pub version: &'a str,
    /// The project's home page.
    pub url_string: &'a str,
}

/// `finding_info`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingInfo<'a> {
    /// The stable fingerprint (the ASFF `Id`).
    pub uid: String,
    /// The policy title.
    pub title: &'a str,
    /// The message and the evidence.
    pub desc: String,
    /// The ASFF types.
    pub types: Vec<String>,
    /// When the report was made, epoch milliseconds.
    pub created_time: i64,
    /// The baseline's time for a finding the baseline held, else the report's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen_time: Option<i64>,
    /// The report's time, with a baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen_time: Option<i64>,
    /// The policy's first reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_url: Option<&'a str>,
}

/// `compliance`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Compliance<'a> {
    /// The policy id.
    pub control: &'a str,
    /// What the policy checks.
    pub desc: &'a str,
    /// `FRAMEWORK CONTROL`, e.g. `HIPAA 164.312(a)(2)(iv)`.
    pub requirements: Vec<String>,
    /// The frameworks, e.g. `HIPAA`, `NIST-800-53`.
    pub standards: Vec<&'a str>,
    /// 1 Pass, 2 Warning (ERROR: no result), 3 Fail (FAIL, WAIVED).
    pub status_id: u8,
}

/// `resources[]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceDetails<'a> {
    /// The ARN of what exists; the identity key otherwise.
    pub uid: String,
    /// `AWS::HealthLake::FHIRDatastore`, `hlaudit::export-job`, ...
    #[serde(rename = "type")]
    pub type_: String,
    /// The name, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    /// The region, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<&'a str>,
    /// The partition, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_partition: Option<&'a str>,
    /// The tags, `KEY:VALUE`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Kind, id, status, source and, for a planned resource, file and address.
    pub data: BTreeMap<&'static str, String>,
}

/// `remediation`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Remediation<'a> {
    /// The policy's remediation text.
    pub desc: &'a str,
    /// The policy's references.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub references: &'a [String],
}

/// `cloud`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cloud<'a> {
    /// `AWS`.
    pub provider: &'static str,
    /// The region, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The account, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<Account<'a>>,
}

/// `cloud.account`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account<'a> {
    /// The account id.
    pub uid: &'a str,
    /// The account id (hlaudit does not know account names).
    pub name: &'a str,
    /// 10, AWS Account.
    pub type_id: u8,
    /// `AWS Account`.
    #[serde(rename = "type")]
    pub type_: &'static str,
}

/// `unmapped.hlaudit`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unmapped<'a> {
    /// hlaudit's status.
    pub status: Status,
    /// hlaudit's severity.
    pub severity: Severity,
    /// The policy id.
    pub policy: &'a str,
    /// One entry per failing clause (FAIL), or what could not be evaluated (ERROR).
    #[serde(skip_serializing_if = "<[Evidence]>::is_empty")]
    pub evidence: &'a [Evidence],
    /// The waiver, for WAIVED.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<&'a AppliedWaiver>,
    /// The state against the baseline, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineState>,
    /// Where in a template or plan the finding is decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<&'a Source>,
    /// Whether the pair depends on a value known only after deploy.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub undecided: bool,
}

/// The events of a report, in the report's order: one per FAIL, ERROR, WAIVED and PASS
/// pair.
pub fn events<'a>(
    report: &'a Report,
    options: &OcsfOptions,
) -> Result<Vec<OcsfEvent<'a>>, ReportError> {
    crate::check_policies(report)?;
    Ok(report
        .findings
        .iter()
        .filter(|f| f.status != Status::Skip)
        .map(|f| event(report, f, options))
        .collect())
}

/// Findings whose events are rendered together on one core.
const FINDINGS_PER_BATCH: usize = 4096;

/// Writes the events as JSON Lines: one compact event per line.
///
/// Events are built and rendered in batches on every core, a window of batches at a time,
/// and written in order: the bytes do not depend on the number of threads, and memory does
/// not grow with the number of findings (every event of 100,000 data stores, held at
/// once, took 10 GB).
pub fn write(
    report: &Report,
    options: &OcsfOptions,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    write_in_batches(report, options, out, FINDINGS_PER_BATCH)
}

fn write_in_batches(
    report: &Report,
    options: &OcsfOptions,
    out: &mut dyn Write,
    per_batch: usize,
) -> Result<(), ReportError> {
    crate::check_policies(report)?;
    let json = |source| ReportError::Json {
        format: "OCSF",
        source,
    };
    crate::batched::render_in_order(
        &report.findings,
        per_batch,
        |batch| {
            let mut buf = Vec::new();
            for f in batch.iter().filter(|f| f.status != Status::Skip) {
                serde_json::to_writer(&mut buf, &event(report, f, options)).map_err(json)?;
                buf.push(b'\n');
            }
            Ok(buf)
        },
        |b| out.write_all(&b).map_err(ReportError::io("OCSF")),
    )
}

/// The event of one finding.
fn event<'a>(report: &'a Report, f: &'a Finding, options: &OcsfOptions) -> OcsfEvent<'a> {
    let policy = report.policy_of(f);
    let time = millis(report.generated_at);
    let (_, region) = wording::place(report, f);
    let first_seen = options.baseline_at.map(|at| {
        let seen_before = matches!(
            f.baseline(),
            Some(BaselineState::Unchanged | BaselineState::Updated | BaselineState::Absent)
        );
        if seen_before {
            millis(at).min(time)
        } else {
            time
        }
    });
    let (status_id, status) = match f.status {
        Status::Waived => (3, "Suppressed"),
        Status::Pass | Status::Skip => (4, "Resolved"),
        Status::Fail | Status::Error => (1, "New"),
    };
    let account_ref: Option<&'a str> = match f.scope() {
        None => report.resource_of(f).and_then(|r| r.account.as_deref()),
        Some(s) => s.account.as_deref(),
    }
    .filter(|a| !a.is_empty());
    OcsfEvent {
        activity_id: ACTIVITY_ID,
        activity_name: "Create",
        category_uid: CATEGORY_UID,
        category_name: "Findings",
        class_uid: CLASS_UID,
        class_name: "Compliance Finding",
        type_uid: CLASS_UID * 100 + ACTIVITY_ID,
        type_name: "Compliance Finding: Create",
        time,
        time_dt: report.generated_at.to_rfc3339(),
        severity_id: severity_id(f.severity),
        severity: severity_caption(f.severity),
        status_id,
        status,
        status_code: f.status.as_str(),
        message: wording::message(report, f),
        metadata: Metadata {
            version: OCSF_VERSION,
            product: Product {
                name: &report.tool.name,
                vendor_name: &report.tool.name,
                version: &report.tool.version,
                url_string: &report.tool.information_uri,
            },
            profiles: vec!["cloud"],
            event_code: &policy.id,
        },
        finding_info: FindingInfo {
            uid: report.fingerprint_of(f),
            title: &policy.title,
            desc: asff::description(report, f),
            types: asff::types(policy),
            created_time: first_seen.unwrap_or(time),
            first_seen_time: first_seen,
            last_seen_time: first_seen.map(|_| time),
            src_url: policy.references.first().map(String::as_str),
        },
        compliance: compliance(policy, f.status),
        resources: vec![resource(report, f)],
        remediation: (!policy.remediation.trim().is_empty()).then_some(Remediation {
            desc: &policy.remediation,
            references: &policy.references,
        }),
        cloud: Cloud {
            provider: "AWS",
            region: region.filter(|r| !r.is_empty()),
            account: account_ref.map(|uid| Account {
                uid,
                name: uid,
                type_id: 10,
                type_: "AWS Account",
            }),
        },
        unmapped: BTreeMap::from([(
            UNMAPPED_KEY,
            Unmapped {
                status: f.status,
                severity: f.severity,
                policy: &policy.id,
                evidence: f.evidence(),
                waiver: f.waiver(),
                baseline: f.baseline(),
                location: f.location(),
                undecided: f.undecided(),
            },
        )]),
    }
}

/// Epoch milliseconds.
fn millis(t: Timestamp) -> i64 {
    t.0.timestamp_millis()
}

/// `severity_id`.
fn severity_id(s: Severity) -> u8 {
    match s {
        Severity::Info => 1,
        Severity::Low => 2,
        Severity::Medium => 3,
        Severity::High => 4,
        Severity::Critical => 5,
    }
}

/// The caption of [`severity_id`].
fn severity_caption(s: Severity) -> &'static str {
    match s {
        Severity::Info => "Informational",
        Severity::Low => "Low",
        Severity::Medium => "Medium",
        Severity::High => "High",
        Severity::Critical => "Critical",
    }
}

/// `compliance`.
fn compliance(policy: &PolicyMeta, status: Status) -> Compliance<'_> {
    let status_id = match status {
        Status::Pass => 1,
        Status::Error | Status::Skip => 2,
        Status::Fail | Status::Waived => 3,
    };
    Compliance {
        control: &policy.id,
        desc: &policy.description,
        requirements: policy
            .compliance
            .iter()
            .flat_map(|(framework, ids)| ids.iter().map(move |id| format!("{framework} {id}")))
            .collect(),
        standards: policy.compliance.keys().map(String::as_str).collect(),
        status_id,
    }
}

/// The one entry of `resources`.
fn resource<'a>(report: &'a Report, f: &Finding) -> ResourceDetails<'a> {
    let uid = report.resource_key(f);
    let Some(r) = report.resource_of(f) else {
        let what = match f.scope() {
            Some(s) => s.what.clone(),
            None => String::new(),
        };
        return ResourceDetails {
            uid,
            type_: "hlaudit::collection-scope".to_owned(),
            name: None,
            region: None,
            cloud_partition: None,
            labels: Vec::new(),
            data: BTreeMap::from([("scope", what)]),
        };
    };
    let type_ = match r.kind {
        Kind::Datastore => "AWS::HealthLake::FHIRDatastore".to_owned(),
        other => format!("hlaudit::{other}"),
    };
    let mut data = BTreeMap::from([("kind", r.kind.as_str().to_owned())]);
    let optional = [("id", &r.id), ("status", &r.status)];
    for (k, v) in optional {
        if let Some(v) = v {
            data.insert(k, v.clone());
        }
    }
    if let Some(source) = &r.source {
        data.insert("source", source.to_string());
    }
    match &r.identity {
        Identity::Arn(_) => {}
        Identity::Planned(p) => {
            data.insert("planned_in", p.file.clone());
            data.insert("address", p.address.clone());
        }
        Identity::Job(j) => {
            data.insert("datastore_id", j.datastore_id.clone());
            if let Some(arn) = r.job.as_ref().and_then(|s| s.datastore_arn.clone()) {
                data.insert("datastore_arn", arn);
            }
            if let Some(did) = r.description() {
                data.insert("job", did);
            }
        }
        // Its id, account and region are carried like any resource's.
        Identity::Profile(_) => {}
    }
    ResourceDetails {
        uid,
        type_,
        name: r.name.as_deref(),
        region: r.region.as_deref().filter(|s| !s.is_empty()),
        cloud_partition: r.partition.as_deref().filter(|s| !s.is_empty()),
        labels: r
            .tags
            .iter()
            .flatten()
            .map(|(k, v)| format!("{k}:{v}"))
            .collect(),
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::FIXTURES;

    /// The events of [`events`], one compact line each: what `write` wrote before it
    /// rendered in batches.
    fn whole(report: &Report, options: &OcsfOptions) -> Vec<u8> {
        let mut out = Vec::new();
        for e in events(report, options).unwrap() {
            serde_json::to_writer(&mut out, &e).unwrap();
            out.push(b'\n');
        }
        out
    }

    #[test]
    fn batches_write_the_events_in_order_whatever_their_size() {
        for (i, text) in FIXTURES.iter().enumerate() {
            let mut report: Report = serde_json::from_str(text).unwrap();
            // Enough findings for several windows of small batches.
            let copies = report.findings.clone();
            for _ in 0..20 {
                report.findings.extend(copies.iter().cloned());
            }
            let options = OcsfOptions {
                baseline_at: Some(report.generated_at),
            };
            let want = whole(&report, &options);
            assert!(i == 4 || !want.is_empty(), "fixture {i} has events");
            for per_batch in [1, 2, 7, FINDINGS_PER_BATCH] {
                let mut got = Vec::new();
                write_in_batches(&report, &options, &mut got, per_batch).unwrap();
                assert!(got == want, "fixture {i}, batches of {per_batch}");
            }
        }
    }
}

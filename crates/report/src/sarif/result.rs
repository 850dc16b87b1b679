//! `results[]`: one result per FAIL, ERROR and WAIVED finding.
//!
//! A result is written from a [`SarifResult`] that borrows the report's strings, rather
//! than from serde-sarif's `Result` with its owned strings and `Value` maps: an audit of
//! 100,000 data stores has half a million results, and building and dropping theirs cost
//! more than writing them. Fields are in serde-sarif's order (alphabetical), so the text is
//! the same as serde-sarif's; [`SarifResult::typed`] reads one back into serde-sarif's type
//! and a test checks that nothing is lost on the way.

use std::borrow::Cow;

use hlaudit_model::finding::{BaselineState, Evidence, Finding, Status};
use hlaudit_model::report::Report;
use hlaudit_model::Source;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_sarif::sarif as s;

use super::location::{is_file, Physical, Uris};
use super::{level, security_severity, FINGERPRINT_KEY};
use crate::text;

/// A SARIF `result`, borrowing from the report.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SarifResult<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<s::ResultKind>,
    level: s::ResultLevel,
    locations: [Location<'a>; 1],
    message: Message,
    partial_fingerprints: Fingerprint,
    properties: Properties<'a>,
    rule_id: &'a str,
    rule_index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressions: Option<[Suppression; 1]>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    logical_locations: Option<[Logical<'a>; 1]>,
    physical_location: Physical,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Logical<'a> {
    fully_qualified_name: Cow<'a, str>,
    kind: &'static str,
    name: Cow<'a, str>,
}

#[derive(Debug, Serialize)]
struct Message {
    text: String,
}

/// `partialFingerprints`: the one key [`FINGERPRINT_KEY`].
#[derive(Debug)]
struct Fingerprint(String);

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(FINGERPRINT_KEY, &self.0)?;
        map.end()
    }
}

/// The result's `properties`, in the order of their keys (a property bag is a map, which
/// serde-sarif writes sorted).
#[derive(Debug, Serialize)]
struct Properties<'a> {
    #[serde(rename = "accountId", skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
    #[serde(skip_serializing_if = "EvidenceList::is_empty")]
    evidence: EvidenceList<'a>,
    /// Jobs only (rare): written through a `Value`, as a map with sorted keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    job: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    #[serde(rename = "resourceKind", skip_serializing_if = "Option::is_none")]
    resource_kind: Option<&'static str>,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
    severity: &'static str,
    status: &'static str,
}

/// A finding's evidence, each entry with its keys sorted (as a property's value is a map).
#[derive(Debug)]
struct EvidenceList<'a>(&'a [Evidence]);

impl EvidenceList<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for EvidenceList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Sorted<'a> {
            expected: &'a str,
            found: &'a Option<serde_json::Value>,
            #[serde(skip_serializing_if = "Option::is_none")]
            note: Option<&'a str>,
            pointer: &'a str,
        }
        serializer.collect_seq(self.0.iter().map(|e| Sorted {
            expected: &e.expected,
            found: &e.found,
            note: e.note.as_deref(),
            pointer: &e.pointer,
        }))
    }
}

#[derive(Debug, Serialize)]
struct Suppression {
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<String>,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<SuppressionLocation>,
    status: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SuppressionLocation {
    physical_location: Physical,
}

impl<'a> SarifResult<'a> {
    /// The result of a finding.
    pub(super) fn new(report: &'a Report, uris: &mut Uris<'a>, f: &'a Finding) -> Self {
        let policy = report.policy_of(f);
        let resource = report.resource_of(f);
        let logical = resource.map(|r| {
            let name = match r.description() {
                Some(d) => Cow::Owned(d),
                None => match (&r.name, &r.id) {
                    (Some(n), _) | (None, Some(n)) => Cow::Borrowed(n.as_str()),
                    (None, None) => Cow::Owned(r.label()),
                },
            };
            [Logical {
                fully_qualified_name: r.key(),
                kind: "resource",
                name,
            }]
        });
        let (account, region) = text::place_of(report, f);
        let level = match f.status {
            Status::Error => s::ResultLevel::Error,
            // Only a fixed (baseline `absent`) finding gets here with PASS or SKIP.
            Status::Pass | Status::Skip => s::ResultLevel::None,
            Status::Fail | Status::Waived => level(f.severity),
        };
        SarifResult {
            baseline_state: f.baseline().map(|b| match b {
                BaselineState::New => "new",
                BaselineState::Unchanged => "unchanged",
                BaselineState::Updated => "updated",
                BaselineState::Absent => "absent",
            }),
            kind: matches!(f.status, Status::Pass | Status::Skip).then_some(s::ResultKind::Pass),
            level,
            locations: [Location {
                logical_locations: logical,
                physical_location: physical(report, uris, f),
            }],
            message: Message {
                text: message(report, f),
            },
            partial_fingerprints: Fingerprint(report.fingerprint_of(f)),
            properties: Properties {
                account_id: account,
                evidence: EvidenceList(f.evidence()),
                job: resource
                    .and_then(|r| r.job.as_ref())
                    .and_then(|j| serde_json::to_value(j).ok()),
                region,
                resource_kind: resource.map(|r| r.kind.as_str()),
                security_severity: security_severity(f.severity),
                severity: f.severity.as_str(),
                status: f.status.as_str(),
            },
            rule_id: &policy.id,
            rule_index: f.policy_index(),
            suppressions: suppression(uris, f).map(|s| [s]),
        }
    }

    /// The same result as serde-sarif's type (for [`super::logs`]).
    pub(super) fn typed(&self) -> serde_json::Result<s::Result> {
        serde_json::from_value(serde_json::to_value(self)?)
    }
}

/// The message, and each piece of evidence, as sentences of their own.
fn message(report: &Report, f: &Finding) -> String {
    let mut message = text::message(report, f);
    let message_end = message.trim_end().len();
    message.truncate(message_end);
    if !message.ends_with(['.', '!', '?']) {
        message.push('.');
    }
    for e in f.evidence() {
        let at = if e.pointer.is_empty() {
            "the record"
        } else {
            &*e.pointer
        };
        // ` At {at}, found {found}; expected {expected}{note}.`, without a `format!`
        // per piece (a large audit has millions).
        let found = text::found(e.found.as_ref());
        for piece in [" At ", at, ", found ", &found, "; expected ", &e.expected] {
            message.push_str(piece);
        }
        message.push_str(&text::note(e));
        message.push('.');
    }
    message
}

/// Where the result points: the template line that decided a planned data store's
/// finding, else the snapshot line the data store was read from, else the policy's line,
/// else the first input file (or the fallback file).
fn physical<'a>(report: &'a Report, uris: &mut Uris<'a>, f: &'a Finding) -> Physical {
    let resource = report.resource_of(f);
    let source: Option<&Source> = f
        .location()
        .filter(|s| is_file(&s.file))
        .or_else(|| {
            resource
                .and_then(|r| r.source.as_ref())
                .filter(|s| is_file(&s.file))
        })
        .or(report
            .policy_of(f)
            .source
            .as_ref()
            .filter(|s| is_file(&s.file)));
    match source {
        // Only a template location has a meaningful column (a record's is its brace).
        Some(src) => {
            let column = if f.location().is_some() {
                src.column
            } else {
                0
            };
            uris.physical(&src.file, src.line, column)
        }
        None => match report.coverage.inputs.iter().find(|i| is_file(i)) {
            Some(input) => uris.physical(input, 0, 0),
            None => uris.physical(uris.fallback(), 0, 0),
        },
    }
}

/// A waived finding's suppression: the waiver's reason, approver, expiry and line.
fn suppression<'a>(uris: &mut Uris<'a>, f: &'a Finding) -> Option<Suppression> {
    let accepted = |justification, location| Suppression {
        justification,
        kind: "external",
        location,
        status: "accepted",
    };
    match f.waiver() {
        Some(w) => {
            let mut justification = format!("{} (approved by {}", w.reason, w.approved_by);
            match &w.expires {
                Some(date) => justification.push_str(&format!(", expires {date})")),
                None => justification.push(')'),
            }
            let location = is_file(&w.source.file).then(|| SuppressionLocation {
                physical_location: uris.physical(&w.source.file, w.source.line, 0),
            });
            Some(accepted(Some(justification), location))
        }
        None if f.status == Status::Waived => Some(accepted(None, None)),
        None => None,
    }
}

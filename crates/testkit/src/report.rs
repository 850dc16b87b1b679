//! hlaudit's JSON report (`check --format json`), typed for tests.
//!
//! The shapes follow `docs/report.schema.json`. Every field defaults when absent and
//! unknown fields are ignored, so additive changes to the report do not break tests;
//! [`Report::parse`] still insists on `hlauditReport`, so a test never passes by reading
//! something that is not a report at all.
//!
//! A version 3 report writes PASS and SKIP pairs with nothing more to say in its compact
//! section (`outcomes` and `resources`). [`Report::parse`] rebuilds them as findings the
//! way the schema says (fingerprint, policy, status, severity, resource), so
//! [`Report::findings`] holds every pair whatever the version, and each rebuilt finding is
//! marked [`Finding::compact`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A whole report.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Report {
    /// The format version (`hlauditReport`, 1, 2 or 3); `None` only when the text is not
    /// a report.
    pub hlaudit_report: Option<u64>,
    /// The tool that wrote it.
    pub tool: Tool,
    /// When the report was made.
    pub generated_at: String,
    /// The time policies were evaluated at.
    pub evaluated_at: String,
    /// Counts.
    pub summary: Summary,
    /// What the input covered.
    pub coverage: Coverage,
    /// The policies evaluated.
    pub policies: Vec<Policy>,
    /// The compliance view, when the report has one.
    pub compliance: Option<Compliance>,
    /// Every (policy, resource) pair, sorted by (policy id, resource key): the findings
    /// written in full and, from version 3, the compact section's pairs rebuilt.
    pub findings: Vec<Finding>,
    /// Version 3: per policy, the resources it passes and skips, as written.
    pub outcomes: Vec<Outcomes>,
    /// Version 3: every resource, as written; `outcomes` index it.
    pub resources: Vec<Resource>,
    /// Collection errors.
    pub errors: Vec<CollectionError>,
    /// Warnings about the input.
    pub warnings: Vec<Warning>,
}

/// The compact pairs of one policy (version 3).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Outcomes {
    /// The policy id.
    pub policy: String,
    /// The severity of every pair.
    pub severity: Severity,
    /// Indices into [`Report::resources`] of what the policy passes.
    pub pass: Vec<usize>,
    /// Indices of what it skips.
    pub skip: Vec<usize>,
}

impl Report {
    /// Parses a report.
    ///
    /// # Panics
    /// When `text` is not JSON or has no `hlauditReport`: the panic shows the text.
    pub fn parse(text: &str) -> Report {
        let mut report: Report = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("not a JSON report ({e}):\n{text}"));
        assert!(
            report.hlaudit_report.is_some(),
            "JSON without `hlauditReport`, so not a report:\n{text}"
        );
        report.rebuild_compact_pairs();
        report
    }

    /// Adds the compact section's pairs to `findings` as the schema describes them and
    /// sorts every finding into report order.
    ///
    /// # Panics
    /// When a pair names a policy or resource the report does not list.
    fn rebuild_compact_pairs(&mut self) {
        if self.outcomes.is_empty() {
            return;
        }
        let mut rebuilt = Vec::new();
        for o in &self.outcomes {
            let title = &self
                .policies
                .iter()
                .find(|p| p.id == o.policy)
                .unwrap_or_else(|| panic!("outcomes name an unknown policy {}", o.policy))
                .title;
            for (status, list) in [(Status::Pass, &o.pass), (Status::Skip, &o.skip)] {
                for &i in list {
                    let resource = self.resources.get(i).unwrap_or_else(|| {
                        panic!(
                            "{} names resource {i} of {}",
                            o.policy,
                            self.resources.len()
                        )
                    });
                    rebuilt.push(Finding {
                        fingerprint: fingerprint(&o.policy, &resource.key()),
                        policy: PolicyRef {
                            id: o.policy.clone(),
                            title: title.clone(),
                        },
                        status,
                        severity: o.severity,
                        resource: Some(resource.clone()),
                        compact: true,
                        ..Finding::default()
                    });
                }
            }
        }
        self.findings.extend(rebuilt);
        // Stable: the findings written in full are in report order already.
        self.findings
            .sort_by_cached_key(|f| (f.policy.id.clone(), f.key()));
    }

    /// Reads and parses the report in `path`.
    ///
    /// # Panics
    /// When the file cannot be read or is not a report.
    pub fn read(path: impl AsRef<Path>) -> Report {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("no report at {} ({e})", path.display()));
        Report::parse(&text)
    }

    /// The findings of one policy, in report order.
    pub fn findings_of<'a>(&'a self, policy: &'a str) -> impl Iterator<Item = &'a Finding> {
        self.findings.iter().filter(move |f| f.policy.id == policy)
    }

    /// The findings with a status, in report order.
    pub fn with_status(&self, status: Status) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.status == status)
    }
}

/// The tool that wrote a report.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Tool {
    /// `hlaudit`.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Where to read about it.
    pub information_uri: String,
}

/// The counts of a report.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Summary {
    /// Data stores read.
    pub data_stores: u64,
    /// Policies evaluated.
    pub policies: u64,
    /// Findings per status (`PASS`, ...); every status is present.
    pub by_status: BTreeMap<String, u64>,
    /// FAIL findings per severity (`high`, ...); every severity is present.
    pub failures_by_severity: BTreeMap<String, u64>,
    /// Whether anything could not be collected, read or evaluated.
    pub incomplete: bool,
    /// Pairs about planned data stores that depend on a value known only after deploy.
    pub undecided: u64,
    /// Why nothing was checked (`no-data-stores`, ...), when nothing was.
    pub nothing_checked: Option<String>,
}

/// What the input of a report covered.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Coverage {
    /// Accounts covered.
    pub accounts: Vec<String>,
    /// Regions covered.
    pub regions: Vec<String>,
    /// When the data was collected.
    pub collected_at: Option<String>,
    /// The hlaudit version that collected it.
    pub tool_version: Option<String>,
    /// The inputs as named.
    pub inputs: Vec<String>,
}

/// A policy as a report lists it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Policy {
    /// Its id (`HL-ENC-01`).
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its severity.
    pub severity: Severity,
    /// What it checks.
    pub description: String,
    /// Why it matters.
    pub rationale: Option<String>,
    /// How to fix a failure.
    pub remediation: Option<String>,
    /// Links.
    pub references: Vec<String>,
    /// Framework name to control ids.
    pub compliance: BTreeMap<String, Vec<String>>,
    /// Its tags.
    pub tags: Vec<String>,
    /// Where it is defined.
    pub source: Option<Source>,
}

/// The compliance view: every control of every framework.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Compliance {
    /// The frameworks, sorted by name.
    pub frameworks: Vec<Framework>,
}

impl Compliance {
    /// Control `id` of `framework`, if listed.
    pub fn control(&self, framework: &str, id: &str) -> Option<&Control> {
        self.frameworks
            .iter()
            .find(|f| f.framework == framework)?
            .controls
            .iter()
            .find(|c| c.id == id)
    }
}

/// One framework of the compliance view.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Framework {
    /// Its name as policies spell it (`HIPAA`).
    pub framework: String,
    /// Its full title.
    pub title: String,
    /// What its catalogue lists.
    pub scope: String,
    /// Its controls, in the catalogue's order.
    pub controls: Vec<Control>,
}

/// One control of the compliance view.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Control {
    /// Its id (`164.312(a)(2)(iv)`).
    pub id: String,
    /// Its title.
    pub title: String,
    /// `failing`, `passing`, `not-evaluated` or `not-covered`.
    pub status: String,
    /// The evaluated policies that map to it.
    pub policies: Vec<String>,
    /// (policy, resource) pairs by outcome.
    pub counts: ControlCounts,
}

/// (policy, resource) pairs of a control by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ControlCounts {
    /// PASS.
    pub passing: usize,
    /// FAIL.
    pub failing: usize,
    /// WAIVED.
    pub waived: usize,
    /// ERROR.
    pub erroring: usize,
    /// SKIP.
    pub not_evaluated: usize,
}

/// One finding.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Finding {
    /// Stable across runs.
    pub fingerprint: String,
    /// The policy.
    pub policy: PolicyRef,
    /// The outcome.
    pub status: Status,
    /// The policy's severity.
    pub severity: Severity,
    /// What happened, for people.
    pub message: String,
    /// The data store checked (absent for a finding about a scope).
    pub resource: Option<Resource>,
    /// The account, region or input checked, for a finding not about one data store.
    pub scope: Option<Scope>,
    /// What was found against what was expected, per failing clause.
    pub evidence: Vec<Evidence>,
    /// For a planned data store: the template or plan line that decided it.
    pub location: Option<Source>,
    /// For a planned data store: the pair depends on a value known only after deploy.
    pub undecided: bool,
    /// The waiver that applies.
    pub waiver: Option<Waiver>,
    /// The finding's state against a baseline (`new`, `unchanged`, `updated`, `absent`).
    pub baseline: Option<String>,
    /// Whether the report wrote this pair in its compact section (version 3), not as a
    /// finding: [`Report::parse`] rebuilt it.
    #[serde(skip)]
    pub compact: bool,
}

/// The fingerprint of a pair as the schema defines it: the first 16 bytes of the SHA-256
/// of the policy id, a zero byte and the resource key, in lower-case hex.
pub fn fingerprint(policy: &str, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(policy.as_bytes());
    h.update([0u8]);
    h.update(key.as_bytes());
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Finding {
    /// The key the finding is matched on: its resource's key, or `account/region/what` of
    /// its scope (`*` for what is unknown).
    pub fn key(&self) -> String {
        match (&self.resource, &self.scope) {
            (Some(r), _) => r.key(),
            (None, Some(s)) => format!(
                "{}/{}/{}",
                s.account.as_deref().unwrap_or("*"),
                s.region.as_deref().unwrap_or("*"),
                s.what
            ),
            (None, None) => String::new(),
        }
    }

    /// The data store checked.
    ///
    /// # Panics
    /// When the finding is about a scope, not a data store.
    pub fn resource(&self) -> &Resource {
        self.resource
            .as_ref()
            .unwrap_or_else(|| panic!("finding without a resource: {self:?}"))
    }
}

/// The policy a finding is about.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PolicyRef {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
}

/// The resource a finding is about.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Resource {
    /// What it is (`datastore`, ...; version 2 on).
    pub kind: Option<String>,
    /// What identifies it (`{"arn": ...}` for an existing data store; version 2 on).
    pub identity: Option<Value>,
    /// Its ARN (empty when it has none).
    pub arn: String,
    /// Its `DatastoreId`.
    pub id: String,
    /// Its `DatastoreName`.
    pub name: Option<String>,
    /// Its account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// Its `DatastoreStatus`.
    pub status: Option<String>,
    /// Where it was read.
    pub source: Option<Source>,
    /// Its tags, when they were collected.
    pub tags: Option<BTreeMap<String, String>>,
}

impl Resource {
    /// The resource's key, as docs/model.md defines it from its identity: the ARN,
    /// `FILE#ADDRESS` of a planned data store, `DATASTORE_ID/KIND/JOB_ID` of a job,
    /// `ACCOUNT/REGION/KIND/PROFILE_ID` of a profile (`?` for what is unknown). A version
    /// 1 resource, without identity, is known by its ARN.
    ///
    /// # Panics
    /// On an identity of no known form.
    pub fn key(&self) -> String {
        let kind = self.kind.as_deref().unwrap_or("datastore");
        let Some(identity) = &self.identity else {
            return self.arn.clone();
        };
        let s = |v: &Value, name: &str| v[name].as_str().unwrap_or("?").to_owned();
        if let Some(arn) = identity["arn"].as_str() {
            arn.to_owned()
        } else if let Some(p) = identity.get("planned") {
            format!("{}#{}", s(p, "file"), s(p, "address"))
        } else if let Some(j) = identity.get("job") {
            format!("{}/{kind}/{}", s(j, "datastoreId"), s(j, "jobId"))
        } else if let Some(p) = identity.get("profile") {
            let (a, r) = (s(p, "account"), s(p, "region"));
            format!("{a}/{r}/{kind}/{}", s(p, "profileId"))
        } else {
            panic!("an identity of no known form: {identity}")
        }
    }
}

/// What a finding not about one data store is about.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Scope {
    /// The account.
    pub account: Option<String>,
    /// The region.
    pub region: Option<String>,
    /// What was checked there.
    pub what: String,
}

/// One failing clause of a finding.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Evidence {
    /// JSON pointer into the record; context values start with `/@`.
    pub pointer: String,
    /// The value found; `None` when the attribute is missing.
    pub found: Option<Value>,
    /// What was expected, for people.
    pub expected: String,
    /// What else to know about the value (a default that applies).
    pub note: Option<String>,
}

/// A waiver applied to a finding.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Waiver {
    /// Where the waiver is written.
    pub source: Source,
    /// Why.
    pub reason: String,
    /// Who approved it.
    pub approved_by: String,
    /// When it ends (`YYYY-MM-DD`).
    pub expires: Option<String>,
}

/// A place in a file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Source {
    /// The file as named; `-` for standard input.
    pub file: String,
    /// 1-based; 0 when unknown.
    pub line: u64,
    /// 1-based; 0 when unknown.
    pub column: u64,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Something that could not be collected.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CollectionError {
    /// The account.
    pub account: Option<String>,
    /// The region.
    pub region: Option<String>,
    /// The API operation.
    pub operation: String,
    /// The resource it was about.
    pub resource: Option<String>,
    /// A stable code.
    pub code: String,
    /// What happened.
    pub message: String,
}

/// A warning about the input.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Warning {
    /// A stable code.
    pub code: String,
    /// What it is about.
    pub message: String,
    /// Where.
    pub source: Option<Source>,
}

/// The outcome of a finding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// The policy holds.
    Pass,
    /// The policy does not hold.
    Fail,
    /// The policy does not apply.
    Skip,
    /// The policy could not be evaluated.
    Error,
    /// A failure a waiver covers.
    Waived,
    /// A status this reader does not know (or none).
    #[default]
    #[serde(other)]
    Other,
}

impl Status {
    /// The status as the report writes it (`FAIL`); `?` for [`Other`](Status::Other).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
            Status::Error => "ERROR",
            Status::Waived => "WAIVED",
            Status::Other => "?",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much a policy matters; ordered from [`Other`](Severity::Other) (lowest) to
/// [`Critical`](Severity::Critical).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// `info`.
    Info,
    /// `low`.
    Low,
    /// `medium`.
    Medium,
    /// `high`.
    High,
    /// `critical`.
    Critical,
    /// A severity this reader does not know (or none); below every other.
    #[default]
    #[serde(other)]
    Other,
}

impl Severity {
    fn rank(self) -> u8 {
        match self {
            Severity::Other => 0,
            Severity::Info => 1,
            Severity::Low => 2,
            Severity::Medium => 3,
            Severity::High => 4,
            Severity::Critical => 5,
        }
    }
}

impl PartialOrd for Severity {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Severity {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON reports the report crate pins (insta snapshots with a front matter).
    fn pinned_reports() -> Vec<(String, String)> {
        let dir = crate::repo_root().join("crates/report/tests/report/snapshots");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            // The JSON reporter's snapshots; the same folder pins ASFF arrays too.
            if !(name.starts_with("report__formats__") && name.ends_with(".json.snap")) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let body = text.splitn(3, "---\n").nth(2).unwrap().to_owned();
            out.push((name, body));
        }
        assert!(out.len() >= 3, "{out:?}");
        out
    }

    #[test]
    fn the_typed_report_reads_what_the_untyped_one_does() {
        for (name, text) in pinned_reports() {
            let typed = Report::parse(&text);
            let raw: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                typed.hlaudit_report,
                raw["hlauditReport"].as_u64(),
                "{name}"
            );
            assert_eq!(typed.tool.name, "hlaudit", "{name}");
            let written: Vec<&Finding> = typed.findings.iter().filter(|f| !f.compact).collect();
            let raw_findings = raw["findings"].as_array().unwrap();
            assert_eq!(written.len(), raw_findings.len());
            let counted: u64 = typed.summary.by_status.values().sum();
            assert_eq!(counted as usize, typed.findings.len(), "{name}");
            // Findings are sorted into report order (the fixtures are written by hand).
            for f in written {
                let r = raw_findings
                    .iter()
                    .find(|r| r["fingerprint"] == f.fingerprint.as_str())
                    .unwrap();
                assert_eq!(f.policy.id, r["policy"]["id"], "{name}");
                assert_ne!(f.status, Status::Other, "{name}: {r}");
                assert_ne!(f.severity, Severity::Other, "{name}: {r}");
                assert_eq!(f.resource.is_some(), r.get("resource").is_some(), "{name}");
                assert_eq!(f.scope.is_some(), r.get("scope").is_some(), "{name}");
                assert_eq!(f.evidence.len(), r["evidence"].as_array().unwrap().len());
                if let Some(res) = &f.resource {
                    let arn = r["resource"]["arn"].as_str().unwrap_or_default();
                    assert_eq!(res.arn, arn, "{name}");
                    assert_eq!(res.kind.as_deref(), r["resource"]["kind"].as_str());
                }
                if let Some(w) = &f.waiver {
                    assert_eq!(w.approved_by, r["waiver"]["approvedBy"], "{name}");
                }
            }
            for status in [Status::Fail, Status::Pass, Status::Skip] {
                let n = typed.with_status(status).count() as u64;
                let key = status.as_str();
                assert_eq!(typed.summary.by_status.get(key), Some(&n), "{name} {key}");
            }
            assert_eq!(
                typed.policies.len(),
                raw["policies"].as_array().unwrap().len()
            );
        }
    }

    #[test]
    fn rebuilt_pairs_are_the_ones_hlaudit_reads() {
        // The typed report follows the schema on its own; hlaudit's reader must agree
        // with it on every pair, fingerprints included.
        let mut compact = 0;
        for (name, text) in pinned_reports() {
            let typed = Report::parse(&text);
            let ours = hlaudit_report::json::read(&mut text.as_bytes())
                .unwrap()
                .every_finding()
                .unwrap();
            assert_eq!(typed.findings.len(), ours.len(), "{name}");
            for (t, o) in typed.findings.iter().zip(&ours) {
                assert_eq!(t.fingerprint, o.fingerprint, "{name}");
                assert_eq!(t.policy.id, o.policy.id, "{name}");
                assert_eq!(t.policy.title, o.policy.title, "{name}");
                assert_eq!(t.status.as_str(), o.status.as_str(), "{name}");
                assert_eq!(t.key(), o.resource_key(), "{name}");
            }
            compact += typed.findings.iter().filter(|f| f.compact).count();
        }
        assert!(compact > 10, "{compact}");
    }

    #[test]
    fn unknown_fields_and_values_are_tolerated_but_a_report_is_required() {
        let r = Report::parse(
            r#"{"hlauditReport": 1, "addedLater": [1], "findings": [
                {"policy": {"id": "X"}, "status": "LATER", "severity": "urgent", "new": 1}]}"#,
        );
        assert_eq!(r.findings[0].status, Status::Other);
        assert_eq!(r.findings[0].severity, Severity::Other);
        assert_eq!(r.findings_of("X").count(), 1);
        assert!(Severity::Critical > Severity::High && Severity::Info > Severity::Other);
        let not_a_report = std::panic::catch_unwind(|| Report::parse("{\"findings\": []}"));
        assert!(not_a_report.is_err());
    }
}

//! The domain [`Report`] every reporter renders: policies, resources, findings and what the
//! audit could not see. Reporters only read it; nothing in it is evaluated again.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::finding::{fingerprint, Finding, FingerprintText, Severity, Status, Subject};
use crate::identity::Identity;
use crate::inventory::{CollectionError, Coverage, Inventory, Warning};
use crate::kind::Kind;
use crate::record::{Record, Source};
use crate::timestamp::Timestamp;

/// The name and version of the tool, for report headers and SARIF `tool.driver`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolInfo {
    /// `hlaudit`.
    pub name: String,
    /// The version.
    pub version: String,
    /// The project's home page.
    pub information_uri: String,
}

impl Default for ToolInfo {
    fn default() -> Self {
        ToolInfo {
            name: "hlaudit".to_owned(),
            version: crate::TOOL_VERSION.to_owned(),
            information_uri: "https://github.com/hlaudit/hlaudit".to_owned(),
        }
    }
}

/// What a reporter needs to know about a policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyMeta {
    /// Stable id, e.g. `HL-ENC-01`.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// The effective default severity (after overrides).
    pub severity: Severity,
    /// What the policy checks.
    pub description: String,
    /// Why it matters.
    #[serde(default)]
    pub rationale: String,
    /// How to fix a violation.
    #[serde(default)]
    pub remediation: String,
    /// Reference URLs.
    #[serde(default)]
    pub references: Vec<String>,
    /// Framework name -> control ids, e.g. `HIPAA` -> `["164.312(a)(2)(iv)"]`.
    #[serde(default)]
    pub compliance: BTreeMap<String, Vec<String>>,
    /// Free-form tags, e.g. `encryption`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Where the policy is defined (a file in `rules/` for the built-in pack).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

impl PolicyMeta {
    /// The pseudo-policy under which collection and input errors are reported.
    pub fn collection_error() -> Self {
        PolicyMeta {
            id: COLLECTION_ERROR_ID.to_owned(),
            title: "Part of the inventory could not be collected or read".to_owned(),
            severity: Severity::High,
            description: "A region, page, tag list or input that the audit needed could not be \
                          read, so data stores may be missing from the audit."
                .to_owned(),
            rationale: "An audit that silently skips what it could not see gives false \
                        assurance; hlaudit fails closed instead."
                .to_owned(),
            remediation: "Fix the access or input problem named in the message (permissions, \
                          throttling, network, file) and run the audit again."
                .to_owned(),
            references: Vec::new(),
            compliance: BTreeMap::new(),
            tags: vec!["collection".to_owned()],
            source: None,
        }
    }
}

/// The policy id of collection and input errors.
pub const COLLECTION_ERROR_ID: &str = "HLAUDIT-COLLECTION";

/// What a reporter needs to know about a resource (a data store, existing or planned, or a
/// job).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// What it is.
    #[serde(default, skip_serializing_if = "Kind::is_default")]
    pub kind: Kind,
    /// Which resource it is; findings are keyed on it.
    pub identity: Identity,
    /// Its own id (`DatastoreId`, `JobId`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `DatastoreName` or `JobName`, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Account, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Region, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Partition, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// `DatastoreStatus` or `JobStatus`, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Where the record was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// The resource's tags; `None` when they were not collected (waivers scoped by tag
    /// match on them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// For an export or import job: its data store, and where and when it moved data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<Box<JobSummary>>,
}

/// What a reader needs to know of a job to recognise it: "export of clinical-prod (ARN)
/// to s3://x on DATE".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSummary {
    /// The `DatastoreId` the job names.
    pub datastore_id: String,
    /// Its data store's `DatastoreName`, when the data store is in the inventory and has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datastore_name: Option<String>,
    /// Its data store's ARN, when the data store is in the inventory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datastore_arn: Option<String>,
    /// Where the job moved data: an export's `OutputDataConfig.S3Configuration.S3Uri`, an
    /// import's `InputDataConfig.S3Uri`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_uri: Option<String>,
    /// `SubmitTime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted: Option<Timestamp>,
}

impl JobSummary {
    /// The summary of `job`, whose data store (see [`crate::link`]) is `datastore`.
    pub fn of(job: &Record, datastore: Option<&Record>) -> Option<Self> {
        let Identity::Job(j) = job.identity() else {
            return None;
        };
        let properties = job.properties();
        let s3_uri = match job.kind() {
            Kind::ExportJob => &properties["OutputDataConfig"]["S3Configuration"]["S3Uri"],
            _ => &properties["InputDataConfig"]["S3Uri"],
        };
        Some(JobSummary {
            datastore_id: j.datastore_id.clone(),
            datastore_name: datastore.and_then(Record::name).map(str::to_owned),
            datastore_arn: datastore.and_then(Record::arn).map(str::to_owned),
            s3_uri: s3_uri.as_str().map(str::to_owned),
            submitted: job.created_at(),
        })
    }
}

impl Resource {
    /// An existing data store known by its ARN, with the context the ARN names (the
    /// shape every resource had before kinds existed; convenient in tests).
    pub fn datastore(arn: &str) -> Self {
        let parts = crate::Arn::parse(arn).ok();
        let part = |f: fn(&crate::Arn) -> &String| parts.as_ref().map(|p| f(p).clone());
        Resource {
            kind: Kind::Datastore,
            identity: Identity::Arn(arn.to_owned()),
            id: parts
                .as_ref()
                .and_then(|p| p.resource.rsplit('/').next().map(str::to_owned)),
            name: None,
            account: part(|p| &p.account),
            region: part(|p| &p.region),
            partition: part(|p| &p.partition),
            status: None,
            source: None,
            tags: None,
            job: None,
        }
    }

    /// The key findings on it are matched on across runs (see [`Identity::key`]).
    pub fn key(&self) -> std::borrow::Cow<'_, str> {
        self.identity.key(self.kind)
    }

    /// The ARN, for what exists and has one.
    pub fn arn(&self) -> Option<&str> {
        self.identity.arn()
    }

    /// How a message names it: the ARN of what exists, `ADDRESS in FILE` for what is
    /// planned, `job ID of data store ID` for a job.
    pub fn label(&self) -> String {
        self.identity.to_string()
    }

    /// For a job, what it did, as people recognise it: `export of clinical-prod
    /// (ARN) to s3://x/ on 2026-11-20` (`import into ... from ...`); `data store ID (not in
    /// the inventory)` when its data store is unknown.
    ///
    /// ```
    /// use hlaudit_model::report::{JobSummary, Resource};
    /// use hlaudit_model::{identity::{Identity, JobOf}, Kind, Timestamp};
    /// let mut r = Resource::datastore("arn:aws:healthlake:us-east-1:1:datastore/fhir/a");
    /// r.kind = Kind::ExportJob;
    /// r.identity = Identity::Job(Box::new(JobOf { datastore_id: "a".into(), job_id: "j".into() }));
    /// r.job = Some(Box::new(JobSummary {
    ///     datastore_id: "a".into(),
    ///     datastore_name: Some("clinical-prod".into()),
    ///     datastore_arn: Some("arn:aws:healthlake:us-east-1:1:datastore/fhir/a".into()),
    ///     s3_uri: Some("s3://x/".into()),
    ///     submitted: Timestamp::parse("2026-11-20T02:00:00Z").ok(),
    /// }));
    /// assert_eq!(
    ///     r.description().unwrap(),
    ///     "export of clinical-prod (arn:aws:healthlake:us-east-1:1:datastore/fhir/a) to s3://x/ on 2026-11-20"
    /// );
    /// ```
    pub fn description(&self) -> Option<String> {
        let j = self.job.as_ref()?;
        let store = match (&j.datastore_name, &j.datastore_arn) {
            (Some(n), Some(a)) if !n.is_empty() => format!("{n} ({a})"),
            (_, Some(a)) => a.clone(),
            _ => format!("data store {} (not in the inventory)", j.datastore_id),
        };
        let (what, to) = match self.kind {
            Kind::ImportJob => ("import into", "from"),
            _ => ("export of", "to"),
        };
        let mut s = format!("{what} {store}");
        if let Some(uri) = &j.s3_uri {
            s.push_str(&format!(" {to} {uri}"));
        }
        if let Some(t) = j.submitted {
            let day = t.to_rfc3339();
            s.push_str(&format!(" on {}", day.get(..10).unwrap_or(&day)));
        }
        Some(s)
    }
}

impl From<&Record> for Resource {
    fn from(r: &Record) -> Self {
        let context = r.context();
        Resource {
            kind: r.kind(),
            identity: r.identity().clone(),
            id: r.id().map(str::to_owned),
            name: r.name().map(str::to_owned),
            account: context.account.clone(),
            region: context.region.clone(),
            partition: context.partition.clone(),
            status: r.status().map(str::to_owned),
            source: r.source.clone(),
            tags: r.tags.clone(),
            job: None,
        }
    }
}

/// Everything one audit found, ready to render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The tool.
    pub tool: ToolInfo,
    /// When the report was made (pinned in tests).
    pub generated_at: Timestamp,
    /// The evaluation time policies were evaluated at (`--as-of`, else the run's start).
    pub evaluated_at: Timestamp,
    /// The policies evaluated, in the order findings refer to them.
    pub policies: Vec<PolicyMeta>,
    /// The data stores evaluated, in the order findings refer to them.
    pub resources: Vec<Resource>,
    /// Findings sorted by (policy id, resource ARN or scope).
    pub findings: Vec<Finding>,
    /// What the audit covered.
    pub coverage: Coverage,
    /// What could not be collected or read (each also an ERROR finding).
    pub errors: Vec<CollectionError>,
    /// Warnings that did not stop the audit.
    pub warnings: Vec<Warning>,
}

/// Why an audit checked nothing. A gate that evaluated no policy on any data store must
/// not pass quietly: an empty export, a wrong region or account, or a selection that
/// applies to nothing looks exactly like a clean audit otherwise. Every report says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NothingChecked {
    /// The inventory holds no data store at all.
    NoDataStores,
    /// No policy was evaluated.
    NoPolicies,
    /// Every policy was skipped on every data store: none applies to any of them.
    NothingApplies,
}

impl NothingChecked {
    /// The stable kebab-case code, e.g. `no-data-stores` (the JSON report's value).
    pub fn code(self) -> &'static str {
        match self {
            NothingChecked::NoDataStores => "no-data-stores",
            NothingChecked::NoPolicies => "no-policies",
            NothingChecked::NothingApplies => "nothing-applies",
        }
    }

    /// Why, in words: the end of [`NothingChecked::message`].
    pub fn reason(self) -> &'static str {
        match self {
            NothingChecked::NoDataStores => {
                "the input holds no data store. An empty export, a wrong region or account, \
                 or missing permissions look like this."
            }
            NothingChecked::NoPolicies => "no policy was evaluated.",
            NothingChecked::NothingApplies => {
                "no evaluated policy applies to any data store of the input (every finding \
                 is SKIP)."
            }
        }
    }

    /// The sentence every report shows: `Nothing was checked: ` and the reason.
    pub fn message(self) -> String {
        format!("Nothing was checked: {}", self.reason())
    }
}

impl std::fmt::Display for NothingChecked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Counts by status and, for FAIL, by severity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Findings per status.
    pub by_status: BTreeMap<Status, usize>,
    /// FAIL findings per severity.
    pub failures_by_severity: BTreeMap<Severity, usize>,
    /// Number of data stores evaluated.
    pub resources: usize,
    /// Number of policies evaluated.
    pub policies: usize,
    /// Pairs about planned data stores that depend on a value known only after deploy
    /// (SKIP, or FAIL under `--unknown fail`).
    pub undecided: usize,
}

/// The job summaries of an inventory's records, one per record (`None` for what is not a
/// job); an inventory without jobs has nothing to index.
fn job_summaries(records: &[Record]) -> Vec<Option<Box<JobSummary>>> {
    use rayon::prelude::*;
    if !records.iter().any(|r| r.kind().belongs_to_datastore()) {
        return vec![None; records.len()];
    }
    let index = crate::link::DatastoreIndex::of(records);
    records
        .par_iter()
        .map(|r| {
            if !r.kind().belongs_to_datastore() {
                return None;
            }
            let store = match index.datastore_of(records, r) {
                crate::link::DatastoreOf::Found(d) => records.get(d),
                _ => None,
            };
            JobSummary::of(r, store).map(Box::new)
        })
        .collect()
}

impl Report {
    /// Starts a report for an inventory: resources from its records, coverage, errors and
    /// warnings copied; no policies or findings yet.
    pub fn for_inventory(inventory: &Inventory, evaluated_at: Timestamp) -> Self {
        use rayon::prelude::*;
        Report {
            tool: ToolInfo::default(),
            generated_at: Timestamp::now(),
            evaluated_at,
            policies: Vec::new(),
            // Copied on every core (100,000 data stores took 0.1 s on one).
            resources: inventory
                .records
                .par_iter()
                .zip(job_summaries(&inventory.records))
                .map(|(r, job)| Resource { job, ..r.into() })
                .collect(),
            findings: Vec::new(),
            coverage: inventory.coverage.clone(),
            errors: inventory.errors.clone(),
            warnings: inventory.warnings.clone(),
        }
    }

    /// [`Report::for_inventory`], taking the inventory: each resource takes its record's
    /// strings rather than copying them, and the records' text is freed as they are
    /// taken. A large audit's report then costs the resources' own room and no copy of
    /// their strings, where the inventory it is made from is the largest thing an audit
    /// holds.
    pub fn from_inventory(inventory: Inventory, evaluated_at: Timestamp) -> Self {
        use rayon::prelude::*;
        let Inventory {
            mut records,
            coverage,
            errors,
            warnings,
        } = inventory;
        let summaries = job_summaries(&records);
        // The text of the records (most often one whole file) is let go first.
        let empty = std::sync::Arc::new(String::new());
        records.par_iter_mut().for_each(|r| r.release_text(&empty));
        // Made one after another, the resources take the records' own room (a resource is
        // smaller than a record, and collecting from the records' iterator reuses their
        // vector): made on every core, they took 25 MB more over 100,000 data stores,
        // which the allocator did not always find in the text's room, and the run's peak
        // was then that much higher. Over a million data stores the report is assembled
        // no slower (0.57 s against 0.63 s).
        let resources = records
            .into_iter()
            .zip(summaries)
            .map(|(r, job)| Resource { job, ..r.into() })
            .collect();
        Report {
            tool: ToolInfo::default(),
            generated_at: Timestamp::now(),
            evaluated_at,
            policies: Vec::new(),
            resources,
            findings: Vec::new(),
            coverage,
            errors,
            warnings,
        }
    }

    /// The policy a finding belongs to.
    pub fn policy_of(&self, f: &Finding) -> &PolicyMeta {
        &self.policies[f.policy_index()]
    }

    /// The resource a finding is about, for data store findings.
    pub fn resource_of(&self, f: &Finding) -> Option<&Resource> {
        self.resources.get(f.record_index()?)
    }

    /// The key a finding is matched on across runs: the resource's identity key (the
    /// ARN of a data store that exists), or `account/region/what` for a scope.
    pub fn resource_key(&self, f: &Finding) -> String {
        self.resource_key_of(f).into_owned()
    }

    /// [`Report::resource_key`], borrowed from the resource where it can be.
    fn resource_key_of(&self, f: &Finding) -> Cow<'_, str> {
        match f.scope() {
            None => self.resource_of(f).map(|r| r.key()).unwrap_or_default(),
            Some(s) => Cow::Owned(format!(
                "{}/{}/{}",
                s.account.as_deref().unwrap_or("*"),
                s.region.as_deref().unwrap_or("*"),
                s.what
            )),
        }
    }

    /// The stable fingerprint of a finding (see [`fingerprint`]).
    pub fn fingerprint_of(&self, f: &Finding) -> String {
        fingerprint(&self.policy_of(f).id, &self.resource_key_of(f))
    }

    /// [`Report::fingerprint_of`], held in place.
    pub fn fingerprint_text_of(&self, f: &Finding) -> FingerprintText {
        FingerprintText::of(&self.policy_of(f).id, &self.resource_key_of(f))
    }

    /// Counts by status and severity.
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            resources: self.resources.len(),
            policies: self.policies.len(),
            ..Summary::default()
        };
        for f in &self.findings {
            *s.by_status.entry(f.status).or_default() += 1;
            if f.status == Status::Fail {
                *s.failures_by_severity.entry(f.severity).or_default() += 1;
            }
            if f.undecided() {
                s.undecided += 1;
            }
        }
        s
    }

    /// Why no (policy, data store) pair was checked, when none was: no data store, no
    /// policy (the collection-error pseudo-policy aside), or every finding on a data store
    /// is SKIP. `None` when at least one policy was evaluated on a data store.
    pub fn nothing_checked(&self) -> Option<NothingChecked> {
        if self.resources.is_empty() {
            return Some(NothingChecked::NoDataStores);
        }
        if self.policies.iter().all(|p| p.id == COLLECTION_ERROR_ID) {
            return Some(NothingChecked::NoPolicies);
        }
        let checked = self
            .findings
            .iter()
            .any(|f| f.record_index().is_some() && f.status != Status::Skip);
        (!checked).then_some(NothingChecked::NothingApplies)
    }

    /// Whether anything could not be evaluated, collected or read.
    pub fn is_incomplete(&self) -> bool {
        !self.errors.is_empty() || self.findings.iter().any(|f| f.status == Status::Error)
    }

    /// Turns every collection or input error of the report into an ERROR finding under the
    /// pseudo-policy [`PolicyMeta::collection_error`] (added once), so nothing that could
    /// not be seen passes silently. Call after the policies are in place; calling it again
    /// adds nothing.
    pub fn add_collection_errors(&mut self) {
        if self.errors.is_empty() {
            return;
        }
        if self.policies.iter().any(|p| p.id == COLLECTION_ERROR_ID) {
            return; // already added
        }
        self.policies.push(PolicyMeta::collection_error());
        let policy = self.policies.len() - 1;
        let severity = self.policies[policy].severity;
        for e in &self.errors {
            let place = match (&e.account, &e.region) {
                (Some(a), Some(r)) => format!("account {a}, region {r}"),
                (Some(a), None) => format!("account {a}"),
                (None, Some(r)) => format!("region {r}"),
                (None, None) => "the inventory".to_owned(),
            };
            let what = match &e.resource {
                Some(res) => format!("{} {}", e.operation, res),
                None => e.operation.clone(),
            };
            let message = format!(
                "{what} failed for {place}: {} ({}). Data stores there may be missing from this audit.",
                e.message, e.code
            );
            let subject = Subject::scope(e.account.clone(), e.region.clone(), what);
            let mut f = Finding::new(policy, subject, Status::Error, severity);
            f.set_message(message);
            self.findings.push(f);
        }
    }

    /// Sorts findings by (policy id, resource key), the order every report uses.
    pub fn sort_findings(&mut self) {
        let mut keyed: Vec<(String, String, Finding)> = std::mem::take(&mut self.findings)
            .into_iter()
            .map(|f| {
                (
                    self.policies[f.policy_index()].id.clone(),
                    self.resource_key(&f),
                    f,
                )
            })
            .collect();
        // Stable: findings with the same key keep their order.
        keyed.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        self.findings = keyed.into_iter().map(|(_, _, f)| f).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report holds a resource per data store: the summary of a job, which a data store
    /// never has, is boxed rather than carried by every one of them.
    #[test]
    fn a_resource_is_small() {
        assert!(std::mem::size_of::<Resource>() <= 248);
    }

    /// Taking the inventory gives the report that borrowing it gives: the same
    /// resources, a job's summary of its data store included.
    #[test]
    fn a_report_that_takes_its_inventory_is_the_one_that_borrows_it() {
        let mut store = Record::from_value(&serde_json::json!({
            "DatastoreId": "a",
            "DatastoreArn": "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/a",
            "DatastoreName": "clinical",
            "DatastoreStatus": "ACTIVE",
        }))
        .unwrap();
        store.tags = Some([("Owner".to_owned(), "x".to_owned())].into_iter().collect());
        store.source = Some(Source {
            file: "s.json".into(),
            line: 3,
            column: 5,
        });
        let job = Record::from_value_as(
            Kind::ExportJob,
            &serde_json::json!({"JobId": "j", "DatastoreId": "a", "JobStatus": "COMPLETED",
                "OutputDataConfig": {"S3Configuration": {"S3Uri": "s3://b/k"}}}),
        )
        .unwrap()
        .with_context(crate::identity::Context {
            account: Some("111122223333".into()),
            region: Some("us-east-1".into()),
            partition: Some("aws".into()),
        });
        let inv = Inventory {
            records: vec![store, job],
            ..Inventory::default()
        };
        let at = Timestamp::now();
        let borrowed = Report::for_inventory(&inv, at);
        let taken = Report::from_inventory(inv, at);
        assert_eq!(taken.resources, borrowed.resources);
        assert_eq!(taken.resources[0].tags.as_ref().unwrap()["Owner"], "x");
        assert_eq!(
            taken.resources[1].description().unwrap(),
            "export of clinical (arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/a) to s3://b/k"
        );
    }

    #[test]
    fn an_audit_that_checked_nothing_says_why() {
        let record = |i: usize, status| {
            Finding::new(0, Subject::Record { index: i }, status, Severity::High)
        };
        let mut report = Report::for_inventory(&Inventory::default(), Timestamp::now());
        assert_eq!(report.nothing_checked(), Some(NothingChecked::NoDataStores));
        report.policies.push(PolicyMeta::collection_error());
        assert_eq!(report.nothing_checked(), Some(NothingChecked::NoDataStores));
        report.resources.push(Resource::datastore(
            "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/x",
        ));
        assert_eq!(report.nothing_checked(), Some(NothingChecked::NoPolicies));
        let mut p = PolicyMeta::collection_error();
        p.id = "HL-X-01".into();
        report.policies.insert(0, p);
        assert_eq!(
            report.nothing_checked(),
            Some(NothingChecked::NothingApplies)
        );
        report.findings.push(record(0, Status::Skip));
        assert_eq!(
            report.nothing_checked(),
            Some(NothingChecked::NothingApplies)
        );
        report.findings.push(record(0, Status::Pass));
        assert_eq!(report.nothing_checked(), None);
        assert_eq!(NothingChecked::NoDataStores.to_string(), "no-data-stores");
        assert_eq!(
            serde_json::to_string(&NothingChecked::NothingApplies).unwrap(),
            "\"nothing-applies\""
        );
    }

    #[test]
    fn collection_errors_become_error_findings_once_per_error() {
        let inv = Inventory {
            errors: vec![
                CollectionError {
                    account: Some("111122223333".into()),
                    region: Some("eu-west-2".into()),
                    operation: "ListFHIRDatastores".into(),
                    resource: None,
                    code: "AccessDeniedException".into(),
                    message: "not authorized".into(),
                },
                CollectionError {
                    account: None,
                    region: Some("us-east-1".into()),
                    operation: "ListFHIRDatastores".into(),
                    resource: None,
                    code: "pagination-loop".into(),
                    message: "NextToken repeated".into(),
                },
            ],
            ..Inventory::default()
        };
        let mut report = Report::for_inventory(&inv, Timestamp::now());
        report.add_collection_errors();
        report.add_collection_errors();
        assert_eq!(report.policies.len(), 1);
        assert_eq!(report.findings.len(), 2);
        assert!(report.findings.iter().all(|f| f.status == Status::Error));
        assert!(report.is_incomplete());
        report.sort_findings();
        assert!(
            report.findings[0].message().contains("us-east-1")
                || report.findings[0].message().contains("eu-west-2")
        );
        assert_eq!(report.summary().by_status[&Status::Error], 2);
    }
}

//! Findings: the outcome of one policy on one data store (or on a part of a collection).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::record::Source;

/// How a (policy, data store) pair ended. Exactly one per pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// The data store satisfies the policy.
    Pass,
    /// The data store violates the policy.
    Fail,
    /// The policy does not apply to the data store.
    Skip,
    /// The policy could not be evaluated (or a part of the collection could not be read).
    Error,
    /// A violation covered by an unexpired waiver.
    Waived,
}

impl Status {
    /// All statuses, in report order.
    pub const ALL: [Status; 5] = [
        Status::Fail,
        Status::Error,
        Status::Waived,
        Status::Pass,
        Status::Skip,
    ];

    /// The upper-case name, e.g. `FAIL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
            Status::Error => "ERROR",
            Status::Waived => "WAIVED",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "PASS" => Ok(Status::Pass),
            "FAIL" => Ok(Status::Fail),
            "SKIP" => Ok(Status::Skip),
            "ERROR" => Ok(Status::Error),
            "WAIVED" => Ok(Status::Waived),
            _ => Err(format!(
                "unknown status `{s}`; expected one of PASS, FAIL, SKIP, ERROR, WAIVED"
            )),
        }
    }
}

/// How much a violation matters. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For information only.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// All severities, most severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// The lower-case name, e.g. `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" | "informational" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" | "moderate" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(format!(
                "unknown severity `{s}`; expected one of critical, high, medium, low, info"
            )),
        }
    }
}

/// Why a clause failed (or, in `explain`, what it saw): the attribute, the value found and
/// the value expected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// A JSON pointer (RFC 6901) into the record, e.g.
    /// `/SseConfiguration/KmsEncryptionConfig/CmkType`. A path into a JSON document held in
    /// a string continues after the string's pointer, e.g.
    /// `/IdentityProviderConfiguration/Metadata/code_challenge_methods_supported`. Context
    /// values start with `/@`, e.g. `/@tags/Owner`, `/@region`. Shared: the failures of
    /// one clause mostly point at the same place, and an audit holds hundreds of thousands.
    pub pointer: Arc<str>,
    /// The value found (shortened when long); `None` when the attribute is not present.
    pub found: Option<serde_json::Value>,
    /// What was expected, for people, e.g. `equal to "CUSTOMER_MANAGED_KMS_KEY"`. Shared:
    /// every failure of one clause expects the same.
    pub expected: Arc<str>,
    /// What else a reader needs to know about the value, e.g. that a template leaves the
    /// property out and the resource's default applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Box<str>>,
}

/// What a waiver that turned a FAIL into WAIVED said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedWaiver {
    /// Where the waiver is written (waiver file and line).
    pub source: Source,
    /// Why the violation is accepted.
    pub reason: String,
    /// Who approved it.
    pub approved_by: String,
    /// When it stops applying (a date, `YYYY-MM-DD`); `None` for a permanent waiver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// A finding's state against a baseline (a report from an earlier run); the names are
/// SARIF's `baselineState` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BaselineState {
    /// Not in the baseline.
    New,
    /// In the baseline, unchanged.
    Unchanged,
    /// In the baseline with a different severity or status.
    Updated,
    /// In the baseline but not any more (fixed).
    Absent,
}

/// What a finding is about. A [`Finding`] does not hold one: it keeps a record's index in
/// four bytes and a scope in its detail, and gives a `Subject` back on request
/// ([`Finding::subject`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Subject {
    /// A data store: an index into the report's (or inventory's) records.
    Record {
        /// Index into `Report::resources` / `Inventory::records`.
        index: usize,
    },
    /// A part of the collection or input that could not be read (an ERROR finding).
    Scope(Box<Scope>),
}

impl Subject {
    /// A scope subject.
    pub fn scope(account: Option<String>, region: Option<String>, what: String) -> Self {
        Subject::Scope(Box::new(Scope {
            account,
            region,
            what,
        }))
    }
}

/// A part of the collection or input that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Scope {
    /// The account, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The region, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// What could not be read: an operation, a file.
    pub what: String,
}

/// The outcome of one policy on one subject.
///
/// PASS and SKIP findings, the great majority, are 16 bytes with no heap allocation: the
/// message, evidence, waiver and baseline state of the others sit behind one box, and so
/// does the scope of an ERROR finding about a part of the collection (see
/// [`Finding::subject`]). The JSON form is flat (`policy`, `subject`, `status`,
/// `severity`, `message`, `evidence`, `waiver`, `baseline`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "FindingRepr")]
pub struct Finding {
    /// For a finding about a record, the record's index (see [`Finding::subject`]); 0 for
    /// a scope, which is held in the detail.
    record: u32,
    /// Index into the report's policies (the compiled policy set's order), at most
    /// [`MAX_POLICIES`]: the pack over 100,000 data stores holds 3.9 million findings,
    /// and two bytes here rather than four make each 16 bytes instead of 24.
    policy: u16,
    /// The outcome.
    pub status: Status,
    /// The effective severity (the policy's, after any configured override).
    pub severity: Severity,
    detail: Option<Box<Detail>>,
}

/// How many policies one audit can evaluate: a finding keeps its policy's index in two
/// bytes, and `u16::MAX` stands for an index beyond them (which every reporter refuses
/// as dangling). The collection-error pseudo-policy takes one more.
pub const MAX_POLICIES: usize = u16::MAX as usize;

/// What a failure says after its data store's label, and its evidence: one piece that
/// the failures saying the same can share (see [`Finding::set_labelled`]), so a failure's
/// detail holds one pointer to both.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Said {
    text: Box<str>,
    evidence: Box<[Evidence]>,
}

impl Said {
    /// The text and the evidence, each kept in exactly its length.
    pub fn new(text: &str, evidence: Vec<Evidence>) -> Self {
        Said {
            text: Box::from(text),
            evidence: evidence.into_boxed_slice(),
        }
    }

    /// The text (after the label).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The evidence.
    pub fn evidence(&self) -> &[Evidence] {
        &self.evidence
    }
}

/// Held exactly as long as it is: a large audit holds half a million of these, and every
/// spare byte is a page the kernel has to zero. (Shared or exact-length parts rather than
/// `String` and `Vec`, and the rare parts behind one box: 40 bytes rather than 104.)
#[derive(Debug, Clone, Default)]
struct Detail {
    // With a label, the message is `LABEL: TEXT`. Shared: the failures of one data store
    // share its label.
    label: Option<Arc<str>>,
    // The message (its text after the label, when there is one) and the evidence, shared
    // when the engine finds them again (most failures of a policy say the same after the
    // label, and find the same value at the same place).
    said: Option<Arc<Said>>,
    // Only with a baseline; a PASS or SKIP finding has one only when it was a result in
    // the baseline (`absent`: fixed).
    baseline: Option<BaselineState>,
    undecided: bool,
    rare: Option<Box<Rare>>,
}

/// What few findings have: a planned data store's place in its template, a waiver, a
/// part of the collection an ERROR finding is about.
#[derive(Debug, Clone, Default, PartialEq)]
struct Rare {
    location: Option<Source>,
    waiver: Option<AppliedWaiver>,
    scope: Option<Scope>,
}

impl Rare {
    const NONE: Rare = Rare {
        location: None,
        waiver: None,
        scope: None,
    };
}

impl Detail {
    fn rare(&self) -> &Rare {
        self.rare.as_deref().unwrap_or(&Rare::NONE)
    }

    fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    fn text(&self) -> &str {
        self.said.as_deref().map_or("", |s| &s.text)
    }

    fn evidence(&self) -> &[Evidence] {
        self.said.as_deref().map_or(&[], |s| &s.evidence)
    }

    /// Keeps `text` and `evidence` as what the finding says (nothing when both are empty).
    fn set_said(&mut self, text: Box<str>, evidence: Box<[Evidence]>) {
        self.said =
            (!text.is_empty() || !evidence.is_empty()).then(|| Arc::new(Said { text, evidence }));
    }

    /// Takes what the finding says, as its own copy when it is shared.
    fn take_said(&mut self) -> Said {
        self.said
            .take()
            .map(Arc::unwrap_or_clone)
            .unwrap_or_default()
    }

    fn message(&self) -> Cow<'_, str> {
        let text = self.text();
        match &self.label {
            None => Cow::Borrowed(text),
            Some(label) => Cow::Owned(format!("{label}: {text}")),
        }
    }
}

/// Two details are equal when they say the same, however their message is held.
impl PartialEq for Detail {
    fn eq(&self, other: &Self) -> bool {
        self.message() == other.message()
            && self.evidence() == other.evidence()
            && self.undecided == other.undecided
            && self.baseline == other.baseline
            && self.rare() == other.rare()
    }
}

impl Finding {
    /// A finding with no message, evidence, waiver or baseline state.
    ///
    /// `policy` is an index into the report's policies, and a record subject's index one
    /// into its resources. An index beyond what a finding holds (a policy index from
    /// [`MAX_POLICIES`] on, a record index beyond `u32`) is kept as the largest value, an
    /// index every reporter refuses as dangling.
    pub fn new(policy: usize, subject: Subject, status: Status, severity: Severity) -> Self {
        let (record, detail) = match subject {
            Subject::Record { index: i } => (u32::try_from(i).unwrap_or(u32::MAX), None),
            Subject::Scope(scope) => (
                0,
                Some(Box::new(Detail {
                    rare: Some(Box::new(Rare {
                        scope: Some(*scope),
                        ..Rare::default()
                    })),
                    ..Detail::default()
                })),
            ),
        };
        Finding {
            record,
            policy: u16::try_from(policy).unwrap_or(u16::MAX),
            status,
            severity,
            detail,
        }
    }

    /// The index of the finding's policy in the report's policies.
    pub fn policy_index(&self) -> usize {
        usize::from(self.policy)
    }

    /// The state against a baseline, when one was given.
    pub fn baseline(&self) -> Option<BaselineState> {
        self.detail.as_ref().and_then(|d| d.baseline)
    }

    /// Sets or clears the state against a baseline.
    pub fn set_baseline(&mut self, baseline: Option<BaselineState>) {
        if baseline.is_none() && self.detail.is_none() {
            return;
        }
        self.detail_mut().baseline = baseline;
    }

    /// What the finding is about. A scope is copied out of the finding (ERROR findings
    /// about a part of the collection are few); [`Finding::record_index`] and
    /// [`Finding::scope`] read it in place.
    pub fn subject(&self) -> Subject {
        match self.scope() {
            Some(s) => Subject::Scope(Box::new(s.clone())),
            None => Subject::Record {
                index: self.record as usize,
            },
        }
    }

    /// The index of the record the finding is about, or `None` for a scope.
    pub fn record_index(&self) -> Option<usize> {
        match self.scope() {
            Some(_) => None,
            None => Some(self.record as usize),
        }
    }

    /// The part of the collection the finding is about, or `None` for a record.
    pub fn scope(&self) -> Option<&Scope> {
        self.detail.as_ref().and_then(|d| d.rare().scope.as_ref())
    }

    /// This finding with a message and evidence.
    pub fn with_detail(mut self, message: String, evidence: Vec<Evidence>) -> Self {
        if message.is_empty() && evidence.is_empty() && self.detail.is_none() {
            return self;
        }
        let d = self.detail_mut();
        d.label = None;
        d.set_said(message.into_boxed_str(), evidence.into_boxed_slice());
        self
    }

    /// For FAIL and ERROR: a message whose first sentence names the data store and what is
    /// wrong. Empty for PASS and SKIP. Made on request when it is held in two parts (see
    /// [`Finding::set_labelled`]).
    pub fn message(&self) -> Cow<'_, str> {
        self.detail
            .as_ref()
            .map_or(Cow::Borrowed(""), |d| d.message())
    }

    /// One entry per failing clause (FAIL), or what could not be evaluated (ERROR).
    pub fn evidence(&self) -> &[Evidence] {
        self.detail.as_ref().map_or(&[], |d| d.evidence())
    }

    /// Where in a template or plan the finding is decided (the property, or the resource
    /// for a default); `None` for what exists, whose place is its record's source.
    pub fn location(&self) -> Option<&Source> {
        self.detail
            .as_ref()
            .and_then(|d| d.rare().location.as_ref())
    }

    /// Whether the pair could not be decided before deploy: it depends on a value known
    /// only then (a SKIP, or a FAIL under `--unknown fail`); the evidence names the values.
    pub fn undecided(&self) -> bool {
        self.detail.as_ref().is_some_and(|d| d.undecided)
    }

    /// Sets where in a template or plan the finding is decided.
    pub fn set_location(&mut self, location: Option<Source>) {
        if location.is_none() && self.rare().is_none() {
            return;
        }
        self.detail_mut().rare_mut().location = location;
    }

    /// Marks the pair as not decided before deploy.
    pub fn set_undecided(&mut self, undecided: bool) {
        if !undecided && self.detail.is_none() {
            return;
        }
        self.detail_mut().undecided = undecided;
    }

    /// The waiver that applies, for WAIVED.
    pub fn waiver(&self) -> Option<&AppliedWaiver> {
        self.detail.as_ref().and_then(|d| d.rare().waiver.as_ref())
    }

    /// Replaces the message. It is kept in exactly its length.
    pub fn set_message(&mut self, message: String) {
        if message.is_empty() && self.detail.is_none() {
            return;
        }
        let d = self.detail_mut();
        d.label = None;
        let evidence = d.take_said().evidence;
        d.set_said(message.into_boxed_str(), evidence);
    }

    /// Replaces the message and the evidence with `LABEL: TEXT` and the evidence of
    /// `said`, held as the two shared parts: the failures of one data store can share its
    /// label (`Data store NAME (ID)`), and the failures of one policy mostly what it says
    /// after the label.
    pub fn set_labelled(&mut self, label: Arc<str>, said: Arc<Said>) {
        let d = self.detail_mut();
        d.label = Some(label);
        d.said = Some(said);
    }

    /// Replaces the evidence. It is kept in exactly its length, like the message.
    pub fn set_evidence(&mut self, evidence: Vec<Evidence>) {
        if evidence.is_empty() && self.detail.is_none() {
            return;
        }
        let d = self.detail_mut();
        let text = d.take_said().text;
        d.set_said(text, evidence.into_boxed_slice());
    }

    /// Sets or clears the waiver.
    pub fn set_waiver(&mut self, waiver: Option<AppliedWaiver>) {
        if waiver.is_none() && self.rare().is_none() {
            return;
        }
        self.detail_mut().rare_mut().waiver = waiver;
    }

    /// The rare parts, when the finding has any.
    fn rare(&self) -> Option<&Rare> {
        self.detail.as_ref().and_then(|d| d.rare.as_deref())
    }

    fn detail_mut(&mut self) -> &mut Detail {
        self.detail.get_or_insert_with(Box::default)
    }
}

/// The serialised form of a [`Finding`] (flat).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FindingRepr {
    policy: usize,
    subject: Subject,
    status: Status,
    severity: Severity,
    #[serde(default)]
    message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    evidence: Vec<Evidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    location: Option<Source>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    undecided: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    waiver: Option<AppliedWaiver>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    baseline: Option<BaselineState>,
}

impl From<FindingRepr> for Finding {
    fn from(r: FindingRepr) -> Self {
        let mut f = Finding::new(r.policy, r.subject, r.status, r.severity);
        f.set_baseline(r.baseline);
        f.set_message(r.message);
        f.set_evidence(r.evidence);
        f.set_location(r.location);
        f.set_undecided(r.undecided);
        f.set_waiver(r.waiver);
        f
    }
}

/// The same fields as [`FindingRepr`], borrowed, for serialising without copies.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FindingRef<'a> {
    policy: usize,
    subject: Subject,
    status: Status,
    severity: Severity,
    message: Cow<'a, str>,
    #[serde(skip_serializing_if = "<[Evidence]>::is_empty")]
    evidence: &'a [Evidence],
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a Source>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    undecided: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    waiver: Option<&'a AppliedWaiver>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<BaselineState>,
}

impl Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        FindingRef {
            policy: self.policy_index(),
            subject: self.subject(),
            status: self.status,
            severity: self.severity,
            message: self.message(),
            evidence: self.evidence(),
            location: self.location(),
            undecided: self.undecided(),
            waiver: self.waiver(),
            baseline: self.baseline(),
        }
        .serialize(s)
    }
}

/// A stable fingerprint of a (policy, resource) pair: the first 16 bytes of the SHA-256 of
/// `policy_id` and `resource_key` (a data store ARN, or `account/region/what` for a scope),
/// as lower-case hex. Stable across runs, versions and machines.
///
/// ```
/// let a = hlaudit_model::finding::fingerprint("HL-ENC-01", "arn:aws:healthlake:us-east-1:1:datastore/fhir/x");
/// assert_eq!(a.len(), 32);
/// assert_eq!(a, hlaudit_model::finding::fingerprint("HL-ENC-01", "arn:aws:healthlake:us-east-1:1:datastore/fhir/x"));
/// ```
pub fn fingerprint(policy_id: &str, resource_key: &str) -> String {
    FingerprintText::of(policy_id, resource_key)
        .as_str()
        .to_owned()
}

/// A [`fingerprint`] held in place rather than in a `String`: matching millions of findings
/// against a baseline needs each one's fingerprint for a moment only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FingerprintText([u8; 32]);

impl FingerprintText {
    /// The fingerprint of a (policy, resource) pair, as [`fingerprint`] gives it.
    pub fn of(policy_id: &str, resource_key: &str) -> Self {
        let mut h = Sha256::new();
        h.update(policy_id.as_bytes());
        h.update([0u8]);
        h.update(resource_key.as_bytes());
        let digest = h.finalize();
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; 32];
        for (pair, b) in text.chunks_exact_mut(2).zip(&digest[..16]) {
            pair[0] = HEX[usize::from(b >> 4)];
            pair[1] = HEX[usize::from(b & 0xf)];
        }
        FingerprintText(text)
    }

    /// The fingerprint: 32 lower-case hex digits.
    pub fn as_str(&self) -> &str {
        // Hex digits only, so always UTF-8.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_and_parses() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Info < Severity::Low);
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert!("severe".parse::<Severity>().is_err());
        assert_eq!(
            serde_json::to_string(&Severity::Medium).unwrap(),
            "\"medium\""
        );
    }

    #[test]
    fn status_serialises_upper_case() {
        assert_eq!(
            serde_json::to_string(&Status::Waived).unwrap(),
            "\"WAIVED\""
        );
        assert_eq!("skip".parse::<Status>(), Ok(Status::Skip));
    }

    #[test]
    fn a_passing_finding_is_small_and_round_trips_flat() {
        assert!(std::mem::size_of::<Finding>() <= 16);
        assert!(std::mem::size_of::<Detail>() <= 40);
        // 80 bytes: one entry, or two, fill an allocator size class (80, 160) exactly.
        assert!(std::mem::size_of::<Evidence>() <= 80);
        let mut f = Finding::new(3, Subject::Record { index: 7 }, Status::Pass, Severity::Low);
        assert_eq!(f.message(), "");
        f.set_message(String::new());
        f.set_evidence(Vec::new());
        f.set_waiver(None);
        assert!(f.detail.is_none(), "empty parts allocate nothing");
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"policy": 3, "subject": {"kind": "record", "index": 7},
                "status": "PASS", "severity": "low", "message": ""})
        );
        assert_eq!(serde_json::from_value::<Finding>(json).unwrap(), f);
    }

    #[test]
    fn a_policy_index_beyond_two_bytes_is_dangling() {
        let at = |p| Finding::new(p, Subject::Record { index: 0 }, Status::Pass, Severity::Low);
        assert_eq!(at(MAX_POLICIES - 1).policy_index(), MAX_POLICIES - 1);
        // Every index from MAX_POLICIES on is the same dangling one, which no report of
        // at most MAX_POLICIES policies (the set and the pseudo-policy) holds.
        assert_eq!(at(MAX_POLICIES).policy_index(), MAX_POLICIES);
        assert_eq!(at(usize::MAX).policy_index(), MAX_POLICIES);
        let mut f = at(0);
        f.set_baseline(None);
        f.set_location(None);
        f.set_waiver(None);
        assert!(
            f.detail.is_none(),
            "no baseline, place or waiver allocates nothing"
        );
        f.set_message("failed".into());
        f.set_location(None);
        f.set_waiver(None);
        assert!(f.rare().is_none(), "nor does it for a failure");
        f.set_baseline(Some(BaselineState::Absent));
        assert_eq!(f.baseline(), Some(BaselineState::Absent));
        assert_eq!(serde_json::to_value(&f).unwrap()["baseline"], "absent");
    }

    #[test]
    fn a_labelled_message_reads_and_compares_as_one() {
        let label: Arc<str> = Arc::from("Data store a (1)");
        let evidence = vec![Evidence {
            pointer: "/BackupStatusInfo/Status".into(),
            found: Some("DISABLED".into()),
            expected: "ENABLED".into(),
            note: None,
        }];
        let said = Arc::new(Said::new("has backups DISABLED", evidence.clone()));
        let mut f = Finding::new(0, Subject::Record { index: 0 }, Status::Fail, Severity::Low);
        f.set_labelled(Arc::clone(&label), Arc::clone(&said));
        assert_eq!(f.message(), "Data store a (1): has backups DISABLED");
        assert_eq!(f.evidence(), &evidence[..]);
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["message"], "Data store a (1): has backups DISABLED");
        // Read back, the message is one string; the finding is the same.
        let back: Finding = serde_json::from_value(json).unwrap();
        assert!(back.detail.as_ref().unwrap().label.is_none());
        assert_eq!(back, f);
        let mut other = f.clone();
        other.set_labelled(
            label,
            Arc::new(Said::new("has backups ENABLED", evidence.clone())),
        );
        assert_ne!(other, f);
        // Replacing one part keeps the other, and leaves the shared piece as it was.
        f.set_message("plain".into());
        assert_eq!(f.message(), "plain");
        assert_eq!(f.evidence(), &evidence[..]);
        f.set_evidence(Vec::new());
        assert_eq!(f.message(), "plain");
        assert!(f.evidence().is_empty());
        assert_eq!(said.text(), "has backups DISABLED");
        assert_eq!(said.evidence(), &evidence[..]);
    }

    #[test]
    fn a_failing_finding_round_trips_with_its_detail() {
        let f = Finding::new(
            0,
            Subject::scope(Some("1".into()), None, "ListFHIRDatastores".into()),
            Status::Error,
            Severity::High,
        )
        .with_detail(
            "cannot list".into(),
            vec![Evidence {
                pointer: "/x".into(),
                found: None,
                expected: "y".into(),
                note: None,
            }],
        );
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(
            json["subject"],
            serde_json::json!({"kind": "scope", "account": "1", "what": "ListFHIRDatastores"})
        );
        assert_eq!(json["evidence"][0]["pointer"], "/x");
        assert_eq!(serde_json::from_value::<Finding>(json).unwrap(), f);
    }

    #[test]
    fn fingerprints_differ_by_policy_and_resource() {
        assert_ne!(fingerprint("A", "x"), fingerprint("B", "x"));
        assert_ne!(fingerprint("A", "x"), fingerprint("A", "y"));
        // The separator keeps ("AB","C") and ("A","BC") apart.
        assert_ne!(fingerprint("AB", "C"), fingerprint("A", "BC"));
        // Pinned: baselines and code scanning match findings on it across versions.
        assert_eq!(fingerprint("A", "x"), "99c77f654c8e612954cce02c790a1aff");
    }
}

//! What to send where, decided without AWS: which findings go to which account and
//! region, and which findings already in Security Hub this run resolves.
//!
//! Kept pure so the decisions that matter (never archive what the run could not see,
//! never send a finding with another account's credentials) are unit-tested directly.

use std::collections::{BTreeMap, HashSet};

use hlaudit_report::asff::AsffFinding;

/// Where findings are imported: an account's Security Hub in one region.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    /// The account the findings belong to (and whose credentials import them).
    pub account: String,
    /// The region of the Security Hub they go to.
    pub region: String,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "account {} in {}", self.account, self.region)
    }
}

/// What the run knows beyond its findings, to decide which findings already in Security
/// Hub it resolves.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Fingerprints of the pairs this run evaluated as PASS: a finding with one of these
    /// ids that is open in Security Hub is resolved as passed.
    pub passed: HashSet<String>,
    /// Fingerprints of the pairs this run evaluated as SKIP (the policy no longer
    /// applies): resolved as not applicable.
    pub skipped: HashSet<String>,
    /// Every (account, region) of the run's data stores: where findings to resolve may
    /// be, even where none is imported now.
    pub places: HashSet<(String, String)>,
    /// When set, findings of data stores this run did not see at all are resolved too,
    /// within these bounds. `None` (an offline check, a filtered or partial collection)
    /// leaves them as they are: the run cannot tell a deleted data store from one it did
    /// not look at.
    pub missing: Option<MissingScope>,
}

/// Where the absence of a data store from the run means it is gone.
#[derive(Debug, Clone, Default)]
pub struct MissingScope {
    /// Every fingerprint of the run, whatever its status.
    pub known: HashSet<String>,
    /// The (account, region) pairs listed completely, without filters or errors.
    pub listed: HashSet<(String, String)>,
    /// The policy ids the run evaluated: a finding of a policy left out of this run
    /// (`--only`, `--skip`) is not resolved.
    pub policies: HashSet<String>,
}

/// A finding open in Security Hub (read with `GetFindings`), as far as planning needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    /// Its `Id` (an hlaudit fingerprint).
    pub id: String,
    /// Its `GeneratorId` (the policy id).
    pub generator_id: String,
    /// Its `AwsAccountId`.
    pub account: String,
    /// The region of its resource (`Resources[0].Region`, else `Region`).
    pub region: Option<String>,
}

/// Why an open finding is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// The pair passes now.
    Passed,
    /// The policy no longer applies to the data store (SKIP).
    NotApplicable,
    /// The data store is gone from a region listed completely.
    Gone,
}

impl Resolution {
    /// The value of the `hlaudit/Resolution` product field.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Passed => "passed",
            Resolution::NotApplicable => "not-applicable",
            Resolution::Gone => "data-store-gone",
        }
    }
}

/// The findings of a run grouped by target, in a stable order. `aggregation` sends every
/// finding to that one region of its account.
pub fn group(
    findings: Vec<AsffFinding>,
    aggregation: Option<&str>,
) -> BTreeMap<Target, Vec<AsffFinding>> {
    let mut groups: BTreeMap<Target, Vec<AsffFinding>> = BTreeMap::new();
    for finding in findings {
        let region = aggregation
            .map(str::to_owned)
            .or_else(|| finding.region.clone())
            .unwrap_or_default();
        let target = Target {
            account: finding.aws_account_id.clone(),
            region,
        };
        groups.entry(target).or_default().push(finding);
    }
    groups
}

/// The open findings of one target that this run resolves, with why. Findings the run
/// reports as open again (FAIL, ERROR, WAIVED) are re-imported, not resolved.
pub fn resolutions(
    open: &[Open],
    importing: &HashSet<&str>,
    scope: &Scope,
) -> Vec<(String, Resolution)> {
    open.iter()
        .filter(|o| !importing.contains(o.id.as_str()))
        .filter_map(|o| resolution(o, scope).map(|r| (o.id.clone(), r)))
        .collect()
}

fn resolution(open: &Open, scope: &Scope) -> Option<Resolution> {
    if scope.passed.contains(&open.id) {
        return Some(Resolution::Passed);
    }
    if scope.skipped.contains(&open.id) {
        return Some(Resolution::NotApplicable);
    }
    let missing = scope.missing.as_ref()?;
    if missing.known.contains(&open.id) || !missing.policies.contains(&open.generator_id) {
        return None;
    }
    let region = open.region.clone()?;
    missing
        .listed
        .contains(&(open.account.clone(), region))
        .then_some(Resolution::Gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(id: &str, account: &str, region: &str) -> Open {
        Open {
            id: id.to_owned(),
            generator_id: "HL-ENC-01".to_owned(),
            account: account.to_owned(),
            region: Some(region.to_owned()),
        }
    }

    #[test]
    fn a_pair_that_passes_now_is_resolved() {
        let scope = Scope {
            passed: HashSet::from(["a".to_owned()]),
            ..Scope::default()
        };
        let got = resolutions(
            &[open("a", "1", "r"), open("b", "1", "r")],
            &HashSet::new(),
            &scope,
        );
        assert_eq!(got, vec![("a".to_owned(), Resolution::Passed)]);
    }

    #[test]
    fn a_finding_imported_again_is_not_resolved() {
        let scope = Scope {
            passed: HashSet::from(["a".to_owned()]),
            ..Scope::default()
        };
        let importing = HashSet::from(["a"]);
        assert!(resolutions(&[open("a", "1", "r")], &importing, &scope).is_empty());
    }

    #[test]
    fn unseen_data_stores_are_resolved_only_where_the_listing_was_complete() {
        let scope = Scope {
            missing: Some(MissingScope {
                known: HashSet::from(["seen".to_owned()]),
                listed: HashSet::from([("1".to_owned(), "r".to_owned())]),
                policies: HashSet::from(["HL-ENC-01".to_owned()]),
            }),
            ..Scope::default()
        };
        let mut other_policy = open("p", "1", "r");
        other_policy.generator_id = "HL-OTHER".to_owned();
        let mut no_region = open("n", "1", "r");
        no_region.region = None;
        let got = resolutions(
            &[
                open("gone", "1", "r"),
                open("seen", "1", "r"),
                open("elsewhere", "1", "other-region"),
                open("other-account", "2", "r"),
                other_policy,
                no_region,
            ],
            &HashSet::new(),
            &scope,
        );
        assert_eq!(got, vec![("gone".to_owned(), Resolution::Gone)]);
    }

    #[test]
    fn without_a_missing_scope_unseen_data_stores_stay_open() {
        let scope = Scope::default();
        assert!(resolutions(&[open("gone", "1", "r")], &HashSet::new(), &scope).is_empty());
    }
}

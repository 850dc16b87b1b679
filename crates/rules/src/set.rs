//! The compiled policy set: what `evaluate` runs, plus the metadata reporters need.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, TimeDelta};
use globset::{Glob, GlobSetBuilder};
use hlaudit_model::report::PolicyMeta;
use hlaudit_model::{Kind, Record, Severity, Status, Timestamp};

use crate::cond::Cond;
use crate::params::Parameter;
use crate::path::Path;
use crate::shared::Shared;
use crate::spans::Seg;
use crate::walk::FileWalk;

/// One piece of a message template.
#[derive(Debug, Clone)]
pub(crate) enum Piece {
    Text(String),
    Path(Path),
}

/// A compiled policy.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    /// The policy's metadata (effective severity, source file and line).
    pub meta: PolicyMeta,
    /// The declared parameters with the values in effect, in declaration order.
    pub parameters: Vec<Parameter>,
    /// The inline tests.
    pub tests: Vec<TestCase>,
    /// The kinds of record the policy applies to (`kinds`, `[datastore]` when the file
    /// names none): never empty, each once, in the order of [`Kind::ALL`].
    pub(crate) kinds: Vec<Kind>,
    /// `runtime: true`: the policy is about the run-time state of a data store that
    /// exists (backups, failures, restore points), so it is SKIP for a planned one.
    pub(crate) runtime: bool,
    pub(crate) applies: Option<Cond>,
    pub(crate) assert: Cond,
    pub(crate) message: Vec<Piece>,
}

impl CompiledPolicy {
    /// The kinds of record the policy applies to, in the order of [`Kind::ALL`]; a policy
    /// that names none applies to data stores only.
    pub fn kinds(&self) -> &[Kind] {
        &self.kinds
    }

    /// Whether the policy is about run-time state (`runtime: true`): SKIP, with a
    /// reason, for a data store a template or plan will create.
    pub fn is_runtime(&self) -> bool {
        self.runtime
    }

    /// Whether the policy applies to records of `kind`.
    pub fn applies_to(&self, kind: Kind) -> bool {
        self.kinds.contains(&kind)
    }
}

/// What an inline test runs on.
#[derive(Debug, Clone)]
pub enum TestInput {
    /// A record written in the policy file, of one of the policy's kinds, and for a job
    /// the data store it belongs to (`datastore_record`), when the test gives one.
    Record {
        /// The record the policy is evaluated on.
        record: Box<Record>,
        /// The job's data store: its `@datastore`, account, region and tags.
        datastore: Option<Box<Record>>,
    },
    /// A snapshot file (resolved relative to the policy file) and optionally one data store.
    Fixture {
        /// The snapshot file.
        path: PathBuf,
        /// The `DatastoreId` to test, or every data store of the file.
        datastore: Option<String>,
    },
}

/// The evaluation time of tests that do not set one (inline tests without `as_of`, fixture
/// cases without `--as-of`): fixed, so a test suite's result never depends on the day it
/// runs. 2026-01-01T00:00:00Z.
pub fn default_test_time() -> Timestamp {
    const SECONDS_TO_2026: i64 = 1_767_225_600;
    Timestamp(DateTime::UNIX_EPOCH + TimeDelta::seconds(SECONDS_TO_2026))
}

/// An inline test of a policy.
#[derive(Debug, Clone)]
pub struct TestCase {
    /// The test's name.
    pub name: String,
    /// What it runs on.
    pub input: TestInput,
    /// The evaluation time.
    pub as_of: Timestamp,
    /// The status every data store must end with.
    pub expect: Status,
    pub(crate) site: TestSite,
    pub(crate) conditions: TestConditions,
}

/// A policy's conditions: where it applies and what it asserts.
#[derive(Debug, Clone)]
pub(crate) struct Conditions {
    /// `applies_when`; `None` applies to every record.
    pub applies: Option<Cond>,
    /// `assert`.
    pub assert: Cond,
}

/// The conditions an inline test runs.
#[derive(Debug, Clone)]
pub(crate) enum TestConditions {
    /// The policy's own: the test sets no `params`.
    Policy,
    /// The policy's conditions compiled again with the test's `params`.
    WithParams(Arc<Conditions>),
}

impl TestCase {
    /// The `applies_when` and `assert` the test runs against `policy` (its own policy).
    pub(crate) fn conditions<'a>(
        &'a self,
        policy: &'a CompiledPolicy,
    ) -> (&'a Option<Cond>, &'a Cond) {
        match &self.conditions {
            TestConditions::Policy => (&policy.applies, &policy.assert),
            TestConditions::WithParams(c) => (&c.applies, &c.assert),
        }
    }

    /// Where the test is written (file, line, column). Looked up on first use: finding a
    /// node's line costs a parse of its file, and `check` never needs it.
    pub fn source(&self) -> &hlaudit_model::Source {
        self.site.source.get_or_init(|| {
            let (_, line, column) = FileWalk::new(&self.site.file, self.site.text.clone())
                .position(&self.site.at, false);
            hlaudit_model::Source {
                file: self.site.file.clone(),
                line: u32::try_from(line).unwrap_or(u32::MAX),
                column: u32::try_from(column).unwrap_or(u32::MAX),
            }
        })
    }
}

/// Where a test is written: its file and path there, and the position once looked up.
#[derive(Debug, Clone)]
pub(crate) struct TestSite {
    pub file: Arc<str>,
    pub text: Arc<str>,
    pub at: Vec<Seg>,
    pub source: OnceLock<hlaudit_model::Source>,
}

/// A set of compiled policies, in a stable order (by id). Findings refer to policies by
/// their index in this set.
#[derive(Debug, Clone, Default)]
pub struct CompiledPolicySet {
    pub(crate) policies: Vec<Arc<CompiledPolicy>>,
    pub(crate) shared: Arc<Shared>,
}

/// Which policies to keep ([`CompiledPolicySet::select`]).
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Keep only ids matching one of these (exact ids or globs such as `HL-MD-*`); empty
    /// keeps all.
    pub only: Vec<String>,
    /// Drop ids matching one of these.
    pub skip: Vec<String>,
    /// Keep only policies with one of these tags (case-insensitive); empty keeps all.
    pub tags: Vec<String>,
    /// Keep only policies mapped to one of these frameworks (case-insensitive); empty
    /// keeps all.
    pub frameworks: Vec<String>,
    /// Keep only policies at or above this severity.
    pub min_severity: Option<Severity>,
}

/// A problem with a selection (a glob that does not compile).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{pattern}` is not a valid id pattern: {message}")]
pub struct SelectionError {
    /// The pattern as given.
    pub pattern: String,
    /// Why it is invalid.
    pub message: String,
}

fn globs(patterns: &[String]) -> Result<Option<globset::GlobSet>, SelectionError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let g = Glob::new(p).map_err(|e| SelectionError {
            pattern: p.clone(),
            message: e.kind().to_string(),
        })?;
        b.add(g);
    }
    b.build().map(Some).map_err(|e| SelectionError {
        pattern: patterns.join(","),
        message: e.to_string(),
    })
}

impl CompiledPolicySet {
    /// The number of policies.
    pub fn len(&self) -> usize {
        self.policies.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// The policies, in set order.
    pub fn policies(&self) -> impl ExactSizeIterator<Item = &CompiledPolicy> {
        self.policies.iter().map(|p| &**p)
    }

    /// The policy at an index.
    pub fn get(&self, index: usize) -> Option<&CompiledPolicy> {
        self.policies.get(index).map(|p| &**p)
    }

    /// The index of a policy by id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.policies.iter().position(|p| p.meta.id == id)
    }

    /// The metadata of every policy, in set order (for `Report::policies`).
    pub fn metas(&self) -> Vec<PolicyMeta> {
        self.policies.iter().map(|p| p.meta.clone()).collect()
    }

    /// Keeps the policies a selection names, in the same order.
    pub fn select(&self, sel: &Selection) -> Result<CompiledPolicySet, SelectionError> {
        let only = globs(&sel.only)?;
        let skip = globs(&sel.skip)?;
        let lower = |v: &[String]| v.iter().map(|s| s.to_lowercase()).collect::<Vec<_>>();
        let (tags, fws) = (lower(&sel.tags), lower(&sel.frameworks));
        let policies = self
            .policies
            .iter()
            .filter(|p| {
                let m = &p.meta;
                only.as_ref().is_none_or(|g| g.is_match(&m.id))
                    && !skip.as_ref().is_some_and(|g| g.is_match(&m.id))
                    && (tags.is_empty() || m.tags.iter().any(|t| tags.contains(&t.to_lowercase())))
                    && (fws.is_empty()
                        || m.compliance.keys().any(|f| fws.contains(&f.to_lowercase())))
                    && sel.min_severity.is_none_or(|s| m.severity >= s)
            })
            .cloned()
            .collect();
        Ok(CompiledPolicySet {
            policies,
            shared: self.shared.clone(),
        })
    }

    /// The record fields the set reads (for diagnostics and benchmarks).
    pub fn fields_read(&self) -> BTreeMap<String, bool> {
        fn walk(t: &crate::value::Trie, prefix: &str, out: &mut BTreeMap<String, bool>) {
            for (k, c) in &t.children {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(p.clone(), c.all);
                walk(c, &p, out);
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.shared.trie, "", &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_test_time_is_the_start_of_2026() {
        assert_eq!(
            Some(default_test_time()),
            Timestamp::parse("2026-01-01T00:00:00Z").ok()
        );
    }
}

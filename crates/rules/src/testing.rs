//! Running policies' inline tests and fixture-folder cases (`hlaudit rules test`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hlaudit_model::link::{link_to_datastores, DatastoreIndex, DatastoreOf};
use hlaudit_model::{Record, Status, Timestamp};

use crate::engine::{evaluate_policy, with_env, EvalOptions};
use crate::set::{CompiledPolicy, CompiledPolicySet, TestInput};

/// A record a test evaluates a policy on, and for a job the data store it belongs to.
type Subject = (Record, Option<Record>);

/// The records of a fixture file the policy applies to, each job with its data store
/// from the same file (linked as an inventory links them).
fn fixture_subjects(p: &CompiledPolicy, mut records: Vec<Record>) -> Vec<Subject> {
    link_to_datastores(&mut records);
    let index = DatastoreIndex::of(&records);
    records
        .iter()
        .filter(|r| p.applies_to(r.kind()))
        .map(|r| {
            let store = match index.datastore_of(&records, r) {
                DatastoreOf::Found(d) => records.get(d).cloned(),
                _ => None,
            };
            (r.clone(), store)
        })
        .collect()
}

/// Reads the records of a snapshot file (supplied by the caller, which owns snapshot
/// reading); the error is a message for people.
pub type FixtureReader<'a> = &'a dyn Fn(&Path) -> Result<Vec<Record>, String>;

/// The outcome of one test on one data store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// The policy id.
    pub policy: String,
    /// The test's name (`fixture FILE` for fixture-folder cases), plus the data store id
    /// when a fixture holds several.
    pub name: String,
    /// Where the test is (policy file and line, or the fixture file).
    pub location: String,
    /// The expected status.
    pub expected: Status,
    /// The status it ended with, or `None` when the input could not be read.
    pub actual: Option<Status>,
    /// Why it failed (unexpected status with its message, or the read error).
    pub detail: String,
}

impl TestResult {
    /// Whether the test passed.
    pub fn passed(&self) -> bool {
        self.actual == Some(self.expected)
    }
}

/// Per-policy coverage: does it have a passing and a failing case?
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Some case expects PASS.
    pub pass: bool,
    /// Some case expects FAIL.
    pub fail: bool,
    /// Some case expects SKIP.
    pub skip: bool,
    /// The policy applies to data stores a template or plan will create (it is about
    /// data stores and not `runtime: true`), so it needs planned cases too.
    pub needs_planned: bool,
    /// Some case on a planned data store (a template or plan) expects PASS.
    pub planned_pass: bool,
    /// Some case on a planned data store expects FAIL.
    pub planned_fail: bool,
}

impl Coverage {
    /// A passing and a failing case, and for a policy that applies to planned data
    /// stores, a passing and a failing template or plan case as well.
    pub fn complete(&self) -> bool {
        self.pass && self.fail && (!self.needs_planned || (self.planned_pass && self.planned_fail))
    }
}

/// All results of a test run.
#[derive(Debug, Clone, Default)]
pub struct TestReport {
    /// Every test result, in policy order.
    pub results: Vec<TestResult>,
    /// Coverage per policy id (every policy of the set appears).
    pub coverage: BTreeMap<String, Coverage>,
}

impl TestReport {
    /// Whether every test passed.
    pub fn all_passed(&self) -> bool {
        self.results.iter().all(TestResult::passed)
    }
}

/// Runs every inline test of every policy of `set`, and, when `cases` is given, every
/// fixture case `CASES/<POLICY-ID>/<status>[-anything].json|jsonl|yaml|yml` (every data
/// store of the file, existing or planned, must end with that status, evaluated at
/// `cases_as_of`). A case file is a snapshot, a template or a plan, as `read` recognises
/// it; with cases, a policy about data stores that is not `runtime: true` is complete only
/// with a passing and a failing planned case too.
pub fn run_tests(
    set: &CompiledPolicySet,
    read: FixtureReader<'_>,
    cases: Option<&Path>,
    cases_as_of: Timestamp,
) -> TestReport {
    let mut report = TestReport::default();
    for (pi, p) in set.policies.iter().enumerate() {
        let cov = report.coverage.entry(p.meta.id.clone()).or_default();
        // With fixture cases, a policy that applies to planned data stores needs template
        // or plan cases as well.
        cov.needs_planned =
            cases.is_some() && p.applies_to(hlaudit_model::Kind::Datastore) && !p.is_runtime();
        for t in &p.tests {
            mark(cov, t.expect);
        }
        for t in &p.tests {
            let (applies, assert) = t.conditions(p);
            let source = t.source();
            let location = format!("{}:{}", source.file, source.line);
            let records: Result<Vec<Subject>, String> = match &t.input {
                TestInput::Record { record, datastore } => {
                    Ok(vec![((**record).clone(), datastore.as_deref().cloned())])
                }
                TestInput::Fixture { path, datastore } => read(path).map(|rs| {
                    fixture_subjects(p, rs)
                        .into_iter()
                        .filter(|(r, _)| datastore.as_deref().is_none_or(|d| r.id() == Some(d)))
                        .collect()
                }),
            };
            let records = match records {
                Ok(rs) if rs.is_empty() => Err(format!(
                    "the fixture holds no matching {}",
                    p.kinds()
                        .iter()
                        .map(|k| k.noun())
                        .collect::<Vec<_>>()
                        .join(" or ")
                )),
                other => other,
            };
            match records {
                Err(e) => report.results.push(TestResult {
                    policy: p.meta.id.clone(),
                    name: t.name.clone(),
                    location,
                    expected: t.expect,
                    actual: None,
                    detail: e,
                }),
                Ok(rs) => {
                    let several = rs.len() > 1;
                    for (r, store) in rs {
                        let opts = EvalOptions::at(t.as_of);
                        let o = with_env(set, &r, store.as_ref(), opts, |env| match env {
                            Ok(env) => evaluate_policy(p, applies, assert, &r, env),
                            Err(e) => crate::engine::Outcome {
                                status: Status::Error,
                                message: e,
                                ..crate::engine::Outcome::default()
                            },
                        });
                        report.results.push(result(
                            &p.meta.id,
                            if several {
                                format!("{} [{}]", t.name, r.id().unwrap_or(&r.key()))
                            } else {
                                t.name.clone()
                            },
                            location.clone(),
                            t.expect,
                            o,
                        ));
                    }
                }
            }
        }
        if let Some(dir) = cases {
            run_case_dir(
                set,
                pi,
                &dir.join(&p.meta.id),
                read,
                cases_as_of,
                &mut report,
            );
        }
    }
    report
}

fn mark(cov: &mut Coverage, s: Status) {
    match s {
        Status::Pass => cov.pass = true,
        Status::Fail => cov.fail = true,
        Status::Skip => cov.skip = true,
        _ => {}
    }
}

fn result(
    policy: &str,
    name: String,
    location: String,
    expected: Status,
    o: crate::engine::Outcome,
) -> TestResult {
    let detail = if o.status == expected {
        String::new()
    } else {
        let mut d = format!("expected {expected}, got {}", o.status);
        if !o.message.is_empty() {
            d.push_str(": ");
            d.push_str(&o.message);
        }
        for e in &o.evidence {
            let found = e
                .found
                .as_ref()
                .map_or("not present".to_owned(), |v| v.to_string());
            d.push_str(&format!(
                "\n    at {}: found {found}; expected {}",
                e.pointer, e.expected
            ));
        }
        d
    };
    TestResult {
        policy: policy.to_owned(),
        name,
        location,
        expected,
        actual: Some(o.status),
        detail,
    }
}

fn run_case_dir(
    set: &CompiledPolicySet,
    pi: usize,
    dir: &Path,
    read: FixtureReader<'_>,
    as_of: Timestamp,
    report: &mut TestReport,
) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    let p = &set.policies[pi];
    for f in files {
        let Some(stem) = f.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if ![".json", ".jsonl", ".yaml", ".yml"]
            .iter()
            .any(|ext| stem.ends_with(ext))
        {
            continue;
        }
        let word = stem.split(['-', '.']).next().unwrap_or("");
        let Ok(expect) = word.parse::<Status>() else {
            continue;
        };
        if expect == Status::Waived {
            continue;
        }
        if let Some(c) = report.coverage.get_mut(&p.meta.id) {
            mark(c, expect);
        }
        let location = f.display().to_string();
        match read(&f) {
            Err(e) => report.results.push(TestResult {
                policy: p.meta.id.clone(),
                name: format!("fixture {stem}"),
                location,
                expected: expect,
                actual: None,
                detail: e,
            }),
            Ok(rs) => {
                for (r, store) in fixture_subjects(p, rs) {
                    let opts = EvalOptions::at(as_of);
                    let o = if r.identity().is_planned() {
                        if let Some(c) = report.coverage.get_mut(&p.meta.id) {
                            match expect {
                                Status::Pass => c.planned_pass = true,
                                Status::Fail => c.planned_fail = true,
                                _ => {}
                            }
                        }
                        crate::planned::outcome(set, p, &crate::planned::Shapes::of(&r), opts)
                    } else {
                        with_env(set, &r, store.as_ref(), opts, |env| match env {
                            Ok(env) => evaluate_policy(p, &p.applies, &p.assert, &r, env),
                            Err(e) => crate::engine::Outcome {
                                status: Status::Error,
                                message: e,
                                ..crate::engine::Outcome::default()
                            },
                        })
                    };
                    report.results.push(result(
                        &p.meta.id,
                        format!("fixture {stem} [{}]", r.id().unwrap_or(&r.key())),
                        location.clone(),
                        expect,
                        o,
                    ));
                }
            }
        }
    }
}

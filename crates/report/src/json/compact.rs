//! Which findings of a report version 3 writes as a compact pair, and rebuilding them.
//!
//! A PASS or SKIP finding that holds nothing but its policy, resource, status and the
//! policy's severity is fully described by "policy P on resource R: PASS". Version 3 writes
//! such a pair as one index in `outcomes[].pass` or `outcomes[].skip`; everything else (a
//! FAIL, ERROR or WAIVED finding, a scope, and any PASS or SKIP pair with a message,
//! evidence, a location, `undecided`, a waiver, a baseline state or another severity) stays
//! a full finding, so nothing a version 2 report carried is lost.

use std::collections::{BTreeMap, BTreeSet};

use hlaudit_model::finding::{fingerprint, Finding, Severity, Status};
use hlaudit_model::report::Report;

use super::{JsonFinding, JsonOutcomes, JsonPolicyRef, JsonReport, PairProblem};
use crate::ReportError;

/// The findings of a report split into full findings and compact pairs.
pub(super) struct Split {
    /// Positions in `report.findings` of the findings written in full, in report order.
    pub full: Vec<usize>,
    /// The compact pairs of each policy that has some, in `report.policies` order.
    pub outcomes: Vec<Lists>,
}

/// The compact pairs of one policy: indices into `report.resources`, ascending. (`u32`:
/// millions of them are held while the report is written.)
pub(super) struct Lists {
    /// Index into `report.policies`.
    pub policy: usize,
    /// Resources the policy passes.
    pub pass: Vec<u32>,
    /// Resources the policy skips.
    pub skip: Vec<u32>,
}

/// The resource index of a finding the compact form can hold: a PASS or SKIP on a record
/// with the policy's severity and nothing else to say.
fn compact_index(report: &Report, f: &Finding) -> Option<u32> {
    let index = f.record_index()?;
    let plain = matches!(f.status, Status::Pass | Status::Skip)
        && index < report.resources.len()
        && f.severity == report.policies[f.policy_index()].severity
        && f.baseline().is_none()
        && f.message().is_empty()
        && f.evidence().is_empty()
        && f.location().is_none()
        && !f.undecided()
        && f.waiver().is_none();
    plain.then(|| u32::try_from(index).ok()).flatten()
}

impl Split {
    /// Splits `report` (whose findings all name one of its policies: see
    /// [`crate::check_policies`]).
    pub fn of(report: &Report) -> Self {
        // Per policy: (resource index, position in the findings) of each candidate pair.
        let mut candidates: Vec<Vec<(u32, u32)>> = vec![Vec::new(); report.policies.len()];
        for (pos, f) in report.findings.iter().enumerate() {
            let Ok(pos) = u32::try_from(pos) else {
                break; // beyond 4 billion findings, the rest stay full
            };
            if let Some(index) = compact_index(report, f) {
                candidates[f.policy_index()].push((index, pos));
            }
        }
        // A policy id given twice, or a pair given twice, cannot be told apart in the
        // compact form: those findings stay full.
        let mut ids = BTreeSet::new();
        let repeated: BTreeSet<&str> = report
            .policies
            .iter()
            .filter(|p| !ids.insert(p.id.as_str()))
            .map(|p| p.id.as_str())
            .collect();
        let mut compact = vec![false; report.findings.len()];
        let mut outcomes = Vec::new();
        for (policy, mut pairs) in candidates.into_iter().enumerate() {
            if pairs.is_empty() || repeated.contains(report.policies[policy].id.as_str()) {
                continue;
            }
            pairs.sort_unstable();
            let mut lists = Lists {
                policy,
                pass: Vec::new(),
                skip: Vec::new(),
            };
            for (i, &(index, pos)) in pairs.iter().enumerate() {
                let twice = (i > 0 && pairs[i - 1].0 == index)
                    || pairs.get(i + 1).is_some_and(|next| next.0 == index);
                if twice {
                    continue;
                }
                let pos = pos as usize;
                compact[pos] = true;
                if report.findings[pos].status == Status::Pass {
                    lists.pass.push(index);
                } else {
                    lists.skip.push(index);
                }
            }
            if !(lists.pass.is_empty() && lists.skip.is_empty()) {
                outcomes.push(lists);
            }
        }
        let full = (0..report.findings.len())
            .filter(|&i| !compact[i])
            .collect();
        Split { full, outcomes }
    }
}

impl JsonOutcomes {
    /// The compact pairs of one policy of `report`.
    pub(super) fn of(report: &Report, lists: &Lists) -> Self {
        let policy = &report.policies[lists.policy];
        JsonOutcomes {
            policy: policy.id.clone(),
            severity: policy.severity,
            pass: lists.pass.iter().map(|&i| i as usize).collect(),
            skip: lists.skip.iter().map(|&i| i as usize).collect(),
        }
    }
}

/// Where in the compact section a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// `resources[i]`.
    Resource(usize),
    /// `outcomes[k]` (its `policy`).
    Outcome(usize),
    /// `outcomes[k].pass[i]` (`true`) or `outcomes[k].skip[i]`.
    Index(usize, bool, usize),
}

impl Place {
    fn path(self) -> String {
        match self {
            Place::Resource(i) => format!("resources[{i}]"),
            Place::Outcome(k) => format!("outcomes[{k}]"),
            Place::Index(k, pass, i) => {
                format!("outcomes[{k}].{}[{i}]", if pass { "pass" } else { "skip" })
            }
        }
    }
}

/// A problem of the compact section and where it is.
#[derive(Debug)]
pub(super) struct Bad(Place, PairProblem);

impl Bad {
    /// The error, located in `text`, the document the report was read from.
    pub fn located(self, text: &[u8]) -> ReportError {
        let (line, column) = locate(text, self.0).unwrap_or((0, 0));
        ReportError::Pairs {
            path: self.0.path(),
            line,
            column,
            problem: self.1,
        }
    }
}

/// The line and column (1-based) where the value at `place` starts in `text`.
fn locate(text: &[u8], place: Place) -> Option<(usize, usize)> {
    use serde::Deserialize;
    use serde_json::value::RawValue;
    // Each value of the compact section as the slice of `text` it was read from.
    #[derive(Deserialize)]
    struct Doc<'a> {
        #[serde(borrow, default)]
        outcomes: Vec<Outcome<'a>>,
        #[serde(borrow, default)]
        resources: Vec<&'a RawValue>,
    }
    #[derive(Deserialize)]
    struct Outcome<'a> {
        #[serde(borrow)]
        policy: &'a RawValue,
        #[serde(borrow, default)]
        pass: Vec<&'a RawValue>,
        #[serde(borrow, default)]
        skip: Vec<&'a RawValue>,
    }
    let doc: Doc<'_> = serde_json::from_slice(text).ok()?;
    let value = match place {
        Place::Resource(i) => doc.resources.get(i)?,
        Place::Outcome(k) => doc.outcomes.get(k)?.policy,
        Place::Index(k, pass, i) => {
            let o = doc.outcomes.get(k)?;
            if pass {
                o.pass.get(i)?
            } else {
                o.skip.get(i)?
            }
        }
    };
    let offset = (value.get().as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    let before = text.get(..offset)?;
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = offset
        - before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |n| n + 1)
        + 1;
    Some((line, column))
}

/// Checks the compact section of a report as read: every resource with an identity, every
/// policy known and listed once, every index a resource's, ascending, and no resource both
/// passed and skipped.
pub(super) fn check(report: &JsonReport) -> Result<(), Bad> {
    let resources = report.resource_list();
    if let Some(i) = resources.iter().position(|r| r.identity.is_none()) {
        return Err(Bad(Place::Resource(i), PairProblem::NoIdentity));
    }
    let known: BTreeSet<&str> = report.policies.iter().map(|p| p.id.as_str()).collect();
    let mut seen = BTreeSet::new();
    for (k, o) in report.outcome_list().iter().enumerate() {
        if !known.contains(o.policy.as_str()) {
            let problem = PairProblem::UnknownPolicy(o.policy.clone());
            return Err(Bad(Place::Outcome(k), problem));
        }
        if !seen.insert(o.policy.as_str()) {
            let problem = PairProblem::PolicyTwice(o.policy.clone());
            return Err(Bad(Place::Outcome(k), problem));
        }
        for (pass, list) in [(true, &o.pass), (false, &o.skip)] {
            for (i, &index) in list.iter().enumerate() {
                let place = Place::Index(k, pass, i);
                if index >= resources.len() {
                    let resources = resources.len();
                    let problem = PairProblem::NoSuchResource { index, resources };
                    return Err(Bad(place, problem));
                }
                if i > 0 && list[i - 1] >= index {
                    return Err(Bad(place, PairProblem::NotAscending));
                }
            }
        }
        // `skip` ascends (checked above), so it can be searched.
        if let Some(i) = o
            .pass
            .iter()
            .position(|index| o.skip.binary_search(index).is_ok())
        {
            let problem = PairProblem::PassedAndSkipped(o.pass[i]);
            return Err(Bad(Place::Index(k, true, i), problem));
        }
    }
    Ok(())
}

impl JsonReport {
    /// The compact section's pairs as full findings, as a version 2 report carried them:
    /// fingerprint, policy id and title, status, severity, the resource, an empty message
    /// and no evidence. Policy by policy, PASS before SKIP, resources in index order.
    ///
    /// Fails on a pair that names a policy or resource the report lacks (which [`read`]
    /// refuses already).
    ///
    /// [`read`]: super::read
    pub fn compact_findings(&self) -> impl Iterator<Item = Result<JsonFinding, ReportError>> + '_ {
        let titles: BTreeMap<&str, &str> = self
            .policies
            .iter()
            .rev() // the first policy of a repeated id wins
            .map(|p| (p.id.as_str(), p.title.as_str()))
            .collect();
        self.outcome_list()
            .iter()
            .enumerate()
            .flat_map(move |(k, o)| {
                let title = titles.get(o.policy.as_str()).copied();
                let lists = [
                    (Status::Pass, true, &o.pass),
                    (Status::Skip, false, &o.skip),
                ];
                lists.into_iter().flat_map(move |(status, pass, list)| {
                    list.iter().enumerate().map(move |(i, &index)| {
                        // An in-memory document: no line or column to give.
                        let bad = |problem| Bad(Place::Index(k, pass, i), problem).located(b"");
                        let title = title
                            .ok_or_else(|| bad(PairProblem::UnknownPolicy(o.policy.clone())))?;
                        self.pair(&o.policy, title, o.severity, status, index)
                            .ok_or_else(|| {
                                bad(PairProblem::NoSuchResource {
                                    index,
                                    resources: self.resource_list().len(),
                                })
                            })
                    })
                })
            })
    }

    /// One compact pair as a full finding; `None` when the resource is not listed or has no
    /// identity.
    fn pair(
        &self,
        policy: &str,
        title: &str,
        severity: Severity,
        status: Status,
        index: usize,
    ) -> Option<JsonFinding> {
        let resource = self.resource_list().get(index)?;
        let key = resource.identity.as_ref()?.key(resource.kind);
        Some(JsonFinding {
            fingerprint: fingerprint(policy, &key),
            policy: JsonPolicyRef {
                id: policy.to_owned(),
                title: title.to_owned(),
            },
            status,
            severity,
            message: String::new(),
            resource: Some(resource.clone()),
            scope: None,
            evidence: Vec::new(),
            location: None,
            undecided: false,
            waiver: None,
            baseline: None,
        })
    }

    /// Every (policy, resource) pair as a full finding, in report order (policy id, then
    /// resource key): the findings and the compact section's pairs, rebuilt. For a version
    /// 1 or 2 report, its findings as they are. Holds every pair in memory: baselines and
    /// `diff` need only [`JsonReport::findings`], where every FAIL, ERROR and WAIVED
    /// finding is.
    pub fn every_finding(&self) -> Result<Vec<JsonFinding>, ReportError> {
        let mut all = self.findings.clone();
        for f in self.compact_findings() {
            all.push(f?);
        }
        // Stable, so findings with the same key keep their written order.
        all.sort_by_cached_key(|f| (f.policy.id.clone(), f.resource_key()));
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::json::{read, write_form, Form};
    use hlaudit_model::finding::{BaselineState, Evidence, Subject};
    use hlaudit_model::report::{PolicyMeta, Resource};
    use hlaudit_model::{Inventory, Source, Timestamp};

    /// Two policies (`A` high, `B` low) on three data stores, with the findings given as
    /// (policy, store, status) and then adjusted by `tweak`.
    fn report(pairs: &[(usize, usize, Status)], tweak: impl Fn(usize, &mut Finding)) -> Report {
        let mut r = Report::for_inventory(&Inventory::default(), Timestamp::now());
        for (id, severity) in [("A", Severity::High), ("B", Severity::Low)] {
            let mut meta = PolicyMeta::collection_error();
            meta.id = id.into();
            meta.title = format!("policy {id}");
            meta.severity = severity;
            r.policies.push(meta);
        }
        for i in 0..3 {
            r.resources.push(Resource::datastore(&format!(
                "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/s{i}"
            )));
        }
        for (n, &(p, index, status)) in pairs.iter().enumerate() {
            let severity = r.policies[p].severity;
            let mut f = Finding::new(p, Subject::Record { index }, status, severity);
            tweak(n, &mut f);
            r.findings.push(f);
        }
        r.sort_findings();
        r
    }

    fn full_statuses(r: &Report) -> Vec<(usize, usize, Status)> {
        Split::of(r)
            .full
            .iter()
            .map(|&i| {
                let f = &r.findings[i];
                let index = f.record_index().unwrap();
                (f.policy_index(), index, f.status)
            })
            .collect()
    }

    use Status::{Fail, Pass, Skip, Waived};

    #[test]
    fn only_plain_pass_and_skip_pairs_are_compact() {
        let pairs = [
            (0, 0, Pass),
            (0, 1, Fail),
            (0, 2, Skip),
            (1, 0, Waived),
            (1, 1, Pass),
            (1, 2, Skip),
        ];
        let plain = report(&pairs, |_, _| {});
        assert_eq!(full_statuses(&plain), vec![(0, 1, Fail), (1, 0, Waived)]);
        let split = Split::of(&plain);
        let lists: Vec<_> = split
            .outcomes
            .iter()
            .map(|l| (l.policy, l.pass.clone(), l.skip.clone()))
            .collect();
        assert_eq!(lists, vec![(0, vec![0], vec![2]), (1, vec![1], vec![2])]);

        // Each thing the compact form cannot hold keeps its pair full.
        let tweaks: [&dyn Fn(&mut Finding); 6] = [
            &|f| f.set_baseline(Some(BaselineState::Absent)),
            &|f| f.severity = Severity::Critical,
            &|f| f.set_undecided(true),
            &|f| {
                f.set_location(Some(Source {
                    file: "t.yaml".into(),
                    line: 3,
                    column: 5,
                }))
            },
            &|f| f.set_message("unknown until deploy".into()),
            &|f| {
                f.set_evidence(vec![Evidence {
                    pointer: "/X".into(),
                    found: None,
                    expected: "a value".into(),
                    note: None,
                }])
            },
        ];
        for tweak in tweaks {
            // The SKIP of B on s2 is the sixth pair given.
            let r = report(&pairs, |n, f| {
                if n == 5 {
                    tweak(f)
                }
            });
            assert_eq!(
                full_statuses(&r),
                vec![(0, 1, Fail), (1, 0, Waived), (1, 2, Skip)]
            );
        }
    }

    #[test]
    fn a_pair_given_twice_stays_full() {
        let r = report(&[(0, 0, Pass), (0, 0, Skip), (0, 1, Pass)], |_, _| {});
        assert_eq!(full_statuses(&r), vec![(0, 0, Pass), (0, 0, Skip)]);
        // and both readings of it agree
        let every = |form| {
            let mut out = Vec::new();
            write_form(&r, None, form, &mut out).unwrap();
            read(&mut &out[..]).unwrap().every_finding().unwrap()
        };
        assert_eq!(every(Form::Compact), every(Form::Full));
    }

    fn read_doc(doc: serde_json::Value) -> Result<JsonReport, ReportError> {
        read(&mut doc.to_string().as_bytes())
    }

    #[test]
    fn the_reader_refuses_pairs_that_contradict_the_report() {
        let r = report(&[(0, 0, Pass), (0, 1, Skip), (1, 2, Pass)], |_, _| {});
        let mut out = Vec::new();
        write_form(&r, None, Form::Compact, &mut out).unwrap();
        let good: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert!(read_doc(good.clone()).is_ok());
        let cases: [(&str, serde_json::Value, &str); 5] = [
            (
                "/outcomes/0/policy",
                "Z".into(),
                "outcomes[0]: the report has no policy `Z`",
            ),
            (
                "/outcomes/1/policy",
                "A".into(),
                "outcomes[1]: policy `A` is listed twice",
            ),
            (
                "/outcomes/0/pass",
                serde_json::json!([0, 7]),
                "outcomes[0].pass[1]: resource 7 is not listed (the report lists 3 resources)",
            ),
            (
                "/outcomes/0/skip",
                serde_json::json!([1, 1]),
                "outcomes[0].skip[1]: the indices do not ascend",
            ),
            (
                "/outcomes/0/skip",
                serde_json::json!([0]),
                "outcomes[0].pass[0]: resource 0 is both passed and skipped",
            ),
        ];
        for (pointer, value, want) in cases {
            let mut doc = good.clone();
            *doc.pointer_mut(pointer).unwrap() = value;
            let err = read_doc(doc).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(want), "{text}");
            // Located in the text: the documents here are on one line.
            assert!(
                matches!(err, ReportError::Pairs { line: 1, column, .. } if column > 1),
                "{text}"
            );
        }
        let mut doc = good.clone();
        doc["resources"][2]
            .as_object_mut()
            .unwrap()
            .remove("identity");
        let err = read_doc(doc).unwrap_err().to_string();
        assert!(
            err.contains("resources[2]: the resource has no `identity`"),
            "{err}"
        );
    }

    #[test]
    fn problems_are_located_on_their_line() {
        let r = report(&[(0, 0, Pass), (0, 1, Skip), (1, 2, Pass)], |_, _| {});
        let mut out = Vec::new();
        write_form(&r, None, Form::Compact, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let line = text
            .lines()
            .position(|l| l.contains("\"policy\":\"B\""))
            .unwrap()
            + 1;
        let broken = text.replacen("\"pass\":[2]", "\"pass\":[2,2]", 1);
        match read(&mut broken.as_bytes()).unwrap_err() {
            ReportError::Pairs {
                path,
                line: l,
                column,
                problem,
            } => {
                assert_eq!((path.as_str(), l), ("outcomes[1].pass[1]", line));
                assert_eq!(
                    &broken.lines().nth(l - 1).unwrap()[column - 1..column + 2],
                    "2],"
                );
                assert_eq!(problem, PairProblem::NotAscending);
            }
            other => panic!("unexpected {other}"),
        }
    }
}

//! The auditor's view: each control of a compliance framework with the policies that map
//! to it and how the data stores fared.
//!
//! A policy names the controls it supports (`PolicyMeta::compliance`); a
//! [`FrameworkCatalogue`] lists every control of a framework, so that a control no policy
//! maps to is shown as [`ControlStatus::NotCovered`] instead of silently missing: the view
//! never implies coverage the pack lacks. The catalogue is data handed in by the caller
//! (the built-in one is embedded by `hlaudit-rules`); this module only counts findings.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::finding::Status;
use crate::report::Report;

/// Every control of one framework.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkCatalogue {
    /// The framework's name as policies spell it in `compliance`, e.g. `HIPAA`.
    pub framework: String,
    /// Its full title, e.g. `HIPAA Security Rule (45 CFR Part 164, Subpart C)`.
    pub title: String,
    /// What part of the framework the catalogue lists, shown with the view (e.g.
    /// `controls of families AC, AU, ... listed`).
    pub scope: String,
    /// The controls, in the framework's order.
    pub controls: Vec<Control>,
}

/// One control (or HIPAA implementation specification).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// Its id exactly as policies spell it, e.g. `164.312(a)(2)(iv)` or `SC-28(1)`.
    pub id: String,
    /// Its title.
    pub title: String,
}

/// How a control fares overall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlStatus {
    /// A mapped (policy, resource) pair failed or could not be evaluated.
    Failing,
    /// No mapped pair failed or erred, and at least one passed.
    Passing,
    /// Policies map to it, but none passed, failed or erred (all skipped or waived).
    NotEvaluated,
    /// No evaluated policy maps to it.
    NotCovered,
}

impl ControlStatus {
    /// The label reports show, e.g. `NOT COVERED`.
    pub fn label(self) -> &'static str {
        match self {
            ControlStatus::Failing => "FAILING",
            ControlStatus::Passing => "PASSING",
            ControlStatus::NotEvaluated => "NOT EVALUATED",
            ControlStatus::NotCovered => "NOT COVERED",
        }
    }
}

/// Resources (data stores, planned data stores, jobs) counted by how the pairs of a
/// control's policies fared on them. A resource is counted once per mapped policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlCounts {
    /// PASS pairs.
    pub passing: usize,
    /// FAIL pairs.
    pub failing: usize,
    /// WAIVED pairs.
    pub waived: usize,
    /// ERROR pairs (collection errors included, when a policy maps the control).
    pub erroring: usize,
    /// SKIP pairs, undecided planned pairs included.
    pub not_evaluated: usize,
}

impl ControlCounts {
    fn add(&mut self, status: Status) {
        match status {
            Status::Pass => self.passing += 1,
            Status::Fail => self.failing += 1,
            Status::Waived => self.waived += 1,
            Status::Error => self.erroring += 1,
            Status::Skip => self.not_evaluated += 1,
        }
    }

    fn status(&self, covered: bool) -> ControlStatus {
        if !covered {
            ControlStatus::NotCovered
        } else if self.failing + self.erroring > 0 {
            ControlStatus::Failing
        } else if self.passing > 0 {
            ControlStatus::Passing
        } else {
            ControlStatus::NotEvaluated
        }
    }
}

/// One control in the view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlView {
    /// The control's id.
    pub id: String,
    /// Its title (empty for an id the catalogue does not list).
    pub title: String,
    /// Its overall status.
    pub status: ControlStatus,
    /// The ids of the evaluated policies that map to it, sorted.
    pub policies: Vec<String>,
    /// The counts over those policies' findings.
    pub counts: ControlCounts,
}

/// One framework in the view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FrameworkView {
    /// The framework's name, e.g. `HIPAA`.
    pub framework: String,
    /// Its title (the name again when there is no catalogue).
    pub title: String,
    /// What the catalogue lists (empty when there is none).
    pub scope: String,
    /// The catalogue's controls in its order, then any control a policy names that the
    /// catalogue lacks, sorted.
    pub controls: Vec<ControlView>,
}

/// The compliance view of a report: one entry per framework, sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceView {
    /// The frameworks.
    pub frameworks: Vec<FrameworkView>,
}

impl ComplianceView {
    /// Builds the view of `report` for the frameworks of `catalogues` and those its
    /// policies name. With `only` non-empty, only the frameworks named there (compared
    /// without regard to case) are kept.
    pub fn build(report: &Report, catalogues: &[FrameworkCatalogue], only: &[String]) -> Self {
        let wanted =
            |name: &str| only.is_empty() || only.iter().any(|o| o.eq_ignore_ascii_case(name));
        // Counts per policy, computed once: a policy maps to several controls.
        let mut per_policy = vec![ControlCounts::default(); report.policies.len()];
        for f in &report.findings {
            if f.record_index().is_some() || f.status == Status::Error {
                if let Some(c) = per_policy.get_mut(f.policy_index()) {
                    c.add(f.status);
                }
            }
        }
        // framework -> control -> policy indexes.
        let mut mapped: BTreeMap<&str, BTreeMap<&str, BTreeSet<usize>>> = BTreeMap::new();
        for (i, p) in report.policies.iter().enumerate() {
            for (framework, controls) in &p.compliance {
                for c in controls {
                    mapped
                        .entry(framework)
                        .or_default()
                        .entry(c)
                        .or_default()
                        .insert(i);
                }
            }
        }
        let mut names: BTreeSet<&str> = mapped.keys().copied().collect();
        names.extend(catalogues.iter().map(|c| c.framework.as_str()));
        let empty = BTreeMap::new();
        let frameworks = names
            .into_iter()
            .filter(|n| wanted(n))
            .map(|name| {
                let catalogue = catalogues.iter().find(|c| c.framework == name);
                let map = mapped.get(name).unwrap_or(&empty);
                let view = |id: &str, title: &str| {
                    let policies = map.get(id);
                    let mut counts = ControlCounts::default();
                    for &i in policies.into_iter().flatten() {
                        let c = per_policy[i];
                        counts.passing += c.passing;
                        counts.failing += c.failing;
                        counts.waived += c.waived;
                        counts.erroring += c.erroring;
                        counts.not_evaluated += c.not_evaluated;
                    }
                    let mut ids: Vec<String> = policies
                        .into_iter()
                        .flatten()
                        .map(|&i| report.policies[i].id.clone())
                        .collect();
                    ids.sort();
                    ControlView {
                        id: id.to_owned(),
                        title: title.to_owned(),
                        status: counts.status(!ids.is_empty()),
                        policies: ids,
                        counts,
                    }
                };
                let listed = catalogue.map(|c| c.controls.as_slice()).unwrap_or_default();
                let mut controls: Vec<ControlView> =
                    listed.iter().map(|c| view(&c.id, &c.title)).collect();
                controls.extend(
                    map.keys()
                        .filter(|id| !listed.iter().any(|c| c.id == **id))
                        .map(|id| view(id, "")),
                );
                FrameworkView {
                    framework: name.to_owned(),
                    title: catalogue.map_or(name, |c| c.title.as_str()).to_owned(),
                    scope: catalogue.map(|c| c.scope.clone()).unwrap_or_default(),
                    controls,
                }
            })
            .collect();
        ComplianceView { frameworks }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Finding, Severity, Subject};
    use crate::report::{PolicyMeta, Resource};
    use crate::{Inventory, Timestamp};

    fn policy(id: &str, controls: &[&str]) -> PolicyMeta {
        let mut p = PolicyMeta::collection_error();
        p.id = id.to_owned();
        p.compliance.insert(
            "HIPAA".into(),
            controls.iter().map(|c| (*c).to_owned()).collect(),
        );
        p
    }

    fn catalogue() -> FrameworkCatalogue {
        let c = |id: &str| Control {
            id: id.into(),
            title: format!("title of {id}"),
        };
        FrameworkCatalogue {
            framework: "HIPAA".into(),
            title: "HIPAA Security Rule".into(),
            scope: "all".into(),
            controls: vec![c("a"), c("b"), c("c"), c("d"), c("e")],
        }
    }

    fn report(findings: &[(usize, usize, Status)]) -> Report {
        let mut r = Report::for_inventory(&Inventory::default(), Timestamp::now());
        r.policies = vec![
            policy("HL-A", &["a", "b"]),
            policy("HL-B", &["b", "c"]),
            policy("HL-C", &["d", "x"]),
        ];
        for i in 0..3 {
            r.resources.push(Resource::datastore(&format!(
                "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/{i}"
            )));
        }
        for &(p, index, status) in findings {
            r.findings.push(Finding::new(
                p,
                Subject::Record { index },
                status,
                Severity::High,
            ));
        }
        r
    }

    fn control<'a>(v: &'a ComplianceView, id: &str) -> &'a ControlView {
        v.frameworks[0]
            .controls
            .iter()
            .find(|c| c.id == id)
            .unwrap()
    }

    #[test]
    fn a_control_fails_when_any_mapped_pair_fails() {
        use Status::*;
        let r = report(&[
            (0, 0, Pass),
            (0, 1, Pass),
            (1, 0, Fail),
            (1, 1, Waived),
            (2, 0, Skip),
        ]);
        let v = ComplianceView::build(&r, &[catalogue()], &[]);
        assert_eq!(control(&v, "a").status, ControlStatus::Passing);
        assert_eq!(control(&v, "a").counts.passing, 2);
        let b = control(&v, "b");
        assert_eq!(b.status, ControlStatus::Failing);
        assert_eq!(b.policies, ["HL-A", "HL-B"]);
        assert_eq!(
            (b.counts.passing, b.counts.failing, b.counts.waived),
            (2, 1, 1)
        );
        assert_eq!(control(&v, "c").status, ControlStatus::Failing);
        assert_eq!(control(&v, "d").status, ControlStatus::NotEvaluated);
        assert_eq!(control(&v, "d").counts.not_evaluated, 1);
    }

    #[test]
    fn a_control_fails_when_any_mapped_pair_errs() {
        let r = report(&[(0, 0, Status::Pass), (0, 1, Status::Error)]);
        let v = ComplianceView::build(&r, &[catalogue()], &[]);
        assert_eq!(control(&v, "a").status, ControlStatus::Failing);
        assert_eq!(control(&v, "a").counts.erroring, 1);
    }

    #[test]
    fn controls_no_policy_maps_are_not_covered_and_unlisted_ones_are_kept() {
        let v = ComplianceView::build(&report(&[]), &[catalogue()], &[]);
        let e = control(&v, "e");
        assert_eq!(e.status, ControlStatus::NotCovered);
        assert!(e.policies.is_empty());
        assert_eq!(ControlStatus::NotCovered.label(), "NOT COVERED");
        // A control the catalogue lacks comes last, untitled.
        let last = v.frameworks[0].controls.last().unwrap();
        assert_eq!((last.id.as_str(), last.title.as_str()), ("x", ""));
        // Filtering by framework name.
        assert!(
            ComplianceView::build(&report(&[]), &[catalogue()], &["nist".into()])
                .frameworks
                .is_empty()
        );
        assert_eq!(
            ComplianceView::build(&report(&[]), &[catalogue()], &["hipaa".into()])
                .frameworks
                .len(),
            1
        );
    }
}

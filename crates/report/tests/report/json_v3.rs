//! The compact JSON report (version 3) against the full one (version 2) of the same
//! report: readers, baselines and `diff` must not tell them apart.

use hlaudit_model::finding::{BaselineState, Evidence, Finding, Severity, Status, Subject};
use hlaudit_model::identity::{Identity, Planned};
use hlaudit_model::report::{PolicyMeta, Report, Resource};
use hlaudit_model::{Inventory, Kind, Source, Timestamp};
use hlaudit_report::baseline::{apply_baseline, diff, Baseline};
use hlaudit_report::json::{self, Form, JsonReport};
use proptest::prelude::*;

use crate::{fixture, render, FIXTURES};

/// `report` written in `form` and read back.
fn read_back(report: &Report, form: Form) -> JsonReport {
    let text = render(|o| json::write_form(report, None, form, o));
    json::read(&mut text.as_bytes()).unwrap()
}

/// Checks that the two forms of `report` read back as the same pairs, baseline and diff.
fn same_for_readers(report: &Report, later: &Report) -> Result<(), TestCaseError> {
    let full = read_back(report, Form::Full);
    let compact = read_back(report, Form::Compact);
    prop_assert_eq!(full.hlaudit_report, 2);
    prop_assert_eq!(compact.hlaudit_report, 3);
    prop_assert!(full.outcomes.is_none() && full.resources.is_none());
    // Every pair, rebuilt, is the finding version 2 wrote.
    let every = compact.every_finding().unwrap();
    prop_assert_eq!(&every, &full.findings);
    prop_assert_eq!(&full.every_finding().unwrap(), &full.findings);
    prop_assert_eq!(every.len(), report.findings.len());
    // Everything but the pairs is the same.
    prop_assert_eq!(&compact.summary, &full.summary);
    prop_assert_eq!(&compact.policies, &full.policies);
    // The baseline of either gives the same states, counts and gone results.
    let (mut a, mut b) = (later.clone(), later.clone());
    let out_full = apply_baseline(&mut a, &Baseline::from_report(&full));
    let out_compact = apply_baseline(&mut b, &Baseline::from_report(&compact));
    prop_assert_eq!(&out_full, &out_compact);
    prop_assert_eq!(&a, &b);
    // `diff` of any mix of forms is the same.
    let later_full = read_back(later, Form::Full);
    let later_compact = read_back(later, Form::Compact);
    let d = diff(&full, &later_full);
    prop_assert_eq!(&d, &diff(&compact, &later_compact));
    prop_assert_eq!(&d, &diff(&full, &later_compact));
    prop_assert_eq!(&d, &diff(&compact, &later_full));
    // And a report that carries baseline states (PASS and SKIP pairs `absent`) still
    // reads back the same in both forms.
    let with_states_full = read_back(&a, Form::Full);
    let with_states = read_back(&a, Form::Compact);
    prop_assert_eq!(
        &with_states.every_finding().unwrap(),
        &with_states_full.findings
    );
    Ok(())
}

#[test]
fn the_fixtures_read_back_the_same_in_both_forms() {
    for name in FIXTURES {
        // The engine gives findings in report order; the fixtures are written by hand.
        let mut report = fixture(name);
        report.sort_findings();
        let mut later = report.clone();
        // Fix every failure and break every pass, so the baseline has work to do.
        for f in &mut later.findings {
            f.status = match f.status {
                Status::Fail => Status::Pass,
                Status::Pass => Status::Fail,
                s => s,
            };
        }
        same_for_readers(&report, &later).unwrap();
        same_for_readers(&later, &report).unwrap();
    }
}

#[test]
fn a_v3_document_keeps_pass_and_skip_out_of_findings() {
    let report = fixture("mixed");
    let doc = read_back(&report, Form::Compact);
    let compact: usize = doc
        .outcome_list()
        .iter()
        .map(|o| o.pass.len() + o.skip.len())
        .sum();
    assert!(compact > 0);
    assert_eq!(compact + doc.findings.len(), report.findings.len());
    assert!(doc
        .findings
        .iter()
        .all(|f| !matches!(f.status, Status::Pass | Status::Skip)));
    assert_eq!(doc.resource_list().len(), report.resources.len());
}

/// A resource of one of three shapes: an existing data store, a planned one, a job.
fn resource(i: usize, shape: u8) -> Resource {
    let mut r = Resource::datastore(&format!(
        "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/{i:04}"
    ));
    match shape {
        0 => r.tags = Some([("Owner".to_owned(), format!("team-{i}"))].into()),
        1 => {
            r.identity = Identity::Planned(Box::new(Planned {
                file: "infra/stack.yaml".into(),
                address: format!("Store{i}"),
            }));
            r.id = None;
        }
        _ => {
            r.kind = Kind::ExportJob;
            r.identity = Identity::Job(Box::new(hlaudit_model::identity::JobOf {
                datastore_id: format!("{i:04}"),
                job_id: format!("job-{i}"),
            }));
        }
    }
    r
}

/// What a finding has beyond its status: nothing, or one of the things the compact form
/// cannot hold.
fn finding(policy: usize, index: usize, status: Status, severity: Severity, extra: u8) -> Finding {
    let mut f = Finding::new(policy, Subject::Record { index }, status, severity);
    if matches!(status, Status::Fail | Status::Error | Status::Waived) {
        f.set_message(format!("policy {policy} on {index}"));
    }
    match extra {
        1 => f.set_undecided(true),
        2 => f.set_location(Some(Source {
            file: "infra/stack.yaml".into(),
            line: 3 + index as u32,
            column: 7,
        })),
        3 => f.set_baseline(Some(BaselineState::Absent)),
        4 => f.severity = Severity::Critical,
        5 => f.set_evidence(vec![Evidence {
            pointer: "/DatastoreStatus".into(),
            found: Some("CREATING".into()),
            expected: "equal to \"ACTIVE\"".into(),
            note: None,
        }]),
        _ => {}
    }
    f
}

/// A report of up to 4 policies on up to 6 resources, each pair absent or of any status,
/// some with extras, plus a collection error now and then.
fn reports() -> impl Strategy<Value = Report> {
    (1usize..5, proptest::collection::vec(0u8..3, 0..7)).prop_flat_map(|(policies, shapes)| {
        let pairs = policies * shapes.len();
        (
            Just(policies),
            Just(shapes),
            proptest::collection::vec((0u8..6, 0u8..12, any::<bool>()), pairs),
            any::<bool>(),
        )
            .prop_map(|(policies, shapes, cells, error)| {
                let mut r = Report::for_inventory(&Inventory::default(), Timestamp::now());
                for p in 0..policies {
                    let mut meta = PolicyMeta::collection_error();
                    meta.id = format!("HL-P-{p:02}");
                    meta.title = format!("policy {p}");
                    meta.severity = Severity::ALL[p % 5];
                    r.policies.push(meta);
                }
                r.resources = shapes
                    .iter()
                    .enumerate()
                    .map(|(i, s)| resource(i, *s))
                    .collect();
                for (n, (status, extra, twice)) in cells.into_iter().enumerate() {
                    let (p, index) = (n % policies, n / policies);
                    let status = match status {
                        0 => continue,
                        1 | 2 => Status::Pass,
                        3 => Status::Skip,
                        4 => Status::Fail,
                        _ => [Status::Error, Status::Waived][n % 2],
                    };
                    let severity = r.policies[p].severity;
                    r.findings.push(finding(p, index, status, severity, extra));
                    if twice && extra == 11 {
                        r.findings
                            .push(finding(p, index, Status::Skip, severity, 0));
                    }
                }
                if error {
                    r.errors.push(hlaudit_model::inventory::CollectionError {
                        account: Some("111122223333".into()),
                        region: Some("us-east-1".into()),
                        operation: "ListFHIRDatastores".into(),
                        resource: None,
                        code: "AccessDenied".into(),
                        message: "denied".into(),
                    });
                    r.add_collection_errors();
                }
                r.sort_findings();
                r
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn both_forms_read_back_as_the_same_pairs_baselines_and_diffs(
        report in reports(),
        later in reports(),
    ) {
        same_for_readers(&report, &later)?;
        same_for_readers(&later, &report)?;
    }
}

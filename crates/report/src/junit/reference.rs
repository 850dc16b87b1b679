//! The JUnit writer as it was before it streamed: the whole document built as a
//! `quick_junit` tree, then serialised. Kept for the tests, which check that the streaming
//! writer's output is byte for byte the same.

use std::io::Write;

use hlaudit_model::finding::Status;
use hlaudit_model::report::Report;
use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use crate::{text, ReportError};

/// Writes the report as JUnit XML through a `quick_junit` tree.
pub(super) fn write(report: &Report, out: &mut dyn Write) -> Result<(), ReportError> {
    crate::check_policies(report)?;
    let mut junit = quick_junit::Report::new(report.tool.name.clone());
    junit.set_timestamp(report.generated_at.0);
    let mut suites: Vec<TestSuite> = report
        .policies
        .iter()
        .map(|p| {
            let mut suite = TestSuite::new(format!("{}: {}", p.id, p.title));
            suite.set_timestamp(report.evaluated_at.0);
            suite.add_property(Property::new("policy", p.id.clone()));
            suite.add_property(Property::new("severity", p.severity.as_str()));
            for (framework, controls) in &p.compliance {
                suite.add_property(Property::new(
                    format!("compliance.{framework}"),
                    controls.join(", "),
                ));
            }
            suite
        })
        .collect();
    for f in &report.findings {
        let policy = report.policy_of(f);
        let message = text::message(report, f);
        let evidence: Vec<String> = f
            .evidence()
            .iter()
            .map(|e| {
                format!(
                    "{}: found {}, expected {}",
                    e.pointer,
                    text::found(e.found.as_ref()),
                    e.expected
                )
            })
            .collect();
        let status = match f.status {
            Status::Pass => TestCaseStatus::success(),
            Status::Fail | Status::Error => {
                let kind = if f.status == Status::Fail {
                    NonSuccessKind::Failure
                } else {
                    NonSuccessKind::Error
                };
                let mut st = TestCaseStatus::non_success(kind);
                st.set_message(message.clone());
                st.set_type(f.severity.as_str());
                let mut body = message.clone();
                for line in &evidence {
                    body.push_str("\n  ");
                    body.push_str(line);
                }
                if !policy.remediation.trim().is_empty() {
                    body.push_str("\nRemediation: ");
                    body.push_str(&policy.remediation);
                }
                st.set_description(body);
                st
            }
            Status::Skip => {
                let mut st = TestCaseStatus::skipped();
                st.set_message(message.clone());
                st
            }
            Status::Waived => {
                let mut st = TestCaseStatus::skipped();
                let reason = match &f.waiver() {
                    Some(w) => {
                        let mut r = format!("waived: {} (approved by {}", w.reason, w.approved_by);
                        match &w.expires {
                            Some(d) => r.push_str(&format!(", expires {d})")),
                            None => r.push(')'),
                        }
                        r
                    }
                    None => "waived".to_owned(),
                };
                st.set_message(reason);
                st.set_type("waived");
                st.set_description(message.clone());
                st
            }
        };
        let mut case = TestCase::new(text::subject_label(report, f), status);
        case.set_classname(policy.id.clone());
        if let Some(b) = text::baseline_label(f) {
            case.add_property(Property::new("baseline", b));
        }
        case.add_property(Property::new("fingerprint", report.fingerprint_of(f)));
        if let Some(suite) = suites.get_mut(f.policy_index()) {
            suite.add_test_case(case);
        }
    }
    if let Some(nothing) = report.nothing_checked() {
        // A suite of its own, so a CI test tab shows it even when no policy was evaluated.
        let mut suite = TestSuite::new(format!("{}: nothing checked", report.tool.name));
        suite.set_timestamp(report.evaluated_at.0);
        suite.add_property(Property::new("nothing-checked", nothing.code()));
        suite.set_system_out(nothing.message());
        let mut st = TestCaseStatus::skipped();
        st.set_message(nothing.message());
        st.set_type("nothing-checked");
        suite.add_test_case(TestCase::new("nothing checked", st));
        suites.push(suite);
    }
    junit.add_test_suites(suites);
    junit.serialize(&mut *out)?;
    out.write_all(b"\n").map_err(ReportError::io("JUnit"))
}

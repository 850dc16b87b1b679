//! JUnit XML for CI test tabs: a test suite per policy, a test case per data store.
//!
//! FAIL is a `<failure>` (message, and the evidence as the body), ERROR an `<error>`,
//! SKIP a `<skipped>`, and WAIVED a `<skipped>` whose message is the waiver's reason, so a
//! waived violation stays visible without failing the tab. When nothing was checked, a
//! suite of its own says so (a `nothing-checked` property, the sentence as its system-out
//! and one skipped test case).
//!
//! The document is written as it is built: the counts each `<testsuite>` opens with are
//! tallied first, then every test case goes straight into a buffer that is handed on to
//! the output whenever it fills, so memory does not grow with the number of findings (a
//! tree of three million test cases took gigabytes). Test cases are rendered in batches on
//! every core, a window of batches at a time, and written in order, so the bytes do not
//! depend on the number of threads. The bytes are those the `quick_junit`
//! tree wrote before (see its `xml` module); the tests compare the two on every fixture and on
//! generated reports.

mod xml;

#[cfg(test)]
mod reference;

use std::io::Write;

use hlaudit_model::finding::{Finding, Status};
use hlaudit_model::report::{PolicyMeta, Report};
use hlaudit_model::Timestamp;

use crate::{text, ReportError};
use xml::Xml;

/// The XML is handed on to the output whenever this much is buffered.
const FLUSH_AT: usize = 1 << 20;

/// Test cases rendered together on one core (about 1 MB of XML at ~500 bytes a case).
const CASES_PER_BATCH: usize = 2048;

/// Writes the report as JUnit XML.
pub fn write(report: &Report, out: &mut dyn Write) -> Result<(), ReportError> {
    crate::check_policies(report)?;
    render(report, out, FLUSH_AT, CASES_PER_BATCH).map_err(ReportError::io("JUnit"))
}

/// How many test cases of each outcome a suite (or the whole document) holds, as the
/// opening tags say.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    tests: usize,
    skipped: usize,
    errors: usize,
    failures: usize,
}

impl Tally {
    fn add(&mut self, status: Status) {
        self.tests += 1;
        match status {
            Status::Pass => {}
            Status::Fail => self.failures += 1,
            Status::Error => self.errors += 1,
            Status::Skip | Status::Waived => self.skipped += 1,
        }
    }

    fn sum(&mut self, other: Tally) {
        self.tests += other.tests;
        self.skipped += other.skipped;
        self.errors += other.errors;
        self.failures += other.failures;
    }
}

/// The findings grouped by policy, each group in report order: `order[starts[p]..starts[p + 1]]`
/// are the indices of policy `p`'s findings.
struct ByPolicy {
    starts: Vec<usize>,
    order: Vec<usize>,
    tallies: Vec<Tally>,
}

impl ByPolicy {
    fn new(report: &Report) -> Self {
        let n = report.policies.len();
        let mut tallies = vec![Tally::default(); n];
        for f in &report.findings {
            tallies[f.policy_index()].add(f.status);
        }
        let mut starts = Vec::with_capacity(n + 1);
        let mut at = 0;
        for t in &tallies {
            starts.push(at);
            at += t.tests;
        }
        starts.push(at);
        let mut next = starts.clone();
        let mut order = vec![0; report.findings.len()];
        for (i, f) in report.findings.iter().enumerate() {
            order[next[f.policy_index()]] = i;
            next[f.policy_index()] += 1;
        }
        ByPolicy {
            starts,
            order,
            tallies,
        }
    }

    fn of(&self, policy: usize) -> &[usize] {
        &self.order[self.starts[policy]..self.starts[policy + 1]]
    }
}

/// `2026-11-28T10:00:00.000+00:00`, as JUnit timestamps are written.
fn timestamp(t: &Timestamp) -> String {
    t.0.fixed_offset()
        .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
        .to_string()
}

fn render(
    report: &Report,
    out: &mut dyn Write,
    flush_at: usize,
    per_batch: usize,
) -> std::io::Result<()> {
    let groups = ByPolicy::new(report);
    let nothing = report.nothing_checked();
    let mut total = Tally::default();
    for t in &groups.tallies {
        total.sum(*t);
    }
    if nothing.is_some() {
        total.add(Status::Skip);
    }
    let evaluated_at = timestamp(&report.evaluated_at);

    let mut x = Xml::new(out, flush_at);
    x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    x.open(0, "testsuites");
    x.attr("name", &report.tool.name);
    counts(&mut x, total, ["tests", "skipped", "failures", "errors"]);
    x.attr("timestamp", &timestamp(&report.generated_at));
    x.start_done();
    for (p, policy) in report.policies.iter().enumerate() {
        suite_start(
            &mut x,
            &format!("{}: {}", policy.id, policy.title),
            groups.tallies[p],
            &evaluated_at,
        );
        x.open(2, "properties");
        x.start_done();
        x.property(3, "policy", &policy.id);
        x.property(3, "severity", policy.severity.as_str());
        for (framework, controls) in &policy.compliance {
            x.property(3, &format!("compliance.{framework}"), &controls.join(", "));
        }
        x.close(2, "properties");
        crate::batched::render_in_order(
            groups.of(p),
            per_batch,
            |batch| {
                let mut unused = std::io::sink();
                let mut y = Xml::new(&mut unused, usize::MAX);
                for &i in batch {
                    test_case(&mut y, report, policy, &report.findings[i]);
                }
                Ok(y.into_bytes())
            },
            |b| x.write_rendered(&b),
        )?;
        x.close(1, "testsuite");
    }
    if let Some(nothing) = nothing {
        // A suite of its own, so a CI test tab shows it even when no policy was evaluated.
        let mut tally = Tally::default();
        tally.add(Status::Skip);
        suite_start(
            &mut x,
            &format!("{}: nothing checked", report.tool.name),
            tally,
            &evaluated_at,
        );
        x.open(2, "properties");
        x.start_done();
        x.property(3, "nothing-checked", nothing.code());
        x.close(2, "properties");
        x.open(2, "testcase");
        x.attr("name", "nothing checked");
        x.start_done();
        x.open(3, "skipped");
        x.attr("message", &nothing.message());
        x.attr("type", "nothing-checked");
        x.empty_done();
        x.close(2, "testcase");
        x.open(2, "system-out");
        x.start_done();
        x.text(&nothing.message());
        x.close_inline("system-out");
        x.close(1, "testsuite");
    }
    x.close(0, "testsuites");
    // quick_xml's closing line break, then the report's own.
    x.raw("\n\n");
    x.flush()
}

/// The count attributes in the order `names` gives them.
fn counts(x: &mut Xml<'_>, t: Tally, names: [&str; 4]) {
    for name in names {
        let n = match name {
            "tests" => t.tests,
            "skipped" => t.skipped,
            "errors" => t.errors,
            _ => t.failures,
        };
        x.attr(name, &n.to_string());
    }
}

fn suite_start(x: &mut Xml<'_>, name: &str, tally: Tally, timestamp: &str) {
    x.open(1, "testsuite");
    x.attr("name", name);
    counts(x, tally, ["tests", "skipped", "errors", "failures"]);
    x.attr("timestamp", timestamp);
    x.start_done();
}

fn test_case(x: &mut Xml<'_>, report: &Report, policy: &PolicyMeta, f: &Finding) {
    x.open(2, "testcase");
    // `text::subject_label`, without building the string when it needs no sanitising.
    match report.resource_of(f) {
        Some(r) if r.job.is_none() => {
            let label = r.label();
            match r.name.as_deref() {
                Some(name) if !name.is_empty() => {
                    x.attr_parts("name", &[name, " (", &label, ")"]);
                }
                _ => x.attr("name", &label),
            }
        }
        _ => x.attr("name", &text::subject_label(report, f)),
    }
    x.attr("classname", &policy.id);
    x.start_done();
    x.open(3, "properties");
    x.start_done();
    if let Some(b) = text::baseline_label(f) {
        x.property(4, "baseline", b);
    }
    x.property(4, "fingerprint", &report.fingerprint_of(f));
    x.close(3, "properties");
    match f.status {
        Status::Pass => {}
        Status::Fail | Status::Error => {
            let tag = if f.status == Status::Fail {
                "failure"
            } else {
                "error"
            };
            let message = text::message(report, f);
            x.open(3, tag);
            x.attr("message", &message);
            x.attr("type", f.severity.as_str());
            x.start_done();
            // One string, sanitised as a whole as it always was: an escape sequence may
            // span the message and the evidence.
            let mut body = message;
            for e in f.evidence() {
                body.push_str("\n  ");
                body.push_str(&format!(
                    "{}: found {}, expected {}",
                    e.pointer,
                    text::found(e.found.as_ref()),
                    e.expected
                ));
            }
            if !policy.remediation.trim().is_empty() {
                body.push_str("\nRemediation: ");
                body.push_str(&policy.remediation);
            }
            x.text(&body);
            x.close_inline(tag);
        }
        Status::Skip => {
            x.open(3, "skipped");
            x.attr("message", &text::message(report, f));
            x.empty_done();
        }
        Status::Waived => {
            let reason = match f.waiver() {
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
            x.open(3, "skipped");
            x.attr("message", &reason);
            x.attr("type", "waived");
            x.start_done();
            x.text(&text::message(report, f));
            x.close_inline("skipped");
        }
    }
    x.close(2, "testcase");
}

#[cfg(test)]
mod tests {
    use hlaudit_model::finding::{AppliedWaiver, BaselineState, Evidence, Severity, Subject};
    use proptest::prelude::*;

    use super::*;

    use crate::FIXTURES;

    fn fixture(i: usize) -> Report {
        serde_json::from_str(FIXTURES[i]).unwrap()
    }

    fn streamed(report: &Report, flush_at: usize) -> Vec<u8> {
        let mut out = Vec::new();
        crate::check_policies(report).unwrap();
        render(report, &mut out, flush_at, CASES_PER_BATCH).unwrap();
        out
    }

    fn in_batches(report: &Report, per_batch: usize) -> Vec<u8> {
        let mut out = Vec::new();
        render(report, &mut out, 64, per_batch).unwrap();
        out
    }

    fn tree(report: &Report) -> Vec<u8> {
        let mut out = Vec::new();
        reference::write(report, &mut out).unwrap();
        out
    }

    fn assert_same(report: &Report) {
        let want = String::from_utf8(tree(report)).unwrap();
        for flush_at in [1, 100, FLUSH_AT] {
            let got = String::from_utf8(streamed(report, flush_at)).unwrap();
            assert!(
                got == want,
                "flush at {flush_at}:\n--- streamed\n{got}\n--- tree\n{want}"
            );
        }
        // Batches of one and two test cases, and windows of several batches, rendered on
        // as many threads as the pool has.
        for per_batch in [1, 2] {
            let got = String::from_utf8(in_batches(report, per_batch)).unwrap();
            assert!(
                got == want,
                "batches of {per_batch}:\n--- batched\n{got}\n--- tree\n{want}"
            );
        }
    }

    #[test]
    fn every_fixture_is_byte_identical_to_the_quick_junit_tree() {
        for i in 0..FIXTURES.len() {
            assert_same(&fixture(i));
        }
    }

    #[test]
    fn hand_built_reports_are_byte_identical_to_the_quick_junit_tree() {
        // No findings and no policies: only the nothing-checked suite.
        let mut report = fixture(0);
        report.findings.clear();
        report.policies.clear();
        assert_same(&report);
        // Policies, no findings, data stores: suites without test cases.
        let mut report = fixture(0);
        report.findings.clear();
        assert_same(&report);
        // Findings out of policy order, and a scope finding.
        let mut report = fixture(0);
        report.findings.reverse();
        report.findings.push(
            Finding::new(
                0,
                Subject::scope(Some("1".into()), None, "the account".into()),
                Status::Error,
                Severity::High,
            )
            .with_detail("it \u{1b}[1mbroke\u{1b}[0m".into(), Vec::new()),
        );
        assert_same(&report);
    }

    /// Strings rich in what XML and the sanitiser care about.
    fn nasty() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            proptest::collection::vec(
                prop_oneof![
                    Just("<".to_owned()),
                    Just(">".to_owned()),
                    Just("&".to_owned()),
                    Just("\"".to_owned()),
                    Just("'".to_owned()),
                    Just("\n".to_owned()),
                    Just("\r".to_owned()),
                    Just("\t".to_owned()),
                    Just("\u{1b}".to_owned()),
                    Just("\u{1b}[31m".to_owned()),
                    Just("\u{1b}]0;title\u{7}".to_owned()),
                    Just("\u{9b}".to_owned()),
                    Just("\u{85}".to_owned()),
                    Just("\u{7f}".to_owned()),
                    Just("\u{0}".to_owned()),
                    Just("\u{202e}".to_owned()),
                    Just("é".to_owned()),
                    "[a-z ]{0,4}".prop_map(|s| s),
                ],
                0..10,
            )
            .prop_map(|v| v.concat()),
        ]
    }

    fn status() -> impl Strategy<Value = Status> {
        prop::sample::select(Status::ALL.to_vec())
    }

    fn baseline() -> impl Strategy<Value = Option<BaselineState>> {
        prop::option::of(prop::sample::select(vec![
            BaselineState::New,
            BaselineState::Unchanged,
            BaselineState::Updated,
            BaselineState::Absent,
        ]))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn generated_reports_are_byte_identical_to_the_quick_junit_tree(
            base in 0..FIXTURES.len(),
            tool in nasty(),
            title in nasty(),
            remediation in nasty(),
            control in nasty(),
            name in nasty(),
            text in prop::collection::vec(nasty(), 4),
            outcomes in prop::collection::vec((status(), baseline(), 0..8usize), 0..24),
        ) {
            let mut report = fixture(base);
            report.tool.name = tool;
            if let Some(p) = report.policies.first_mut() {
                p.title = title;
                p.remediation = remediation;
                p.compliance.insert(control.clone(), vec![control.clone(), "x".into()]);
            }
            if let Some(r) = report.resources.first_mut() {
                r.name = Some(name);
            }
            let policies = report.policies.len();
            for (i, (status, baseline, policy)) in outcomes.into_iter().enumerate() {
                if policies == 0 || report.resources.is_empty() {
                    break;
                }
                let index = i % report.resources.len();
                let mut f = Finding::new(policy % policies, Subject::Record { index }, status, Severity::ALL[i % 5]);
                f.set_baseline(baseline);
                if matches!(status, Status::Fail | Status::Error | Status::Waived) && i % 3 != 0 {
                    f.set_message(text[0].clone());
                    f.set_evidence(vec![Evidence {
                        pointer: text[1].as_str().into(),
                        found: Some(serde_json::Value::String(text[2].clone())),
                        expected: text[3].as_str().into(),
                        note: None,
                    }]);
                }
                if status == Status::Waived && i % 2 == 0 {
                    f.set_waiver(Some(AppliedWaiver {
                        source: hlaudit_model::Source {
                            file: "waivers.yaml".into(),
                            line: 3,
                            column: 5,
                        },
                        reason: text[3].clone(),
                        approved_by: text[0].clone(),
                        expires: (i % 4 == 0).then(|| text[1].clone()),
                    }));
                }
                report.findings.push(f);
            }
            let want = tree(&report);
            let want = String::from_utf8(want).unwrap();
            prop_assert_eq!(&String::from_utf8(streamed(&report, 64)).unwrap(), &want);
            prop_assert_eq!(&String::from_utf8(in_batches(&report, 1)).unwrap(), &want);
        }
    }
}

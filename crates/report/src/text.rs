//! Wording shared by the human-readable formats (terminal, Markdown, HTML, JUnit).

use hlaudit_model::compliance::{ControlStatus, ControlView, FrameworkView};
use hlaudit_model::finding::{Finding, Severity, Status};
use hlaudit_model::report::Report;
use hlaudit_model::Kind;

/// How people see a finding's subject: `name (ARN)` for a data store, what a job did and
/// its id for a job (`export of clinical-prod (ARN) to s3://x/ on DATE (job ID)`), the
/// scope otherwise.
pub(crate) fn subject_label(report: &Report, f: &Finding) -> String {
    match f.scope() {
        None => match report.resource_of(f) {
            Some(r) => match (r.description(), &r.name) {
                (Some(did), _) => format!("{did} (job {})", r.id.as_deref().unwrap_or("?")),
                (None, Some(name)) if !name.is_empty() => format!("{name} ({})", r.label()),
                _ => r.label(),
            },
            None => "an unknown data store".to_owned(),
        },
        Some(s) => scope_label(s.account.as_deref(), s.region.as_deref(), &s.what),
    }
}

/// `what (account A, region R)`.
pub(crate) fn scope_label(account: Option<&str>, region: Option<&str>, what: &str) -> String {
    match (account, region) {
        (Some(a), Some(r)) => format!("{what} (account {a}, region {r})"),
        (Some(a), None) => format!("{what} (account {a})"),
        (None, Some(r)) => format!("{what} (region {r})"),
        (None, None) => what.to_owned(),
    }
}

/// The (account, region) a finding belongs to; `None` where unknown.
pub(crate) fn place(report: &Report, f: &Finding) -> (Option<String>, Option<String>) {
    let (account, region) = place_of(report, f);
    (account.map(str::to_owned), region.map(str::to_owned))
}

/// [`place`], borrowed from the report (for reporters that look it up per finding).
pub(crate) fn place_of<'r>(
    report: &'r Report,
    f: &'r Finding,
) -> (Option<&'r str>, Option<&'r str>) {
    match f.scope() {
        None => match report.resource_of(f) {
            Some(r) => (r.account.as_deref(), r.region.as_deref()),
            None => (None, None),
        },
        Some(s) => (s.account.as_deref(), s.region.as_deref()),
    }
}

/// The finding's message, or a sentence made from the policy title when the engine left
/// it empty (PASS and SKIP findings have no message).
pub(crate) fn message(report: &Report, f: &Finding) -> String {
    let message = f.message();
    if !message.trim().is_empty() {
        return message.into_owned();
    }
    let policy = report.policy_of(f);
    let subject = subject_label(report, f);
    match f.status {
        Status::Pass => format!("{subject} satisfies {}: {}.", policy.id, policy.title),
        Status::Skip => format!("{} does not apply to {subject}.", policy.id),
        Status::Fail | Status::Waived => {
            format!("{subject} violates {}: {}.", policy.id, policy.title)
        }
        Status::Error => format!("{} could not be evaluated on {subject}.", policy.id),
    }
}

/// A value found, as compact JSON text, or `(absent)`.
pub(crate) fn found(v: Option<&serde_json::Value>) -> String {
    match v {
        None => "(absent)".to_owned(),
        Some(v) => serde_json::to_string(v).unwrap_or_else(|_| "(unprintable)".to_owned()),
    }
}

/// The one-line summary: `42 data stores, 31 policies: 12 failed (3 high, 9 low),
/// 1 error, 5 waived, 900 passed, 200 skipped`, with `, 7 export jobs` and so on after
/// the data stores when the audit covered other kinds.
pub(crate) fn summary_line(report: &Report) -> String {
    let s = report.summary();
    let count = |st: Status| s.by_status.get(&st).copied().unwrap_or(0);
    let mut failed = format!("{} failed", count(Status::Fail));
    let by_sev: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|sev| {
            s.failures_by_severity
                .get(sev)
                .filter(|n| **n > 0)
                .map(|n| format!("{n} {sev}"))
        })
        .collect();
    if !by_sev.is_empty() {
        failed.push_str(&format!(" ({})", by_sev.join(", ")));
    }
    let errors = count(Status::Error);
    // `2 data stores, 3 export jobs`: data stores always (an audit of none says so), other
    // kinds when present.
    let resources: Vec<String> = Kind::ALL
        .iter()
        .map(|k| (k, report.resources.iter().filter(|r| r.kind == *k).count()))
        .filter(|(k, n)| **k == Kind::Datastore || *n > 0)
        .map(|(k, n)| {
            let one = k.noun();
            format!(
                "{n} {}",
                if n == 1 {
                    one.to_owned()
                } else {
                    format!("{one}s")
                }
            )
        })
        .collect();
    let mut line = format!(
        "{}, {} {}: {failed}, {errors} {}, {} waived, {} passed, {} skipped",
        resources.join(", "),
        s.policies,
        plural(s.policies, "policy", "policies"),
        plural(errors, "error", "errors"),
        count(Status::Waived),
        count(Status::Pass),
        count(Status::Skip),
    );
    if s.undecided > 0 {
        line.push_str(&format!(" ({} undecided before deploy)", s.undecided));
    }
    line
}

/// ` (NOTE)` for evidence that carries a note, else nothing.
pub(crate) fn note(e: &hlaudit_model::Evidence) -> String {
    e.note
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default()
}

/// A count with thousands separators: `9,995`.
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `one` or `many` by count.
pub(crate) fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// Findings worth showing people (FAIL, ERROR, WAIVED), most severe first, then in
/// report order; new findings (against a baseline) before the others of the same rank.
pub(crate) fn notable(report: &Report) -> Vec<&Finding> {
    let mut v: Vec<(usize, &Finding)> = report
        .findings
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f.status, Status::Fail | Status::Error | Status::Waived))
        .collect();
    v.sort_by_key(|(i, f)| {
        (
            status_rank(f.status),
            std::cmp::Reverse(f.severity),
            f.baseline() != Some(hlaudit_model::finding::BaselineState::New),
            *i,
        )
    });
    v.into_iter().map(|(_, f)| f).collect()
}

/// FAIL and ERROR first, WAIVED after, then the rest.
pub(crate) fn status_rank(s: Status) -> u8 {
    match s {
        Status::Fail | Status::Error => 0,
        Status::Waived => 1,
        Status::Pass => 2,
        Status::Skip => 3,
    }
}

/// The baseline label shown beside a finding, e.g. `new`.
pub(crate) fn baseline_label(f: &Finding) -> Option<&'static str> {
    use hlaudit_model::finding::BaselineState as B;
    f.baseline().map(|b| match b {
        B::New => "new",
        B::Unchanged => "unchanged",
        B::Updated => "updated",
        B::Absent => "fixed",
    })
}

/// The order people read a framework's controls in: failing first, then passing, not
/// evaluated and, last, not covered.
pub(crate) const CONTROL_ORDER: [ControlStatus; 4] = [
    ControlStatus::Failing,
    ControlStatus::Passing,
    ControlStatus::NotEvaluated,
    ControlStatus::NotCovered,
];

/// The controls of `framework` with `status`, in the catalogue's order.
pub(crate) fn controls_with(framework: &FrameworkView, status: ControlStatus) -> Vec<&ControlView> {
    framework
        .controls
        .iter()
        .filter(|c| c.status == status)
        .collect()
}

/// `48 controls: 2 failing, 1 passing, 45 not covered` (statuses no control has are left
/// out).
pub(crate) fn control_tally(framework: &FrameworkView) -> String {
    let parts: Vec<String> = CONTROL_ORDER
        .iter()
        .filter_map(|&st| {
            let n = framework.controls.iter().filter(|c| c.status == st).count();
            (n > 0).then(|| format!("{n} {}", st.label().to_lowercase()))
        })
        .collect();
    let n = framework.controls.len();
    let head = format!("{n} {}", plural(n, "control", "controls"));
    if parts.is_empty() {
        head
    } else {
        format!("{head}: {}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(9995), "9,995");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}

//! An audit that checked nothing (no data store, or no policy that applies) says so in
//! every format; one that checked something says nothing of the kind.

use hlaudit_model::finding::Status;
use hlaudit_model::report::{NothingChecked, Report};
use hlaudit_report::terminal::TerminalOptions;
use hlaudit_report::{
    html::{self, HtmlOptions},
    json, junit, markdown, sarif, terminal,
};
use serde_json::Value;

use crate::{fixture, pinned_sarif_options, render};

/// What each format says about the audit, as (format, whether it names the reason).
fn notices(report: &Report, code: &str) -> Vec<(&'static str, bool)> {
    let term = render(|o| terminal::write(report, &TerminalOptions::default(), o));
    let md = render(|o| markdown::write(report, None, o));
    let page = render(|o| html::write(report, None, &HtmlOptions::default(), o));
    let doc: Value = serde_json::from_str(&render(|o| json::write(report, None, o))).unwrap();
    let log: Value = serde_json::from_str(&render(|o| {
        sarif::write(report, &pinned_sarif_options(), o)
    }))
    .unwrap();
    let xml = render(|o| junit::write(report, o));
    let sarif_says = log["runs"].as_array().unwrap().iter().all(|run| {
        run["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|n| n["level"] == "warning" && n["descriptor"]["id"] == format!("hlaudit/{code}"))
    });
    vec![
        ("terminal", term.contains("Nothing was checked: ")),
        (
            "markdown",
            md.contains("> [!WARNING]\n> Nothing was checked: "),
        ),
        (
            "html",
            page.contains(&format!(
                "<div class=\"notice\" role=\"status\" data-nothing-checked=\"{code}\">"
            )),
        ),
        ("json", doc["summary"]["nothingChecked"] == code),
        ("sarif", sarif_says),
        (
            "junit",
            xml.contains(&format!(
                "<property name=\"nothing-checked\" value=\"{code}\"/>"
            )),
        ),
    ]
}

#[test]
fn every_format_says_when_there_was_no_data_store() {
    let report = fixture("empty");
    assert_eq!(report.nothing_checked(), Some(NothingChecked::NoDataStores));
    for (format, says) in notices(&report, "no-data-stores") {
        assert!(says, "{format} does not say that nothing was checked");
    }
}

#[test]
fn every_format_says_when_no_policy_applies() {
    let mut report = fixture("clean");
    report
        .findings
        .iter_mut()
        .for_each(|f| f.status = Status::Skip);
    assert_eq!(
        report.nothing_checked(),
        Some(NothingChecked::NothingApplies)
    );
    for (format, says) in notices(&report, "nothing-applies") {
        assert!(says, "{format} does not say that nothing was checked");
    }
}

#[test]
fn an_audit_that_checked_something_has_no_notice() {
    for name in ["clean", "mixed", "invisible"] {
        let report = fixture(name);
        assert_eq!(report.nothing_checked(), None, "{name}");
        for code in ["no-data-stores", "nothing-applies", "no-policies"] {
            for (format, says) in notices(&report, code) {
                assert!(!says, "{name}: {format} says nothing was checked");
            }
        }
    }
}

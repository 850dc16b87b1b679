//! Snapshots of every format on every fixture, and the properties each format promises.

use hlaudit_model::compliance::ComplianceView;
use hlaudit_model::finding::{Finding, Status};
use hlaudit_report::terminal::TerminalOptions;
use hlaudit_report::{
    html::{self, HtmlOptions},
    json, junit, markdown, sarif, terminal,
};

use crate::{catalogue, fixture, pinned_sarif_options, render, FIXTURES};

#[test]
fn snapshots_of_every_format() {
    for name in FIXTURES {
        let report = fixture(name);
        let view = ComplianceView::build(&report, &catalogue(), &[]);
        let view = Some(&view);
        let plain = TerminalOptions::default();
        insta::assert_snapshot!(
            format!("{name}.terminal"),
            render(|o| terminal::write(&report, &plain, o))
        );
        insta::assert_snapshot!(
            format!("{name}.json"),
            render(|o| json::write(&report, view, o))
        );
        insta::assert_snapshot!(
            format!("{name}.sarif"),
            render(|o| sarif::write(&report, &pinned_sarif_options(), o))
        );
        insta::assert_snapshot!(
            format!("{name}.junit.xml"),
            render(|o| junit::write(&report, o))
        );
        insta::assert_snapshot!(
            format!("{name}.md"),
            render(|o| markdown::write(&report, view, o))
        );
        insta::assert_snapshot!(
            format!("{name}.html"),
            render(|o| html::write(&report, view, &HtmlOptions::default(), o))
        );
        insta::assert_snapshot!(
            format!("{name}.all-rows.html"),
            render(|o| html::write(&report, view, &HtmlOptions { all_rows: true }, o))
        );
    }
}

#[test]
fn coloured_terminal_output_snapshot() {
    let report = fixture("mixed");
    let color = TerminalOptions {
        color: true,
        verbose: true,
        ..TerminalOptions::default()
    };
    let text = render(|o| terminal::write(&report, &color, o));
    assert!(text.contains("\u{1b}["));
    insta::assert_snapshot!("mixed.terminal-color", text);
}

#[test]
fn output_is_deterministic() {
    let report = fixture("mixed");
    let a = render(|o| html::write(&report, None, &HtmlOptions::default(), o));
    let b = render(|o| html::write(&report, None, &HtmlOptions::default(), o));
    assert_eq!(a, b);
    let a = render(|o| sarif::write(&report, &pinned_sarif_options(), o));
    let b = render(|o| sarif::write(&report, &pinned_sarif_options(), o));
    assert_eq!(a, b);
}

#[test]
fn terminal_ends_with_the_one_line_summary() {
    let text = render(|o| terminal::write(&fixture("mixed"), &TerminalOptions::default(), o));
    let last = text.lines().last().unwrap();
    assert_eq!(
        last,
        "4 data stores, 5 policies: 5 failed (1 critical, 1 high, 1 medium, 2 low), 2 errors, \
         1 waived, 6 passed, 3 skipped"
    );
    assert!(!text.contains('\u{1b}'), "plain output has no escape codes");
}

#[test]
fn json_round_trips_through_read() {
    for name in FIXTURES {
        let report = fixture(name);
        let view = ComplianceView::build(&report, &catalogue(), &[]);
        let text = render(|o| json::write(&report, Some(&view), o));
        let back = json::read(&mut text.as_bytes()).unwrap();
        assert_eq!(
            back,
            json::JsonReport::from_report(&report, Some(&view)).unwrap()
        );
        assert_eq!(back.compliance.as_ref(), Some(&view));
        assert_eq!(back.hlaudit_report, json::VERSION);
        // Every pair, rebuilt from the compact section where it is there, in report order
        // (which the engine's reports are in; the fixtures are written by hand).
        let every = back.every_finding().unwrap();
        let mut report = report;
        report.sort_findings();
        assert_eq!(every.len(), report.findings.len());
        for (f, jf) in report.findings.iter().zip(&every) {
            assert_eq!(jf.fingerprint, report.fingerprint_of(f));
            assert_eq!(jf.status, f.status);
            assert_eq!(jf.severity, f.severity);
        }
    }
}

#[test]
fn json_is_written_as_the_document_it_reads_back() {
    // `write` streams from the report; `JsonReport` is the owned document `read` returns.
    // Both must hold the same fields, omissions included.
    for name in FIXTURES {
        let report = fixture(name);
        let view = ComplianceView::build(&report, &catalogue(), &[]);
        for view in [None, Some(&view)] {
            for form in [json::Form::Compact, json::Form::Full] {
                let streamed = render(|o| json::write_form(&report, view, form, o));
                assert!(streamed.ends_with("}\n"), "{name}");
                let streamed: serde_json::Value = serde_json::from_str(&streamed).unwrap();
                let doc = json::JsonReport::from_report_as(&report, view, form).unwrap();
                assert_eq!(streamed, serde_json::to_value(&doc).unwrap(), "{name}");
            }
        }
    }
}

#[test]
fn json_summary_counts_every_status_and_severity() {
    let doc = json::JsonReport::from_report(&fixture("mixed"), None).unwrap();
    assert_eq!(doc.summary.by_status.len(), 5);
    assert_eq!(doc.summary.failures_by_severity.len(), 5);
    assert_eq!(doc.summary.by_status[&Status::Fail], 5);
    assert!(doc.summary.incomplete);
}

#[test]
fn json_read_errors_name_the_field_and_line() {
    let text = render(|o| json::write(&fixture("mixed"), None, o));
    let broken = text.replacen("\"status\":\"FAIL\"", "\"status\":\"MAYBE\"", 1);
    let err = json::read(&mut broken.as_bytes()).unwrap_err().to_string();
    assert!(err.contains("findings[0].status"), "{err}");
    assert!(err.contains("line "), "{err}");
    let broken = text.replacen("\"pass\":[", "\"pass\":[\"x\",", 1);
    let err = json::read(&mut broken.as_bytes()).unwrap_err().to_string();
    assert!(err.contains("outcomes[0].pass[0]"), "{err}");
}

#[test]
fn the_json_schema_names_every_top_level_field() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate::repo_root().join("docs/report.schema.json")).unwrap(),
    )
    .unwrap();
    let mixed = fixture("mixed");
    let view = ComplianceView::build(&mixed, &catalogue(), &[]);
    let doc =
        serde_json::to_value(json::JsonReport::from_report(&mixed, Some(&view)).unwrap()).unwrap();
    let props = schema["properties"].as_object().unwrap();
    for key in doc.as_object().unwrap().keys() {
        assert!(props.contains_key(key), "schema lacks `{key}`");
    }
    for key in schema["required"].as_array().unwrap() {
        assert!(
            doc.get(key.as_str().unwrap()).is_some(),
            "report lacks `{key}`"
        );
    }
    let summary_props = schema["properties"]["summary"]["properties"]
        .as_object()
        .unwrap();
    for name in ["mixed", "empty"] {
        let doc =
            serde_json::to_value(json::JsonReport::from_report(&fixture(name), None).unwrap())
                .unwrap();
        for key in doc["summary"].as_object().unwrap().keys() {
            assert!(
                summary_props.contains_key(key),
                "summary schema lacks `{key}`"
            );
        }
    }
    let finding_props = schema["$defs"]["finding"]["properties"]
        .as_object()
        .unwrap();
    for f in doc["findings"].as_array().unwrap() {
        for key in f.as_object().unwrap().keys() {
            assert!(
                finding_props.contains_key(key),
                "finding schema lacks `{key}`"
            );
        }
    }
    let outcome_props = schema["$defs"]["outcomes"]["properties"]
        .as_object()
        .unwrap();
    let outcomes = doc["outcomes"].as_array().unwrap();
    assert!(!outcomes.is_empty());
    for o in outcomes {
        for key in o.as_object().unwrap().keys() {
            assert!(
                outcome_props.contains_key(key),
                "outcomes schema lacks `{key}`"
            );
        }
    }
    assert_eq!(
        schema["properties"]["hlauditReport"]["enum"],
        serde_json::json!([1, 2, 3])
    );
}

#[test]
fn junit_maps_statuses() {
    let xml = render(|o| junit::write(&fixture("mixed"), o));
    assert_eq!(xml.matches("<testsuite ").count(), 5);
    assert_eq!(xml.matches("<failure").count(), 5);
    assert_eq!(xml.matches("<error").count(), 2);
    // 3 SKIP + 1 WAIVED.
    assert_eq!(xml.matches("<skipped").count(), 4);
    assert!(xml.contains("waived: Synthetic data only; migration planned in Q1"));
}

#[test]
fn markup_in_data_is_escaped_everywhere() {
    let report = fixture("hostile");
    for all_rows in [false, true] {
        let html = render(|o| html::write(&report, None, &HtmlOptions { all_rows }, o));
        assert!(!html.contains("<script>window"));
        assert!(!html.contains("<img src=x"));
        // The payloads are data for the page's script, where no `<` can end the
        // element (the browser test shows that the script renders them as text).
        assert!(html.contains("\\u003cscript\\u003ewindow.__pwned=1\\u003c/script\\u003e"));
        assert_eq!(
            html.matches("<script").count(),
            2,
            "only the page's own script and its data"
        );
        assert_eq!(html.matches("</script>").count(), 2);
        assert_eq!(
            html.matches("<script type=\"application/json\" id=\"data\">")
                .count(),
            1
        );
    }
    let md = render(|o| markdown::write(&report, None, o));
    assert!(!md.contains("<script>") && !md.contains("<img"));
    assert!(!md.contains("@everyone") && !md.contains("[link]"));
    let text = render(|o| terminal::write(&report, &TerminalOptions::default(), o));
    assert!(
        !text.contains('\u{1b}'),
        "control characters are shown escaped"
    );
}

#[test]
fn a_write_error_names_its_cause_once_in_the_error_chain() {
    struct Full;
    impl std::io::Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("the disk is full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let report = fixture("mixed");
    type Writer = fn(
        &hlaudit_model::report::Report,
        &mut dyn std::io::Write,
    ) -> Result<(), hlaudit_report::ReportError>;
    let writers: [(&str, Writer); 3] = [
        ("json", |r, o| json::write(r, None, o)),
        ("html", |r, o| {
            html::write(r, None, &HtmlOptions::default(), o)
        }),
        ("markdown", |r, o| markdown::write(r, None, o)),
    ];
    for (name, write) in writers {
        let err = write(&report, &mut Full).unwrap_err();
        // How an error chain is shown (anyhow's `{:#}`): each error, then its source.
        let mut chain = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            chain = format!("{chain}: {s}");
            source = s.source();
        }
        assert_eq!(
            chain.matches("the disk is full").count(),
            1,
            "{name}: {chain}"
        );
    }
}

#[test]
fn a_finding_with_a_dangling_policy_is_an_error_not_a_panic() {
    let mut report = fixture("clean");
    let f = &report.findings[0];
    report.findings[0] = Finding::new(99, f.subject(), f.status, f.severity);
    let mut out = Vec::new();
    let err = html::write(&report, None, &HtmlOptions::default(), &mut out).unwrap_err();
    assert!(err.to_string().contains("policy index 99"));
    assert!(json::write(&report, None, &mut out).is_err());
    assert!(sarif::write(&report, &pinned_sarif_options(), &mut out).is_err());
}

/// The mixed fixture with each FAIL and ERROR finding repeated `times` times, as a large
/// audit has thousands of failures of one policy.
fn many_failures(times: usize) -> hlaudit_model::report::Report {
    let mut report = fixture("mixed");
    let copies: Vec<_> = report
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Error))
        .cloned()
        .collect();
    for _ in 1..times {
        report.findings.extend(copies.iter().cloned());
    }
    report
}

#[test]
fn terminal_lists_the_first_few_findings_of_each_policy_and_counts_the_rest() {
    let report = many_failures(2000);
    let text = render(|o| terminal::write(&report, &TerminalOptions::default(), o));
    // HL-TAG-01 fails twice in the fixture: 4,000 findings, 5 listed.
    assert!(text.contains("LOW (4000)"), "{text}");
    assert_eq!(text.matches("  FAIL   HL-TAG-01 ").count(), 5);
    assert!(text.contains(
        "  ... and 3,995 more FAIL findings of HL-TAG-01; --all-findings lists every one\n"
    ));
    assert!(text.contains(
        "  ... and 1,995 more FAIL findings of HL-ENC-01; --all-findings lists every one\n"
    ));
    assert!(text.contains("  ... and 1,995 more ERROR findings of HLAUDIT-COLLECTION;"));
    // One WAIVED finding: listed, nothing counted.
    assert!(!text.contains("more WAIVED"));
    assert!(text.lines().count() < 120, "{text}");
    insta::assert_snapshot!(
        "many.terminal",
        render(|o| terminal::write(&many_failures(7), &TerminalOptions::default(), o))
    );

    let all = TerminalOptions {
        per_policy: None,
        ..TerminalOptions::default()
    };
    let text = render(|o| terminal::write(&report, &all, o));
    assert_eq!(text.matches("  FAIL   HL-TAG-01 ").count(), 4000);
    assert!(!text.contains("more FAIL"));
}

//! End to end: bidirectional and other invisible characters in a data store's name,
//! status and encryption settings reach the terminal by code point in every human-facing
//! output (the `check` report, `inventory`, `explain`, warnings on stderr), and exactly
//! as they are in the JSON report.

use hlaudit_e2e::{hlaudit, run};
use hlaudit_model::invisible::is_invisible;
use hlaudit_testkit::report::Report;

const SNAPSHOT: &str = "fixtures/snapshots/invisible-name.json";
const NAME_SHOWN: &str = "patient-records\\u{202e}dorp\\u{2066}x\\u{2069}\\u{200b}";

/// The invisible characters of `text` other than line breaks, as code points.
fn unescaped(text: &str) -> Vec<String> {
    text.chars()
        .filter(|&c| c != '\n' && is_invisible(c))
        .map(hlaudit_model::invisible::code_point)
        .collect()
}

#[test]
fn human_facing_outputs_show_invisible_characters_by_code_point() {
    let runs: [&[&str]; 3] = [
        &["check", "--as-of", "2026-11-28T09:30:00Z", SNAPSHOT],
        &["inventory", SNAPSHOT],
        &["explain", "HL-ENC-01", SNAPSHOT],
    ];
    for args in runs {
        let out = run(hlaudit().args(args));
        assert!(matches!(out.code, Some(0 | 1)), "{args:?}: {}", out.stderr);
        assert_eq!(
            unescaped(&out.stdout),
            Vec::<String>::new(),
            "{args:?}: {}",
            out.stdout
        );
        assert_eq!(
            unescaped(&out.stderr),
            Vec::<String>::new(),
            "{args:?}: {}",
            out.stderr
        );
        // The status's U+202E is quoted by the unknown-status warning on stderr.
        assert!(
            out.stderr.contains("`ACTIVE\\u{202e}`"),
            "{args:?}: {}",
            out.stderr
        );
    }
    let check = run(hlaudit().args(["check", "--as-of", "2026-11-28T09:30:00Z", SNAPSHOT]));
    assert!(check.stdout.contains(NAME_SHOWN), "{}", check.stdout);
    let inventory = run(hlaudit().args(["inventory", SNAPSHOT]));
    // The table may wrap a long cell; the escape itself stays whole.
    assert!(
        inventory.stdout.contains("\\u{202e}"),
        "{}",
        inventory.stdout
    );
    assert!(
        inventory.stdout.contains("\\u{2067}"),
        "{}",
        inventory.stdout
    );
    let explain = run(hlaudit().args(["explain", "HL-ENC-01", SNAPSHOT]));
    assert!(
        explain.stdout.contains("AWS_OWNED_KMS_KEY\\u{2067}"),
        "{}",
        explain.stdout
    );
}

#[test]
fn the_json_report_keeps_the_exact_text() {
    let out = run(hlaudit().args(["check", "--format", "json", SNAPSHOT]));
    let report = Report::parse(&out.stdout);
    let name = report.findings[0].resource().name.as_deref();
    assert_eq!(
        name,
        Some("patient-records\u{202e}dorp\u{2066}x\u{2069}\u{200b}")
    );
}

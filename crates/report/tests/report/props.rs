//! Properties over arbitrary data values: escaping never lets markup through, and the
//! JSON report reads back exactly what was written.

use hlaudit_model::invisible::is_invisible;
use hlaudit_report::{
    html::{self, HtmlOptions},
    json, markdown,
};
use proptest::prelude::*;

use crate::{fixture, render};

/// Strings rich in the characters that matter: markup, quotes, Markdown, controls,
/// bidirectional and zero-width characters.
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
                Just("`".to_owned()),
                Just("|".to_owned()),
                Just("@".to_owned()),
                Just("\n".to_owned()),
                Just("\u{1b}[31m".to_owned()),
                Just("\u{202e}".to_owned()),
                Just("\u{2066}".to_owned()),
                Just("\u{200b}".to_owned()),
                Just("<script>".to_owned()),
                Just("</script>".to_owned()),
                Just("<!--".to_owned()),
                "[a-z ]{0,4}".prop_map(|s| s),
            ],
            0..12,
        )
        .prop_map(|v| v.concat()),
    ]
}

proptest! {
    #[test]
    fn html_escape_leaves_no_markup(s in nasty()) {
        let e = html::escape(&s);
        prop_assert!(!e.contains(['<', '>', '"', '\'']));
        prop_assert!(!e.chars().any(|c| is_invisible(c) && c != '\n' && c != '\t'));
        // Every `&` starts an entity.
        for (i, _) in e.match_indices('&') {
            let rest = &e[i..];
            prop_assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"].iter().any(|x| rest.starts_with(x)),
                "{rest}"
            );
        }
    }

    #[test]
    fn markdown_escape_stays_inline_and_inert(s in nasty()) {
        let e = markdown::escape(&s);
        prop_assert!(!e.contains(['<', '>', '\n', '\r', '@']));
        prop_assert!(!e.chars().any(is_invisible));
        // `|`, `[` and backticks are always backslash-escaped.
        for (i, c) in e.char_indices() {
            if matches!(c, '|' | '[' | '`') {
                prop_assert_eq!(&e[..i].chars().last(), &Some('\\'));
            }
        }
    }

    #[test]
    fn hostile_values_never_add_a_script_and_json_round_trips(
        name in nasty(),
        message in nasty(),
        tag in nasty(),
    ) {
        let mut report = fixture("mixed");
        report.resources[0].name = Some(name);
        report.resources[0].tags = Some([("Owner".to_owned(), tag)].into());
        report.findings.iter_mut().for_each(|f| {
            if !f.message().is_empty() {
                f.set_message(message.clone());
            }
        });
        for all_rows in [false, true] {
            let page = render(|o| html::write(&report, None, &HtmlOptions { all_rows }, o));
            // The page's script and its data block, nothing else.
            prop_assert_eq!(page.matches("<script").count(), 2);
            prop_assert_eq!(page.matches("</script>").count(), 2);
            prop_assert_eq!(page.matches("<img").count(), 0);
        }
        let text = render(|o| json::write(&report, None, o));
        let back = json::read(&mut text.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, json::JsonReport::from_report(&report, None).unwrap());
    }
}

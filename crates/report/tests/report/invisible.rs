//! Invisible characters (controls, bidirectional and format characters) in data: the
//! formats for people show each by code point, the data formats keep the text exactly.

use hlaudit_model::invisible::is_invisible;
use hlaudit_report::terminal::TerminalOptions;
use hlaudit_report::{
    html::{self, HtmlOptions},
    json, junit, markdown, sarif, terminal,
};

use crate::{fixture, pinned_sarif_options, render};

/// The characters of the `invisible` fixture, each of which must survive in data formats
/// and be shown by code point in the others.
const HELD: [char; 8] = [
    '\u{202e}', '\u{2066}', '\u{2069}', '\u{200b}', '\u{2067}', '\u{feff}', '\u{ad}', '\u{2028}',
];

/// The invisible characters of `text`, line feeds and tabs (layout) aside.
fn unescaped(text: &str) -> Vec<String> {
    text.chars()
        .filter(|&c| is_invisible(c) && c != '\n' && c != '\t')
        .map(hlaudit_model::invisible::code_point)
        .collect()
}

#[test]
fn formats_for_people_show_every_invisible_character_by_code_point() {
    let report = fixture("invisible");
    let plain = TerminalOptions::default();
    let color = TerminalOptions {
        color: true,
        verbose: true,
        ..TerminalOptions::default()
    };
    let term = render(|o| terminal::write(&report, &plain, o));
    assert_eq!(unescaped(&term), Vec::<String>::new(), "{term}");
    let coloured = render(|o| terminal::write(&report, &color, o));
    // The colour codes are hlaudit's own; nothing else is a control.
    let without_colour: String = coloured.split('\u{1b}').collect::<Vec<_>>().join("");
    assert_eq!(unescaped(&without_colour), Vec::<String>::new());
    assert!(term.contains("patient-records\\u{202e}dorp\\u{2066}x\\u{2069}\\u{200b}"));

    let md = render(|o| markdown::write(&report, None, o));
    assert_eq!(unescaped(&md), Vec::<String>::new(), "{md}");
    assert!(
        md.contains("patient-records\\\\u\\{202e\\}dorp\\\\u\\{2066\\}x"),
        "{md}"
    );

    let every_row = render(|o| html::write(&report, None, &HtmlOptions { all_rows: true }, o));
    assert_eq!(unescaped(&every_row), Vec::<String>::new());
    let page = render(|o| html::write(&report, None, &HtmlOptions::default(), o));
    assert_eq!(unescaped(&page), Vec::<String>::new());
    // The findings are data for the page's script, each invisible character escaped
    // (`\u202e`); the script shows it as a marker (the browser test checks the markers).
    assert!(
        page.contains("patient-records\\u202edorp\\u2066x"),
        "{page}"
    );
    assert!(page.contains("\"U+202E\":\"RIGHT-TO-LEFT OVERRIDE\""));
}

#[test]
fn data_formats_keep_the_exact_text_and_stay_well_formed() {
    let report = fixture("invisible");
    let text = render(|o| json::write(&report, None, o));
    let back = json::read(&mut text.as_bytes()).unwrap();
    assert_eq!(back, json::JsonReport::from_report(&report, None).unwrap());
    let log = render(|o| sarif::write(&report, &pinned_sarif_options(), o));
    let xml = render(|o| junit::write(&report, o));
    // JSON holds everything; SARIF and JUnit the name and messages, not the tags.
    let in_name = &HELD[..5];
    for (name, out, held) in [
        ("JSON", &text, &HELD[..]),
        ("SARIF", &log, in_name),
        ("JUnit", &xml, in_name),
    ] {
        for &c in held {
            // JSON may write a character as `\uXXXX`; the parsed text is what counts.
            let escaped = format!("\\u{:04x}", u32::from(c));
            assert!(
                out.contains(c) || out.to_lowercase().contains(&escaped),
                "{name} lost {c:?}"
            );
        }
    }
    let parsed: serde_json::Value = serde_json::from_str(&log).unwrap();
    let message = parsed["runs"][0]["results"][0]["message"]["text"]
        .as_str()
        .unwrap();
    assert!(message.contains("patient-records\u{202e}dorp\u{2066}x\u{2069}\u{200b}"));
    well_formed_xml(&xml);
}

/// Parses the whole document and checks every character is one XML 1.0 allows.
fn well_formed_xml(xml: &str) {
    let bad: Vec<char> = xml
        .chars()
        .filter(|&c| {
            !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        })
        .collect();
    assert!(bad.is_empty(), "characters XML does not allow: {bad:?}");
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut depth = 0usize;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed at {}: {e}", reader.error_position()),
        }
    }
    assert_eq!(depth, 0, "every element is closed");
}

#[test]
fn junit_of_every_fixture_is_well_formed() {
    for name in crate::FIXTURES {
        well_formed_xml(&render(|o| junit::write(&fixture(name), o)));
    }
}

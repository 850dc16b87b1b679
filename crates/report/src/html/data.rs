//! The findings of the HTML page as compact data, for the page's script to render.
//!
//! A row of HTML per finding costs about 1.5 KB, and a large audit fails hundreds of
//! thousands of (policy, data store) pairs: at 100,000 data stores the listed rows alone
//! made a page of 800 MB. The page therefore holds its findings as one JSON block (a
//! `<script type="application/json">`, which never runs) and its script builds the rows of
//! one page of the table at a time. Everything that repeats is written once:
//!
//! - `s`: every string, once; everything else refers to strings by index (`-1`: none).
//! - `subjects`: what findings are about, data stores first in report order (so the
//!   counts per data store line up with them), then the scopes of scope findings, each
//!   `[name, id, label, account, region, source file, line, column, tags]`; `tags` is an
//!   index into `tags` (sets of `[key, value]` string pairs), or -1 when not collected.
//! - `policies`: `[id, title, severity rank, anchor]` per policy of the report, the anchor
//!   the index of its entry in the Policies section (`#policy-N`) or -1.
//! - `evidence`: `[pointer, found, expected]` rows; `evsets`: the rows of one finding.
//! - `waivers`: `[reason, approved by, expires, source]`; `extras`: `[waiver, location,
//!   baseline label]`, for the few findings that have one of them.
//! - `findings`: `fields` (7) numbers per finding, flat: status, severity rank, policy,
//!   subject, message, evidence set, extras; in the order of the table (most severe
//!   problems first, see [`text::notable`]).
//! - `counts`: per data store, five numbers (FAIL, ERROR, WAIVED, PASS, SKIP), flat; only
//!   when PASS and SKIP findings are not listed.
//! - `invisible`: the name of each invisible character the strings hold, by code point,
//!   for the script to show it as a marker (see [`super::escape_text`]).
//!
//! Messages and labels name their data store ("Data store NAME (ID): has backups
//! DISABLED"), which would make each one unique. They are written as templates (see
//! [`template`]), the subject's name, label and id each replaced by a placeholder, so
//! the 530,000 messages of 100,000 data stores are a few dozen strings.
//!
//! The block is JSON with every `<`, `>` and `&` written as `\u003c`, `\u003e`,
//! `\u0026`, so no value can end the script element, and every invisible character
//! escaped, so the file itself holds none.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Write;
use std::rc::Rc;

use hlaudit_model::finding::{Finding, Status};
use hlaudit_model::invisible;
use hlaudit_model::report::{Report, Resource};

use super::{hand_on, severity_rank};
use crate::text;

/// Numbers per finding in `findings`.
const FIELDS: usize = 7;

/// Starts a placeholder in a template; the next character says what it stands for.
const MARK: char = '\u{1}';

/// The statuses by their number in `findings`, as the page's script reads them.
const STATUSES: [Status; 5] = [
    Status::Fail,
    Status::Error,
    Status::Waived,
    Status::Pass,
    Status::Skip,
];

/// What a template's placeholders stand for.
struct Names<'a> {
    /// `n`: the name shown.
    name: &'a str,
    /// `a`: the label (the ARN of a data store).
    label: &'a str,
    /// `i`: the id.
    id: &'a str,
}

/// `s` with every occurrence of the subject's label, name and id (longest first) replaced
/// by [`MARK`] and `a`, `n` or `i`, and [`MARK`] itself by two of them; the script expands
/// it back to exactly `s`.
fn template(s: &str, names: &Names<'_>) -> String {
    let mut keys: Vec<(&str, char)> = [(names.label, 'a'), (names.name, 'n'), (names.id, 'i')]
        .into_iter()
        .filter(|(k, _)| !k.is_empty())
        .collect();
    keys.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
    // Byte by byte: a key starts with a character's first byte, which no continuation
    // byte equals, so a match is always at a character boundary.
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let (mut run, mut i) = (0, 0);
    while i < bytes.len() {
        let b = bytes[i];
        let found = if b == MARK as u8 {
            Some((1, MARK))
        } else {
            keys.iter()
                .find(|(k, _)| k.as_bytes()[0] == b && bytes[i..].starts_with(k.as_bytes()))
                .map(|(k, code)| (k.len(), *code))
        };
        match found {
            Some((len, code)) => {
                out.push_str(&s[run..i]);
                out.push(MARK);
                out.push(code);
                i += len;
                run = i;
            }
            None => i += 1,
        }
    }
    out.push_str(&s[run..]);
    out
}

/// Strings written once each, by index in order of first use (each held once, shared
/// by the index and the list: at 100,000 data stores they are some 380,000).
#[derive(Default)]
struct Strings {
    index: HashMap<Rc<str>, i64>,
    list: Vec<Rc<str>>,
}

impl Strings {
    fn of(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.list.len() as i64;
        let shared: Rc<str> = Rc::from(s);
        self.index.insert(Rc::clone(&shared), i);
        self.list.push(shared);
        i
    }

    fn opt(&mut self, s: Option<&str>) -> i64 {
        s.map_or(-1, |s| self.of(s))
    }
}

/// Rows of numbers written once each (`[1,2,3]` for `vec![1, 2, 3]`).
#[derive(Default)]
struct Rows {
    index: HashMap<Vec<i64>, i64>,
    list: Vec<Vec<i64>>,
}

impl Rows {
    fn of(&mut self, row: Vec<i64>) -> i64 {
        if let Some(&i) = self.index.get(&row) {
            return i;
        }
        let i = self.list.len() as i64;
        self.index.insert(row.clone(), i);
        self.list.push(row);
        i
    }
}

/// Writes the data block (the element and its JSON) to `h`, handing it on to `out` as it
/// grows. `listed` are the findings of the table in order; `counts` the counts per data
/// store, when PASS and SKIP are not listed.
pub(super) fn write(
    h: &mut String,
    report: &Report,
    listed: &[&Finding],
    counts: Option<&[[usize; 5]]>,
    out: &mut dyn Write,
    flush_at: usize,
) -> std::io::Result<()> {
    let mut strings = Strings::default();
    let mut subjects: Vec<[i64; 9]> = Vec::with_capacity(report.resources.len());
    let mut tags = Rows::default();
    for r in &report.resources {
        let (name, label, id) = names_of(r);
        let own = Names {
            name: "",
            label: "",
            id: &id,
        };
        let tag_set = match &r.tags {
            Some(t) => {
                let pairs: Vec<i64> = t
                    .iter()
                    .flat_map(|(k, v)| [strings.of(k), strings.of(v)])
                    .collect();
                tags.of(pairs)
            }
            None => -1,
        };
        let (file, line, column) = match &r.source {
            Some(s) => (strings.of(&s.file), s.line as i64, s.column as i64),
            None => (-1, 0, 0),
        };
        subjects.push([
            strings.of(&name),
            strings.opt(r.id.as_deref()),
            strings.of(&template(&label, &own)),
            strings.opt(r.account.as_deref()),
            strings.opt(r.region.as_deref()),
            file,
            line,
            column,
            tag_set,
        ]);
    }
    // Scopes, once each, after the data stores.
    let mut scopes: HashMap<(String, Option<String>, Option<String>), i64> = HashMap::new();

    let listed_policies = super::listed_policies(report);
    let policies: Vec<[i64; 4]> = report
        .policies
        .iter()
        .enumerate()
        .map(|(i, p)| {
            [
                strings.of(&p.id),
                strings.of(&p.title),
                severity_rank(p.severity) as i64,
                if listed_policies[i] { i as i64 } else { -1 },
            ]
        })
        .collect();

    let mut evidence = Rows::default();
    let mut evsets = Rows::default();
    let mut waivers = Rows::default();
    let mut extras = Rows::default();
    let _ = write!(
        h,
        "<script type=\"application/json\" id=\"data\">{{\"fields\":{FIELDS},\"findings\":["
    );
    for (n, f) in listed.iter().enumerate() {
        let subject = match f.record_index() {
            Some(index) if index < report.resources.len() => index as i64,
            _ => {
                let label = text::subject_label(report, f);
                let (account, region) = text::place(report, f);
                let key = (label, account, region);
                let next = subjects.len() as i64;
                *scopes.entry(key.clone()).or_insert_with(|| {
                    subjects.push([
                        strings.of(&key.0),
                        -1,
                        -1,
                        strings.opt(key.1.as_deref()),
                        strings.opt(key.2.as_deref()),
                        -1,
                        0,
                        0,
                        -1,
                    ]);
                    next
                })
            }
        };
        let message = text::message(report, f);
        let message = match report.resources.get(subject as usize).map(names_of) {
            Some((name, label, id)) => template(
                &message,
                &Names {
                    name: &name,
                    label: &label,
                    id: &id,
                },
            ),
            None => template(
                &message,
                &Names {
                    name: "",
                    label: "",
                    id: "",
                },
            ),
        };
        let evset = if f.evidence().is_empty() {
            -1
        } else {
            let rows = f
                .evidence()
                .iter()
                .map(|ev| {
                    evidence.of(vec![
                        strings.of(&ev.pointer),
                        strings.of(&text::found(ev.found.as_ref())),
                        strings.of(&format!("{}{}", ev.expected, text::note(ev))),
                    ])
                })
                .collect();
            evsets.of(rows)
        };
        let waiver = f.waiver().map_or(-1, |w| {
            waivers.of(vec![
                strings.of(&w.reason),
                strings.of(&w.approved_by),
                strings.opt(w.expires.as_deref()),
                strings.of(&w.source.to_string()),
            ])
        });
        let location = f.location().map_or(-1, |at| strings.of(&at.to_string()));
        let baseline = strings.opt(text::baseline_label(f));
        let extra = if waiver < 0 && location < 0 && baseline < 0 {
            -1
        } else {
            extras.of(vec![waiver, location, baseline])
        };
        let status = STATUSES.iter().position(|s| *s == f.status).unwrap_or(0);
        let _ = write!(
            h,
            "{}{status},{},{},{subject},{},{evset},{extra}",
            if n == 0 { "" } else { "," },
            severity_rank(f.severity),
            f.policy_index(),
            strings.of(&message),
        );
        if n % 64 == 63 {
            h.push('\n');
        }
        hand_on(h, out, flush_at)?;
    }
    h.push_str("],\n\"counts\":");
    match counts {
        Some(counts) => {
            h.push('[');
            for (i, c) in counts.iter().enumerate() {
                let _ = write!(
                    h,
                    "{}{},{},{},{},{}",
                    if i == 0 { "" } else { "," },
                    c[0],
                    c[1],
                    c[2],
                    c[3],
                    c[4]
                );
                if i % 64 == 63 {
                    h.push('\n');
                }
                hand_on(h, out, flush_at)?;
            }
            h.push(']');
        }
        None => h.push_str("null"),
    }
    let _ = write!(
        h,
        ",\n\"stores\":{},\n\"subjects\":",
        report.resources.len()
    );
    rows(h, subjects.iter().map(|s| &s[..]), out, flush_at)?;
    h.push_str(",\n\"policies\":");
    rows(h, policies.iter().map(|p| &p[..]), out, flush_at)?;
    for (name, table) in [
        ("tags", &tags),
        ("evidence", &evidence),
        ("evsets", &evsets),
        ("waivers", &waivers),
        ("extras", &extras),
    ] {
        let _ = write!(h, ",\n\"{name}\":");
        rows(h, table.list.iter().map(Vec::as_slice), out, flush_at)?;
    }
    let mut hidden: BTreeMap<char, &str> = BTreeMap::new();
    h.push_str(",\n\"s\":[");
    for (i, s) in strings.list.iter().enumerate() {
        if i > 0 {
            h.push(',');
        }
        if i % 64 == 63 {
            h.push('\n');
        }
        json_string(h, s);
        for c in s.chars().filter(|&c| shown_as_marker(c)) {
            hidden
                .entry(c)
                .or_insert_with(|| invisible::name(c).unwrap_or("invisible character"));
        }
        hand_on(h, out, flush_at)?;
    }
    h.push_str("],\n\"invisible\":{");
    for (i, (c, name)) in hidden.iter().enumerate() {
        if i > 0 {
            h.push(',');
        }
        json_string(h, &invisible::code_point(*c));
        h.push(':');
        json_string(h, name);
    }
    h.push_str("}}</script>\n");
    Ok(())
}

/// A data store's name as the page shows it (what a job did, else its name, id or
/// label), its label (the ARN) and its id (empty when unknown).
fn names_of(r: &Resource) -> (String, String, String) {
    let label = r.label();
    let name = r
        .description()
        .or_else(|| r.name.clone())
        .or_else(|| r.id.clone())
        .unwrap_or_else(|| label.clone());
    (name, label, r.id.clone().unwrap_or_default())
}

/// Whether the page shows `c` as a marker: the invisible characters but line feed and
/// tab (layout), as [`super::escape_text`] does, and not the templates' own [`MARK`].
fn shown_as_marker(c: char) -> bool {
    c != '\n' && c != '\t' && c != MARK && invisible::is_invisible(c)
}

/// Writes rows of numbers as a JSON array of arrays.
fn rows<'a>(
    h: &mut String,
    list: impl Iterator<Item = &'a [i64]>,
    out: &mut dyn Write,
    flush_at: usize,
) -> std::io::Result<()> {
    h.push('[');
    for (i, row) in list.enumerate() {
        if i > 0 {
            h.push_str(if i % 16 == 0 { ",\n" } else { "," });
        }
        h.push('[');
        for (j, n) in row.iter().enumerate() {
            if j > 0 {
                h.push(',');
            }
            let _ = write!(h, "{n}");
        }
        h.push(']');
        hand_on(h, out, flush_at)?;
    }
    h.push(']');
    Ok(())
}

/// Writes `s` as a JSON string that is safe inside a `<script>` element: `<`, `>` and `&`
/// as `\u003c`, `\u003e` and `\u0026`, every invisible character (and so U+2028 and
/// U+2029) as `\uXXXX` (a surrogate pair beyond the BMP).
fn json_string(h: &mut String, s: &str) {
    h.push('"');
    for c in s.chars() {
        match c {
            '"' => h.push_str("\\\""),
            '\\' => h.push_str("\\\\"),
            '\n' => h.push_str("\\n"),
            '\t' => h.push_str("\\t"),
            '<' | '>' | '&' => {
                let _ = write!(h, "\\u{:04x}", u32::from(c));
            }
            c if invisible::is_invisible(c) => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(h, "\\u{u:04x}");
                }
            }
            c => h.push(c),
        }
    }
    h.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the page's script does with a template.
    fn expand(t: &str, names: &Names<'_>) -> String {
        let mut out = String::new();
        let mut chars = t.chars();
        while let Some(c) = chars.next() {
            if c != MARK {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push_str(names.name),
                Some('a') => out.push_str(names.label),
                Some('i') => out.push_str(names.id),
                Some(MARK) => out.push(MARK),
                other => panic!("bad placeholder {other:?}"),
            }
        }
        out
    }

    #[test]
    fn templates_name_their_subject_once_and_expand_back_exactly() {
        let names = Names {
            name: "prod-1",
            label: "arn:aws:healthlake:us-east-1:1:datastore/fhir/abc",
            id: "abc",
        };
        let message = "Data store prod-1 (abc): arn:aws:healthlake:us-east-1:1:datastore/fhir/abc";
        let t = template(message, &names);
        assert_eq!(t, "Data store \u{1}n (\u{1}i): \u{1}a");
        for s in [
            message,
            "",
            "\u{1}n is not a placeholder \u{1}\u{1}",
            "prod-1prod-1abcab",
            "ä \u{202e} prod-",
        ] {
            assert_eq!(expand(&template(s, &names), &names), s, "{s:?}");
        }
        let none = Names {
            name: "",
            label: "",
            id: "",
        };
        assert_eq!(template("a \u{1} b", &none), "a \u{1}\u{1} b");
    }

    proptest::proptest! {
        /// Any text, with any name, label and id (overlapping, empty, holding the mark),
        /// expands back to itself.
        #[test]
        fn every_template_expands_back_exactly(
            s in "[ab\u{1}é\u{202e}n]{0,24}",
            name in "[ab\u{1}é]{0,3}",
            label in "[ab\u{1}é]{0,5}",
            id in "[ab\u{1}é]{0,2}",
        ) {
            let names = Names { name: &name, label: &label, id: &id };
            proptest::prop_assert_eq!(expand(&template(&s, &names), &names), s);
        }
    }

    #[test]
    fn json_strings_cannot_end_the_script_and_hold_no_invisible_character() {
        let mut h = String::new();
        json_string(
            &mut h,
            "</script><!-- \"a\"\\ & \u{2028}\u{202e}\u{e0041}\u{1}\n\tä",
        );
        assert_eq!(
            h,
            "\"\\u003c/script\\u003e\\u003c!-- \\\"a\\\"\\\\ \\u0026 \\u2028\\u202e\\udb40\\udc41\\u0001\\n\\tä\""
        );
        let back: String = serde_json::from_str(&h).unwrap();
        assert_eq!(
            back,
            "</script><!-- \"a\"\\ & \u{2028}\u{202e}\u{e0041}\u{1}\n\tä"
        );
    }
}

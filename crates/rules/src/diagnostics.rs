//! Diagnostics: what is wrong with a set of policy files, each problem with its file, line,
//! column, a stable code, a message and an optional hint, rendered like a compiler error.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use hlaudit_model::invisible;
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

/// One problem found while loading or compiling policies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// The file as the user named it (`builtin:encryption.yaml` for the built-in pack), or
    /// empty when the problem is not in a file (a parameter override from code).
    pub file: String,
    /// 1-based line; 0 when unknown.
    pub line: usize,
    /// 1-based column; 0 when unknown.
    pub column: usize,
    /// Byte offset in the file (for the caret).
    pub offset: usize,
    /// Length of the marked text, in bytes.
    pub len: usize,
    /// A stable kebab-case code, e.g. `unknown-key` (listed in `docs/policy-language.md`).
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// How to fix it, e.g. "did you mean `severity`?".
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.file.is_empty() {
            write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        }
        write!(f, "error[{}]: {}", self.code, self.message)?;
        if let Some(h) = &self.hint {
            write!(f, " ({h})")?;
        }
        Ok(())
    }
}

/// Every problem found in a set of policy files, with the files' text for rendering.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
    sources: BTreeMap<String, Arc<str>>,
}

impl Diagnostics {
    /// No problems yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers a file's text so problems in it can be rendered with a caret.
    pub fn add_source(&mut self, file: &str, text: Arc<str>) {
        self.sources.insert(file.to_owned(), text);
    }

    /// Adds a problem.
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// Moves every problem of `other` into this set.
    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
        self.sources.extend(other.sources);
    }

    /// The problems, sorted by file, line and column.
    pub fn items(&self) -> &[Diagnostic] {
        &self.items
    }

    /// Whether there is no problem.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The number of problems.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn sort(&mut self) {
        self.items.sort();
        self.items.dedup();
    }

    /// Renders every problem like a compiler error (file, line, column, the source line
    /// and a caret, the hint), followed by a count. `color` adds ANSI colours; without it
    /// the text is plain and stable (for tests and files).
    pub fn render(&self, color: bool) -> String {
        self.render_for(color, "the policy files")
    }

    /// As [`Diagnostics::render`], with the count naming what was loaded, e.g.
    /// `the waiver files` or `the configuration file`.
    pub fn render_for(&self, color: bool, what: &str) -> String {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(100)
            .with_links(false);
        let mut out = String::new();
        let mut shown: BTreeMap<&str, Shown> = BTreeMap::new();
        for d in &self.items {
            let source = self
                .sources
                .get(&d.file)
                .filter(|text| drawable(text, d.offset))
                .map(|text| {
                    let s = shown.entry(&d.file).or_insert_with(|| Shown::new(text));
                    let start = s.offset(d.offset);
                    let len = s.offset(d.offset + d.len.max(1)) - start;
                    (NamedSource::new(d.file.clone(), s.text.clone()), start, len)
                });
            let report = Rendered { d, source };
            if handler.render_report(&mut out, &report).is_err() {
                out.push_str(&d.to_string());
                out.push('\n');
            }
        }
        let n = self.items.len();
        out.push_str(&format!(
            "{n} problem{} found in {what}\n",
            if n == 1 { "" } else { "s" }
        ));
        out
    }
}

/// Lines longer than this are not drawn under a diagnostic: the message keeps its
/// `file:line:column` and the caret is left out. Such a line is unreadable in a terminal,
/// and miette pads to its width, which `std::fmt` refuses (a panic) past 65,535.
const MAX_DRAWN_LINE: usize = 1_000;

/// Whether the lines miette draws around `offset` (the marked one and one either side)
/// are all short enough to draw.
fn drawable(text: &str, offset: usize) -> bool {
    let bytes = text.as_bytes();
    let offset = offset.min(bytes.len());
    let line_start = |at: usize| {
        bytes[..at]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1)
    };
    let line_end = |at: usize| {
        bytes[at..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bytes.len(), |i| at + i)
    };
    let start = line_start(line_start(offset).saturating_sub(1));
    let end = line_end((line_end(offset) + 1).min(bytes.len()));
    bytes[start..end]
        .split(|b| *b == b'\n')
        .all(|line| line.len() <= MAX_DRAWN_LINE)
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.items {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// A file's text as shown under a diagnostic: invisible characters other than line
/// breaks and tabs (bidirectional controls, zero-width characters, other controls) are
/// shown by code point (`\u{202e}`), so the quoted line reads as the file is, not as a
/// terminal would display it. Byte offsets into the file are moved past the escapes.
struct Shown {
    text: String,
    /// For each escaped character: its offset in the file and the bytes added up to and
    /// including it.
    added: Vec<(usize, usize)>,
}

impl Shown {
    fn new(text: &str) -> Shown {
        let keep = |c: char| matches!(c, '\n' | '\r' | '\t');
        if !text.chars().any(|c| invisible::is_invisible(c) && !keep(c)) {
            return Shown {
                text: text.to_owned(),
                added: Vec::new(),
            };
        }
        let mut out = String::with_capacity(text.len() + 32);
        let mut added = Vec::new();
        let mut total = 0;
        for (i, c) in text.char_indices() {
            if invisible::is_invisible(c) && !keep(c) {
                let before = out.len();
                invisible::push_escape(&mut out, c);
                total += out.len() - before - c.len_utf8();
                added.push((i, total));
            } else {
                out.push(c);
            }
        }
        Shown { text: out, added }
    }

    /// Where a byte offset of the file is in the shown text.
    fn offset(&self, offset: usize) -> usize {
        let n = self.added.partition_point(|(at, _)| *at < offset);
        offset + n.checked_sub(1).map_or(0, |i| self.added[i].1)
    }
}

struct Rendered<'a> {
    d: &'a Diagnostic,
    /// The shown source, with the span's start and length in it.
    source: Option<(NamedSource<String>, usize, usize)>,
}

impl fmt::Debug for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.d, f)
    }
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.source.is_none() && !self.d.file.is_empty() {
            write!(f, "{}:{}:{}: ", self.d.file, self.d.line, self.d.column)?;
        }
        f.write_str(&invisible::escape(&self.d.message))
    }
}

impl std::error::Error for Rendered<'_> {}

impl miette::Diagnostic for Rendered<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.d.code))
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.d
            .hint
            .as_ref()
            .map(|h| Box::new(invisible::escape(h).into_owned()) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source
            .as_ref()
            .map(|(s, _, _)| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (_, start, len) = self.source.as_ref()?;
        let span = SourceSpan::new((*start).into(), *len);
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            None, span,
        ))))
    }
}

/// The hint for a word that is not one of `names`: `did you mean `x`?` for a close one,
/// else the list of names.
pub fn choice_hint(word: &str, names: &[&str]) -> String {
    did_you_mean(word, names).map_or_else(
        || format!("expected one of: {}", names.join(", ")),
        |x| format!("did you mean `{x}`?"),
    )
}

/// A YAML value's kind with an article, for messages: `a mapping`, `a list`, `null`.
pub fn yaml_kind(v: &serde_yaml_ng::Value) -> &'static str {
    use serde_yaml_ng::Value;
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

impl Diagnostic {
    /// The `yaml-syntax` diagnostic of a file that is not YAML, at the place the parser
    /// stopped (the start of the file when it does not say).
    pub fn yaml_syntax(file: &str, text: &str, e: &serde_yaml_ng::Error) -> Diagnostic {
        let offset = e.location().map_or(0, |l| l.index());
        let (line, column) = crate::spans::line_col(text, offset);
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg);
        Diagnostic {
            file: file.to_owned(),
            line,
            column,
            offset,
            len: crate::spans::token_len(text, offset),
            code: "yaml-syntax",
            message: format!("not valid YAML: {msg}"),
            hint: None,
        }
    }
}

/// The closest candidate to `word` by edit distance, when close enough to be a likely typo.
pub fn did_you_mean<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(&word.to_ascii_lowercase(), &c.to_ascii_lowercase());
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let (d, c) = best?;
    let limit = (word.chars().count() / 3).max(1) + usize::from(word.len() > 6);
    (d <= limit).then_some(c)
}

/// Levenshtein distance.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words_only() {
        let keys = ["severity", "title", "tags", "assert"];
        assert_eq!(did_you_mean("severty", &keys), Some("severity"));
        assert_eq!(did_you_mean("tag", &keys), Some("tags"));
        assert_eq!(did_you_mean("frobnicate", &keys), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn a_line_too_long_to_draw_keeps_its_location() {
        // found by the mutation harness: a 300,000-byte string in a configuration file
        // made miette pad to its width, which std::fmt refuses with a panic
        for (text, offset) in [
            (format!("a: 1\nb: \"{}\n", "x".repeat(300_000)), 8),
            (format!("{}\nb: [\n", "x".repeat(70_000)), 70_004),
        ] {
            let mut ds = Diagnostics::new();
            ds.add_source("c.yaml", Arc::from(text.as_str()));
            ds.push(Diagnostic {
                file: "c.yaml".into(),
                line: 2,
                column: 4,
                offset,
                len: 1,
                code: "yaml-syntax",
                message: "not valid YAML".into(),
                hint: None,
            });
            let out = ds.render(false);
            assert!(out.contains("c.yaml:2:4"), "{out}");
            assert!(out.len() < 1_000, "{}", out.len());
        }
        assert!(drawable("a\nb\nc", 2) && drawable("", 0));
    }

    #[test]
    fn renders_plain_text_with_a_caret() {
        let mut ds = Diagnostics::new();
        ds.add_source("p.yaml", Arc::from("policies:\n  - severty: high\n"));
        ds.push(Diagnostic {
            file: "p.yaml".into(),
            line: 2,
            column: 5,
            offset: 14,
            len: 7,
            code: "unknown-key",
            message: "unknown key `severty` in a policy".into(),
            hint: Some("did you mean `severity`?".into()),
        });
        let out = ds.render(false);
        assert!(out.contains("p.yaml:2:5"), "{out}");
        assert!(out.contains("───────"), "{out}");
        assert!(out.contains("did you mean `severity`?"), "{out}");
        assert!(!out.contains('\u{1b}'), "{out}");
    }

    #[test]
    fn a_source_line_shows_invisible_characters_and_the_caret_follows() {
        // `id: HL-X\u{202e}-01` then the unknown key on the next line.
        let text = "- id: HL-X\u{202e}\u{2066}-01\r\n  severty: high\r\n";
        let offset = text.find("severty").unwrap();
        let mut ds = Diagnostics::new();
        ds.add_source("p.yaml", Arc::from(text));
        ds.push(Diagnostic {
            file: "p.yaml".into(),
            line: 2,
            column: 3,
            offset,
            len: 7,
            code: "unknown-key",
            message: "unknown key `severty` in policy `HL-X\u{202e}-01`".into(),
            hint: Some("did you mean `severity`?".into()),
        });
        let out = ds.render(false);
        assert!(
            !out.chars().any(|c| c != '\n' && invisible::is_invisible(c)),
            "{out}"
        );
        assert!(out.contains("- id: HL-X\\u{202e}\\u{2066}-01"), "{out}");
        assert!(out.contains("policy `HL-X\\u{202e}-01`"), "{out}");
        // The marker is still under `severty` (7 columns, starting at column 3).
        let line = out.lines().find(|l| l.contains("severty: high")).unwrap();
        let marker = out
            .lines()
            .skip_while(|l| !l.contains("severty: high"))
            .nth(1)
            .unwrap();
        let col = |s: &str, pat: &str| s.find(pat).map(|b| s[..b].chars().count());
        assert_eq!(col(line, "severty"), col(marker, "───────"), "{out}");
        let shown = Shown::new(text);
        assert_eq!(shown.offset(0), 0);
        assert_eq!(&shown.text[shown.offset(offset)..][..7], "severty");
    }
}

//! Snapshot input errors, rendered like compiler errors.
//!
//! ```text
//! error: `IdentityProviderConfiguration.FineGrainedAuthorizationEnabled`: invalid type: string "yes", expected a boolean
//!   --> snapshots/prod.json:14:44
//!    |
//! 14 |         "FineGrainedAuthorizationEnabled": "yes"
//!    |                                            ^
//!    = hint: ...
//! ```

use std::sync::Arc;

use crate::invisible;

/// What is wrong with an input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input could not be opened or read.
    #[error("cannot read the input: {0}")]
    Io(String),
    /// The input holds nothing but whitespace.
    #[error("the input is empty: expected a snapshot (a JSON object or array, or JSON Lines)")]
    Empty,
    /// The text is not valid JSON.
    #[error("malformed JSON: {0}")]
    Syntax(String),
    /// Valid JSON, but not one of the accepted shapes.
    #[error("unknown top-level shape: {found}")]
    UnknownShape {
        /// What was found instead, e.g. "an object with keys `Items`, `Count`".
        found: String,
    },
    /// A record lacks `DatastoreId` or `DatastoreArn`.
    #[error("record has no `{field}`")]
    MissingField {
        /// The missing field.
        field: String,
    },
    /// A record field has the wrong type or an unusable value.
    #[error("`{path}`: {message}")]
    InvalidField {
        /// The field path, e.g. `SseConfiguration.KmsEncryptionConfig.CmkType`, `.` for
        /// the record itself.
        path: String,
        /// What was found and what was expected.
        message: String,
    },
    /// An object repeats a name, so JSON readers disagree on its value (a record, an
    /// hlaudit snapshot record's tags or enrichments, or the envelope).
    #[error("`{path}` appears twice in one object: JSON readers disagree on which value counts")]
    DuplicateKey {
        /// The path of the repeated name, e.g. `IdentityProviderConfiguration.Metadata`.
        path: String,
    },
    /// The same resource (a data store by `DatastoreArn`, a job by its data store and job
    /// ids, ...) appears twice with different content, and nothing says which copy counts.
    #[error("{} `{}` appears twice with different content, at {} and here: {}", .0.kind.noun(), .0.arn, .0.first, .0.difference)]
    ConflictingDuplicate(Box<ConflictingCopies>),
    /// An hlaudit snapshot written by a newer, incompatible hlaudit.
    #[error("hlaudit snapshot format version {found} is newer than this hlaudit reads (version {supported})")]
    UnsupportedVersion {
        /// The `hlauditSnapshot` value found.
        found: u64,
        /// The newest version this build reads.
        supported: u64,
    },
    /// A field of the envelope (an hlaudit snapshot's, or `DatastorePropertiesList`) is
    /// missing or has the wrong type.
    #[error("snapshot field `{field}`: {message}")]
    Envelope {
        /// The envelope field, e.g. `collectedAt`, `records`.
        field: String,
        /// What was wrong and what was expected.
        message: String,
    },
    /// The snapshot could not be written.
    #[error("cannot write the snapshot: {0}")]
    Write(String),
    /// So many errors that reading the input stopped.
    #[error("too many errors ({0}); stopped reading this input")]
    TooManyErrors(usize),
}

/// Two copies of one data store that differ (see [`ErrorKind::ConflictingDuplicate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictingCopies {
    /// What the resource is.
    pub kind: crate::kind::Kind,
    /// The resource's identity key: a data store's ARN, `DATASTORE_ID/KIND/JOB_ID` for a
    /// job (see [`crate::identity::Identity::key`]).
    pub arn: String,
    /// Where the first copy is (`file:line:column`).
    pub first: String,
    /// The first difference, e.g. `` `/SseConfiguration/...` is "A" against "B" ``.
    pub difference: String,
}

/// The text of the source line an error points at (possibly a window of a long line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// The line, or a window of it, without the line break.
    pub text: String,
    /// 1-based character position of the caret within `text`.
    pub caret: usize,
}

/// Lines up to this many characters are shown whole.
const WHOLE_LINE: usize = 110;
/// Longest stretch of a longer line shown before and after the caret.
const BEFORE: usize = 50;
const AFTER: usize = 50;

impl Snippet {
    /// Builds a snippet from a line's bytes and a 1-based byte column. `cut_before` says
    /// the bytes do not start at the beginning of the line.
    pub(crate) fn new(line: &[u8], column: usize, cut_before: bool) -> Snippet {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let col = (column.max(1) - 1).min(line.len());
        // A character is at most 4 bytes: a line longer than 4 * WHOLE_LINE bytes is not
        // shown whole, and only BEFORE characters before the column and AFTER after it
        // (plus one either side, to know whether to mark a cut) can be shown. Looking at that window only keeps a
        // long line (a minified file is one line) from being copied whole.
        let windowed = line.len() > 4 * WHOLE_LINE;
        let (line, col, cut_before) = if windowed {
            // never past the column: a line of continuation bytes (not UTF-8) has no
            // character start before it
            let lo = char_start(line, col.saturating_sub(4 * BEFORE + 4)).min(col);
            let hi = char_start(line, (col + 4 * AFTER + 4).min(line.len()));
            (&line[lo..hi.max(col)], col - lo, cut_before || lo > 0)
        } else {
            (line, col, cut_before)
        };
        let (head, tail) = line.split_at(col);
        let head = String::from_utf8_lossy(head);
        let tail = String::from_utf8_lossy(tail);
        let head_chars: Vec<char> = head.chars().collect();
        let tail_chars: Vec<char> = tail.chars().collect();
        let whole = !windowed && head_chars.len() + tail_chars.len() <= WHOLE_LINE;
        let (before, after) = if whole {
            (usize::MAX, usize::MAX)
        } else {
            (BEFORE, AFTER)
        };
        let mut text = String::new();
        let skip = head_chars.len().saturating_sub(before);
        if skip > 0 || cut_before {
            text.push('…');
        }
        // Tabs become spaces (so the caret lines up); other invisible characters are shown
        // by code point (`\u{202e}`), so the line reads as it is and cannot drive the
        // terminal. The caret counts the escapes.
        let shown = |text: &mut String, c: char| match c {
            '\t' => text.push(' '),
            c if invisible::is_invisible(c) => invisible::push_escape(text, c),
            c => text.push(c),
        };
        for &c in &head_chars[skip..] {
            shown(&mut text, c);
        }
        let caret = text.chars().count() + 1;
        for &c in tail_chars.iter().take(after) {
            shown(&mut text, c);
        }
        if tail_chars.len() > after {
            text.push('…');
        }
        Snippet { text, caret }
    }
}

/// The first offset at or after `i` that does not fall inside a UTF-8 sequence (bytes of
/// the form `10xxxxxx` continue one).
fn char_start(text: &[u8], mut i: usize) -> usize {
    while i < text.len() && text[i] & 0xC0 == 0x80 {
        i += 1;
    }
    i
}

/// One problem in one input, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {kind}", location = self.location())]
pub struct SnapshotError {
    /// The input as the user named it (`-` for standard input).
    pub file: Arc<str>,
    /// 1-based line; 0 when the error is about the whole input.
    pub line: usize,
    /// 1-based column in bytes; 0 when unknown.
    pub column: usize,
    /// What is wrong and what was expected.
    pub kind: ErrorKind,
    /// The source line, when it could be shown.
    pub snippet: Option<Box<Snippet>>,
    /// A suggestion for fixing it.
    pub hint: Option<String>,
}

impl SnapshotError {
    /// An error about a place in an input.
    pub fn new(file: &str, line: usize, column: usize, kind: ErrorKind) -> Self {
        SnapshotError {
            file: Arc::from(file),
            line,
            column,
            kind,
            snippet: None,
            hint: None,
        }
    }

    /// Adds a hint (builder style).
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// `file:line:column`, or just `file` when the error is about the whole input.
    pub fn location(&self) -> String {
        match (self.line, self.column) {
            (0, _) => self.file.to_string(),
            (l, 0) => format!("{}:{l}", self.file),
            (l, c) => format!("{}:{l}:{c}", self.file),
        }
    }

    /// The compiler-style rendering: `error: ...`, ` --> file:line:col`, the source line
    /// with a caret under the column, and a hint. Plain text, deterministic.
    pub fn render(&self) -> String {
        // The message may quote the input (a name, a difference): shown escaped.
        let mut out = format!("error: {}\n", invisible::escape(&self.kind.to_string()));
        let gutter = if self.line == 0 {
            1
        } else {
            self.line.to_string().len()
        };
        let pad = " ".repeat(gutter);
        out.push_str(&format!("{pad}--> {}\n", self.location()));
        if let Some(s) = &self.snippet {
            out.push_str(&format!("{pad} |\n"));
            out.push_str(format!("{} | {}", self.line, s.text).trim_end());
            out.push('\n');
            out.push_str(&format!("{pad} | {}^\n", " ".repeat(s.caret - 1)));
        }
        if let Some(h) = &self.hint {
            out.push_str(&format!("{pad} = hint: {h}\n"));
        }
        out
    }
}

/// Every problem found in a set of inputs, in input order, then position. Its `Display`
/// is [`SnapshotErrors::render`].
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
#[error("{}", self.render())]
pub struct SnapshotErrors(pub Vec<SnapshotError>);

impl SnapshotErrors {
    /// The errors.
    pub fn errors(&self) -> &[SnapshotError] {
        &self.0
    }

    /// How many errors there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// All errors rendered like compiler errors, separated by blank lines, with a closing
    /// count. Plain text, no colour, deterministic.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for e in &self.0 {
            out.push_str(&e.render());
            out.push('\n');
        }
        let files: std::collections::BTreeSet<&str> = self.0.iter().map(|e| &*e.file).collect();
        let n = self.0.len();
        out.push_str(&format!(
            "error: could not read the snapshot input: {n} error{} in {} input{}\n",
            if n == 1 { "" } else { "s" },
            files.len(),
            if files.len() == 1 { "" } else { "s" },
        ));
        out
    }
}

impl From<SnapshotError> for SnapshotErrors {
    fn from(e: SnapshotError) -> Self {
        SnapshotErrors(vec![e])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_a_compiler() {
        let mut e = SnapshotError::new(
            "a.json",
            12,
            7,
            ErrorKind::MissingField {
                field: "DatastoreArn".into(),
            },
        )
        .with_hint("add it");
        e.snippet = Some(Box::new(Snippet::new(
            b"  x:  {\"DatastoreId\": 1}",
            7,
            false,
        )));
        let text = e.render();
        assert_eq!(
            text,
            "error: record has no `DatastoreArn`\n  --> a.json:12:7\n   |\n12 |   x:  {\"DatastoreId\": 1}\n   |       ^\n   = hint: add it\n"
        );
    }

    #[test]
    fn snippets_show_invisible_characters_by_code_point_and_the_caret_follows() {
        let s = Snippet::new(
            "{\"DatastoreName\": \"a\u{202e}b\u{2066}\", x}".as_bytes(),
            31,
            false,
        );
        assert_eq!(s.text, "{\"DatastoreName\": \"a\\u{202e}b\\u{2066}\", x}");
        // Column 31 (bytes) is the `x`; the escapes before it move the caret.
        assert_eq!(s.text.chars().nth(s.caret - 1), Some('x'), "{s:?}");
    }

    /// The snippet computed from the whole line, as before lines were windowed.
    fn from_whole_line(line: &[u8], column: usize, cut_before: bool) -> Snippet {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let (head, tail) = line.split_at((column.max(1) - 1).min(line.len()));
        let head: Vec<char> = String::from_utf8_lossy(head).chars().collect();
        let tail: Vec<char> = String::from_utf8_lossy(tail).chars().collect();
        let whole = head.len() + tail.len() <= WHOLE_LINE;
        let (before, after) = if whole {
            (usize::MAX, usize::MAX)
        } else {
            (BEFORE, AFTER)
        };
        let untab = |c: &char| match *c {
            '\t' => " ".to_owned(),
            c if invisible::is_invisible(c) => invisible::escape(&c.to_string()).into_owned(),
            c => c.to_string(),
        };
        let mut text = String::new();
        let skip = head.len().saturating_sub(before);
        if skip > 0 || cut_before {
            text.push('…');
        }
        text.extend(head[skip..].iter().map(untab));
        let caret = text.chars().count() + 1;
        text.extend(tail.iter().take(after).map(untab));
        if tail.len() > after {
            text.push('…');
        }
        Snippet { text, caret }
    }

    proptest::proptest! {
        #[test]
        fn a_windowed_snippet_is_the_whole_lines_snippet(
            chars in proptest::collection::vec(
                proptest::sample::select(vec!['a', ' ', '\t', 'é', '€', '𝄞', '"']),
                0..1200,
            ),
            at in 0usize..5000,
            cut in proptest::bool::ANY,
        ) {
            let line: String = chars.into_iter().collect();
            let column = at % (line.len() + 2) + 1;
            let got = Snippet::new(line.as_bytes(), column, cut);
            let want = from_whole_line(line.as_bytes(), column, cut);
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn long_lines_are_windowed_around_the_caret() {
        let line = format!("{}X{}", "a".repeat(100), "b".repeat(100));
        let s = Snippet::new(line.as_bytes(), 101, false);
        assert!(s.text.starts_with('…') && s.text.ends_with('…'));
        assert_eq!(s.text.chars().nth(s.caret - 1), Some('X'));
    }

    #[test]
    fn whole_input_errors_have_no_position() {
        let e = SnapshotError::new("-", 0, 0, ErrorKind::Empty);
        assert_eq!(e.location(), "-");
        assert!(e.render().starts_with("error: the input is empty"));
        assert_eq!(SnapshotErrors::from(e).len(), 1);
    }
}

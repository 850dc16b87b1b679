//! JSON and YAML parsed into a tree that keeps each node's position and YAML tag.
//!
//! Both syntaxes go through the same builder, fed by the `yaml-rust2` event parser (JSON
//! is YAML 1.2), so JSON and YAML templates give the same tree with positions. JSON input
//! is first checked with `serde_json`, so a JSON syntax error reads as a JSON error.
//!
//! The builder fails closed where readers of the same text could disagree: a mapping
//! that repeats a key, and YAML aliases (`*name`), which some readers expand and others
//! refuse, are errors.

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::IacError;

/// A node with where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// The value.
    pub value: Value,
    /// The YAML tag as written (`!Ref`, `!GetAtt`), for short-form intrinsics.
    pub tag: Option<String>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (characters).
    pub column: u32,
}

/// A node's value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    /// A number, as written.
    Number(String),
    String(String),
    Seq(Vec<Node>),
    /// Keys in file order; a repeated key is an error when parsing.
    Map(Vec<(Key, Node)>),
}

/// A mapping key with its position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Key {
    pub name: String,
    pub line: u32,
    pub column: u32,
}

impl Node {
    /// The entry named `name`, when this is a mapping that has it.
    pub(crate) fn get(&self, name: &str) -> Option<&Node> {
        self.entry(name).map(|(_, n)| n)
    }

    /// The entry named `name` with its key, when this is a mapping that has it.
    pub(crate) fn entry(&self, name: &str) -> Option<(&Key, &Node)> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.name == name)
                .map(|(k, n)| (k, n)),
            _ => None,
        }
    }

    /// The text of a scalar (string, number or boolean) without a tag.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) | Value::Number(s) => Some(s),
            Value::Bool(true) => Some("true"),
            Value::Bool(false) => Some("false"),
            _ => None,
        }
    }

    /// What kind of value this is, for messages.
    pub(crate) fn describe(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// Deepest nesting accepted; deeper input is refused rather than risk the stack.
const MAX_DEPTH: usize = 200;

/// Parses a JSON or YAML document into a tree.
pub(crate) fn parse(file: &str, text: &str) -> Result<Node, IacError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('{') {
        check_json(file, text)?;
    }
    let mut builder = Builder {
        file,
        text,
        lines: text.lines().collect(),
        parser: Parser::new_from_str(text),
    };
    builder.document()
}

/// Reports a JSON syntax error the way JSON readers do.
fn check_json(file: &str, text: &str) -> Result<(), IacError> {
    match serde_json::from_str::<serde::de::IgnoredAny>(text) {
        Ok(_) => Ok(()),
        Err(e) => {
            let message = e.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_owned();
            Err(IacError::new(
                file,
                e.line(),
                e.column(),
                format!("not valid JSON: {message}"),
            )
            .with_source(text)
            .with_hint("a template starting with `{` is read as JSON; fix the syntax at the caret"))
        }
    }
}

struct Builder<'a> {
    file: &'a str,
    text: &'a str,
    lines: Vec<&'a str>,
    parser: Parser<std::str::Chars<'a>>,
}

impl Builder<'_> {
    fn next(&mut self) -> Result<(Event, Marker), IacError> {
        self.parser.next_token().map_err(|e| {
            let m = e.marker();
            self.error(
                m.line(),
                m.col() + 1,
                format!("not valid YAML: {}", e.info()),
                "fix the syntax at the caret (indentation, a missing `:` or a quote left open)",
            )
        })
    }

    fn error(&self, line: usize, column: usize, message: String, hint: &str) -> IacError {
        IacError::new(self.file, line, column, message)
            .with_source(self.text)
            .with_hint(hint)
    }

    fn document(&mut self) -> Result<Node, IacError> {
        let (ev, _) = self.next()?;
        if ev != Event::StreamStart {
            return Err(self.error(1, 1, "not valid YAML".into(), "check the file's encoding"));
        }
        let (ev, mark) = self.next()?;
        if ev == Event::StreamEnd {
            return Err(IacError::new(self.file, 0, 0, "the file is empty")
                .with_hint("a template is a mapping with `Resources`"));
        }
        if ev != Event::DocumentStart {
            return Err(self.unexpected(&mark));
        }
        let (ev, mark) = self.next()?;
        let root = self.node(ev, mark, 0)?;
        let (ev, mark) = self.next()?;
        if ev != Event::DocumentEnd {
            return Err(self.unexpected(&mark));
        }
        let (ev, mark) = self.next()?;
        match ev {
            Event::StreamEnd => Ok(root),
            _ => Err(self.error(
                mark.line(),
                mark.col() + 1,
                "the file holds more than one YAML document".into(),
                "a template is one document; remove the second `---` and what follows",
            )),
        }
    }

    fn unexpected(&self, mark: &Marker) -> IacError {
        self.error(
            mark.line(),
            mark.col() + 1,
            "not valid YAML: unexpected structure".into(),
            "check the indentation here",
        )
    }

    fn node(&mut self, ev: Event, mark: Marker, depth: usize) -> Result<Node, IacError> {
        let (line, column) = (to_u32(mark.line()), to_u32(mark.col() + 1));
        if depth > MAX_DEPTH {
            return Err(self.error(
                mark.line(),
                mark.col() + 1,
                format!("nested more than {MAX_DEPTH} levels deep"),
                "a template this deep is not one CloudFormation accepts",
            ));
        }
        let (value, tag) = match ev {
            Event::Scalar(text, style, _, tag) => {
                let tag = tag.map(tag_text);
                let column = match &tag {
                    // The parser marks a tagged scalar after its tag; the node starts at
                    // the tag.
                    Some(t) => self.tag_column(line, column, t),
                    None => column,
                };
                return Ok(Node {
                    value: scalar(text, style, tag.as_deref()),
                    tag,
                    line,
                    column,
                });
            }
            Event::SequenceStart(_, tag) => {
                let mut items = Vec::new();
                loop {
                    let (ev, m) = self.next()?;
                    if ev == Event::SequenceEnd {
                        break;
                    }
                    items.push(self.node(ev, m, depth + 1)?);
                }
                (Value::Seq(items), tag.map(tag_text))
            }
            Event::MappingStart(_, tag) => (self.mapping(depth)?, tag.map(tag_text)),
            Event::Alias(_) => {
                return Err(self.error(
                    mark.line(),
                    mark.col() + 1,
                    "YAML aliases (`*name`) are not read".into(),
                    "write the value out where it is used: readers differ on aliases, so \
                     the value audited could differ from the one deployed",
                ))
            }
            _ => return Err(self.unexpected(&mark)),
        };
        // A tagged collection starts at its tag, which the parser marks after; the
        // parser marks a block mapping after its first key, where the node starts.
        let column = match &tag {
            Some(t) => self.tag_column(line, column, t),
            None => column,
        };
        let (line, column) = match &value {
            Value::Map(entries) => match entries.first() {
                Some((k, _)) if (k.line, k.column) < (line, column) => (k.line, k.column),
                _ => (line, column),
            },
            _ => (line, column),
        };
        Ok(Node {
            value,
            tag,
            line,
            column,
        })
    }

    /// The column of `tag` written before `column` on `line`, or `column`.
    fn tag_column(&self, line: u32, column: u32, tag: &str) -> u32 {
        let Some(text) = self.lines.get((line as usize).saturating_sub(1)) else {
            return column;
        };
        let before: String = text
            .chars()
            .take((column as usize).saturating_sub(1))
            .collect();
        match before.rfind(tag) {
            Some(at) => to_u32(before[..at].chars().count() + 1),
            None => column,
        }
    }

    fn mapping(&mut self, depth: usize) -> Result<Value, IacError> {
        let mut entries: Vec<(Key, Node)> = Vec::new();
        loop {
            let (ev, m) = self.next()?;
            if ev == Event::MappingEnd {
                break;
            }
            let key_node = self.node(ev, m, depth + 1)?;
            let name = match (&key_node.value, &key_node.tag) {
                (Value::String(s) | Value::Number(s), None) => s.clone(),
                (Value::Bool(b), None) => b.to_string(),
                (Value::Null, None) => String::new(),
                _ => {
                    return Err(self.error(
                        m.line(),
                        m.col() + 1,
                        format!(
                            "a mapping key must be plain text, found {}",
                            key_node.describe()
                        ),
                        "CloudFormation keys are names such as `Resources` or `Type`",
                    ))
                }
            };
            let key = Key {
                name,
                line: key_node.line,
                column: key_node.column,
            };
            if let Some((first, _)) = entries.iter().find(|(k, _)| k.name == key.name) {
                return Err(self.error(
                    key.line as usize,
                    key.column as usize,
                    format!(
                        "the key `{}` appears twice in this mapping (first at line {}, column {})",
                        key.name, first.line, first.column
                    ),
                    "remove one of them: readers disagree on which value counts",
                ));
            }
            let (ev, m) = self.next()?;
            let value = self.node(ev, m, depth + 1)?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `!Ref` for the local tag `Ref`, `!!str` for the core schema's `str`.
fn tag_text(tag: Tag) -> String {
    match tag.handle.as_str() {
        "!" => format!("!{}", tag.suffix),
        "!!" | "tag:yaml.org,2002:" => format!("!!{}", tag.suffix),
        h => format!("{h}{}", tag.suffix),
    }
}

/// The value of a scalar: plain scalars without a tag are resolved as YAML's core schema
/// resolves them (null, booleans, numbers); quoted ones and tagged ones stay text.
fn scalar(text: String, style: TScalarStyle, tag: Option<&str>) -> Value {
    match tag {
        Some("!!str") => return Value::String(text),
        Some("!!bool") if text == "true" || text == "false" => return Value::Bool(text == "true"),
        Some("!!int" | "!!float") if is_number(&text) => return Value::Number(text),
        Some("!!null") => return Value::Null,
        Some(_) => return Value::String(text),
        None => {}
    }
    if style != TScalarStyle::Plain {
        return Value::String(text);
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ if is_number(&text) => Value::Number(text),
        _ => Value::String(text),
    }
}

/// Whether a plain scalar is a number in YAML's core schema (decimal integers and
/// floats; `0x`/`0o` forms and `.inf`/`.nan` are kept as text).
pub(crate) fn is_number(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let mut digits = 0;
    let mut dot = false;
    let mut exp = false;
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '0'..='9' => digits += 1,
            '.' if !dot && !exp => dot = true,
            'e' | 'E' if !exp && digits > 0 => {
                exp = true;
                if matches!(chars.peek(), Some('+' | '-')) {
                    chars.next();
                }
                if !matches!(chars.peek(), Some('0'..='9')) {
                    return false;
                }
            }
            _ => return false,
        }
    }
    digits > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Node {
        match parse("t.yaml", text) {
            Ok(n) => n,
            Err(e) => panic!("{}", e.render()),
        }
    }

    fn err(text: &str) -> IacError {
        match parse("t.yaml", text) {
            Ok(n) => panic!("parsed: {n:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn yaml_keeps_positions_and_tags() {
        let n = p("A:\n  B: !Ref X\n  C: [1, 'two', true, ~]\n");
        let (k, a) = n.entry("A").unwrap();
        assert_eq!((k.line, k.column), (1, 1));
        let (kb, b) = a.entry("B").unwrap();
        assert_eq!((kb.line, kb.column), (2, 3));
        assert_eq!(b.tag.as_deref(), Some("!Ref"));
        assert_eq!(b.value, Value::String("X".into()));
        assert_eq!((b.line, b.column), (2, 6));
        let c = a.get("C").unwrap();
        let Value::Seq(items) = &c.value else {
            panic!("not a list")
        };
        assert_eq!(items[0].value, Value::Number("1".into()));
        assert_eq!(items[1].value, Value::String("two".into()));
        assert_eq!(items[2].value, Value::Bool(true));
        assert_eq!(items[3].value, Value::Null);
        assert_eq!((items[1].line, items[1].column), (3, 10));
    }

    #[test]
    fn json_gets_the_same_tree_with_positions() {
        let n = p("{\n  \"A\": {\"B\": \"x\", \"N\": 1.5}\n}");
        let (k, a) = n.entry("A").unwrap();
        assert_eq!((k.line, k.column), (2, 3));
        assert_eq!(a.get("N").unwrap().value, Value::Number("1.5".into()));
        let y = p("A:\n  B: x\n  N: 1.5\n");
        assert_eq!(
            y.get("A").unwrap().get("B").unwrap().value,
            a.get("B").unwrap().value
        );
    }

    #[test]
    fn json_errors_are_reported_the_json_way() {
        let e = err("{\n  \"A\": 1,\n}");
        assert_eq!((e.line, e.column), (3, 1));
        assert!(e.message.starts_with("not valid JSON"), "{}", e.message);
        assert!(!e.message.contains(" at line "));
    }

    #[test]
    fn repeated_keys_name_both_places() {
        let e = err("A: 1\nB: 2\nA: 3\n");
        assert_eq!((e.line, e.column), (3, 1));
        assert!(e.message.contains("line 1, column 1"), "{}", e.message);
        let e = err("{\"A\": 1, \"A\": 2}");
        assert!(e.message.contains("appears twice"));
    }

    #[test]
    fn aliases_and_bad_yaml_are_refused() {
        let e = err("A: &x 1\nB: *x\n");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("aliases"));
        let e = err("A: [1, 2\nB: 3\n");
        assert!(e.message.starts_with("not valid YAML"), "{}", e.message);
        assert!(e.hint.is_some() && e.snippet.is_some());
        assert!(err("").message.contains("empty"));
        assert!(err("a: 1\n---\nb: 2\n").message.contains("more than one"));
    }

    #[test]
    fn deep_nesting_is_refused_not_a_crash() {
        let text = "[".repeat(5000) + &"]".repeat(5000);
        let e = err(&text);
        assert!(e.message.contains("recursion limit"), "{}", e.message);
    }

    #[test]
    fn numbers_follow_the_core_schema() {
        for s in ["1", "-2", "1.5", "1e3", "+.5", "2.E-3"] {
            assert!(is_number(s), "{s}");
        }
        for s in ["", "-", ".", "1e", "0x1F", ".inf", "1.2.3", "e3", "12a"] {
            assert!(!is_number(s), "{s}");
        }
    }
}

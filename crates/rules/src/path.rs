//! Paths: the grammar of `SseConfiguration.KmsEncryptionConfig.KmsKeyId|arn.region`,
//! `@tags[$key]`, `.name` (see `docs/policy-language.md`, "Paths").

use std::fmt;
use std::sync::Arc;

use crate::value::Val;

/// A path as written, parameters not yet resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathSyntax {
    /// Where the path starts.
    pub root: RootSyntax,
    /// The steps after the root.
    pub steps: Vec<StepSyntax>,
}

/// The start of a path as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootSyntax {
    /// A top-level field of the record.
    Field(String),
    /// `@name`: a context value.
    Context(String),
    /// `$name`: a parameter's value.
    Param(String),
    /// `.`: the current element of a quantifier.
    Current,
}

/// One step of a path as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepSyntax {
    /// `.name` or `["name"]`.
    Key(String),
    /// `[3]`.
    Index(usize),
    /// `[$param]`.
    ParamKey(String),
    /// `[.]`.
    CurrentKey,
    /// `|transform`.
    Transform(Transform),
}

/// A transform step (`|json`, `|arn`, `|keys`, `|values`, `|lower`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// Parses a string holding JSON.
    Json,
    /// Splits a string holding an ARN into its parts.
    Arn,
    /// The keys of an object.
    Keys,
    /// The values of an object.
    Values,
    /// A string in lower case.
    Lower,
    /// A timestamp (epoch seconds or an ISO 8601 string) as ISO 8601 text in UTC.
    Date,
    /// Splits an S3 URI (`s3://BUCKET/KEY`) into its bucket and key.
    S3,
}

impl Transform {
    /// The names, for hints.
    pub const NAMES: [&'static str; 7] = ["json", "arn", "keys", "values", "lower", "date", "s3"];

    fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "json" => Transform::Json,
            "arn" => Transform::Arn,
            "keys" => Transform::Keys,
            "values" => Transform::Values,
            "lower" => Transform::Lower,
            "date" => Transform::Date,
            "s3" => Transform::S3,
            _ => return None,
        })
    }

    /// The name as written after `|`.
    pub fn name(self) -> &'static str {
        match self {
            Transform::Json => "json",
            Transform::Arn => "arn",
            Transform::Keys => "keys",
            Transform::Values => "values",
            Transform::Lower => "lower",
            Transform::Date => "date",
            Transform::S3 => "s3",
        }
    }
}

/// A context value (`@region`, `@tags`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// `@id`.
    Id,
    /// `@arn`.
    Arn,
    /// `@name`.
    Name,
    /// `@status`.
    Status,
    /// `@account`.
    Account,
    /// `@region`.
    Region,
    /// `@partition`.
    Partition,
    /// `@tags`.
    Tags,
    /// `@enrichments`.
    Enrichments,
    /// `@datastore`: the `DatastoreProperties` of the data store a job belongs to.
    Datastore,
}

impl Context {
    /// The names, for hints.
    pub const NAMES: [&'static str; 10] = [
        "id",
        "arn",
        "name",
        "status",
        "account",
        "region",
        "partition",
        "tags",
        "enrichments",
        "datastore",
    ];

    /// Parses a context name.
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "id" => Context::Id,
            "arn" => Context::Arn,
            "name" => Context::Name,
            "status" => Context::Status,
            "account" => Context::Account,
            "region" => Context::Region,
            "partition" => Context::Partition,
            "tags" => Context::Tags,
            "enrichments" => Context::Enrichments,
            "datastore" => Context::Datastore,
            _ => return None,
        })
    }

    /// The name as written after `@`.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// A compiled path: parameters resolved, `|json` points numbered.
#[derive(Debug, Clone)]
pub struct Path {
    /// The path as written, for explanations.
    pub text: Arc<str>,
    /// Where it starts.
    pub root: Root,
    /// The steps.
    pub steps: Vec<Step>,
}

/// The compiled start of a path.
#[derive(Debug, Clone)]
pub enum Root {
    /// The record object.
    Record,
    /// A context value.
    Context(Context),
    /// A parameter's value (resolved at compile time) and its name.
    Param(Arc<str>, Arc<Val<'static>>),
    /// The current element of a quantifier.
    Current,
}

/// A compiled step.
#[derive(Debug, Clone)]
pub enum Step {
    /// A field.
    Key(Box<str>),
    /// An array element.
    Index(usize),
    /// The field named by the current element.
    CurrentKey,
    /// Parse the string as JSON; the number indexes the per-record document cache.
    Json(usize),
    /// A transform other than `|json`.
    Transform(Transform),
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why a path does not follow the grammar: the byte offset in the path text and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    /// Byte offset in the path text.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Parses a path.
pub fn parse(text: &str) -> Result<PathSyntax, PathError> {
    let b = text.as_bytes();
    let err = |offset: usize, message: String| Err(PathError { offset, message });
    if text.is_empty() {
        return err(0, "a path must not be empty".to_owned());
    }
    let name_at = |i: usize| -> (String, usize) {
        let end = text[i..]
            .find(|c: char| !is_name_char(c))
            .map_or(text.len(), |n| i + n);
        (text[i..end].to_owned(), end)
    };
    let mut i;
    let mut steps = Vec::new();
    let root = match b[0] {
        b'@' => {
            let (n, e) = name_at(1);
            if n.is_empty() {
                return err(1, "expected a context name after `@`".to_owned());
            }
            i = e;
            RootSyntax::Context(n)
        }
        b'$' => {
            let (n, e) = name_at(1);
            if n.is_empty() {
                return err(1, "expected a parameter name after `$`".to_owned());
            }
            i = e;
            RootSyntax::Param(n)
        }
        b'.' => {
            let (n, e) = name_at(1);
            i = e;
            if !n.is_empty() {
                steps.push(StepSyntax::Key(n));
            }
            RootSyntax::Current
        }
        _ => {
            let (n, e) = name_at(0);
            if n.is_empty() {
                return err(
                    0,
                    format!(
                        "unexpected `{}`: a path starts with a field name, `@`, `$` or `.`",
                        &text[..text.chars().next().map_or(1, char::len_utf8)]
                    ),
                );
            }
            i = e;
            RootSyntax::Field(n)
        }
    };
    while i < b.len() {
        match b[i] {
            b'.' => {
                let (n, e) = name_at(i + 1);
                if n.is_empty() {
                    return err(i + 1, "expected a field name after `.`".to_owned());
                }
                steps.push(StepSyntax::Key(n));
                i = e;
            }
            b'|' => {
                let (n, e) = name_at(i + 1);
                match Transform::from_name(&n) {
                    Some(t) => steps.push(StepSyntax::Transform(t)),
                    None => {
                        return err(
                            i + 1,
                            format!(
                                "unknown transform `{n}`; expected one of {}",
                                Transform::NAMES.join(", ")
                            ),
                        )
                    }
                }
                i = e;
            }
            b'[' => {
                let close = match text[i..].find(']') {
                    Some(n) => i + n,
                    None => return err(i, "`[` without a closing `]`".to_owned()),
                };
                let inner = &text[i + 1..close];
                let mut end = close + 1;
                if inner == "." {
                    steps.push(StepSyntax::CurrentKey);
                } else if let Some(p) = inner.strip_prefix('$') {
                    if p.is_empty() || !p.chars().all(is_name_char) {
                        return err(i + 1, format!("`{inner}` is not a parameter reference"));
                    }
                    steps.push(StepSyntax::ParamKey(p.to_owned()));
                } else if inner.starts_with('"') {
                    // A JSON string; it may contain `]`, so read it with serde_json.
                    let mut de =
                        serde_json::Deserializer::from_str(&text[i + 1..]).into_iter::<String>();
                    match de.next() {
                        Some(Ok(s)) => {
                            let after = i + 1 + de.byte_offset();
                            if text.as_bytes().get(after) != Some(&b']') {
                                return err(after, "expected `]` after the quoted name".to_owned());
                            }
                            end = after + 1;
                            steps.push(StepSyntax::Key(s));
                        }
                        _ => return err(i + 1, "a quoted name must be a JSON string".to_owned()),
                    }
                } else if let Ok(n) = inner.parse::<usize>() {
                    steps.push(StepSyntax::Index(n));
                } else {
                    return err(
                        i + 1,
                        format!("`[{inner}]`: expected an index, a quoted name, `$param` or `.`"),
                    );
                }
                i = end;
            }
            _ => {
                return err(
                    i,
                    format!(
                        "unexpected `{}`: expected `.`, `[` or `|`",
                        text[i..].chars().next().unwrap_or(' ')
                    ),
                )
            }
        }
    }
    Ok(PathSyntax { root, steps })
}

/// Appends a JSON pointer token (RFC 6901 escaping) to `ptr`.
pub fn push_token(ptr: &mut String, token: &str) {
    ptr.push('/');
    for c in token.chars() {
        match c {
            '~' => ptr.push_str("~0"),
            '/' => ptr.push_str("~1"),
            c => ptr.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let p = parse(r#"IdentityProviderConfiguration.Metadata|json.capabilities[0]"#).unwrap();
        assert_eq!(
            p.root,
            RootSyntax::Field("IdentityProviderConfiguration".into())
        );
        assert_eq!(
            p.steps,
            vec![
                StepSyntax::Key("Metadata".into()),
                StepSyntax::Transform(Transform::Json),
                StepSyntax::Key("capabilities".into()),
                StepSyntax::Index(0)
            ]
        );
        let p = parse(r#"@tags["aws:x]y"][$k][.]"#).unwrap();
        assert_eq!(p.root, RootSyntax::Context("tags".into()));
        assert_eq!(
            p.steps,
            vec![
                StepSyntax::Key("aws:x]y".into()),
                StepSyntax::ParamKey("k".into()),
                StepSyntax::CurrentKey
            ]
        );
        assert_eq!(parse(".").unwrap().root, RootSyntax::Current);
        assert_eq!(
            parse(".name").unwrap().steps,
            vec![StepSyntax::Key("name".into())]
        );
        assert_eq!(
            parse("$keys").unwrap().root,
            RootSyntax::Param("keys".into())
        );
    }

    #[test]
    fn rejects_bad_paths_with_offsets() {
        assert_eq!(parse("A..B").unwrap_err().offset, 2);
        assert_eq!(parse("A|jsn").unwrap_err().offset, 2);
        assert!(parse("A[x]").is_err());
        assert!(parse("A[1").is_err());
        assert!(parse("").is_err());
        assert!(parse("A B").is_err());
    }

    #[test]
    fn escapes_pointer_tokens() {
        let mut p = String::new();
        push_token(&mut p, "a/b~c");
        assert_eq!(p, "/a~1b~0c");
    }
}

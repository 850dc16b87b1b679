//! Policy parameters: declared type, default, description and the effective value.

use std::fmt;

use crate::value::Val;

/// The type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// A string.
    String,
    /// A whole number.
    Integer,
    /// Any number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A list of strings.
    StringList,
    /// A string compiled as a regex where it is used.
    Regex,
}

impl ParamType {
    /// The names as written.
    pub const NAMES: [&'static str; 6] = [
        "string",
        "integer",
        "number",
        "boolean",
        "string_list",
        "regex",
    ];

    /// Parses a type name.
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "string" => ParamType::String,
            "integer" => ParamType::Integer,
            "number" => ParamType::Number,
            "boolean" => ParamType::Boolean,
            "string_list" => ParamType::StringList,
            "regex" => ParamType::Regex,
            _ => return None,
        })
    }

    /// The name as written.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// Whether a value has this type; the error says what was expected.
    pub fn check(self, v: &Val<'_>) -> Result<(), String> {
        let ok = match (self, v) {
            (ParamType::String | ParamType::Regex, Val::Str(_)) => true,
            (ParamType::Integer, Val::Num(n)) => n.fract() == 0.0,
            (ParamType::Number, Val::Num(_)) => true,
            (ParamType::Boolean, Val::Bool(_)) => true,
            (ParamType::StringList, Val::Arr(a)) => a.iter().all(|x| matches!(x, Val::Str(_))),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "expected {}, found {}",
                match self {
                    ParamType::String => "a string",
                    ParamType::Regex => "a string holding a regex",
                    ParamType::Integer => "a whole number",
                    ParamType::Number => "a number",
                    ParamType::Boolean => "true or false",
                    ParamType::StringList => "a list of strings",
                },
                v.a_type()
            ))
        }
    }
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A declared parameter of a policy and the value in effect.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// The name.
    pub name: String,
    /// The declared type.
    pub ty: ParamType,
    /// The declared default.
    pub default: serde_json::Value,
    /// What it means.
    pub description: String,
    /// The value in effect (the default unless overridden).
    pub value: serde_json::Value,
    /// The value in effect, as the engine uses it.
    pub(crate) val: Val<'static>,
}

//! Compiled conditions: what a policy's `applies_when` and `assert` become after loading.
//! Parameters are resolved and regexes compiled; nothing here refers to the YAML any more.

use std::fmt::Write as _;
use std::sync::Arc;

use regex::Regex;

use crate::path::Path;
use crate::value::Val;

/// A compiled condition.
#[derive(Debug, Clone)]
pub enum Cond {
    /// `true` / `false`.
    Const(bool),
    /// Every child holds.
    All(Vec<Cond>),
    /// At least one child holds.
    Any(Vec<Cond>),
    /// The child does not hold.
    Not(Box<Cond>),
    /// A clause about one path.
    Clause(Box<Clause>),
    /// A condition whose outcome depends on the record alone (not on a quantifier's
    /// element), computed once per record: policies of a set share clauses (every
    /// built-in policy skips deleted data stores), and the index names the clause across
    /// the set.
    Memo(usize, Box<Cond>),
}

/// A clause: a path and what must hold of its value.
#[derive(Debug, Clone)]
pub struct Clause {
    /// The path.
    pub path: Path,
    /// The operator or quantifier.
    pub test: Test,
    /// True when the path is absent (`if_present: true`).
    pub if_present: bool,
    /// A quantifier over `PATH|values`: the path is compiled without `|values` and the
    /// quantifier walks the object's values, pointing at each by its key.
    pub over_values: bool,
    /// What the test expects, in words (computed once, at compile time, and shared by
    /// the evidence of every failure).
    pub expected: Arc<str>,
}

/// What a clause checks.
#[derive(Debug, Clone)]
pub enum Test {
    /// An operator on the value.
    Op(Op),
    /// `all`, `any` or `none` over the elements of a list.
    Quant(Quant, Box<Cond>),
    /// `count` of the elements (satisfying `where`, if given).
    Count(Option<Box<Cond>>, Cmp),
}

/// A quantifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quant {
    /// Every element.
    All,
    /// At least one element.
    Any,
    /// No element.
    None,
}

/// An operand: a literal (parameters are literals after compilation) or another path.
#[derive(Debug, Clone)]
pub enum Operand {
    /// A literal value.
    Lit(Val<'static>),
    /// The value at another path of the same record.
    Path(Path),
}

/// A numeric comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumOp {
    /// `equals`.
    Eq,
    /// `not_equals`.
    Ne,
    /// `lt`.
    Lt,
    /// `le`.
    Le,
    /// `gt`.
    Gt,
    /// `ge`.
    Ge,
}

impl NumOp {
    /// Applies the comparison.
    pub fn test(self, a: f64, b: f64) -> bool {
        match self {
            NumOp::Eq => a == b,
            NumOp::Ne => a != b,
            NumOp::Lt => a < b,
            NumOp::Le => a <= b,
            NumOp::Gt => a > b,
            NumOp::Ge => a >= b,
        }
    }

    /// The symbol, for explanations.
    pub fn symbol(self) -> &'static str {
        match self {
            NumOp::Eq => "=",
            NumOp::Ne => "!=",
            NumOp::Lt => "<",
            NumOp::Le => "<=",
            NumOp::Gt => ">",
            NumOp::Ge => ">=",
        }
    }
}

/// A comparison of a count or a length with fixed numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cmp {
    /// Compare with one number.
    Num(NumOp, f64),
    /// Inclusive range.
    Between(f64, f64),
}

impl Cmp {
    /// Applies the comparison.
    pub fn test(self, n: f64) -> bool {
        match self {
            Cmp::Num(op, b) => op.test(n, b),
            Cmp::Between(lo, hi) => lo <= n && n <= hi,
        }
    }

    fn describe(self) -> String {
        match self {
            Cmp::Num(op, b) => format!("{} {}", op.symbol(), fmt_num(b)),
            Cmp::Between(lo, hi) => format!("between {} and {}", fmt_num(lo), fmt_num(hi)),
        }
    }
}

fn fmt_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A JSON type for the `type` operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JType {
    /// `string`.
    String,
    /// `number`.
    Number,
    /// `integer`: a number without fraction.
    Integer,
    /// `boolean`.
    Boolean,
    /// `array`.
    Array,
    /// `object`.
    Object,
    /// `null`.
    Null,
}

impl JType {
    /// The names as written.
    pub const NAMES: [&'static str; 7] = [
        "string", "number", "integer", "boolean", "array", "object", "null",
    ];

    /// Parses a type name.
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "string" => JType::String,
            "number" => JType::Number,
            "integer" => JType::Integer,
            "boolean" => JType::Boolean,
            "array" => JType::Array,
            "object" => JType::Object,
            "null" => JType::Null,
            _ => return None,
        })
    }

    /// Whether a value has this type.
    pub fn holds(self, v: &Val<'_>) -> bool {
        match (self, v) {
            (JType::String, Val::Str(_))
            | (JType::Number, Val::Num(_))
            | (JType::Boolean, Val::Bool(_))
            | (JType::Array, Val::Arr(_))
            | (JType::Object, Val::Obj(_))
            | (JType::Null, Val::Null) => true,
            (JType::Integer, Val::Num(n)) => n.fract() == 0.0,
            _ => false,
        }
    }

    /// The name as written.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// An operator with its operand.
#[derive(Debug, Clone)]
pub enum Op {
    /// `exists` (true) / `absent` (false).
    Exists(bool),
    /// `equals`.
    Equals(Operand),
    /// `not_equals`.
    NotEquals(Operand),
    /// `in`.
    In(Operand),
    /// `not_in`.
    NotIn(Operand),
    /// `contains`.
    Contains(Operand),
    /// `not_contains`.
    NotContains(Operand),
    /// `subset_of`.
    SubsetOf(Operand),
    /// `superset_of`.
    SupersetOf(Operand),
    /// `starts_with`.
    StartsWith(Operand),
    /// `ends_with`.
    EndsWith(Operand),
    /// `matches`.
    Matches(Regex),
    /// `not_matches`.
    NotMatches(Regex),
    /// `lt`, `le`, `gt`, `ge`.
    Num(NumOp, Operand),
    /// `between`.
    Between(Operand, Operand),
    /// `length`.
    Length(Cmp),
    /// `empty`.
    Empty(bool),
    /// `type`.
    Type(JType),
    /// `is`.
    Is(bool),
    /// `before`.
    Before(Operand),
    /// `after`.
    After(Operand),
    /// `older_than`, in seconds.
    OlderThan(f64),
    /// `newer_than`, in seconds.
    NewerThan(f64),
}

fn operand_text(o: &Operand) -> String {
    match o {
        Operand::Lit(v) => v.to_json_short().to_string(),
        Operand::Path(p) => format!("the value at {p}"),
    }
}

fn fmt_duration(secs: f64) -> String {
    let s = secs;
    if s >= 172800.0 && s % 86400.0 == 0.0 {
        format!("{} days", fmt_num(s / 86400.0))
    } else if s != 0.0 && s % 3600.0 == 0.0 {
        format!("{} hours", fmt_num(s / 3600.0))
    } else if s != 0.0 && s % 60.0 == 0.0 {
        format!("{} minutes", fmt_num(s / 60.0))
    } else {
        format!("{} seconds", fmt_num(s))
    }
}

impl Op {
    /// What the operator expects, for evidence: `equal to "X"`.
    pub fn describe(&self) -> String {
        match self {
            Op::Exists(true) => "present".to_owned(),
            Op::Exists(false) => "not present".to_owned(),
            Op::Equals(o) => format!("equal to {}", operand_text(o)),
            Op::NotEquals(o) => format!("present and not equal to {}", operand_text(o)),
            Op::In(o) => format!("one of {}", operand_text(o)),
            Op::NotIn(o) => format!("present and none of {}", operand_text(o)),
            Op::Contains(o) => format!("containing {}", operand_text(o)),
            Op::NotContains(o) => format!("present and not containing {}", operand_text(o)),
            Op::SubsetOf(o) => format!("a list whose elements are all in {}", operand_text(o)),
            Op::SupersetOf(o) => format!("a list including every element of {}", operand_text(o)),
            Op::StartsWith(o) => format!("a string starting with {}", operand_text(o)),
            Op::EndsWith(o) => format!("a string ending with {}", operand_text(o)),
            Op::Matches(r) => format!("a string matching /{}/", r.as_str()),
            Op::NotMatches(r) => format!("a string not matching /{}/", r.as_str()),
            Op::Num(op, o) => format!("a number {} {}", op.symbol(), operand_text(o)),
            Op::Between(a, b) => format!(
                "a number between {} and {}",
                operand_text(a),
                operand_text(b)
            ),
            Op::Length(c) => format!("a length {}", c.describe()),
            Op::Empty(true) => "empty".to_owned(),
            Op::Empty(false) => "present and not empty".to_owned(),
            Op::Type(t) => format!("of type {}", t.name()),
            Op::Is(b) => format!("the boolean {b}"),
            Op::Before(o) => format!("a timestamp before {}", operand_text(o)),
            Op::After(o) => format!("a timestamp after {}", operand_text(o)),
            Op::OlderThan(s) => format!(
                "a timestamp more than {} before the evaluation time",
                fmt_duration(*s)
            ),
            Op::NewerThan(s) => format!(
                "a timestamp at most {} before the evaluation time",
                fmt_duration(*s)
            ),
        }
    }
}

impl Test {
    /// What the test expects, for evidence.
    pub fn describe(&self) -> String {
        match self {
            Test::Op(op) => op.describe(),
            Test::Quant(Quant::All, c) => format!("a list where every element is {}", c.describe()),
            Test::Quant(Quant::Any, c) => {
                format!("a list where at least one element is {}", c.describe())
            }
            Test::Quant(Quant::None, c) => format!("a list where no element is {}", c.describe()),
            Test::Count(None, cmp) => format!("a list with a count {}", cmp.describe()),
            Test::Count(Some(w), cmp) => format!(
                "a list with a count of elements that are {} {}",
                w.describe(),
                cmp.describe()
            ),
        }
    }
}

impl Cond {
    /// The condition in words, for evidence and explanations.
    pub fn describe(&self) -> String {
        match self {
            Cond::Const(b) => b.to_string(),
            Cond::All(cs) => join("all of", cs),
            Cond::Any(cs) => join("any of", cs),
            Cond::Not(c) => format!("not ({})", c.describe()),
            Cond::Clause(c) => c.describe(),
            Cond::Memo(_, c) => c.describe(),
        }
    }

    /// The condition without its memo wrapper.
    pub(crate) fn unmemo(&self) -> &Cond {
        match self {
            Cond::Memo(_, c) => c.unmemo(),
            other => other,
        }
    }
}

impl Clause {
    /// The clause in words: `PATH: expected`, or just the expectation for `.`.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        if &*self.path.text != "." {
            let _ = write!(s, "{}: ", self.path.text);
        }
        s.push_str(&self.test.describe());
        if self.if_present {
            s.push_str(" (if present)");
        }
        s
    }
}

fn join(word: &str, cs: &[Cond]) -> String {
    let parts: Vec<String> = cs.iter().map(Cond::describe).collect();
    format!("{word} ({})", parts.join("; "))
}

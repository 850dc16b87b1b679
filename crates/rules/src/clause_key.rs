//! The identity of a compiled clause, as a value that can key a map.
//!
//! Equal record-level clauses of a set share one memo slot (every built-in policy skips
//! deleted data stores with the same clause), so the compiler looks clauses up by a
//! [`ClauseKey`]. A compiled clause itself cannot be a key: it holds regexes and floats,
//! which have no `Eq` or `Hash`. The key keeps what makes two clauses the same (the path
//! as written and as compiled, the operator and its operands, the modifiers), with floats
//! as their bits and regexes as their source text.

use std::mem::{discriminant, Discriminant};
use std::sync::Arc;

use crate::cond::{Clause, Cmp, Cond, JType, NumOp, Op, Operand, Quant, Test};
use crate::path::{Path, Root, Step};
use crate::value::Val;

/// What makes two compiled clauses the same.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ClauseKey {
    path: PathKey,
    test: TestKey,
    if_present: bool,
    over_values: bool,
}

impl ClauseKey {
    /// The key of a compiled clause.
    pub fn of(c: &Clause) -> Self {
        ClauseKey {
            path: PathKey::of(&c.path),
            test: TestKey::of(&c.test),
            if_present: c.if_present,
            over_values: c.over_values,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PathKey {
    text: Arc<str>,
    root: RootKey,
    steps: Vec<StepKey>,
}

impl PathKey {
    fn of(p: &Path) -> Self {
        PathKey {
            text: p.text.clone(),
            root: match &p.root {
                Root::Record => RootKey::Record,
                Root::Context(c) => RootKey::Context(c.name()),
                Root::Param(name, v) => RootKey::Param(name.clone(), ValKey::of(v)),
                Root::Current => RootKey::Current,
            },
            steps: p.steps.iter().map(StepKey::of).collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum RootKey {
    Record,
    Context(&'static str),
    Param(Arc<str>, ValKey),
    Current,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum StepKey {
    Key(Box<str>),
    Index(usize),
    CurrentKey,
    Json(usize),
    Transform(&'static str),
}

impl StepKey {
    fn of(s: &Step) -> Self {
        match s {
            Step::Key(k) => StepKey::Key(k.clone()),
            Step::Index(i) => StepKey::Index(*i),
            Step::CurrentKey => StepKey::CurrentKey,
            Step::Json(id) => StepKey::Json(*id),
            Step::Transform(t) => StepKey::Transform(t.name()),
        }
    }
}

/// A literal value; a number by its bits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ValKey {
    Null,
    Bool(bool),
    Num(u64),
    Str(String),
    Arr(Vec<ValKey>),
    Obj(Vec<(String, ValKey)>),
}

impl ValKey {
    fn of(v: &Val<'_>) -> Self {
        match v {
            Val::Null => ValKey::Null,
            Val::Bool(b) => ValKey::Bool(*b),
            Val::Num(n) => ValKey::Num(n.to_bits()),
            Val::Str(s) => ValKey::Str(s.to_string()),
            Val::Arr(items) => ValKey::Arr(items.iter().map(ValKey::of).collect()),
            Val::Obj(fields) => ValKey::Obj(
                fields
                    .iter()
                    .map(|(k, v)| (k.to_string(), ValKey::of(v)))
                    .collect(),
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum TestKey {
    Op(OpKey),
    Quant(Quant, Box<CondKey>),
    Count(Option<Box<CondKey>>, CmpKey),
}

impl TestKey {
    fn of(t: &Test) -> Self {
        match t {
            Test::Op(op) => TestKey::Op(OpKey::of(op)),
            Test::Quant(q, inner) => TestKey::Quant(*q, Box::new(CondKey::of(inner))),
            Test::Count(filter, cmp) => TestKey::Count(
                filter.as_deref().map(|c| Box::new(CondKey::of(c))),
                CmpKey::of(*cmp),
            ),
        }
    }
}

/// A condition inside a quantifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum CondKey {
    Const(bool),
    All(Vec<CondKey>),
    Any(Vec<CondKey>),
    Not(Box<CondKey>),
    Clause(Box<ClauseKey>),
    /// A memoised condition is named by its slot.
    Memo(usize),
}

impl CondKey {
    fn of(c: &Cond) -> Self {
        match c {
            Cond::Const(b) => CondKey::Const(*b),
            Cond::All(cs) => CondKey::All(cs.iter().map(CondKey::of).collect()),
            Cond::Any(cs) => CondKey::Any(cs.iter().map(CondKey::of).collect()),
            Cond::Not(c) => CondKey::Not(Box::new(CondKey::of(c))),
            Cond::Clause(c) => CondKey::Clause(Box::new(ClauseKey::of(c))),
            Cond::Memo(id, _) => CondKey::Memo(*id),
        }
    }
}

/// A comparison; numbers by their bits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum CmpKey {
    Num(NumOp, u64),
    Between(u64, u64),
}

impl CmpKey {
    fn of(c: Cmp) -> Self {
        match c {
            Cmp::Num(op, n) => CmpKey::Num(op, n.to_bits()),
            Cmp::Between(lo, hi) => CmpKey::Between(lo.to_bits(), hi.to_bits()),
        }
    }
}

/// An operator: which one, and its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct OpKey {
    op: Discriminant<Op>,
    args: Vec<ArgKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ArgKey {
    Bool(bool),
    Lit(ValKey),
    Path(PathKey),
    Regex(String),
    NumOp(NumOp),
    Cmp(CmpKey),
    Type(JType),
    Seconds(u64),
}

impl ArgKey {
    fn operand(o: &Operand) -> Self {
        match o {
            Operand::Lit(v) => ArgKey::Lit(ValKey::of(v)),
            Operand::Path(p) => ArgKey::Path(PathKey::of(p)),
        }
    }
}

impl OpKey {
    fn of(op: &Op) -> Self {
        let args = match op {
            Op::Exists(b) | Op::Empty(b) | Op::Is(b) => vec![ArgKey::Bool(*b)],
            Op::Equals(o)
            | Op::NotEquals(o)
            | Op::In(o)
            | Op::NotIn(o)
            | Op::Contains(o)
            | Op::NotContains(o)
            | Op::SubsetOf(o)
            | Op::SupersetOf(o)
            | Op::StartsWith(o)
            | Op::EndsWith(o)
            | Op::Before(o)
            | Op::After(o) => vec![ArgKey::operand(o)],
            Op::Matches(r) | Op::NotMatches(r) => vec![ArgKey::Regex(r.as_str().to_owned())],
            Op::Num(n, o) => vec![ArgKey::NumOp(*n), ArgKey::operand(o)],
            Op::Between(lo, hi) => vec![ArgKey::operand(lo), ArgKey::operand(hi)],
            Op::Length(c) => vec![ArgKey::Cmp(CmpKey::of(*c))],
            Op::Type(t) => vec![ArgKey::Type(*t)],
            Op::OlderThan(s) | Op::NewerThan(s) => vec![ArgKey::Seconds(s.to_bits())],
        };
        OpKey {
            op: discriminant(op),
            args,
        }
    }
}

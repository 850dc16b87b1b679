//! Applying an operator to a value that is present.

use chrono::Duration;
use hlaudit_model::Timestamp;

use crate::cond::{Op, Operand};
use crate::resolve::{resolve, Cur, Env, Resolved, ValRef};
use crate::value::{val_eq, Val};

/// An operand's value: a literal, a value found at another path, or why there is none.
enum OperandVal<'t> {
    Lit(&'t Val<'static>),
    Found(ValRef<'t>),
    Missing,
}

impl<'t> OperandVal<'t> {
    fn get(&self) -> Option<&Val<'t>> {
        match self {
            OperandVal::Lit(v) => Some(v),
            OperandVal::Found(v) => Some(v.get()),
            OperandVal::Missing => None,
        }
    }
}

fn operand<'x: 't, 't>(o: &'t Operand, env: &'t Env<'x>, cur: Option<Cur<'t>>) -> OperandVal<'t> {
    match o {
        Operand::Lit(v) => OperandVal::Lit(v),
        Operand::Path(p) => match resolve(p, env, cur, None) {
            Resolved::Present(v) => OperandVal::Found(v),
            _ => OperandVal::Missing,
        },
    }
}

/// The timestamp a value holds (epoch seconds or an ISO 8601 string).
pub(crate) fn timestamp(v: &Val<'_>) -> Option<Timestamp> {
    match v {
        Val::Num(n) => Timestamp::from_epoch_seconds(*n).ok(),
        Val::Str(s) => Timestamp::parse(s).ok(),
        _ => None,
    }
}

/// A timestamp as people read it: ISO 8601 in UTC, to the second unless it has a fraction
/// (`2026-11-23T10:00:00Z`).
pub(crate) fn iso_date(t: Timestamp) -> String {
    t.0.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn length(v: &Val<'_>) -> Option<usize> {
    match v {
        Val::Str(s) => Some(s.chars().count()),
        Val::Arr(a) => Some(a.len()),
        Val::Obj(o) => Some(o.len()),
        _ => None,
    }
}

fn contains(hay: &Val<'_>, needle: &Val<'_>) -> Option<bool> {
    match (hay, needle) {
        (Val::Str(h), Val::Str(n)) => Some(h.contains(n.as_ref())),
        (Val::Arr(a), n) => Some(a.iter().any(|x| val_eq(x, n))),
        (Val::Obj(o), Val::Str(n)) => Some(o.iter().any(|(k, _)| k == n)),
        _ => None,
    }
}

fn member(v: &Val<'_>, list: &Val<'_>) -> Option<bool> {
    match list {
        Val::Arr(a) => Some(a.iter().any(|x| val_eq(x, v))),
        _ => None,
    }
}

fn subset(small: &Val<'_>, big: &Val<'_>) -> Option<bool> {
    match (small, big) {
        (Val::Arr(s), Val::Arr(b)) => Some(s.iter().all(|x| b.iter().any(|y| val_eq(x, y)))),
        _ => None,
    }
}

fn age_seconds(v: &Val<'_>, as_of: Timestamp) -> Option<f64> {
    let t = timestamp(v)?;
    let d: Duration = as_of.0 - t.0;
    Some(d.num_milliseconds() as f64 / 1000.0)
}

/// Applies `op` to the value `v` (present). `None`-like outcomes (wrong type, missing
/// operand) are `false`: the clause fails closed.
pub(crate) fn apply<'x: 't, 't>(
    op: &'t Op,
    v: &Val<'_>,
    env: &'t Env<'x>,
    cur: Option<Cur<'t>>,
) -> bool {
    let opnd = |o: &'t Operand| operand(o, env, cur);
    let r: Option<bool> = match op {
        Op::Exists(b) => Some(*b),
        Op::Equals(o) => opnd(o).get().map(|x| val_eq(v, x)),
        Op::NotEquals(o) => opnd(o).get().map(|x| !val_eq(v, x)),
        Op::In(o) => opnd(o).get().and_then(|l| member(v, l)),
        Op::NotIn(o) => opnd(o).get().and_then(|l| member(v, l)).map(|b| !b),
        Op::Contains(o) => opnd(o).get().and_then(|n| contains(v, n)),
        Op::NotContains(o) => opnd(o).get().and_then(|n| contains(v, n)).map(|b| !b),
        Op::SubsetOf(o) => opnd(o).get().and_then(|l| subset(v, l)),
        Op::SupersetOf(o) => opnd(o).get().and_then(|l| subset(l, v)),
        Op::StartsWith(o) => match (v, opnd(o).get()) {
            (Val::Str(s), Some(Val::Str(p))) => Some(s.starts_with(p.as_ref())),
            _ => None,
        },
        Op::EndsWith(o) => match (v, opnd(o).get()) {
            (Val::Str(s), Some(Val::Str(p))) => Some(s.ends_with(p.as_ref())),
            _ => None,
        },
        Op::Matches(re) => v.as_str().map(|s| re.is_match(s)),
        Op::NotMatches(re) => v.as_str().map(|s| !re.is_match(s)),
        Op::Num(cmp, o) => match (v, opnd(o).get()) {
            (Val::Num(a), Some(Val::Num(b))) => Some(cmp.test(*a, *b)),
            _ => None,
        },
        Op::Between(lo, hi) => match (v, opnd(lo).get(), opnd(hi).get()) {
            (Val::Num(a), Some(Val::Num(l)), Some(Val::Num(h))) => Some(*l <= *a && *a <= *h),
            _ => None,
        },
        Op::Length(c) => length(v).map(|n| c.test(n as f64)),
        Op::Empty(want) => {
            let empty = match v {
                Val::Null => true,
                other => length(other) == Some(0) && !matches!(other, Val::Num(_)),
            };
            Some(empty == *want)
        }
        Op::Type(t) => Some(t.holds(v)),
        Op::Is(b) => Some(matches!(v, Val::Bool(x) if x == b)),
        Op::Before(o) => match (timestamp(v), opnd(o).get().and_then(timestamp)) {
            (Some(a), Some(b)) => Some(a < b),
            _ => None,
        },
        Op::After(o) => match (timestamp(v), opnd(o).get().and_then(timestamp)) {
            (Some(a), Some(b)) => Some(a > b),
            _ => None,
        },
        Op::OlderThan(secs) => age_seconds(v, env.as_of).map(|age| age > *secs),
        Op::NewerThan(secs) => age_seconds(v, env.as_of).map(|age| age <= *secs),
    };
    r.unwrap_or(false)
}

/// For a date operator, the value found as people read a date (`2026-11-23T10:00:00Z`),
/// when that differs from how the value is written (epoch seconds, another offset).
pub(crate) fn date_note(op: &Op, v: &Val<'_>) -> Option<String> {
    if !matches!(
        op,
        Op::Before(_) | Op::After(_) | Op::OlderThan(_) | Op::NewerThan(_)
    ) {
        return None;
    }
    let iso = iso_date(timestamp(v)?);
    match v {
        Val::Str(s) if *s == iso => None,
        _ => Some(iso),
    }
}

/// When an operand is a path, its value (for evidence), or `None` when absent.
pub(crate) fn operand_note<'x: 't, 't>(
    op: &'t Op,
    env: &'t Env<'x>,
    cur: Option<Cur<'t>>,
) -> Option<String> {
    let o = match op {
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
        | Op::Num(_, o)
        | Op::Before(o)
        | Op::After(o) => o,
        _ => return None,
    };
    match o {
        Operand::Lit(_) => None,
        Operand::Path(p) => Some(match operand(o, env, cur).get() {
            Some(v) => format!(" ({p} is {})", v.to_json_short()),
            None => format!(" ({p} is not present)"),
        }),
    }
}

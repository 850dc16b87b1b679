//! Compiling conditions, clauses, operands and paths from YAML, reporting every problem.

use std::collections::BTreeMap;
use std::sync::Arc;

use regex::Regex;
use serde_yaml_ng::{Mapping, Value};

use crate::cond::{Clause, Cmp, Cond, JType, NumOp, Op, Operand, Quant, Test};
use crate::diagnostics::{choice_hint, did_you_mean};
use crate::params::Parameter;
use crate::path::{self, Context, Path, Root, RootSyntax, Step, StepSyntax, Transform};
use crate::shared::Shared;
use crate::spans::Seg;
use crate::value::Val;
use crate::walk::{child, index, kind, yaml_to_val, FileWalk};

/// A named condition of a file.
pub(crate) struct Named<'v> {
    pub value: &'v Value,
    pub at: Vec<Seg>,
}

/// The operators, in the order the reference lists them.
pub(crate) const OPERATORS: [&str; 27] = [
    "exists",
    "absent",
    "equals",
    "not_equals",
    "in",
    "not_in",
    "contains",
    "not_contains",
    "subset_of",
    "superset_of",
    "starts_with",
    "ends_with",
    "matches",
    "not_matches",
    "lt",
    "le",
    "gt",
    "ge",
    "between",
    "length",
    "empty",
    "type",
    "is",
    "before",
    "after",
    "older_than",
    "newer_than",
];

const QUANTIFIERS: [&str; 4] = ["all", "any", "none", "count"];
const MODIFIERS: [&str; 3] = ["path", "if_present", "where"];
const COMBINATORS: [&str; 5] = ["all", "any", "not", "condition", "path"];
const COMPARISONS: [&str; 7] = ["equals", "not_equals", "lt", "le", "gt", "ge", "between"];

/// Compiles the conditions of one policy (or one test variant of it).
pub(crate) struct CondCompiler<'a, 'v> {
    pub w: &'a mut FileWalk,
    pub shared: &'a mut Shared,
    pub params: &'a BTreeMap<String, Parameter>,
    pub named: &'a BTreeMap<String, Named<'v>>,
    pub stack: Vec<String>,
}

impl CondCompiler<'_, '_> {
    /// A condition.
    pub fn cond(&mut self, v: &Value, at: &[Seg], in_quant: bool) -> Option<Cond> {
        match v {
            Value::Bool(b) => Some(Cond::Const(*b)),
            Value::Mapping(m) if m.contains_key("path") => self.clause(m, at, in_quant),
            Value::Mapping(m) if m.len() == 1 => {
                let (k, inner) = m.iter().next()?;
                let name = k.as_str().unwrap_or("");
                let at_k = child(at, name);
                match name {
                    "all" | "any" => {
                        let list = self.cond_list(inner, &at_k, in_quant, name)?;
                        Some(if name == "all" {
                            Cond::All(list)
                        } else {
                            Cond::Any(list)
                        })
                    }
                    "not" => Some(Cond::Not(Box::new(self.cond(inner, &at_k, in_quant)?))),
                    "condition" => self.named_cond(inner, &at_k, in_quant),
                    _ => {
                        let hint = did_you_mean(name, &COMBINATORS)
                            .map(|s| format!("did you mean `{s}`?"))
                            .or_else(|| {
                                OPERATORS.contains(&name).then(|| {
                                    "an operator needs a `path` beside it in the same mapping"
                                        .to_owned()
                                })
                            })
                            .unwrap_or_else(|| {
                                "a condition is `all`, `any`, `not`, `condition` or a clause with `path`"
                                    .to_owned()
                            });
                        self.w.key_error(
                            &at_k,
                            "unknown-key",
                            format!("unknown key `{name}` in a condition"),
                            Some(hint),
                        );
                        None
                    }
                }
            }
            Value::Mapping(_) => {
                self.w.hint_error(
                    at,
                    "wrong-type",
                    "a condition mapping has one key (`all`, `any`, `not`, `condition`) or is a clause with `path`",
                    "wrap several conditions in `all: [...]`",
                );
                None
            }
            other => {
                self.w.error(
                    at,
                    "wrong-type",
                    format!(
                        "expected a condition (a mapping, or true/false), found {}",
                        kind(other)
                    ),
                );
                None
            }
        }
    }

    fn cond_list(
        &mut self,
        v: &Value,
        at: &[Seg],
        in_quant: bool,
        what: &str,
    ) -> Option<Vec<Cond>> {
        let Value::Sequence(items) = v else {
            self.w.error(
                at,
                "wrong-type",
                format!("`{what}` takes a list of conditions, found {}", kind(v)),
            );
            return None;
        };
        if items.is_empty() {
            self.w.hint_error(
                at,
                "empty-combinator",
                format!("`{what}: []` has no conditions"),
                "write `true` or `false` if that is what you mean",
            );
            return None;
        }
        let out: Vec<Option<Cond>> = items
            .iter()
            .enumerate()
            .map(|(i, c)| self.cond(c, &index(at, i), in_quant))
            .collect();
        out.into_iter().collect()
    }

    fn named_cond(&mut self, v: &Value, at: &[Seg], in_quant: bool) -> Option<Cond> {
        let name = self.w.string(v, at, "a condition name")?;
        let Some(named) = self.named.get(&name) else {
            let names: Vec<&str> = self.named.keys().map(String::as_str).collect();
            let hint = did_you_mean(&name, &names).map_or_else(
                || {
                    if names.is_empty() {
                        "this file defines no `conditions`".to_owned()
                    } else {
                        format!("this file defines: {}", names.join(", "))
                    }
                },
                |s| format!("did you mean `{s}`?"),
            );
            self.w.hint_error(
                at,
                "unknown-condition",
                format!("no condition named `{name}` in this file"),
                hint,
            );
            return None;
        };
        if self.stack.contains(&name) {
            self.w.error(
                at,
                "unknown-condition",
                format!(
                    "the named condition `{name}` refers to itself ({} -> {name})",
                    self.stack.join(" -> ")
                ),
            );
            return None;
        }
        self.stack.push(name);
        let (value, nat) = (named.value, named.at.clone());
        let r = self.cond(value, &nat, in_quant);
        self.stack.pop();
        r
    }

    fn clause(&mut self, m: &Mapping, at: &[Seg], in_quant: bool) -> Option<Cond> {
        let parts = self.clause_parts(m, at);
        let path = self.clause_path(parts.path, at, in_quant);
        let (name, opv) = self.single_operator(&parts, at)?;
        let test = self.clause_test(name, opv, parts.filter, at, in_quant)?;
        let clause = Box::new(new_clause(path?, test, parts.if_present));
        Some(self.memoize(clause, in_quant))
    }

    /// Sorts the keys of a clause mapping by role, reporting the unknown ones.
    fn clause_parts<'m>(&mut self, m: &'m Mapping, at: &[Seg]) -> ClauseParts<'m> {
        let mut parts = ClauseParts {
            path: None,
            if_present: false,
            filter: None,
            ops: Vec::new(),
            keys_ok: true,
        };
        for (k, v) in m {
            let Some(name) = k.as_str() else {
                self.w
                    .error(at, "wrong-type", "a clause key must be a string");
                parts.keys_ok = false;
                continue;
            };
            match name {
                "path" => parts.path = Some(v),
                "if_present" => {
                    parts.if_present = self
                        .w
                        .boolean(v, &child(at, name), "`if_present`")
                        .unwrap_or(false)
                }
                "where" => parts.filter = Some(v),
                n if OPERATORS.contains(&n) || QUANTIFIERS.contains(&n) => parts.ops.push((n, v)),
                other => {
                    self.unknown_clause_key(other, at);
                    parts.keys_ok = false;
                }
            }
        }
        parts
    }

    fn unknown_clause_key(&mut self, name: &str, at: &[Seg]) {
        let all: Vec<&str> = OPERATORS
            .iter()
            .chain(&QUANTIFIERS)
            .chain(&MODIFIERS)
            .copied()
            .collect();
        let hint = did_you_mean(name, &all).map_or_else(
            || "see the operator table in docs/policy-language.md".to_owned(),
            |s| format!("did you mean `{s}`?"),
        );
        self.w.key_error(
            &child(at, name),
            "unknown-operator",
            format!("unknown operator `{name}` in a clause"),
            Some(hint),
        );
    }

    /// The clause's `path`, compiled.
    fn clause_path(&mut self, v: Option<&Value>, at: &[Seg], in_quant: bool) -> Option<Path> {
        let path_at = child(at, "path");
        match v {
            Some(Value::String(s)) => self.path(s, &path_at, in_quant),
            Some(other) => {
                self.w.error(
                    &path_at,
                    "wrong-type",
                    format!("`path` must be a string, found {}", kind(other)),
                );
                None
            }
            None => None,
        }
    }

    /// The one operator (or quantifier) of a clause; none or several is a problem.
    fn single_operator<'m>(
        &mut self,
        parts: &ClauseParts<'m>,
        at: &[Seg],
    ) -> Option<(&'m str, &'m Value)> {
        match parts.ops.as_slice() {
            [] => {
                if parts.keys_ok {
                    self.w.hint_error(
                        at,
                        "operator-count",
                        "this clause has no operator",
                        "add one operator, e.g. `equals: VALUE` or `exists: true`",
                    );
                }
                None
            }
            [one] => Some(*one),
            [_, (second, _), ..] => {
                let names: Vec<&str> = parts.ops.iter().map(|(n, _)| *n).collect();
                self.w.key_error(
                    &child(at, second),
                    "operator-count",
                    format!(
                        "a clause has exactly one operator, this one has {}",
                        names.join(", ")
                    ),
                    Some("combine several clauses with `all: [...]`".to_owned()),
                );
                None
            }
        }
    }

    /// What a clause checks: its operator, quantifier or count (with its `where`).
    fn clause_test(
        &mut self,
        name: &str,
        v: &Value,
        filter: Option<&Value>,
        at: &[Seg],
        in_quant: bool,
    ) -> Option<Test> {
        let op_at = child(at, name);
        if filter.is_some() && name != "count" {
            self.w.key_error(
                &child(at, "where"),
                "unknown-key",
                "`where` only goes with `count`",
                Some("use `all`, `any` or `none` with a condition instead".to_owned()),
            );
            return None;
        }
        match name {
            "all" | "any" | "none" => self.quantifier(name, v, &op_at),
            "count" => self.count(v, filter, at, &op_at),
            _ => Some(Test::Op(self.op(name, v, &op_at, in_quant)?)),
        }
    }

    /// `all`, `any` or `none`: a condition (or a list of them, all holding) on each element.
    fn quantifier(&mut self, name: &str, v: &Value, at: &[Seg]) -> Option<Test> {
        let inner = match v {
            Value::Sequence(_) => Cond::All(self.cond_list(v, at, true, name)?),
            _ => self.cond(v, at, true)?,
        };
        let q = match name {
            "all" => Quant::All,
            "any" => Quant::Any,
            _ => Quant::None,
        };
        Some(Test::Quant(q, Box::new(inner)))
    }

    /// `count` with a comparison, counting the elements `where` holds (all without it).
    fn count(
        &mut self,
        v: &Value,
        filter: Option<&Value>,
        at: &[Seg],
        op_at: &[Seg],
    ) -> Option<Test> {
        let filter = match filter {
            Some(f) => Some(Box::new(self.cond(f, &child(at, "where"), true)?)),
            None => None,
        };
        Some(Test::Count(filter, self.comparison(v, op_at, "count")?))
    }

    /// Outside a quantifier a clause depends on the record alone, so its outcome can be
    /// kept per record and shared by every equal clause of the set.
    fn memoize(&mut self, clause: Box<Clause>, in_quant: bool) -> Cond {
        if in_quant {
            return Cond::Clause(clause);
        }
        let id = self.shared.memo_slot(&clause);
        Cond::Memo(id, Box::new(Cond::Clause(clause)))
    }

    fn op(&mut self, name: &str, v: &Value, at: &[Seg], in_quant: bool) -> Option<Op> {
        Some(match name {
            "exists" => Op::Exists(self.w.boolean(v, at, "`exists`")?),
            "absent" => Op::Exists(!self.w.boolean(v, at, "`absent`")?),
            "empty" => Op::Empty(self.w.boolean(v, at, "`empty`")?),
            "is" => Op::Is(self.w.boolean(v, at, "`is`")?),
            "equals" => Op::Equals(self.operand(v, at, in_quant)?),
            "not_equals" => Op::NotEquals(self.operand(v, at, in_quant)?),
            "contains" => Op::Contains(self.operand(v, at, in_quant)?),
            "not_contains" => Op::NotContains(self.operand(v, at, in_quant)?),
            "in" => Op::In(self.list_operand(v, at, in_quant, name)?),
            "not_in" => Op::NotIn(self.list_operand(v, at, in_quant, name)?),
            "subset_of" => Op::SubsetOf(self.list_operand(v, at, in_quant, name)?),
            "superset_of" => Op::SupersetOf(self.list_operand(v, at, in_quant, name)?),
            "starts_with" => Op::StartsWith(self.typed_operand(v, at, in_quant, name, "a string")?),
            "ends_with" => Op::EndsWith(self.typed_operand(v, at, in_quant, name, "a string")?),
            "matches" => Op::Matches(self.regex(v, at)?),
            "not_matches" => Op::NotMatches(self.regex(v, at)?),
            "lt" | "le" | "gt" | "ge" => {
                let op = match name {
                    "lt" => NumOp::Lt,
                    "le" => NumOp::Le,
                    "gt" => NumOp::Gt,
                    _ => NumOp::Ge,
                };
                Op::Num(op, self.typed_operand(v, at, in_quant, name, "a number")?)
            }
            "between" => {
                let Value::Sequence(items) = v else {
                    self.w.error(
                        at,
                        "wrong-type",
                        format!("`between` takes [low, high], found {}", kind(v)),
                    );
                    return None;
                };
                if items.len() != 2 {
                    self.w.error(
                        at,
                        "bad-value",
                        format!("`between` takes [low, high], found {} values", items.len()),
                    );
                    return None;
                }
                let lo = self.typed_operand(&items[0], &index(at, 0), in_quant, name, "a number");
                let hi = self.typed_operand(&items[1], &index(at, 1), in_quant, name, "a number");
                if let (Some(Operand::Lit(Val::Num(a))), Some(Operand::Lit(Val::Num(b)))) =
                    (&lo, &hi)
                {
                    if a > b {
                        self.w.error(
                            at,
                            "bad-value",
                            format!("`between`: low {a} is greater than high {b}"),
                        );
                        return None;
                    }
                }
                Op::Between(lo?, hi?)
            }
            "length" => Op::Length(self.comparison(v, at, "length")?),
            "type" => {
                let s = self.w.string(v, at, "`type`")?;
                match JType::from_name(&s) {
                    Some(t) => Op::Type(t),
                    None => {
                        let hint = choice_hint(&s, &JType::NAMES);
                        self.w
                            .hint_error(at, "bad-value", format!("unknown type `{s}`"), hint);
                        return None;
                    }
                }
            }
            "before" => Op::Before(self.time_operand(v, at, in_quant)?),
            "after" => Op::After(self.time_operand(v, at, in_quant)?),
            "older_than" => Op::OlderThan(self.duration(v, at)?),
            "newer_than" => Op::NewerThan(self.duration(v, at)?),
            _ => {
                self.w
                    .error(at, "unknown-operator", format!("unknown operator `{name}`"));
                return None;
            }
        })
    }

    /// A parameter's value, reporting an unknown name.
    fn param(&mut self, name: &str, at: &[Seg]) -> Option<&Parameter> {
        if self.params.contains_key(name) {
            return self.params.get(name);
        }
        let names: Vec<&str> = self.params.keys().map(String::as_str).collect();
        let hint = did_you_mean(name, &names).map_or_else(
            || {
                if names.is_empty() {
                    "this policy declares no `parameters`".to_owned()
                } else {
                    format!("this policy declares: {}", names.join(", "))
                }
            },
            |s| format!("did you mean `{s}`?"),
        );
        self.w.hint_error(
            at,
            "unknown-parameter",
            format!("unknown parameter `{name}`"),
            hint,
        );
        None
    }

    /// `{param: NAME}` or `{path: PATH}`, when `v` is one.
    fn reference(&mut self, v: &Value, at: &[Seg], in_quant: bool) -> Option<Option<Operand>> {
        let Value::Mapping(m) = v else {
            return Some(None);
        };
        if m.len() != 1 {
            return Some(None);
        }
        let (k, inner) = m.iter().next()?;
        match k.as_str() {
            Some("param") => {
                let at_k = child(at, "param");
                let name = self.w.string(inner, &at_k, "a parameter name")?;
                let p = self.param(&name, &at_k)?;
                Some(Some(Operand::Lit(p.val.clone())))
            }
            Some("path") => {
                let at_k = child(at, "path");
                let text = self.w.string(inner, &at_k, "a path")?;
                Some(Some(Operand::Path(self.path(&text, &at_k, in_quant)?)))
            }
            _ => Some(None),
        }
    }

    fn literal(&mut self, v: &Value, at: &[Seg]) -> Option<Val<'static>> {
        match v {
            Value::Sequence(items) => {
                let mut out = Vec::new();
                let mut ok = true;
                for (i, x) in items.iter().enumerate() {
                    let at_i = index(at, i);
                    match self.reference(x, &at_i, false) {
                        Some(Some(Operand::Lit(l))) => out.push(l),
                        Some(Some(Operand::Path(_))) => {
                            self.w.error(&at_i, "wrong-type", "a list element cannot be a `path`; use `{path: ...}` for the whole operand");
                            ok = false;
                        }
                        Some(None) => match self.literal(x, &at_i) {
                            Some(l) => out.push(l),
                            None => ok = false,
                        },
                        None => ok = false,
                    }
                }
                ok.then_some(Val::Arr(out))
            }
            other => match yaml_to_val(other) {
                Some(x) => Some(x),
                None => {
                    self.w.error(
                        at,
                        "wrong-type",
                        "tagged values and non-string keys are not supported",
                    );
                    None
                }
            },
        }
    }

    fn operand(&mut self, v: &Value, at: &[Seg], in_quant: bool) -> Option<Operand> {
        match self.reference(v, at, in_quant)? {
            Some(o) => Some(o),
            None => self.literal(v, at).map(Operand::Lit),
        }
    }

    fn list_operand(&mut self, v: &Value, at: &[Seg], in_quant: bool, op: &str) -> Option<Operand> {
        let o = self.operand(v, at, in_quant)?;
        if let Operand::Lit(l) = &o {
            if !matches!(l, Val::Arr(_)) {
                self.w.error(
                    at,
                    "wrong-type",
                    format!("`{op}` takes a list, found {}", l.a_type()),
                );
                return None;
            }
        }
        Some(o)
    }

    fn typed_operand(
        &mut self,
        v: &Value,
        at: &[Seg],
        in_quant: bool,
        op: &str,
        want: &str,
    ) -> Option<Operand> {
        let o = self.operand(v, at, in_quant)?;
        if let Operand::Lit(l) = &o {
            let ok = match want {
                "a string" => matches!(l, Val::Str(_)),
                _ => matches!(l, Val::Num(_)),
            };
            if !ok {
                self.w.error(
                    at,
                    "wrong-type",
                    format!("`{op}` takes {want}, found {}", l.a_type()),
                );
                return None;
            }
        }
        Some(o)
    }

    fn time_operand(&mut self, v: &Value, at: &[Seg], in_quant: bool) -> Option<Operand> {
        let o = self.operand(v, at, in_quant)?;
        if let Operand::Lit(l) = &o {
            if crate::ops::timestamp(l).is_none() {
                self.w.hint_error(
                    at,
                    "bad-value",
                    format!("{} is not a timestamp", l.to_json_short()),
                    "write epoch seconds or an ISO 8601 date-time with an offset, e.g. 2026-01-31T00:00:00Z",
                );
                return None;
            }
        }
        Some(o)
    }

    fn regex(&mut self, v: &Value, at: &[Seg]) -> Option<Regex> {
        let text = match self.reference(v, at, false)? {
            Some(Operand::Lit(Val::Str(s))) => s.into_owned(),
            Some(_) => {
                self.w.error(
                    at,
                    "wrong-type",
                    "a regex must be a string or a string parameter",
                );
                return None;
            }
            None => self.w.string(v, at, "a regex")?,
        };
        match Regex::new(&text) {
            Ok(r) => Some(r),
            Err(e) => {
                let msg = e.to_string();
                let last = msg.lines().last().unwrap_or("").trim().to_owned();
                self.w.hint_error(
                    at,
                    "bad-regex",
                    format!("`{text}` is not a valid regex: {last}"),
                    "the syntax is the Rust `regex` crate's (no look-around, no back-references)",
                );
                None
            }
        }
    }

    /// A number, or a numeric parameter.
    fn number(&mut self, v: &Value, at: &[Seg], what: &str) -> Option<f64> {
        match self.reference(v, at, false)? {
            Some(Operand::Lit(Val::Num(n))) => Some(n),
            Some(_) => {
                self.w.error(
                    at,
                    "wrong-type",
                    format!("{what} must be a number or a numeric parameter"),
                );
                None
            }
            None => match v {
                Value::Number(n) => n.as_f64(),
                other => {
                    self.w.error(
                        at,
                        "wrong-type",
                        format!("{what} must be a number, found {}", kind(other)),
                    );
                    None
                }
            },
        }
    }

    fn comparison(&mut self, v: &Value, at: &[Seg], what: &str) -> Option<Cmp> {
        let Value::Mapping(m) = v else {
            self.w.hint_error(
                at,
                "wrong-type",
                format!("`{what}` takes a comparison, found {}", kind(v)),
                "e.g. `{ge: 1}` or `{between: [1, 5]}`",
            );
            return None;
        };
        let entries = self
            .w
            .keys(m, at, &COMPARISONS, &format!("a `{what}` comparison"));
        if entries.len() != 1 {
            if m.len() == entries.len() {
                self.w.error(
                    at,
                    "operator-count",
                    format!("`{what}` takes exactly one comparison"),
                );
            }
            return None;
        }
        let (op, x) = entries[0];
        let at_op = child(at, op);
        if op == "between" {
            let Value::Sequence(items) = x else {
                self.w
                    .error(&at_op, "wrong-type", "`between` takes [low, high]");
                return None;
            };
            if items.len() != 2 {
                self.w
                    .error(&at_op, "bad-value", "`between` takes [low, high]");
                return None;
            }
            let lo = self.number(&items[0], &index(&at_op, 0), "low");
            let hi = self.number(&items[1], &index(&at_op, 1), "high");
            return Some(Cmp::Between(lo?, hi?));
        }
        let n = self.number(x, &at_op, &format!("`{op}`"))?;
        let op = match op {
            "equals" => NumOp::Eq,
            "not_equals" => NumOp::Ne,
            "lt" => NumOp::Lt,
            "le" => NumOp::Le,
            "gt" => NumOp::Gt,
            _ => NumOp::Ge,
        };
        Some(Cmp::Num(op, n))
    }

    fn duration(&mut self, v: &Value, at: &[Seg]) -> Option<f64> {
        const HINT: &str = "write e.g. `90d`, `24h`, `30m`, `10s` or `{days: 90}`";
        match v {
            Value::String(s) => {
                let t = s.trim();
                let (num, unit) = t.split_at(t.len().saturating_sub(1));
                let mult = match unit {
                    "d" => 86400.0,
                    "h" => 3600.0,
                    "m" => 60.0,
                    "s" => 1.0,
                    _ => 0.0,
                };
                match num.parse::<f64>() {
                    Ok(n) if mult > 0.0 && n >= 0.0 => Some(n * mult),
                    _ => {
                        self.w.hint_error(
                            at,
                            "bad-value",
                            format!("`{s}` is not a duration"),
                            HINT,
                        );
                        None
                    }
                }
            }
            Value::Mapping(m) => {
                let entries = self.w.keys(
                    m,
                    at,
                    &["days", "hours", "minutes", "seconds"],
                    "a duration",
                );
                if entries.len() != 1 {
                    if entries.len() == m.len() {
                        self.w.hint_error(
                            at,
                            "bad-value",
                            "a duration mapping has exactly one unit",
                            HINT,
                        );
                    }
                    return None;
                }
                let (unit, x) = entries[0];
                let n = self.number(x, &child(at, unit), &format!("`{unit}`"))?;
                let mult = match unit {
                    "days" => 86400.0,
                    "hours" => 3600.0,
                    "minutes" => 60.0,
                    _ => 1.0,
                };
                Some(n * mult)
            }
            other => {
                self.w.hint_error(
                    at,
                    "wrong-type",
                    format!("expected a duration, found {}", kind(other)),
                    HINT,
                );
                None
            }
        }
    }

    /// Compiles a path written at `at`.
    pub fn path(&mut self, text: &str, at: &[Seg], in_quant: bool) -> Option<Path> {
        let syn = self.path_syntax(text, at)?;
        let root = self.path_root(&syn.root, text, at, in_quant)?;
        let mut steps = match syn.root {
            RootSyntax::Field(f) => vec![Step::Key(f.into_boxed_str())],
            _ => Vec::new(),
        };
        for s in syn.steps {
            let step = self.path_step(s, text, at, in_quant, &root, &steps)?;
            steps.push(step);
        }
        self.note_fields_read(&root, &steps);
        Some(Path {
            text: Arc::from(text),
            root,
            steps,
        })
    }

    /// A path's text parsed by the grammar.
    fn path_syntax(&mut self, text: &str, at: &[Seg]) -> Option<path::PathSyntax> {
        match path::parse(text) {
            Ok(s) => Some(s),
            Err(e) => {
                self.w.error(
                    at,
                    "bad-path",
                    format!(
                        "`{text}` is not a path: {} (at character {})",
                        e.message,
                        e.offset + 1
                    ),
                );
                None
            }
        }
    }

    /// Where a path starts (a field starts at the record; the field is its first step).
    fn path_root(
        &mut self,
        root: &RootSyntax,
        text: &str,
        at: &[Seg],
        in_quant: bool,
    ) -> Option<Root> {
        match root {
            RootSyntax::Field(_) => Some(Root::Record),
            RootSyntax::Context(c) => self.context_root(c, at),
            RootSyntax::Param(p) => {
                let val = self.param(p, at)?.val.clone();
                Some(Root::Param(Arc::from(p.as_str()), Arc::new(val)))
            }
            RootSyntax::Current => {
                if !in_quant {
                    self.w.hint_error(
                        at,
                        "bad-path",
                        format!("`{text}` is relative (starts with `.`) but is not inside a quantifier"),
                        "relative paths name the current element of `all`, `any`, `none` or `count`",
                    );
                    return None;
                }
                Some(Root::Current)
            }
        }
    }

    /// `@NAME`: a context value, noting that the set reads tags or enrichments.
    fn context_root(&mut self, name: &str, at: &[Seg]) -> Option<Root> {
        let Some(ctx) = Context::from_name(name) else {
            let hint = did_you_mean(name, &Context::NAMES).map_or_else(
                || {
                    format!(
                        "context values: {}",
                        Context::NAMES.map(|n| format!("@{n}")).join(", ")
                    )
                },
                |s| format!("did you mean `@{s}`?"),
            );
            self.w.hint_error(
                at,
                "bad-path",
                format!("`@{name}` is not a context value"),
                hint,
            );
            return None;
        };
        self.shared.uses_tags |= ctx == Context::Tags;
        self.shared.uses_enrichments |= ctx == Context::Enrichments;
        self.shared.uses_datastore |= ctx == Context::Datastore;
        Some(Root::Context(ctx))
    }

    /// One step after the root; `before` are the steps compiled so far.
    fn path_step(
        &mut self,
        step: StepSyntax,
        text: &str,
        at: &[Seg],
        in_quant: bool,
        root: &Root,
        before: &[Step],
    ) -> Option<Step> {
        match step {
            StepSyntax::Key(k) => Some(Step::Key(k.into_boxed_str())),
            StepSyntax::Index(i) => Some(Step::Index(i)),
            StepSyntax::CurrentKey => {
                if !in_quant {
                    self.w.error(
                        at,
                        "bad-path",
                        format!("`{text}` uses `[.]` outside a quantifier"),
                    );
                    return None;
                }
                Some(Step::CurrentKey)
            }
            StepSyntax::ParamKey(p) => self.param_key_step(&p, at),
            StepSyntax::Transform(Transform::Json) => self.json_step(text, at, root, before),
            StepSyntax::Transform(t) => Some(Step::Transform(t)),
        }
    }

    /// `[$PARAM]`: a field named by a string parameter, or an element by a whole number.
    fn param_key_step(&mut self, p: &str, at: &[Seg]) -> Option<Step> {
        match self.param(p, at)?.val.clone() {
            Val::Str(s) => Some(Step::Key(s.into_owned().into_boxed_str())),
            Val::Num(n) if n >= 0.0 && n.fract() == 0.0 => Some(Step::Index(n as usize)),
            other => {
                self.w.error(
                    at,
                    "wrong-type",
                    format!(
                        "`[${p}]` needs a string or whole-number parameter, `{p}` is {}",
                        other.a_type()
                    ),
                );
                None
            }
        }
    }

    /// `|json` after a fixed path of record fields: a numbered point of the set whose
    /// document is parsed at most once per record.
    fn json_step(&mut self, text: &str, at: &[Seg], root: &Root, before: &[Step]) -> Option<Step> {
        let fixed = matches!(root, Root::Record)
            && before
                .iter()
                .all(|s| matches!(s, Step::Key(_) | Step::Index(_)));
        if !fixed {
            self.w.error(
                at,
                "bad-path",
                format!("`{text}`: the part before `|json` must be a fixed path of record fields"),
            );
            return None;
        }
        let prefix = Path {
            text: Arc::from(text.split("|json").next().unwrap_or(text)),
            root: Root::Record,
            steps: before.to_vec(),
        };
        Some(Step::Json(self.shared.json_point(prefix)))
    }

    /// Adds the fields a path reads to the set's tries: the record's fields up to the
    /// first step that is not a field name, whose value is kept whole. The document behind
    /// a `|json` point is pruned the same way, with the fields after it.
    fn note_fields_read(&mut self, root: &Root, steps: &[Step]) {
        match root {
            Root::Record => self.shared.trie.insert(&leading_keys(steps), true),
            Root::Context(Context::Datastore) => {
                self.shared
                    .datastore_trie
                    .insert(&leading_keys(steps), true);
            }
            _ => {}
        }
        if let Some(j) = steps.iter().position(|s| matches!(s, Step::Json(_))) {
            if let Step::Json(id) = steps[j] {
                if let Some(t) = self.shared.json_tries.get_mut(id) {
                    t.insert(&leading_keys(&steps[j + 1..]), true);
                }
            }
        }
    }
}

/// The field names a list of steps starts with.
fn leading_keys(steps: &[Step]) -> Vec<&str> {
    steps
        .iter()
        .map_while(|s| match s {
            Step::Key(k) => Some(&**k),
            _ => None,
        })
        .collect()
}

/// The keys of a clause mapping, sorted by role.
struct ClauseParts<'m> {
    path: Option<&'m Value>,
    if_present: bool,
    /// `where`.
    filter: Option<&'m Value>,
    /// The operators and quantifiers, in the order written.
    ops: Vec<(&'m str, &'m Value)>,
    /// Whether every key was a string the language knows.
    keys_ok: bool,
}

/// A clause from its parts. A quantifier over `PATH|values` is compiled without the
/// `|values`: the quantifier walks the object's values itself, pointing at each by key.
fn new_clause(mut path: Path, test: Test, if_present: bool) -> Clause {
    let over_values = !matches!(test, Test::Op(_))
        && matches!(path.steps.last(), Some(Step::Transform(Transform::Values)));
    if over_values {
        path.steps.pop();
    }
    let expected = test.describe();
    Clause {
        path,
        test,
        if_present,
        over_values,
        expected: expected.into(),
    }
}

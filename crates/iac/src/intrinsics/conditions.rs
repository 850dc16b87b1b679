//! Conditions: `Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not` and `Condition`, decided
//! where the values they read are known, and otherwise undecided because of the
//! condition that reads the unknown value (a variable the reader assigns both ways).

use super::{closest, Decided, Ev, EvValue, Evaluator};
use crate::tree::{Node, Value};

impl Evaluator<'_, '_> {
    /// The value of the condition named `name` (referred to at `at`).
    pub(crate) fn condition(&mut self, name: &str, at: &Node) -> Decided {
        if let Some(v) = self.assume.get(name) {
            return Ok(*v);
        }
        let Some(node) = self.t.conditions.get(name).copied() else {
            let _ = self.error(
                at,
                format!("there is no condition `{name}`"),
                match closest(name, self.t.conditions.keys().copied().collect()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "declare it under `Conditions`".to_owned(),
                },
            );
            return Ok(false);
        };
        if let Some(start) = self.cond_stack.iter().position(|c| c == name) {
            self.cycle(start);
            return Ok(false);
        }
        self.cond_stack.push(name.to_owned());
        let v = self.cond_expr(node, name);
        self.cond_stack.pop();
        v
    }

    /// Reports the cycle of conditions from `cond_stack[start]` once, the same way
    /// whichever condition it was entered from: starting at its first name in order, at
    /// that condition's position.
    fn cycle(&mut self, start: usize) {
        let mut members: Vec<String> = self.cond_stack[start..].to_vec();
        let Some(first) = members
            .iter()
            .enumerate()
            .min_by_key(|(_, n)| *n)
            .map(|(i, _)| i)
        else {
            return;
        };
        members.rotate_left(first);
        if self.cycles.contains(&members) {
            return;
        }
        let at = self.t.conditions.get(members[0].as_str()).copied();
        let shown = format!("{} -> {}", members.join(" -> "), members[0]);
        self.cycles.push(members);
        if let Some(at) = at {
            let _ = self.error(
                at,
                format!("the conditions refer to each other in a cycle: {shown}"),
                "a condition cannot depend on itself",
            );
        }
    }

    /// A condition expression, inside condition `owner`.
    fn cond_expr(&mut self, n: &Node, owner: &str) -> Decided {
        let (name, arg) = match (&n.tag, &n.value) {
            (Some(tag), _) if tag.starts_with('!') && !tag.starts_with("!!") => {
                let short = &tag[1..];
                let name = if short == "Condition" {
                    short.to_owned()
                } else {
                    format!("Fn::{short}")
                };
                (name, n)
            }
            (None, Value::Map(entries)) if entries.len() == 1 => {
                (entries[0].0.name.clone(), &entries[0].1)
            }
            _ => {
                let _ = self.error(
                    n,
                    format!("a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition, found {}", n.describe()),
                    "for example `!Equals [!Ref Env, prod]`",
                );
                return Ok(false);
            }
        };
        let items: &[Node] = match &arg.value {
            Value::Seq(items) => items,
            _ => &[],
        };
        match name.as_str() {
            "Condition" => match arg.as_str() {
                Some(c) => self.condition(c, arg),
                None => {
                    let _ = self.shape(n, "Condition", "a condition's name");
                    Ok(false)
                }
            },
            "Fn::Equals" => {
                let [a, b] = items else {
                    let _ = self.shape(n, "Fn::Equals", "[value, value]");
                    return Ok(false);
                };
                let (a, b) = (self.eval(a), self.eval(b));
                if a.unknown().is_some() || b.unknown().is_some() {
                    return Err(owner.to_owned());
                }
                Ok(same(&a, &b))
            }
            "Fn::Not" => match items {
                [c] => self.cond_expr(c, owner).map(|v| !v),
                _ => {
                    let _ = self.shape(n, "Fn::Not", "[condition]");
                    Ok(false)
                }
            },
            "Fn::And" | "Fn::Or" => {
                if !(2..=10).contains(&items.len()) {
                    let _ = self.shape(n, &name, "a list of 2 to 10 conditions");
                    return Ok(false);
                }
                let values: Vec<Decided> = items.iter().map(|c| self.cond_expr(c, owner)).collect();
                let decisive = name == "Fn::Or";
                if values.contains(&Ok(decisive)) {
                    return Ok(decisive);
                }
                match values.into_iter().find_map(Result::err) {
                    Some(var) => Err(var),
                    None => Ok(!decisive),
                }
            }
            other => {
                let _ = self.error(
                    n,
                    format!("`{other}` is not a condition function"),
                    "use Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition",
                );
                Ok(false)
            }
        }
    }
}

/// `Fn::Equals`: values compare as CloudFormation compares them, as text.
fn same(a: &Ev, b: &Ev) -> bool {
    match (&a.value, &b.value) {
        (EvValue::List(x), EvValue::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        _ => match (a.text(), b.text()) {
            (Some(x), Some(y)) => x == y,
            _ => a.value == b.value,
        },
    }
}

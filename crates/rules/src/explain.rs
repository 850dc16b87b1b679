//! Explaining one policy on one record: every clause, the value it saw and its outcome.

use std::fmt;

use hlaudit_model::invisible::escape;
use hlaudit_model::{Evidence, Record, Status};
use serde::Serialize;

use crate::cond::Cond;
use crate::engine::{evaluate_policy, store_label, with_env, EvalOptions};
use crate::eval::eval;
use crate::resolve::Env;
use crate::set::CompiledPolicySet;

/// One node of an explanation: a condition, its outcome, what its clauses saw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExplainNode {
    /// The condition in words.
    pub text: String,
    /// Whether it held.
    pub outcome: bool,
    /// For a clause: the attribute, the value found and what was expected.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub observations: Vec<Evidence>,
    /// For `all`, `any`, `not`: the children.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<ExplainNode>,
}

/// How one policy came out on one record, clause by clause.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The policy id.
    pub policy: String,
    /// The record's identity key (`DatastoreArn` of a data store that exists; the JSON
    /// name stays `datastore` for readers of earlier output).
    pub datastore: String,
    /// The status the pair ends with.
    pub status: Status,
    /// The FAIL or ERROR message.
    pub message: String,
    /// `applies_when`, when the policy has one.
    pub applies_when: Option<ExplainNode>,
    /// `assert` (explained even when the policy does not apply).
    pub assert: Option<ExplainNode>,
    /// The evidence a FAIL finding carries.
    pub evidence: Vec<Evidence>,
}

/// Explains the policy at `policy` (an index into `set`) on `record`; `datastore` is the
/// data store a job belongs to (see [`hlaudit_model::link::DatastoreIndex`]), as
/// [`crate::evaluate`] finds it.
pub fn explain(
    set: &CompiledPolicySet,
    policy: usize,
    record: &Record,
    datastore: Option<&Record>,
    opts: EvalOptions,
) -> Option<Explanation> {
    let p = set.policies.get(policy)?;
    if !p.applies_to(record.kind()) {
        let kinds: Vec<&str> = p.kinds().iter().map(|k| k.as_str()).collect();
        return Some(Explanation {
            policy: p.meta.id.clone(),
            datastore: record.key().into_owned(),
            status: Status::Skip,
            message: format!(
                "{} applies to {} records, not to {}: {} is not evaluated on it.",
                p.meta.id,
                kinds.join(", "),
                record.kind(),
                p.meta.id
            ),
            applies_when: None,
            assert: None,
            evidence: Vec::new(),
        });
    }
    Some(with_env(set, record, datastore, opts, |env| match env {
        Err(e) => Explanation {
            policy: p.meta.id.clone(),
            datastore: record.key().into_owned(),
            status: Status::Error,
            message: format!("{}: the record could not be read: {e}", store_label(record)),
            applies_when: None,
            assert: None,
            evidence: Vec::new(),
        },
        Ok(env) => {
            // A planned data store is decided as `evaluate` decides it (run-time
            // policies, unknown values, every shape); the tree shows what was read.
            let o = if record.identity().is_planned() {
                crate::planned::outcome(set, p, &crate::planned::Shapes::of(record), opts)
            } else {
                evaluate_policy(p, &p.applies, &p.assert, record, env)
            };
            Explanation {
                policy: p.meta.id.clone(),
                datastore: record.key().into_owned(),
                status: o.status,
                message: o.message,
                applies_when: p.applies.as_ref().map(|a| node(a, env)),
                assert: Some(node(&p.assert, env)),
                evidence: o.evidence,
            }
        }
    }))
}

fn node(c: &Cond, env: &Env<'_>) -> ExplainNode {
    let c = c.unmemo();
    let (text, children) = match c {
        Cond::All(cs) => (
            "all of".to_owned(),
            cs.iter().map(|c| node(c, env)).collect(),
        ),
        Cond::Any(cs) => (
            "any of".to_owned(),
            cs.iter().map(|c| node(c, env)).collect(),
        ),
        Cond::Not(inner) => ("not".to_owned(), vec![node(inner, env)]),
        Cond::Const(b) => (b.to_string(), Vec::new()),
        Cond::Clause(cl) => (cl.describe(), Vec::new()),
        Cond::Memo(_, inner) => return node(inner, env),
    };
    let mut reasons = Vec::new();
    let outcome = eval(c, env, None, Some(&mut reasons));
    let observations = if matches!(c, Cond::Clause(_)) {
        reasons.into_iter().map(|r| r.into_evidence()).collect()
    } else {
        Vec::new()
    };
    ExplainNode {
        text,
        outcome,
        observations,
        children,
    }
}

/// The text for people: every value from the record or the policy has its invisible
/// characters (controls, bidirectional and format characters) shown by code point.
impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} on {}: {}",
            escape(&self.policy),
            escape(&self.datastore),
            self.status
        )?;
        if !self.message.is_empty() {
            writeln!(f, "  {}", escape(&self.message))?;
        }
        match &self.applies_when {
            Some(n) => {
                writeln!(f, "applies_when:")?;
                write_node(f, n, 1)?;
            }
            None => writeln!(
                f,
                "applies_when: (none: applies to every record of its kinds)"
            )?,
        }
        if let Some(n) = &self.assert {
            writeln!(f, "assert:")?;
            write_node(f, n, 1)?;
        }
        Ok(())
    }
}

fn write_node(f: &mut fmt::Formatter<'_>, n: &ExplainNode, depth: usize) -> fmt::Result {
    let pad = "  ".repeat(depth);
    let mark = if n.outcome { "true " } else { "false" };
    writeln!(f, "{pad}[{mark}] {}", escape(&n.text))?;
    for o in &n.observations {
        let found = match &o.found {
            Some(v) => escape(&v.to_string()).into_owned(),
            None => "not present".to_owned(),
        };
        let at = if o.pointer.is_empty() {
            "/"
        } else {
            &o.pointer
        };
        writeln!(
            f,
            "{pad}        at {}: found {found}; expected {}",
            escape(at),
            escape(&o.expected)
        )?;
    }
    for c in &n.children {
        write_node(f, c, depth + 1)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_shows_invisible_characters_by_code_point() {
        let name = "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/prod\u{202e}dorp";
        let e = Explanation {
            policy: "HL-MD-01".into(),
            datastore: name.into(),
            status: Status::Fail,
            message: format!("{name} is wrong\u{2066}"),
            applies_when: None,
            assert: Some(ExplainNode {
                text: "issuer starts with https://".into(),
                outcome: false,
                observations: vec![Evidence {
                    pointer: "/IdentityProviderConfiguration/Metadata/issuer".into(),
                    found: Some(serde_json::json!("http://x\u{200b}")),
                    expected: "https\u{2069}".into(),
                    note: None,
                }],
                children: Vec::new(),
            }),
            evidence: Vec::new(),
        };
        let text = e.to_string();
        assert!(
            !text
                .chars()
                .any(|c| c != '\n' && hlaudit_model::invisible::is_invisible(c)),
            "{text}"
        );
        assert!(text.contains("fhir/prod\\u{202e}dorp: "), "{text}");
        assert!(
            text.contains("found \"http://x\\u{200b}\"; expected https\\u{2069}"),
            "{text}"
        );
    }
}

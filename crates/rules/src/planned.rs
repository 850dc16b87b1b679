//! Evaluating a policy on a data store a template or plan will create.
//!
//! Three things differ from a data store that exists:
//!
//! - A policy about run-time state (`runtime: true`) is SKIP, with the reason.
//! - Some values are known only after deploy (an `Fn::ImportValue`, a parameter without a
//!   value, a Terraform `after_unknown`, the account or region when nobody said which).
//!   Conditions are evaluated in three-valued logic: a clause that reads such a value is
//!   undecided, `all` is false when a child is false, else undecided when a child is, and
//!   `any` alike. A policy whose outcome is undecided is SKIP with evidence naming each
//!   value it depends on, or FAIL under `--unknown fail`.
//! - A condition decided only at deploy (`Fn::If` on it) gives the resource more than one
//!   possible shape (the record and its alternatives): the policy must hold in each. A FAIL
//!   in any shape is the outcome, naming the assumption; otherwise undecided when any shape
//!   is; otherwise PASS when any shape passes (SKIP when it applies in none).
//!
//! Every finding of a planned data store points at the line of the template or plan that
//! decided it: the property its first evidence names, or the resource itself.

use std::sync::Arc;

use hlaudit_model::identity::Planned;
use hlaudit_model::planned::{is_prefix, PlanDetail, Unknown};
use hlaudit_model::{Evidence, Identity, Record, Source, Status};

use crate::cond::{Clause, Cond, Op, Operand, Test};
use crate::engine::{evaluate_policy, push_store_label, with_env, EvalOptions, Outcome};
use crate::eval::eval;
use crate::path::{push_token, Context, Path, Root, Step};
use crate::resolve::Env;
use crate::set::{CompiledPolicy, CompiledPolicySet};

/// A planned record and the other shapes it may take, built once per record.
pub(crate) struct Shapes {
    shapes: Vec<Shape>,
}

struct Shape {
    record: Record,
    unknowns: Vec<Unknown>,
}

impl Shapes {
    /// The shapes of `rec` (just `rec` when it has no alternatives).
    pub fn of(rec: &Record) -> Shapes {
        let mut shapes = vec![Shape {
            record: rec.clone(),
            unknowns: unknowns_of(rec, rec.plan()),
        }];
        if let (Some(plan), Identity::Planned(planned)) = (rec.plan(), rec.identity()) {
            for alt in &plan.alternatives {
                if let Some(record) = alternative(rec, planned, alt) {
                    let unknowns = unknowns_of(&record, record.plan());
                    shapes.push(Shape { record, unknowns });
                }
            }
        }
        Shapes { shapes }
    }
}

fn alternative(
    rec: &Record,
    planned: &Planned,
    alt: &hlaudit_model::planned::Alternative,
) -> Option<Record> {
    // The alternative was built by the same reader as the record, so it is a valid
    // object; one that is not is left out rather than guessed at.
    let mut r = Record::planned_from_value(&alt.properties, planned.clone())
        .ok()?
        .with_context(rec.context().clone())
        .with_plan(alt.detail.clone());
    r.tags = alt.tags.clone();
    r.source = rec.source.clone();
    Some(r)
}

/// The values of `rec` known only after deploy: the plan's own, the context nobody gave,
/// and what only an existing data store has (`@arn`, `@id`, collected enrichments).
fn unknowns_of(rec: &Record, plan: Option<&PlanDetail>) -> Vec<Unknown> {
    let mut out: Vec<Unknown> = plan.map(|p| p.unknowns.clone()).unwrap_or_default();
    let mut add = |pointer: &str, expression: &str| {
        out.push(Unknown {
            pointer: pointer.to_owned(),
            expression: expression.to_owned(),
        })
    };
    if rec.account().is_none() {
        add("/@account", "the account (give it with --account)");
    }
    if rec.region().is_none() {
        add("/@region", "the region (give it with --region)");
    }
    if rec.partition().is_none() {
        add(
            "/@partition",
            "the partition (known from --region, or the plan or CDK environment)",
        );
    }
    add("/@arn", "the data store ARN (assigned at creation)");
    add("/@id", "the data store id (assigned at creation)");
    if rec.enrichments.is_empty() {
        add(
            "/@enrichments",
            "what a collection reads beside the data store (known once it exists)",
        );
    }
    let tags_unknown = rec.tags.is_none() && !out.iter().any(|u| u.pointer.starts_with("/@tags"));
    if tags_unknown {
        out.push(Unknown {
            pointer: "/@tags".to_owned(),
            expression: "the tags".to_owned(),
        });
    }
    out
}

/// The outcome of one shape.
enum ShapeOutcome {
    Skip,
    Pass,
    Fail(Outcome),
    Undecided(Vec<Evidence>),
}

/// Evaluates `policy` on a planned record's shapes.
pub(crate) fn outcome(
    set: &CompiledPolicySet,
    policy: &CompiledPolicy,
    shapes: &Shapes,
    opts: EvalOptions,
) -> Outcome {
    let first = &shapes.shapes[0].record;
    if policy.is_runtime() {
        let mut message = String::new();
        push_store_label(first, &mut message);
        message.push_str(
            ": not evaluated before deploy: the policy is about the run-time state of a \
             data store that exists",
        );
        return located(
            first,
            Outcome {
                status: Status::Skip,
                message,
                ..Outcome::default()
            },
            false,
        );
    }
    let mut fail: Option<(Outcome, usize)> = None;
    let mut undecided: Vec<Evidence> = Vec::new();
    let mut any_undecided = false;
    let mut any_pass = false;
    for (i, shape) in shapes.shapes.iter().enumerate() {
        let o = with_env(set, &shape.record, None, opts, |env| match env {
            Ok(env) => one_shape(policy, shape, env),
            Err(e) => ShapeOutcome::Fail(crate::engine::unreadable(&shape.record, &e)),
        });
        match o {
            ShapeOutcome::Skip => {}
            ShapeOutcome::Pass => any_pass = true,
            ShapeOutcome::Fail(o) => {
                if fail.is_none() {
                    fail = Some((o, i));
                }
            }
            ShapeOutcome::Undecided(ev) => {
                any_undecided = true;
                for e in ev {
                    if !undecided.contains(&e) {
                        undecided.push(e);
                    }
                }
            }
        }
    }
    if let Some((mut o, i)) = fail {
        let shape = &shapes.shapes[i].record;
        if let Some(a) = shape.plan().and_then(|p| p.assumption.as_deref()) {
            o.message.push_str(&format!(" (when {a})"));
        }
        annotate_defaults(shape, &mut o.evidence);
        return located(shape, o, false);
    }
    if any_undecided {
        let mut message = String::new();
        push_store_label(first, &mut message);
        message.push_str(": not decided before deploy: the outcome depends on ");
        let names: Vec<&str> = undecided
            .iter()
            .map(|e| e.note.as_deref().unwrap_or_default())
            .collect();
        message.push_str(&names.join("; "));
        let status = if opts.unknown_fails {
            Status::Fail
        } else {
            Status::Skip
        };
        return located(
            first,
            Outcome {
                status,
                message,
                evidence: undecided,
                ..Outcome::default()
            },
            true,
        );
    }
    Outcome {
        status: if any_pass { Status::Pass } else { Status::Skip },
        ..Outcome::default()
    }
}

fn one_shape(policy: &CompiledPolicy, shape: &Shape, env: &Env<'_>) -> ShapeOutcome {
    let mut hits: Vec<usize> = Vec::new();
    if let Some(a) = &policy.applies {
        match eval3(a, env, &shape.unknowns, &mut hits) {
            Some(false) => return ShapeOutcome::Skip,
            None => return ShapeOutcome::Undecided(evidence_of(&shape.unknowns, &hits)),
            Some(true) => {}
        }
    }
    hits.clear();
    match eval3(&policy.assert, env, &shape.unknowns, &mut hits) {
        Some(true) => ShapeOutcome::Pass,
        None => ShapeOutcome::Undecided(evidence_of(&shape.unknowns, &hits)),
        Some(false) => {
            let mut o = evaluate_policy(policy, &None, &policy.assert, &shape.record, env);
            // A clause that read an unknown value was not what decided the failure.
            let unknown = &shape.unknowns;
            let before = o.evidence.len();
            o.evidence.retain(|e| {
                !unknown
                    .iter()
                    .any(|u| is_prefix(&u.pointer, &e.pointer) || is_prefix(&e.pointer, &u.pointer))
            });
            if o.evidence.is_empty() && before > 0 {
                // Nothing left to show: keep the outcome, say so.
                o.evidence.push(Evidence {
                    pointer: Arc::from(""),
                    found: None,
                    expected: Arc::from("the policy's condition"),
                    note: Some("fails whatever the values known only after deploy".into()),
                });
            }
            ShapeOutcome::Fail(o)
        }
    }
}

fn evidence_of(unknowns: &[Unknown], hits: &[usize]) -> Vec<Evidence> {
    let mut seen: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    for &h in hits {
        if seen.contains(&h) {
            continue;
        }
        seen.push(h);
        let u = &unknowns[h];
        out.push(Evidence {
            pointer: u.pointer.as_str().into(),
            found: None,
            expected: Arc::from("a value known before deploy"),
            note: Some(
                format!("{} is {}", display_pointer(&u.pointer), u.expression).into_boxed_str(),
            ),
        });
    }
    out
}

/// `/SseConfiguration/KmsEncryptionConfig/KmsKeyId` as `SseConfiguration.KmsEncryptionConfig.KmsKeyId`.
fn display_pointer(p: &str) -> String {
    let t = p.trim_start_matches('/');
    if t.is_empty() {
        "the resource".to_owned()
    } else {
        t.replace('/', ".")
    }
}

/// Marks evidence about a property the template leaves out.
fn annotate_defaults(rec: &Record, evidence: &mut [Evidence]) {
    let Some(plan) = rec.plan() else { return };
    for e in evidence {
        if let Some(d) = plan.defaults.iter().find(|d| is_prefix(d, &e.pointer)) {
            if e.note.is_none() {
                e.note = Some(
                    format!(
                        "{} is not set in the {}, so the resource's default applies",
                        display_pointer(d),
                        source_noun(rec)
                    )
                    .into_boxed_str(),
                );
            }
        }
    }
}

fn source_noun(rec: &Record) -> &'static str {
    // A resource read from a Terraform plan names the change's action.
    if rec.plan().is_some_and(|p| p.names.contains_key("action")) {
        "plan"
    } else {
        "template"
    }
}

/// Sets the outcome's location: the property its first evidence names (a default: the
/// resource), else the resource.
fn located(rec: &Record, mut o: Outcome, undecided: bool) -> Outcome {
    o.undecided = undecided;
    let Identity::Planned(p) = rec.identity() else {
        return o;
    };
    let plan = rec.plan();
    let at = |pointer: &str| -> Option<Source> {
        let plan = plan?;
        if plan.is_default(pointer) {
            return plan.locate(&p.file, "");
        }
        plan.locate(&p.file, pointer)
    };
    o.location = o
        .evidence
        .iter()
        .find_map(|e| at(&e.pointer))
        .or_else(|| at(""))
        .or_else(|| rec.source.clone());
    o
}

/// Three-valued evaluation: `None` when the outcome depends on a value known only after
/// deploy; `hits` gets the index of each unknown value read.
fn eval3(c: &Cond, env: &Env<'_>, unknowns: &[Unknown], hits: &mut Vec<usize>) -> Option<bool> {
    match c {
        Cond::Const(b) => Some(*b),
        Cond::Not(inner) => eval3(inner, env, unknowns, hits).map(|b| !b),
        Cond::All(cs) => {
            let mut undecided = false;
            for c in cs {
                match eval3(c, env, unknowns, hits) {
                    Some(false) => return Some(false),
                    None => undecided = true,
                    Some(true) => {}
                }
            }
            (!undecided).then_some(true)
        }
        Cond::Any(cs) => {
            let mut undecided = false;
            for c in cs {
                match eval3(c, env, unknowns, hits) {
                    Some(true) => return Some(true),
                    None => undecided = true,
                    Some(false) => {}
                }
            }
            (!undecided).then_some(false)
        }
        Cond::Memo(_, inner) => eval3(inner, env, unknowns, hits),
        Cond::Clause(cl) => {
            let mut reads = Vec::new();
            clause_reads(cl, &mut reads);
            let before = hits.len();
            for r in &reads {
                for (i, u) in unknowns.iter().enumerate() {
                    if is_prefix(&u.pointer, r) || is_prefix(r, &u.pointer) {
                        hits.push(i);
                    }
                }
            }
            if hits.len() > before {
                return None;
            }
            Some(eval(c, env, None, None))
        }
    }
}

/// The pointers a clause reads, up to the first step that depends on the data (a
/// transform, the current element's key); paths from a quantifier's element are covered
/// by the quantified path.
fn clause_reads(cl: &Clause, out: &mut Vec<String>) {
    out.extend(reads(&cl.path));
    match &cl.test {
        Test::Op(op) => {
            for operand in operands(op) {
                if let Operand::Path(p) = operand {
                    out.extend(reads(p));
                }
            }
        }
        Test::Quant(_, inner) => cond_reads(inner, out),
        Test::Count(inner, _) => {
            if let Some(inner) = inner {
                cond_reads(inner, out);
            }
        }
    }
}

fn cond_reads(c: &Cond, out: &mut Vec<String>) {
    match c {
        Cond::Const(_) => {}
        Cond::Not(inner) | Cond::Memo(_, inner) => cond_reads(inner, out),
        Cond::All(cs) | Cond::Any(cs) => cs.iter().for_each(|c| cond_reads(c, out)),
        Cond::Clause(cl) => clause_reads(cl, out),
    }
}

fn operands(op: &Op) -> Vec<&Operand> {
    match op {
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
        | Op::After(o) => vec![o],
        Op::Between(a, b) => vec![a, b],
        Op::Exists(_)
        | Op::Matches(_)
        | Op::NotMatches(_)
        | Op::Length(_)
        | Op::Empty(_)
        | Op::Type(_)
        | Op::Is(_)
        | Op::OlderThan(_)
        | Op::NewerThan(_) => Vec::new(),
    }
}

/// The pointer a path reads (see [`clause_reads`]); `None` for a parameter or the
/// current element.
fn reads(path: &Path) -> Option<String> {
    let mut p = match &path.root {
        Root::Record => String::new(),
        Root::Context(c) => match c {
            // Name and status are the record's own fields.
            Context::Name => "/DatastoreName".to_owned(),
            Context::Status => "/DatastoreStatus".to_owned(),
            c => format!("/@{}", c.name()),
        },
        Root::Param(..) | Root::Current => return None,
    };
    for s in &path.steps {
        match s {
            Step::Key(k) => push_token(&mut p, k),
            Step::Index(i) => push_token(&mut p, &i.to_string()),
            // A path into a JSON document held in a string continues the pointer.
            Step::Json(_) => {}
            Step::CurrentKey | Step::Transform(_) => break,
        }
    }
    Some(p)
}

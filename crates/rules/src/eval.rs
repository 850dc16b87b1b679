//! Evaluating conditions on one record, with or without collecting evidence.
//!
//! The fast path only computes the outcome (short-circuiting `all`/`any`); evidence is
//! collected by evaluating a failing policy a second time in evidence mode, so PASS and SKIP
//! cost nothing beyond the outcome.

use std::borrow::Cow;
use std::sync::Arc;

use hlaudit_model::{Evidence, Said};

use crate::cond::{Clause, Cond, Quant, Test};
use crate::ops::{apply, date_note, operand_note};
use crate::path::push_token;
use crate::resolve::{resolve, resolve_fast, Cur, Env, Fast, Resolved};
use crate::value::Val;

/// Why a condition came out the way it did: one entry per deciding clause.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reason {
    pub pointer: Arc<str>,
    pub found: Option<serde_json::Value>,
    pub expected: Arc<str>,
    /// What people read beside the raw value (a timestamp as a date).
    pub note: Option<String>,
    /// When a value in the way stopped the path (a string that is not JSON): the pointer,
    /// relative to `pointer`, of what the clause meant to read; empty otherwise.
    pub unread: String,
}

impl Reason {
    fn negate(mut self) -> Reason {
        self.expected = match self.expected.strip_prefix("not (") {
            Some(rest) if rest.ends_with(')') => rest[..rest.len() - 1].into(),
            _ => format!("not ({})", self.expected).into(),
        };
        self
    }

    pub fn into_evidence(self) -> Evidence {
        let note = match (self.note, unread_note(&[self.unread.as_str()])) {
            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
            (a, b) => a.or(b),
        };
        Evidence {
            pointer: self.pointer,
            found: self.found,
            expected: self.expected,
            // In a box of its length (a `format!` leaves spare room).
            note: note.map(|n| Box::from(n.as_str())),
        }
    }
}

/// `pointer`, shared with the evidence this thread made before that points at the same
/// place. Most failures of a clause point at the same field, so a large audit's evidence
/// holds a few hundred distinct pointers rather than a copy each.
fn shared_pointer(pointer: &str) -> Arc<str> {
    intern(&POINTERS, pointer)
}

/// What a failure says after its data store's label (`lacks required tags`, `has backups
/// DISABLED`) and its evidence, shared with the failures of this thread that said the
/// same and found the same (the failures of a policy mostly find the same value at the
/// same place), up to [`SHARED_STRINGS`] distinct pieces; beyond that, or when two pieces
/// share a hash, the piece is held by its finding alone.
pub(crate) fn shared_said(text: &str, evidence: Vec<Evidence>) -> Arc<Said> {
    use std::hash::{BuildHasher as _, Hash as _, Hasher as _};
    let mut h = foldhash::fast::FixedState::default().build_hasher();
    text.hash(&mut h);
    EvidenceKey(&evidence).hash(&mut h);
    let hash = h.finish();
    SAID.with_borrow_mut(|kept| {
        if let Some(said) = kept.get(&hash) {
            if said.text() == text && said.evidence() == &evidence[..] {
                return Arc::clone(said);
            }
            return Arc::new(Said::new(text, evidence));
        }
        let said = Arc::new(Said::new(text, evidence));
        if kept.len() < SHARED_STRINGS {
            kept.insert(hash, Arc::clone(&said));
        }
        said
    })
}

/// An evidence list as a hash key: what a reader sees of each entry.
struct EvidenceKey<'a>(&'a [Evidence]);

impl std::hash::Hash for EvidenceKey<'_> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_usize(self.0.len());
        for e in self.0 {
            e.pointer.hash(h);
            e.expected.hash(h);
            e.note.hash(h);
            match &e.found {
                None => h.write_u8(0),
                Some(v) => hash_json(v, h),
            }
        }
    }
}

/// Hashes a JSON value so that equal values (as `serde_json::Value` compares them) hash
/// alike.
fn hash_json<H: std::hash::Hasher>(v: &serde_json::Value, h: &mut H) {
    use serde_json::Value;
    use std::hash::Hash as _;
    match v {
        Value::Null => h.write_u8(1),
        Value::Bool(b) => {
            h.write_u8(2);
            b.hash(h);
        }
        Value::Number(n) => {
            h.write_u8(3);
            n.hash(h);
        }
        Value::String(s) => {
            h.write_u8(4);
            s.hash(h);
        }
        Value::Array(a) => {
            h.write_u8(5);
            h.write_usize(a.len());
            for x in a {
                hash_json(x, h);
            }
        }
        Value::Object(o) => {
            h.write_u8(6);
            h.write_usize(o.len());
            for (k, x) in o {
                k.hash(h);
                hash_json(x, h);
            }
        }
    }
}

/// `text` from `kept`, or a new string that `kept` then keeps. The strings kept for
/// sharing are bounded ([`SHARED_STRINGS`]): strings that differ record by record (list
/// elements, tag names, a key id in a message) beyond that are simply held by their owner.
fn intern(kept: &'static std::thread::LocalKey<Interned>, text: &str) -> Arc<str> {
    kept.with_borrow_mut(|kept| {
        if let Some(p) = kept.get(text) {
            return Arc::clone(p);
        }
        let p: Arc<str> = Arc::from(text);
        if kept.len() < SHARED_STRINGS {
            kept.insert(Arc::clone(&p));
        }
        p
    })
}

/// How many distinct strings of each kind a thread keeps for sharing.
const SHARED_STRINGS: usize = 4096;

type Interned = std::cell::RefCell<foldhash::HashSet<Arc<str>>>;

thread_local! {
    static POINTERS: Interned = std::cell::RefCell::new(foldhash::HashSet::default());
    static SAID: std::cell::RefCell<foldhash::HashMap<u64, Arc<Said>>> =
        std::cell::RefCell::new(foldhash::HashMap::default());
}

/// The evidence of `reasons`, each cause said once: reasons that differ only in what they
/// meant to read beyond a value in the way (five fields of a metadata string that is not
/// JSON) become one entry whose note names them all; identical reasons become one.
pub(crate) fn collapse(mut reasons: Vec<Reason>) -> Vec<Evidence> {
    // Half the failures of a pack have one reason, with nothing left unread.
    if reasons.len() == 1 && reasons[0].unread.is_empty() {
        if let Some(only) = reasons.pop() {
            return vec![only.into_evidence()];
        }
    }
    // (reason with `unread` cleared, the non-empty unread pointers in first-seen order:
    // an empty one, the value in the way itself, names nothing)
    let mut groups: Vec<(Reason, Vec<String>)> = Vec::with_capacity(reasons.len());
    for mut r in reasons {
        let unread = std::mem::take(&mut r.unread);
        match groups.iter_mut().find(|(g, _)| *g == r) {
            Some((_, seen)) => {
                if !unread.is_empty() && !seen.contains(&unread) {
                    seen.push(unread);
                }
            }
            None if unread.is_empty() => groups.push((r, Vec::new())),
            None => groups.push((r, vec![unread])),
        }
    }
    // Collected into a vector of its own rather than in place: reusing the groups' larger
    // buffer would leave each finding's evidence with spare room for as long as it lives.
    let mut out = Vec::with_capacity(groups.len());
    out.extend(groups.into_iter().map(|(r, unread)| {
        let parts: Vec<&str> = unread.iter().map(String::as_str).collect();
        let mut e = r.into_evidence();
        if let Some(b) = unread_note(&parts) {
            let note = match e.note.take() {
                Some(a) => format!("{a}; {b}"),
                None => b,
            };
            e.note = Some(Box::from(note.as_str()));
        }
        e
    }));
    out
}

/// `so token_endpoint and capabilities could not be read`, from relative pointers (empty
/// ones, the value in the way itself, are left out); `None` when none is left.
fn unread_note(parts: &[&str]) -> Option<String> {
    let names: Vec<String> = parts
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| format!("`{}`", p.trim_start_matches('/')))
        .collect();
    let list = match names.as_slice() {
        [] => return None,
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    };
    Some(format!("so {list} could not be read"))
}

/// Evaluates `c`. When `out` is given, pushes the reasons for the outcome.
pub(crate) fn eval<'x: 't, 't>(
    c: &'t Cond,
    env: &'t Env<'x>,
    cur: Option<Cur<'t>>,
    out: Option<&mut Vec<Reason>>,
) -> bool {
    match c {
        Cond::Const(b) => *b,
        Cond::Not(inner) => match out {
            None => !eval(inner, env, cur, None),
            Some(out) => {
                let mut tmp = Vec::new();
                let r = eval(inner, env, cur, Some(&mut tmp));
                out.extend(tmp.into_iter().map(Reason::negate));
                !r
            }
        },
        Cond::All(cs) => match out {
            None => cs.iter().all(|c| eval(c, env, cur, None)),
            Some(out) => combine(cs, env, cur, out, true),
        },
        Cond::Any(cs) => match out {
            None => cs.iter().any(|c| eval(c, env, cur, None)),
            Some(out) => combine(cs, env, cur, out, false),
        },
        Cond::Clause(cl) => clause(cl, env, cur, out),
        Cond::Memo(id, inner) => match (out, env.memo.get(*id)) {
            (None, Some(slot)) => match slot.get() {
                1 => false,
                2 => true,
                _ => {
                    let r = eval(inner, env, cur, None);
                    slot.set(1 + u8::from(r));
                    r
                }
            },
            (out, _) => eval(inner, env, cur, out),
        },
    }
}

/// `all` (`is_all`) or `any` in evidence mode: every child is evaluated; the reasons kept
/// are those of the children that decided the outcome. Outcomes come from the fast path
/// (memoised), and only the deciding children are evaluated again for their reasons.
fn combine<'x: 't, 't>(
    cs: &'t [Cond],
    env: &'t Env<'x>,
    cur: Option<Cur<'t>>,
    out: &mut Vec<Reason>,
    is_all: bool,
) -> bool {
    let results: Vec<bool> = cs.iter().map(|c| eval(c, env, cur, None)).collect();
    let outcome = if is_all {
        results.iter().all(|r| *r)
    } else {
        results.iter().any(|r| *r)
    };
    // The deciding children: for all->false and any->true, those with the outcome;
    // otherwise every child.
    let decisive_only = is_all != outcome;
    for (c, r) in cs.iter().zip(results) {
        if !decisive_only || r == outcome {
            eval(c, env, cur, Some(out));
        }
    }
    outcome
}

fn clause<'x: 't, 't>(
    cl: &'t Clause,
    env: &'t Env<'x>,
    cur: Option<Cur<'t>>,
    out: Option<&mut Vec<Reason>>,
) -> bool {
    let Some(out) = out else {
        match resolve_fast(&cl.path, env, cur) {
            Fast::Present(v) => return test(cl, v, env, cur, None, ""),
            Fast::Absent => {
                return cl.if_present || matches!(cl.test, Test::Op(crate::cond::Op::Exists(false)))
            }
            Fast::Slow => {}
        }
        return match resolve(&cl.path, env, cur, None) {
            Resolved::Present(v) => test(cl, v.get(), env, cur, None, ""),
            Resolved::Absent => {
                cl.if_present || matches!(cl.test, Test::Op(crate::cond::Op::Exists(false)))
            }
            Resolved::Bad { .. } => false,
        };
    };
    let mut ptr = String::with_capacity(64);
    let resolved = resolve(&cl.path, env, cur, Some(&mut ptr));
    match resolved {
        Resolved::Present(v) => test(cl, v.get(), env, cur, Some(out), &ptr),
        Resolved::Absent => {
            let r = cl.if_present || matches!(cl.test, Test::Op(crate::cond::Op::Exists(false)));
            out.push(Reason {
                pointer: shared_pointer(&ptr),
                found: None,
                expected: cl.expected.clone(),
                note: None,
                unread: String::new(),
            });
            r
        }
        Resolved::Bad {
            found,
            expected,
            unread,
        } => {
            out.push(Reason {
                pointer: shared_pointer(&ptr),
                found: Some(found),
                expected: expected.into(),
                note: None,
                unread,
            });
            false
        }
    }
}

fn test<'x: 't, 't>(
    cl: &'t Clause,
    v: &Val<'_>,
    env: &'t Env<'x>,
    cur: Option<Cur<'t>>,
    out: Option<&mut Vec<Reason>>,
    ptr: &str,
) -> bool {
    match &cl.test {
        Test::Op(op) => {
            let r = apply(op, v, env, cur);
            if let Some(out) = out {
                let expected = match operand_note(op, env, cur) {
                    Some(note) => format!("{}{note}", cl.expected).into(),
                    None => cl.expected.clone(),
                };
                out.push(Reason {
                    pointer: shared_pointer(ptr),
                    found: Some(v.to_json_short()),
                    expected,
                    note: date_note(op, v),
                    unread: String::new(),
                });
            }
            r
        }
        Test::Quant(q, inner) => quantify(cl, *q, inner, v, env, out, ptr),
        Test::Count(filter, cmp) => {
            let Some(items) = elements(cl, v) else {
                if let Some(out) = out {
                    out.push(list_expected_for(cl, v, ptr));
                }
                return false;
            };
            let n = match filter {
                None => items.count(),
                Some(f) => items
                    .filter(|(_, e)| eval(f, env, Some(element(e, "")), None))
                    .count(),
            };
            let r = cmp.test(n as f64);
            if let Some(out) = out {
                out.push(Reason {
                    pointer: shared_pointer(ptr),
                    found: Some(v.to_json_short()),
                    expected: format!("{} (the count is {n})", cl.expected).into(),
                    note: None,
                    unread: String::new(),
                });
            }
            r
        }
    }
}

fn element<'t>(v: &'t Val<'t>, ptr: &'t str) -> Cur<'t> {
    Cur { val: v, ptr }
}

fn list_expected(v: &Val<'_>, ptr: &str) -> Reason {
    Reason {
        pointer: shared_pointer(ptr),
        found: Some(v.to_json_short()),
        expected: format!("a list (found {})", v.a_type()).into(),
        note: None,
        unread: String::new(),
    }
}

/// How an element is named in a pointer: its index, or its key for the values of an
/// object (`PATH|values`).
#[derive(Clone, Copy)]
enum Token<'v> {
    Index(usize),
    Key(&'v str),
}

impl Token<'_> {
    fn push_to(self, p: &mut String) {
        match self {
            Token::Index(i) => push_token(p, &i.to_string()),
            Token::Key(k) => push_token(p, k),
        }
    }
}

/// The elements to quantify over, each with its pointer token; `None` when the value is
/// not a list (or, for `|values`, not an object). An iterator, so the fast path allocates
/// nothing.
fn elements<'v, 'a>(
    cl: &Clause,
    v: &'v Val<'a>,
) -> Option<impl Iterator<Item = (Token<'v>, &'v Val<'a>)> + Clone> {
    let (arr, obj): (&'v [Val<'a>], &'v [(Cow<'a, str>, Val<'a>)]) = match v {
        Val::Arr(a) if !cl.over_values => (a, &[]),
        Val::Obj(o) if cl.over_values => (&[], o),
        _ => return None,
    };
    let from_arr = arr.iter().enumerate().map(|(i, e)| (Token::Index(i), e));
    let from_obj = obj.iter().map(|(k, e)| (Token::Key(k.as_ref()), e));
    Some(from_arr.chain(from_obj))
}

fn list_expected_for(cl: &Clause, v: &Val<'_>, ptr: &str) -> Reason {
    if cl.over_values {
        Reason {
            pointer: shared_pointer(ptr),
            found: Some(v.to_json_short()),
            expected: format!("an object (found {})", v.a_type()).into(),
            note: None,
            unread: String::new(),
        }
    } else {
        list_expected(v, ptr)
    }
}

fn quantify<'x: 't, 't>(
    cl: &'t Clause,
    q: Quant,
    inner: &'t Cond,
    v: &Val<'_>,
    env: &'t Env<'x>,
    out: Option<&mut Vec<Reason>>,
    ptr: &str,
) -> bool {
    let Some(items) = elements(cl, v) else {
        if let Some(out) = out {
            out.push(list_expected_for(cl, v, ptr));
        }
        return false;
    };
    let Some(out) = out else {
        let mut it = items.map(|(_, e)| eval(inner, env, Some(element(e, "")), None));
        return match q {
            Quant::All => it.all(|b| b),
            Quant::Any => it.any(|b| b),
            Quant::None => !it.any(|b| b),
        };
    };
    // Outcomes first (fast path); reasons only from the elements that decide.
    let results: Vec<bool> = items
        .clone()
        .map(|(_, e)| eval(inner, env, Some(element(e, "")), None))
        .collect();
    let any_hit = results.iter().any(|r| *r);
    let outcome = match q {
        Quant::All => results.iter().all(|r| *r),
        Quant::Any => any_hit,
        Quant::None => !any_hit,
    };
    let deciding = match (q, outcome) {
        (Quant::All, false) => Some(false),
        (Quant::None, false) | (Quant::Any, true) => Some(true),
        _ => None,
    };
    let Some(want) = deciding else {
        out.push(Reason {
            pointer: shared_pointer(ptr),
            found: Some(v.to_json_short()),
            expected: cl.expected.clone(),
            note: None,
            unread: String::new(),
        });
        return outcome;
    };
    for ((tok, e), r) in items.zip(results) {
        if r != want {
            continue;
        }
        let mut p = ptr.to_owned();
        tok.push_to(&mut p);
        let mut tmp = Vec::new();
        eval(inner, env, Some(element(e, &p)), Some(&mut tmp));
        if q == Quant::None {
            out.extend(tmp.into_iter().map(Reason::negate));
        } else {
            out.extend(tmp);
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(pointer: &str, unread: &str) -> Reason {
        Reason {
            pointer: pointer.into(),
            found: Some(serde_json::Value::String("not json".into())),
            expected: "a JSON document".into(),
            note: None,
            unread: unread.into(),
        }
    }

    #[test]
    fn reasons_that_differ_only_in_what_was_unread_become_one_entry() {
        let m = "/IdentityProviderConfiguration/Metadata";
        let got = collapse(vec![
            reason(m, "/token_endpoint"),
            reason(m, ""),
            reason(m, "/capabilities"),
            reason(m, "/token_endpoint"),
            reason("/DatastoreStatus", ""),
            reason("/DatastoreStatus", ""),
        ]);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(&*got[0].pointer, m);
        assert_eq!(
            got[0].note.as_deref(),
            Some("so `token_endpoint` and `capabilities` could not be read")
        );
        assert_eq!(&*got[1].pointer, "/DatastoreStatus");
        assert_eq!(got[1].note, None);
        // One reason: with nothing unread it is its own evidence; else the note names it.
        let one = collapse(vec![reason(m, "")]);
        assert_eq!((one.len(), one[0].note.as_deref()), (1, None));
        let one = collapse(vec![reason(m, "/jwks_uri")]);
        assert_eq!(
            one[0].note.as_deref(),
            Some("so `jwks_uri` could not be read")
        );
        assert_eq!(one.capacity(), 1);
    }

    #[test]
    fn pointers_are_shared_up_to_the_bound() {
        // Each test runs on a thread of its own, so this one starts with no pointers kept.
        let a = shared_pointer("/a/b");
        assert!(Arc::ptr_eq(&a, &shared_pointer("/a/b")));
        assert_eq!(&*shared_pointer("/a/c"), "/a/c");
        // What failures say is kept apart from pointers.
        let m = shared_said("/a/b", Vec::new());
        assert!(Arc::ptr_eq(&m, &shared_said("/a/b", Vec::new())));
        for i in 0..SHARED_STRINGS {
            shared_pointer(&format!("/x/{i}"));
        }
        // Beyond the bound a pointer is still right, only no longer shared.
        let (c, d) = (shared_pointer("/y"), shared_pointer("/y"));
        assert_eq!(c, d);
        assert!(!Arc::ptr_eq(&c, &d));
        assert!(Arc::ptr_eq(&a, &shared_pointer("/a/b")));
        // Their bound is their own.
        assert!(Arc::ptr_eq(
            &shared_said("/y", Vec::new()),
            &shared_said("/y", Vec::new())
        ));
    }

    #[test]
    fn what_failures_say_is_shared_when_text_and_evidence_are_the_same() {
        let list = |found: serde_json::Value| {
            vec![Evidence {
                pointer: "/a".into(),
                found: Some(found),
                expected: "equal to 1".into(),
                note: None,
            }]
        };
        let a = shared_said("is 2", list(serde_json::json!({"x": [1, "two", null]})));
        let b = shared_said("is 2", list(serde_json::json!({"x": [1, "two", null]})));
        assert!(Arc::ptr_eq(&a, &b));
        let c = shared_said("is 2", list(serde_json::json!({"x": [1, "two", false]})));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(
            c.evidence(),
            &list(serde_json::json!({"x": [1, "two", false]}))[..]
        );
        // The same evidence with another text is another piece.
        let t = shared_said("is 3", list(serde_json::json!({"x": [1, "two", null]})));
        assert!(!Arc::ptr_eq(&a, &t));
        assert_eq!(t.text(), "is 3");
        // Numbers compare as serde_json compares them: 1 and 1.0 differ.
        let d = shared_said("n", list(serde_json::json!(1)));
        let e = shared_said("n", list(serde_json::json!(1.0)));
        assert!(!Arc::ptr_eq(&d, &e));
        assert_eq!(e.evidence()[0].found, Some(serde_json::json!(1.0)));
    }

    #[test]
    fn negation_round_trips() {
        let r = Reason {
            pointer: "/a".into(),
            found: None,
            expected: "equal to 1".into(),
            note: None,
            unread: String::new(),
        };
        assert_eq!(&*r.clone().negate().expected, "not (equal to 1)");
        assert_eq!(r.clone().negate().negate(), r);
    }
}

//! Parallel evaluation of a compiled policy set over an inventory.
//!
//! Work is split by record (rayon jobs of consecutive records in ARN order): each worker
//! parses a record once, keeping only the fields the set reads (also inside `|json`
//! documents), and evaluates every policy on it, each clause shared by policies once
//! (memoised per record). A PASS or SKIP outcome is a byte written straight into its slot
//! in (policy id, data store ARN) order, and the findings of the other pairs are kept in
//! their job's lists in the same order, so the output is the same whatever the number of
//! threads; [`Evaluation::into_findings`] makes every finding afterwards, when the caller
//! has freed what it no longer needs (a snapshot's text).

use std::cell::{Cell, OnceCell};
use std::sync::Arc;

use hlaudit_model::finding::Subject;
use hlaudit_model::link::{DatastoreIndex, DatastoreOf};
use hlaudit_model::{
    Evidence, Finding, Identity, Inventory, Kind, Record, Said, Source, Status, Timestamp,
};
use rayon::prelude::*;

use crate::cond::Cond;
use crate::eval::{collapse, eval, Reason};
use crate::planned::{self, Shapes};
use crate::resolve::{resolve, Env, JsonDoc, Resolved};
use crate::set::{CompiledPolicy, CompiledPolicySet, Piece};
use crate::value::{parse_record, Val};

/// Options of one evaluation.
#[derive(Debug, Clone, Copy)]
pub struct EvalOptions {
    /// The evaluation time (`--as-of`, else the start of the run): ages and dates are
    /// relative to it.
    pub as_of: Timestamp,
    /// `--unknown fail`: a pair about a planned data store that depends on a value known
    /// only after deploy is FAIL instead of SKIP.
    pub unknown_fails: bool,
}

impl EvalOptions {
    /// Options with this evaluation time.
    pub fn at(as_of: Timestamp) -> Self {
        EvalOptions {
            as_of,
            unknown_fails: false,
        }
    }

    /// These options with `--unknown fail` set or not (builder style).
    pub fn unknown_fails(mut self, fails: bool) -> Self {
        self.unknown_fails = fails;
        self
    }
}

/// A failure's message and evidence, as its data store's label and what it says after
/// it, each possibly shared with other failures.
pub(crate) struct SharedDetail {
    label: Arc<str>,
    said: Arc<Said>,
}

/// The outcome of one policy on one record, before it becomes a [`Finding`] (PASS and
/// SKIP allocate nothing).
pub(crate) struct Outcome {
    pub status: Status,
    pub message: String,
    /// In an audit (see [`evaluate_policy_sharing`]), the message and evidence held for
    /// sharing, in place of `message` and `evidence`.
    pub shared: Option<SharedDetail>,
    pub evidence: Vec<Evidence>,
    /// For a planned data store: the place in the template or plan that decided it.
    pub location: Option<Source>,
    /// For a planned data store: the outcome depends on a value known only after deploy.
    pub undecided: bool,
}

impl Default for Outcome {
    fn default() -> Self {
        Outcome {
            status: Status::Skip,
            message: String::new(),
            shared: None,
            evidence: Vec::new(),
            location: None,
            undecided: false,
        }
    }
}

impl Outcome {
    /// Whether the outcome is its status alone: a finding of it would have no detail.
    fn is_plain(&self) -> bool {
        self.message.is_empty()
            && self.shared.is_none()
            && self.evidence.is_empty()
            && self.location.is_none()
            && !self.undecided
    }

    /// The finding of policy `p` (index `policy` in the set) on record `index`.
    fn into_finding(self, policy: usize, index: usize, p: &CompiledPolicy) -> Finding {
        let mut f = Finding::new(
            policy,
            Subject::Record { index },
            self.status,
            p.meta.severity,
        )
        .with_detail(self.message, self.evidence);
        if let Some(d) = self.shared {
            f.set_labelled(d.label, d.said);
        }
        f.set_location(self.location);
        f.set_undecided(self.undecided);
        f
    }
}

/// Evaluates every policy of `set` on every record of `inventory`, in parallel.
///
/// Returns one finding per (policy, record) pair where the policy applies to the record's
/// kind (see [`CompiledPolicy::applies_to`]; by default a policy applies to data stores
/// only), sorted by (policy id, record identity key, the ARN of an existing data store),
/// with `policy` the index in `set` and `Subject::Record { index }` the index in
/// `inventory.records`. Collection errors of the inventory are not turned into findings
/// here.
///
/// ```
/// use hlaudit_model::{Inventory, Record, Timestamp};
/// use hlaudit_rules::{compile, evaluate, EvalOptions, Overrides, PolicySource};
/// let set = compile(&[PolicySource::from_text("p.yaml", r#"
/// policies:
///   - id: X-1
///     title: Active
///     severity: low
///     description: The data store is active.
///     assert: {path: DatastoreStatus, equals: ACTIVE}
/// "#)], &Overrides::none()).unwrap();
/// let rec = Record::from_value(&serde_json::json!({
///     "DatastoreId": "a", "DatastoreStatus": "CREATING",
///     "DatastoreArn": "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/a"})).unwrap();
/// let inv = Inventory { records: vec![rec], ..Inventory::default() };
/// let findings = evaluate(&set, &inv, EvalOptions::at(Timestamp::now()));
/// assert_eq!(findings[0].status, hlaudit_model::Status::Fail);
/// assert_eq!(&*findings[0].evidence()[0].pointer, "/DatastoreStatus");
/// ```
pub fn evaluate(set: &CompiledPolicySet, inventory: &Inventory, opts: EvalOptions) -> Vec<Finding> {
    evaluate_outcomes(set, inventory, opts).into_findings()
}

/// The outcomes of an evaluation before they become findings: a byte per PASS or SKIP
/// pair, and a finding only for a pair with something to say (a FAIL or ERROR, a planned
/// data store's place). [`Evaluation::into_findings`] makes the findings of
/// [`evaluate`], in its order.
///
/// An audit keeps this while the inventory's text is freed: over 100,000 data stores the
/// findings of PASS and SKIP pairs are 50 MB, the bytes 3 MB, and the snapshot's text (held
/// until every record is evaluated) is gone by the time they are made.
pub struct Evaluation<'s> {
    set: &'s CompiledPolicySet,
    /// The policy of each block of outcomes, in policy id order.
    by_id: Vec<usize>,
    /// The record of each position in a block, in ARN order.
    by_arn: Vec<usize>,
    /// One byte per pair (block * records + position): [`PLAIN_PASS`] or [`PLAIN_SKIP`].
    plain: Vec<u8>,
    /// The findings of the pairs that are more than a status: for each job (a run of
    /// [`CHUNK`] positions), a list for each block, in position order.
    detailed: Vec<Vec<Vec<Finding>>>,
    /// Each record's kind, when some policy does not apply to some kind present: the
    /// pairs of such a policy and record are not findings.
    kinds: Option<Vec<Kind>>,
}

/// The records of one job of the evaluation: consecutive in ARN order.
const CHUNK: usize = 256;
const PLAIN_SKIP: u8 = 0;
const PLAIN_PASS: u8 = 1;

impl Evaluation<'_> {
    /// How many findings [`Evaluation::into_findings`] makes (an upper bound when some
    /// policy does not apply to some kind present).
    pub fn len(&self) -> usize {
        self.plain.len()
    }

    /// Whether there are no pairs at all.
    pub fn is_empty(&self) -> bool {
        self.plain.is_empty()
    }

    /// The findings, sorted as [`evaluate`] describes.
    ///
    /// Made in two passes on every core: every pair as its status, then the findings
    /// with more to say in their places.
    pub fn into_findings(self) -> Vec<Finding> {
        let n = self.by_arn.len();
        let mut out = Vec::with_capacity(self.plain.len());
        if n == 0 {
            return out;
        }
        let (set, by_id, by_arn) = (self.set, &self.by_id, &self.by_arn);
        out.par_extend(self.plain.par_iter().enumerate().map(|(slot, &code)| {
            let p = by_id[slot / n];
            let status = if code == PLAIN_PASS {
                Status::Pass
            } else {
                Status::Skip
            };
            let index = by_arn[slot % n];
            Finding::new(
                p,
                Subject::Record { index },
                status,
                set.policies[p].meta.severity,
            )
        }));
        // The lists by block.
        let mut by_block: Vec<Vec<Vec<Finding>>> = (0..by_id.len()).map(|_| Vec::new()).collect();
        for job in self.detailed {
            for (b, list) in job.into_iter().enumerate() {
                if !list.is_empty() {
                    by_block[b].push(list);
                }
            }
        }
        // Where each record is in ARN order.
        let mut position = vec![0; n];
        for (j, &r) in by_arn.iter().enumerate() {
            position[r] = j;
        }
        out.par_chunks_mut(n)
            .zip(by_block)
            .for_each(|(block, lists)| {
                for f in lists.into_iter().flatten() {
                    let slot = f.record_index().and_then(|r| block.get_mut(position[r]));
                    if let Some(slot) = slot {
                        *slot = f;
                    }
                }
            });
        if let Some(kinds) = &self.kinds {
            out.retain(|f| {
                f.record_index()
                    .is_none_or(|r| set.policies[f.policy_index()].applies_to(kinds[r]))
            });
        }
        out
    }
}

/// [`evaluate`], keeping the outcomes of PASS and SKIP pairs as a byte each until the
/// caller asks for the findings (see [`Evaluation`]).
pub fn evaluate_outcomes<'s>(
    set: &'s CompiledPolicySet,
    inventory: &Inventory,
    opts: EvalOptions,
) -> Evaluation<'s> {
    let records = &inventory.records;
    let (n, np) = (records.len(), set.policies.len());
    let empty = Evaluation {
        set,
        by_id: Vec::new(),
        by_arn: Vec::new(),
        plain: Vec::new(),
        detailed: Vec::new(),
        kinds: None,
    };
    if n == 0 || np == 0 {
        return empty;
    }
    // The kinds present, in first-seen order. A policy for a kind the inventory does not
    // hold (a job policy over data stores only) gets no slots at all: at a million data
    // stores its block would be a megabyte of placeholders, dropped again.
    let mut kinds: Vec<Kind> = Vec::new();
    for r in records {
        if !kinds.contains(&r.kind()) {
            kinds.push(r.kind());
        }
    }
    let present = |p: &CompiledPolicy| kinds.iter().any(|k| p.applies_to(*k));
    // Report order: policies by id, then records by ARN (then index). Every pair of a
    // present policy gets exactly one slot: rank[p] * n + position of r in ARN order.
    let mut by_id: Vec<usize> = (0..np).filter(|&p| present(&set.policies[p])).collect();
    by_id.sort_by(|a, b| set.policies[*a].meta.id.cmp(&set.policies[*b].meta.id));
    let blocks = by_id.len();
    if blocks == 0 {
        return empty;
    }
    const ABSENT: usize = usize::MAX;
    let mut rank = vec![ABSENT; np];
    for (i, &p) in by_id.iter().enumerate() {
        rank[p] = i;
    }
    // Jobs read their data store's fields; an inventory without jobs indexes nothing.
    let index = if kinds.iter().any(|k| k.belongs_to_datastore()) {
        DatastoreIndex::of(records)
    } else {
        DatastoreIndex::default()
    };
    // Sorting the keys beside the indexes, rather than the indexes by looking each record
    // up, keeps the comparisons in one array.
    let mut keyed: Vec<(std::borrow::Cow<'_, str>, usize)> =
        records.iter().map(Record::key).zip(0..).collect();
    keyed.par_sort_unstable();
    let by_arn: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();

    // The output is cut into jobs of CHUNK consecutive records (in ARN order); a job owns
    // its records' bytes in every policy's block, so workers write them straight into
    // their final place, and keeps the findings of its pairs with more to say.
    let mut plain = vec![PLAIN_SKIP; blocks * n];
    let mut jobs: Vec<(&[usize], Vec<&mut [u8]>)> = by_arn
        .chunks(CHUNK)
        .map(|c| (c, Vec::with_capacity(blocks)))
        .collect();
    for block in plain.chunks_mut(n) {
        let mut rest = block;
        for (recs, slots) in jobs.iter_mut() {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(recs.len());
            slots.push(head);
            rest = tail;
        }
    }
    let detailed: Vec<Vec<Vec<Finding>>> = jobs
        .into_par_iter()
        .map(|(recs, mut slots)| {
            let mut detailed: Vec<Vec<Finding>> = (0..blocks).map(|_| Vec::new()).collect();
            for (k, &r) in recs.iter().enumerate() {
                let rec = &records[r];
                let mut put = |p: usize, o: Outcome| {
                    let b = rank[p];
                    if b == ABSENT {
                        return;
                    }
                    match o.status {
                        Status::Pass if o.is_plain() => slots[b][k] = PLAIN_PASS,
                        Status::Skip if o.is_plain() => slots[b][k] = PLAIN_SKIP,
                        _ => detailed[b].push(o.into_finding(p, r, &set.policies[p])),
                    }
                };
                if rec.identity().is_planned() {
                    let shapes = Shapes::of(rec);
                    for (p, policy) in set.policies.iter().enumerate() {
                        let o = if policy.applies_to(rec.kind()) {
                            planned::outcome(set, policy, &shapes, opts)
                        } else {
                            Outcome::default()
                        };
                        put(p, o);
                    }
                    continue;
                }
                let datastore = match index.datastore_of(records, rec) {
                    DatastoreOf::Found(d) => Some(&records[d]),
                    _ => None,
                };
                with_env(set, rec, datastore, opts, |env| {
                    for (p, policy) in set.policies.iter().enumerate() {
                        let o = match &env {
                            // A policy for another kind: the pair is dropped when the
                            // findings are made.
                            _ if !policy.applies_to(rec.kind()) => Outcome::default(),
                            Ok(env) => evaluate_policy_sharing(policy, rec, env),
                            Err(e) => unreadable(rec, e),
                        };
                        put(p, o);
                    }
                });
            }
            for list in &mut detailed {
                list.shrink_to_fit();
            }
            detailed
        })
        .collect();
    // Only an inventory that mixes kinds, with a policy for some of them, has pairs to
    // drop; an audit of data stores pays nothing for kinds.
    let all_apply = kinds
        .iter()
        .all(|k| by_id.iter().all(|&p| set.policies[p].applies_to(*k)));
    Evaluation {
        set,
        by_id,
        by_arn,
        plain,
        detailed,
        kinds: (!all_apply).then(|| records.iter().map(Record::kind).collect()),
    }
}

pub(crate) fn unreadable(rec: &Record, e: &str) -> Outcome {
    Outcome {
        status: Status::Error,
        message: format!(
            "{}: the record could not be read for evaluation: {e}",
            store_label(rec)
        ),
        evidence: vec![Evidence {
            pointer: std::sync::Arc::from(""),
            found: None,
            expected: format!("a readable {} JSON object", rec.kind().api_shape()).into(),
            note: None,
        }],
        ..Outcome::default()
    }
}

/// Builds the evaluation environment of one record and runs `f` with it. `datastore` is
/// the data store a job belongs to (see [`hlaudit_model::link`]): the job's `@datastore`,
/// and where its account, region, partition and tags come from.
pub(crate) fn with_env<T>(
    set: &CompiledPolicySet,
    rec: &Record,
    datastore: Option<&Record>,
    opts: EvalOptions,
    f: impl FnOnce(Result<&Env<'_>, String>) -> T,
) -> T {
    let shared = &set.shared;
    let root = match parse_record(rec.raw_json(), &shared.trie) {
        Ok(v) => v,
        Err(e) => return f(Err(e.to_string())),
    };
    // The data store was read whole when it was built; a failure here would be its own
    // finding, and leaves the job's `@datastore` absent.
    let store_fields = match datastore {
        Some(d) if shared.uses_datastore => parse_record(d.raw_json(), &shared.datastore_trie)
            .ok()
            .map(|v| (d, v)),
        Some(d) => Some((d, Val::Obj(Vec::new()))),
        None => None,
    };
    let store = store_fields.as_ref().map(|(d, v)| (*d, v));
    let tags = if shared.uses_tags {
        rec.tags
            .as_ref()
            .or(datastore.and_then(|d| d.tags.as_ref()))
            .map(Val::from_tags)
    } else {
        None
    };
    let enrichments = if shared.uses_enrichments {
        Val::Obj(
            rec.enrichments
                .iter()
                .map(|(k, v)| (std::borrow::Cow::Borrowed(k.as_str()), Val::from_json(v)))
                .collect(),
        )
    } else {
        Val::Obj(Vec::new())
    };
    let json: Vec<OnceCell<JsonDoc<'_>>> = (0..shared.json_points.len())
        .map(|_| OnceCell::new())
        .collect();
    let memo = vec![Cell::new(0u8); shared.memo_slots()];
    let env = Env {
        label: OnceCell::new(),
        memo: &memo,
        rec,
        root: &root,
        datastore: store,
        tags: tags.as_ref(),
        enrichments: &enrichments,
        json: &json,
        json_points: &shared.json_points,
        json_tries: &shared.json_tries,
        as_of: opts.as_of,
    };
    f(Ok(&env))
}

/// Evaluates one policy (or a test variant's conditions) in an environment.
pub(crate) fn evaluate_policy(
    p: &CompiledPolicy,
    applies: &Option<Cond>,
    assert: &Cond,
    rec: &Record,
    env: &Env<'_>,
) -> Outcome {
    evaluate_policy_as(p, applies, assert, rec, env, false)
}

/// [`evaluate_policy`] for an audit: a failure's message is held as the record's label,
/// made once and shared by the record's failures, and what it says after it with its
/// evidence, shared by the failures of this thread that say and find the same (see
/// [`crate::eval::shared_said`]). Half a million failures of a large audit then hold a
/// few thousand of these rather than one each.
fn evaluate_policy_sharing(p: &CompiledPolicy, rec: &Record, env: &Env<'_>) -> Outcome {
    evaluate_policy_as(p, &p.applies, &p.assert, rec, env, true)
}

fn evaluate_policy_as(
    p: &CompiledPolicy,
    applies: &Option<Cond>,
    assert: &Cond,
    rec: &Record,
    env: &Env<'_>,
    share: bool,
) -> Outcome {
    if let Some(a) = applies {
        if !eval(a, env, None, None) {
            return Outcome::default();
        }
    }
    if eval(assert, env, None, None) {
        return Outcome {
            status: Status::Pass,
            ..Outcome::default()
        };
    }
    let mut reasons: Vec<Reason> = Vec::new();
    eval(assert, env, None, Some(&mut reasons));
    let evidence = collapse(reasons);
    // The message (`Data store NAME (ID): ...`) is written into a buffer kept by the
    // thread and copied out at its length: one allocation, with no spare room (or none,
    // when shared).
    MESSAGE.with_borrow_mut(|buf| {
        buf.clear();
        if share {
            render_message(p, env, buf);
            let label = env.label.get_or_init(|| Arc::from(store_label(rec)));
            return Outcome {
                status: Status::Fail,
                shared: Some(SharedDetail {
                    label: Arc::clone(label),
                    said: crate::eval::shared_said(buf, evidence),
                }),
                ..Outcome::default()
            };
        }
        push_store_label(rec, buf);
        buf.push_str(": ");
        render_message(p, env, buf);
        Outcome {
            status: Status::Fail,
            message: String::from(buf.as_str()),
            evidence,
            ..Outcome::default()
        }
    })
}

thread_local! {
    static MESSAGE: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// `Data store NAME (ID)` or `Data store ID`.
pub(crate) fn store_label(rec: &Record) -> String {
    let mut s = String::new();
    push_store_label(rec, &mut s);
    s
}

/// `Data store NAME (ID)`, `Export job NAME (ID)`, or for a data store a template or plan
/// will create, `Planned data store NAME (ADDRESS in FILE)`.
pub(crate) fn push_store_label(rec: &Record, s: &mut String) {
    use std::fmt::Write as _;
    let planned = match rec.identity() {
        Identity::Planned(p) => {
            let mut at = format!("{} in {}", p.address, p.file);
            // A CDK construct path is what the developer knows the resource by.
            if let Some(c) = rec.plan().and_then(|d| d.names.get("construct")) {
                let _ = write!(at, ", construct {c}");
            }
            Some(at)
        }
        _ => None,
    };
    let noun = rec.kind().noun();
    if planned.is_some() {
        s.push_str("Planned ");
        s.push_str(noun);
    } else {
        let mut chars = noun.chars();
        if let Some(first) = chars.next() {
            s.extend(first.to_uppercase());
        }
        s.push_str(chars.as_str());
    }
    s.push(' ');
    let id = planned.as_deref().or(rec.id()).unwrap_or("");
    match rec.name() {
        Some(n) if !n.is_empty() => {
            let _ = write!(s, "{n} ({id})");
        }
        _ => s.push_str(id),
    }
}

fn render_message(p: &CompiledPolicy, env: &Env<'_>, s: &mut String) {
    use std::fmt::Write as _;
    if p.message.is_empty() {
        s.push_str(&p.meta.title);
        return;
    }
    for piece in &p.message {
        // Writing to a String cannot fail.
        let _ = match piece {
            Piece::Text(t) => s.write_str(t),
            Piece::Path(path) => match resolve(path, env, None, None) {
                Resolved::Present(v) => write!(s, "{}", v.get()),
                Resolved::Absent => s.write_str("<not present>"),
                Resolved::Bad { found, .. } => write!(s, "{found}"),
            },
        };
    }
}

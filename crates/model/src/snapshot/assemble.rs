//! One inventory from the records and summaries of several inputs, and what happens when
//! two inputs hold the same data store.
//!
//! The same `DatastoreArn` seen twice with the same content is kept once with a
//! `duplicate-arn` warning. Seen twice with different content, hlaudit cannot know which
//! one describes the data store as it is: a gate that picked one silently could pass a
//! non-compliant data store, so by default it is an input error naming both places and the
//! first difference, unless the caller chose a side ([`DuplicatePolicy`]). What one copy
//! knows and the other does not (tags of a listing that has none, enrichments) is not a
//! difference: the kept record gets both.
//!
//! When the caller says the list outputs are every page of their listings
//! ([`ReadOptions::pages_complete`]), each list output's `NextToken` error is set aside and
//! the pages are settled together once all are read (see `listing`).

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::Value;

use super::error::{ConflictingCopies, ErrorKind, SnapshotError, SnapshotErrors};
use super::listing::{self, Page};
use super::{FileSummary, ReadOptions, Shape};
use crate::inventory::{Inventory, Warning};
use crate::kind::Kind;
use crate::record::{Record, Source};
use crate::timestamp::Timestamp;

/// Which copy counts when two inputs hold the same data store with different content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DuplicatePolicy {
    /// An input error naming both places and the first difference (the default).
    #[default]
    Refuse,
    /// The copy read first (in the order the inputs were given).
    First,
    /// The copy read last.
    Last,
    /// The copy from the most recently collected input (an hlaudit snapshot's
    /// `collectedAt`); an input error when either input does not say when, or both say
    /// the same time.
    Latest,
}

/// Builds one inventory from the records and summaries of several inputs.
#[derive(Default)]
pub(crate) struct Assembler {
    inv: Inventory,
    policy: DuplicatePolicy,
    /// Hash of an ARN -> index in `inv.records` of the first record with that hash (a
    /// hash rather than the ARN saves a copy of every ARN; records are compared by ARN).
    seen: HashMap<u64, usize>,
    /// Further records whose ARN hash collides with a different ARN's (rare).
    collided: HashMap<u64, Vec<usize>>,
    /// The input each record of `inv.records` came from (an index into `collected_at`).
    record_input: Vec<u32>,
    /// Each input's collection time, in the order the inputs were read.
    collected_at: Vec<Option<Timestamp>>,
    /// Later copies of a kept record: its index, the copy, and the copy's input. They are
    /// settled once every input has been read (an input says when it was collected
    /// anywhere in its text).
    copies: Vec<(usize, Record, u32)>,
    /// Whether the caller vouches that the list outputs are every page of their listings.
    pages_complete: bool,
    /// With `pages_complete`: the places of the records of the input being read (see
    /// `listing::Place`).
    current_places: BTreeSet<listing::Place>,
    /// With `pages_complete`: the list outputs read so far.
    pages: Vec<Page>,
}

/// FNV-1a: quick, and good enough to spread identity keys (collisions are checked).
fn arn_hash(arn: &str) -> u64 {
    arn.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Assembler {
    pub(crate) fn new(options: ReadOptions) -> Self {
        Assembler {
            policy: options.duplicates,
            pages_complete: options.pages_complete,
            ..Assembler::default()
        }
    }

    /// Takes a record of the input being read (the one after the last [`Assembler::add`]).
    pub(crate) fn push(&mut self, r: Record) {
        let input = u32::try_from(self.collected_at.len()).unwrap_or(u32::MAX);
        if self.pages_complete {
            if let Some(place) = listing::place_of(&r) {
                self.current_places.insert(place);
            }
        }
        let key = r.key();
        let h = arn_hash(&key);
        let records = &self.inv.records;
        let same = |i: &usize| records[*i].kind() == r.kind() && records[*i].key() == key;
        let dup = match self.seen.get(&h) {
            None => None,
            Some(i) if same(i) => Some(*i),
            Some(_) => self
                .collided
                .get(&h)
                .and_then(|v| v.iter().copied().find(same)),
        };
        if let Some(i) = dup {
            self.copies.push((i, r, input));
            return;
        }
        let index = self.inv.records.len();
        if index == self.inv.records.capacity() {
            self.reserve_for(&r);
        }
        match self.seen.entry(h) {
            Entry::Vacant(e) => {
                e.insert(index);
            }
            Entry::Occupied(_) => self.collided.entry(h).or_default().push(index),
        }
        self.inv.records.push(r);
        self.record_input.push(input);
    }

    /// Makes room for the records still to come when the records are full: when `r` is a
    /// piece of a whole file, as many as the file holds at the rate read so far (doubling
    /// instead would copy every record several times over a large file), else twice as many.
    fn reserve_for(&mut self, r: &Record) {
        let len = self.inv.records.len();
        let this_input = self
            .record_input
            .iter()
            .rev()
            .take_while(|&&i| usize::try_from(i).ok() == Some(self.collected_at.len()))
            .count();
        let more = match r.shared_position() {
            // `this_input` records end before `end`, of `total` bytes.
            Some((end, total)) if this_input >= 1024 && end > 0 => {
                let expected = this_input.saturating_mul(total) / end;
                expected.saturating_sub(this_input) + expected / 64 + 1
            }
            _ => len.max(8),
        };
        self.inv.records.reserve_exact(more);
    }

    /// Ends an input with its summary.
    pub(crate) fn add(&mut self, mut s: FileSummary) {
        let places = std::mem::take(&mut self.current_places);
        let listed = match s.shape {
            Some(Shape::List) => Some(Kind::Datastore),
            Some(Shape::ResourceList(kind)) if listing::can_vouch(kind) => Some(kind),
            _ => None,
        };
        if let Some(kind) = listed.filter(|_| self.pages_complete) {
            // Settled with the other pages in `finish`.
            s.errors.retain(|e| e.code != "incomplete-listing");
            self.pages.push(Page {
                file: s.name.clone(),
                kind,
                places,
                next_token: s.next_token.take(),
            });
        }
        let cov = &mut self.inv.coverage;
        cov.inputs.push(s.name);
        let mut at = None;
        if let Some(meta) = s.snapshot {
            cov.accounts.extend(meta.accounts);
            cov.regions.extend(meta.regions);
            cov.scopes.extend(meta.scopes);
            at = meta.collected_at;
            cov.collected_at = match (cov.collected_at, meta.collected_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if cov.tool_version.is_none() {
                cov.tool_version = meta.tool_version;
            }
        }
        self.collected_at.push(at);
        self.inv.errors.extend(s.errors);
        self.inv.warnings.extend(s.warnings);
    }

    /// Ends an input with how reading it went; its errors join `errors`.
    pub(crate) fn end_input(
        &mut self,
        result: Result<FileSummary, SnapshotErrors>,
        errors: &mut Vec<SnapshotError>,
    ) {
        match result {
            Ok(summary) => self.add(summary),
            Err(e) => {
                errors.extend(e.0);
                // The input still counts, so later records are told apart from its own.
                self.add(FileSummary::default());
            }
        }
    }

    /// The inventory, or every error: the inputs' (`errors`), then the conflicting copies
    /// that could not be settled (the records an input handed on before its error count
    /// too, so a file reads the same whole or streamed).
    pub(crate) fn finish_with(
        self,
        mut errors: Vec<SnapshotError>,
    ) -> Result<Inventory, SnapshotErrors> {
        match self.finish() {
            Ok(inv) if errors.is_empty() => Ok(inv),
            Ok(_) => Err(SnapshotErrors(errors)),
            Err(conflicts) => {
                errors.extend(conflicts);
                Err(SnapshotErrors(errors))
            }
        }
    }

    /// The inventory, or the conflicting copies that could not be settled.
    pub(crate) fn finish(mut self) -> Result<Inventory, Vec<SnapshotError>> {
        let mut errors = Vec::new();
        for (i, copy, input) in std::mem::take(&mut self.copies) {
            if let Err(e) = self.settle(i, copy, input) {
                errors.push(*e);
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if self.pages_complete {
            let vouched = listing::vouch(&self.pages);
            self.inv.errors.extend(vouched.errors);
            self.inv.warnings.extend(vouched.warnings);
        }
        // Jobs take their data store's account, region and tags, whichever input held it.
        let unlinked = crate::link::link_to_datastores(&mut self.inv.records);
        self.inv.warnings.extend(unlinked);
        self.inv.refresh_coverage();
        Ok(self.inv)
    }

    /// Settles one later copy of record `i`.
    fn settle(&mut self, i: usize, copy: Record, input: u32) -> Result<(), Box<SnapshotError>> {
        let kept = &self.inv.records[i];
        let place = |s: &Option<Source>| s.as_ref().map_or("?".to_owned(), Source::to_string);
        let (first, second) = (place(&kept.source), place(&copy.source));
        let Some(diff) = difference(kept, &copy) else {
            self.inv.warnings.push(Warning {
                code: "duplicate-arn".to_owned(),
                message: format!(
                    "{} `{}` appears twice with the same content, at {first} and at \
                     {second}; it is audited once",
                    copy.kind().noun(),
                    copy.key()
                ),
                source: copy.source.clone(),
            });
            merge(&mut self.inv.records[i], copy);
            return Ok(());
        };
        let time = |n: u32| self.collected_at.get(n as usize).copied().flatten();
        let take_copy = match self.policy {
            DuplicatePolicy::Refuse => {
                return Err(conflict(&copy, &first, &diff, None));
            }
            DuplicatePolicy::First => false,
            DuplicatePolicy::Last => true,
            DuplicatePolicy::Latest => match (time(self.record_input[i]), time(input)) {
                (Some(a), Some(b)) if a != b => b > a,
                (a, b) => {
                    let why = if a.is_some() && b.is_some() {
                        "both inputs were collected at the same time".to_owned()
                    } else {
                        let missing = if a.is_none() { &first } else { &second };
                        format!(
                            "the input of the copy at {missing} does not say when it was \
                             collected (only hlaudit snapshots do)"
                        )
                    };
                    return Err(conflict(&copy, &first, &diff, Some(&why)));
                }
            },
        };
        let (used, ignored) = if take_copy {
            (&second, &first)
        } else {
            (&first, &second)
        };
        self.inv.warnings.push(Warning {
            code: "conflicting-duplicate".to_owned(),
            message: format!(
                "{} `{}` appears twice with different content ({diff}); the copy at \
                 {used} is audited and the one at {ignored} ignored, as chosen",
                copy.kind().noun(),
                copy.key()
            ),
            source: copy.source.clone(),
        });
        if take_copy {
            self.inv.records[i] = copy;
            self.record_input[i] = input;
        }
        Ok(())
    }
}

/// The input error for two copies that differ.
fn conflict(copy: &Record, first: &str, diff: &str, why: Option<&str>) -> Box<SnapshotError> {
    let (file, line, column) = match &copy.source {
        Some(s) => (Arc::clone(&s.file), s.line as usize, s.column as usize),
        None => (Arc::from("?"), 0, 0),
    };
    let hint = match why {
        Some(why) => format!(
            "--on-duplicate latest cannot decide: {why}; drop the stale input, or choose with \
             --on-duplicate first or last"
        ),
        None => format!(
            "the inputs disagree about this {}: drop the stale input, or choose which copy \
             counts with --on-duplicate first, last or latest (the most recently collected \
             hlaudit snapshot)",
            copy.kind().noun()
        ),
    };
    Box::new(
        SnapshotError::new(
            &file,
            line,
            column,
            ErrorKind::ConflictingDuplicate(Box::new(ConflictingCopies {
                kind: copy.kind(),
                arn: copy.key().into_owned(),
                first: first.to_owned(),
                difference: diff.to_owned(),
            })),
        )
        .with_hint(hint),
    )
}

/// Where two copies of a data store first differ, said for people; `None` when they agree
/// (tags or enrichments known to one copy only are not a difference).
fn difference(a: &Record, b: &Record) -> Option<String> {
    if a.raw_json() != b.raw_json() {
        let (pa, pb) = (a.properties(), b.properties());
        if let Some(d) = first_difference(&pa, &pb, &mut String::new()) {
            return Some(d);
        }
    }
    if let (Some(ta), Some(tb)) = (&a.tags, &b.tags) {
        let keys = ta.keys().chain(tb.keys().filter(|k| !ta.contains_key(*k)));
        for k in keys {
            let (x, y) = (ta.get(k), tb.get(k));
            if x != y {
                return Some(format!(
                    "tag `{k}` is {} against {}",
                    shown(x.map(|s| Value::String(s.clone())).as_ref()),
                    shown(y.map(|s| Value::String(s.clone())).as_ref())
                ));
            }
        }
    }
    for (k, x) in &a.enrichments {
        if let Some(y) = b.enrichments.get(k) {
            let mut ptr = format!("@enrichments/{k}");
            if let Some(d) = first_difference(x, y, &mut ptr) {
                return Some(d);
            }
        }
    }
    None
}

/// Fills in what `kept` does not know from an identical `copy`.
fn merge(kept: &mut Record, copy: Record) {
    if kept.tags.is_none() {
        kept.tags = copy.tags;
    }
    for (k, v) in copy.enrichments {
        kept.enrichments.entry(k).or_insert(v);
    }
}

/// The first place where `a` and `b` differ, as `` `/pointer` is X against Y ``.
/// Timestamps count as equal when they name the same instant, however they are written
/// (AWS CLI v1 prints epoch seconds, v2 ISO 8601).
fn first_difference(a: &Value, b: &Value, ptr: &mut String) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys = x.keys().chain(y.keys().filter(|k| !x.contains_key(*k)));
            for k in keys {
                let len = ptr.len();
                ptr.push('/');
                ptr.push_str(&k.replace('~', "~0").replace('/', "~1"));
                let d = match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => first_difference(p, q, ptr),
                    (p, q) => Some(described(ptr, p, q)),
                };
                if d.is_some() {
                    return d;
                }
                ptr.truncate(len);
            }
            None
        }
        (Value::Array(x), Value::Array(y)) => {
            for (n, (p, q)) in x.iter().zip(y).enumerate() {
                let len = ptr.len();
                ptr.push('/');
                ptr.push_str(&n.to_string());
                if let Some(d) = first_difference(p, q, ptr) {
                    return Some(d);
                }
                ptr.truncate(len);
            }
            if x.len() == y.len() {
                None
            } else {
                Some(format!(
                    "`{}` has {} elements against {}",
                    at(ptr),
                    x.len(),
                    y.len()
                ))
            }
        }
        _ if a == b || same_instant(a, b) => None,
        _ => Some(described(ptr, Some(a), Some(b))),
    }
}

fn at(ptr: &str) -> &str {
    if ptr.is_empty() {
        "/"
    } else {
        ptr
    }
}

fn described(ptr: &str, a: Option<&Value>, b: Option<&Value>) -> String {
    format!("`{}` is {} against {}", at(ptr), shown(a), shown(b))
}

/// A value for a message: short JSON, or "absent".
fn shown(v: Option<&Value>) -> String {
    match v {
        None => "absent".to_owned(),
        Some(v) => {
            let text = v.to_string();
            match text.char_indices().nth(80) {
                Some((i, _)) => format!("{}...", &text[..i]),
                None => text,
            }
        }
    }
}

/// Whether two scalars are one timestamp written two ways (epoch seconds and ISO 8601).
fn same_instant(a: &Value, b: &Value) -> bool {
    // One side a number, the other a date-time string (not a number in quotes).
    let date_text = |v: &Value| v.as_str().is_some_and(|s| s.trim().parse::<f64>().is_err());
    if !(a.is_number() && date_text(b) || date_text(a) && b.is_number()) {
        return false;
    }
    match (Timestamp::from_json(a), Timestamp::from_json(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn rec(id: &str, extra: Value) -> Record {
        let arn = format!("arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/{id}");
        let mut v = serde_json::json!({"DatastoreId": id, "DatastoreArn": arn});
        if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
            o.extend(e);
        }
        Record::from_value(&v).unwrap()
    }

    fn at(r: Record, file: &str) -> Record {
        r.with_source(Source {
            file: Arc::from(file),
            line: 1,
            column: 1,
        })
    }

    fn summary(name: &str, collected: Option<&str>) -> FileSummary {
        FileSummary {
            name: name.to_owned(),
            snapshot: collected.map(|t| super::super::SnapshotMeta {
                version: 1,
                collected_at: Some(Timestamp::parse(t).unwrap()),
                ..Default::default()
            }),
            ..FileSummary::default()
        }
    }

    /// Two inputs holding data store `a`, the second with another key type.
    fn two_inputs(policy: DuplicatePolicy, times: [Option<&str>; 2]) -> Assembler {
        let mut asm = Assembler::new(ReadOptions {
            duplicates: policy,
            ..ReadOptions::default()
        });
        let kms = |t: &str| serde_json::json!({"SseConfiguration": {"KmsEncryptionConfig": {"CmkType": t}}});
        asm.push(at(rec("a", kms("CUSTOMER_MANAGED_KMS_KEY")), "one.json"));
        asm.add(summary("one.json", times[0]));
        asm.push(at(rec("a", kms("AWS_OWNED_KMS_KEY")), "two.json"));
        asm.add(summary("two.json", times[1]));
        asm
    }

    fn cmk(inv: &Inventory) -> String {
        inv.records[0].properties()["SseConfiguration"]["KmsEncryptionConfig"]["CmkType"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn differing_copies_are_an_error_naming_both_places_and_the_difference() {
        let errs = two_inputs(DuplicatePolicy::Refuse, [None, None])
            .finish()
            .unwrap_err();
        assert_eq!(errs.len(), 1);
        let text = errs[0].render();
        assert!(text.contains("one.json:1:1"), "{text}");
        assert!(text.contains("two.json:1:1"), "{text}");
        assert!(
            text.contains("`/SseConfiguration/KmsEncryptionConfig/CmkType` is \"CUSTOMER_MANAGED_KMS_KEY\" against \"AWS_OWNED_KMS_KEY\""),
            "{text}"
        );
        assert!(text.contains("--on-duplicate"), "{text}");
    }

    #[test]
    fn first_last_and_latest_pick_a_side_with_a_warning() {
        let t = [Some("2026-01-01T00:00:00Z"), Some("2026-02-01T00:00:00Z")];
        for (policy, times, want) in [
            (
                DuplicatePolicy::First,
                [None, None],
                "CUSTOMER_MANAGED_KMS_KEY",
            ),
            (DuplicatePolicy::Last, [None, None], "AWS_OWNED_KMS_KEY"),
            (DuplicatePolicy::Latest, t, "AWS_OWNED_KMS_KEY"),
            (
                DuplicatePolicy::Latest,
                [t[1], t[0]],
                "CUSTOMER_MANAGED_KMS_KEY",
            ),
        ] {
            let inv = two_inputs(policy, times).finish().unwrap();
            assert_eq!(inv.records.len(), 1);
            assert_eq!(cmk(&inv), want, "{policy:?}");
            assert_eq!(inv.warnings[0].code, "conflicting-duplicate");
        }
        for times in [[None, t[0]], [t[0], t[0]]] {
            let errs = two_inputs(DuplicatePolicy::Latest, times)
                .finish()
                .unwrap_err();
            assert!(errs[0].render().contains("cannot decide"), "{times:?}");
        }
    }

    #[test]
    fn identical_copies_are_kept_once_and_merge_what_one_knows() {
        let mut asm = Assembler::new(ReadOptions::default());
        asm.push(rec("a", serde_json::json!({"CreatedAt": 1603761064.881})));
        let tags = BTreeMap::from([("env".to_owned(), "prod".to_owned())]);
        asm.push(
            rec(
                "a",
                serde_json::json!({"CreatedAt": "2020-10-27T01:11:04.881000+00:00"}),
            )
            .with_tags(tags.clone()),
        );
        let inv = asm.finish().unwrap();
        assert_eq!(inv.records.len(), 1);
        assert_eq!(inv.records[0].tags.as_ref(), Some(&tags));
        assert_eq!(inv.warnings[0].code, "duplicate-arn");

        let mut asm = Assembler::new(ReadOptions::default());
        let other = BTreeMap::from([("env".to_owned(), "dev".to_owned())]);
        asm.push(rec("a", Value::Null).with_tags(tags));
        asm.push(rec("a", Value::Null).with_tags(other));
        let errs = asm.finish().unwrap_err();
        assert!(
            errs[0]
                .render()
                .contains("tag `env` is \"prod\" against \"dev\""),
            "{}",
            errs[0].render()
        );
    }

    #[test]
    fn arns_with_colliding_hashes_are_told_apart() {
        let mut asm = Assembler::new(ReadOptions::default());
        asm.push(rec("a", Value::Null));
        // Pretend `b` hashes like `a`.
        let hb = arn_hash(&rec("b", Value::Null).key());
        asm.seen.insert(hb, 0);
        asm.push(rec("b", Value::Null));
        assert_eq!(asm.inv.records.len(), 2);
        asm.push(rec("b", Value::Null));
        asm.push(rec("a", Value::Null));
        let inv = asm.finish().unwrap();
        assert_eq!(inv.records.len(), 2);
        let codes: Vec<&str> = inv.warnings.iter().map(|w| w.code.as_str()).collect();
        assert_eq!(codes, vec!["duplicate-arn", "duplicate-arn"]);
    }

    #[test]
    fn the_first_difference_reads_as_a_pointer_and_two_values() {
        let d = |a: Value, b: Value| first_difference(&a, &b, &mut String::new());
        use serde_json::json;
        assert_eq!(d(json!({"a": [1, 2]}), json!({"a": [1, 2]})), None);
        assert_eq!(
            d(json!({"a": [1, 2]}), json!({"a": [1, 3]})).unwrap(),
            "`/a/1` is 2 against 3"
        );
        assert_eq!(
            d(json!({"a": [1]}), json!({"a": [1, 2]})).unwrap(),
            "`/a` has 1 elements against 2"
        );
        assert_eq!(
            d(json!({"a/b": 1}), json!({})).unwrap(),
            "`/a~1b` is 1 against absent"
        );
        assert_eq!(
            d(json!(1.5), json!("1.5")).unwrap(),
            "`/` is 1.5 against \"1.5\""
        );
    }

    #[test]
    fn coverage_keeps_the_earliest_collection_time_and_every_input() {
        let mut asm = Assembler::new(ReadOptions::default());
        let t = |s: &str| Some(Timestamp::parse(s).unwrap());
        for (name, at) in [
            ("b.json", "2026-02-01T00:00:00Z"),
            ("a.json", "2026-01-01T00:00:00Z"),
        ] {
            asm.add(FileSummary {
                name: name.to_owned(),
                snapshot: Some(super::super::SnapshotMeta {
                    version: 1,
                    tool_version: Some(name.to_owned()),
                    collected_at: t(at),
                    accounts: vec!["1".to_owned()],
                    regions: vec!["r".to_owned()],
                    scopes: Vec::new(),
                }),
                ..FileSummary::default()
            });
        }
        let inv = asm.finish().unwrap();
        assert_eq!(inv.coverage.collected_at, t("2026-01-01T00:00:00Z"));
        assert_eq!(inv.coverage.tool_version.as_deref(), Some("b.json"));
        assert_eq!(inv.coverage.inputs, vec!["b.json", "a.json"]);
        assert_eq!(
            (inv.coverage.accounts.len(), inv.coverage.regions.len()),
            (1, 1)
        );
    }
}

//! What every compiled policy of a set shares: the `|json` points, the tries of the fields
//! the set reads, and the per-record memo slots of record-level clauses.
//!
//! The condition compiler fills it in; the engine only reads it.

use std::collections::HashMap;

use crate::clause_key::ClauseKey;
use crate::cond::Clause;
use crate::path::Path;
use crate::value::Trie;

/// What every compiled policy of a set shares: the `|json` points and the field trie.
#[derive(Debug, Default, Clone)]
pub(crate) struct Shared {
    pub json_points: Vec<Path>,
    /// For each `|json` point, the fields of the document the set reads.
    pub json_tries: Vec<Trie>,
    json_ids: HashMap<String, usize>,
    /// Record-level clauses by their compiled form: equal clauses share one memo slot.
    memo_ids: HashMap<ClauseKey, usize>,
    pub trie: Trie,
    /// The fields of a job's data store the set reads through `@datastore`.
    pub datastore_trie: Trie,
    pub uses_tags: bool,
    pub uses_datastore: bool,
    pub uses_enrichments: bool,
}

impl Shared {
    /// The number of memo slots a record needs.
    pub fn memo_slots(&self) -> usize {
        self.memo_ids.len()
    }

    /// The memo slot of a record-level clause: equal clauses get the same slot.
    pub fn memo_slot(&mut self, clause: &Clause) -> usize {
        let next = self.memo_ids.len();
        *self.memo_ids.entry(ClauseKey::of(clause)).or_insert(next)
    }

    /// The number of the `|json` point at `prefix` (the path before `|json`), numbering
    /// it on first use; equal prefixes share one point.
    pub fn json_point(&mut self, prefix: Path) -> usize {
        let key = prefix.text.to_string();
        if let Some(id) = self.json_ids.get(&key) {
            return *id;
        }
        let id = self.json_points.len();
        self.json_points.push(prefix);
        self.json_tries.push(Trie::default());
        self.json_ids.insert(key, id);
        id
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use crate::{compile, Overrides, PolicySource};

    fn memo_slots(policies: &[(&str, &str)]) -> usize {
        let mut text = String::from("policies:\n");
        for (i, (applies, assert)) in policies.iter().enumerate() {
            text.push_str(&format!(
                "  - id: P-{i}\n    title: t\n    severity: low\n    description: d\n    applies_when: {applies}\n    assert: {assert}\n"
            ));
        }
        match compile(
            &[PolicySource::from_text("p.yaml", text)],
            &Overrides::none(),
        ) {
            Ok(set) => set.shared.memo_slots(),
            Err(d) => panic!("{}", d.render(false)),
        }
    }

    #[test]
    fn equal_record_level_clauses_share_one_memo_slot() {
        let live = "{path: DatastoreStatus, not_in: [DELETED, DELETING]}";
        let cmk = "{path: SseConfiguration.KmsEncryptionConfig.CmkType, equals: CUSTOMER_MANAGED_KMS_KEY}";
        assert_eq!(memo_slots(&[(live, cmk), (live, cmk)]), 2);
        // A number is a number however it is written.
        let one = "{path: A, equals: 1}";
        let one_point_zero = "{path: A, equals: 1.0}";
        assert_eq!(memo_slots(&[(one, cmk), (one_point_zero, cmk)]), 2);
    }

    #[test]
    fn clauses_that_differ_anywhere_have_their_own_memo_slots() {
        let cmk = "{path: B, exists: true}";
        let pairs = [
            ("{path: A, equals: 1}", "{path: A, equals: 2}"),
            ("{path: A, equals: 1}", "{path: A, not_equals: 1}"),
            ("{path: A, matches: \"^a\"}", "{path: A, matches: \"^b\"}"),
            ("{path: A, exists: true}", "{path: A, empty: true}"),
            (
                "{path: A, exists: true}",
                "{path: A, exists: true, if_present: true}",
            ),
            ("{path: A.B, exists: true}", "{path: A.C, exists: true}"),
            ("{path: A, older_than: 1d}", "{path: A, older_than: 2d}"),
            ("{path: A, length: {ge: 1}}", "{path: A, length: {gt: 1}}"),
            (
                "{path: A, any: {path: .x, equals: 1}}",
                "{path: A, all: {path: .x, equals: 1}}",
            ),
            (
                "{path: A, any: {path: .x, equals: 1}}",
                "{path: A, any: {path: .x, equals: 2}}",
            ),
            ("{path: A|values, any: true}", "{path: A, any: true}"),
        ];
        for (a, b) in pairs {
            assert_eq!(memo_slots(&[(a, cmk), (b, cmk)]), 3, "{a} / {b}");
        }
    }
}

//! What every compiled policy of a set shares: the `|json` points, the tries of the fields
//! the set reads, and the per-record memo slots of record-level clauses.
//!
//! The compiler fills it in ([`crate::compile_cond`]); the engine only reads it.

use std::collections::HashMap;

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
    memo_ids: HashMap<String, usize>,
    pub trie: Trie,
    pub uses_tags: bool,
    pub uses_enrichments: bool,
}

impl Shared {
    /// The number of memo slots a record needs.
    pub fn memo_slots(&self) -> usize {
        self.memo_ids.len()
    }

    /// The memo slot of a record-level clause: equal clauses get the same slot.
    pub fn memo_slot(&mut self, key: String) -> usize {
        let next = self.memo_ids.len();
        *self.memo_ids.entry(key).or_insert(next)
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

//! Reading one raw JSON value together with where it starts, in either of the two ways
//! an input is parsed: in memory ([`SliceMode`], by pointer arithmetic on values borrowed
//! from the buffer) or as a stream ([`StreamMode`], by asking the input how far serde_json
//! has read).

use std::cell::{Cell, RefCell};
use std::ops::Deref;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::Snippet;
use super::input::{Input, LineIndex};
use super::position::Pos;

/// How positions are found: in memory by pointer arithmetic on borrowed raw values, in a
/// stream by asking the input how far serde_json has read.
pub(crate) trait Mode<'de> {
    /// A raw JSON value as this mode deserializes it.
    type Raw: Deserialize<'de> + Deref<Target = RawValue> + Send;
    /// Called when serde_json has just peeked the first byte of the next value (array
    /// elements and object keys).
    fn mark_peeked(&self) -> Pos;
    /// Called before an object's value, after its colon (nothing peeked yet).
    fn mark_value(&self) -> Pos;
    /// Where a value deserialized after `mark` starts.
    fn locate(&self, mark: Pos, raw: &RawValue) -> Pos;
    /// The raw value as an owned box.
    fn into_box(raw: Self::Raw) -> Box<RawValue>;
    /// The whole input's text, when records can share it instead of copying theirs.
    fn shared_text(&self) -> Option<Arc<String>> {
        None
    }
    /// The text of a line, for an error message.
    fn snippet(&self, line: usize, column: usize) -> Option<Snippet>;
}

/// Positions in a whole input held in memory.
pub(crate) struct SliceMode<'i, 'a> {
    pub(crate) index: &'i LineIndex<'a>,
    pub(crate) base: usize,
    /// The whole input as text, when it is UTF-8.
    pub(crate) text: Option<&'i Arc<String>>,
}

impl<'de> Mode<'de> for SliceMode<'_, '_> {
    type Raw = &'de RawValue;
    fn mark_peeked(&self) -> Pos {
        Pos::default()
    }
    fn mark_value(&self) -> Pos {
        Pos::default()
    }
    fn locate(&self, _mark: Pos, raw: &RawValue) -> Pos {
        self.index
            .pos((raw.get().as_ptr() as usize).saturating_sub(self.base))
    }
    fn into_box(raw: &'de RawValue) -> Box<RawValue> {
        raw.to_owned()
    }
    fn shared_text(&self) -> Option<Arc<String>> {
        self.text.map(Arc::clone)
    }
    fn snippet(&self, line: usize, column: usize) -> Option<Snippet> {
        self.index.snippet(line, column)
    }
}

/// Positions in a stream, found from how far serde_json has read.
pub(crate) struct StreamMode<'a, 'b, 'r> {
    pub(crate) input: &'a RefCell<&'b mut Input<'r>>,
    /// The start of the last value marked: error snippets in it are found from there.
    pub(crate) anchor: Cell<Pos>,
}

impl<'de> Mode<'de> for StreamMode<'_, '_, '_> {
    type Raw = Box<RawValue>;
    fn mark_peeked(&self) -> Pos {
        // serde_json has taken the value's first byte (never a line break) to peek at it.
        let p = self.input.borrow().position();
        let start = Pos {
            line: p.line,
            column: p.column.saturating_sub(1).max(1),
            offset: p.offset.saturating_sub(1),
        };
        self.anchor.set(start);
        start
    }
    fn mark_value(&self) -> Pos {
        // serde_json holds no peeked byte after a colon: the value starts after the
        // whitespace that follows.
        let start = self
            .input
            .borrow_mut()
            .peek_past_ws()
            .unwrap_or_else(|_| self.input.borrow().position());
        self.anchor.set(start);
        start
    }
    fn locate(&self, mark: Pos, _raw: &RawValue) -> Pos {
        mark
    }
    fn into_box(raw: Box<RawValue>) -> Box<RawValue> {
        raw
    }
    fn snippet(&self, line: usize, column: usize) -> Option<Snippet> {
        let mut input = self.input.borrow_mut();
        let anchor = self.anchor.get();
        if line >= anchor.line && anchor.line > 0 {
            if let Some(s) = input.snippet_from(anchor, line, column) {
                return Some(s);
            }
        }
        input.snippet(line, column)
    }
}

/// Deserializes one value as raw text together with where it starts.
pub(crate) struct Positioned<'m, M> {
    pub(crate) mode: &'m M,
    /// Whether serde_json has peeked the value's first byte (array elements, keys).
    pub(crate) peeked: bool,
}

impl<'de, M: Mode<'de>> DeserializeSeed<'de> for Positioned<'_, M> {
    type Value = (M::Raw, Pos);
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let mark = if self.peeked {
            self.mode.mark_peeked()
        } else {
            self.mode.mark_value()
        };
        let raw = M::Raw::deserialize(d)?;
        let pos = self.mode.locate(mark, &raw);
        Ok((raw, pos))
    }
}

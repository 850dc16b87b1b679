//! serde_json's pretty printing (two spaces a level) started at any depth, so a piece of
//! a document (a SARIF run, a slice of results, ASFF findings) can be rendered on its own, in parallel, and spliced
//! into the file byte for byte as `serde_json::to_writer_pretty` would have written it.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::Formatter;

/// Spaces for the indentation of [`Pretty`] (two per level).
const SPACES: &[u8; 64] = &[b' '; 64];

/// serde_json's `PrettyFormatter` with its starting depth as a parameter (serde_json's
/// keeps its depth private). The first line is not indented: the caller writes what
/// comes before the value.
pub(crate) struct Pretty {
    depth: usize,
    has_value: bool,
}

impl Pretty {
    /// A formatter for a value nested `depth` levels deep.
    pub(crate) fn at(depth: usize) -> Self {
        Pretty {
            depth,
            has_value: false,
        }
    }
}

/// Writes the newline and indentation before a line at `depth`.
pub(crate) fn newline(out: &mut (impl Write + ?Sized), depth: usize) -> io::Result<()> {
    out.write_all(b"\n")?;
    let mut width = depth * 2;
    while width > 0 {
        let n = width.min(SPACES.len());
        out.write_all(&SPACES[..n])?;
        width -= n;
    }
    Ok(())
}

/// Appends `value` to `out`, pretty-printed as if nested `depth` levels deep.
pub(crate) fn write_at(
    out: &mut Vec<u8>,
    depth: usize,
    value: &impl Serialize,
) -> serde_json::Result<()> {
    value.serialize(&mut serde_json::Serializer::with_formatter(
        out,
        Pretty::at(depth),
    ))
}

impl Formatter for Pretty {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            newline(w, self.depth)?;
        }
        w.write_all(b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        newline(w, self.depth)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            newline(w, self.depth)?;
        }
        w.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        newline(w, self.depth)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_zero_is_serde_jsons_pretty_printing() {
        let value = serde_json::json!({
            "a": [1, {"b": [], "c": {}}, [[]]],
            "d": {"e": "f\ng", "h": [null, true]},
            "i": []
        });
        let mut ours = Vec::new();
        write_at(&mut ours, 0, &value).unwrap();
        assert_eq!(ours, serde_json::to_vec_pretty(&value).unwrap());
    }

    #[test]
    fn deeper_values_are_indented_after_their_first_line() {
        let value = serde_json::json!({"a": [1, 2], "b": {}});
        let mut ours = Vec::new();
        write_at(&mut ours, 2, &value).unwrap();
        let theirs = String::from_utf8(serde_json::to_vec_pretty(&value).unwrap()).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            theirs.replace('\n', "\n    ")
        );
        let mut deep = Vec::new();
        newline(&mut deep, 40).unwrap();
        assert_eq!(deep.len(), 81);
    }
}

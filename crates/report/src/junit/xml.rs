//! The few pieces of XML the JUnit report is made of, written straight into a buffer
//! that is handed on to the output whenever it fills.
//!
//! The output is byte for byte what `quick_junit` (over `quick_xml`'s indenting writer,
//! four spaces) wrote when the report was built as a tree first: the same sanitising of
//! values (`quick_junit::XmlString`: ANSI escapes and control characters removed), the same
//! five escapes (`&lt; &gt; &amp; &apos; &quot;`, in text and attributes alike), and a
//! line break before every tag except a closing tag that follows text.

use std::io::{self, Write};

/// A buffered XML writer with `quick_xml`'s indentation.
pub(super) struct Xml<'a> {
    buf: Vec<u8>,
    out: &'a mut dyn Write,
    flush_at: usize,
}

impl<'a> Xml<'a> {
    /// A writer into `out` that hands on its buffer whenever it holds `flush_at` bytes.
    pub(super) fn new(out: &'a mut dyn Write, flush_at: usize) -> Self {
        Xml {
            buf: Vec::with_capacity(flush_at.min(1 << 21)),
            out,
            flush_at,
        }
    }

    /// Writes the raw bytes `s` (markup this module already knows is well-formed).
    pub(super) fn raw(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// `\n`, the indentation of `depth`, and `<tag`.
    pub(super) fn open(&mut self, depth: usize, tag: &str) {
        self.indent(depth);
        self.buf.push(b'<');
        self.raw(tag);
    }

    /// ` name="value"`, the value sanitised and escaped.
    pub(super) fn attr(&mut self, name: &str, value: &str) {
        self.buf.push(b' ');
        self.raw(name);
        self.raw("=\"");
        self.escaped(value);
        self.buf.push(b'"');
    }

    /// Ends a start tag.
    pub(super) fn start_done(&mut self) {
        self.buf.push(b'>');
    }

    /// Ends an empty element.
    pub(super) fn empty_done(&mut self) {
        self.raw("/>");
    }

    /// Text content, sanitised and escaped.
    pub(super) fn text(&mut self, s: &str) {
        self.escaped(s);
    }

    /// A closing tag on a line of its own, at `depth`.
    pub(super) fn close(&mut self, depth: usize, tag: &str) {
        self.indent(depth);
        self.close_inline(tag);
    }

    /// A closing tag right after text.
    pub(super) fn close_inline(&mut self, tag: &str) {
        self.raw("</");
        self.raw(tag);
        self.buf.push(b'>');
    }

    /// `<property name=".." value=".."/>` at `depth`.
    pub(super) fn property(&mut self, depth: usize, name: &str, value: &str) {
        self.open(depth, "property");
        self.attr("name", name);
        self.attr("value", value);
        self.empty_done();
    }

    /// Hands on what is buffered, then `bytes` (XML rendered by another writer of this
    /// module, in order).
    pub(super) fn write_rendered(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.buf.len() + bytes.len() < self.flush_at {
            self.buf.extend_from_slice(bytes);
            return Ok(());
        }
        self.flush()?;
        self.out.write_all(bytes)
    }

    /// The buffered XML, for a writer whose output is never used.
    pub(super) fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Hands on whatever is buffered.
    pub(super) fn flush(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    fn indent(&mut self, depth: usize) {
        self.buf.push(b'\n');
        self.buf.resize(self.buf.len() + 4 * depth, b' ');
    }

    /// Several pieces as one value: each escaped in place when all are plain, else
    /// joined and sanitised as a whole (an escape sequence may span two pieces).
    pub(super) fn attr_parts(&mut self, name: &str, parts: &[&str]) {
        self.buf.push(b' ');
        self.raw(name);
        self.raw("=\"");
        if parts.iter().all(|p| is_plain(p)) {
            for p in parts {
                self.escape_plain(p.as_bytes());
            }
        } else {
            self.escaped(&parts.concat());
        }
        self.buf.push(b'"');
    }

    fn escaped(&mut self, value: &str) {
        if is_plain(value) {
            self.escape_plain(value.as_bytes());
        } else {
            let value = quick_junit::XmlString::new(value);
            self.escape_plain(value.as_bytes());
        }
    }

    /// Escapes a value that needs no sanitising.
    fn escape_plain(&mut self, bytes: &[u8]) {
        let mut from = 0;
        while let Some(at) = bytes[from..]
            .iter()
            .position(|b| CLASS[usize::from(*b)] == ESCAPE)
        {
            let i = from + at;
            let entity: &[u8] = match bytes[i] {
                b'<' => b"&lt;",
                b'>' => b"&gt;",
                b'&' => b"&amp;",
                b'\'' => b"&apos;",
                _ => b"&quot;",
            };
            self.buf.extend_from_slice(&bytes[from..i]);
            self.buf.extend_from_slice(entity);
            from = i + 1;
        }
        self.buf.extend_from_slice(&bytes[from..]);
    }
}

const PLAIN: u8 = 0;
const ESCAPE: u8 = 1;
const CONTROL: u8 = 2;
/// The lead byte of U+0080..U+00BF, of which U+0080..U+009F are C1 controls.
const C2: u8 = 3;

/// What each byte of UTF-8 text asks for.
const CLASS: [u8; 256] = {
    let mut t = [PLAIN; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = CONTROL;
        b += 1;
    }
    t[b'\n' as usize] = PLAIN;
    t[b'<' as usize] = ESCAPE;
    t[b'>' as usize] = ESCAPE;
    t[b'&' as usize] = ESCAPE;
    t[b'\'' as usize] = ESCAPE;
    t[b'"' as usize] = ESCAPE;
    t[0xc2] = C2;
    t
};

/// Whether `quick_junit::XmlString` leaves `s` as it is: no C0 control but the line
/// feed (ESC among them) and no C1 control. That type strips ANSI escapes with a
/// terminal parser and then removes control characters; only values that are not plain
/// go through it.
fn is_plain(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes
        .iter()
        .enumerate()
        .all(|(i, &b)| match CLASS[usize::from(b)] {
            CONTROL => false,
            C2 => !matches!(bytes.get(i + 1), Some(0x80..=0x9f)),
            _ => true,
        })
}

/// The value as `quick_junit::XmlString` keeps it.
#[cfg(test)]
pub(super) fn sanitize(s: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    if is_plain(s) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(quick_junit::XmlString::new(s).into_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_agrees_with_quick_junit_on_plain_and_control_text() {
        for s in [
            "plain text, \"quoted\" & <tagged>\nsecond line",
            "a\u{1b}[31mred\u{1b}[0m",
            "tab\there, cr\r, bell\u{7}, del\u{7f}, c1\u{9b}31m, nel\u{85}",
            "é ü 日本 \u{202e} \u{a0}\u{bf}\u{c2}",
            "\u{1b}",
            "",
        ] {
            assert_eq!(
                sanitize(s),
                quick_junit::XmlString::new(s).as_str(),
                "{s:?}"
            );
        }
    }
}

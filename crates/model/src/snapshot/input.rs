//! A byte buffer over one input that knows the line and column of every byte it hands out.
//!
//! Two modes share the code: a whole file read into memory (parsed with serde_json's fast
//! slice reader) and a stream (a file too big to hold, or standard input) read in 64 KiB
//! chunks. In stream mode serde_json pulls bytes one at a time through [`Input::read_into`],
//! so the byte offset and line of everything it has consumed are always known; this is
//! how a record's opening brace is located without holding the file.

use std::cell::Cell;
use std::io::{self, Read};
use std::ops::Deref;
use std::sync::Arc;

use super::error::Snippet;
use super::position::Pos;

const CHUNK: usize = 64 * 1024;
/// How much of the current line stream mode keeps when it refills, for error snippets.
const KEEP_LINE: usize = 4096;

/// The bytes an [`Input`] holds.
enum Buf {
    /// A growing buffer: a stream, or a whole input that is not UTF-8.
    Bytes(Vec<u8>),
    /// A whole input that is UTF-8 text, shared with the records cut out of it.
    Text(Arc<String>),
}

impl Deref for Buf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Buf::Bytes(b) => b,
            Buf::Text(t) => t.as_bytes(),
        }
    }
}

pub(crate) struct Input<'r> {
    src: Option<Box<dyn Read + 'r>>,
    buf: Buf,
    /// Next unread byte in `buf`.
    pos: usize,
    /// Input offset of `buf[0]`.
    base: u64,
    /// 1-based line of `buf[pos]`.
    line: usize,
    /// Input offset of the first byte of the current line.
    line_start: u64,
    eof: bool,
    /// A read error met while serde_json was pulling bytes (it only sees "EOF").
    pub(crate) io_error: Option<io::Error>,
}

impl<'r> Input<'r> {
    /// The whole input, already in memory. UTF-8 text (checked at about 30 GB/s) is held
    /// so that records can share it instead of each copying its own text.
    pub(crate) fn whole(bytes: Vec<u8>) -> Self {
        let buf = match String::from_utf8(bytes) {
            Ok(text) => Buf::Text(Arc::new(text)),
            Err(e) => Buf::Bytes(e.into_bytes()),
        };
        Input {
            src: None,
            buf,
            pos: 0,
            base: 0,
            line: 1,
            line_start: 0,
            eof: true,
            io_error: None,
        }
    }

    /// Reads up to `limit` bytes: when the input ends within them it is held whole (and
    /// parsed the fast way), else it goes on as a stream after what was read.
    pub(crate) fn whole_up_to(mut reader: impl Read + 'r, limit: u64) -> io::Result<Self> {
        let mut prefix = Vec::new();
        (&mut reader).take(limit).read_to_end(&mut prefix)?;
        if (prefix.len() as u64) < limit {
            return Ok(Input::whole(prefix));
        }
        let mut input = Input::stream(reader);
        input.buf = Buf::Bytes(prefix);
        Ok(input)
    }

    /// A stream read in chunks.
    pub(crate) fn stream(reader: impl Read + 'r) -> Self {
        Input {
            src: Some(Box::new(reader)),
            buf: Buf::Bytes(Vec::with_capacity(CHUNK)),
            pos: 0,
            base: 0,
            line: 1,
            line_start: 0,
            eof: false,
            io_error: None,
        }
    }

    /// Whether the whole input is in memory (`rest()` is then everything still unread).
    pub(crate) fn is_whole(&self) -> bool {
        self.src.is_none()
    }

    /// The position of the next unread byte.
    pub(crate) fn position(&self) -> Pos {
        let offset = self.base + self.pos as u64;
        Pos {
            line: self.line,
            column: (offset - self.line_start) as usize + 1,
            offset,
        }
    }

    /// Ensures at least `need` unread bytes are buffered, unless the input ends first.
    fn fill(&mut self, need: usize) -> io::Result<()> {
        while self.buf.len() - self.pos < need && !self.eof {
            let (Some(src), Buf::Bytes(buf)) = (self.src.as_mut(), &mut self.buf) else {
                self.eof = true;
                break;
            };
            if buf.len() + CHUNK > buf.capacity() && self.pos > 0 {
                // Drop what was consumed, keeping the start of the current line (for
                // error snippets) when it is short.
                let line_in_buf = self.line_start.saturating_sub(self.base) as usize;
                let keep_from =
                    if self.line_start >= self.base && self.pos - line_in_buf <= KEEP_LINE {
                        line_in_buf
                    } else {
                        self.pos.saturating_sub(256)
                    };
                buf.drain(..keep_from);
                self.base += keep_from as u64;
                self.pos -= keep_from;
            }
            let len = buf.len();
            buf.resize(len + CHUNK, 0);
            let n = loop {
                match src.read(&mut buf[len..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        buf.truncate(len);
                        return Err(e);
                    }
                }
            };
            buf.truncate(len + n);
            if n == 0 {
                self.eof = true;
            }
        }
        Ok(())
    }

    /// The next byte without consuming it.
    pub(crate) fn peek(&mut self) -> io::Result<Option<u8>> {
        self.fill(1)?;
        Ok(self.buf.get(self.pos).copied())
    }

    /// Up to `n` upcoming bytes without consuming them (fewer at the end of the input).
    pub(crate) fn peek_n(&mut self, n: usize) -> io::Result<&[u8]> {
        self.fill(n)?;
        let end = (self.pos + n).min(self.buf.len());
        Ok(&self.buf[self.pos..end])
    }

    /// Consumes `n` buffered bytes, keeping the line count.
    pub(crate) fn advance(&mut self, n: usize) {
        let end = (self.pos + n).min(self.buf.len());
        for (i, &b) in self.buf[self.pos..end].iter().enumerate() {
            if b == b'\n' {
                self.line += 1;
                self.line_start = self.base + (self.pos + i) as u64 + 1;
            }
        }
        self.pos = end;
    }

    /// Skips a UTF-8 byte order mark, if there is one.
    pub(crate) fn skip_bom(&mut self) -> io::Result<()> {
        if self.peek_n(3)? == b"\xEF\xBB\xBF" {
            self.pos += 3;
            // Columns count from after the mark, as editors show them.
            self.line_start += 3;
        }
        Ok(())
    }

    /// Skips JSON whitespace and returns the next byte, not consumed.
    pub(crate) fn skip_ws(&mut self) -> io::Result<Option<u8>> {
        loop {
            match self.peek()? {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.advance(1),
                other => return Ok(other),
            }
        }
    }

    /// Where the next non-whitespace byte is, without consuming anything (serde_json
    /// counts lines and columns of what it reads itself, so it must read the whitespace).
    pub(crate) fn peek_past_ws(&mut self) -> io::Result<Pos> {
        let mut p = self.position();
        let mut k = 0;
        loop {
            self.fill(k + 1)?;
            match self.buf.get(self.pos + k) {
                Some(b'\n') => {
                    p.line += 1;
                    p.column = 1;
                }
                Some(b' ' | b'\t' | b'\r') => p.column += 1,
                _ => return Ok(p),
            }
            p.offset += 1;
            k += 1;
        }
    }

    /// Takes the next line (without its `\n`), returning where it starts and its bytes.
    /// In stream mode the buffer grows to hold the line, so memory follows the longest line.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<(Pos, std::ops::Range<usize>)>> {
        let mut searched = 0;
        loop {
            let rest = &self.buf[self.pos..];
            if let Some(i) = rest[searched..].iter().position(|&b| b == b'\n') {
                let start = self.position();
                let range = self.pos..self.pos + searched + i;
                self.pos = range.end + 1;
                self.line += 1;
                self.line_start = self.base + self.pos as u64;
                return Ok(Some((start, range)));
            }
            searched = rest.len();
            if self.eof {
                if rest.is_empty() {
                    return Ok(None);
                }
                let start = self.position();
                let range = self.pos..self.buf.len();
                self.pos = self.buf.len();
                return Ok(Some((start, range)));
            }
            // A refill may drop consumed bytes, but `searched` counts from `pos`, which
            // moves with them.
            self.fill(searched + 1)?;
        }
    }

    /// The bytes of a range returned by [`Input::next_line`].
    pub(crate) fn slice(&self, range: std::ops::Range<usize>) -> &[u8] {
        &self.buf[range]
    }

    /// Stream mode: serde_json's byte source. Copies buffered bytes and keeps the line count.
    #[inline]
    pub(crate) fn read_into(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // serde_json asks for one byte at a time.
        if let ([slot], Some(&b)) = (&mut *out, self.buf.get(self.pos)) {
            *slot = b;
            self.pos += 1;
            if b == b'\n' {
                self.line += 1;
                self.line_start = self.base + self.pos as u64;
            }
            return Ok(1);
        }
        if self.pos >= self.buf.len() {
            if let Err(e) = self.fill(1) {
                let kind = e.kind();
                self.io_error = Some(e);
                return Err(io::Error::from(kind));
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.advance(n);
        Ok(n)
    }

    /// Puts back a line taken by [`Input::next_line`] (nothing may have been read since).
    pub(crate) fn unread_line(&mut self, start: Pos, range: std::ops::Range<usize>) {
        self.pos = range.start;
        self.line = start.line;
        self.line_start = start.offset + 1 - start.column as u64;
    }

    /// Whole-file mode: the whole buffer and the index of the next unread byte.
    pub(crate) fn whole_buf(&self) -> (&[u8], usize) {
        (&self.buf, self.pos)
    }

    /// Whole-file mode: the text `whole_buf` shows, when it is UTF-8 (records can then
    /// share it).
    pub(crate) fn whole_text(&self) -> Option<&Arc<String>> {
        match &self.buf {
            Buf::Text(t) if self.src.is_none() => Some(t),
            _ => None,
        }
    }

    /// Stream mode: the bytes read from input offset `from` up to now, while they are
    /// still buffered.
    pub(crate) fn read_since(&self, from: u64) -> Option<&[u8]> {
        let start = usize::try_from(from.checked_sub(self.base)?).ok()?;
        self.buf.get(start..self.pos)
    }

    /// Stream mode: the text of the current line around a column, for an error message
    /// (a syntax error is on the line being read), when the line is still buffered.
    pub(crate) fn snippet(&mut self, line: usize, column: usize) -> Option<Snippet> {
        if line != self.line || self.is_whole() {
            return None;
        }
        // Show a little of what follows the error on the same line.
        let _ = self.fill(160);
        self.snippet_from(self.position(), line, column)
    }

    /// Stream mode: the text of a line at or after a known position (`anchor`, e.g. a
    /// record's opening brace) around a column, when it is still buffered.
    pub(crate) fn snippet_from(&self, anchor: Pos, line: usize, column: usize) -> Option<Snippet> {
        if self.is_whole() || line < anchor.line || anchor.offset < self.base {
            return None;
        }
        let buf = &self.buf;
        let anchor_line_start = anchor.offset + 1 - anchor.column.max(1) as u64;
        let (mut start, mut cut) = if anchor_line_start >= self.base {
            ((anchor_line_start - self.base) as usize, false)
        } else {
            (0, true)
        };
        for _ in anchor.line..line {
            let nl = buf[start..].iter().position(|&b| b == b'\n')?;
            start += nl + 1;
            cut = false;
        }
        let end = buf[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(buf.len(), |i| start + i);
        let column = if cut {
            // The line's start was dropped: the column counts from the first byte kept.
            column.checked_sub((self.base - anchor_line_start) as usize)?
        } else {
            column
        };
        Some(Snippet::new(&buf[start..end], column, cut))
    }
}

/// Whole-file mode: finds the line and column of byte offsets, and the text of lines.
/// Offsets asked for are mostly increasing, so a cursor makes this linear over the file.
pub(crate) struct LineIndex<'a> {
    text: &'a [u8],
    /// (offset scanned to, its line, that line's start offset)
    cursor: Cell<(usize, usize, usize)>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a [u8]) -> Self {
        // Columns on the first line count from after a byte order mark, as editors show
        // them (and as stream mode counts).
        let bom = if text.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        LineIndex {
            text,
            cursor: Cell::new((bom, 1, bom)),
        }
    }

    fn start(&self) -> (usize, usize, usize) {
        let bom = if self.text.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        (bom, 1, bom)
    }

    /// The position of a byte offset.
    pub(crate) fn pos(&self, offset: usize) -> Pos {
        let (mut at, mut line, mut line_start) = self.cursor.get();
        if offset < at {
            (at, line, line_start) = self.start();
        }
        let end = offset.min(self.text.len()).max(at);
        let span = &self.text[at..end];
        // memchr's SIMD search finds the line breaks (a large file is counted once, from
        // record to record, on the thread that splits the records off).
        if let Some(last) = memchr::memrchr(b'\n', span) {
            line += memchr::memchr_iter(b'\n', span).count();
            line_start = at + last + 1;
        }
        self.cursor.set((end, line, line_start));
        Pos {
            line,
            column: offset - line_start + 1,
            offset: offset as u64,
        }
    }

    /// The text of a 1-based line around a column, for an error message.
    pub(crate) fn snippet(&self, line: usize, column: usize) -> Option<Snippet> {
        let start = self.line_start(line)?;
        let end = memchr::memchr(b'\n', &self.text[start..]).map_or(self.text.len(), |i| start + i);
        Some(Snippet::new(&self.text[start..end], column, false))
    }

    /// The byte offset of a 1-based line and column.
    pub(crate) fn offset(&self, line: usize, column: usize) -> Option<usize> {
        Some(self.line_start(line)? + column.checked_sub(1)?)
    }

    fn line_start(&self, line: usize) -> Option<usize> {
        let (at, cur_line, cur_start) = self.cursor.get();
        let (at, mut l, mut ls) = if line < cur_line {
            self.start()
        } else {
            (at, cur_line, cur_start)
        };
        if line == 0 {
            return None;
        }
        if line == l {
            return Some(ls);
        }
        for i in memchr::memchr_iter(b'\n', &self.text[at..]) {
            l += 1;
            ls = at + i + 1;
            if l == line {
                return Some(ls);
            }
        }
        None
    }
}

/// serde_json's view of a stream-mode [`Input`] shared with the visitor that asks for
/// positions.
pub(crate) struct SharedInput<'a, 'b, 'r>(pub &'a std::cell::RefCell<&'b mut Input<'r>>);

impl Read for SharedInput<'_, '_, '_> {
    #[inline]
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.0.borrow_mut().read_into(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `n` bytes per call, to exercise refills.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(out.len()).min(self.0.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn lines(mut input: Input<'_>) -> Vec<(usize, usize, String)> {
        let mut out = Vec::new();
        while let Some((pos, range)) = input.next_line().unwrap() {
            let text = String::from_utf8(input.slice(range).to_vec()).unwrap();
            out.push((pos.line, pos.column, text));
        }
        out
    }

    #[test]
    fn lines_are_the_same_whole_or_streamed_in_any_chunking() {
        let long = "x".repeat(3 * CHUNK + 17);
        let text = format!("a\n\n{long}\r\nlast");
        let whole = lines(Input::whole(text.clone().into_bytes()));
        assert_eq!(whole.len(), 4);
        assert_eq!(whole[2].0, 3);
        assert_eq!(whole[2].2.len(), long.len() + 1); // the \r stays
        for n in [1, 7, CHUNK - 1, CHUNK + 3] {
            let streamed = lines(Input::stream(Trickle(text.as_bytes(), n)));
            assert_eq!(streamed, whole, "chunk {n}");
        }
    }

    #[test]
    fn positions_follow_bytes_read_by_serde_json() {
        let text = "\u{feff}  \n  [1,\n 22]";
        let mut input = Input::stream(Trickle(text.as_bytes(), 2));
        input.skip_bom().unwrap();
        assert_eq!(input.skip_ws().unwrap(), Some(b'['));
        assert_eq!((input.position().line, input.position().column), (2, 3));
        let mut byte = [0u8; 1];
        for _ in 0..5 {
            input.read_into(&mut byte).unwrap();
        }
        // Consumed "[1,\n " : now at "22".
        let p = input.position();
        assert_eq!((p.line, p.column), (3, 2));
        let s = input.snippet(3, 2).unwrap();
        assert_eq!((s.text.as_str(), s.caret), (" 22]", 2));
    }

    #[test]
    fn small_inputs_are_held_whole_and_big_ones_streamed_after_their_start() {
        let text = b"line one\nline two\n";
        let small = Input::whole_up_to(Trickle(text, 3), 100).unwrap();
        assert!(small.is_whole());
        let big = Input::whole_up_to(Trickle(text, 3), 5).unwrap();
        assert!(!big.is_whole());
        let got: Vec<String> = lines(big).into_iter().map(|(_, _, t)| t).collect();
        assert_eq!(got, vec!["line one", "line two"]);
    }

    #[test]
    fn a_line_can_be_put_back() {
        let mut input = Input::whole(b"ab\ncd\n".to_vec());
        let (p, r) = input.next_line().unwrap().unwrap();
        let (p2, r2) = input.next_line().unwrap().unwrap();
        assert_eq!(input.slice(r2.clone()), b"cd");
        input.unread_line(p2, r2);
        assert_eq!(input.position(), p2);
        assert_eq!((p.line, p2.line), (1, 2));
        assert_eq!(input.next_line().unwrap().map(|(p, _)| p.line), Some(2));
        let _ = r;
    }

    #[test]
    fn the_line_index_finds_lines_in_any_order() {
        let text = b"one\ntwo\nthree";
        let index = LineIndex::new(text);
        assert_eq!(index.pos(9).line, 3);
        assert_eq!((index.pos(4).line, index.pos(4).column), (2, 1));
        assert_eq!(index.snippet(3, 2).unwrap().text, "three");
        assert_eq!(index.snippet(1, 1).unwrap().text, "one");
        assert!(index.snippet(4, 1).is_none());
    }
}

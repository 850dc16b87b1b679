//! Writing one SARIF file without building it: the text is written in pieces, in order,
//! as serde_json's pretty printer would write the whole log.
//!
//! A file is its log's envelope (rendered once from serde-sarif's types, with empty
//! `runs` and `results` to splice into) around slices of results. The slices are rendered
//! in parallel (rayon) into buffers, a window at a time, while the previous window is
//! written; each slice's text depends only on its findings, never on the thread that
//! rendered it, so the file is the same byte for byte whatever the thread count. At most
//! two windows of rendered text are held, however large the audit.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::Mutex;

use hlaudit_model::finding::Finding;
use rayon::prelude::*;
use serde_json::json;
use serde_sarif::sarif as s;

use super::location::Uris;
use super::result::SarifResult;
use super::{Plan, RunPlan, SCHEMA_URI};
use crate::pretty::{newline, write_at};
use crate::ReportError;

/// Results rendered into one buffer by one task.
const RESULTS_PER_SLICE: usize = 256;
/// Pieces rendered at once (about 12 MB of text for the built-in pack's results).
const PIECES_PER_WINDOW: usize = 32;

/// Depth of a log's runs, and of a run's results, in the pretty-printed text.
const RUN_DEPTH: usize = 2;
const RESULT_DEPTH: usize = 4;

/// One SARIF file of a report, ready to be written (see [`super::write_each`]).
pub struct PartWriter<'a> {
    plan: &'a Plan<'a>,
    index: usize,
    runs: &'a [RunPlan],
}

/// A piece of a file's text: some of its envelope, or a slice of a run's results.
enum Piece<'a> {
    Text(&'a [u8]),
    Results {
        findings: &'a [&'a Finding],
        /// Whether the slice opens its run's results (no comma before it).
        first: bool,
    },
}

impl<'a> PartWriter<'a> {
    pub(super) fn new(plan: &'a Plan<'a>, index: usize, runs: &'a [RunPlan]) -> Self {
        PartWriter { plan, index, runs }
    }

    /// What to add to the file name before its extension: empty for the first file,
    /// `.2`, `.3`, ... for the others (see [`super::part_path`]).
    pub fn suffix(&self) -> String {
        if self.index == 0 {
            String::new()
        } else {
            format!(".{}", self.index + 1)
        }
    }

    /// Writes the file (pretty-printed JSON, newline-terminated) to `out`. On an error,
    /// `out` holds part of it: write to a temporary file and keep it only on success.
    pub fn write_to(&self, out: &mut dyn Write) -> Result<(), ReportError> {
        let log = serde_json::to_vec_pretty(&log(Vec::new())).map_err(json_error)?;
        let (log_open, log_close) = splice(&log, 0, "runs")?;
        let runs: Vec<(Vec<u8>, Vec<u8>)> = self
            .runs
            .par_iter()
            .enumerate()
            .map(|(i, run)| self.run_envelope(i, run))
            .collect::<Result<_, ReportError>>()?;
        let mut end = Vec::with_capacity(log_close.len() + 8);
        if !runs.is_empty() {
            newline(&mut end, 1).map_err(io_error)?;
        }
        end.extend_from_slice(log_close);
        end.push(b'\n');

        let mut pieces = vec![Piece::Text(log_open)];
        for (run, (head, tail)) in self.runs.iter().zip(&runs) {
            pieces.push(Piece::Text(head));
            for (i, findings) in self
                .plan
                .findings(run)
                .chunks(RESULTS_PER_SLICE)
                .enumerate()
            {
                pieces.push(Piece::Results {
                    findings,
                    first: i == 0,
                });
            }
            pieces.push(Piece::Text(tail));
        }
        pieces.push(Piece::Text(&end));
        self.write_pieces(&pieces, out)
    }

    /// The `i`-th run's text before its results (from the comma after the previous run)
    /// and after them.
    fn run_envelope(&self, i: usize, run: &RunPlan) -> Result<(Vec<u8>, Vec<u8>), ReportError> {
        let mut text = Vec::new();
        write_at(&mut text, RUN_DEPTH, &self.plan.run(run)).map_err(json_error)?;
        let (open, close) = splice(&text, RUN_DEPTH, "results")?;
        let mut head = Vec::with_capacity(open.len() + 8);
        if i > 0 {
            head.push(b',');
        }
        newline(&mut head, RUN_DEPTH).map_err(io_error)?;
        head.extend_from_slice(open);
        let mut tail = Vec::with_capacity(close.len() + 8);
        if !run.results.is_empty() {
            newline(&mut tail, RUN_DEPTH + 1).map_err(io_error)?;
        }
        tail.extend_from_slice(close);
        Ok((head, tail))
    }

    /// Writes the pieces in order, rendering the next window in parallel while the
    /// current one is written.
    fn write_pieces(&self, pieces: &[Piece<'_>], out: &mut dyn Write) -> Result<(), ReportError> {
        let spare = Spare::default();
        let mut windows = pieces.chunks(PIECES_PER_WINDOW);
        let mut current = windows
            .next()
            .map(|w| self.render(w, &spare))
            .unwrap_or_default();
        loop {
            let upcoming = windows.next();
            let mut next = None;
            let written: Result<(), ReportError> = rayon::in_place_scope(|scope| {
                if let Some(window) = upcoming {
                    scope.spawn(|_| next = Some(self.render(window, &spare)));
                }
                current.drain(..).try_for_each(|text| {
                    let text = text?;
                    out.write_all(&text).map_err(io_error)?;
                    if let Cow::Owned(buffer) = text {
                        spare.put(buffer);
                    }
                    Ok(())
                })
            });
            written?;
            match next {
                Some(rendered) => current = rendered,
                None => return Ok(()),
            }
        }
    }

    /// Renders a window of pieces, in parallel.
    fn render<'p>(
        &self,
        window: &'p [Piece<'p>],
        spare: &Spare,
    ) -> Vec<Result<Cow<'p, [u8]>, ReportError>> {
        window
            .par_iter()
            .map(|piece| match piece {
                Piece::Text(text) => Ok(Cow::Borrowed(*text)),
                Piece::Results { findings, first } => {
                    self.results(findings, *first, spare.take()).map(Cow::Owned)
                }
            })
            .collect()
    }

    /// A slice of a run's results, each on its own lines after a comma (but the run's
    /// first), appended to `text`.
    fn results(
        &self,
        findings: &[&Finding],
        first: bool,
        mut text: Vec<u8>,
    ) -> Result<Vec<u8>, ReportError> {
        let report = self.plan.report;
        let mut uris = Uris::new(self.plan.options);
        for (i, f) in findings.iter().enumerate() {
            if i > 0 || !first {
                text.push(b',');
            }
            newline(&mut text, RESULT_DEPTH).map_err(io_error)?;
            write_at(
                &mut text,
                RESULT_DEPTH,
                &SarifResult::new(report, &mut uris, f),
            )
            .map_err(json_error)?;
        }
        Ok(text)
    }

    /// The file as serde-sarif's log (see [`super::logs`]).
    pub(super) fn typed(&self) -> Result<s::Sarif, ReportError> {
        let report = self.plan.report;
        let mut runs = Vec::with_capacity(self.runs.len());
        for plan in self.runs {
            let mut uris = Uris::new(self.plan.options);
            let mut run = self.plan.run(plan);
            run.results = Some(
                self.plan
                    .findings(plan)
                    .iter()
                    .map(|f| SarifResult::new(report, &mut uris, f).typed())
                    .collect::<Result<_, _>>()
                    .map_err(json_error)?,
            );
            runs.push(run);
        }
        Ok(log(runs))
    }
}

/// A log with these runs.
fn log(runs: Vec<s::Run>) -> s::Sarif {
    s::Sarif::builder()
        .schema(SCHEMA_URI)
        .version(json!("2.1.0"))
        .runs(runs)
        .build()
}

/// Buffers of written slices, emptied for the next window: a large file renders hundreds
/// of windows, and fresh buffers would each be new memory to fault in.
#[derive(Default)]
struct Spare(Mutex<Vec<Vec<u8>>>);

impl Spare {
    fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .ok()
            .and_then(|mut buffers| buffers.pop())
            .unwrap_or_default()
    }

    fn put(&self, mut buffer: Vec<u8>) {
        buffer.clear();
        if let Ok(mut buffers) = self.0.lock() {
            buffers.push(buffer);
        }
    }
}

/// Splits the pretty text of an object at `depth` whose array `key` is empty into the
/// text up to and including the array's `[` and the text from its `]`. The key is found
/// as a line of its own at the object's indentation, which no string can hold (strings
/// escape their newlines).
fn splice<'t>(
    text: &'t [u8],
    depth: usize,
    key: &str,
) -> Result<(&'t [u8], &'t [u8]), ReportError> {
    let mut line = Vec::new();
    newline(&mut line, depth + 1).map_err(io_error)?;
    line.extend_from_slice(format!("\"{key}\": []").as_bytes());
    let at = text
        .windows(line.len())
        .position(|w| w == line.as_slice())
        .ok_or_else(|| {
            io_error(io::Error::other(format!(
                "the SARIF envelope has no empty `{key}` array to fill"
            )))
        })?;
    let close = at + line.len() - 1;
    Ok((&text[..close], &text[close..]))
}

fn json_error(source: serde_json::Error) -> ReportError {
    ReportError::Json {
        format: "SARIF",
        source,
    }
}

fn io_error(source: io::Error) -> ReportError {
    ReportError::io("SARIF")(source)
}

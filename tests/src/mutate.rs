//! Mutation testing of the readers of untrusted input: one mutator and one driver shared
//! by every reader's harness (snapshots, policies, waivers, the configuration file, JSON
//! reports, `|json` documents, ARNs, timestamps), in CI and in the long run of
//! `bench/robustness.sh`.
//!
//! The design decision: no coverage guidance (that needs a nightly toolchain), but
//! mutations that start from the real fixtures and aim at what breaks readers of JSON and
//! YAML: truncation at every position, byte flips, structural characters, splices of two
//! files, deep nesting, huge numbers and strings, invalid UTF-8, duplicate keys and byte
//! order marks. Every case is made by its own [`Rng`] seeded from the run's seed and the
//! case number, so any case can be made again alone ([`Budget::only`]).
//!
//! The property checked for each case ([`Verdict`]): the reader returns, without a panic,
//! within a generous time bound, either a result or an error that says where (file and
//! line/column, or field). Each case runs on a thread of its own named after the reader,
//! seed and case, with the 2 MiB stack of a rayon worker, so a stack overflow, which
//! aborts the process and cannot be caught, still names the case that caused it.
//!
//! Failures found are kept as regression cases: the input is written under
//! `target/robustness-failures/` and, once the reader is fixed, copied into
//! `fixtures/robustness/<reader>/`, whose files every run replays before mutating.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A small, fast, deterministic generator (xorshift64*): the same seed gives the same
/// cases on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` (any value; zero is replaced, xorshift needs a set bit).
    pub fn new(seed: u64) -> Self {
        // splitmix64 of the seed, so neighbouring seeds give unrelated streams
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) < num
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The syntax of a reader's input, which decides the structural mutations used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// JSON (and JSON Lines).
    Json,
    /// YAML.
    Yaml,
    /// A short value such as an ARN or a timestamp.
    Value,
}

/// One input to start from: a real fixture (or a value taken from one).
#[derive(Debug, Clone)]
pub struct Seed {
    /// Where it came from, for messages.
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

impl Seed {
    /// A seed read from a file of the repository.
    ///
    /// # Panics
    /// When the file cannot be read: the harness cannot go on without its seeds.
    pub fn file(root: &Path, rel: &str) -> Self {
        let bytes = std::fs::read(root.join(rel))
            .unwrap_or_else(|e| panic!("cannot read the seed {rel}: {e}"));
        Seed {
            name: rel.to_owned(),
            bytes,
        }
    }

    /// A seed from text.
    pub fn text(name: &str, text: &str) -> Self {
        Seed {
            name: name.to_owned(),
            bytes: text.as_bytes().to_vec(),
        }
    }
}

/// A mutated input and how it was made.
#[derive(Debug, Clone)]
pub struct Case {
    /// The mutations applied, in order (for messages).
    pub label: String,
    /// The input.
    pub bytes: Vec<u8>,
    /// Whether a duplicate key was written into it (a reader that accepts it is counted
    /// apart: rejecting duplicate keys is work of its own).
    pub duplicate_key: bool,
}

/// Makes case `index` of a run: a random seed mutated one to three times.
pub fn mutate(seed: u64, index: u64, seeds: &[Seed], syntax: Syntax) -> Case {
    let mut rng = Rng::new(seed ^ index.wrapping_mul(0xA24B_AED4_963E_E407));
    let base = rng.pick(seeds);
    let mut case = Case {
        label: base.name.clone(),
        bytes: base.bytes.clone(),
        duplicate_key: false,
    };
    let rounds = 1 + rng.below(3);
    for _ in 0..rounds {
        let what = mutate_once(&mut rng, &mut case, seeds, syntax);
        case.label.push_str(" | ");
        case.label.push_str(&what);
    }
    case
}

/// The cases that cut `seed` at every position (`every`) or at `samples` random ones.
pub fn truncations<'s>(
    seed: &'s Seed,
    every: bool,
    samples: usize,
    rng: &mut Rng,
) -> impl Iterator<Item = Case> + 's {
    let n = seed.bytes.len();
    let cuts: Vec<usize> = if every {
        (0..n).collect()
    } else {
        (0..samples.min(n)).map(|_| rng.below(n)).collect()
    };
    cuts.into_iter().map(move |at| Case {
        label: format!("{} | truncate at {at}", seed.name),
        bytes: seed.bytes[..at].to_vec(),
        duplicate_key: false,
    })
}

/// Inputs of about 1 MiB made from `seeds`, for the time bound: many copies of a record,
/// one huge string, one huge number, deep nesting.
pub fn big_cases(seeds: &[Seed], syntax: Syntax) -> Vec<Case> {
    const MIB: usize = 1 << 20;
    let mut out = Vec::new();
    let nest = |open: &str, close: &str, n: usize| -> Vec<u8> {
        let mut v = open.repeat(n).into_bytes();
        v.extend(close.repeat(n).bytes());
        v
    };
    out.push(Case {
        label: "100,000 nested `[`, unclosed".to_owned(),
        bytes: b"[".repeat(100_000),
        duplicate_key: false,
    });
    out.push(Case {
        label: "100,000 nested `[]`, closed".to_owned(),
        bytes: nest("[", "]", 100_000),
        duplicate_key: false,
    });
    out.push(Case {
        label: "100,000 nested `{\"a\":`".to_owned(),
        bytes: nest("{\"a\":", "}", 100_000),
        duplicate_key: false,
    });
    if syntax == Syntax::Yaml {
        out.push(Case {
            label: "100,000 nested block sequences `- `".to_owned(),
            bytes: b"- ".repeat(100_000),
            duplicate_key: false,
        });
        // a billion laughs: nine levels of anchors, each aliasing the one before ten times
        let mut laughs = String::from("a0: &a0 [lol]\n");
        for i in 1..10 {
            let prev = format!("*a{}", i - 1);
            let items = [prev.as_str(); 10].join(", ");
            laughs.push_str(&format!("a{i}: &a{i} [{items}]\n"));
        }
        out.push(Case {
            label: "billion laughs (aliases of aliases)".to_owned(),
            bytes: laughs.into_bytes(),
            duplicate_key: false,
        });
    }
    if let Some(first) = seeds.first() {
        let mut repeated = Vec::with_capacity(MIB + first.bytes.len());
        while repeated.len() < MIB {
            repeated.extend_from_slice(&first.bytes);
            repeated.push(b'\n');
        }
        out.push(Case {
            label: format!("{} repeated to 1 MiB", first.name),
            bytes: repeated,
            duplicate_key: false,
        });
    }
    for s in seeds.iter().take(3) {
        let at = s.bytes.len() / 2;
        let mut c = Case {
            label: s.name.clone(),
            bytes: s.bytes.clone(),
            duplicate_key: false,
        };
        insert(
            &mut c.bytes,
            at,
            &format!("\"{}\"", "x".repeat(MIB)).into_bytes(),
        );
        c.label.push_str(" | 1 MiB string in the middle");
        out.push(c);
        let mut c = Case {
            label: s.name.clone(),
            bytes: s.bytes.clone(),
            duplicate_key: false,
        };
        insert(&mut c.bytes, at, "9".repeat(MIB).as_bytes());
        c.label.push_str(" | 1 MiB number in the middle");
        out.push(c);
    }
    out
}

fn insert(bytes: &mut Vec<u8>, at: usize, what: &[u8]) {
    let at = at.min(bytes.len());
    bytes.splice(at..at, what.iter().copied());
}

/// Bytes that mean something to JSON or YAML readers, and some that are never valid.
const INTERESTING: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b",",
    b":",
    b"\\",
    b"\\u",
    b"\\ud800",
    b"-",
    b"0",
    b"1e",
    b".",
    b"\n",
    b"\r",
    b"\t",
    b" ",
    b"\0",
    b"null",
    b"true",
    b"-0",
    b"NaN",
    b"&a",
    b"*a",
    b"!!binary ",
    b"? ",
    b"- ",
    b"---\n",
    b"...\n",
    b"#",
    b"|",
    b">",
    b"'",
    b"%YAML 1.2\n",
    b"<<: ",
    b"~",
];

/// Numbers at and beyond the edges of i64, u64 and f64.
const HUGE_NUMBERS: &[&str] = &[
    "18446744073709551616",
    "-9223372036854775809",
    "1e309",
    "-1e309",
    "1e-400",
    "4.9e-324",
    "1.7976931348623157e308",
    "9223372036854775807",
    "-0",
    "0.0000000000000000000000000000000000000000000000001",
    "123456789012345678901234567890123456789012345678901234567890",
];

/// Byte sequences that are not UTF-8.
const INVALID_UTF8: &[&[u8]] = &[
    b"\xff",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xe2\x82",
    b"\x80",
    b"\xc0\xaf",
    // runs of continuation bytes, at a line start too (the snippet window once started
    // past its column on such a line)
    b"\xbf\xbf\xbf\xbf\xbf\xbf\xbf\xbf",
    b"\n\x80\x81\x82\x83\x84\x85\x86",
];

/// Byte order marks (UTF-8, UTF-16 LE and BE).
const BOMS: &[&[u8]] = &[b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"];

fn mutate_once(rng: &mut Rng, case: &mut Case, seeds: &[Seed], syntax: Syntax) -> String {
    let len = case.bytes.len();
    let at = rng.below(len + 1);
    match rng.below(14) {
        0 => {
            if len == 0 {
                return "flip (empty)".to_owned();
            }
            let i = rng.below(len);
            let bit = 1u8 << rng.below(8);
            case.bytes[i] ^= bit;
            format!("flip bit {bit:#04x} at {i}")
        }
        1 => {
            let what = rng.pick(INTERESTING);
            if len > 0 && rng.chance(1, 2) {
                let i = rng.below(len);
                case.bytes.splice(i..i + 1, what.iter().copied());
                format!("replace byte {i} by {:?}", String::from_utf8_lossy(what))
            } else {
                insert(&mut case.bytes, at, what);
                format!("insert {:?} at {at}", String::from_utf8_lossy(what))
            }
        }
        2 => {
            case.bytes.truncate(at);
            format!("truncate at {at}")
        }
        3 => {
            let n = 1 + rng.below(64.min(len.max(1)));
            let end = (at + n).min(len);
            case.bytes.drain(at..end);
            format!("delete {at}..{end}")
        }
        4 => {
            let other = rng.pick(seeds);
            let cut = rng.below(other.bytes.len() + 1);
            case.bytes.truncate(at);
            case.bytes.extend_from_slice(&other.bytes[cut..]);
            format!("splice at {at} with {} from {cut}", other.name)
        }
        5 => {
            let n = 1 + rng.below(64.min(len.max(1)));
            let start = rng.below(len.max(1));
            let end = (start + n).min(len);
            let chunk = case.bytes[start..end].to_vec();
            insert(&mut case.bytes, at, &chunk);
            format!("copy {start}..{end} to {at}")
        }
        6 => {
            let depth = *rng.pick(&[200usize, 1_000, 10_000, 100_000]);
            let (open, close): (&str, &str) = *rng.pick(&[
                ("[", "]"),
                ("{\"a\":", "}"),
                ("- ", ""),
                ("a:\n ", ""),
                ("[{", "}]"),
            ]);
            let mut chunk = open.repeat(depth).into_bytes();
            if rng.chance(1, 2) {
                chunk.extend(close.repeat(depth).bytes());
            }
            insert(&mut case.bytes, at, &chunk);
            format!("nest {open:?} x{depth} at {at}")
        }
        7 => {
            let n = rng.pick(HUGE_NUMBERS);
            let (i, j) = token_at(&case.bytes, at);
            case.bytes.splice(i..j, n.bytes());
            format!("number {n} at {i}..{j}")
        }
        8 => {
            let n = *rng.pick(&[1_000usize, 65_536, 300_000]);
            let unit = *rng.pick::<&[u8]>(&[b"x", b"\\u0000", b"\\\"", b"\xc3\xa9"]);
            let mut s = vec![b'"'];
            for _ in 0..n / unit.len().max(1) {
                s.extend_from_slice(unit);
            }
            s.push(b'"');
            let (i, j) = token_at(&case.bytes, at);
            case.bytes.splice(i..j, s);
            format!("string of {n} bytes at {i}..{j}")
        }
        9 => {
            let bad = rng.pick(INVALID_UTF8);
            insert(&mut case.bytes, at, bad);
            format!("invalid UTF-8 {bad:x?} at {at}")
        }
        10 => match duplicate_key(rng, &mut case.bytes, syntax) {
            Some(what) => {
                case.duplicate_key = true;
                what
            }
            None => "duplicate key (none found)".to_owned(),
        },
        11 => {
            let bom = rng.pick(BOMS);
            insert(&mut case.bytes, 0, bom);
            format!("BOM {bom:x?}")
        }
        12 => {
            // a whole line duplicated or dropped: list items, records, YAML keys
            let lines: Vec<usize> = line_starts(&case.bytes);
            let i = rng.below(lines.len());
            let start = lines[i];
            let end = lines.get(i + 1).copied().unwrap_or(len);
            if rng.chance(1, 2) {
                case.bytes.drain(start..end);
                format!("drop line {}", i + 1)
            } else {
                let chunk = case.bytes[start..end].to_vec();
                insert(&mut case.bytes, end, &chunk);
                format!("repeat line {}", i + 1)
            }
        }
        _ => {
            // a value replaced by one of another type
            let (i, j) = token_at(&case.bytes, at);
            let v = *rng.pick::<&str>(&[
                "null",
                "[]",
                "{}",
                "true",
                "0",
                "\"\"",
                "-1",
                "[[]]",
                "{\"\":{}}",
                "\"a\"",
            ]);
            case.bytes.splice(i..j, v.bytes());
            format!("value {v} at {i}..{j}")
        }
    }
}

/// Byte offsets where lines start.
fn line_starts(bytes: &[u8]) -> Vec<usize> {
    let mut out = vec![0];
    out.extend(
        bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i + 1),
    );
    out
}

/// The token (a run of bytes that are not JSON/YAML punctuation or space) around `at`.
fn token_at(bytes: &[u8], at: usize) -> (usize, usize) {
    let stop = |b: u8| b" \t\r\n{}[],:\"".contains(&b);
    let at = at.min(bytes.len());
    let mut i = at;
    while i > 0 && !stop(bytes[i - 1]) {
        i -= 1;
    }
    let mut j = at;
    while j < bytes.len() && !stop(bytes[j]) {
        j += 1;
    }
    (i, j)
}

/// Repeats a `"Key": value` member (JSON) or a `key: value` line (YAML) right after
/// itself, with another value, so the key appears twice in one object.
fn duplicate_key(rng: &mut Rng, bytes: &mut Vec<u8>, syntax: Syntax) -> Option<String> {
    let starts = line_starts(bytes);
    let mut candidates = Vec::new();
    for (n, &s) in starts.iter().enumerate() {
        let e = starts.get(n + 1).copied().unwrap_or(bytes.len());
        let line = &bytes[s..e];
        let trimmed: Vec<u8> = line.iter().copied().skip_while(|b| *b == b' ').collect();
        let ok = match syntax {
            Syntax::Json => {
                trimmed.first() == Some(&b'"')
                    && trimmed.windows(3).any(|w| w == b"\": ")
                    && trimmed.ends_with(b",\n")
            }
            Syntax::Yaml => {
                trimmed.first().is_some_and(u8::is_ascii_alphabetic)
                    && trimmed.windows(2).any(|w| w == b": ")
            }
            Syntax::Value => false,
        };
        if ok {
            candidates.push((s, e));
        }
    }
    if candidates.is_empty() {
        return None;
    }
    let (s, e) = *rng.pick(&candidates);
    let line = bytes[s..e].to_vec();
    // the same key with a value of another type, so a reader that keeps the last value
    // sees a different record than one that keeps the first
    let colon = line.windows(2).position(|w| w == b": ")? + 2;
    let mut dup = line[..colon].to_vec();
    dup.extend_from_slice(match syntax {
        Syntax::Json => b"null,\n",
        _ => b"~\n",
    });
    insert(bytes, e, &dup);
    Some(format!(
        "duplicate key {}",
        String::from_utf8_lossy(&line[..colon]).trim()
    ))
}

/// What a reader made of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A valid result.
    Accepted,
    /// An error that says where (the rendering, for messages).
    Located(String),
    /// An error that does not say where: a failure.
    Unlocated(String),
}

/// How many cases a run tries, from the environment.
///
/// - `HLAUDIT_MUTATION_CASES`: random cases per reader (default: the CI budget each
///   harness gives);
/// - `HLAUDIT_MUTATION_SEED`: the run's seed (default a fixed one, so CI is repeatable);
/// - `HLAUDIT_MUTATION_EXHAUSTIVE=1`: truncate every seed at every position;
/// - `HLAUDIT_MUTATION_ONLY=N`: make and run case `N` alone (from a failure message);
/// - `HLAUDIT_MUTATION_BOUND_MS`: the time bound per case (default 20 s, for debug
///   builds on a loaded machine; the long run sets 1 s);
/// - `HLAUDIT_MUTATION_CLI_CASES`: cases per reader run through the binary (each is a
///   process; default the CI budget each harness gives).
#[derive(Debug, Clone)]
pub struct Budget {
    /// Random cases per reader.
    pub cases: u64,
    /// The seed of the run.
    pub seed: u64,
    /// Truncate at every position rather than at sampled ones.
    pub exhaustive: bool,
    /// Run this random case alone.
    pub only: Option<u64>,
    /// The time bound per case.
    pub bound: Duration,
    /// Cases per reader through the binary, when the environment says.
    pub cli_cases: Option<u64>,
}

/// The seed CI uses.
pub const DEFAULT_SEED: u64 = 0x6c61_7564_6974_2021;

impl Budget {
    /// The budget from the environment, with `ci_cases` random cases when it says nothing.
    pub fn from_env(ci_cases: u64) -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let num = |name: &str| {
            var(name).map(|v| {
                let v = v.trim_start_matches("0x");
                u64::from_str_radix(v, if v.len() == 16 { 16 } else { 10 })
                    .unwrap_or_else(|e| panic!("{name}={v}: {e}"))
            })
        };
        Budget {
            cases: num("HLAUDIT_MUTATION_CASES").unwrap_or(ci_cases),
            seed: num("HLAUDIT_MUTATION_SEED").unwrap_or(DEFAULT_SEED),
            exhaustive: var("HLAUDIT_MUTATION_EXHAUSTIVE").is_some_and(|v| v != "0"),
            only: num("HLAUDIT_MUTATION_ONLY"),
            bound: Duration::from_millis(num("HLAUDIT_MUTATION_BOUND_MS").unwrap_or(20_000)),
            cli_cases: num("HLAUDIT_MUTATION_CLI_CASES"),
        }
    }
}

/// One failed case.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What went wrong: `panic`, `too slow`, `no location`.
    pub what: &'static str,
    /// How the case was made, and how to make it again.
    pub case: String,
    /// The panic message, the time taken or the error rendering.
    pub detail: String,
    /// Where the input was kept.
    pub kept: Option<PathBuf>,
}

/// What one reader's run found.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// The reader's name.
    pub reader: String,
    /// Cases tried.
    pub cases: u64,
    /// Cases read into a valid result.
    pub accepted: u64,
    /// Cases refused with a located error.
    pub rejected: u64,
    /// Cases with a duplicate key that were accepted (counted, not failed: rejecting
    /// duplicate keys is separate work).
    pub duplicate_key_accepted: u64,
    /// The slowest case, and its size.
    pub slowest: (Duration, usize),
    /// Failed cases.
    pub failures: Vec<Failure>,
    /// How long the whole run took.
    pub took: Duration,
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<10} {:>8} cases in {:>6.1?}: {:>7} accepted, {:>7} rejected with a location, \
             {:>3} failures, {} duplicate-key accepted; slowest {:.1?} ({} bytes)",
            self.reader,
            self.cases,
            self.took,
            self.accepted,
            self.rejected,
            self.failures.len(),
            self.duplicate_key_accepted,
            self.slowest.0,
            self.slowest.1,
        )
    }
}

impl Tally {
    /// Panics with every failure when there is one (the end of a test).
    ///
    /// # Panics
    /// When a case failed.
    pub fn assert_clean(&self) {
        if self.failures.is_empty() {
            return;
        }
        let mut msg = format!("{self}\n");
        for fl in self.failures.iter().take(20) {
            msg.push_str(&format!(
                "- {}: {}\n  {}\n",
                fl.what,
                fl.case,
                fl.detail.lines().take(6).collect::<Vec<_>>().join("\n  ")
            ));
            if let Some(p) = &fl.kept {
                msg.push_str(&format!("  input kept in {}\n", p.display()));
            }
        }
        panic!("{msg}");
    }
}

/// A reader under test: a name and a function from input bytes to a [`Verdict`]. The
/// function must be callable from other threads.
pub type ReaderFn = dyn Fn(&[u8]) -> Verdict + Send + Sync + 'static;

/// Runs one reader over its regression files, big inputs, truncations and random
/// mutations of `seeds`, as `budget` says.
pub fn run_reader(
    name: &str,
    seeds: &[Seed],
    syntax: Syntax,
    budget: &Budget,
    read: std::sync::Arc<ReaderFn>,
) -> Tally {
    let started = Instant::now();
    let mut tally = run_cases(name, seeds, syntax, budget, read);
    tally.took = started.elapsed();
    tally
}

fn run_cases(
    name: &str,
    seeds: &[Seed],
    syntax: Syntax,
    budget: &Budget,
    read: std::sync::Arc<ReaderFn>,
) -> Tally {
    let mut tally = Tally {
        reader: name.to_owned(),
        ..Tally::default()
    };
    let mut run =
        |case: Case, id: String| -> bool { run_case(name, &id, &case, budget, &read, &mut tally) };
    if let Some(i) = budget.only {
        let case = mutate(budget.seed, i, seeds, syntax);
        run(case, format!("seed {:#x} case {i}", budget.seed));
        return tally;
    }
    for (n, case) in regressions(name).into_iter().enumerate() {
        if !run(case, format!("regression {n}")) {
            return tally;
        }
    }
    for (n, case) in big_cases(seeds, syntax).into_iter().enumerate() {
        if !run(case, format!("big {n}")) {
            return tally;
        }
    }
    let mut rng = Rng::new(budget.seed);
    // sampled truncations: a tenth of the random budget, spread over the seeds
    let per_seed = (budget.cases / 10 / seeds.len().max(1) as u64).max(4) as usize;
    for s in seeds {
        for case in truncations(s, budget.exhaustive, per_seed, &mut rng) {
            if !run(case, "truncation".to_owned()) {
                return tally;
            }
        }
    }
    for i in 0..budget.cases {
        let case = mutate(budget.seed, i, seeds, syntax);
        let id = format!(
            "seed {:#x} case {i} (HLAUDIT_MUTATION_SEED={:#x} HLAUDIT_MUTATION_ONLY={i})",
            budget.seed, budget.seed
        );
        if !run(case, id) {
            return tally;
        }
    }
    tally
}

/// The regression inputs kept for a reader (`fixtures/robustness/<reader>/*`).
pub fn regressions(reader: &str) -> Vec<Case> {
    let dir = crate::repo_root().join("fixtures/robustness").join(reader);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .filter(|p| p.is_file())
        .filter_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            Some(Case {
                label: p.display().to_string(),
                bytes,
                duplicate_key: false,
            })
        })
        .collect()
}

/// Runs one case on a thread of its own; false when the run must stop (a case hung: its
/// thread cannot be stopped, so the next case would race with it).
fn run_case(
    reader: &str,
    id: &str,
    case: &Case,
    budget: &Budget,
    read: &std::sync::Arc<ReaderFn>,
    tally: &mut Tally,
) -> bool {
    tally.cases += 1;
    let (tx, rx) = mpsc::channel();
    let input = case.bytes.clone();
    let f = std::sync::Arc::clone(read);
    let started = Instant::now();
    let spawned = std::thread::Builder::new()
        .name(format!("{reader} {id}"))
        .stack_size(2 << 20)
        .spawn(move || {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&input)));
            let _ = tx.send(out.map_err(|p| panic_message(&*p)));
        });
    if let Err(e) = spawned {
        panic!("cannot start a thread for {reader} {id}: {e}");
    }
    let fail = |tally: &mut Tally, what: &'static str, detail: String| {
        let kept = keep(reader, &case.bytes);
        tally.failures.push(Failure {
            what,
            case: format!("{reader} {id}: {}", case.label),
            detail,
            kept,
        });
    };
    match rx.recv_timeout(budget.bound) {
        Err(_) => {
            fail(
                tally,
                "hang",
                format!("no answer within {:?}", budget.bound),
            );
            false
        }
        Ok(out) => {
            let took = started.elapsed();
            if took > tally.slowest.0 {
                tally.slowest = (took, case.bytes.len());
            }
            match out {
                Err(msg) => fail(tally, "panic", msg),
                Ok(Verdict::Accepted) => {
                    tally.accepted += 1;
                    if case.duplicate_key {
                        tally.duplicate_key_accepted += 1;
                    }
                }
                Ok(Verdict::Located(_)) => tally.rejected += 1,
                Ok(Verdict::Unlocated(r)) => fail(tally, "no location", r),
            }
            true
        }
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Writes a failing input under `target/robustness-failures/`, named by its content, to
/// be copied into `fixtures/robustness/<reader>/` once fixed.
fn keep(reader: &str, bytes: &[u8]) -> Option<PathBuf> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    let dir = crate::repo_root()
        .join("target/robustness-failures")
        .join(reader);
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join(format!("{:016x}", h.finish()));
    std::fs::write(&path, bytes).ok()?;
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_made_again_from_their_number() {
        let seeds = [Seed::text("a", "{\n  \"A\": 1,\n  \"B\": [true]\n}\n")];
        for i in 0..200 {
            let a = mutate(7, i, &seeds, Syntax::Json);
            let b = mutate(7, i, &seeds, Syntax::Json);
            assert_eq!((a.label, a.bytes), (b.label, b.bytes));
        }
    }

    #[test]
    fn a_duplicate_key_repeats_a_member() {
        let mut bytes = b"{\n  \"A\": 1,\n  \"B\": 2\n}\n".to_vec();
        let what = duplicate_key(&mut Rng::new(1), &mut bytes, Syntax::Json).unwrap();
        assert_eq!(what, "duplicate key \"A\":");
        assert_eq!(bytes, b"{\n  \"A\": 1,\n  \"A\": null,\n  \"B\": 2\n}\n");
    }
}

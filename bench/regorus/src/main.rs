//! Evaluates a Rego policy with regorus over a JSON input and prints its violations, one
//! `POLICY-ID<TAB>ARN` line each, sorted: the Rego side of `bench/compare-engines.sh`, whose
//! other two sides (hlaudit and a Python script) print the same lines for the same ten
//! policies, so the three outputs compare with `diff`.
//!
//! The query's value must be a set (or array) of `[policy_id, arn]` pairs, as
//! `bench/ten_policies.rego`'s `violations` is. Loading the input (`Value::from_json_file`) and
//! evaluating are timed together, as a whole process, like the other two.
//!
//! Usage: `ten-policies-regorus POLICY.rego INPUT.json [QUERY]`
//! (QUERY defaults to `data.hlaudit.ten.violations`). With `BENCH_PHASES` set in the
//! environment, it also prints the time of reading the input and of evaluating to stderr.

use std::io::{BufWriter, Write};

use anyhow::{bail, Context, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (policy, input, rule) = match args.as_slice() {
        [p, i] => (p, i, "data.hlaudit.ten.violations".to_owned()),
        [p, i, q] => (p, i, q.clone()),
        _ => bail!("usage: ten-policies-regorus POLICY.rego INPUT.json [QUERY]"),
    };
    let mut engine = regorus::Engine::new();
    engine
        .add_policy_from_file(policy)
        .with_context(|| format!("loading {policy}"))?;
    let start = std::time::Instant::now();
    let value =
        regorus::Value::from_json_file(input).with_context(|| format!("reading {input}"))?;
    engine.set_input(value);
    let loaded = start.elapsed();
    let result = engine
        .eval_rule(rule.clone())
        .with_context(|| format!("evaluating {rule}"))?;
    let pairs: Vec<&regorus::Value> = match &result {
        // A rule with no element at all is undefined: no violation.
        regorus::Value::Undefined => Vec::new(),
        regorus::Value::Set(s) => s.iter().collect(),
        regorus::Value::Array(a) => a.iter().collect(),
        other => bail!("{rule} is not a set of [policy, arn] pairs: {other}"),
    };
    let mut lines = Vec::with_capacity(pairs.len());
    for pair in pairs {
        match pair.as_array().map(|a| a.as_slice()) {
            Ok([id, arn]) => lines.push(format!(
                "{}\t{}",
                id.as_string().context("policy id")?,
                arn.as_string().context("arn")?
            )),
            _ => bail!("{rule} holds {pair}, not a [policy, arn] pair"),
        }
    }
    lines.sort_unstable();
    lines.dedup();
    if std::env::var_os("BENCH_PHASES").is_some() {
        // The runner's own clock: reading the input, then evaluating it (the violations
        // found and sorted), for bench/compare-engines.sh's evaluation-only comparison.
        let evaluated = start.elapsed();
        eprintln!(
            "phases: load={:.3} eval={:.3}",
            loaded.as_secs_f64(),
            (evaluated - loaded).as_secs_f64()
        );
    }
    let mut out = BufWriter::new(std::io::stdout().lock());
    for line in &lines {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}

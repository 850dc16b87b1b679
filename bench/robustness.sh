#!/usr/bin/env bash
# The long run of the mutation harness (tests/tests/robustness.rs and
# crates/cli/src/config/file/robustness.rs, sharing tests/src/mutate.rs): every reader of
# untrusted input over many more mutated fixtures than CI tries, every fixture truncated
# at every position, in a release build with a bound of one second per case (the big
# cases are 1 MiB), one reader at a time so the times are the reader's own. Prints per
# reader the cases tried, accepted, rejected with a location and failed, and the slowest
# case; exits non-zero on any failure (a panic, a hang, an error with no location, or
# through the binary an exit code other than 2 for a refused input).
#
# Usage: bench/robustness.sh    (CASES=50000 CLI_CASES=200 SEED=<now> BOUND_MS=1000)
# A failure names its seed and case: HLAUDIT_MUTATION_SEED=S HLAUDIT_MUTATION_ONLY=N
# with `cargo test -p hlaudit-e2e --test robustness READER` makes it again alone.
set -euo pipefail
cd "$(dirname "$0")/.."

export HLAUDIT_MUTATION_CASES="${CASES:-50000}"
export HLAUDIT_MUTATION_CLI_CASES="${CLI_CASES:-200}"
export HLAUDIT_MUTATION_SEED="${SEED:-$(date +%s)}"
export HLAUDIT_MUTATION_BOUND_MS="${BOUND_MS:-1000}"
export HLAUDIT_MUTATION_EXHAUSTIVE=1
echo "seed $HLAUDIT_MUTATION_SEED, $HLAUDIT_MUTATION_CASES random cases per reader," \
    "$HLAUDIT_MUTATION_CLI_CASES per reader through the binary"

status=0
start=$(date +%s)
cargo test --release -q -p hlaudit-e2e --test robustness -- --nocapture --test-threads 1 \
    2>&1 | grep -E '^(snapshot|policy|waiver|report|json-doc|arn|timestamp|cli) |^- |^  |^test result|panicked' \
    || status=1
cargo test --release -q -p hlaudit --bin hlaudit config::file::robustness -- --nocapture \
    2>&1 | grep -E '^config |^- |^  |^test result|panicked' || status=1
echo "took $(( $(date +%s) - start )) s"
exit $status

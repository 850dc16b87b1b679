#!/usr/bin/env bash
# Evaluation speed: `hlaudit check` over 100,000 generated data stores (about 180 MB in the
# list-fhir-datastores shape) with the built-in pack, against the floor: a serde_json
# validation-only parse (IgnoredAny) of the same file, timed in the same run.
#
# 1. Generates the records (crates/rules/examples/gen_datastores.rs: realistic, with SMART
#    metadata documents in strings, deterministic).
# 2. Runs the library path (snapshot::read_files + hlaudit_rules::evaluate) and the floor in
#    one process (crates/rules/benches/evaluate.rs): times, ratio, records/s, peak RSS.
# 3. Runs the `hlaudit` binary end to end (`check --format none`: evaluation and report
#    assembly, no rendering) under GNU time for wall time and peak RSS, and the ratio to the
#    floor measured in step 2; `-vv` gives the time of each phase of the best run.
# 4. Runs it again with one one-clause policy instead of the pack (bench/one-clause.yaml):
#    what `check` costs before any policy work (reading, building records, one finding
#    per data store, the report), against the same floor.
#
# Usage: bench/check-100k.sh            (N=100000 WORK=/tmp/hlaudit-bench KEEP=0 RUNS=3)
set -euo pipefail
cd "$(dirname "$0")/.."

N="${N:-100000}"
RUNS="${RUNS:-3}"
WORK="${WORK:-${TMPDIR:-/tmp}/hlaudit-bench}"
KEEP="${KEEP:-0}"
TARGET="${CARGO_TARGET_DIR:-target}"
FILE="$WORK/datastores-$N.json"

mkdir -p "$WORK"
cleanup() { if [ "$KEEP" != 1 ]; then rm -f "$FILE"; fi; }
trap cleanup EXIT

cargo build --release --quiet -p hlaudit-rules --example gen_datastores
[ -s "$FILE" ] || "$TARGET/release/examples/gen_datastores" "$N" "$FILE"

echo "== library: read_files + evaluate vs IgnoredAny (best of $RUNS)"
out=$(cargo bench --quiet -p hlaudit-rules --bench evaluate -- "$FILE" "$RUNS")
printf '%s\n' "$out"
floor=$(printf '%s\n' "$out" | sed -n 's/^floor (IgnoredAny) *\([0-9.]*\) s.*/\1/p')

# best_of LABEL ARGS...: runs `hlaudit -vv check FILE ARGS...` $RUNS times and prints the
# best wall time against the floor, data stores per second and peak RSS, then the phases
# of that run.
best_of() {
    local label="$1"
    shift
    local best="" t wall i
    for i in $(seq "$RUNS"); do
        # -vv logs the time of each phase (policies, reading, evaluation, report) to stderr.
        local cmd=("$TARGET/release/hlaudit" -vv check "$FILE" --as-of 2026-01-01T00:00:00Z --format none "$@")
        if [ -x /usr/bin/time ]; then
            /usr/bin/time -o "$WORK/time.txt" -f "%e %M" "${cmd[@]}" >/dev/null 2>"$WORK/phases.$i.txt" || true
            t=$(tail -1 "$WORK/time.txt")
        else
            local s
            s=$(date +%s.%N)
            "${cmd[@]}" >/dev/null 2>"$WORK/phases.$i.txt" || true
            t="$(echo "$(date +%s.%N) - $s" | bc) 0"
        fi
        wall=${t% *}
        if [ -z "$best" ] || awk -v a="$wall" -v b="${best% *}" 'BEGIN { exit !(a < b) }'; then
            best="$t"
            cp "$WORK/phases.$i.txt" "$WORK/phases.best.txt"
        fi
    done
    awk -v l="$label" -v w="${best% *}" -v kb="${best#* }" -v f="$floor" -v n="$N" \
        'BEGIN { printf "%-18s %8.3f s  ratio %.2fx floor  %.0f data stores/s  peak RSS %.1f MB\n", l, w, w / f, n / w, kb / 1024 }'
    echo "phases of that run:"
    sed -e 's/\x1b\[[0-9;]*m//g' "$WORK/phases.best.txt" | sed -n 's/.*hlaudit::cmd::check: /  /p'
}

cargo build --release --quiet -p hlaudit
echo "== end to end: hlaudit check (best of $RUNS)"
best_of "hlaudit check"
echo "== end to end, one one-clause policy instead of the pack: the cost before policy work"
best_of "check, 1 clause" --no-builtin --rules bench/one-clause.yaml

#!/usr/bin/env bash
# The HTML report at 100,000 data stores (issue 19): wall time, peak RSS and file size of
# `hlaudit check -o html=...` by default (FAIL, ERROR and WAIVED listed, PASS and SKIP
# counted) and with --html-all-rows, against `--format none` (the audit without a report)
# as the baseline, each the best of RUNS whole-process runs under GNU time.
#
# The data stores are generated as in bench/check-100k.sh (crates/rules/examples/
# gen_datastores.rs, deterministic); the built-in pack gives about 3 million findings.
#
# Usage: bench/html-100k.sh          (N=100000 WORK=/tmp/hlaudit-bench KEEP=0 RUNS=1 ALL_ROWS=1)
# ALL_ROWS=0 skips the --html-all-rows run. HLAUDIT=PATH measures that binary instead of
# building target/release/hlaudit; BEFORE=PATH also measures an older binary (its
# `--format none` and default page) in the same run, for a before/after table.
set -euo pipefail
cd "$(dirname "$0")/.."

N="${N:-100000}"
RUNS="${RUNS:-1}"
ALL_ROWS="${ALL_ROWS:-1}"
WORK="${WORK:-${TMPDIR:-/tmp}/hlaudit-bench}"
KEEP="${KEEP:-0}"
TARGET="${CARGO_TARGET_DIR:-target}"
FILE="$WORK/datastores-$N.json"
PAGE="$WORK/report-$N.html"

mkdir -p "$WORK"
cleanup() {
    rm -f "$PAGE"
    if [ "$KEEP" != 1 ]; then rm -f "$FILE"; fi
}
trap cleanup EXIT

cargo build --release --quiet --locked -p hlaudit-rules --example gen_datastores
if [ -z "${HLAUDIT:-}" ]; then
    cargo build --release --quiet --locked -p hlaudit
    HLAUDIT="$TARGET/release/hlaudit"
fi
BEFORE="${BEFORE:-}"
BIN="$HLAUDIT"
[ -s "$FILE" ] || "$TARGET/release/examples/gen_datastores" "$N" "$FILE"

# run LABEL ARGS...: the best of $RUNS runs of `hlaudit check FILE ARGS...`: wall time,
# peak RSS, and the size of $PAGE when the run wrote it. Exit 1 (failures found) is
# expected.
run() {
    local label="$1" best="" t i size="-"
    shift
    for i in $(seq "$RUNS"); do
        rm -f "$PAGE"
        /usr/bin/time -o "$WORK/time.txt" -f "%e %M" \
            "$BIN" check "$FILE" --as-of 2026-01-01T00:00:00Z --format none "$@" \
            >/dev/null 2>"$WORK/stderr.txt" || [ $? -eq 1 ]
        t=$(tail -1 "$WORK/time.txt")
        if [ -z "$best" ] || awk -v a="${t% *}" -v b="${best% *}" 'BEGIN { exit !(a < b) }'; then
            best="$t"
        fi
    done
    [ -f "$PAGE" ] && size=$(stat -c %s "$PAGE")
    awk -v l="$label" -v w="${best% *}" -v kb="${best#* }" -v s="$size" \
        'BEGIN { printf "%-26s %8.2f s  peak RSS %7.1f MB  page %s\n", l, w, kb / 1024, (s == "-" ? "-" : sprintf("%.1f MB (%d bytes)", s / 1e6, s)) }'
}

echo "== hlaudit check, $N data stores, built-in pack (best of $RUNS)"
run "--format none (baseline)"
run "-o html= (default)" -o "html=$PAGE"
grep -o 'id="summarised" data-pass="[0-9]*" data-skip="[0-9]*"' "$PAGE" | sed 's/^/  counted, not listed: /' || true
grep -o 'data-total="[0-9]*"' "$PAGE" | sed 's/^/  listed (FAIL, ERROR, WAIVED): /' || true
if [ "$ALL_ROWS" = 1 ]; then
    run "-o html= --html-all-rows" -o "html=$PAGE" --html-all-rows
fi
if [ -n "$BEFORE" ]; then
    BIN="$BEFORE"
    echo "== before: $BEFORE"
    run "--format none (baseline)"
    run "-o html= (default)" -o "html=$PAGE"
fi

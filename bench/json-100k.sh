#!/usr/bin/env bash
# The JSON report at 100,000 data stores (issue 19): wall time, peak RSS and file size of
# `hlaudit check -o json=FILE` against `--format none` (the same audit without a report),
# for the binary built from this tree and, when BEFORE names one, an earlier binary, run
# side by side (each round runs every row once, in turn), as whole processes under GNU time.
# Prints the median of RUNS rounds per row and the ratio of each json row to the none row
# of the same binary. Target: json at most 2x none, peak RSS at most 1 GB.
#
# The data stores are generated as in bench/check-100k.sh (crates/rules/examples/
# gen_datastores.rs, deterministic); the built-in pack gives about 3.2 million pairs.
# With CHECK=1 the report of the last run is also read back (`hlaudit diff FILE FILE`).
#
# Usage: bench/json-100k.sh   (N=100000 WORK=/tmp/hlaudit-bench KEEP=0 RUNS=3 BEFORE=path CHECK=0)
set -euo pipefail
cd "$(dirname "$0")/.."

N="${N:-100000}"
RUNS="${RUNS:-3}"
CHECK="${CHECK:-0}"
WORK="${WORK:-${TMPDIR:-/tmp}/hlaudit-bench}"
KEEP="${KEEP:-0}"
TARGET="${CARGO_TARGET_DIR:-target}"
FILE="$WORK/datastores-$N.json"
OUT="$WORK/report-$N.json"
BEFORE="${BEFORE:-}"
# The binary under test is copied, so a rebuild by someone else during the run does not
# change it half way.
AFTER="$WORK/hlaudit-json-bench"

mkdir -p "$WORK"
cleanup() {
    rm -f "$OUT" "$AFTER" "$WORK"/json-100k.*
    if [ "$KEEP" != 1 ]; then rm -f "$FILE"; fi
}
trap cleanup EXIT

cargo build --release --quiet --locked -p hlaudit-rules --example gen_datastores
cargo build --release --quiet --locked -p hlaudit
[ -s "$FILE" ] || "$TARGET/release/examples/gen_datastores" "$N" "$FILE"

cp "$TARGET/release/hlaudit" "$AFTER"
bins=("after=$AFTER")
[ -n "$BEFORE" ] && bins=("before=$BEFORE" "${bins[@]}")

# once NAME BIN FORMAT: one run of `BIN check FILE` with FORMAT (none or json); appends
# "wall kb bytes" to $WORK/json-100k.NAME.FORMAT.txt. Exit 1 (failures found) is expected.
once() {
    local name="$1" bin="$2" format="$3" size=0
    local args=(check "$FILE" --as-of 2026-01-01T00:00:00Z --format none)
    [ "$format" = json ] && args+=(-o "json=$OUT")
    rm -f "$OUT"
    /usr/bin/time -o "$WORK/json-100k.time" -f "%e %M" "$bin" "${args[@]}" \
        >/dev/null 2>"$WORK/json-100k.stderr" || [ $? -eq 1 ] || {
        cat "$WORK/json-100k.stderr" >&2
        exit 1
    }
    [ -f "$OUT" ] && size=$(stat -c %s "$OUT")
    echo "$(tail -1 "$WORK/json-100k.time") $size" >>"$WORK/json-100k.$name.$format.txt"
}

echo "== hlaudit check, $N data stores, built-in pack: median of $RUNS rounds, side by side"
rm -f "$WORK"/json-100k.*.txt
for round in $(seq "$RUNS"); do
    for b in "${bins[@]}"; do
        for format in none json; do
            once "${b%%=*}" "${b#*=}" "$format"
        done
    done
done
if [ "$CHECK" = 1 ]; then
    "$AFTER" diff "$OUT" "$OUT" --fail-on none >/dev/null && echo "(the last report reads back)"
fi

# median FILE COLUMN: the median of a column of the rows of FILE.
median() { awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

printf '%-8s %-5s %9s %8s %11s %12s  %s\n' binary rows "wall (s)" "vs none" "peak RSS" "file" "all walls"
for b in "${bins[@]}"; do
    name="${b%%=*}"
    base=$(median "$WORK/json-100k.$name.none.txt" 1)
    for format in none json; do
        f="$WORK/json-100k.$name.$format.txt"
        wall=$(median "$f" 1)
        kb=$(median "$f" 2)
        bytes=$(median "$f" 3)
        awk -v n="$name" -v fm="$format" -v w="$wall" -v b="$base" -v kb="$kb" -v s="$bytes" \
            -v all="$(awk '{ printf "%s ", $1 }' "$f")" \
            'BEGIN { printf "%-8s %-5s %9.2f %7.2fx %8.0f MB %9.1f MB  %s\n", n, fm, w, w / b, kb / 1024, s / 1e6, all }'
    done
done

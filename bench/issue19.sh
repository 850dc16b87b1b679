#!/usr/bin/env bash
# Every row of issue 19's table in one run: `hlaudit check` over N generated data stores
# (default 100,000; crates/rules/examples/gen_datastores.rs, the list-fhir-datastores shape
# with SMART metadata in strings), as whole processes under GNU time, each the median of RUNS
# runs, against two baselines measured in the same run:
#
# - the floor: a process that reads the file and validates it with serde_json into
#   IgnoredAny (crates/model/examples/read_snapshot.rs --mode ignored);
# - the built-in pack with `--format none` (the audit without a report), for the outputs.
#
# Rows: one one-clause policy (bench/one-clause.yaml), the ten simple policies
# (bench/ten-policies.yaml), the built-in pack with `--format none`, then the pack writing
# each output: SARIF, JSON, JUnit and HTML files, and the terminal view to standard output;
# last, the pack against a baseline (`--baseline`: the JSON report of the same audit, 580 MB
# at 100,000 data stores, made once by this build before the rows). Each prints wall time, its ratio to the floor and to the pack's `none` run, peak RSS, and
# the size of what it wrote.
#
# BEFORE=PATH runs every row with another hlaudit binary too (one built from an earlier
# commit), interleaved with this build's, so before and after share the machine's state.
#
# Usage: bench/issue19.sh        (N=100000 RUNS=3 BEFORE= WORK=/tmp/hlaudit-bench KEEP=1
#                                 ROWS="one ten none sarif json junit html terminal baseline")
# Needs: cargo, GNU time at /usr/bin/time; about 4 GB free in WORK for the JSON rows of a
# build that writes every pair as an object.
set -euo pipefail
cd "$(dirname "$0")/.."

N="${N:-100000}"
RUNS="${RUNS:-3}"
BEFORE="${BEFORE:-}"
WORK="${WORK:-${TMPDIR:-/tmp}/hlaudit-bench}"
KEEP="${KEEP:-1}"
ROWS="${ROWS:-one ten none sarif json junit html terminal baseline}"
TARGET="${CARGO_TARGET_DIR:-target}"
FILE="$WORK/datastores-$N.json"
OUT="$WORK/issue19-out"
# The `baseline` row's baseline: the JSON report of the same audit, made once by this build.
BASELINE="$WORK/issue19-baseline.json"

if [ ! -x /usr/bin/time ]; then
    echo "bench/issue19.sh needs GNU time at /usr/bin/time (apt-get install time)" >&2
    exit 2
fi
mkdir -p "$WORK"
cleanup() {
    rm -rf "$OUT" "$WORK/issue19-time.txt" "$BASELINE"
    if [ "$KEEP" != 1 ]; then rm -f "$FILE"; fi
}
trap cleanup EXIT

cargo build --release --quiet --locked -p hlaudit-rules --example gen_datastores
cargo build --release --quiet --locked -p hlaudit-model --example read_snapshot
cargo build --release --quiet --locked -p hlaudit
[ -s "$FILE" ] || "$TARGET/release/examples/gen_datastores" "$N" "$FILE" >/dev/null
AFTER="$TARGET/release/hlaudit"
BYTES=$(stat -c %s "$FILE")
AS_OF=2026-01-01T00:00:00Z

# measure CMD...: runs CMD $RUNS times (output files in $OUT, emptied before each run) and
# prints "WALL_S PEAK_KB OUT_BYTES" of the median run by wall time. Exit 1 (failures
# found) is expected and not an error.
measure() {
    local i
    for i in $(seq "$RUNS"); do
        rm -rf "$OUT"
        mkdir -p "$OUT"
        /usr/bin/time -o "$WORK/issue19-time.txt" -f "%e %M" "$@" >"$OUT/stdout" 2>/dev/null || true
        local size
        size=$(du -cb "$OUT" | tail -1 | cut -f1)
        echo "$(tail -1 "$WORK/issue19-time.txt") $size"
    done | sort -n | awk '{ w[NR] = $0 } END { print w[int((NR + 1) / 2)] }'
}

# args_of ROW: the `check` arguments of a row.
args_of() {
    case "$1" in
        one) echo "--format none --no-builtin --rules bench/one-clause.yaml" ;;
        ten) echo "--format none --no-builtin --rules bench/ten-policies.yaml" ;;
        none) echo "--format none" ;;
        sarif) echo "--format none -o sarif=$OUT/report.sarif" ;;
        json) echo "--format none -o json=$OUT/report.json" ;;
        junit) echo "--format none -o junit=$OUT/report.xml" ;;
        html) echo "--format none -o html=$OUT/report.html" ;;
        terminal) echo "--format terminal --color never" ;;
        baseline) echo "--format none --baseline $BASELINE" ;;
        *) echo "unknown row $1" >&2; exit 2 ;;
    esac
}

case " $ROWS " in
    *" baseline "*) "$AFTER" check "$FILE" --as-of "$AS_OF" --format none --fail-on none \
        -o "json=$BASELINE" ;;
esac

floor=$(measure "$TARGET/release/examples/read_snapshot" --mode ignored "$FILE")
floor_s=${floor%% *}
printf 'N=%d data stores, %.0f MB; medians of %d whole-process runs\n' "$N" "$((BYTES / 1048576))" "$RUNS"
printf '%-9s %-7s %9s %9s %9s %11s %12s\n' row binary wall "vs floor" "vs none" "peak RSS" "output"
printf '%-9s %-7s %8.2fs %8.2fx %9s %8.0f MB %12s\n' floor - "$floor_s" 1 - "$(echo "$floor" | awk '{ print $2 / 1024 }')" -

declare -A none_s
bins=(after)
[ -n "$BEFORE" ] && bins=(before after)
for row in $ROWS; do
    for b in "${bins[@]}"; do
        bin="$AFTER"
        [ "$b" = before ] && bin="$BEFORE"
        # shellcheck disable=SC2046 # the arguments are split on purpose
        r=$(measure "$bin" check "$FILE" --as-of "$AS_OF" $(args_of "$row"))
        read -r wall kb size <<<"$r"
        [ "$row" = none ] && none_s[$b]="$wall"
        vs_none="-"
        if [ -n "${none_s[$b]:-}" ] && [ "$row" != none ]; then
            vs_none=$(awk -v w="$wall" -v n="${none_s[$b]}" 'BEGIN { printf "%.2fx", w / n }')
        fi
        awk -v r="$row" -v b="$b" -v w="$wall" -v f="$floor_s" -v vn="$vs_none" -v kb="$kb" -v s="$size" 'BEGIN {
            printf "%-9s %-7s %8.2fs %8.2fx %9s %8.0f MB %9.1f MB\n", r, b, w, w / f, vn, kb / 1024, s / 1048576
        }'
    done
done

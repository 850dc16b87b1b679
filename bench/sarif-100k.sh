#!/usr/bin/env bash
# The SARIF report at 100,000 data stores (issue 19): wall time, peak RSS and total size of
# `hlaudit check -o sarif=...` (about 530,000 results, split into files of 20 runs) against
# `--format none` (the audit without a report), as whole processes under GNU time, each
# the median of RUNS runs. CPU time (user + system) is printed beside wall time: on a
# shared machine it tells a slower build from a busier machine.
#
# BEFORE=PATH also runs both rows with another hlaudit binary (one built from an earlier
# commit), interleaved with this build's so both share the machine's state, and checks
# that the two builds write the same files (their `endTimeUtc` aside).
#
# The data stores are generated as in bench/check-100k.sh (crates/rules/examples/
# gen_datastores.rs, deterministic). The SARIF files (about 1.1 GB) are deleted on exit.
#
# Usage: bench/sarif-100k.sh     (N=100000 RUNS=3 BEFORE= WORK=/tmp/hlaudit-bench KEEP=1)
set -euo pipefail
cd "$(dirname "$0")/.."

N="${N:-100000}"
RUNS="${RUNS:-3}"
BEFORE="${BEFORE:-}"
WORK="${WORK:-${TMPDIR:-/tmp}/hlaudit-bench}"
KEEP="${KEEP:-1}"
TARGET="${CARGO_TARGET_DIR:-target}"
FILE="$WORK/datastores-$N.json"
OUT="$WORK/sarif-100k-out"

if [ ! -x /usr/bin/time ]; then
    echo "bench/sarif-100k.sh needs GNU time at /usr/bin/time" >&2
    exit 2
fi
mkdir -p "$WORK"
cleanup() {
    rm -rf "$OUT" "$WORK/sarif-100k-time.txt"
    if [ "$KEEP" != 1 ]; then rm -f "$FILE"; fi
}
trap cleanup EXIT

cargo build --release --quiet --locked -p hlaudit-rules --example gen_datastores
cargo build --release --quiet --locked -p hlaudit
[ -s "$FILE" ] || "$TARGET/release/examples/gen_datastores" "$N" "$FILE" >/dev/null
AFTER="$TARGET/release/hlaudit"

# once BIN LABEL ARGS...: one run of `BIN check FILE --format none ARGS...` with its files
# in $OUT/LABEL (emptied first); appends "WALL_S PEAK_KB BYTES CPU_S" to $OUT/LABEL.runs.
# Exit 1 (failures found) is expected.
once() {
    local bin="$1" label="$2" dir="$OUT/$2" bytes
    shift 2
    rm -rf "$dir"
    mkdir -p "$dir"
    /usr/bin/time -o "$WORK/sarif-100k-time.txt" -f "%e %M %U %S" \
        "$bin" check "$FILE" --as-of 2026-01-01T00:00:00Z --format none "$@" \
        >/dev/null 2>"$dir.stderr" || [ $? -eq 1 ] || { cat "$dir.stderr" >&2; exit 1; }
    bytes=$(find "$dir" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
    tail -1 "$WORK/sarif-100k-time.txt" |
        awk -v b="$bytes" '{ print $1, $2, b, $3 + $4 }' >>"$OUT/$label.runs"
}

# median LABEL: the median run of LABEL by wall time, "WALL_S PEAK_KB BYTES CPU_S".
median() {
    sort -n "$OUT/$1.runs" | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'
}

mkdir -p "$OUT"
builds="after"
[ -n "$BEFORE" ] && builds="before after"
bin_of() { if [ "$1" = before ]; then echo "$BEFORE"; else echo "$AFTER"; fi; }
for i in $(seq "$RUNS"); do
    for b in $builds; do
        once "$(bin_of "$b")" "$b-none"
        if [ "$i" -lt "$RUNS" ]; then
            once "$(bin_of "$b")" "$b-sarif" -o "sarif=$OUT/$b-sarif/r.sarif"
        fi
    done
    # The last round keeps both builds' files, to compare them.
    if [ "$i" -eq "$RUNS" ]; then
        for b in $builds; do
            once "$(bin_of "$b")" "$b-sarif" -o "sarif=$OUT/$b-sarif/r.sarif"
        done
    fi
done

echo "== hlaudit check, $N data stores, built-in pack (median of $RUNS, load $(cut -d' ' -f1-3 /proc/loadavg))"
for b in $builds; do
    read -r nw nk _ nc <<<"$(median "$b-none")"
    read -r sw sk sb sc <<<"$(median "$b-sarif")"
    files=$(find "$OUT/$b-sarif" -name '*.sarif' | wc -l)
    awk -v b="$b" -v nw="$nw" -v nk="$nk" -v nc="$nc" -v sw="$sw" -v sk="$sk" -v sb="$sb" \
        -v sc="$sc" -v f="$files" 'BEGIN {
        printf "%-7s --format none   %7.2f s (CPU %6.2f s)  peak RSS %7.1f MB\n", b, nw, nc, nk / 1024
        printf "%-7s -o sarif=       %7.2f s (CPU %6.2f s)  peak RSS %7.1f MB  %.2fx the none run (CPU %.2fx)  %d files, %.1f MB\n",
            b, sw, sc, sk / 1024, sw / nw, sc / nc, f, sb / 1e6
    }'
done
if [ -n "$BEFORE" ]; then
    same=yes
    for f in "$OUT"/before-sarif/*.sarif; do
        a="$OUT/after-sarif/$(basename "$f")"
        if ! cmp -s <(sed 's/"endTimeUtc": "[^"]*"//' "$f") <(sed 's/"endTimeUtc": "[^"]*"//' "$a"); then
            same="no: $(basename "$f") differs"
        fi
    done
    echo "same files before and after (endTimeUtc aside): $same"
fi

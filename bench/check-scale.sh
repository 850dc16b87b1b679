#!/usr/bin/env bash
# How `hlaudit check` scales with the number of data stores: the built-in pack with
# `--format none` at 10,000, 100,000 and (MILLION=1) 1,000,000 generated data stores
# (crates/rules/examples/gen_datastores.rs, the list-fhir-datastores shape, about 1.8 KB
# each), against the floor at the same size: a process that reads the file and validates
# it with serde_json into IgnoredAny (`read_snapshot --mode ignored`). Every row is a whole
# process under GNU time, median wall time and peak RSS of RUNS runs, all in one run of this
# script so the ratios compare on a shared machine.
#
# The target (issue 19): time per data store flat from 10,000 to 1,000,000, at most 2.5x the
# floor, peak memory at most twice the file's size.
#
# BEFORE=PATH also times another hlaudit binary (say, one built from an earlier commit) in
# the same run, for before and after figures; HLAUDIT=PATH times that binary instead of
# building the workspace's.
#
# Usage: bench/check-scale.sh     (RUNS=3 MILLION=0 RUNS_1M=1 BEFORE= HLAUDIT=
#                                  WORK=/tmp/hlaudit-bench KEEP=0)
# Needs: cargo, /usr/bin/time (GNU time); with MILLION=1 about 2 GB in WORK and 8 GB of memory.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${RUNS:-3}"
MILLION="${MILLION:-0}"
RUNS_1M="${RUNS_1M:-1}"
BEFORE="${BEFORE:-}"
WORK="${WORK:-${TMPDIR:-/tmp}/hlaudit-bench}"
KEEP="${KEEP:-0}"
TARGET="${CARGO_TARGET_DIR:-target}"

if [ ! -x /usr/bin/time ]; then
    echo "bench/check-scale.sh needs GNU time at /usr/bin/time (apt-get install time)" >&2
    exit 2
fi

SIZES=(10000 100000)
if [ "$MILLION" = 1 ]; then
    SIZES+=(1000000)
fi

mkdir -p "$WORK"
cleanup() {
    if [ "$KEEP" != 1 ]; then
        for n in "${SIZES[@]}"; do rm -f "$WORK/datastores-$n.json"; done
    fi
    rm -f "$WORK/scale-time.txt"
}
trap cleanup EXIT

cargo build --release --quiet --locked -p hlaudit-rules --example gen_datastores
cargo build --release --quiet --locked -p hlaudit-model --example read_snapshot
if [ -z "${HLAUDIT:-}" ]; then
    cargo build --release --quiet --locked -p hlaudit
    HLAUDIT="$TARGET/release/hlaudit"
fi
GEN="$TARGET/release/examples/gen_datastores"
FLOOR="$TARGET/release/examples/read_snapshot"

# median_of CMD...: runs CMD $RUNS times under GNU time and prints "WALL_S PEAK_KB", the
# median wall time and the peak RSS of that run. A non-zero exit (check exits 1 when a
# finding fails) is not an error here.
median_of() {
    local i runs="$RUNS"
    if [ "$n" -ge 1000000 ]; then runs="$RUNS_1M"; fi
    for i in $(seq "$runs"); do
        /usr/bin/time -o "$WORK/scale-time.txt" -f "%e %M" "$@" >/dev/null 2>&1 || true
        tail -1 "$WORK/scale-time.txt"
    done | sort -n | awk '{ w[NR] = $1; m[NR] = $2 } END { i = int((NR + 1) / 2); print w[i], m[i] }'
}

# row LABEL N BYTES FLOOR_S "WALL_S PEAK_KB"
row() {
    local t="$5"
    awk -v l="$1" -v n="$2" -v b="$3" -v f="$4" -v w="${t% *}" -v kb="${t#* }" 'BEGIN {
        printf "%-14s %9d  %7.2f s  %6.2f us/store  %5.2fx floor  peak %7.1f MB  %4.2fx file\n",
            l, n, w, w / n * 1e6, w / f, kb / 1024, kb * 1024 / b
    }'
}

printf '%-14s %9s  %9s  %15s  %11s  %15s  %s\n' run "stores" wall "per store" "vs floor" "peak RSS" "vs file"
for n in "${SIZES[@]}"; do
    file="$WORK/datastores-$n.json"
    [ -s "$file" ] || "$GEN" "$n" "$file" >/dev/null
    bytes=$(stat -c %s "$file")
    floor=$(median_of "$FLOOR" --mode ignored "$file")
    row "floor" "$n" "$bytes" "${floor% *}" "$floor"
    check=(check "$file" --as-of 2026-01-01T00:00:00Z --format none)
    if [ -n "$BEFORE" ]; then
        row "check (before)" "$n" "$bytes" "${floor% *}" "$(median_of "$BEFORE" "${check[@]}")"
    fi
    row "check" "$n" "$bytes" "${floor% *}" "$(median_of "$HLAUDIT" "${check[@]}")"
done

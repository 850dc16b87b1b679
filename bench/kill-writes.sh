#!/usr/bin/env bash
# SIGKILL `hlaudit check -o ...` and `hlaudit collect -o FILE` at random moments, many
# times, and check that every target is always the previous file, intact, or the new one,
# complete: never a partial file. The long version of the `write_faults` end-to-end test.
#
#   - check: STORES generated data stores (the rules crate's gen_datastores), every report
#     format written with -o over reports of a smaller input; a report is whole when its
#     length is the old or the new one and it parses (JSON and SARIF with python3, JSON
#     again with `hlaudit diff`, HTML, JUnit and Markdown by their last line).
#   - collect: the emulator serving STORES data stores with LATENCY_MS per response; the
#     snapshot is whole when hlaudit's strict reader reads it with the old or new count.
#
# Kill moments are spread uniformly over 1.1 times a full run (seeded: SEED). Temporary
# files a kill orphans (hidden, ending in .tmp) are counted, then removed.
#
# Usage: bench/kill-writes.sh   (RUNS=200 STORES=20000 LATENCY_MS=2 SEED=1
#                                WORK=/tmp/hlaudit-kill-bench PROFILE=release)
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${RUNS:-200}"
STORES="${STORES:-20000}"
LATENCY_MS="${LATENCY_MS:-2}"
SEED="${SEED:-1}"
WORK="${WORK:-${TMPDIR:-/tmp}/hlaudit-kill-bench}"
TARGET="${CARGO_TARGET_DIR:-target}"
PROFILE="${PROFILE:-release}"
AS_OF=2026-11-28T09:30:00Z

flag=()
[ "$PROFILE" = release ] && flag=(--release)
cargo build "${flag[@]}" --quiet -p hlaudit --bin hlaudit -p hlaudit-emulator --bin hlaudit-emulator
cargo build "${flag[@]}" --quiet -p hlaudit-rules --example gen_datastores
HLAUDIT="$TARGET/$PROFILE/hlaudit"
EMULATOR="$TARGET/$PROFILE/hlaudit-emulator"
GEN="$TARGET/$PROFILE/examples/gen_datastores"

rm -rf "$WORK"
mkdir -p "$WORK/out"
RANDOM="$SEED"

now_ms() { date +%s%3N; }
# A kill moment in ms: uniform over 0 .. 1.1 * $1.
moment() { echo $(( (RANDOM * 32768 + RANDOM) % ($1 * 11 / 10 + 1) )); }
# Runs "$@" in the background and SIGKILLs it after $1 ms; prints 1 if it was still running.
kill_after() {
    local ms="$1"; shift
    "$@" >/dev/null 2>&1 &
    local pid=$!
    sleep "$(printf '%d.%03d' $(( ms / 1000 )) $(( ms % 1000 )))"
    if kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null || true
        echo 1
    else
        wait "$pid" 2>/dev/null || true
        echo 0
    fi
}
# Counts and removes temporary files in $1.
orphans() {
    local n
    n=$(find "$1" -maxdepth 1 -name '.*.tmp' | wc -l)
    find "$1" -maxdepth 1 -name '.*.tmp' -delete
    echo "$n"
}
have_python=0
command -v python3 >/dev/null && have_python=1

# --- check -o ---------------------------------------------------------------------------
REPORTS=(json=r.json sarif=r.sarif html=r.html junit=r.xml markdown=r.md)
"$GEN" 50 "$WORK/small.json" >/dev/null
"$GEN" "$STORES" "$WORK/big.json" >/dev/null
check() {
    local dir="$1" input="$2" args=()
    for r in "${REPORTS[@]}"; do args+=(-o "${r%%=*}=$dir/${r#*=}"); done
    "$HLAUDIT" check "$input" --as-of "$AS_OF" --format none --fail-on none "${args[@]}"
}
mkdir -p "$WORK/new"
check "$WORK/out" "$WORK/small.json"
t0=$(now_ms)
check "$WORK/new" "$WORK/big.json"
total=$(( $(now_ms) - t0 ))
declare -A old_len new_len
for r in "${REPORTS[@]}"; do
    f="${r#*=}"
    old_len[$f]=$(stat -c %s "$WORK/out/$f")
    new_len[$f]=$(stat -c %s "$WORK/new/$f")
done
whole() {
    local f="$1" path="$2"
    case "$f" in
        *.json) "$HLAUDIT" diff "$path" "$path" --format json --fail-on none >/dev/null 2>&1 \
                && { [ $have_python = 0 ] || python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$path"; } ;;
        *.sarif) [ $have_python = 0 ] || python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$path" ;;
        *.html) [ "$(tail -c 8 "$path" | tr -d '\n')" = '</html>' ] ;;
        *.xml) tail -c 20 "$path" | grep -q '</testsuites>' ;;
        *.md) [ "$(tail -c 1 "$path" | od -An -c | tr -d ' ')" = '\n' ] ;;
    esac
}
killed=0; orphaned=0; partial=0
for (( i = 0; i < RUNS; i++ )); do
    ms=$(moment "$total")
    killed=$(( killed + $(kill_after "$ms" check "$WORK/out" "$WORK/big.json") ))
    for r in "${REPORTS[@]}"; do
        f="${r#*=}"
        len=$(stat -c %s "$WORK/out/$f")
        if { [ "$len" != "${old_len[$f]}" ] && [ "$len" != "${new_len[$f]}" ]; } || ! whole "$f" "$WORK/out/$f"; then
            echo "PARTIAL: $f after a kill at $ms ms: $len bytes (old ${old_len[$f]}, new ${new_len[$f]})" >&2
            partial=$(( partial + 1 ))
        fi
    done
    orphaned=$(( orphaned + $(orphans "$WORK/out") ))
done
echo "check -o (5 formats, $STORES data stores, a run takes $total ms): $RUNS runs, $killed killed with SIGKILL, $orphaned temporary files orphaned, $partial partial reports"
check_partial=$partial

# --- collect -o ---------------------------------------------------------------------------
"$EMULATOR" --port 0 --latency-ms "$LATENCY_MS" --synthetic "us-east-1=$STORES" \
    >"$WORK/emulator.out" 2>"$WORK/emulator.err" &
EMU_PID=$!
trap 'kill "$EMU_PID" 2>/dev/null || true; wait "$EMU_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
    grep -q "listening on" "$WORK/emulator.out" 2>/dev/null && break
    sleep 0.1
done
ENDPOINT="$(sed -n 's/^listening on //p' "$WORK/emulator.out")"
collect() {
    env -u AWS_PROFILE AWS_ACCESS_KEY_ID=AKIDKILLBENCH AWS_SECRET_ACCESS_KEY=unused \
        AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
        "$HLAUDIT" collect --endpoint-url "$ENDPOINT" --region us-east-1 --no-caller-identity \
        --no-kms --no-trails -o "$1"
}
count() { "$HLAUDIT" inventory "$1" --format json 2>/dev/null | grep -c '"arn"' || true; }
SNAP="$WORK/snap/snapshot.json"
mkdir -p "$WORK/snap"
t0=$(now_ms)
collect "$SNAP" 2>/dev/null
total=$(( $(now_ms) - t0 ))
new_count=$(count "$SNAP")
killed=0; orphaned=0; partial=0
for (( i = 0; i < RUNS; i++ )); do
    # The previous file: the 50 data stores of the small input.
    cp "$WORK/small.json" "$SNAP"
    ms=$(moment "$total")
    killed=$(( killed + $(kill_after "$ms" collect "$SNAP") ))
    n=$(count "$SNAP")
    if [ "$n" != 50 ] && [ "$n" != "$new_count" ]; then
        echo "PARTIAL: the snapshot after a kill at $ms ms reads as $n data stores" >&2
        partial=$(( partial + 1 ))
    fi
    orphaned=$(( orphaned + $(orphans "$WORK/snap") ))
done
echo "collect -o ($new_count data stores, $LATENCY_MS ms per response, a run takes $total ms): $RUNS runs, $killed killed with SIGKILL, $orphaned temporary files orphaned, $partial partial snapshots"
[ "$check_partial" = 0 ] && [ "$partial" = 0 ]

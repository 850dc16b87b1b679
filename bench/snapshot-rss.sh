#!/usr/bin/env bash
# Peak memory and throughput of snapshot reading.
#
# Writes synthetic snapshots (gen_snapshot example): a list-fhir-datastores output and a
# JSON Lines file of SIZE_MB each (default 1100 MB, over 1 GB), a 10 MB list as the
# baseline, and a 180 MB list for throughput. Then measures, with /usr/bin/time:
#   - peak RSS of streaming every record (snapshot::for_each_record) of each file: memory
#     must follow the largest record, so the 1 GB figures must stay near the 10 MB one;
#   - peak RSS and throughput of snapshot::read_files (holds every record: an Inventory)
#     on the 180 MB list, against serde_json from_slice::<IgnoredAny> of the same file.
#
# Usage: bench/snapshot-rss.sh            (SIZE_MB=1100 WORK=/tmp/hlaudit-bench KEEP=0)
# Needs: cargo, /usr/bin/time (GNU time), about 2.5 GB of free disk in WORK.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MB="${SIZE_MB:-1100}"
WORK="${WORK:-${TMPDIR:-/tmp}/hlaudit-bench}"
KEEP="${KEEP:-0}"
TARGET="${CARGO_TARGET_DIR:-target}"

if [ ! -x /usr/bin/time ]; then
    echo "bench/snapshot-rss.sh needs GNU time at /usr/bin/time (apt-get install time)" >&2
    exit 2
fi

cargo build --release --quiet -p hlaudit-model --example gen_snapshot --example read_snapshot
GEN="$TARGET/release/examples/gen_snapshot"
READ="$TARGET/release/examples/read_snapshot"

mkdir -p "$WORK"
cleanup() { if [ "$KEEP" != 1 ]; then rm -f "$WORK"/*.json "$WORK"/*.jsonl; fi; }
trap cleanup EXIT

gen() { [ -s "$WORK/$3" ] || "$GEN" "$1" "$2" "$WORK/$3" >/dev/null; }
gen list 10 list-10mb.json
gen list 180 list-180mb.json
gen list "$SIZE_MB" list-big.json
gen jsonl "$SIZE_MB" lines-big.jsonl

# run MODE FILE: one line with the file size, peak RSS, CPU seconds (user + system; the
# wall clock is noisy on a shared machine) and throughput over CPU time.
run() {
    local out rss cpu bytes
    out=$(/usr/bin/time -f "rss_kb=%M cpu=%U %S" "$READ" --mode "$1" "$2" 2>&1)
    rss=$(printf '%s\n' "$out" | sed -n 's/^rss_kb=\([0-9]*\).*/\1/p')
    cpu=$(printf '%s\n' "$out" | sed -n 's/.*cpu=\([0-9.]*\) \([0-9.]*\)/\1 \2/p' | awk '{print $1 + $2}')
    bytes=$(stat -c %s "$2")
    awk -v m="$1" -v f="$(basename "$2")" -v b="$bytes" -v r="$rss" -v c="$cpu" -v w="$(printf '%s\n' "$out" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')" \
        'BEGIN { printf "%-8s %-16s %6.0f MB  peak RSS %7.1f MB  cpu %6.2f s (%6.0f MB/s)  wall %6.2f s\n", m, f, b / 1e6, r / 1024, c, b / 1e6 / (c > 0 ? c : 0.001), w }'
}

echo "== peak RSS, streaming every record (for_each_record)"
run stream "$WORK/list-10mb.json"
run stream "$WORK/list-big.json"
run stream "$WORK/lines-big.jsonl"
echo "== read_files (an Inventory holding every record) vs serde_json IgnoredAny, same file"
for _ in 1 2 3; do
    run ignored "$WORK/list-180mb.json"
    run files "$WORK/list-180mb.json"
done
run files "$WORK/list-10mb.json"

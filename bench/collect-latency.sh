#!/usr/bin/env bash
# Wall time of a live collection against the ideal for the latency and the concurrency.
#
# Starts the HealthLake emulator (release build) with STORES generated data stores spread
# over REGIONS regions and LATENCY_MS added to every response, then times
# `hlaudit collect` in several settings, measured in the same run, each against its
# ideal: the round trips that must happen one after another, times the latency.
#   - listing: pages are sequential within a region (each needs the previous NextToken);
#     regions run in parallel, at most CONCURRENCY at once:
#     ideal = ceil(regions / concurrency) * ceil(stores per region / page size) * latency
#   - with tags: one ListTagsForResource per data store, at most CONCURRENCY in flight
#     (besides the listing), starting once the first page is in:
#     ideal = max(listing ideal, latency + ceil(stores / concurrency) * latency)
#
# Usage: bench/collect-latency.sh   (STORES=10000 REGIONS=5 LATENCY_MS=50 PAGE=100
#                                     CONCURRENCIES="8 32 64" WORK=/tmp/hlaudit-collect-bench
#                                     PROFILE=release; PROFILE=debug reuses a test build)
set -euo pipefail
cd "$(dirname "$0")/.."

STORES="${STORES:-10000}"
NREGIONS="${REGIONS:-5}"
LATENCY_MS="${LATENCY_MS:-50}"
PAGE="${PAGE:-100}"
CONCURRENCIES="${CONCURRENCIES:-8 32 64}"
WORK="${WORK:-${TMPDIR:-/tmp}/hlaudit-collect-bench}"
TARGET="${CARGO_TARGET_DIR:-target}"
PROFILE="${PROFILE:-release}"
ALL_REGIONS=(us-east-1 us-east-2 us-west-2 eu-west-1 eu-west-2 ap-south-1 ap-southeast-2 ca-central-1)

if [ "$NREGIONS" -gt "${#ALL_REGIONS[@]}" ]; then
    echo "REGIONS must be at most ${#ALL_REGIONS[@]}" >&2
    exit 2
fi
if [ "$PROFILE" = release ]; then
    cargo build --release --quiet -p hlaudit --bin hlaudit -p hlaudit-emulator --bin hlaudit-emulator
else
    cargo build --quiet -p hlaudit --bin hlaudit -p hlaudit-emulator --bin hlaudit-emulator
fi
HLAUDIT="$TARGET/$PROFILE/hlaudit"
EMULATOR="$TARGET/$PROFILE/hlaudit-emulator"

mkdir -p "$WORK"
PER_REGION=$(( STORES / NREGIONS ))
REGION_LIST=""
SYNTH=()
for (( i = 0; i < NREGIONS; i++ )); do
    r="${ALL_REGIONS[$i]}"
    SYNTH+=(--synthetic "$r=$PER_REGION")
    REGION_LIST="${REGION_LIST:+$REGION_LIST,}$r"
done

"$EMULATOR" --port 0 --latency-ms "$LATENCY_MS" "${SYNTH[@]}" >"$WORK/emulator.out" 2>"$WORK/emulator.err" &
EMU_PID=$!
trap 'kill "$EMU_PID" 2>/dev/null || true; wait "$EMU_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
    grep -q "listening on" "$WORK/emulator.out" 2>/dev/null && break
    sleep 0.1
done
ENDPOINT="$(sed -n 's/^listening on //p' "$WORK/emulator.out")"
if [ -z "$ENDPOINT" ]; then
    echo "the emulator did not start:" >&2
    cat "$WORK/emulator.err" >&2
    exit 2
fi

now_ms() { date +%s%3N; }
ceil_div() { echo $(( ($1 + $2 - 1) / $2 )); }

PAGES=$(ceil_div "$PER_REGION" "$PAGE")
TOTAL=$(( PER_REGION * NREGIONS ))

run() { # concurrency, extra flags...
    local c="$1"; shift
    local start end
    start=$(now_ms)
    env -u AWS_PROFILE AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench \
        AWS_EC2_METADATA_DISABLED=true \
        "$HLAUDIT" collect --endpoint-url "$ENDPOINT" --regions "$REGION_LIST" \
        --page-size "$PAGE" --concurrency "$c" --no-kms --no-trails --no-caller-identity \
        -o "$WORK/snapshot.json" "$@" 2>"$WORK/collect.err" || {
        echo "collect failed:" >&2; cat "$WORK/collect.err" >&2; exit 2; }
    end=$(now_ms)
    echo $(( end - start ))
}

printf '%s data stores over %s regions (%s each), pages of %s, %s ms latency\n' \
    "$TOTAL" "$NREGIONS" "$PER_REGION" "$PAGE" "$LATENCY_MS"
printf '%-28s %12s %12s %8s\n' "setting" "wall (ms)" "ideal (ms)" "ratio"
for c in $CONCURRENCIES; do
    waves=$(ceil_div "$NREGIONS" "$c")
    list_ideal=$(( waves * PAGES * LATENCY_MS ))
    wall=$(run "$c" --no-tags)
    printf '%-28s %12s %12s %8s\n' "listing only, concurrency $c" "$wall" "$list_ideal" \
        "$(awk -v a="$wall" -v b="$list_ideal" 'BEGIN { printf "%.2f", a / b }')"
    tags_ideal=$(( LATENCY_MS + $(ceil_div "$TOTAL" "$c") * LATENCY_MS ))
    [ "$tags_ideal" -lt "$list_ideal" ] && tags_ideal=$list_ideal
    wall=$(run "$c")
    printf '%-28s %12s %12s %8s\n' "with tags, concurrency $c" "$wall" "$tags_ideal" \
        "$(awk -v a="$wall" -v b="$tags_ideal" 'BEGIN { printf "%.2f", a / b }')"
done
count=$(grep -c '"properties"' "$WORK/snapshot.json" || true)
echo "last snapshot: $count records"

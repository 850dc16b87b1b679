#!/usr/bin/env bash
# Coverage-guided fuzzing of one reader with AFL++ on the stable toolchain (cargo-afl from
# crates.io, which builds its own AFL++ runtime on install: about three minutes the first
# time). The mutation harness (bench/robustness.sh) mutates the fixtures blindly; this
# follows the code's branches, and finds what needs several lucky mutations at once.
#
# Usage: bench/fuzz.sh READER [SECONDS]
#   READER: snapshot | policy | waiver | report | json-doc | arn | timestamp
#   SECONDS: how long to fuzz (default 300)
# Crashes land in target/fuzz/out-READER/default/crashes/; replay one with
#   target/fuzz/release/hlaudit-fuzz READER < FILE
# and keep it, once fixed, in fixtures/robustness/READER/ (the harness replays those).
set -euo pipefail
cd "$(dirname "$0")/.."

READER="${1:?usage: bench/fuzz.sh READER [SECONDS]}"
SECONDS_TO_RUN="${2:-300}"
export CARGO_TARGET_DIR="$PWD/target/fuzz"
export PATH="$CARGO_TARGET_DIR/bin:$PATH"

if ! command -v cargo-afl >/dev/null; then
    cargo install cargo-afl --locked --root "$CARGO_TARGET_DIR"
fi
(cd bench/fuzz && cargo afl build --release)

IN="$CARGO_TARGET_DIR/in-$READER"
rm -rf "$IN" && mkdir -p "$IN"
case "$READER" in
    snapshot) cp fixtures/snapshots/*.json fixtures/snapshots/*.jsonl fixtures/robustness/snapshot/* "$IN"/ 2>/dev/null || true ;;
    policy) cp fixtures/waivers/policies.yaml rules/operations.yaml rules/analytics.yaml "$IN"/ ;;
    waiver) cp fixtures/waivers/waivers.yaml fixtures/waivers/expired.yaml "$IN"/ ;;
    report) cp fixtures/baselines/before.json "$IN"/ ;;
    json-doc) printf '%s' '{"issuer":"https://a","code_challenge_methods_supported":["S256"],"capabilities":["launch-ehr"]}' > "$IN/metadata.json" ;;
    arn) printf '%s' 'arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/abc' > "$IN/arn" ;;
    timestamp) printf '%s' '2025-06-02T14:20:31.512Z' > "$IN/iso"; printf '%s' '1603761064.881' > "$IN/epoch" ;;
    *) echo "unknown reader $READER" >&2; exit 2 ;;
esac
cp "fixtures/robustness/$READER"/* "$IN"/ 2>/dev/null || true

OUT="$CARGO_TARGET_DIR/out-$READER"
AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
    cargo afl fuzz -i "$IN" -o "$OUT" -V "$SECONDS_TO_RUN" -t 1000 \
    "$CARGO_TARGET_DIR/release/hlaudit-fuzz" "$READER" >"$CARGO_TARGET_DIR/fuzz-$READER.log" 2>&1 || true
crashes=$(find "$OUT/default/crashes" -type f -name 'id:*' | wc -l)
hangs=$(find "$OUT/default/hangs" -type f -name 'id:*' | wc -l)
execs=$(sed -n 's/^execs_done *: *//p' "$OUT/default/fuzzer_stats")
echo "$READER: $execs executions in ${SECONDS_TO_RUN}s, $crashes crashes, $hangs hangs (in $OUT/default)"

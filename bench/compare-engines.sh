#!/usr/bin/env bash
# The ten simple policies of issue 19 in three engines, side by side: hlaudit
# (bench/ten-policies.yaml), a plain Python 3 script (bench/ten_policies.py: json.load and a
# loop) and regorus, the Rego interpreter in Rust (bench/ten_policies.rego, run by the small
# standalone runner in bench/regorus/). Target: hlaudit at least 5x faster than the script and
# 25x faster than regorus.
#
# 1. Builds hlaudit (release), the data store generator when the input is missing, and the
#    regorus runner (its own workspace and lock file; target dir bench/regorus/target).
# 2. Agreement on small inputs made to be awkward: bench/ten-policies-edge.json (absent, null
#    and wrong-typed fields, which must fail closed; ARNs that are not quite ARNs; metadata
#    that is not JSON, not an object, or has a BOM) must give exactly
#    bench/ten-policies-edge.expected in all three engines. In
#    bench/ten-policies-duplicate-names.json the SMART metadata repeats a name (also spelt
#    with an escape): hlaudit and the script must give bench/ten-policies-duplicate-names.expected
#    (such metadata is not JSON to them); regorus's json.unmarshal keeps the last value, so its
#    differences are shown, not failed. bench/ten-policies-reader-limits.json holds metadata at
#    the limits of JSON readers (nesting 127 and 128 deep, lone and paired surrogates, numbers
#    beyond a double, in fields the ten policies read and in ones they do not): all three must
#    give bench/ten-policies-reader-limits.expected, and hlaudit the same again beside a policy
#    that reads the whole document (a verdict must not depend on the other policies loaded).
# 3. Times the whole processes over N generated data stores, RUNS rounds, each round running
#    every row once in turn (so load on the machine hits all rows alike), each timed run
#    right after an untimed run of the same row (WARMUP=1; WARMUP=0 leaves it out), and prints the
#    median wall time, CPU time (user + system: steadier than wall time when others share
#    the machine, and hlaudit uses every core where the others use one) and peak RSS of each
#    row (GNU time '%e %M %U %S'), the load average around the rounds, and the ratios
#    python/hlaudit and regorus/hlaudit against the `--format none` row (how a CI gate runs
#    it). The `--format json` row is the run whose report gives hlaudit's violations.
# 4. Times evaluation alone, the other reading of the targets: each engine by its own clock
#    with its input already read (hlaudit's -vv timings, BENCH_PHASES in the other two),
#    medians of RUNS, and the same two ratios over those.
# 5. Checks that all three engines give exactly the same violations over the N data stores
#    (`POLICY-ID<TAB>ARN` lines, sorted; hlaudit's are the FAIL and ERROR findings of its JSON
#    report, read by bench/report_violations.py) and that every round gave the same output.
#
# Exits 1 when two engines disagree (on any input) or a run fails.
#
# Usage: bench/compare-engines.sh
#   N=100000 RUNS=3 WORK=/tmp/hlaudit-bench   the input is $WORK/datastores-$N.json
#   WARMUP=1          an untimed run of each row before its timed one. Without it, the row
#                     after the Python script or regorus starts where that process left the
#                     machine's memory: on this 2-core VM, an hlaudit run then spent 0.5 s
#                     of system time zeroing pages instead of 0.06 s (1.2 s wall instead of
#                     0.85 s), whichever build, so the first row of each round paid for the
#                     last one.
#   HLAUDIT=PATH      time this hlaudit binary instead of building target/release/hlaudit
#   BEFORE=PATH       also time another hlaudit binary (e.g. a build of an earlier commit)
#   PYTHON=python3    the interpreter of the script
set -euo pipefail
cd "$(dirname "$0")/.."

N="${N:-100000}"
RUNS="${RUNS:-3}"
WARMUP="${WARMUP:-1}"
WORK="${WORK:-${TMPDIR:-/tmp}/hlaudit-bench}"
FILE="$WORK/datastores-$N.json"
PYTHON="${PYTHON:-python3}"
BEFORE="${BEFORE:-}"
TARGET="${CARGO_TARGET_DIR:-target}"
OUT=bench/out/compare-engines
REGORUS=bench/regorus/target/release/ten-policies-regorus
POLICIES=(bench/ten-policies.yaml bench/ten_policies.py bench/ten_policies.rego)

mkdir -p "$WORK" "$OUT"
if [ ! -x /usr/bin/time ]; then
    echo "compare-engines: needs GNU time (/usr/bin/time) for wall time and peak RSS" >&2
    exit 2
fi

echo "== building"
if [ -z "${HLAUDIT:-}" ]; then
    cargo build --release --locked --quiet -p hlaudit
    HLAUDIT="$TARGET/release/hlaudit"
fi
if [ ! -s "$FILE" ]; then
    cargo build --release --locked --quiet -p hlaudit-rules --example gen_datastores
    "$TARGET/release/examples/gen_datastores" "$N" "$FILE"
fi
# The runner is its own workspace: its target dir stays inside it, away from hlaudit's.
CARGO_TARGET_DIR="$PWD/bench/regorus/target" \
    cargo build --release --locked --quiet --manifest-path bench/regorus/Cargo.toml

STATUS=0
# The same flags for every hlaudit run: only the ten policies, no configuration file, a
# fixed evaluation time, and an exit code that says nothing about findings.
hl_args=(check --no-builtin --no-config --rules bench/ten-policies.yaml
    --as-of 2026-01-01T00:00:00Z --fail-on none)

# violations ENGINE INPUT: prints the engine's violations of INPUT as sorted lines.
violations() {
    case "$1" in
    hlaudit)
        "$HLAUDIT" "${hl_args[@]}" "$2" --format json >"$OUT/small-report.json"
        "$PYTHON" bench/report_violations.py "$OUT/small-report.json"
        ;;
    hlaudit+WHOLE-01)
        "$HLAUDIT" "${hl_args[@]}" --rules "$OUT/whole-document.yaml" "$2" --format json \
            >"$OUT/small-report.json"
        "$PYTHON" bench/report_violations.py "$OUT/small-report.json" | grep -v '^WHOLE-01' || true
        ;;
    python) "$PYTHON" bench/ten_policies.py "$2" ;;
    regorus) "$REGORUS" bench/ten_policies.rego "$2" ;;
    esac
}

# check_small INPUT EXPECTED STRICT_ENGINES...: every engine named must give EXPECTED; the
# others' differences are shown.
check_small() {
    local input="$1" expected="$2" engine base
    shift 2
    base="$(basename "$input" .json)"
    local engines=(hlaudit python regorus)
    for engine in "$@"; do
        [[ " ${engines[*]} " == *" $engine "* ]] || engines+=("$engine")
    done
    for engine in "${engines[@]}"; do
        if ! violations "$engine" "$input" >"$OUT/$base.$engine.txt"; then
            printf '  %-16s %s: FAILED (see above)\n' "$engine" "$base"
            STATUS=1
        elif cmp -s "$OUT/$base.$engine.txt" "$expected"; then
            printf '  %-16s %s: the %d expected violations\n' "$engine" "$base" "$(wc -l <"$expected")"
        elif [[ " $* " == *" $engine "* ]]; then
            printf '  %-16s %s: DIFFERS from %s (< expected, > %s):\n' "$engine" "$base" "$expected" "$engine"
            diff "$expected" "$OUT/$base.$engine.txt" | sed -n 's/^[<>]/    &/p' | head -20 || true
            STATUS=1
        else
            printf '  %-16s %s: differs from %s, as known (< expected, > %s):\n' "$engine" "$base" "$expected" "$engine"
            diff "$expected" "$OUT/$base.$engine.txt" | sed -n 's/^[<>]/    &/p' | head -20 || true
        fi
    done
}

echo "== agreement on awkward records"
check_small bench/ten-policies-edge.json bench/ten-policies-edge.expected hlaudit python regorus
check_small bench/ten-policies-duplicate-names.json bench/ten-policies-duplicate-names.expected hlaudit python

cat >"$OUT/whole-document.yaml" <<'YAML'
policies:
  - id: WHOLE-01
    title: SMART metadata is a JSON object
    severity: low
    description: Reads the whole SMART metadata document, as the built-in HL-MD-01 does.
    assert: {path: IdentityProviderConfiguration.Metadata|json, type: object}
YAML
check_small bench/ten-policies-reader-limits.json bench/ten-policies-reader-limits.expected \
    hlaudit python regorus hlaudit+WHOLE-01

# Rows: a label each, and the command (hlaudit's are completed in run_row).
rows=("hlaudit --format none" "hlaudit --format json")
if [ -n "$BEFORE" ]; then
    rows+=("before --format none" "before --format json")
fi
rows+=("python3 script" "regorus")

# run_row INDEX ROUND [warm]: runs one row once, appends "wall kb user sys" to its times and
# keeps its violations output (for the rows that give one); with `warm`, records nothing.
run_row() {
    local label="${rows[$1]}" round="$2" out="$OUT/row$1.round$2.out" rc=0
    if [ "${3:-}" = warm ]; then out="$OUT/warm.out"; fi
    local cmd
    case "$label" in
    "hlaudit --format none") cmd=("$HLAUDIT" "${hl_args[@]}" "$FILE" --format none) ;;
    "hlaudit --format json") cmd=("$HLAUDIT" "${hl_args[@]}" "$FILE" --format json) ;;
    "before --format none") cmd=("$BEFORE" "${hl_args[@]}" "$FILE" --format none) ;;
    "before --format json") cmd=("$BEFORE" "${hl_args[@]}" "$FILE" --format json) ;;
    "python3 script") cmd=("$PYTHON" bench/ten_policies.py "$FILE") ;;
    regorus) cmd=("$REGORUS" bench/ten_policies.rego "$FILE") ;;
    esac
    /usr/bin/time -o "$OUT/time.txt" -f '%e %M %U %S' "${cmd[@]}" >"$out" 2>"$OUT/row$1.err" || rc=$?
    if [ "$rc" != 0 ]; then
        echo "  $label failed (exit $rc):" >&2
        tail -5 "$OUT/row$1.err" >&2
        STATUS=1
    fi
    if [ "${3:-}" = warm ]; then
        rm -f "$out"
        return
    fi
    tail -1 "$OUT/time.txt" >>"$OUT/row$1.times"
    case "$label" in
    *"--format none") rm -f "$out" ;;
    *"--format json")
        "$PYTHON" bench/report_violations.py "$out" >"$out.txt" || STATUS=1
        rm -f "$out"
        mv "$out.txt" "$out"
        ;;
    esac
}

echo "== $N data stores ($(du -m "$FILE" | cut -f1) MB), $RUNS rounds of ${#rows[@]} rows$([ "$WARMUP" = 1 ] && echo ', each timed after an untimed run of itself')"
# What was timed: the tree the binary was built from, uncommitted changes included.
tree="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
git diff --quiet HEAD -- crates 2>/dev/null || tree="$tree with uncommitted changes in crates/"
echo "  hlaudit: $HLAUDIT (built $(date -u -r "$HLAUDIT" +%H:%M), tree $tree)${BEFORE:+; before: $BEFORE}"
for i in "${!rows[@]}"; do rm -f "$OUT/row$i.times"; done
echo "  load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$RUNS"); do
    for i in "${!rows[@]}"; do
        if [ "$WARMUP" = 1 ]; then run_row "$i" "$round" warm; fi
        run_row "$i" "$round"
    done
    echo "  round $round done"
done
echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# median FILE COLUMN: the median of a column of numbers.
median() {
    cut -d' ' -f"$2" "$1" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

declare -A wall rss cpu
for i in "${!rows[@]}"; do
    wall[$i]=$(median "$OUT/row$i.times" 1)
    rss[$i]=$(median "$OUT/row$i.times" 2)
    awk '{ print $3 + $4 }' "$OUT/row$i.times" >"$OUT/row$i.cpu"
    cpu[$i]=$(median "$OUT/row$i.cpu" 1)
done
printf '\n%-24s %9s %9s %12s %16s %15s\n' "row (median of $RUNS)" "wall (s)" "CPU (s)" "peak RSS" "wall/hlaudit's" "CPU/hlaudit's"
for i in "${!rows[@]}"; do
    awk -v l="${rows[$i]}" -v w="${wall[$i]}" -v c="${cpu[$i]}" -v kb="${rss[$i]}" \
        -v h="${wall[0]}" -v hc="${cpu[0]}" \
        'BEGIN { printf "%-24s %9.2f %9.2f %9.0f MB %15.2fx %14.2fx\n", l, w, c, kb / 1024, w / h, c / hc }'
done

# ratio LABEL ROW_INDEX_OF_HLAUDIT TARGET_ROW MIN: prints a ratio against a target.
ratio() {
    awk -v l="$1" -v a="${wall[$3]}" -v b="${wall[$2]}" -v min="$4" 'BEGIN {
        r = a / b
        printf "%-32s %6.2fx  (target >= %dx: %s)\n", l, r, min, (r >= min ? "met" : "NOT met") }'
}
py=$((${#rows[@]} - 2))
rego=$((${#rows[@]} - 1))
echo
ratio "python/hlaudit (--format none)" 0 "$py" 5
ratio "regorus/hlaudit (--format none)" 0 "$rego" 25
if [ -n "$BEFORE" ]; then
    ratio "python/before (--format none)" 2 "$py" 5
    ratio "regorus/before (--format none)" 2 "$rego" 25
fi

# The other reading of the targets: evaluation alone, each engine by its own clock, with the
# input already in memory (hlaudit's `-vv` timings: "data stores read", then "findings
# evaluated"; the script's and the regorus runner's BENCH_PHASES line). Reading the input is
# each engine's own business (serde_json into regorus values, json.load, hlaudit's checked
# records), so this compares the policy engines only.
echo
echo "== evaluation only, each engine's own clock (median of $RUNS; WARMUP as above)"
# phases ENGINE: prints "load eval" in seconds for one run of ENGINE over $FILE.
phases() {
    local err="$OUT/phases.err"
    case "$1" in
    hlaudit)
        "$HLAUDIT" "${hl_args[@]}" "$FILE" --format none -vv >/dev/null 2>"$err" || STATUS=1
        sed 's/\x1b\[[0-9;]*m//g' "$err" | awk '
            / data stores read in / { for (i = 1; i < NF; i++) if ($i == "in") load = $(i + 1) }
            / (findings|pairs) evaluated in / { for (i = 1; i < NF; i++) if ($i == "in") ev = $(i + 1) }
            END { print load, ev }'
        ;;
    python | regorus)
        if [ "$1" = python ]; then
            BENCH_PHASES=1 "$PYTHON" bench/ten_policies.py "$FILE" >/dev/null 2>"$err" || STATUS=1
        else
            BENCH_PHASES=1 "$REGORUS" bench/ten_policies.rego "$FILE" >/dev/null 2>"$err" || STATUS=1
        fi
        sed -n 's/^phases: load=\([0-9.]*\) eval=\([0-9.]*\)$/\1 \2/p' "$err"
        ;;
    esac
}
declare -A load_s eval_s
for engine in hlaudit python regorus; do
    rm -f "$OUT/phases.$engine"
    for round in $(seq "$RUNS"); do
        if [ "$WARMUP" = 1 ]; then phases "$engine" >/dev/null; fi
        phases "$engine" >>"$OUT/phases.$engine"
    done
    load_s[$engine]=$(median "$OUT/phases.$engine" 1)
    eval_s[$engine]=$(median "$OUT/phases.$engine" 2)
done
printf '%-10s %10s %10s %18s\n' engine "load (s)" "eval (s)" "eval/hlaudit's"
for engine in hlaudit python regorus; do
    awk -v e="$engine" -v l="${load_s[$engine]}" -v v="${eval_s[$engine]}" -v h="${eval_s[hlaudit]}" \
        'BEGIN { printf "%-10s %10.3f %10.3f %17.2fx\n", e, l, v, v / h }'
done
awk -v p="${eval_s[python]}" -v r="${eval_s[regorus]}" -v h="${eval_s[hlaudit]}" 'BEGIN {
    printf "%-32s %6.2fx  (target >= 5x: %s)\n", "python/hlaudit (evaluation)", p / h, (p / h >= 5 ? "met" : "NOT met")
    printf "%-32s %6.2fx  (target >= 25x: %s)\n", "regorus/hlaudit (evaluation)", r / h, (r / h >= 25 ? "met" : "NOT met") }'

echo
echo "== agreement on the $N data stores"
# Every round of a row gave the same violations.
for i in "${!rows[@]}"; do
    [ -f "$OUT/row$i.round1.out" ] || continue
    for round in $(seq 2 "$RUNS"); do
        if ! cmp -s "$OUT/row$i.round1.out" "$OUT/row$i.round$round.out"; then
            echo "  ${rows[$i]}: round $round gave other violations than round 1"
            STATUS=1
        fi
    done
done
reference="$OUT/row1.round1.out"
echo "  hlaudit: $(wc -l <"$reference") violations ($(cut -f1 "$reference" | sort | uniq -c | awk '{ printf "%s%s %d", s, $2, $1; s = ", " }'))"
for i in "${!rows[@]}"; do
    [ "$i" = 1 ] && continue
    [ -f "$OUT/row$i.round1.out" ] || continue
    if cmp -s "$reference" "$OUT/row$i.round1.out"; then
        echo "  ${rows[$i]}: the same violations"
    else
        echo "  ${rows[$i]}: DIFFERENT violations (< hlaudit, > ${rows[$i]}):"
        diff "$reference" "$OUT/row$i.round1.out" | sed -n 's/^[<>]/    &/p' | head -20 || true
        STATUS=1
    fi
done
echo "  (policies: ${POLICIES[*]}; outputs in $OUT)"
if [ "$STATUS" = 0 ]; then
    echo "all engines agree"
else
    echo "engines DISAGREE or a run failed" >&2
fi
exit "$STATUS"

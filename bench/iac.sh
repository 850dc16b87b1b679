#!/usr/bin/env bash
# Reading infrastructure code: `hlaudit check --format none` with the built-in pack over
# generated CloudFormation templates and over one large Terraform plan, and cfn-guard 3 over
# the same templates in the same run when it is installed.
#
# 1. Generates (bench/gen_iac.py, seeded, so every run sees the same input) TEMPLATES
#    templates, half JSON and half YAML with short-form tags (!Ref, !Sub, !GetAtt, !If...),
#    about 20 resources each, one in ten with an AWS::HealthLake::FHIRDatastore (customer
#    managed key, AWS owned key, none, or chosen by a condition), and the JSON of
#    `terraform show -json` (format 1.2, about 50 MB, PLAN_RESOURCES resource changes, six of
#    them awscc_healthlake_fhir_datastore).
# 2. Runs, RUNS times and interleaved so that both tools see the same machine state:
#    `hlaudit check DIR`, `hlaudit check PLAN` and, when `cfn-guard` is on PATH (or
#    CFN_GUARD names it), `cfn-guard validate --data DIR --rules bench/iac-guard.rules`,
#    one rule equivalent to HL-ENC-01. cfn-guard evaluates that one rule; hlaudit evaluates
#    the whole pack (30 policies), so the ratio is an upper bound of what reading costs.
# 3. Prints for each: median wall time, files (or MB) per second and peak RSS under GNU time,
#    then the ratio hlaudit / cfn-guard on the templates.
# Exit code 1 from hlaudit (findings) and 19 from cfn-guard (non-compliant) are expected; any
# other failure prints the tool's stderr and stops the bench.
#
# Usage: bench/iac.sh   (TEMPLATES=2000 PLAN_RESOURCES=5000 RUNS=5 SEED=7
#                        WORK=/tmp/hlaudit-bench-iac KEEP=0 HLAUDIT=target/release/hlaudit)
#   HLAUDIT: a binary to time instead of building one (cargo build --release -p hlaudit).
#   KEEP=1 keeps the generated input in WORK for the next run.
# cfn-guard: `cargo install cfn-guard --locked` (3.x), then put its bin directory on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPLATES="${TEMPLATES:-2000}"
PLAN_RESOURCES="${PLAN_RESOURCES:-5000}"
RUNS="${RUNS:-5}"
SEED="${SEED:-7}"
WORK="${WORK:-${TMPDIR:-/tmp}/hlaudit-bench-iac}"
KEEP="${KEEP:-0}"
TARGET="${CARGO_TARGET_DIR:-target}"
DIR="$WORK/templates-$TEMPLATES-$SEED"
PLAN="$WORK/plan-$PLAN_RESOURCES-$SEED.json"
RULES="bench/iac-guard.rules"

mkdir -p "$WORK"
cleanup() { if [ "$KEEP" != 1 ]; then rm -rf "$DIR" "$DIR.complete" "$PLAN"; fi; }
trap cleanup EXIT

# Generated input, checked once (every Ref, GetAtt and Condition resolves; the plan has
# one change per resource). The directory is complete once $DIR.complete exists (beside
# it, not in it: hlaudit reads every file of the directory).
if [ ! -f "$DIR.complete" ]; then
    rm -rf "$DIR"
    python3 bench/gen_iac.py templates "$DIR" --count "$TEMPLATES" --seed "$SEED"
    python3 bench/gen_iac.py check "$DIR"
    : >"$DIR.complete"
fi
if [ ! -s "$PLAN" ]; then
    python3 bench/gen_iac.py plan "$PLAN.tmp" --resources "$PLAN_RESOURCES" --seed "$SEED"
    python3 bench/gen_iac.py check "$PLAN.tmp"
    mv "$PLAN.tmp" "$PLAN"
fi
plan_mb=$(awk -v b="$(wc -c <"$PLAN")" 'BEGIN { printf "%.1f", b / 1e6 }')
plan_changes=$(grep -o '"change":{"actions"' "$PLAN" | wc -l)

if [ -n "${HLAUDIT:-}" ]; then
    hlaudit="$HLAUDIT"
else
    cargo build --release --quiet -p hlaudit
    hlaudit="$TARGET/release/hlaudit"
fi
guard="${CFN_GUARD:-$(command -v cfn-guard || true)}"
if [ -z "$guard" ]; then
    echo "cfn-guard is not on PATH: the comparison is skipped. To install it (3.x, a few minutes):"
    echo "    cargo install cfn-guard --locked --root /tmp/cfn-guard && export PATH=/tmp/cfn-guard/bin:\$PATH"
fi

# What each input holds, as hlaudit sees it: its summary line with the default format.
for input in "$DIR" "$PLAN"; do
    rc=0
    "$hlaudit" check "$input" >"$WORK/summary.txt" 2>"$WORK/stderr.txt" || rc=$?
    if [ "$rc" -gt 1 ]; then
        echo "hlaudit check $input exited with $rc:" >&2
        cat "$WORK/stderr.txt" >&2
        exit 1
    fi
    printf '%s: %s\n' "$(basename "$input")" "$(grep -E '^[0-9]+ data stores?,' "$WORK/summary.txt" | tail -1)"
done

# timed LABEL OK_CODES CMD...: runs CMD once under GNU time, appends "wall_seconds peak_kb"
# to $WORK/times.LABEL; an exit code outside OK_CODES (space separated) prints CMD's stderr
# and stops the bench.
timed() {
    local label="$1" ok="$2" rc=0 t s
    shift 2
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -o "$WORK/time.txt" -f "%e %M" "$@" >/dev/null 2>"$WORK/stderr.txt" || rc=$?
        t=$(tail -1 "$WORK/time.txt")
    else
        s=$(date +%s.%N)
        "$@" >/dev/null 2>"$WORK/stderr.txt" || rc=$?
        t="$(echo "$(date +%s.%N) - $s" | bc) 0"
    fi
    case " $ok " in
        *" $rc "*) ;;
        *)
            echo "$label: \`$*\` exited with $rc:" >&2
            cat "$WORK/stderr.txt" >&2
            exit 1
            ;;
    esac
    echo "$t" >>"$WORK/times.$label"
}

rm -f "$WORK"/times.*
echo "== $RUNS runs each, interleaved: $TEMPLATES templates in $DIR, plan $PLAN ($plan_mb MB)"
for run in $(seq "$RUNS"); do
    timed templates "0 1" "$hlaudit" check "$DIR" --format none
    timed plan "0 1" "$hlaudit" check "$PLAN" --format none
    if [ -n "$guard" ]; then
        timed guard "0 19" "$guard" validate --data "$DIR" --rules "$RULES" --show-summary none
    fi
    printf '.'
done
echo

# median LABEL: the median wall time of the runs of LABEL.
median() { cut -d' ' -f1 "$WORK/times.$1" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# peak LABEL: the largest peak RSS of the runs of LABEL, in MB.
peak() { cut -d' ' -f2 "$WORK/times.$1" | sort -g | tail -1 | awk '{ printf "%.1f", $1 / 1024 }'; }

t=$(median templates)
awk -v w="$t" -v n="$TEMPLATES" -v m="$(peak templates)" \
    'BEGIN { printf "%-28s %8.3f s  %8.0f files/s  peak RSS %7s MB\n", "hlaudit check templates", w, n / w, m }'
p=$(median plan)
awk -v w="$p" -v mb="$plan_mb" -v n="$plan_changes" -v m="$(peak plan)" \
    'BEGIN { printf "%-28s %8.3f s  %8.1f MB/s (%.0f resource changes/s)  peak RSS %7s MB\n", "hlaudit check plan", w, mb / w, n / w, m }'
if [ -n "$guard" ]; then
    g=$(median guard)
    awk -v w="$g" -v n="$TEMPLATES" -v m="$(peak guard)" -v v="$("$guard" --version 2>/dev/null | head -1)" \
        'BEGIN { printf "%-28s %8.3f s  %8.0f files/s  peak RSS %7s MB\n", v " validate", w, n / w, m }'
    awk -v h="$t" -v g="$g" \
        'BEGIN { printf "hlaudit / cfn-guard on the templates: %.2fx the wall time (%.1fx %s)\n", h / g, (h < g ? g / h : h / g), (h < g ? "faster" : "slower") }'
fi

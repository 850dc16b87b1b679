#!/usr/bin/env bash
# Wall time and peak memory of collecting many accounts, against the critical path.
#
# Issue 14's speed target: 1,000 accounts x 4 regions through the emulator (most accounts
# empty, 5,000 data stores in all), 50 ms latency per HealthLake call, default settings:
# wall time within 1.5x of the critical path, and memory flat in the number of accounts.
#
# Set-up (not timed): moto's server (from .venv) gives each account an IAM access key,
# so STS GetCallerIdentity answers each profile's account as AWS would; bench/gen_org.py
# writes one profile per account and STORES data stores (tags, AWS owned keys, so no KMS
# call) spread over the first WITH_STORES accounts; the emulator serves them with
# LATENCY_MS before every answer and maps each access key to its account.
#
# Then, for each count in ACCOUNT_COUNTS, times `hlaudit collect --profile ...` (one
# profile per account, default settings: tags, KMS, caller identity, concurrency 8) over
# the first COUNT accounts, and reads its peak RSS with GNU time. With MODE=roles it
# times `hlaudit collect --accounts ... --role-name hlaudit-audit` instead: one base
# credential set and a role assumed in each account through moto's STS (the shape of an
# --org run), the emulator learning each assumed key's account from moto. Every run collects the
# same STORES data stores, so what changes between runs is the number of accounts only.
#
# The critical path at concurrency C counts HealthLake calls only (each LATENCY_MS);
# the STS and CloudTrail calls go to moto, which adds no latency, and their time counts
# against hlaudit:
#   - listing: every region's pages share C request slots:
#       ceil(accounts * regions * pages / C) * latency
#   - calls: per data store one ListTagsForResource and (JOBS=1, the default) one
#     ListFHIRExportJobs and one ListFHIRImportJobs, and (TPROFILES=1, the default) one
#     ListDataTransformationProfiles per (account, region), all on C other slots, after
#     a first page: latency + ceil(calls / C) * latency
#   - the slowest account's calls in sequence:
#       (regions * pages + its stores * calls per store) * latency
#   critical path = the largest of the three.
# JOBS=0 / TPROFILES=0 / TRAILS=0 run with --no-jobs / --no-transformation-profiles /
# --no-trails: all three at 0 is the workload of the first measurements below, made
# before those calls existed.
#
# Measured on 2 busy cores, release build (ratio = wall / critical path; target 1.5).
# JOBS=0 TPROFILES=0 TRAILS=0 (the data stores' own calls, as the target was set):
#   MODE=roles     accounts  wall     critical  ratio  peak RSS  CPU
#     before:       1,000    102.5 s  31.3 s    3.28     171 MB
#     now:            100     34.8 s  31.3 s    1.11      84 MB   1.5 s
#                     300     32.8 s  31.3 s    1.05     101 MB   1.8 s
#                   1,000     33.6 s  31.3 s    1.07     114 MB   3.4 s
#   MODE=profiles     100     33.8 s  31.3 s    1.08     334 MB   2.1 s
#                   1,000     43.3 s  31.3 s    1.38   2,616 MB   9.3 s
# Default settings (jobs, profiles and trails on; CloudTrail at moto), MODE=roles:
#                     100    103.8 s  96.3 s    1.08     122 MB   4.2 s
#                   1,000    149.8 s 118.8 s    1.26     150 MB   8.4 s
# Roles used to be all assumed and identified before any listing started (about 20 s of
# STS at 1,000 accounts); now each account is listed as soon as its own role is checked,
# one AssumeRole per account, with at most 16 accounts per request slot in flight.
# Through profiles, memory still grows with the accounts: the AWS config loader parses
# the whole credentials file for every profile and each profile's configuration keeps
# its own copy (about 2.4 MB and 13 ms each for a 1,000-profile file). An organization
# is collected through roles (--org / --accounts), whose memory stays near flat.
#
# Usage: bench/collect-org.sh   (ACCOUNT_COUNTS="100 300 1000" STORES=5000 WITH_STORES=50
#                                LATENCY_MS=50 CONCURRENCY=8 WORK=/tmp/hlaudit-collect-org
#                                MODE=profiles|roles JOBS=1 TPROFILES=1 TRAILS=1
#                                PROFILE=release; PROFILE=debug reuses a test build;
#                                SKIP_BUILD=1 runs the binaries as built)
# Needs: .venv with moto[server] and boto3 (.ci/setup.sh), GNU time at /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."

ACCOUNT_COUNTS="${ACCOUNT_COUNTS:-100 300 1000}"
STORES="${STORES:-5000}"
WITH_STORES="${WITH_STORES:-50}"
LATENCY_MS="${LATENCY_MS:-50}"
CONCURRENCY="${CONCURRENCY:-8}"
# profiles: a profile per account (--profile, repeated); roles: one base credential set
# and --accounts with --role-name, a role assumed in each account (as --org does).
MODE="${MODE:-profiles}"
JOBS="${JOBS:-1}"
TPROFILES="${TPROFILES:-1}"
TRAILS="${TRAILS:-1}"
FLAGS=()
[ "$JOBS" = 0 ] && FLAGS+=(--no-jobs)
[ "$TPROFILES" = 0 ] && FLAGS+=(--no-transformation-profiles)
[ "$TRAILS" = 0 ] && FLAGS+=(--no-trails)
WORK="${WORK:-${TMPDIR:-/tmp}/hlaudit-collect-org}"
TARGET="${CARGO_TARGET_DIR:-target}"
PROFILE="${PROFILE:-release}"
REGIONS=(us-east-1 us-west-2 eu-west-2 ap-southeast-2)
PAGE=100 # the emulator's page size when none is asked, as HealthLake's

MAX_ACCOUNTS=0
for n in $ACCOUNT_COUNTS; do
    [ "$n" -gt "$MAX_ACCOUNTS" ] && MAX_ACCOUNTS=$n
    if [ "$n" -lt "$WITH_STORES" ]; then
        echo "every count in ACCOUNT_COUNTS must be at least WITH_STORES ($WITH_STORES)" >&2
        exit 2
    fi
done
for tool in /usr/bin/time .venv/bin/moto_server .venv/bin/python; do
    if [ ! -x "$tool" ]; then
        echo "bench/collect-org.sh needs $tool (GNU time; .ci/setup.sh for .venv)" >&2
        exit 2
    fi
done
if [ "${SKIP_BUILD:-0}" = 1 ]; then
    : # the binaries of target/$PROFILE as they are
elif [ "$PROFILE" = release ]; then
    cargo build --release --locked --quiet -p hlaudit --bin hlaudit -p hlaudit-emulator --bin hlaudit-emulator
else
    cargo build --locked --quiet -p hlaudit --bin hlaudit -p hlaudit-emulator --bin hlaudit-emulator
fi
HLAUDIT="$TARGET/$PROFILE/hlaudit"
EMULATOR="$TARGET/$PROFILE/hlaudit-emulator"
mkdir -p "$WORK"
REGION_LIST="$(IFS=,; echo "${REGIONS[*]}")"

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT

free_port() { .venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { # file, pattern
    for _ in $(seq 1 300); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "timed out waiting for '$2' in $1" >&2
    return 1
}

MOTO_PORT="$(free_port)"
: >"$WORK/moto.log"
.venv/bin/moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
PIDS+=($!)
wait_for "$WORK/moto.log" "Running on"
MOTO="http://127.0.0.1:$MOTO_PORT"
echo "setting up $MAX_ACCOUNTS accounts in moto and $STORES data stores..." >&2
.venv/bin/python bench/gen_org.py "$MOTO" "$WORK" --accounts "$MAX_ACCOUNTS" \
    --with-stores "$WITH_STORES" --stores "$STORES" --regions "$REGION_LIST"

KEYS=()
while read -r pair; do KEYS+=(--access-key "$pair"); done <"$WORK/access-keys"
# Emptied here, not by the redirect below (which runs in the child, maybe after the
# wait starts): a previous run's address must never be read as this one's.
: >"$WORK/emulator.out"
"$EMULATOR" --port 0 --latency-ms "$LATENCY_MS" --snapshot "$WORK/stores.json" "${KEYS[@]}" \
    --sts-endpoint "$MOTO" \
    >"$WORK/emulator.out" 2>"$WORK/emulator.err" &
PIDS+=($!)
wait_for "$WORK/emulator.out" "listening on http"
ENDPOINT="$(sed -n 's/^listening on //p' "$WORK/emulator.out")"

now_ms() { date +%s%3N; }
ceil_div() { echo $(( ($1 + $2 - 1) / $2 )); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

NREGIONS=${#REGIONS[@]}
PER_SLOT=$(ceil_div "$STORES" $(( WITH_STORES * NREGIONS )))
PAGES=$(ceil_div "$PER_SLOT" "$PAGE")
PER_STORE=$(( 1 + 2 * JOBS ))
SLOWEST=$(( (NREGIONS * PAGES + PER_SLOT * NREGIONS * PER_STORE) * LATENCY_MS ))

printf '%s data stores in %s accounts of each run, %s regions, %s ms latency, concurrency %s\n' \
    "$STORES" "$WITH_STORES" "$NREGIONS" "$LATENCY_MS" "$CONCURRENCY"
printf 'flags: %s\n' "${FLAGS[*]:-(defaults)}"
printf '%9s %10s %10s %10s %10s %11s %7s %10s %9s\n' accounts "wall (ms)" "list (ms)" "calls (ms)" \
    "slowest" "critical" ratio "peak RSS" "CPU (s)"
for n in $ACCOUNT_COUNTS; do
    PROFILES=()
    if [ "$MODE" = roles ]; then
        # One base credential set; a role assumed in each account through moto's STS.
        PROFILES=(--accounts "$(head -n "$n" "$WORK/profiles" | sed 's/^a//' | paste -sd,)"
            --role-name hlaudit-audit)
        BASE=(AWS_ACCESS_KEY_ID=AKIDBENCHBASE0000001 AWS_SECRET_ACCESS_KEY=bench-base)
    else
        while read -r p; do PROFILES+=(--profile "$p"); done < <(head -n "$n" "$WORK/profiles")
        BASE=()
    fi
    start=$(now_ms)
    env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
        -u AWS_REGION -u AWS_DEFAULT_REGION -u AWS_ENDPOINT_URL \
        AWS_SHARED_CREDENTIALS_FILE="$WORK/credentials" AWS_CONFIG_FILE="$WORK/no-config" \
        AWS_ENDPOINT_URL_STS="$MOTO" AWS_ENDPOINT_URL_CLOUDTRAIL="$MOTO" \
        AWS_EC2_METADATA_DISABLED=true "${BASE[@]}" \
        /usr/bin/time -f '%U %S %M' -o "$WORK/rss-$n" \
        "$HLAUDIT" collect --endpoint-url "$ENDPOINT" --regions "$REGION_LIST" \
        --concurrency "$CONCURRENCY" "${PROFILES[@]}" "${FLAGS[@]}" -o "$WORK/snapshot-$n.json" \
        2>"$WORK/collect-$n.err" || {
        echo "collect of $n accounts failed:" >&2; tail -20 "$WORK/collect-$n.err" >&2; exit 2; }
    wall=$(( $(now_ms) - start ))
    records=$(grep -o '"DatastoreArn"' "$WORK/snapshot-$n.json" | wc -l)
    if [ "$records" -ne "$STORES" ]; then
        echo "$n accounts: $records data stores collected, not $STORES" >&2
        exit 2
    fi
    list=$(( $(ceil_div $(( n * NREGIONS * PAGES )) "$CONCURRENCY") * LATENCY_MS ))
    ncalls=$(( STORES * PER_STORE + TPROFILES * n * NREGIONS ))
    calls=$(( LATENCY_MS + $(ceil_div "$ncalls" "$CONCURRENCY") * LATENCY_MS ))
    critical=$list
    [ "$calls" -gt "$critical" ] && critical=$calls
    [ "$SLOWEST" -gt "$critical" ] && critical=$SLOWEST
    read -r user sys rss_kb < <(tail -n 1 "$WORK/rss-$n")
    printf '%9s %10s %10s %10s %10s %11s %7s %7s MB %9s\n' "$n" "$wall" "$list" "$calls" "$SLOWEST" \
        "$critical" "$(ratio "$wall" "$critical")" $(( rss_kb / 1024 )) \
        "$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f", u + s }')"
done

#!/usr/bin/env bash
# Install and packaging check, from a clean clone of the committed state:
#   1. `cargo install --locked --path crates/cli` builds and installs hlaudit;
#   2. the installed binary names its version and commit and runs the demo (exit 1: the
#      demo breaks policies on purpose);
#   3. every crate meant for crates.io passes `cargo package`, which builds each one from
#      its packaged files alone (so the built-in pack must travel inside hlaudit-rules).
# Slow (two release-mode builds), so not part of .ci/run; run it before a release:
#   bash .ci/check-install.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PUBLISHED=(hlaudit-model hlaudit-rules hlaudit-report hlaudit-iac hlaudit-collector hlaudit-securityhub hlaudit)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

step "clean clone"
git clone --quiet --no-hardlinks . "$work/clone"
cd "$work/clone"
export CARGO_TARGET_DIR="$work/target"

step "cargo install --locked --path crates/cli"
start=$SECONDS
cargo install --locked --quiet --path crates/cli --root "$work/root"
echo "installed in $((SECONDS - start)) s"

step "the installed binary"
"$work/root/bin/hlaudit" --version
set +e
"$work/root/bin/hlaudit" check fixtures/demo/snapshot.json --as-of 2026-11-28T09:30:00Z \
  --format none
code=$?
set -e
if [ "$code" -ne 1 ]; then
  echo "the demo exited $code, expected 1 (violations found)" >&2
  exit 1
fi
echo "demo: exit 1 as documented"

step "cargo package ${PUBLISHED[*]}"
start=$SECONDS
args=()
for p in "${PUBLISHED[@]}"; do args+=(-p "$p"); done
cargo package --locked --quiet "${args[@]}"
echo "packaged and verified in $((SECONDS - start)) s:"
ls -l "$CARGO_TARGET_DIR"/package/*.crate | awk '{print "  " $5 " bytes  " $NF}'

# Every workspace crate is either in PUBLISHED or marked publish = false, so a new crate
# cannot slip out of this check.
step "every crate accounted for"
missing=$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c '
import json, sys
published = set(sys.argv[1:])
for p in json.load(sys.stdin)["packages"]:
    if p["publish"] != [] and p["name"] not in published:
        print(p["name"])
' "${PUBLISHED[@]}")
if [ -n "$missing" ]; then
  echo "crates neither checked here nor marked publish = false: $missing" >&2
  exit 1
fi
echo "ok"

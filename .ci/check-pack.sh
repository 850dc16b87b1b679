#!/usr/bin/env bash
# The built-in policy pack's own gate, run by .ci/test.sh after the Rust tests:
#   1. every inline test and every fixture case (fixtures/cases/<POLICY-ID>/<status>-*.json)
#      ends with its expected status, and every policy has at least one passing and one
#      failing case (100% coverage);
#   2. docs/rules.md is exactly what `hlaudit rules docs` renders from the pack.
# Fixture cases are evaluated at a fixed time, so the gate never depends on the day it runs.
set -euo pipefail
cd "$(dirname "$0")/.."

hlaudit() {
  cargo run --quiet --locked -- "$@"
}

status=0

# Template cases deploy to the account and region the snapshot cases live in.
echo "== hlaudit rules test rules/ --cases fixtures/cases --require-coverage"
if ! out=$(hlaudit rules test rules/ --cases fixtures/cases --as-of 2026-01-01T00:00:00Z \
  --account 111122223333 --region us-east-1 --require-coverage 2>&1); then
  printf '%s\n' "$out" | grep -v '^ok  ' || true
  echo "check-pack: the built-in pack's tests failed or a policy lacks a passing or a failing case (snapshot or template)" >&2
  status=1
else
  # Quiet on success: only the summary table and totals, not one line per case.
  printf '%s\n' "$out" | grep -v '^ok  '
fi

echo "== hlaudit rules docs --check"
if ! hlaudit rules docs --check; then
  echo "check-pack: docs/rules.md is stale; run \`cargo run -- rules docs\` and commit it" >&2
  status=1
fi

exit "$status"

#!/usr/bin/env bash
# Checks that every CloudFormation fixture is a template CloudFormation accepts, with
# cfn-lint from .venv (installed by .ci/setup-python.sh): the template reader's tests
# would prove little on templates AWS would refuse.
#
# fixtures/iac/cfn/*.yaml and *.json, the templates published in docs/cloudformation/, and the template cases of the built-in pack
# (fixtures/cases/*/*.yaml, written by fixtures/cases/generate.py), must pass without errors or
# warnings. The stack templates of the CDK fixture app
# (fixtures/iac/cdk-app/cdk.out/*.template.json), when that folder exists, are written by
# the CDK and must pass without errors: the CDK's own output carries warnings (W3005, a
# DependsOn beside a GetAtt) that its users cannot change.
set -euo pipefail
cd "$(dirname "$0")/.."

LINT=.venv/bin/cfn-lint
if [ ! -x "$LINT" ]; then
  echo "lint-templates: $LINT is missing; run .ci/setup-python.sh first" >&2
  exit 1
fi

shopt -s nullglob
written=(fixtures/iac/cfn/*.yaml fixtures/iac/cfn/*.json fixtures/cases/*/*.yaml docs/cloudformation/*.yaml)
generated=()
if [ -d fixtures/iac/cdk-app/cdk.out ]; then
  while IFS= read -r -d '' f; do
    generated+=("$f")
  done < <(find fixtures/iac/cdk-app/cdk.out -name '*.template.json' -print0 | sort -z)
fi
if [ "${#written[@]}" -eq 0 ]; then
  echo "lint-templates: no templates found under fixtures/iac/cfn" >&2
  exit 1
fi

# cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational.
# lint MASK FILES...: runs cfn-lint and fails when a bit of MASK is set.
failed=0
lint() {
  local mask=$1 status=0
  shift
  "$LINT" --format parseable -- "$@" || status=$?
  if [ $((status & mask)) -ne 0 ]; then
    echo "lint-templates: cfn-lint found problems (exit $status) in the templates above" >&2
    failed=1
  fi
}
lint 6 "${written[@]}"
if [ "${#generated[@]}" -gt 0 ]; then
  lint 2 "${generated[@]}"
fi
[ "$failed" -eq 0 ] || exit 1
total=$(( ${#written[@]} + ${#generated[@]} ))
echo "lint-templates: $total templates pass cfn-lint $("$LINT" --version | awk '{print $2}')"

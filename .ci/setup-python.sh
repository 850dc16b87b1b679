#!/usr/bin/env bash
# Installs the Python tools the tests drive, in a virtualenv at .venv (repository root,
# ignored by git): the AWS CLI v1 (`awscli` from PyPI), whose output the emulator's wire
# compatibility test compares with the emulator's data, and moto's server, which stands
# in for KMS and STS in the collector's tests; and cfn-lint, which checks that the
# CloudFormation fixtures are templates CloudFormation accepts (.ci/lint-templates.sh);
# and py-ocsf-models, the OCSF schema models the OCSF report is validated with
# (tests/python/validate_ocsf.py). botocore, which validates the ASFF report, comes with the
# AWS CLI.
#
# Idempotent and quick when already done: nothing is downloaded when the pinned versions
# are installed. Set PYTHON to choose the interpreter (default: python3).
set -euo pipefail
cd "$(dirname "$0")/.."

AWSCLI_VERSION="${AWSCLI_VERSION:-1.46.3}"
MOTO_VERSION="${MOTO_VERSION:-5.2.5}"
CFN_LINT_VERSION="${CFN_LINT_VERSION:-1.58.0}"
OCSF_MODELS_VERSION="${OCSF_MODELS_VERSION:-0.10.0}"
VENV=.venv
PY="$VENV/bin/python"

installed() {
  [ -x "$PY" ] || return 1
  "$PY" - "$AWSCLI_VERSION" "$MOTO_VERSION" "$CFN_LINT_VERSION" "$OCSF_MODELS_VERSION" <<'PYEOF' 2>/dev/null
import sys
from importlib.metadata import version
want_cli, want_moto, want_lint, want_ocsf = sys.argv[1:5]
ok = (version("awscli") == want_cli and version("moto") == want_moto
      and version("cfn-lint") == want_lint and version("py-ocsf-models") == want_ocsf)
import moto.server, flask  # the [server] extra is present
sys.exit(0 if ok else 1)
PYEOF
}

if installed; then
  echo "setup-python: awscli $AWSCLI_VERSION, moto[server] $MOTO_VERSION, cfn-lint $CFN_LINT_VERSION and py-ocsf-models $OCSF_MODELS_VERSION already in $VENV"
  exit 0
fi

if [ ! -x "$PY" ]; then
  "${PYTHON:-python3}" -m venv "$VENV"
fi
"$PY" -m pip install --quiet --disable-pip-version-check \
  "awscli==$AWSCLI_VERSION" "moto[server]==$MOTO_VERSION" "cfn-lint==$CFN_LINT_VERSION" \
  "py-ocsf-models==$OCSF_MODELS_VERSION"
installed || { echo "setup-python: installation in $VENV is incomplete" >&2; exit 1; }
echo "setup-python: installed awscli $AWSCLI_VERSION, moto[server] $MOTO_VERSION, cfn-lint $CFN_LINT_VERSION and py-ocsf-models $OCSF_MODELS_VERSION in $VENV"

#!/usr/bin/env bash
# Installs everything the test suite needs beyond the Rust toolchain, idempotently:
# the Python tools (AWS CLI, moto's server, cfn-lint) in .venv, the SARIF multitool from npm
# in .ci/node_modules, Debian's Chromium for the HTML report test, and the CDK fixture app's
# cloud assembly (aws-cdk-lib from npm, synthesised by node).
set -euo pipefail
cd "$(dirname "$0")/.."
for step in setup-python.sh setup-node.sh setup-browser.sh setup-cdk.sh; do
  if [ -f ".ci/$step" ]; then
    bash ".ci/$step"
  fi
done

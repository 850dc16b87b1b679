#!/usr/bin/env bash
# Installs everything the test suite needs beyond the Rust toolchain, idempotently:
# the Python tools (AWS CLI, moto's server) in .venv, the SARIF multitool from npm in
# .ci/node_modules, and Debian's Chromium for the HTML report test.
set -euo pipefail
cd "$(dirname "$0")/.."
for step in setup-python.sh setup-node.sh setup-browser.sh; do
  if [ -f ".ci/$step" ]; then
    bash ".ci/$step"
  fi
done

#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need, then runs every
# Rust test (unit, data-driven, property, snapshot, end-to-end against the emulator, moto,
# the AWS CLI, the SARIF multitool and a headless browser) and the built-in pack's own tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh
# Every CloudFormation fixture is a template CloudFormation accepts.
if [ -f .ci/lint-templates.sh ]; then
  bash .ci/lint-templates.sh
fi
cargo test --workspace --locked
if [ -f .ci/check-pack.sh ]; then
  bash .ci/check-pack.sh
fi

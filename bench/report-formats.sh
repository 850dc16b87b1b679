#!/usr/bin/env bash
# Time and size of every report format for a synthetic report of N findings (default
# 100,000; a realistic mix, 20% FAIL), rendered in memory by a release build. Prints one
# line per format; the SARIF line also says into how many files GitHub's limits split it.
#   bash bench/report-formats.sh [N] [--all-fail]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --release -p hlaudit-report --example large_report -- "${1:-100000}" "${@:2}"

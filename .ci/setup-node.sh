#!/usr/bin/env bash
# Installs Microsoft's SARIF multitool (the version pinned in .ci/package.json and
# .ci/package-lock.json) into .ci/node_modules, idempotently: quick when it is already there.
# The SARIF test (crates/report/tests/report/multitool.rs) runs it through
# `npx --prefix .ci sarif-multitool validate`.
set -euo pipefail
cd "$(dirname "$0")"
want="$(node -e 'console.log(require("./package.json").dependencies["@microsoft/sarif-multitool"])')"
have=""
if [ -f node_modules/@microsoft/sarif-multitool/package.json ]; then
  have="$(node -e 'console.log(require("./node_modules/@microsoft/sarif-multitool/package.json").version)')"
fi
case "$(uname -s)" in
  Darwin) platform=darwin ;;
  *) platform=linux ;;
esac
bin="node_modules/@microsoft/sarif-multitool-$platform/Sarif.Multitool"
if [ "$have" != "$want" ] || [ ! -x "$bin" ]; then
  npm ci --prefix . --no-audit --no-fund
fi
# The package's postinstall only marks the .NET executable executable; do it here so it
# also works where npm does not run install scripts.
if [ -f "$bin" ] && [ ! -x "$bin" ]; then
  chmod u+x "$bin"
fi
npx --prefix . --no -- sarif-multitool --version | head -n 1

#!/usr/bin/env bash
# Synthesises the AWS CDK fixture app (fixtures/iac/cdk-app) into
# fixtures/iac/cdk-app/cdk.out, the cloud assembly the CDK reader's tests read.
# Idempotent: installs aws-cdk-lib and constructs (the versions pinned in its package.json
# and package-lock.json) only when node_modules is missing or holds another aws-cdk-lib,
# then synthesises every time (about two seconds; no CDK CLI, no AWS account needed).
set -euo pipefail
cd "$(dirname "$0")/../fixtures/iac/cdk-app"
want="$(node -e 'console.log(require("./package.json").dependencies["aws-cdk-lib"])')"
have=""
if [ -f node_modules/aws-cdk-lib/package.json ]; then
  have="$(node -e 'console.log(require("./node_modules/aws-cdk-lib/package.json").version)')"
fi
if [ "$have" != "$want" ] || [ ! -f node_modules/constructs/package.json ]; then
  npm ci --prefix . --no-audit --no-fund
fi
# A fresh assembly every time (a stack renamed or removed must not linger), written beside
# the old one and swapped in only when complete.
rm -rf cdk.out.new
trap 'rm -rf cdk.out.new' EXIT
node app.js cdk.out.new >/dev/null
for f in manifest.json ClinicalStack.template.json ResearchStack.template.json \
  assembly-Prod/manifest.json assembly-Prod/ProdArchiveStackE7C91713.template.json; do
  if [ ! -s "cdk.out.new/$f" ]; then
    echo "setup-cdk: synthesis did not write fixtures/iac/cdk-app/cdk.out/$f" >&2
    exit 1
  fi
done
rm -rf cdk.out
mv cdk.out.new cdk.out
echo "aws-cdk-lib $want: fixtures/iac/cdk-app/cdk.out"

#!/usr/bin/env python3
"""Prints the violations of an hlaudit JSON report as sorted `POLICY-ID<TAB>ARN` lines.

For bench/compare-engines.sh, which diffs them against the Python script's and regorus's.
A violation is a FAIL or ERROR finding (an ERROR is a pair that could not be evaluated, which
fails closed); its policy is `policy.id` and its data store `resource.arn`.

Written to survive the report's versions: it reads the findings as they are decoded and
keeps only those with a `status`, a `policy.id` and a `resource.arn`, whatever else the
report holds (version 3 may write PASS and SKIP pairs in a compact form, which is skipped).
It then checks the count against `summary.byStatus`, so a format that hides a FAIL from this
reader makes it exit 1 rather than report fewer violations. Decoding discards each finding
as soon as it is read, so a report of a million findings needs little memory.

Usage: report_violations.py REPORT.json
"""

import json
import sys

VIOLATION = ("FAIL", "ERROR")


def finding(obj):
    """A decoded object: a violation becomes (policy, arn), another finding None."""
    status = obj.get("status")
    policy = obj.get("policy")
    resource = obj.get("resource")
    if isinstance(status, str) and isinstance(policy, dict) and isinstance(resource, dict):
        if status in VIOLATION:
            return (policy.get("id"), resource.get("arn"))
        return None
    return obj


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: report_violations.py REPORT.json")
    with open(sys.argv[1], encoding="utf-8") as f:
        report = json.load(f, object_hook=finding)
    found = [x for x in report.get("findings", []) if isinstance(x, tuple)]
    by_status = report.get("summary", {}).get("byStatus", {})
    expected = sum(by_status.get(s, 0) for s in VIOLATION)
    if len(found) != expected:
        sys.exit(
            f"{sys.argv[1]}: read {len(found)} FAIL/ERROR findings but the summary counts "
            f"{expected}: the report's format is not what this reader knows"
        )
    bad = [x for x in found if not (isinstance(x[0], str) and isinstance(x[1], str))]
    if bad:
        sys.exit(f"{sys.argv[1]}: a violation without a policy id or an ARN: {bad[0]}")
    if by_status.get("ERROR", 0):
        print(f"note: {by_status['ERROR']} ERROR findings counted as violations", file=sys.stderr)
    lines = sorted({f"{policy}\t{arn}" for policy, arn in found})
    sys.stdout.write("".join(line + "\n" for line in lines))


if __name__ == "__main__":
    main()

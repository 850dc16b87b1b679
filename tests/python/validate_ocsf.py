"""Validates an hlaudit OCSF report (JSON Lines of Compliance Finding events).

Usage: validate_ocsf.py FILE

Each line is parsed by py-ocsf-models (Prowler's models of the OCSF schema) as a
`ComplianceFinding`: required attributes, types and the enumerations of every `*_id`.
The models ignore attributes they do not know, so a misspelt attribute would pass
silently; this script also refuses any attribute the models dropped, except where OCSF
allows source-specific content (`unmapped`, `resources[].data`). The cloud profile's
`cloud` object, which the Compliance Finding model does not declare, is validated with the
models' `Cloud`. The event's `metadata.version` must be the OCSF version of the models,
and `type_uid` must be `class_uid * 100 + activity_id`.

Every problem of every line is reported before exiting; exit status 0 when every event is
valid, 1 otherwise (problems on stderr).
"""

import json
import sys

from pydantic import ValidationError
from py_ocsf_models import OCSF_VERSION
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.objects.cloud import Cloud

# Where OCSF takes any content.
FREE = {"unmapped", "resources[].data"}


def dropped(given, kept, path):
    """The attribute paths of `given` that validation did not keep."""
    out = []
    if path in FREE:
        return out
    if isinstance(given, dict) and isinstance(kept, dict):
        for k, v in given.items():
            sub = f"{path}.{k}" if path else k
            if k not in kept:
                out.append(sub)
            else:
                out.extend(dropped(v, kept[k], sub))
    elif isinstance(given, list) and isinstance(kept, list):
        for g, k in zip(given, kept):
            out.extend(dropped(g, k, f"{path}[]"))
    return out


def validate_line(text):
    """The problems of one event."""
    try:
        event = json.loads(text)
    except json.JSONDecodeError as e:
        return [f"not JSON: {e}"]
    if not isinstance(event, dict):
        return ["not a JSON object"]
    problems = []
    cloud = event.pop("cloud", None)
    if cloud is not None:
        try:
            kept = Cloud.model_validate(cloud).model_dump(exclude_unset=True)
            problems += [f"unknown attribute cloud.{p}" for p in dropped(cloud, kept, "")]
        except ValidationError as e:
            problems.append(f"cloud: {e}")
    try:
        model = ComplianceFinding.model_validate(event)
    except ValidationError as e:
        return problems + [str(e)]
    kept = model.model_dump(exclude_unset=True)
    problems += [f"unknown attribute {p}" for p in dropped(event, kept, "")]
    version = event.get("metadata", {}).get("version")
    if version != OCSF_VERSION:
        problems.append(f"metadata.version {version!r} is not {OCSF_VERSION!r}")
    if event.get("class_uid") != 2003:
        problems.append(f"class_uid {event.get('class_uid')!r} is not 2003")
    want = event.get("class_uid", 0) * 100 + event.get("activity_id", 0)
    if event.get("type_uid") != want:
        problems.append(f"type_uid {event.get('type_uid')!r} is not {want}")
    return problems


def main():
    problems = []
    count = 0
    with open(sys.argv[1], encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                problems.append(f"line {number}: empty")
                continue
            count += 1
            problems += [f"line {number}: {p}" for p in validate_line(line)]
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in {count} event(s)", file=sys.stderr)
        sys.exit(1)
    print(f"{count} event(s) valid (OCSF {OCSF_VERSION})")


if __name__ == "__main__":
    main()

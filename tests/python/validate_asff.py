"""Validates an hlaudit ASFF report (a JSON array of findings) as Security Hub would.

Usage: validate_asff.py FILE

Two checks, every problem of every finding reported before exiting:

1. botocore's own model of `BatchImportFindings`: each batch of at most 100 findings (the
   API's limit) goes through `botocore.validate.validate_parameters`, the check boto3 makes
   before it sends a request (required members, unknown members, types, list sizes).
2. What botocore's client-side check leaves to the service: every string of the model that
   has a `pattern` (`.*\\S.*` for nearly all of them) must match it whole, as the service's
   regular expressions do (so a blank value or a line break is refused), every `enum`
   value must be one of the model's, and the length and count limits the Security Hub
   documentation gives (they are not in the model) must hold, the whole finding within
   240 KB.

Exit status 0 when every finding is valid, 1 otherwise (problems on stderr).
"""

import json
import re
import sys

import botocore.session
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters

BATCH = 100

# Limits from the Security Hub API reference and the ASFF user guide, by path. A path
# ending in [] is each element of a list; {} each key, and {}= each value, of a map.
MAX_LENGTH = {
    "Id": 512,
    "GeneratorId": 512,
    "Title": 256,
    "Description": 1024,
    "Region": 16,
    "Remediation.Recommendation.Text": 512,
    "Note.Text": 512,
    "Note.UpdatedBy": 512,
    "ProductFields{}": 128,
    "ProductFields{}=": 2048,
    "Resources[].Tags{}": 128,
    "Resources[].Tags{}=": 256,
    "Resources[].Details.Other{}": 127,
    "Resources[].Details.Other{}=": 1023,
}
MAX_ENTRIES = {
    "Types": 50,
    "ProductFields": 50,
    "Resources": 32,
    "Resources[].Tags": 50,
    "Resources[].Details.Other": 50,
    "Compliance.RelatedRequirements": 32,
}
EXACT_LENGTH = {"AwsAccountId": 12}
# Security Hub refuses a finding over 240 KB (counted here as 240,000 bytes of compact JSON).
FINDING_BYTES = 240_000


def utf16_len(s):
    return len(s.encode("utf-16-le")) // 2


class Checker:
    def __init__(self):
        self.problems = []

    def problem(self, where, what):
        self.problems.append(f"{where}: {what}")

    def shape(self, shape, value, where, path):
        """Checks patterns, enums and documented limits of `value` against `shape`."""
        kind = shape.type_name
        if kind == "structure":
            if not isinstance(value, dict):
                return  # botocore reports the type
            for name, member in shape.members.items():
                if name in value:
                    sub = f"{path}.{name}" if path else name
                    self.shape(member, value[name], f"{where}.{name}", sub)
        elif kind == "list":
            if not isinstance(value, list):
                return
            limit = MAX_ENTRIES.get(path)
            if limit is not None and len(value) > limit:
                self.problem(where, f"{len(value)} entries, more than {limit}")
            for i, item in enumerate(value):
                self.shape(shape.member, item, f"{where}[{i}]", f"{path}[]")
        elif kind == "map":
            if not isinstance(value, dict):
                return
            limit = MAX_ENTRIES.get(path)
            if limit is not None and len(value) > limit:
                self.problem(where, f"{len(value)} entries, more than {limit}")
            for k, v in value.items():
                self.shape(shape.key, k, f"{where} key {k!r}", f"{path}{{}}")
                self.shape(shape.value, v, f"{where}[{k!r}]", f"{path}{{}}=")
        elif kind == "string":
            if not isinstance(value, str):
                return
            pattern = shape.metadata.get("pattern")
            if pattern is not None and re.fullmatch(pattern, value) is None:
                self.problem(where, f"{value[:60]!r} does not match the pattern {pattern}")
            enum = shape.metadata.get("enum")
            if enum is not None and value not in enum:
                self.problem(where, f"{value!r} is not one of {enum}")
            limit = MAX_LENGTH.get(path)
            if limit is not None and utf16_len(value) > limit:
                self.problem(where, f"{utf16_len(value)} characters, more than {limit}")
            exact = EXACT_LENGTH.get(path)
            if exact is not None and len(value) != exact:
                self.problem(where, f"{len(value)} characters, not {exact}")


def validate(findings):
    """Every problem of every finding, as text."""
    model = botocore.session.get_session().get_service_model("securityhub")
    operation = model.operation_model("BatchImportFindings")
    problems = []
    if not isinstance(findings, list):
        return ["the file is not a JSON array of findings"]
    for start in range(0, len(findings), BATCH):
        batch = findings[start : start + BATCH]
        try:
            validate_parameters({"Findings": batch}, operation.input_shape)
        except ParamValidationError as e:
            problems.append(f"findings {start}..{start + len(batch) - 1}: {e}")
    checker = Checker()
    finding_shape = model.shape_for("AwsSecurityFinding")
    for i, f in enumerate(findings):
        checker.shape(finding_shape, f, f"Findings[{i}]", "")
        size = len(json.dumps(f, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        if size > FINDING_BYTES:
            checker.problem(f"Findings[{i}]", f"{size} bytes, more than {FINDING_BYTES}")
    return problems + checker.problems


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        findings = json.load(f)
    problems = validate(findings)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in {len(findings)} finding(s)", file=sys.stderr)
        sys.exit(1)
    print(f"{len(findings)} finding(s) valid")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The ten simple policies of bench/ten-policies.yaml as a plain Python 3 script.

The baseline of bench/compare-engines.sh: json.load and a loop, no dependencies. Reads an
`aws healthlake list-fhir-datastores` output and prints each violation as
`POLICY-ID<TAB>DATA-STORE-ARN`, sorted, as hlaudit's FAIL findings and regorus's
`violations` are printed, so the three outputs compare with diff.

It follows hlaudit's semantics (docs/policy-language.md): an absent value fails closed, a
value of the wrong type fails, a JSON null is present, and SMART metadata that is not a JSON
document to hlaudit fails every check that reads it: where Python's json is more lenient than
hlaudit's reader (serde_json), the document is refused here too: NaN and Infinity, a number
beyond a double (1e400), a lone surrogate escape, arrays and objects nested 128 deep, and a
name repeated in an object.

Records are taken as hlaudit reads them; a record it cannot read at all (an input error, or
a field beyond those limits, which makes every pair of the record an ERROR) is outside what
this script models.

Usage: ten_policies.py DATASTORES.json
(with BENCH_PHASES set, also prints the time of reading and of evaluating to stderr)
"""

import json
import math
import os
import re
import sys
import time

MISSING = object()
ALLOWED_GRANTS = ("authorization_code", "client_credentials")
KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+")
# serde_json's nesting limit: a document with arrays and objects 128 deep (the outermost
# counting 1) is not JSON to hlaudit (nor to regorus).
MAX_DEPTH = 127
SURROGATE = re.compile("[\ud800-\udfff]")


def get(value, *keys):
    """The value at a path of object fields, or MISSING (a null or a non-object on the way)."""
    for key in keys:
        if not isinstance(value, dict):
            return MISSING
        value = value.get(key, MISSING)
        if value is MISSING:
            return MISSING
    return value


def unique_object(pairs):
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("a name appears twice in an object")
    return obj


def not_json_constant(name):
    raise ValueError(f"{name} is not JSON")


def finite(text):
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"{text} is beyond a double")
    return number


def integer(text):
    if len(text) > 300 and math.isinf(float(text)):
        raise ValueError("an integer beyond a double")
    return int(text)


def depth(value):
    """How deep arrays and objects nest in a parsed document, the outermost counting 1."""
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


def lone_surrogate(value):
    """Whether a string (or a name) of a parsed document holds half a surrogate pair."""
    if isinstance(value, str):
        return SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(lone_surrogate(k) or lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(map(lone_surrogate, value))
    return False


def metadata(ds):
    """The parsed SMART metadata document, or MISSING."""
    text = get(ds, "IdentityProviderConfiguration", "Metadata")
    if not isinstance(text, str):
        return MISSING
    try:
        doc = json.loads(
            text,
            object_pairs_hook=unique_object,
            parse_constant=not_json_constant,
            parse_float=finite,
            parse_int=integer,
        )
    except (ValueError, RecursionError):
        return MISSING
    # Cheap tests first: the checks behind them walk the document.
    if text.count("[") + text.count("{") > MAX_DEPTH and depth(doc) > MAX_DEPTH:
        return MISSING
    if ("\\u" in text or SURROGATE.search(text)) and lone_surrogate(doc):
        return MISSING
    return doc


def arn_region(s):
    """The region of an ARN as hlaudit reads one, or None when `s` is not an ARN."""
    if not isinstance(s, str) or not s.startswith("arn:"):
        return None
    parts = s[4:].split(":", 4)
    if len(parts) < 5 or not parts[0] or not parts[1]:
        return None
    return parts[2]


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def https(v):
    return isinstance(v, str) and v.startswith("https://")


def violations(stores):
    for ds in stores:
        arn = ds["DatastoreArn"]
        if ds.get("DatastoreStatus") in ("DELETED", "DELETING"):
            continue
        sse = get(ds, "SseConfiguration", "KmsEncryptionConfig")
        cmk = get(sse, "CmkType") == "CUSTOMER_MANAGED_KMS_KEY"
        key = get(sse, "KmsKeyId")
        if not cmk:
            yield "TEN-01", arn
        if cmk and not (isinstance(key, str) and KEY_ARN.fullmatch(key)):
            yield "TEN-02", arn
        idp = get(ds, "IdentityProviderConfiguration")
        smart = get(idp, "AuthorizationStrategy") in ("SMART_ON_FHIR_V1", "SMART_ON_FHIR")
        if not smart:
            yield "TEN-03", arn
        else:
            md = metadata(ds)
            methods = get(md, "code_challenge_methods_supported")
            if not (isinstance(methods, list) and "S256" in methods and "plain" not in methods):
                yield "TEN-04", arn
            if not (https(get(md, "authorization_endpoint")) and https(get(md, "token_endpoint"))):
                yield "TEN-05", arn
            grants = get(md, "grant_types_supported")
            if not (isinstance(grants, list) and all(g in ALLOWED_GRANTS for g in grants)):
                yield "TEN-06", arn
            if get(idp, "FineGrainedAuthorizationEnabled") is not True:
                yield "TEN-07", arn
        status = ds.get("DatastoreStatus", MISSING)
        error = ds.get("ErrorCause", MISSING)
        failed = status is MISSING or status in ("CREATE_FAILED", "UPDATE_FAILED")
        if failed or error not in (MISSING, None, "", [], {}):
            yield "TEN-08", arn
        backup = get(ds, "BackupStatusInfo", "Configuration")
        days = get(backup, "RetentionPeriodInDays")
        if not (get(backup, "Status") == "ENABLED" and is_number(days) and days >= 7):
            yield "TEN-09", arn
        if cmk and isinstance(key, str) and key.startswith("arn:"):
            region = arn_region(key)
            if region is None or region != arn_region(arn):
                yield "TEN-10", arn


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: ten_policies.py DATASTORES.json")
    start = time.perf_counter()
    with open(sys.argv[1], encoding="utf-8") as f:
        stores = json.load(f)["DatastorePropertiesList"]
    loaded = time.perf_counter()
    lines = sorted({f"{policy}\t{arn}" for policy, arn in violations(stores)})
    evaluated = time.perf_counter()
    sys.stdout.write("".join(line + "\n" for line in lines))
    if os.environ.get("BENCH_PHASES"):
        # The script's own clock: reading the input, then evaluating it (violations found
        # and sorted), for bench/compare-engines.sh's evaluation-only comparison.
        print(f"phases: load={loaded - start:.3f} eval={evaluated - loaded:.3f}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Creates CloudTrail trails in moto's server, as an account would configure them.

    cloudtrail_moto.py ENDPOINT TRAILS_JSON

TRAILS_JSON is a JSON list of trails, each
{"name": ..., "region": HOME_REGION, "multi_region": bool, "logging": bool,
 "advanced": [ADVANCED_EVENT_SELECTOR, ...]}.
Each trail is created in its home region (with an S3 bucket for its logs, which
CreateTrail requires), its advanced event selectors are put as given, and it is started
when `logging` is true (a trail is created stopped). Reads every trail back with
GetEventSelectors and GetTrailStatus to check that moto kept what was put. Prints JSON:
{NAME: TRAIL_ARN}.
"""

import json
import sys

import boto3


def main():
    endpoint, trails = sys.argv[1], json.loads(sys.argv[2])
    session = boto3.Session(aws_access_key_id="setup", aws_secret_access_key="setup")
    out = {}
    for trail in trails:
        region = trail["region"]
        s3 = session.client("s3", endpoint_url=endpoint, region_name=region)
        bucket = f"trail-logs-{trail['name']}"
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
            )
        ct = session.client("cloudtrail", endpoint_url=endpoint, region_name=region)
        arn = ct.create_trail(
            Name=trail["name"],
            S3BucketName=bucket,
            IsMultiRegionTrail=trail.get("multi_region", False),
        )["TrailARN"]
        if trail.get("advanced"):
            ct.put_event_selectors(
                TrailName=trail["name"], AdvancedEventSelectors=trail["advanced"]
            )
        if trail.get("logging", False):
            ct.start_logging(Name=trail["name"])
        kept = ct.get_event_selectors(TrailName=arn).get("AdvancedEventSelectors", [])
        if kept != trail.get("advanced", []):
            sys.exit(f"moto changed the selectors of {arn}: {kept}")
        logging = ct.get_trail_status(Name=arn)["IsLogging"]
        if logging != trail.get("logging", False):
            sys.exit(f"moto reports IsLogging={logging} for {arn}")
        out[trail["name"]] = arn
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""Gives moto's server an IAM user that may call everything but CloudTrail
DescribeTrails, then turns moto's IAM authorization on.

    cloudtrail_denied_moto.py ENDPOINT

moto checks no permission until /moto-api/reset-auth sets how many requests go
unchecked (0 here): from then on every request is authorized against the policies of
the user whose access key signed it, an explicit Deny winning as on AWS. Checks that
DescribeTrails is refused and GetCallerIdentity is not. Prints JSON:
{"access_key": ..., "secret_key": ...}
"""

import json
import sys
import urllib.request

import boto3
from botocore.exceptions import ClientError

POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "cloudtrail:DescribeTrails", "Resource": "*"},
    ],
}


def main():
    endpoint = sys.argv[1]
    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="setup",
        aws_secret_access_key="setup",
    )
    iam.create_user(UserName="no-trails")
    iam.put_user_policy(
        UserName="no-trails", PolicyName="all-but-trails", PolicyDocument=json.dumps(POLICY)
    )
    key = iam.create_access_key(UserName="no-trails")["AccessKey"]
    # Not form data, or moto's server reads an empty body.
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=b"0",
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    urllib.request.urlopen(request).read()
    session = boto3.Session(
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
    )
    session.client("sts", endpoint_url=endpoint, region_name="us-east-1").get_caller_identity()
    trails = session.client("cloudtrail", endpoint_url=endpoint, region_name="us-east-1")
    try:
        trails.describe_trails(includeShadowTrails=True)
        sys.exit("moto did not refuse DescribeTrails")
    except ClientError as e:
        # moto answers a denial with an XML body even to JSON protocols, so botocore
        # reads no code; the status says what it is.
        if e.response["ResponseMetadata"]["HTTPStatusCode"] != 403:
            sys.exit(f"DescribeTrails failed otherwise: {e}")
    print(json.dumps({"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}))


if __name__ == "__main__":
    main()

"""Gives each of several accounts in moto's server an access key and KMS keys.

    kms_accounts_moto.py ENDPOINT REGIONS ACCOUNT...

REGIONS is a comma-separated list. In each ACCOUNT this creates an IAM user with an
access key (moto ties the account of a request to the IAM access key it was signed
with, so calls signed with that key act in that account, as on AWS), then, signed
with that key, two customer managed KMS keys in each region: `rotating` (enabled, with
automatic rotation) and `disabled`. Checks with STS GetCallerIdentity that moto puts
the key in the account it was created for. Prints JSON:
{ACCOUNT: {"access_key": ..., "secret_key": ...,
           "keys": {REGION: {"rotating": ARN, "disabled": ARN}}}}
"""

import json
import sys

import boto3


def in_account(client, account):
    """Makes every request of `client` act in `account` (moto's own header)."""

    def add_header(request, **_):
        request.headers["x-moto-account-id"] = account

    client.meta.events.register("before-sign", add_header)
    return client


def main():
    endpoint, regions, accounts = sys.argv[1], sys.argv[2].split(","), sys.argv[3:]
    out = {}
    for account in accounts:
        iam = in_account(
            boto3.client(
                "iam",
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id="setup",
                aws_secret_access_key="setup",
            ),
            account,
        )
        iam.create_user(UserName="hlaudit-audit")
        key = iam.create_access_key(UserName="hlaudit-audit")["AccessKey"]
        session = boto3.Session(
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )
        sts = session.client("sts", endpoint_url=endpoint, region_name="us-east-1")
        owner = sts.get_caller_identity()["Account"]
        if owner != account:
            sys.exit(f"moto put access key {key['AccessKeyId']} in {owner}, not {account}")
        keys = {}
        for region in regions:
            kms = session.client("kms", endpoint_url=endpoint, region_name=region)
            rotating = kms.create_key(Description=f"rotating {account} {region}")["KeyMetadata"]
            kms.enable_key_rotation(KeyId=rotating["KeyId"])
            disabled = kms.create_key(Description=f"disabled {account} {region}")["KeyMetadata"]
            kms.disable_key(KeyId=disabled["KeyId"])
            for made in (rotating, disabled):
                if made["AWSAccountId"] != account:
                    sys.exit(f"moto put key {made['Arn']} in {made['AWSAccountId']}, not {account}")
            keys[region] = {"rotating": rotating["Arn"], "disabled": disabled["Arn"]}
        out[account] = {
            "access_key": key["AccessKeyId"],
            "secret_key": key["SecretAccessKey"],
            "keys": keys,
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

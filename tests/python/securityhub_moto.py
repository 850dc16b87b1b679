"""Prepares and reads moto's Security Hub for the end-to-end tests of `--securityhub`.

    setup ENDPOINT CREDENTIALS_FILE ACCOUNT=REGION,REGION ...
        For each account: assumes a role in it through moto's STS (moto ties the
        temporary credentials to that account, as AWS does), writes them as the profile
        `acct-ACCOUNT` to CREDENTIALS_FILE, and enables Security Hub in the regions
        given (none after `=`: enabled nowhere).
    findings ENDPOINT CREDENTIALS_FILE ACCOUNT REGION
        Prints every finding of that account's Security Hub in REGION as a JSON array
        (all pages of GetFindings).
"""

import configparser
import json
import sys

import boto3


def client(service, endpoint, region, creds=None):
    creds = creds or {"aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
    return boto3.client(service, endpoint_url=endpoint, region_name=region, **creds)


def profile_creds(path, account):
    parser = configparser.ConfigParser()
    parser.read(path)
    section = parser[f"acct-{account}"]
    return {
        "aws_access_key_id": section["aws_access_key_id"],
        "aws_secret_access_key": section["aws_secret_access_key"],
        "aws_session_token": section["aws_session_token"],
    }


def setup(endpoint, path, specs):
    parser = configparser.ConfigParser()
    for spec in specs:
        account, _, regions = spec.partition("=")
        sts = client("sts", endpoint, "us-east-1")
        c = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/hlaudit-audit",
            RoleSessionName="hlaudit-test",
        )["Credentials"]
        creds = {
            "aws_access_key_id": c["AccessKeyId"],
            "aws_secret_access_key": c["SecretAccessKey"],
            "aws_session_token": c["SessionToken"],
        }
        parser[f"acct-{account}"] = creds
        for region in filter(None, regions.split(",")):
            client("securityhub", endpoint, region, creds).enable_security_hub()
    with open(path, "w") as f:
        parser.write(f)


def findings(endpoint, path, account, region):
    sh = client("securityhub", endpoint, region, profile_creds(path, account))
    out = []
    for page in sh.get_paginator("get_findings").paginate():
        out.extend(page["Findings"])
    json.dump(out, sys.stdout, default=str)


def main():
    command, endpoint, path, *rest = sys.argv[1:]
    if command == "setup":
        setup(endpoint, path, rest)
    elif command == "findings":
        findings(endpoint, path, *rest)
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()

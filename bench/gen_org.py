#!/usr/bin/env python3
"""Accounts and data stores for bench/collect-org.sh.

    .venv/bin/python bench/gen_org.py MOTO_ENDPOINT WORK --accounts 1000 \
        --with-stores 50 --stores 5000 --regions us-east-1,eu-west-2,...

In moto's server at MOTO_ENDPOINT, gives each of ACCOUNTS accounts (100000000000,
100000000001, ...) an IAM user with an access key, so that STS GetCallerIdentity
signed with that key answers that account, as AWS does. Then writes to WORK:

- `credentials`: one profile per account, `[a<ACCOUNT>]`, with its access key;
- `profiles`: the profile names, one a line, in account order;
- `access-keys`: `KEY=ACCOUNT` a line, for the emulator's --access-key;
- `stores.json`: an hlaudit snapshot of STORES data stores with tags and AWS owned
  keys, spread evenly over the first WITH_STORES accounts and the regions; the other
  accounts hold none.

Data store ids depend only on the arguments.
"""

import argparse
import hashlib
import json
import os

import boto3


def access_key(endpoint, account):
    """An access key moto files under `account` (its own x-moto-account-id header)."""
    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="setup",
        aws_secret_access_key="setup",
    )

    def in_account(request, **_):
        request.headers["x-moto-account-id"] = account

    iam.meta.events.register("before-sign", in_account)
    iam.create_user(UserName="hlaudit-audit")
    key = iam.create_access_key(UserName="hlaudit-audit")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def datastore(account, region, i):
    digest = hashlib.sha256(f"{account}/{region}/{i}".encode()).hexdigest()[:32]
    return {
        "properties": {
            "DatastoreId": digest,
            "DatastoreArn": f"arn:aws:healthlake:{region}:{account}:datastore/fhir/{digest}",
            "DatastoreName": f"store-{i}",
            "DatastoreStatus": "ACTIVE",
            "CreatedAt": 1700000000 + 3600 * i,
            "DatastoreTypeVersion": "R4",
            "DatastoreEndpoint": f"https://healthlake.{region}.amazonaws.com/datastore/{digest}/r4/",
            "SseConfiguration": {"KmsEncryptionConfig": {"CmkType": "AWS_OWNED_KMS_KEY"}},
            "IdentityProviderConfiguration": {"AuthorizationStrategy": "AWS_AUTH"},
        },
        "tags": {"Environment": "prod" if i % 2 == 0 else "dev", "Index": str(i)},
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("moto")
    p.add_argument("work")
    p.add_argument("--accounts", type=int, default=1000)
    p.add_argument("--with-stores", type=int, default=50)
    p.add_argument("--stores", type=int, default=5000)
    p.add_argument("--regions", required=True)
    args = p.parse_args()
    regions = args.regions.split(",")
    accounts = [str(100000000000 + n) for n in range(args.accounts)]
    os.makedirs(args.work, exist_ok=True)

    keys = [access_key(args.moto, a) for a in accounts]
    with open(os.path.join(args.work, "credentials"), "w") as f:
        for account, (key, secret) in zip(accounts, keys):
            f.write(f"[a{account}]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n\n")
    with open(os.path.join(args.work, "profiles"), "w") as f:
        f.writelines(f"a{a}\n" for a in accounts)
    with open(os.path.join(args.work, "access-keys"), "w") as f:
        f.writelines(f"{key}={a}\n" for a, (key, _) in zip(accounts, keys))

    holders = accounts[: args.with_stores]
    slots = [(a, r) for a in holders for r in regions]
    records = []
    for n in range(args.stores):
        account, region = slots[n % len(slots)]
        records.append(datastore(account, region, n // len(slots)))
    with open(os.path.join(args.work, "stores.json"), "w") as f:
        json.dump({"hlauditSnapshot": 1, "records": records}, f)


if __name__ == "__main__":
    main()

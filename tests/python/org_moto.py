"""Builds an AWS Organization in moto's server for the `--org` end-to-end tests.

    org_moto.py ENDPOINT

Creates the organization from moto's default account (the management account), an
organizational unit `clinical` under the root with `research` under it, and four member
accounts: one in `clinical`, one in `research`, one left in the root and one closed
(not ACTIVE). Prints the ids as JSON:
{"management": ..., "ous": {"clinical": ..., "research": ...},
 "accounts": {"clinical": ..., "research": ..., "root": ..., "closed": ...}}
"""

import json
import sys

import boto3


def main():
    endpoint = sys.argv[1]
    org = boto3.client(
        "organizations",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="management",
        aws_secret_access_key="management",
    )
    management = org.create_organization(FeatureSet="ALL")["Organization"]["MasterAccountId"]
    root = org.list_roots()["Roots"][0]["Id"]
    clinical = org.create_organizational_unit(ParentId=root, Name="clinical")[
        "OrganizationalUnit"
    ]["Id"]
    research = org.create_organizational_unit(ParentId=clinical, Name="research")[
        "OrganizationalUnit"
    ]["Id"]
    accounts = {}
    for name in ["clinical", "research", "root", "closed"]:
        status = org.create_account(
            Email=f"{name}@example.org", AccountName=f"hlaudit-{name}"
        )["CreateAccountStatus"]
        accounts[name] = status["AccountId"]
    org.move_account(AccountId=accounts["clinical"], SourceParentId=root, DestinationParentId=clinical)
    org.move_account(AccountId=accounts["research"], SourceParentId=root, DestinationParentId=research)
    org.close_account(AccountId=accounts["closed"])
    json.dump(
        {
            "management": management,
            "ous": {"clinical": clinical, "research": research},
            "accounts": accounts,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Infrastructure code for bench/iac.sh: CloudFormation templates and a Terraform plan.

    python3 bench/gen_iac.py templates DIR [--count 2000] [--seed 7]
    python3 bench/gen_iac.py plan FILE [--resources 5000] [--seed 7]
    python3 bench/gen_iac.py check DIR_OR_FILE...

`templates` writes COUNT templates, half JSON and half YAML (the YAML ones with the
short-form tags !Ref, !Sub, !GetAtt, !If, !Equals, !Not, !Join, !Select, !Split, !GetAZs,
!ImportValue, and long-form Fn::ImportValue around !Sub), about 20
resources each (S3, IAM, Lambda, KMS, SQS, SNS, DynamoDB, CloudWatch, Secrets Manager);
one template in ten declares an AWS::HealthLake::FHIRDatastore with one of several
encryption settings.

`plan` writes the JSON of `terraform show -json PLAN` (format_version 1.2): planned values,
resource changes with large `after` bodies (IAM policies, security groups, Lambda
functions, dashboards...), prior state for what already exists, configuration, and a few
`awscc_healthlake_fhir_datastore` changes. The default size is about 50 MB.

`check` parses what the other two wrote and checks it hangs together: every template has
resources with AWS types, every Ref, GetAtt, Condition and DependsOn names something that
exists; every plan has the fields a reader needs and one change per planned resource.

Output depends only on the arguments (seeded random numbers, fixed timestamps).
"""

import argparse
import collections
import json
import os
import random
import re
import sys

# ---------------------------------------------------------------------------------------
# Intrinsic functions and the two template syntaxes


class Fn:
    """An intrinsic function: written `{"Fn::Name": arg}` in JSON and `!Name arg` in YAML."""

    __slots__ = ("name", "arg")

    def __init__(self, name, arg):
        self.name = name
        self.arg = arg


def ref(name):
    return Fn("Ref", name)


def sub(text):
    return Fn("Sub", text)


def getatt(resource, attribute):
    return Fn("GetAtt", [resource, attribute])


def if_(condition, yes, no):
    return Fn("If", [condition, yes, no])


NO_VALUE = ref("AWS::NoValue")


def to_json_value(node):
    """The long form of a template, as json.dump writes it."""
    if isinstance(node, Fn):
        key = "Ref" if node.name == "Ref" else "Fn::" + node.name
        return {key: to_json_value(node.arg)}
    if isinstance(node, dict):
        return {k: to_json_value(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_json_value(v) for v in node]
    return node


_PLAIN = re.compile(r"^[A-Za-z_/$][A-Za-z0-9 _./:*${}@+=-]*$")
_FLOW_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./*@+=-]*$")
_RESERVED = {"y", "n", "yes", "no", "true", "false", "on", "off", "null", "~"}


def yaml_scalar(value, flow=False):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return repr(value)
    pattern = _FLOW_PLAIN if flow else _PLAIN
    if (
        pattern.match(value)
        and value.lower() not in _RESERVED
        and not value.endswith((" ", ":"))
        and ": " not in value
        and " #" not in value
    ):
        return value
    # A JSON string is a valid YAML double-quoted scalar.
    return json.dumps(value)


def yaml_flow(node):
    """The node on one line, or None when it has a mapping or is too long."""
    if isinstance(node, Fn):
        arg = node.arg
        if isinstance(arg, Fn):
            return None  # `!ImportValue !Sub ...` is not YAML: the outer one goes long form
        if node.name == "GetAtt" and isinstance(arg, list) and all(isinstance(a, str) for a in arg):
            arg = ".".join(arg)
        inner = yaml_flow(arg)
        return None if inner is None else "!%s %s" % (node.name, inner)
    if isinstance(node, list):
        parts = [yaml_flow(v) for v in node]
        if any(p is None for p in parts):
            return None
        text = "[" + ", ".join(parts) + "]"
        return text if len(text) <= 90 else None
    if isinstance(node, dict):
        return "{}" if not node else None
    return yaml_scalar(node, flow=True)


def yaml_value(node, indent):
    """(text after `key:` or `-`, lines below it indented by `indent`)."""
    if isinstance(node, Fn):
        flow = yaml_flow(node)
        if flow is not None:
            return " " + flow, []
        if isinstance(node.arg, Fn):
            return yaml_value({"Fn::" + node.name: node.arg}, indent)
        if node.name == "GetAtt":
            return " !GetAtt " + yaml_scalar(".".join(node.arg)), []
        if isinstance(node.arg, str):
            return " !%s %s" % (node.name, yaml_scalar(node.arg)), []
        head, body = yaml_value(node.arg, indent)
        return " !" + node.name + head, body
    if isinstance(node, dict):
        return (" {}", []) if not node else ("", yaml_mapping(node, indent))
    if isinstance(node, list):
        if not node:
            return " []", []
        flow = yaml_flow(node) if all(not isinstance(v, (dict, list)) for v in node) else None
        if flow is not None and len(node) <= 4:
            return " " + flow, []
        return "", yaml_sequence(node, indent)
    return " " + yaml_scalar(node), []


def yaml_mapping(mapping, indent):
    lines = []
    for key, value in mapping.items():
        head, body = yaml_value(value, indent + 2)
        lines.append(" " * indent + yaml_scalar(key) + ":" + head)
        lines.extend(body)
    return lines


def yaml_sequence(items, indent):
    lines = []
    for item in items:
        if isinstance(item, Fn) and isinstance(item.arg, Fn):
            item = {"Fn::" + item.name: item.arg}
        if isinstance(item, dict) and item:
            sub_lines = yaml_mapping(item, indent + 2)
            sub_lines[0] = " " * indent + "- " + sub_lines[0][indent + 2 :]
            lines.extend(sub_lines)
        else:
            head, body = yaml_value(item, indent + 2)
            lines.append(" " * indent + "-" + head)
            lines.extend(body)
    return lines


def to_yaml(template, comment):
    lines = ["# " + comment]
    for key, value in template.items():
        head, body = yaml_value(value, 2)
        lines.append(yaml_scalar(key) + ":" + head)
        lines.extend(body)
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# CloudFormation templates

TEAMS = ["claims", "billing", "imaging", "pharmacy", "scheduling", "labs", "portal", "analytics", "identity", "records"]
RUNTIMES = ["python3.12", "python3.13", "nodejs22.x", "nodejs24.x", "java21", "provided.al2023"]
SMART_METADATA = {
    "issuer": "https://auth.example.org",
    "jwks_uri": "https://auth.example.org/.well-known/jwks.json",
    "authorization_endpoint": "https://auth.example.org/authorize",
    "token_endpoint": "https://auth.example.org/token",
    "grant_types_supported": ["authorization_code", "client_credentials"],
    "response_types_supported": ["code"],
    "token_endpoint_auth_methods_supported": ["private_key_jwt"],
    "capabilities": ["launch-ehr", "launch-standalone", "client-confidential-asymmetric", "sso-openid-connect", "permission-v2"],
}


def policy_statements(rng, resource):
    actions = [
        ["s3:GetObject", "s3:PutObject"],
        ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
        ["kms:Decrypt", "kms:GenerateDataKey"],
        ["logs:CreateLogStream", "logs:PutLogEvents"],
        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"],
        ["secretsmanager:GetSecretValue"],
        ["sns:Publish"],
    ]
    return [
        {"Effect": "Allow", "Action": rng.choice(actions), "Resource": resource if i == 0 else sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/%s/*" % rng.choice(TEAMS))}
        for i in range(rng.randint(1, 4))
    ]


class TemplateBuilder:
    def __init__(self, rng, index):
        self.rng = rng
        self.index = index
        self.team = rng.choice(TEAMS)
        self.resources = {}
        self.outputs = {}
        self.keys = []
        self.roles = []
        self.queues = []
        self.buckets = []
        self.functions = []
        self.topics = []

    def tags(self, extra=None):
        tags = [
            {"Key": "Team", "Value": self.team},
            {"Key": "Environment", "Value": ref("Environment")},
            {"Key": "CostCenter", "Value": "cc-%04d" % self.rng.randint(1000, 9999)},
        ]
        return tags + (extra or [])

    def add(self, prefix, resource):
        name = "%s%s%d" % (self.team.capitalize(), prefix, len(self.resources))
        self.resources[name] = resource
        return name

    def kms_key(self):
        name = self.add("Key", {
            "Type": "AWS::KMS::Key",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "Description": sub("${AWS::StackName} %s data key" % self.team),
                "EnableKeyRotation": True,
                "PendingWindowInDays": 30,
                "KeyPolicy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")}, "Action": "kms:*", "Resource": "*"},
                        {"Sid": "Services", "Effect": "Allow", "Principal": {"Service": ["sqs.amazonaws.com", "sns.amazonaws.com", "healthlake.amazonaws.com"]}, "Action": ["kms:Decrypt", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"], "Resource": "*"},
                    ],
                },
                "Tags": self.tags(),
            },
        })
        self.keys.append(name)
        self.add("KeyAlias", {"Type": "AWS::KMS::Alias", "Properties": {"AliasName": sub("alias/${AWS::StackName}-%s-%d" % (self.team, len(self.keys))), "TargetKeyId": ref(name)}})
        return name

    def bucket(self):
        rng = self.rng
        encryption = (
            {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": getatt(rng.choice(self.keys), "Arn")}
            if self.keys and rng.random() < 0.7
            else {"SSEAlgorithm": "AES256"}
        )
        name = self.add("Bucket", {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "BucketName": sub("${AWS::StackName}-%s-${AWS::AccountId}-${AWS::Region}-%d" % (self.team, len(self.resources))),
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": encryption, "BucketKeyEnabled": True}]},
                "VersioningConfiguration": {"Status": if_("IsProd", "Enabled", "Suspended")},
                "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
                "LifecycleConfiguration": {"Rules": [
                    {"Id": "expire-%d" % i, "Status": "Enabled", "Prefix": "%s/" % rng.choice(["tmp", "logs", "exports", "staging"]),
                     "ExpirationInDays": if_("IsProd", rng.choice([365, 730, 2555]), rng.choice([7, 30])),
                     "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}
                    for i in range(rng.randint(1, 3))
                ]},
                "Tags": self.tags([{"Key": "DataClassification", "Value": rng.choice(["phi", "internal", "public"])}]),
            },
        })
        self.buckets.append(name)
        self.add("BucketPolicy", {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": ref(name),
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [getatt(name, "Arn"), sub("${%s.Arn}/*" % name)],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }]},
        }})
        return name

    def queue(self):
        rng = self.rng
        dlq = self.add("DeadLetterQueue", {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True}})
        props = {
            "QueueName": Fn("Join", ["-", [ref("AWS::StackName"), self.team, "work", str(len(self.resources))]]),
            "VisibilityTimeout": rng.choice([300, 600, 900]),  # at least the longest function timeout
            "RedrivePolicy": {"deadLetterTargetArn": getatt(dlq, "Arn"), "maxReceiveCount": rng.randint(3, 10)},
            "Tags": self.tags(),
        }
        if self.keys:
            props["KmsMasterKeyId"] = ref(rng.choice(self.keys))
        name = self.add("Queue", {"Type": "AWS::SQS::Queue", "Properties": props})
        self.queues.append(name)
        return name

    def role(self):
        rng = self.rng
        targets = [getatt(q, "Arn") for q in self.queues] + [sub("${%s.Arn}/*" % b) for b in self.buckets] + ["*"]
        name = self.add("Role", {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "ManagedPolicyArns": [sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")],
            "Policies": [{"PolicyName": "%s-access-%d" % (self.team, i), "PolicyDocument": {"Version": "2012-10-17", "Statement": policy_statements(rng, rng.choice(targets))}} for i in range(rng.randint(1, 3))],
            "PermissionsBoundary": if_("HasBoundary", sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/${PermissionsBoundaryName}"), NO_VALUE),
            "Tags": self.tags(),
        }})
        self.roles.append(name)
        return name

    def function(self):
        rng = self.rng
        role = rng.choice(self.roles) if self.roles else self.role()
        env = {"TEAM": self.team, "STAGE": ref("Environment"), "LOG_LEVEL": if_("IsProd", "WARN", "DEBUG"), "PRIMARY_AZ": Fn("Select", [0, Fn("GetAZs", "")])}
        for q in self.queues[:2]:
            env["QUEUE_%s" % q.upper()[-6:]] = ref(q)
        for b in self.buckets[:2]:
            env["BUCKET_%s" % b.upper()[-6:]] = ref(b)
        for i in range(rng.randint(2, 8)):
            env["FEATURE_%d" % i] = rng.choice(["on", "off", "canary"])
        name = self.add("Function", {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": rng.choice(RUNTIMES),
            "Handler": "app.handler",
            "Role": getatt(role, "Arn"),
            "Code": {"S3Bucket": sub("artifacts-${AWS::AccountId}-${AWS::Region}"), "S3Key": "%s/%s-%08x.zip" % (self.team, self.team, rng.getrandbits(32))},
            "MemorySize": rng.choice([128, 256, 512, 1024, 2048]),
            "Timeout": rng.choice([3, 10, 30, 60, 300]),
            "Architectures": [rng.choice(["x86_64", "arm64"])],
            "Environment": {"Variables": env},
            "TracingConfig": {"Mode": if_("IsProd", "Active", "PassThrough")},
            "VpcConfig": {
                "SubnetIds": [Fn("Select", [0, Fn("Split", [",", Fn("ImportValue", "network-private-subnets")])]), Fn("Select", [1, Fn("Split", [",", Fn("ImportValue", "network-private-subnets")])])],
                "SecurityGroupIds": [Fn("ImportValue", sub("${Environment}-lambda-sg"))],
            },
            "Tags": self.tags(),
        }})
        self.functions.append(name)
        self.add("LogGroup", {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": sub("/aws/lambda/${%s}" % name), "RetentionInDays": if_("IsProd", 365, 14)}})
        if self.queues and rng.random() < 0.6:
            # The mapping needs the role's SQS permissions in place first.
            self.add("EventSource", {"Type": "AWS::Lambda::EventSourceMapping", "DependsOn": [role], "Properties": {"EventSourceArn": getatt(rng.choice(self.queues), "Arn"), "FunctionName": ref(name), "BatchSize": rng.choice([1, 10, 100])}})
        return name

    def topic(self):
        props = {"TopicName": sub("${AWS::StackName}-%s-events" % self.team), "Tags": self.tags()}
        if self.keys:
            props["KmsMasterKeyId"] = ref(self.rng.choice(self.keys))
        name = self.add("Topic", {"Type": "AWS::SNS::Topic", "Properties": props})
        self.topics.append(name)
        if self.queues:
            self.add("Subscription", {"Type": "AWS::SNS::Subscription", "Properties": {"TopicArn": ref(name), "Protocol": "sqs", "Endpoint": getatt(self.rng.choice(self.queues), "Arn"), "RawMessageDelivery": True}})
        return name

    def table(self):
        rng = self.rng
        props = {
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}, {"AttributeName": "gsi1pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "GlobalSecondaryIndexes": [{"IndexName": "gsi1", "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": if_("IsProd", True, False)},
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": ref(rng.choice(self.keys))} if self.keys else {"SSEEnabled": True},
            "Tags": self.tags(),
        }
        return self.add("Table", {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": props})

    def alarm(self):
        target = self.rng.choice(self.functions) if self.functions else None
        if target is None:
            return None
        props = {
            "AlarmDescription": sub("Errors of ${%s}" % target),
            "Namespace": "AWS/Lambda", "MetricName": "Errors", "Statistic": "Sum",
            "Dimensions": [{"Name": "FunctionName", "Value": ref(target)}],
            "Period": 300, "EvaluationPeriods": 1, "Threshold": self.rng.randint(1, 20),
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
        }
        if self.topics:
            props["AlarmActions"] = [ref(self.rng.choice(self.topics))]
        return self.add("Alarm", {"Type": "AWS::CloudWatch::Alarm", "Condition": "IsProd", "Properties": props})

    def secret(self):
        props = {"Description": "%s service credentials" % self.team, "GenerateSecretString": {"SecretStringTemplate": json.dumps({"username": self.team}), "GenerateStringKey": "password", "PasswordLength": 32, "ExcludePunctuation": True}}
        if self.keys:
            props["KmsKeyId"] = ref(self.rng.choice(self.keys))
        return self.add("Secret", {"Type": "AWS::SecretsManager::Secret", "Properties": props})

    def datastore(self):
        rng = self.rng
        variant = self.index // 10 % 5
        props = {
            "DatastoreName": sub("${AWS::StackName}-%s-fhir" % self.team),
            "DatastoreTypeVersion": "R4",
        }
        if variant == 0:  # customer managed key created here
            key = self.keys[0] if self.keys else self.kms_key()
            props["SseConfiguration"] = {"KmsEncryptionConfig": {"CmkType": "CUSTOMER_MANAGED_KMS_KEY", "KmsKeyId": getatt(key, "Arn")}}
        elif variant == 1:  # customer managed key named by a literal ARN
            props["SseConfiguration"] = {"KmsEncryptionConfig": {"CmkType": "CUSTOMER_MANAGED_KMS_KEY", "KmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/%08x-4c1a-4d8e-9f3a-7e2b5c9d1a40" % rng.getrandbits(32)}}
        elif variant == 2:  # AWS owned key
            props["SseConfiguration"] = {"KmsEncryptionConfig": {"CmkType": "AWS_OWNED_KMS_KEY"}}
        elif variant == 3:  # decided by a condition
            key = self.keys[0] if self.keys else self.kms_key()
            props["SseConfiguration"] = if_("IsProd",
                {"KmsEncryptionConfig": {"CmkType": "CUSTOMER_MANAGED_KMS_KEY", "KmsKeyId": getatt(key, "Arn")}},
                {"KmsEncryptionConfig": {"CmkType": "AWS_OWNED_KMS_KEY"}})
        # variant 4: no SseConfiguration, so an AWS owned key
        if rng.random() < 0.6:
            metadata = dict(SMART_METADATA)
            metadata["code_challenge_methods_supported"] = ["S256"] if rng.random() < 0.7 else ["S256", "plain"]
            validator = self.functions[0] if self.functions else self.function()
            props["IdentityProviderConfiguration"] = {
                "AuthorizationStrategy": rng.choice(["SMART_ON_FHIR", "SMART_ON_FHIR", "SMART_ON_FHIR_V1"]),
                "FineGrainedAuthorizationEnabled": rng.random() < 0.8,
                "IdpLambdaArn": getatt(validator, "Arn"),
                "Metadata": json.dumps(metadata, separators=(",", ":")),
            }
        else:
            props["IdentityProviderConfiguration"] = {"AuthorizationStrategy": "AWS_AUTH"}
        if rng.random() < 0.2:
            props["PreloadDataConfig"] = {"PreloadDataType": "SYNTHEA"}
        props["Tags"] = self.tags([{"Key": "DataClassification", "Value": "phi"}, {"Key": "Owner", "Value": "%s-team" % self.team}])
        name = self.add("Datastore", {"Type": "AWS::HealthLake::FHIRDatastore", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": props})
        self.outputs["FhirEndpoint"] = {"Value": getatt(name, "DatastoreEndpoint"), "Export": {"Name": sub("${AWS::StackName}-fhir-endpoint")}}
        return name

    def build(self, resources=20):
        rng = self.rng
        if rng.random() < 0.8:
            self.kms_key()
        makers = [self.bucket, self.queue, self.role, self.function, self.topic, self.table, self.alarm, self.secret, self.kms_key]
        weights = [3, 3, 2, 4, 1, 1, 2, 1, 1]
        if self.index % 10 == 3:
            self.datastore()
        while len(self.resources) < resources:
            rng.choices(makers, weights)[0]()
        for name in self.functions[:3]:
            self.outputs[name + "Arn"] = {"Value": getatt(name, "Arn"), "Export": {"Name": sub("${AWS::StackName}-%s" % name)}}
        for name in self.queues[:2]:
            self.outputs[name + "Url"] = {"Value": ref(name)}
        conditions = {
            "IsProd": Fn("Equals", [ref("Environment"), "prod"]),
            "HasBoundary": Fn("Not", [Fn("Equals", [ref("PermissionsBoundaryName"), ""])]),
        }
        used = conditions_used([self.resources, self.outputs])
        template = {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": "%s service stack %d (generated for bench/iac.sh)" % (self.team, self.index),
            "Parameters": {
                "Environment": {"Type": "String", "AllowedValues": ["dev", "staging", "prod"], "Default": "dev"},
            },
            "Conditions": {k: v for k, v in conditions.items() if k in used},
            "Resources": self.resources,
            "Outputs": self.outputs,
        }
        if "HasBoundary" in used:
            template["Parameters"]["PermissionsBoundaryName"] = {"Type": "String", "Default": ""}
        return template


def conditions_used(node, used=None):
    """Names of the conditions that `Fn::If` and `Condition` keys in `node` use."""
    used = set() if used is None else used
    if isinstance(node, Fn):
        if node.name == "If":
            used.add(node.arg[0])
        conditions_used(node.arg, used)
    elif isinstance(node, dict):
        if isinstance(node.get("Condition"), str):
            used.add(node["Condition"])
        for value in node.values():
            conditions_used(value, used)
    elif isinstance(node, list):
        for value in node:
            conditions_used(value, used)
    return used


def write_templates(directory, count, seed):
    os.makedirs(directory, exist_ok=True)
    datastores = 0
    for index in range(count):
        rng = random.Random(seed * 1_000_003 + index)
        template = TemplateBuilder(rng, index).build()
        datastores += any(r["Type"] == "AWS::HealthLake::FHIRDatastore" for r in template["Resources"].values())
        stem = os.path.join(directory, "stack-%04d" % index)
        # YAML for index 1, 2 (mod 4): half of all templates and half of those with a data store.
        if index % 4 in (1, 2):
            with open(stem + ".yaml", "w") as f:
                f.write(to_yaml(template, "stack %d, generated by bench/gen_iac.py" % index))
        else:
            with open(stem + ".json", "w") as f:
                json.dump(to_json_value(template), f, indent=2)
                f.write("\n")
    print("%d templates (%d with a HealthLake data store) in %s" % (count, datastores, directory))


# ---------------------------------------------------------------------------------------
# Terraform plan (terraform show -json)

AWS = "registry.terraform.io/hashicorp/aws"
AWSCC = "registry.terraform.io/hashicorp/awscc"
ACCOUNT = "111122223333"
REGION = "us-east-1"


def words(rng, n):
    pool = ["patient", "claim", "encounter", "invoice", "export", "ingest", "batch", "report", "audit", "archive", "sync", "notify"]
    return "-".join(rng.choice(pool) for _ in range(n))


def common_tags(rng, block):
    tags = {"Team": rng.choice(TEAMS), "Environment": "prod", "ManagedBy": "terraform", "Component": block["name"], "CostCenter": "cc-%04d" % rng.randint(1000, 9999)}
    return tags


def tf_iam_policy(rng, block):
    statements = [{
        "Sid": "S%d" % i, "Effect": "Allow",
        "Action": rng.sample(["s3:GetObject", "s3:PutObject", "s3:ListBucket", "kms:Decrypt", "kms:GenerateDataKey", "sqs:SendMessage", "sqs:ReceiveMessage", "dynamodb:Query", "dynamodb:GetItem", "logs:PutLogEvents", "ssm:GetParameter", "secretsmanager:GetSecretValue"], rng.randint(2, 6)),
        "Resource": ["arn:aws:s3:::%s-%d/*" % (words(rng, 2), rng.randint(0, 9999)) for _ in range(rng.randint(1, 5))],
        "Condition": {"StringEquals": {"aws:PrincipalTag/Team": rng.choice(TEAMS)}},
    } for i in range(rng.randint(8, 30))]
    tags = common_tags(rng, block)
    after = {"description": "Access for %s" % words(rng, 3), "name": "%s-%d" % (words(rng, 2), rng.randint(0, 99999)), "name_prefix": None, "path": "/service/",
             "policy": json.dumps({"Version": "2012-10-17", "Statement": statements}), "tags": tags, "tags_all": dict(tags)}
    unknown = {"arn": True, "attachment_count": True, "id": True, "policy_id": True, "tags": {}, "tags_all": {}}
    return after, unknown, {"tags": {}, "tags_all": {}}


def tf_security_group(rng, block):
    def rule(i):
        port = rng.choice([22, 80, 443, 5432, 6379, 8080, 8443, 9200])
        return {"cidr_blocks": ["10.%d.%d.0/24" % (rng.randint(0, 255), rng.randint(0, 255)) for _ in range(rng.randint(1, 4))], "description": "rule %d for %s" % (i, words(rng, 2)),
                "from_port": port, "ipv6_cidr_blocks": [], "prefix_list_ids": [], "protocol": "tcp", "security_groups": [], "self": False, "to_port": port}
    tags = common_tags(rng, block)
    after = {"description": "Managed by Terraform", "egress": [rule(0)], "ingress": [rule(i) for i in range(rng.randint(10, 40))], "name": "%s-sg-%d" % (words(rng, 2), rng.randint(0, 99999)),
             "name_prefix": None, "revoke_rules_on_delete": False, "tags": tags, "tags_all": dict(tags), "timeouts": None, "vpc_id": "vpc-%017x" % rng.getrandbits(68)}
    unknown = {"arn": True, "egress": [{"cidr_blocks": [False], "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": []}], "id": True, "ingress": [{} for _ in after["ingress"]], "owner_id": True, "tags": {}, "tags_all": {}}
    return after, unknown, {"egress": [{}], "ingress": [{} for _ in after["ingress"]], "tags": {}, "tags_all": {}}


def tf_lambda(rng, block):
    variables = {"VAR_%02d" % i: "%s-%08x" % (words(rng, 2), rng.getrandbits(32)) for i in range(rng.randint(10, 40))}
    tags = common_tags(rng, block)
    after = {"architectures": [rng.choice(["x86_64", "arm64"])], "code_signing_config_arn": None, "dead_letter_config": [], "description": "", "environment": [{"variables": variables}],
             "ephemeral_storage": [{"size": 512}], "file_system_config": [], "filename": None, "function_name": "%s-%d" % (words(rng, 2), rng.randint(0, 99999)), "handler": "index.handler",
             "image_config": [], "image_uri": None, "kms_key_arn": None, "layers": ["arn:aws:lambda:%s:%s:layer:shared-%d:%d" % (REGION, ACCOUNT, i, rng.randint(1, 40)) for i in range(rng.randint(0, 3))],
             "memory_size": rng.choice([128, 256, 512, 1024]), "package_type": "Zip", "publish": False, "replace_security_groups_on_destroy": None, "replacement_security_group_ids": None,
             "reserved_concurrent_executions": -1, "runtime": rng.choice(RUNTIMES), "s3_bucket": "artifacts-%s-%s" % (ACCOUNT, REGION), "s3_key": "lambda/%08x.zip" % rng.getrandbits(32),
             "s3_object_version": None, "skip_destroy": False, "snap_start": [], "tags": tags, "tags_all": dict(tags), "timeout": rng.choice([3, 30, 300]), "timeouts": None,
             "tracing_config": [{"mode": "Active"}], "vpc_config": [{"ipv6_allowed_for_dual_stack": False, "security_group_ids": ["sg-%017x" % rng.getrandbits(68)], "subnet_ids": ["subnet-%017x" % rng.getrandbits(68) for _ in range(3)]}]}
    unknown = {"architectures": [False], "arn": True, "environment": [{"variables": {}}], "ephemeral_storage": [{}], "id": True, "invoke_arn": True, "last_modified": True, "layers": [False for _ in after["layers"]],
               "logging_config": True, "qualified_arn": True, "qualified_invoke_arn": True, "role": True, "signing_job_arn": True, "signing_profile_version_arn": True, "source_code_hash": True,
               "source_code_size": True, "tags": {}, "tags_all": {}, "tracing_config": [{}], "version": True, "vpc_config": [{"security_group_ids": [False], "subnet_ids": [False, False, False], "vpc_id": True}]}
    after["role"] = None
    return after, unknown, {"environment": [{"variables": {}}], "tags": {}, "tags_all": {}}


def tf_dashboard(rng, block):
    widgets = [{"type": "metric", "x": (i % 4) * 6, "y": (i // 4) * 6, "width": 6, "height": 6, "properties": {
        "metrics": [["AWS/Lambda", rng.choice(["Errors", "Invocations", "Duration", "Throttles"]), "FunctionName", "%s-%d" % (words(rng, 2), j)] for j in range(rng.randint(2, 6))],
        "period": 300, "stat": rng.choice(["Sum", "Average", "p99"]), "region": REGION, "title": words(rng, 3)}} for i in range(rng.randint(10, 40))]
    after = {"dashboard_body": json.dumps({"widgets": widgets}), "dashboard_name": "%s-%d" % (words(rng, 2), rng.randint(0, 99999))}
    return after, {"dashboard_arn": True, "id": True}, {}


def tf_bucket(rng, block):
    tags = common_tags(rng, block)
    after = {"bucket": "%s-%s-%d" % (words(rng, 2), ACCOUNT, rng.randint(0, 99999)), "bucket_prefix": None, "force_destroy": False, "object_lock_enabled": None, "tags": tags, "tags_all": dict(tags), "timeouts": None}
    unknown = {k: True for k in ["acceleration_status", "acl", "arn", "bucket_domain_name", "bucket_region", "bucket_regional_domain_name", "cors_rule", "grant", "hosted_zone_id", "id", "lifecycle_rule",
                                 "logging", "object_lock_configuration", "policy", "region", "replication_configuration", "request_payer", "server_side_encryption_configuration", "versioning", "website",
                                 "website_domain", "website_endpoint"]}
    unknown.update({"tags": {}, "tags_all": {}})
    return after, unknown, {"tags": {}, "tags_all": {}}


def tf_ssm_parameter(rng, block):
    tags = common_tags(rng, block)
    after = {"allowed_pattern": None, "data_type": "text", "description": words(rng, 4), "insecure_value": None, "name": "/%s/%s" % (words(rng, 1), words(rng, 2)), "overwrite": None,
             "tags": tags, "tags_all": dict(tags), "tier": "Standard", "type": "SecureString", "value": "%064x" % rng.getrandbits(256)}
    return after, {"arn": True, "id": True, "key_id": True, "tags": {}, "tags_all": {}, "version": True}, {"tags": {}, "tags_all": {}, "value": True}


def tf_kms_key(rng, block):
    tags = common_tags(rng, block)
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT}, "Action": "kms:*", "Resource": "*"}] +
              [{"Sid": "Use%d" % i, "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:role/%s" % (ACCOUNT, words(rng, 2))}, "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*"} for i in range(rng.randint(2, 10))]}
    after = {"bypass_policy_lockout_safety_check": False, "custom_key_store_id": None, "customer_master_key_spec": "SYMMETRIC_DEFAULT", "deletion_window_in_days": 30, "description": words(rng, 4),
             "enable_key_rotation": True, "is_enabled": True, "key_usage": "ENCRYPT_DECRYPT", "policy": json.dumps(policy), "tags": tags, "tags_all": dict(tags), "timeouts": None, "xks_key_id": None}
    return after, {"arn": True, "id": True, "key_id": True, "multi_region": True, "rotation_period_in_days": True, "tags": {}, "tags_all": {}}, {"tags": {}, "tags_all": {}}


TF_MAKERS = {
    "aws_iam_policy": tf_iam_policy,
    "aws_security_group": tf_security_group,
    "aws_lambda_function": tf_lambda,
    "aws_cloudwatch_dashboard": tf_dashboard,
    "aws_s3_bucket": tf_bucket,
    "aws_ssm_parameter": tf_ssm_parameter,
    "aws_kms_key": tf_kms_key,
}
TF_WEIGHTS = [3, 2, 3, 1, 3, 2, 1]

# The awscc data stores: (module, name, encryption, SMART PKCE methods or None, action).
# encryption: "cmk-ref" (kms_key_id from aws_kms_key.healthlake.arn, unknown until apply),
# "cmk-arn", "aws-owned", or "unset" (awscc leaves an unset optional attribute unknown).
DATASTORES = [
    (None, "clinical", "cmk-ref", ["S256"], ["create"]),
    (None, "research", "aws-owned", ["S256", "plain"], ["create"]),
    (None, "legacy", "cmk-arn", None, ["update"]),
    (None, "sandbox", "unset", None, ["create"]),
    ('module.region["eu"]', "this", "cmk-arn", ["S256"], ["no-op"]),
    ('module.region["us"]', "this", "aws-owned", None, ["delete", "create"]),
]


def tf_datastore(rng, module, name, encryption, pkce):
    after = {"created_at": None, "datastore_arn": None, "datastore_endpoint": None, "datastore_id": None, "datastore_name": "%s-fhir" % name,
             "datastore_status": None, "datastore_type_version": "R4", "id": None, "preload_data_config": None,
             "tags": [{"key": "Owner", "value": "%s-team" % name}, {"key": "DataClassification", "value": "phi"}, {"key": "Environment", "value": "prod"}]}
    unknown = {"created_at": True, "datastore_arn": True, "datastore_endpoint": True, "datastore_id": True, "datastore_status": True, "id": True, "tags": [{}, {}, {}]}
    if encryption == "cmk-ref":
        after["sse_configuration"] = {"kms_encryption_config": {"cmk_type": "CUSTOMER_MANAGED_KMS_KEY", "kms_key_id": None}}
        unknown["sse_configuration"] = {"kms_encryption_config": {"kms_key_id": True}}
    elif encryption == "cmk-arn":
        after["sse_configuration"] = {"kms_encryption_config": {"cmk_type": "CUSTOMER_MANAGED_KMS_KEY", "kms_key_id": "arn:aws:kms:%s:%s:key/%08x-1111-4222-8333-444455556666" % (REGION, ACCOUNT, rng.getrandbits(32))}}
        unknown["sse_configuration"] = {"kms_encryption_config": {}}
    elif encryption == "aws-owned":
        after["sse_configuration"] = {"kms_encryption_config": {"cmk_type": "AWS_OWNED_KMS_KEY", "kms_key_id": None}}
        unknown["sse_configuration"] = {"kms_encryption_config": {}}
    else:
        after["sse_configuration"] = None
        unknown["sse_configuration"] = True
    if pkce is None:
        after["identity_provider_configuration"] = {"authorization_strategy": "AWS_AUTH", "fine_grained_authorization_enabled": False, "idp_lambda_arn": None, "metadata": None}
        unknown["identity_provider_configuration"] = {}
    else:
        metadata = dict(SMART_METADATA, code_challenge_methods_supported=pkce)
        after["identity_provider_configuration"] = {"authorization_strategy": "SMART_ON_FHIR", "fine_grained_authorization_enabled": True,
                                                     "idp_lambda_arn": "arn:aws:lambda:%s:%s:function:%s-token-validator:live" % (REGION, ACCOUNT, name),
                                                     "metadata": json.dumps(metadata, separators=(",", ":"))}
        unknown["identity_provider_configuration"] = {}
    datastore_id = "%032x" % rng.getrandbits(128)
    state = dict(after, created_at={"nanos": 0, "seconds": "1767225600"}, datastore_id=datastore_id, id=datastore_id, datastore_status="ACTIVE",
                 datastore_arn="arn:aws:healthlake:%s:%s:datastore/fhir/%s" % (REGION, ACCOUNT, datastore_id),
                 datastore_endpoint="https://healthlake.%s.amazonaws.com/datastore/%s/r4/" % (REGION, datastore_id))
    if encryption == "unset":
        state["sse_configuration"] = {"kms_encryption_config": {"cmk_type": "AWS_OWNED_KMS_KEY", "kms_key_id": None}}
    elif encryption == "cmk-ref":
        state["sse_configuration"] = {"kms_encryption_config": {"cmk_type": "CUSTOMER_MANAGED_KMS_KEY", "kms_key_id": "arn:aws:kms:%s:%s:key/%08x-1111-4222-8333-444455556666" % (REGION, ACCOUNT, rng.getrandbits(32))}}
    return after, unknown, {"tags": [{}, {}, {}]}, state


LIST_ATTRIBUTES = {"cors_rule", "grant", "lifecycle_rule", "logging", "object_lock_configuration", "replication_configuration",
                   "server_side_encryption_configuration", "versioning", "website", "logging_config"}


def known(after, unknown):
    """`after` as a state holds it: values unknown at plan time filled in."""
    state = dict(after)
    for key, flag in unknown.items():
        if flag is True:
            state[key] = [] if key in LIST_ATTRIBUTES else "%s-0123456789abcdef" % key
    return state


Resource = collections.namedtuple("Resource", "module type name key provider after unknown sensitive actions state")


def address(module, rtype, name, key):
    base = "%s.%s" % (rtype, name) if module is None else "%s.%s.%s" % (module, rtype, name)
    if key is None:
        return base
    return base + ("[%d]" % key if isinstance(key, int) else '["%s"]' % key)


class Plan:
    """Resource blocks with a count each; every instance is rebuilt from its own seed when
    needed, so a 50 MB plan is written without being held in memory."""

    def __init__(self, resources, seed):
        rng = random.Random(seed)
        self.seed = seed
        # The key the clinical data store's kms_key_id refers to; no count, so no index.
        self.blocks = [{"module": None, "type": "aws_kms_key", "name": "healthlake", "count": None, "first": 0}]
        total = 1
        while total < resources:
            rtype = rng.choices(list(TF_MAKERS), TF_WEIGHTS)[0]
            module = rng.choice([None, None, 'module.service["%s"]' % rng.choice(TEAMS), "module.shared"])
            count = min(rng.randint(5, 60), resources - total)
            name = "%s_%d" % (words(rng, 1).replace("-", "_"), len(self.blocks))
            self.blocks.append({"module": module, "type": rtype, "name": name, "count": count, "first": total})
            total += count
        self.instances = total
        self.modules = sorted({b["module"] for b in self.blocks if b["module"]} | {d[0] for d in DATASTORES if d[0]})

    def each(self, module=...):
        """Every planned resource (of one module when `module` is given; None is the root)."""
        for block in self.blocks:
            if module is not ... and block["module"] != module:
                continue
            for index in range(block["count"] or 1):
                rng = random.Random(self.seed * 7_919 + block["first"] + index)
                after, unknown, sensitive = TF_MAKERS[block["type"]](rng, block)
                roll = rng.random()
                actions = ["create"] if roll < 0.85 else ["update"] if roll < 0.95 else ["no-op"] if roll < 0.99 else ["delete"]
                key = None if block["count"] is None else index
                yield Resource(block["module"], block["type"], block["name"], key, AWS, after, unknown, sensitive, actions, known(after, unknown))
        for i, (mod, name, encryption, pkce, actions) in enumerate(DATASTORES):
            if module is not ... and mod != module:
                continue
            rng = random.Random(self.seed * 104_729 + i)
            after, unknown, sensitive, state = tf_datastore(rng, mod, name, encryption, pkce)
            yield Resource(mod, "awscc_healthlake_fhir_datastore", name, None, AWSCC, after, unknown, sensitive, actions, state)


def change(r):
    """One entry of resource_changes."""
    entry = {"address": address(r.module, r.type, r.name, r.key)}
    if r.module is not None:
        entry["module_address"] = r.module
    entry.update({"mode": "managed", "type": r.type, "name": r.name})
    if r.key is not None:
        entry["index"] = r.key
    entry["provider_name"] = r.provider
    before = None if r.actions == ["create"] else r.state
    if r.actions == ["update"]:
        before = dict(before)
        for k in ("description", "datastore_name", "dashboard_name", "bucket", "name"):
            if isinstance(before.get(k), str):
                before[k] += "-old"
                break
    if r.actions == ["delete"]:
        body = {"actions": r.actions, "before": before, "after": None, "after_unknown": {}, "before_sensitive": r.sensitive, "after_sensitive": False}
    elif r.actions in (["no-op"], ["update"]):
        body = {"actions": r.actions, "before": before, "after": r.state, "after_unknown": {}, "before_sensitive": r.sensitive, "after_sensitive": r.sensitive}
    else:
        body = {"actions": r.actions, "before": before, "after": r.after, "after_unknown": r.unknown, "before_sensitive": False if before is None else r.sensitive, "after_sensitive": r.sensitive}
    if r.actions == ["delete", "create"]:
        body["replace_paths"] = [["datastore_name"]]
    entry["change"] = body
    return entry


def state_value(r, values):
    value = {"address": address(r.module, r.type, r.name, r.key), "mode": "managed", "type": r.type, "name": r.name}
    if r.key is not None:
        value["index"] = r.key
    value.update({"provider_name": r.provider, "schema_version": 0, "values": values, "sensitive_values": r.sensitive})
    return value


def planned_value(r):
    """The resource in planned_values (what exists after apply), or None when it is deleted."""
    if r.actions == ["delete"]:
        return None
    return state_value(r, r.after if r.actions in (["create"], ["delete", "create"]) else r.state)


def prior_value(r):
    """The resource in prior_state, or None when it does not exist yet."""
    return None if r.actions == ["create"] else state_value(r, r.state)


def write_json_stream(out, items):
    out.write("[")
    first = True
    for item in items:
        if item is None:
            continue
        if not first:
            out.write(",")
        first = False
        out.write(json.dumps(item, separators=(",", ":")))
    out.write("]")


def write_module_tree(out, plan, value):
    """{"resources": [...], "child_modules": [...]} as planned_values and prior_state have it."""
    out.write('{"resources":')
    write_json_stream(out, (value(r) for r in plan.each(None)))
    out.write(',"child_modules":[')
    for i, module in enumerate(plan.modules):
        out.write(',{"resources":' if i else '{"resources":')
        write_json_stream(out, (value(r) for r in plan.each(module)))
        out.write(',"address":%s}' % json.dumps(module))
    out.write("]}")


def configuration(plan):
    def config_resource(rtype, name, count, provider_key, expressions):
        entry = {"address": "%s.%s" % (rtype, name), "mode": "managed", "type": rtype, "name": name, "provider_config_key": provider_key, "expressions": expressions, "schema_version": 0}
        if count is not None:
            entry["count_expression"] = {"constant_value": count}
        return entry

    root, modules = [], {}

    def place(module, entry):
        if module is None:
            root.append(entry)
        else:
            modules.setdefault(module.split("[")[0][len("module."):], []).append(entry)

    for block in plan.blocks:
        place(block["module"], config_resource(block["type"], block["name"], block["count"], "aws", {"tags": {"references": ["local.common_tags"]}}))
    for module, name, encryption, pkce, _ in DATASTORES:
        expressions = {"datastore_name": {"constant_value": "%s-fhir" % name}, "datastore_type_version": {"constant_value": "R4"}}
        if encryption == "cmk-ref":
            expressions["sse_configuration"] = {"references": ["aws_kms_key.healthlake.arn", "aws_kms_key.healthlake"]}
        if pkce is not None:
            expressions["identity_provider_configuration"] = {"references": ["local.smart_metadata"]}
        place(module, config_resource("awscc_healthlake_fhir_datastore", name, None, "awscc", expressions))
    calls = {}
    for name, resources in sorted(modules.items()):
        calls[name] = {"source": "./modules/%s" % name, "module": {"resources": resources}}
        if name != "shared":
            calls[name]["for_each_expression"] = {"references": ["local.%s" % name]}

    def provider(short, full, constraint):
        return {"name": short, "full_name": full, "version_constraint": constraint, "expressions": {"region": {"constant_value": REGION}}}

    return {"provider_config": {"aws": provider("aws", AWS, "~> 5.0"), "awscc": provider("awscc", AWSCC, "~> 1.0")},
            "root_module": {"resources": root, "module_calls": calls}}


def write_plan(path, resources, seed):
    plan = Plan(resources, seed)
    with open(path, "w") as out:
        out.write('{"format_version":"1.2","terraform_version":"1.9.8",')
        out.write('"variables":{"environment":{"value":"prod"},"region":{"value":"%s"}},' % REGION)
        out.write('"planned_values":{"root_module":')
        write_module_tree(out, plan, planned_value)
        out.write('},"resource_changes":')
        write_json_stream(out, (change(r) for r in plan.each()))
        out.write(',"output_changes":{},"prior_state":{"format_version":"1.0","terraform_version":"1.9.8","values":{"root_module":')
        write_module_tree(out, plan, prior_value)
        out.write('}},"configuration":')
        out.write(json.dumps(configuration(plan), separators=(",", ":")))
        out.write(',"relevant_attributes":[{"resource":"aws_kms_key.healthlake","attribute":["arn"]}],')
        out.write('"timestamp":"2026-01-01T00:00:00Z","applyable":true,"complete":true,"errored":false}\n')
    size = os.path.getsize(path)
    print("plan with %d resource changes (%d HealthLake data stores), %.1f MB: %s" % (plan.instances + len(DATASTORES), len(DATASTORES), size / 1e6, path))


# ---------------------------------------------------------------------------------------
# Checking what was written

PSEUDO = {"AWS::AccountId", "AWS::NoValue", "AWS::Partition", "AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix", "AWS::NotificationARNs"}
TYPE = re.compile(r"^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$")


def load_yaml(text):
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def tagged(loader, suffix, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if suffix == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {"Ref" if suffix == "Ref" else "Fn::" + suffix: value}

    Loader.add_multi_constructor("!", tagged)
    return yaml.load(text, Loader=Loader)


def check_template(path):
    with open(path) as f:
        text = f.read()
    template = json.loads(text) if path.endswith(".json") else load_yaml(text)
    problems = []
    resources = template.get("Resources")
    if not isinstance(resources, dict) or not resources:
        return ["no Resources"]
    names = set(resources) | set(template.get("Parameters", {})) | PSEUDO
    conditions = set(template.get("Conditions", {}))

    def walk(node, where):
        if isinstance(node, dict):
            if len(node) == 1:
                (key, arg), = node.items()
                if key == "Ref" and arg not in names:
                    problems.append("%s: Ref to unknown %r" % (where, arg))
                if key == "Fn::GetAtt" and (not isinstance(arg, list) or arg[0] not in resources):
                    problems.append("%s: GetAtt of unknown %r" % (where, arg))
                if key == "Fn::If" and (not isinstance(arg, list) or len(arg) != 3 or arg[0] not in conditions):
                    problems.append("%s: bad If %r" % (where, arg))
                if key == "Fn::Sub" and isinstance(arg, str):
                    for var in re.findall(r"\$\{([^}!]+)\}", arg):
                        if var.split(".")[0] not in names:
                            problems.append("%s: Sub of unknown ${%s}" % (where, var))
            for key, value in node.items():
                walk(value, where + "/" + str(key))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, "%s/%d" % (where, i))

    for name, resource in resources.items():
        if not TYPE.match(str(resource.get("Type"))):
            problems.append("%s: bad Type %r" % (name, resource.get("Type")))
        if "Condition" in resource and resource["Condition"] not in conditions:
            problems.append("%s: unknown Condition" % name)
        for dep in resource.get("DependsOn", []):
            if dep not in resources:
                problems.append("%s: DependsOn unknown %s" % (name, dep))
        walk(resource.get("Properties", {}), name)
        if not isinstance(resource.get("DeletionPolicy", ""), str):
            problems.append("%s: DeletionPolicy is not a string" % name)
    walk(template.get("Outputs", {}), "Outputs")
    walk(template.get("Conditions", {}), "Conditions")
    datastores = sum(r["Type"] == "AWS::HealthLake::FHIRDatastore" for r in resources.values())
    return problems, len(resources), datastores


def check_plan(path):
    with open(path) as f:
        plan = json.load(f)
    problems = []
    for key in ("format_version", "planned_values", "resource_changes", "configuration"):
        if key not in plan:
            problems.append("no %s" % key)
    changes = plan["resource_changes"]
    addresses = [c["address"] for c in changes]
    if len(set(addresses)) != len(addresses):
        problems.append("duplicate addresses")
    for c in changes:
        ch = c["change"]
        if "create" in ch["actions"] and ch["after"] is None:
            problems.append("%s: create without after" % c["address"])
        if ch["actions"] == ["delete"] and ch["after"] is not None:
            problems.append("%s: delete with after" % c["address"])
    datastores = [c for c in changes if c["type"] == "awscc_healthlake_fhir_datastore"]
    return problems, len(changes), len(datastores)


def check(paths):
    failed = False
    for path in paths:
        if os.path.isdir(path):
            files = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith((".json", ".yaml")))
            total = resources = datastores = 0
            for file in files:
                result = check_template(file)
                if isinstance(result, list):
                    result = (result, 0, 0)
                problems, n, d = result
                resources += n
                datastores += d
                total += 1
                for p in problems:
                    failed = True
                    print("%s: %s" % (file, p))
            print("%s: %d templates, %d resources (%.1f each), %d HealthLake data stores" % (path, total, resources, resources / max(total, 1), datastores))
        else:
            problems, n, d = check_plan(path)
            for p in problems:
                failed = True
                print("%s: %s" % (path, p))
            print("%s: %d resource changes, %d HealthLake data stores" % (path, n, d))
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    t = commands.add_parser("templates", help="write CloudFormation templates into DIR")
    t.add_argument("dir")
    t.add_argument("--count", type=int, default=2000)
    t.add_argument("--seed", type=int, default=7)
    p = commands.add_parser("plan", help="write a Terraform plan JSON to FILE")
    p.add_argument("file")
    p.add_argument("--resources", type=int, default=5000)
    p.add_argument("--seed", type=int, default=7)
    c = commands.add_parser("check", help="parse and check generated templates (DIR) or plans (FILE)")
    c.add_argument("paths", nargs="+")
    args = parser.parse_args()
    if args.command == "templates":
        write_templates(args.dir, args.count, args.seed)
    elif args.command == "plan":
        write_plan(args.file, args.resources, args.seed)
    else:
        sys.exit(check(args.paths))


if __name__ == "__main__":
    main()

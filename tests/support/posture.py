"""A seeded account for the posture sweep: one function per misconfiguration, and clean ones that come close."""

from __future__ import annotations

import json
from typing import Any

from tests.support.actions import ACCOUNT, lambda_zip
from tests.support.members import MEMBER

REGION = "us-east-1"
OTHER = "999999999999"
# every value a secret detector must find, and that must never appear anywhere Parry writes
SEEDED_SECRETS = {
    "DEPLOY_KEY_ID": "AKIAZ7Q2XK4MBN3VWPLR",
    "GH_BOT": "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tV9wX1yZ2cD4",
    "CHAT_HOOK": "xoxb-2048576123-4096152837-Zq8WmR3tYv6B",
    "SIGNING": "-----BEGIN RSA PRIVATE KEY-----MIIEowIBAAKCAQEA7t",
    "DB_PASSWORD": "correct-horse-battery",
    "SESSION_BLOB": "Qm9vT2xkLzR3eHpQa1ZuN2ZUcmFjZTk4",
}
SECRET_DETECTORS = {
    "DEPLOY_KEY_ID": "aws-access-key-id",
    "GH_BOT": "github-token",
    "CHAT_HOOK": "slack-token",
    "SIGNING": "private-key",
    "DB_PASSWORD": "secret-name",
    "SESSION_BLOB": "high-entropy",
}
# near misses: a secret-sounding name with a plain value, references to where secrets really are
CLEAN_VARIABLES = {
    "TOKEN_TTL": "300",
    "LOG_LEVEL": "INFO",
    "API_KEY_SECRET_ARN": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:api-key-AbCdEf",
    "PASSWORD_PARAMETER": "/app/db/password",
    "TABLE_NAME": "orders-table-prod",
}

# function name -> the check ids the sweep must report for it (empty: clean, it must report nothing)
EXPECTED: dict[str, set[str]] = {
    "url-open": {"PARRY-LAMBDA-1"},
    "url-iam": set(),
    "policy-public": {"PARRY-LAMBDA-2"},
    "policy-source-arn": set(),
    "policy-org": set(),
    "env-secrets": {"PARRY-LAMBDA-3"},
    "env-clean": set(),
    "role-admin": {"PARRY-LAMBDA-4"},
    "role-star": {"PARRY-LAMBDA-4"},
    "role-pass-any": {"PARRY-LAMBDA-5"},
    "role-narrow": set(),
    "runtime-old": {"PARRY-LAMBDA-6"},
    "layer-foreign": {"PARRY-LAMBDA-7"},
    "source-foreign": {"PARRY-LAMBDA-9"},
    "source-own": set(),
    "async-no-dlq": {"PARRY-LAMBDA-10"},
}
PUBLIC_LAYER, ACCOUNT_LAYER = "shared-public", "shared-with-one-account"

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _role(iam: Any, name: str, inline: list[dict[str, Any]] | None = None, managed: str | None = None) -> str:
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    if inline:
        iam.put_role_policy(
            RoleName=name,
            PolicyName="inline",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": inline}),
        )
    if managed:
        iam.attach_role_policy(RoleName=name, PolicyArn=managed)
    return arn


def _use_foreign_layer(function: str, layer_arn: str) -> None:
    """Set-up only: give a function another account's layer, as AWS allows and moto 5.2 cannot (it looks
    layers up in the function's own account)."""
    from moto.awslambda.models import lambda_backends

    lambda_backends[ACCOUNT][REGION].get_function(function).layers = [{"Arn": layer_arn, "CodeSize": 1024}]


def _read_foreign_queue(mapping: str, queue_arn: str) -> None:
    """Set-up only: point an event source mapping at another account's queue, as AWS allows and moto 5.2
    cannot (it looks the queue up in the function's own account)."""
    from moto.awslambda.models import lambda_backends

    lambda_backends[ACCOUNT][REGION].get_event_source_mapping(mapping).event_source_arn = queue_arn


def seed(session: Any, member_session: Any) -> dict[str, str]:
    """Seed the account of `session`; returns function name -> ARN. The member account owns a foreign queue."""
    iam, lam, sqs = session.client("iam"), session.client("lambda", REGION), session.client("sqs", REGION)
    logs = {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:*"}
    roles = {
        "plain": _role(iam, "fn-plain", [logs]),
        "role-admin": _role(iam, "fn-admin", managed="arn:aws:iam::aws:policy/AdministratorAccess"),
        "role-star": _role(iam, "fn-star", [{"Effect": "Allow", "Action": "*", "Resource": "*"}]),
        "role-pass-any": _role(iam, "fn-pass", [logs, {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]),
        "role-narrow": _role(
            iam,
            "fn-narrow",
            [logs, {"Effect": "Allow", "Action": "iam:PassRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/fn-plain"}],
        ),
    }
    dlq = sqs.get_queue_attributes(
        QueueUrl=sqs.create_queue(QueueName="fn-dlq")["QueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    own_queue = sqs.get_queue_attributes(
        QueueUrl=sqs.create_queue(QueueName="orders")["QueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    member_sqs = member_session.client("sqs", REGION)
    foreign_queue = member_sqs.get_queue_attributes(
        QueueUrl=member_sqs.create_queue(QueueName="partner-orders")["QueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    arns = {}
    for name in EXPECTED:
        kwargs: dict[str, Any] = {
            "FunctionName": name,
            "Runtime": "python3.8" if name == "runtime-old" else "python3.13",
            "Role": roles.get(name, roles["plain"]),
            "Handler": "index.handler",
            "Code": {"ZipFile": lambda_zip()},
        }
        if name == "env-secrets":
            kwargs["Environment"] = {"Variables": {**SEEDED_SECRETS, **CLEAN_VARIABLES}}
        if name == "env-clean":
            kwargs["Environment"] = {"Variables": CLEAN_VARIABLES}
        arns[name] = lam.create_function(**kwargs)["FunctionArn"]
        if name != "async-no-dlq":  # (moto 5.2 keeps no DeadLetterConfig: the DLQ case is a unit test)
            lam.put_function_event_invoke_config(
                FunctionName=name, DestinationConfig={"OnFailure": {"Destination": dlq}}
            )
    _use_foreign_layer("layer-foreign", f"arn:aws:lambda:{REGION}:{OTHER}:layer:observability:7")
    lam.create_function_url_config(FunctionName="url-open", AuthType="NONE")
    lam.create_function_url_config(FunctionName="url-iam", AuthType="AWS_IAM")
    invoke = {"Action": "lambda:InvokeFunction", "Principal": "*"}
    lam.add_permission(FunctionName="policy-public", StatementId="anyone", **invoke)
    lam.add_permission(
        FunctionName="policy-source-arn",
        StatementId="from-bucket",
        SourceArn="arn:aws:s3:::uploads-bucket",
        SourceAccount=ACCOUNT,
        **invoke,
    )
    lam.add_permission(FunctionName="policy-org", StatementId="org", PrincipalOrgID="o-a1b2c3d4e5", **invoke)
    mapping = lam.create_event_source_mapping(FunctionName="source-foreign", EventSourceArn=own_queue)["UUID"]
    _read_foreign_queue(mapping, foreign_queue)
    lam.create_event_source_mapping(FunctionName="source-own", EventSourceArn=own_queue)
    # (moto 5.2 drops OrganizationId from a layer permission: the organization case is a unit test)
    for layer, principal in ((PUBLIC_LAYER, "*"), (ACCOUNT_LAYER, OTHER)):
        version = lam.publish_layer_version(LayerName=layer, Content={"ZipFile": lambda_zip()})["Version"]
        lam.add_layer_version_permission(
            LayerName=layer,
            VersionNumber=version,
            StatementId="share",
            Action="lambda:GetLayerVersion",
            Principal=principal,
        )
    return arns


__all__ = ["EXPECTED", "MEMBER", "SEEDED_SECRETS", "seed"]

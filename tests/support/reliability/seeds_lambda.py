"""Seeds of the serverless playbooks: the posture sweep's responses (Parry-made run requests), the
CloudTrail change detections for Lambda, and Amazon Inspector's findings for Lambda functions.

Each is the rehearsals' set-up (tests/playbooks/test_posture_responses.py,
tests/playbooks/test_rehearsals_lambda_changes.py) with resources named for the run. The posture
playbooks take their role from the re-check's result, which `contained_by` cannot evaluate before a
run: those read the account themselves.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from parry.aws.clients import ClientFactory
from tests.support.reliability.fixtures import EVENTS_DIR
from tests.support.reliability.seeding import Seeded, code_package, contained_by, make_function, make_role, recorded
from tests.support.reliability.world import ACCOUNT, REGION

OTHER = "210987654321"
INSPECTOR_LAMBDA = "inspector/inspector2-finding-lambda-package-vulnerability.eventbridge.json"


def _request(playbook: str, n: int, function_arn: str) -> dict[str, Any]:
    """The event the runner builds for `parry run PLAYBOOK --target function=...`, as a sweep result starts it."""
    return {
        "version": "0",
        "id": f"rel-{playbook}-{n}",
        "source": "parry",
        "detail-type": "Parry Run Request",
        "account": ACCOUNT,
        "region": REGION,
        "time": "2026-12-01T10:00:00Z",
        "resources": [],
        "detail": {"playbook": playbook, "function": function_arn, "reason": "sweep"},
    }


def seed_url_public(aws: ClientFactory, n: int) -> Seeded:
    name = f"rel-url-open-{n}"
    arn = make_function(aws, name, make_role(aws, f"rel-url-open-role-{n}"))
    lam = aws.client("lambda")
    lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    return Seeded(
        _request("lambda-url-public", n, arn),
        lambda: lam.get_function_url_config(FunctionName=name)["AuthType"] == "AWS_IAM",
    )


def seed_policy_public(aws: ClientFactory, n: int) -> Seeded:
    name = f"rel-policy-public-{n}"
    arn = make_function(aws, name, make_role(aws, f"rel-policy-public-role-{n}"))
    lam = aws.client("lambda")
    lam.add_permission(FunctionName=name, StatementId="anyone", Action="lambda:InvokeFunction", Principal="*")

    def no_public_statement() -> bool:
        try:
            statements = json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]
        except lam.exceptions.ResourceNotFoundException:
            return True
        return all(s.get("Principal") not in ("*", {"AWS": "*"}) for s in statements)

    return Seeded(_request("lambda-policy-public", n, arn), no_public_statement)


def seed_admin_role(aws: ClientFactory, n: int) -> Seeded:
    iam = aws.client("iam")
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    policy = iam.create_policy(PolicyName=f"rel-everything-{n}", PolicyDocument=json.dumps(everything))
    role = f"rel-fn-admin-{n}"
    arn = make_function(aws, f"rel-role-admin-{n}", make_role(aws, role))
    iam.attach_role_policy(RoleName=role, PolicyArn=policy["Policy"]["Arn"])
    return Seeded(
        _request("lambda-admin-role", n, arn),
        lambda: iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == [],
    )


def seed_env_secrets(aws: ClientFactory, n: int) -> Seeded:
    from tests.support.posture import SEEDED_SECRETS

    arn = make_function(aws, f"rel-env-secrets-{n}", make_role(aws, f"rel-env-role-{n}"), dict(SEEDED_SECRETS))
    return Seeded(_request("lambda-env-secrets", n, arn), lambda: True)  # names the variables; changes nothing


def seed_vulnerable_package(aws: ClientFactory, n: int) -> Seeded:
    """Inspector's documented Lambda finding, made CRITICAL, on a new function, held by the local Inspector."""
    name = f"rel-vulnerable-{n}"
    arn = make_function(aws, name, make_role(aws, f"rel-vulnerable-role-{n}"))
    event = json.loads((EVENTS_DIR / INSPECTOR_LAMBDA).read_text())
    event["id"], event["region"], event["account"], event["resources"] = f"rel-inspector-{n}", REGION, ACCOUNT, [arn]
    detail = event["detail"]
    detail["awsAccountId"], detail["severity"] = ACCOUNT, "CRITICAL"
    detail["findingArn"] = f"arn:aws:inspector2:{REGION}:{ACCOUNT}:finding/{n:032x}"
    resource = detail["resources"][0]
    resource["id"], resource["region"] = arn, REGION
    resource["details"]["awsLambdaFunction"]["functionName"] = name
    return Seeded(recorded(aws, event), contained_by(aws, "lambda-vulnerable-package", event))


def seed_url_made_public(aws: ClientFactory, n: int) -> Seeded:
    from tests.support.lambda_changes import lambda_call

    name = f"rel-url-made-public-{n}"
    arn = make_function(aws, name, make_role(aws, f"rel-url-made-public-role-{n}"))
    url = aws.client("lambda").create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    event = lambda_call(
        "CreateFunctionUrlConfig20211031",
        {"functionName": name, "authType": "NONE"},
        {"functionUrl": url, "functionArn": arn, "authType": "NONE"},
        f"rel-url-{n}",
    )
    return Seeded(recorded(aws, event), contained_by(aws, "lambda-url-made-public", event))


def seed_changed_outside_pipeline(aws: ClientFactory, n: int) -> Seeded:
    """A function the pipeline published, then changed by john.developer: the real UpdateFunctionCode record."""
    from tests.support.lambda_changes import in_sandbox

    name = f"rel-changed-{n}"
    make_function(aws, name, make_role(aws, f"rel-changed-role-{n}"))
    lam = aws.client("lambda")
    lam.publish_version(FunctionName=name)
    lam.update_function_code(FunctionName=name, ZipFile=code_package("exfiltrate"))
    event = in_sandbox("cloudtrail/lambda-updatefunctioncode.bare.json")
    event["id"] = event["detail"]["eventID"] = f"rel-changed-{n}"
    event["detail"]["requestParameters"]["functionName"] = event["detail"]["responseElements"]["functionName"] = name
    return Seeded(recorded(aws, event), contained_by(aws, "lambda-changed-outside-pipeline", event))


def seed_foreign_event_source(aws: ClientFactory, n: int) -> Seeded:
    """A mapping of a queue to a function, and CloudTrail's record of the call naming another account's
    queue (moto maps only its own account's queues: tests/support/lambda_changes.mapping_call)."""
    from tests.support.lambda_changes import lambda_call

    name, queue_name = f"rel-worker-{n}", f"rel-jobs-{n}"
    make_function(aws, name, make_role(aws, f"rel-worker-role-{n}"))
    sqs = aws.client("sqs")
    queue = sqs.get_queue_attributes(
        QueueUrl=sqs.create_queue(QueueName=queue_name)["QueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    uuid = aws.client("lambda").create_event_source_mapping(FunctionName=name, EventSourceArn=queue)["UUID"]
    source = f"arn:aws:sqs:{REGION}:{OTHER}:{queue_name}"
    event = lambda_call(
        "CreateEventSourceMapping20150331",
        {"functionName": name, "eventSourceArn": source, "batchSize": 10},
        {"uUID": uuid, "eventSourceArn": source, "state": "Creating", "batchSize": 10},
        f"rel-esm-{n}",
    )
    return Seeded(recorded(aws, event), contained_by(aws, "lambda-foreign-event-source", event))


def seed_layer_made_public(aws: ClientFactory, n: int) -> Seeded:
    from tests.support.lambda_changes import lambda_call

    layer = f"rel-shared-libs-{n}"
    lam = aws.client("lambda")
    version = lam.publish_layer_version(LayerName=layer, Content={"ZipFile": code_package()})["Version"]
    for statement, principal in (("everyone", "*"), ("partner", OTHER)):
        lam.add_layer_version_permission(
            LayerName=layer,
            VersionNumber=version,
            StatementId=statement,
            Action="lambda:GetLayerVersion",
            Principal=principal,
        )
    request = {
        "layerName": layer,
        "versionNumber": version,
        "statementId": "everyone",
        "action": "lambda:GetLayerVersion",
        "principal": "*",
    }
    event = lambda_call("AddLayerVersionPermission20181031", request, {"revisionId": "r1"}, f"rel-layer-{n}")
    return Seeded(recorded(aws, event), contained_by(aws, "lambda-layer-made-public", event))


LAMBDA_SEEDS: dict[str, Callable[[ClientFactory, int], Seeded]] = {
    "lambda-url-public": seed_url_public,
    "lambda-policy-public": seed_policy_public,
    "lambda-admin-role": seed_admin_role,
    "lambda-env-secrets": seed_env_secrets,
    "lambda-vulnerable-package": seed_vulnerable_package,
    "lambda-url-made-public": seed_url_made_public,
    "lambda-changed-outside-pipeline": seed_changed_outside_pipeline,
    "lambda-foreign-event-source": seed_foreign_event_source,
    "lambda-layer-made-public": seed_layer_made_public,
}

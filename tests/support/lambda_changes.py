"""Lambda resources and the CloudTrail records of the calls that made them, for the change detections' tests.

UpdateFunctionCode is the real fixture; the other records are built on its envelope and caller: the event
source mapping as the Lambda guide's sample record has it (tests/events/cloudtrail/
lambda-createeventsourcemapping-sqs.bare.json), the layer permission in the shape SOURCES.md gives
("Records built here"): camelCase request parameters, the eventName with its API version.
"""

from __future__ import annotations

import json

from tests.support.actions import lambda_zip
from tests.support.posture import TRUST
from tests.support.routing import load

ACCOUNT, OTHER = "123456789012", "210987654321"


def in_sandbox(relpath: str) -> dict:
    """The fixture as CloudTrail delivers it from the sandbox account, in us-east-1."""
    event = load(relpath)
    event["account"], event["region"] = ACCOUNT, "us-east-1"
    event["detail"].update(recipientAccountId=ACCOUNT, awsRegion="us-east-1")
    return event


def lambda_call(event_name: str, request: dict, response: dict | None, event_id: str) -> dict:
    """A Lambda call john.developer made, on the real UpdateFunctionCode record's envelope and caller."""
    event = in_sandbox("cloudtrail/lambda-updatefunctioncode.bare.json")
    event["detail"].update(eventName=event_name, requestParameters=request, responseElements=response, eventID=event_id)
    event["id"] = event_id
    return event


def function(aws, name: str, *, environment: dict | None = None, role: str = "fn-role") -> str:
    iam = aws.client("iam")
    try:
        arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        arn = iam.get_role(RoleName=role)["Role"]["Arn"]
    kwargs = {"Environment": {"Variables": environment}} if environment else {}
    return aws.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=arn,
        Handler="index.handler",
        Code={"ZipFile": lambda_zip()},
        **kwargs,
    )["FunctionArn"]


def mapping_call(aws, source_account: str) -> tuple[str, dict]:
    """A mapping of a queue to `worker`, and CloudTrail's record of a call naming a queue of `source_account`.

    moto maps only its own account's queues, so the mapping acted on reads a local queue; the record
    names the queue the call named.
    """
    function(aws, "worker")
    queue = aws.client("sqs").create_queue(QueueName="jobs")["QueueUrl"]
    queue_arn = aws.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    uuid = aws.client("lambda").create_event_source_mapping(FunctionName="worker", EventSourceArn=queue_arn)["UUID"]
    source = f"arn:aws:sqs:us-east-1:{source_account}:jobs"
    request = {"functionName": "worker", "eventSourceArn": source, "enabled": True, "batchSize": 10}
    response = {
        "uUID": uuid,
        "eventSourceArn": source,
        "functionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:worker",
        "state": "Creating",
        "stateTransitionReason": "USER_INITIATED",
        "batchSize": 10,
        "eventSourceMappingArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:event-source-mapping:{uuid}",
    }
    return uuid, lambda_call("CreateEventSourceMapping20150331", request, response, f"esm-{source_account}")


def public_layer(aws) -> dict:
    lam = aws.client("lambda")
    lam.publish_layer_version(LayerName="shared-libs", Content={"ZipFile": lambda_zip()})
    lam.add_layer_version_permission(
        LayerName="shared-libs", VersionNumber=1, StatementId="everyone", Action="lambda:GetLayerVersion", Principal="*"
    )
    lam.add_layer_version_permission(
        LayerName="shared-libs",
        VersionNumber=1,
        StatementId="partner",
        Action="lambda:GetLayerVersion",
        Principal=OTHER,
    )
    request = {
        "layerName": "shared-libs",
        "versionNumber": 1,
        "statementId": "everyone",
        "action": "lambda:GetLayerVersion",
        "principal": "*",
    }
    # the API's answer: the statement added, as a JSON string, and the policy's new revision
    statement = {
        "Sid": "everyone",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "lambda:GetLayerVersion",
        "Resource": f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:shared-libs:1",
    }
    response = {"statement": json.dumps(statement), "revisionId": "r1"}
    return lambda_call("AddLayerVersionPermission20181031", request, response, "layer-everyone")

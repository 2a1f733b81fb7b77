"""Custom resource: make Security Hub's custom actions match the list it is given.

Runs inline in Lambda (CloudFormation provides `cfnresponse`). Every path answers CloudFormation;
creating is idempotent (an existing action is updated), deleting a missing one is not an error.
A request not from CloudFormation (same-account callers may invoke the function) is refused
before anything is changed or answered: its ResponseURL must be CloudFormation's presigned S3 URL,
its StackId a stack of this account and region, and CloudFormation must say that stack's resource
is being created, updated or deleted right now (a caller cannot forge that).
"""

import json
import re
from urllib.parse import urlsplit

import boto3


def reconcile(hub, old, new, region, account, partition):
    old = {a["Id"]: a for a in old}
    new = {a["Id"]: a for a in new}
    for aid, a in new.items():
        if aid not in old:
            try:
                hub.create_action_target(Id=aid, Name=a["Name"], Description=a["Description"])
                continue
            except hub.exceptions.ResourceConflictException:
                pass  # left from an earlier attempt: update it below
        if old.get(aid) != a:
            arn = f"arn:{partition}:securityhub:{region}:{account}:action/custom/{aid}"
            hub.update_action_target(ActionTargetArn=arn, Name=a["Name"], Description=a["Description"])
    for aid in old.keys() - new.keys():
        arn = f"arn:{partition}:securityhub:{region}:{account}:action/custom/{aid}"
        try:
            hub.delete_action_target(ActionTargetArn=arn)
        except hub.exceptions.ResourceNotFoundException:
            pass


def from_cloudformation(event, region, account, partition):
    url = urlsplit(str(event.get("ResponseURL", "")))
    suffix = ".amazonaws.com.cn" if partition == "aws-cn" else ".amazonaws.com"
    bucket = "cloudformation-custom-resource-response-" + region.replace("-", "")
    hosts = {f"{bucket}.s3{suffix}", f"{bucket}.s3.{region}{suffix}", f"{bucket}.s3-{region}{suffix}"}
    signed = re.search(r"(^|&)(X-Amz-Signature|Signature)=", url.query)
    stack = str(event.get("StackId", "")).startswith(f"arn:{partition}:cloudformation:{region}:{account}:stack/")
    return url.scheme == "https" and url.hostname in hosts and not url.port and bool(signed) and stack


def in_progress(cfn, event):
    r = cfn.describe_stack_resource(StackName=event["StackId"], LogicalResourceId=event["LogicalResourceId"])
    return r["StackResourceDetail"]["ResourceStatus"] == f"{event['RequestType'].upper()}_IN_PROGRESS"


def handler(event, context, hub=None, respond=None, cfn=None):
    parts = context.invoked_function_arn.split(":")
    ok = from_cloudformation(event, parts[3], parts[4], parts[1])
    if not (ok and in_progress(cfn or boto3.client("cloudformation"), event)):
        print(json.dumps({"refused": "not a CloudFormation request", "request": str(event.get("RequestType"))}))
        raise PermissionError("refused: not a CloudFormation request")
    if respond is None:
        import cfnresponse

        respond = cfnresponse.send
    physical_id = event.get("PhysicalResourceId") or "parry-security-hub-actions"
    try:
        hub = hub or boto3.client("securityhub")
        new = event["ResourceProperties"].get("Actions", [])
        old = (event.get("OldResourceProperties") or {}).get("Actions", [])
        if event["RequestType"] == "Create":
            old = []
        elif event["RequestType"] == "Delete":
            old, new = new, []
        reconcile(hub, old, new, parts[3], parts[4], parts[1])
    except Exception as exc:
        print(json.dumps({"error": repr(exc), "request": event.get("RequestType")}))
        respond(event, context, "FAILED", {}, physical_id, reason=f"{type(exc).__name__}: {exc}"[:200])
        return
    respond(event, context, "SUCCESS", {}, physical_id)

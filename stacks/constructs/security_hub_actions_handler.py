"""Custom resource: make Security Hub's custom actions match the list it is given.

Runs inline in Lambda (CloudFormation provides `cfnresponse`). Every path answers CloudFormation;
creating is idempotent (an existing action is updated), deleting a missing one is not an error.
"""

import json

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


def handler(event, context, hub=None, respond=None):
    if respond is None:
        import cfnresponse

        respond = cfnresponse.send
    physical_id = event.get("PhysicalResourceId") or "parry-security-hub-actions"
    try:
        hub = hub or boto3.client("securityhub")
        parts = context.invoked_function_arn.split(":")
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

"""The inline custom-resource handler that keeps Security Hub custom actions in step."""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import pytest

from tests.support.paths import ROOT

SOURCE = ROOT / "stacks" / "constructs" / "security_hub_actions_handler.py"
CONTEXT = SimpleNamespace(
    invoked_function_arn="arn:aws:lambda:eu-west-1:111111111111:function:Parry-SecurityHubActions"
)
ARN = "arn:aws:securityhub:eu-west-1:111111111111:action/custom/"


def _module():
    spec = importlib.util.spec_from_file_location("sh_handler", SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Conflict(Exception):
    pass


class Missing(Exception):
    pass


class FakeHub:
    exceptions = SimpleNamespace(ResourceConflictException=Conflict, ResourceNotFoundException=Missing)

    def __init__(self, existing=(), fail=None):
        self.targets = {aid: None for aid in existing}
        self.calls = []
        self.fail = fail

    def create_action_target(self, Id, Name, Description):
        self.calls.append(("create", Id))
        if self.fail:
            raise self.fail
        if Id in self.targets:
            raise Conflict(Id)
        self.targets[Id] = Name

    def update_action_target(self, ActionTargetArn, Name, Description):
        self.calls.append(("update", ActionTargetArn.removeprefix(ARN)))
        self.targets[ActionTargetArn.removeprefix(ARN)] = Name

    def delete_action_target(self, ActionTargetArn):
        aid = ActionTargetArn.removeprefix(ARN)
        self.calls.append(("delete", aid))
        if aid not in self.targets:
            raise Missing(aid)
        del self.targets[aid]


def _action(aid, name="n"):
    return {"Id": aid, "Name": name, "Description": f"Run {aid}"}


# what CloudFormation sends with every request: its presigned response URL and the stack's id
FROM_CLOUDFORMATION = {
    "ResponseURL": "https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/"
    "arn%3Aaws%3Acloudformation%3Aeu-west-1%3A111111111111%3Astack/Parry/id%7CActions%7Creq"
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=7200&X-Amz-Signature=abc",
    "StackId": "arn:aws:cloudformation:eu-west-1:111111111111:stack/Parry/0d7b5e10-0000-11ef-0000-0a1b2c3d4e5f",
    "LogicalResourceId": "SecurityHubActionsActions0A1B2C3D",
}


class FakeCloudFormation:
    """CloudFormation's view of the custom resource: `status`, or no such stack."""

    def __init__(self, status=None):
        self.status = status

    def describe_stack_resource(self, StackName, LogicalResourceId):
        if self.status is None or not StackName.startswith(FROM_CLOUDFORMATION["StackId"].rsplit("/", 1)[0]):
            raise RuntimeError(f"Stack '{StackName}' does not exist")
        return {"StackResourceDetail": {"LogicalResourceId": LogicalResourceId, "ResourceStatus": self.status}}


def _run(event, hub):
    answers = []
    event = {**FROM_CLOUDFORMATION, **event}
    cfn = FakeCloudFormation(f"{event['RequestType'].upper()}_IN_PROGRESS")
    _module().handler(event, CONTEXT, hub=hub, respond=lambda *a, **k: answers.append((a[2], a[4], k)), cfn=cfn)
    (answer,) = answers
    return answer


def test_create_is_idempotent():
    hub = FakeHub(existing=["A"])
    status, physical, _ = _run(
        {"RequestType": "Create", "ResourceProperties": {"Actions": [_action("A"), _action("B")]}}, hub
    )
    assert status == "SUCCESS" and physical == "parry-security-hub-actions"
    assert hub.targets == {"A": "n", "B": "n"}


def test_update_creates_renames_and_deletes():
    hub = FakeHub(existing=["A", "B"])
    event = {
        "RequestType": "Update",
        "PhysicalResourceId": "parry-security-hub-actions",
        "OldResourceProperties": {"Actions": [_action("A"), _action("B")]},
        "ResourceProperties": {"Actions": [_action("A", "renamed"), _action("C")]},
    }
    status, physical, _ = _run(event, hub)
    assert status == "SUCCESS" and physical == "parry-security-hub-actions"
    assert hub.targets == {"A": "renamed", "C": "n"}
    assert ("update", "A") in hub.calls and ("delete", "B") in hub.calls


def test_delete_removes_all_and_tolerates_missing():
    hub = FakeHub(existing=["A"])
    event = {
        "RequestType": "Delete",
        "PhysicalResourceId": "p",
        "ResourceProperties": {"Actions": [_action("A"), _action("B")]},
    }
    status, physical, _ = _run(event, hub)
    assert status == "SUCCESS" and physical == "p" and hub.targets == {}


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_any_error_is_reported_to_cloudformation(request_type):
    hub = FakeHub(fail=RuntimeError("Security Hub is not enabled"))
    event = {
        "RequestType": request_type,
        "ResourceProperties": {"Actions": [_action("A")]},
        "OldResourceProperties": {},
    }
    status, _, extra = _run(event, hub)
    assert status == "FAILED" and "not enabled" in extra["reason"]

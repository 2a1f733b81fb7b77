"""Attack: a principal of the security account allowed lambda:InvokeFunction invokes the Security
Hub custom-resource function itself: RequestType Delete removes every Parry custom action, and the
answer is PUT to a URL the caller chose.

The function acts only on CloudFormation's requests (its presigned S3 response URL, a stack of this
account and region, whose resource CloudFormation says is being deleted, created or updated now):
anything else is refused before Security Hub is touched or anything answered.
"""

from __future__ import annotations

import pytest

from tests.infra.test_security_hub_actions_handler import (
    CONTEXT,
    FROM_CLOUDFORMATION,
    FakeCloudFormation,
    FakeHub,
    _action,
    _module,
)

FOREIGN = {
    "foreign response URL": {"ResponseURL": "https://attacker.example.com/collect?X-Amz-Signature=abc"},
    "look-alike host": {
        "ResponseURL": "https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com.attacker.example/x"
        "?X-Amz-Signature=abc"
    },
    "another region's bucket": {
        "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?X-Amz-Signature=a"
    },
    "unsigned URL": {"ResponseURL": "https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x"},
    "plain http": {
        "ResponseURL": "http://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x?X-Amz-Signature=a"
    },
    "another account's stack": {"StackId": "arn:aws:cloudformation:eu-west-1:999999999999:stack/Parry/x"},
    "no stack": {"StackId": None},
}


DELETING = "DELETE_IN_PROGRESS"


@pytest.mark.parametrize("forged", FOREIGN.values(), ids=FOREIGN.keys())
def test_a_delete_from_another_caller_is_refused_and_nothing_is_deleted_or_put(forged: dict):
    hub, answers = FakeHub(existing=["A"]), []
    cfn = FakeCloudFormation(DELETING)
    event = {
        **FROM_CLOUDFORMATION,
        "RequestType": "Delete",
        "PhysicalResourceId": "parry-security-hub-actions",
        "ResourceProperties": {"Actions": [_action("A")]},
        **forged,
    }

    with pytest.raises(PermissionError):
        _module().handler(event, CONTEXT, hub=hub, respond=lambda *a, **k: answers.append(a), cfn=cfn)

    assert hub.targets == {"A": None} and hub.calls == [] and answers == []


@pytest.mark.parametrize("status", ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_IN_PROGRESS", None])
def test_a_well_formed_delete_cloudformation_is_not_making_is_refused(status: str | None):
    """The real stack's response URL host and id, with a made-up signature: CloudFormation is not
    deleting the resource (or the stack does not exist), so nothing happens."""
    hub, answers = FakeHub(existing=["A"]), []
    event = {**FROM_CLOUDFORMATION, "RequestType": "Delete", "ResourceProperties": {"Actions": [_action("A")]}}

    with pytest.raises((PermissionError, RuntimeError)):
        _module().handler(
            event, CONTEXT, hub=hub, respond=lambda *a, **k: answers.append(a), cfn=FakeCloudFormation(status)
        )

    assert hub.targets == {"A": None} and hub.calls == [] and answers == []


def test_cloudformations_own_delete_still_removes_the_actions():
    hub, answers = FakeHub(existing=["A"]), []
    event = {**FROM_CLOUDFORMATION, "RequestType": "Delete", "ResourceProperties": {"Actions": [_action("A")]}}

    _module().handler(
        event, CONTEXT, hub=hub, respond=lambda *a, **k: answers.append(a[2]), cfn=FakeCloudFormation(DELETING)
    )

    assert hub.targets == {} and answers == ["SUCCESS"]

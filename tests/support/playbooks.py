"""Playbooks written in the test, for the engine: one IAM key step, with what a test changes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parry.playbooks.validate import validate_document

if TYPE_CHECKING:
    from parry.playbooks.model import Playbook


def playbook(**overrides: Any) -> Playbook:
    """Deactivate the finding's access key, in one step; `overrides` replace top-level fields."""
    doc = {
        "name": "test-book",
        "trigger": {"source": ["aws.guardduty"]},
        "target": {
            "user": "detail.resource.accessKeyDetails.userName",
            "key": "detail.resource.accessKeyDetails.accessKeyId",
        },
        "dedup": "detail.id",
        "steps": [
            {
                "id": "deactivate",
                "action": "iam.deactivate_access_key",
                "with": {"user_name": "${target.user}", "access_key_id": "${target.key}"},
            },
        ],
    }
    doc.update(overrides)
    return validate_document(doc, "test.yaml")


def approval_book() -> Playbook:
    """The same step, waiting for the on-call's approval."""
    return playbook(
        steps=[
            {
                "id": "deactivate",
                "action": "iam.deactivate_access_key",
                "approval": "required",
                "with": {"user_name": "${target.user}", "access_key_id": "${target.key}"},
            }
        ]
    )


# two steps of the tests' books: capture the finding's user, deactivate its key
CAPTURE_STEP = {"id": "capture", "action": "evidence.capture_iam_user", "with": {"user_name": "${target.user}"}}
DEACTIVATE_STEP = {
    "id": "deactivate",
    "action": "iam.deactivate_access_key",
    "with": {"user_name": "${target.user}", "access_key_id": "${target.key}"},
}


def deactivate_only_yaml(name: str) -> str:
    """A playbook file's text: deactivate the access key a GuardDuty finding names, and nothing else."""
    return f"""version: parry/v1
name: {name}
description: Deactivate the access key GuardDuty flagged, and nothing else
trigger:
  source: [aws.guardduty]
  detail-type: [GuardDuty Finding]
  detail:
    resource:
      resourceType: [AccessKey]
      accessKeyDetails: {{userType: [IAMUser], accessKeyId: [{{exists: true}}]}}
dedup: "join(':', [detail.accountId, detail.resource.accessKeyDetails.accessKeyId])"
target:
  user: detail.resource.accessKeyDetails.userName
  key: detail.resource.accessKeyDetails.accessKeyId
steps:
  - id: deactivate-key
    action: iam.deactivate_access_key
    with: {{user_name: "${{target.user}}", access_key_id: "${{target.key}}"}}
"""

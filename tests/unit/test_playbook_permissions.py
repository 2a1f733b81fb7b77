"""A playbook's declared permissions (from which the CDK app makes its runner and member roles)
cover the undo of every step it may run: `parry undo` is carried out by the runner's role."""

from __future__ import annotations

from pathlib import Path

import pytest

from parry.actions import registry
from parry.playbooks.validate import load_file

BOOKS = sorted(Path("playbooks").glob("*.yaml"))


@pytest.mark.parametrize("path", BOOKS, ids=lambda p: p.stem)
def test_runner_may_undo_every_step_it_may_run(path):
    book = load_file(path)
    declared = book.permissions()
    for step in book.steps:
        undo = registry.get(step.action).undo
        if not undo or not step.undo:
            continue  # nothing to undo, or the playbook keeps it on undo (`undo: false`)
        for perm in registry.get(undo).permissions:
            assert perm in declared, (
                f"{path.name}: step {step.id}: undo {undo} needs {perm.actions} on {perm.resources}"
            )


def test_a_runner_may_run_another_version_only_within_what_its_role_allows():
    """parry.engine.versions asks `beyond` whether a redeployed runner may run a case's sealed version."""
    from parry.engine.permissions import beyond
    from tests.support.playbooks import playbook

    deactivate = playbook()
    notify_step = {"id": "tell", "action": "notify.sns", "with": {"subject": "s", "message": "m"}}
    capture_step = {"id": "capture", "action": "evidence.capture_iam_user", "with": {"user_name": "${target.user}"}}
    notify_only = playbook(steps=[notify_step])
    capture_too = playbook(steps=[*deactivate.compiled()["steps"], capture_step])

    assert beyond(deactivate, deactivate) == []
    assert beyond(notify_only, deactivate) == [], "the engine's own sns:Publish on the topic is every runner's"
    assert beyond(deactivate, capture_too) == []
    missing = beyond(capture_too, deactivate)
    assert "iam:GetUserPolicy on arn:{partition}:iam::{account}:user/*" in missing  # the capture's reads
    assert not [m for m in missing if "AccessKey" in m], "what both versions call is allowed"

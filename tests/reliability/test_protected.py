"""No action ever changes a protected resource: for every mutating action in the registry, an
observation of a protected resource is refused by `parry.steps.execute` before `apply` runs."""

from __future__ import annotations

import dataclasses

import pytest

from parry.actions import registry
from parry.actions.base import ActionContext, Observation
from parry.engine.steps import execute
from parry.store.step_result import REFUSED
from tests.support.reliability.dummy_params import dummy_params

MUTATING = [name for name, cls in registry.all_actions().items() if cls.mutating]


def context(protected_arns=()):
    return ActionContext(
        aws=None,
        case_id="case-x",
        step_id="step",
        playbook="p",
        account="123456789012",
        region="us-east-1",
        protected_arns=protected_arns,
    )


PROTECTIONS = {
    "tag": (
        Observation(state={"seen": 1}, arn="arn:aws:iam::123456789012:user/alice", tags={"parry:protected": "true"}),
        (),
    ),
    "tag-any-case": (Observation(state={"seen": 1}, arn=None, tags={"parry:protected": "TRUE"}), ()),
    "configured-arn": (Observation(state={"seen": 1}, arn="arn:aws:s3:::crown-jewels"), ("arn:aws:s3:::crown-*",)),
    "parry-own-role": (Observation(state={"seen": 1}, arn="arn:aws:iam::123456789012:role/parry-runner-x"), ()),
}


@pytest.mark.parametrize("protection", sorted(PROTECTIONS))
@pytest.mark.parametrize("name", MUTATING)
@pytest.mark.parametrize("dry_run", [False, True])
def test_protected_resource_is_refused_before_apply(name, protection, dry_run, monkeypatch):
    cls = registry.get(name)
    seen, patterns = PROTECTIONS[protection]
    applied = []
    action = cls()
    monkeypatch.setattr(action, "observe", lambda ctx, params: dataclasses.replace(seen))
    monkeypatch.setattr(action, "apply", lambda *a, **kw: applied.append(a) or {})
    monkeypatch.setattr(action, "calls", lambda *a, **kw: [])

    result = execute(action, context(patterns), dummy_params(cls), dry_run=dry_run)

    assert applied == []
    assert result.status == REFUSED, (name, result.status, result.error)
    assert result.after is None and result.undo is None


def test_every_mutating_action_is_covered():
    print(
        f"RELIABILITY protected_checks mutating_actions={len(MUTATING)} protections={len(PROTECTIONS)} "
        f"cases={len(MUTATING) * len(PROTECTIONS) * 2}"
    )
    assert len(MUTATING) >= 10

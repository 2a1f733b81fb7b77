"""Attack: with a runner's (or its member role's) credentials, pass any role of the account to any
service: a role passable "to restore an instance profile" could be handed to Lambda or Glue, which
then run with its powers.

The one action that passes roles (ec2.associate_instance_profile) may pass them to EC2 only, and
only the roles the deployer names in parry:instanceRoles; a permission that passes roles without
saying to which service fails the synth.

Attack: with one runner's credentials, plant another playbook's claim or inflate its rate counter. A
runner writes only its own playbook's CLAIM# and RATE# items (dynamodb:LeadingKeys).
"""

from __future__ import annotations

from fnmatch import fnmatchcase

import pytest

from parry.actions.base import Permission
from parry.engine.permissions import ENGINE_PERMISSIONS
from parry.playbooks.validate import load_file
from parry.store import model as cs
from stacks.policies import TemplateError, statements
from tests.support.paths import ROOT

VALUES = {"partition": "aws", "region": "eu-west-1", "account": "222222222222", "instance_roles": "instances/*"}


def _pass_role(perms) -> list[dict]:
    return statements([p for p in perms if "iam:PassRole" in p.actions], VALUES, where="test")


@pytest.mark.parametrize("holder", ["runner", "member role"])
def test_roles_are_passed_to_ec2_only_and_only_the_configured_ones(holder: str):
    book = load_file(ROOT / "playbooks" / "ec2-compromise.yaml")
    perms = book.permissions() if holder == "runner" else [p for p in book.permissions() if p.member]
    (granted,) = _pass_role(perms)
    assert granted["Action"] == ["iam:PassRole"]
    assert granted["Resource"] == ["arn:aws:iam::222222222222:role/instances/*"]
    assert granted["Condition"] == {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}


def test_a_permission_passing_roles_to_any_service_is_refused():
    wide = Permission(("iam:PassRole",), ("arn:{partition}:iam::{account}:role/*",))
    with pytest.raises(TemplateError, match="iam:PassedToService"):
        statements([wide], VALUES, where="an action")


def _written_keys(ddb) -> list[str]:
    """Every partition key the client writes (PutItem, UpdateItem, each item of a transaction)."""
    keys: list[str] = []

    def record(params, **_):
        items = [t.get("Put") or t.get("Update") for t in params.get("TransactItems", [])] or [params]
        keys.extend((i.get("Item") or i.get("Key"))["pk"]["S"] for i in items if i)

    for op in ("PutItem", "UpdateItem", "TransactWriteItems"):
        ddb.meta.events.register(f"provide-client-params.dynamodb.{op}", record)
    return keys


def test_a_runner_writes_only_keys_its_leading_keys_condition_allows(engine, compromised_user):
    """What IAM enforces (moto does not): a case run end to end writes nothing the runner's
    dynamodb:LeadingKeys patterns refuse, and those patterns refuse another playbook's claims."""
    book = load_file(ROOT / "playbooks" / "iam-credential-compromise.yaml")
    (writes,) = [p for p in ENGINE_PERMISSIONS if "dynamodb:PutItem" in p.actions]
    ((operator, key, templates),) = writes.conditions
    allowed = [t.format(playbook=book.name) for t in templates]
    assert (operator, key) == ("ForAllValues:StringLike", "dynamodb:LeadingKeys")
    keys = _written_keys(engine.store.ddb)

    case = engine.run(book, compromised_user["event"])

    assert case.status == cs.SUCCEEDED and any(k.startswith(f"CLAIM#{book.name}#") for k in keys)
    assert [k for k in keys if not any(fnmatchcase(k, p) for p in allowed)] == []
    assert not any(fnmatchcase(f"CLAIM#other-book#{'0' * 64}", p) for p in allowed)
    assert not any(fnmatchcase("RATE#other-book#2026-12-01T12", p) for p in allowed)

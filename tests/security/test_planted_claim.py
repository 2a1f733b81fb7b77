"""Attack: with write access to the case table only, plant the claim a real finding's case will need,
pointing at another playbook's case (or at none), so the real finding is taken for a duplicate and
its key stays Active.

A claim names its playbook and must lead to that playbook's case of the same event: a planted one is
logged as a security event and replaced, and the real finding opens its case and is contained.
"""

from __future__ import annotations

import hashlib
import logging

import pytest

from parry.engine import intake
from parry.playbooks.validate import load_file
from parry.store import model as cs
from parry.store.schema import PARTITION_KEY, SORT_KEY
from tests.support.attacker import security_events
from tests.support.playbooks import playbook


def key_status(aws, user: str, key: str) -> str:
    keys = aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return next(k["Status"] for k in keys if k["AccessKeyId"] == key)


def plant(aws, table: str, book, event: dict, *, case_id: str, named: str | None) -> None:
    _, dedup = intake.resolve(book, event)
    item = {
        PARTITION_KEY: {"S": f"CLAIM#{book.name}#{hashlib.sha256(dedup.encode()).hexdigest()}"},
        SORT_KEY: {"S": "CLAIM"},
        "case_id": {"S": case_id},
        "opened_at": {"S": "2024-01-01T00:00:00.000+00:00"},
    }
    if named:
        item["playbook"] = {"S": named}
    aws.client("dynamodb").put_item(TableName=table, Item=item)


@pytest.mark.parametrize("named", [None, "test-book"], ids=["old-format", "naming-this-playbook"])
def test_a_claim_pointing_at_another_playbooks_case_does_not_make_a_duplicate(
    engine, aws, parry_env, compromised_user, caplog, named
):
    book = load_file("playbooks/iam-credential-compromise.yaml")
    decoy = engine.run(playbook(name="test-book", steps=[_notify_step()]), compromised_user["event"])
    plant(aws, parry_env["PARRY_CASES_TABLE"], book, compromised_user["event"], case_id=decoy.case_id, named=named)
    caplog.set_level(logging.WARNING)

    case = engine.run(book, compromised_user["event"])

    assert not case.duplicate and case.case_id != decoy.case_id and case.status == cs.SUCCEEDED
    assert key_status(aws, "ci-deployer", compromised_user["key"]) == "Inactive"
    assert engine.store.claimed_case(book.name, case.dedup).case_id == case.case_id
    (event,) = security_events(caplog.records)
    assert "planted claim" in event.reason and event.planted_case_id == decoy.case_id


def test_a_claim_pointing_at_no_case_does_not_make_a_duplicate(engine, aws, parry_env, compromised_user, caplog):
    book = load_file("playbooks/iam-credential-compromise.yaml")
    plant(aws, parry_env["PARRY_CASES_TABLE"], book, compromised_user["event"], case_id="case-nothing", named=book.name)
    caplog.set_level(logging.WARNING)

    case = engine.run(book, compromised_user["event"])

    assert not case.duplicate and key_status(aws, "ci-deployer", compromised_user["key"]) == "Inactive"
    assert security_events(caplog.records)


def test_a_genuine_claim_still_makes_a_redelivery_a_duplicate(engine, aws, compromised_user, caplog):
    book = load_file("playbooks/iam-credential-compromise.yaml")
    first = engine.run(book, compromised_user["event"])
    caplog.set_level(logging.WARNING)

    again = engine.run(book, compromised_user["event"])

    assert again.duplicate and again.case_id == first.case_id
    assert not security_events(caplog.records)


def _notify_step() -> dict:
    return {"id": "capture", "action": "evidence.capture_iam_user", "with": {"user_name": "${target.user}"}}

"""Reading back what a case sealed: the engine's checks of the case table rest on it."""

from __future__ import annotations

import pytest

from tests.support.evidence import ACCOUNT, BUCKET, OPENED


@pytest.fixture
def case(env):
    return env.store.case(case_id="case-0001", account=ACCOUNT, opened_at=OPENED)


def test_a_sealed_object_and_an_audit_record_read_back_as_json(case):
    case.put("event.json", {"id": "e-1", "detail": {"n": [1, 2]}})
    case.audit("case_opened", {"case_id": "case-0001"})

    assert case.sealed_json("event.json") == {"id": "e-1", "detail": {"n": [1, 2]}}
    assert case.sealed_json("audit/0001.json")["kind"] == "case_opened"


def test_an_object_never_written_is_none(case):
    assert case.sealed_json("playbook.json") is None
    assert case.sealed_json("audit/0001.json") is None


def test_an_object_deleted_since_is_none(env, case):
    case.put("event.json", {"id": "e-1"})
    env.s3.delete_object(Bucket=BUCKET, Key=case.prefix + "event.json")  # a delete marker, as an attacker leaves

    assert case.sealed_json("event.json") is None


def test_a_present_object_that_is_not_json_is_an_error_not_none(case):
    case.put("playbook.json", b"not json", "text/plain")

    with pytest.raises(ValueError):
        case.sealed_json("playbook.json")

"""A new case's opening held while its first change is made: nothing written until it is sent, then all of
it, the audit chain intact; a record someone else wrote meanwhile is a failure, never a silent gap."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import pytest

from parry.errors import EvidenceError
from parry.evidence.problems import UNPINNED
from parry.evidence.sources import S3Source
from parry.evidence.verify import verify_case
from tests.support.evidence import BUCKET

OPENED = datetime(2026, 1, 2)


def _keys(env, prefix: str) -> list[str]:
    listed = env.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return sorted(o["Key"][len(prefix) :] for o in listed)


def _opening(case) -> None:
    case.new_chain()
    case.hold()
    case.put("event.json", {"id": "evt"})
    case.put("playbook.json", {"sha256": "ab" * 32})
    case.audit("case_opened", {"case_id": "c-held"})
    case.audit("step_started", {"step": "deactivate-key"})


def test_held_writes_go_out_only_when_sent_and_keep_the_chain(env):
    case = env.store.case(case_id="c-held", account="111122223333", opened_at=OPENED)
    _opening(case)
    assert _keys(env, case.prefix) == []  # nothing before the change

    case.send()
    case.settle()
    case.audit("step_finished", {"step": "deactivate-key"})  # written directly again

    assert _keys(env, case.prefix) == [
        "audit/0001.json",
        "audit/0002.json",
        "audit/0003.json",
        "event.json",
        "playbook.json",
    ]
    body = env.s3.get_object(Bucket=BUCKET, Key=case.prefix + "audit/0002.json")["Body"].read()
    finished = json.loads(env.s3.get_object(Bucket=BUCKET, Key=case.prefix + "audit/0003.json")["Body"].read())
    assert finished["prev_sha256"] == hashlib.sha256(body).hexdigest()
    case.seal(env.kms, env.key_id)
    result = verify_case(S3Source(env.s3, BUCKET, case.prefix))
    assert [p.kind for p in result.problems] == [UNPINNED]  # intact: only no key pinned in this test


def test_a_record_written_by_someone_else_while_held_fails_the_settle(env):
    case = env.store.case(case_id="c-held", account="111122223333", opened_at=OPENED)
    _opening(case)
    other = env.store.case(case_id="c-held", account="111122223333", opened_at=OPENED)
    other.audit("case_opened", {"by": "someone else"})

    with pytest.raises(EvidenceError, match="written by someone else"):
        case.settle()
    assert "audit/0002.json" not in _keys(env, case.prefix)  # the record after it was never sent

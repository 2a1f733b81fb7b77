"""Attack: with write access to the case table only, approve a paused case by writing the decision
(or just a RUNNING status) into its item, then ask for a continue.

The runner checks the table against the sealed audit log before anything runs: the approval is not
in the log, or the log still has the case waiting, so nothing runs (EvidenceMismatch) and the key
stays Active.
"""

from __future__ import annotations

import json

import pytest

from parry.errors import EvidenceMismatch
from parry.store import model as cs
from tests.support.attacker import audit_kinds, overwrite_case
from tests.support.findings import registered
from tests.support.playbooks import approval_book, playbook

CISO = "arn:aws:iam::123456789012:role/CISO"


def key_status(aws, user: str, key: str) -> str:
    keys = aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return next(k["Status"] for k in keys if k["AccessKeyId"] == key)


def test_an_approval_written_into_the_table_runs_nothing(engine, aws, parry_env, compromised_user):
    book = approval_book()
    paused = engine.run(book, compromised_user["event"])
    assert paused.status == cs.AWAITING_APPROVAL
    forged = {"kind": "approved", "gate": "step:deactivate", "step": "deactivate", "by": CISO, "nonce": "n1"}
    overwrite_case(aws, parry_env["PARRY_CASES_TABLE"], paused.case_id, status=cs.RUNNING, history=[forged])

    with pytest.raises(EvidenceMismatch, match="does not hold"):
        engine.resume(paused.case_id, book)

    assert key_status(aws, "ci-deployer", compromised_user["key"]) == "Active"
    assert "approved" not in audit_kinds(aws, parry_env["PARRY_EVIDENCE_BUCKET"], paused.evidence_prefix)
    assert engine.store.get(paused.case_id).steps == []


def test_a_running_status_written_over_a_rate_limited_case_runs_nothing(engine, aws, parry_env, compromised_user):
    book = playbook(guardrails={"max_cases_per_hour": 1})
    engine.run(book, compromised_user["event"])
    second_key = aws.client("iam").create_access_key(UserName="ci-deployer")["AccessKey"]["AccessKeyId"]
    event = json.loads(json.dumps(compromised_user["event"]))
    event["detail"]["id"] = "second"
    event["detail"]["resource"]["accessKeyDetails"]["accessKeyId"] = second_key
    held = engine.run(book, registered(aws, event))
    assert held.awaiting and held.awaiting["gate"] == "rate-limit"
    overwrite_case(aws, parry_env["PARRY_CASES_TABLE"], held.case_id, status=cs.RUNNING, awaiting=None)

    with pytest.raises(EvidenceMismatch, match="waits at gate 'rate-limit'"):
        engine.resume(held.case_id, book)

    assert key_status(aws, "ci-deployer", second_key) == "Active"

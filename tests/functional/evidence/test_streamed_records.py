"""Audit records sent as they are made: a case's chain intact once settled, a step state under a new
name when a crashed run left a different one, and the seal of a case this invocation opened lists only
what it wrote there (an object someone else put in the folder stays unsealed, and the verifier says so)."""

from __future__ import annotations

import json
from datetime import datetime

from parry.evidence.problems import UNEXPECTED, UNPINNED
from parry.evidence.sources import S3Source
from parry.evidence.verify import verify_case
from tests.support.evidence import BUCKET

OPENED = datetime(2026, 1, 2)


def _keys(env, prefix: str) -> list[str]:
    listed = env.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return sorted(o["Key"][len(prefix) :] for o in listed)


def test_streamed_records_land_in_order_and_the_case_verifies(env):
    case = env.store.case(case_id="c-stream", account="111122223333", opened_at=OPENED)
    case.new_chain()
    case.put("event.json", {"id": "evt"})
    case.stream()
    for n in range(6):
        case.audit("step_started", {"step": f"s{n}"})
        case.state(f"s{n}", {"before": {"n": n}, "after": None, "status": "succeeded"})
        case.audit("step_finished", {"step": f"s{n}"})
    case.settle()

    seqs = [json.loads(env.store.get(case.prefix + f"audit/{i:04d}.json"))["seq"] for i in range(1, 13)]
    assert seqs == list(range(1, 13))
    assert len([k for k in _keys(env, case.prefix) if k.endswith("state.json")]) == 6
    case.seal(env.kms, env.key_id)
    assert [p.kind for p in verify_case(S3Source(env.s3, BUCKET, case.prefix)).problems] == [UNPINNED]


def test_a_state_left_by_a_crashed_run_is_kept_and_the_new_one_named_anew(env):
    case = env.store.case(case_id="c-state", account="111122223333", opened_at=OPENED)
    case.artifact("s1", "state.json", {"before": {"from": "the crashed run"}})
    case.stream()
    case.state("s1", {"before": {"from": "this run"}})
    case.settle()

    names = [k for k in _keys(env, case.prefix) if k.startswith("artifacts/s1/")]
    assert len(names) == 2 and "artifacts/s1/state.json" in names
    retry = next(k for k in names if k != "artifacts/s1/state.json")
    assert json.loads(env.store.get(case.prefix + retry)) == {"before": {"from": "this run"}}


def test_the_seal_of_a_case_this_run_opened_leaves_out_what_someone_else_put_there(env):
    case = env.store.case(case_id="c-planted", account="111122223333", opened_at=OPENED)
    case.new_chain()
    case.put("event.json", {"id": "evt"})
    case.audit("case_opened", {"case_id": "c-planted"})
    env.s3.put_object(Bucket=BUCKET, Key=case.prefix + "artifacts/s1/planted.json", Body=b"{}")

    stored = case.seal(env.kms, env.key_id)

    sealed = {o["key"][len(case.prefix) :] for o in json.loads(env.store.get(stored.key))["objects"]}
    assert sealed == {"event.json", "audit/0001.json"}
    problems = verify_case(S3Source(env.s3, BUCKET, case.prefix)).problems
    assert [(p.kind, p.path) for p in problems if p.kind != UNPINNED] == [(UNEXPECTED, "artifacts/s1/planted.json")]

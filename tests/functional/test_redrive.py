"""A case nothing is working on goes on: a continue after an approval that fails part-way leaves the case
RUNNING, its lease free and the approval kept, and says how it goes on (`parry cases resume`); and the
maintenance sweep (`parry cases expire` here) continues a RUNNING case whose run died holding its lease."""

from __future__ import annotations

import time

import pytest

from parry.config import Settings
from parry.engine.run import Engine
from parry.runtime.in_process import compile_to
from parry.store import model as cs
from parry.store.store import CaseStore
from tests.support.cli import parry
from tests.support.control import APPROVER, Context, fresh_runner, sealed
from tests.support.playbooks import approval_book, playbook


def _key_status(aws, compromised_user) -> str:
    keys = aws.client("iam").list_access_keys(UserName=compromised_user["user"])["AccessKeyMetadata"]
    return next(k["Status"] for k in keys if k["AccessKeyId"] == compromised_user["key"])


def _item(aws, parry_env, case_id) -> dict:
    key = {"pk": {"S": f"CASE#{case_id}"}, "sk": {"S": "CASE"}}
    return aws.client("dynamodb").get_item(TableName=parry_env["PARRY_CASES_TABLE"], Key=key)["Item"]


def _evidence_unreachable_once(monkeypatch) -> None:
    """The step's after-state cannot be stored once (after its change is made): an exception in the runner."""
    calls = []

    def store_state(evidence, step_id, result):
        calls.append(step_id)
        if len(calls) == 1:
            raise RuntimeError("the evidence bucket did not answer")

    monkeypatch.setattr(Engine, "_store_state", staticmethod(store_state))


def test_a_continue_that_fails_after_an_approval_leaves_the_case_re_drivable(
    monkeypatch, tmp_path, engine, aws, parry_env, compromised_user
):
    book = approval_book()
    runner = fresh_runner(monkeypatch, tmp_path, "iam-credential-compromise")
    compile_to(book, tmp_path)
    paused = engine.run(book, compromised_user["event"])
    _evidence_unreachable_once(monkeypatch)

    approve = sealed(
        parry_env,
        aws,
        "approve",
        book.name,
        requested_by=APPROVER,
        case_id=paused.case_id,
        gate="step:deactivate",
        playbook_sha256=paused.playbook_sha256,
    )
    answer = runner.run(approve, Context(), playbook_name=book.name, engine=engine)

    assert answer["status"] == "ERROR", answer
    assert "evidence bucket did not answer" in answer["error"]
    assert f"parry cases resume {paused.case_id}" in answer["error"]
    case = engine.store.get(paused.case_id)
    assert case.status == cs.RUNNING and [h["kind"] for h in case.history] == ["approved"]
    assert "lease_owner" not in _item(aws, parry_env, paused.case_id), "nothing holds it: it can be re-driven"

    resume = sealed(parry_env, aws, "resume", book.name, case_id=paused.case_id, playbook_sha256=paused.playbook_sha256)
    done = runner.run(resume, Context(), playbook_name=book.name, engine=engine)

    assert done["status"] == "SUCCEEDED" and [s["status"] for s in done["steps"]] == ["succeeded"]
    assert done["steps"][0]["undo"], "the change made before the failure stays this case's, and undoable"
    assert _key_status(aws, compromised_user) == "Inactive"


@pytest.fixture
def died_holding_its_lease(monkeypatch, aws, parry_env, compromised_user):
    """A case whose run died an hour ago after changing the key, without releasing its lease (a Lambda
    timeout): RUNNING, its lease long expired."""

    an_hour_ago = time.time() - 3600
    with monkeypatch.context() as crash:
        _evidence_unreachable_once(crash)
        crash.setattr(CaseStore, "release_lease", lambda self, case_id, *, owner: None)
        with pytest.raises(RuntimeError):
            Engine(aws, Settings.from_env(), clock=lambda: an_hour_ago).run(playbook(), compromised_user["event"])
    (case,) = Engine(aws, Settings.from_env()).store.list(status=cs.RUNNING)
    assert float(_item(aws, parry_env, case.case_id)["lease_until"]["N"]) < time.time()
    return case


def test_maintenance_re_drives_a_running_case_whose_lease_expired(
    capsys, aws, parry_env, compromised_user, died_holding_its_lease
):
    code, out, err = parry(capsys, "cases", "expire")

    assert code == 0, err
    assert f"{died_holding_its_lease.case_id}  continued" in out.splitlines()
    case = Engine(aws, Settings.from_env()).store.get(died_holding_its_lease.case_id)
    assert case.status == cs.SUCCEEDED and [s.status for s in case.steps] == ["succeeded"]
    assert _key_status(aws, compromised_user) == "Inactive"
    assert "lease_owner" not in _item(aws, parry_env, case.case_id)


def test_maintenance_leaves_a_case_a_run_still_holds(capsys, aws, parry_env, engine, compromised_user, monkeypatch):
    from parry.engine.run import STEP_BUDGET_SECONDS

    an_hour_ago = time.time() - 3600
    stopped = Engine(aws, engine.settings, clock=lambda: an_hour_ago).run(
        playbook(), compromised_user["event"], remaining_seconds=lambda: STEP_BUDGET_SECONDS - 1
    )
    assert stopped.status == cs.RUNNING and stopped.continue_later
    assert engine.store.acquire_lease(stopped.case_id, owner="a-live-run", seconds=600)

    code, out, err = parry(capsys, "cases", "expire")

    assert code == 0 and out == ""
    assert f"{stopped.case_id}  left RUNNING: a run holds its lease" in err
    assert engine.store.get(stopped.case_id).steps == [] and _key_status(aws, compromised_user) == "Active"

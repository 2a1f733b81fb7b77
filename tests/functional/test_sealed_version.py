"""A redeployed runner whose role allows less than the version sealed in a case: an approval sent to it
is not taken, the case says why, and the runner that allows it takes the next approval."""

from __future__ import annotations

from parry.runtime.in_process import compile_to
from parry.runtime.runner import Runner
from parry.store import model as cs
from tests.support.control import APPROVER, Context, fresh_runner, sealed
from tests.support.playbooks import approval_book, playbook


def test_an_approval_to_a_runner_that_may_not_run_the_sealed_version_is_not_taken(
    monkeypatch, tmp_path, engine, aws, parry_env, compromised_user
):
    book = approval_book()
    paused = engine.run(book, compromised_user["event"])
    runner = fresh_runner(monkeypatch, tmp_path, "iam-credential-compromise")
    capture_only = playbook(
        steps=[{"id": "capture", "action": "evidence.capture_iam_user", "with": {"user_name": "${target.user}"}}]
    )
    compile_to(capture_only, tmp_path)  # the test-book runner, redeployed with less

    def approve(runner: Runner) -> dict:
        request = sealed(
            parry_env,
            aws,
            "approve",
            book.name,
            requested_by=APPROVER,
            case_id=paused.case_id,
            gate="step:deactivate",
            playbook_sha256=paused.playbook_sha256,
        )
        return runner.run(request, Context(), playbook_name=book.name, engine=engine)

    answer = approve(runner)

    assert answer["status"] == "ERROR" and "iam:UpdateAccessKey" in answer["error"]
    case = engine.store.get(paused.case_id)
    assert case.status == cs.AWAITING_APPROVAL and [h["kind"] for h in case.history] == ["blocked"]
    assert "iam:UpdateAccessKey" in case.history[0]["reason"]

    compile_to(book, tmp_path)  # redeployed again, with the case's version: a new container
    done = approve(Runner())

    assert done["status"] == "SUCCEEDED" and [h["kind"] for h in done["history"]] == ["blocked", "approved"]

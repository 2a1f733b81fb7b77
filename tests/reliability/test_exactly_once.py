"""Exactly-once effects under at-least-once delivery: redeliveries, concurrent deliveries, the time budget."""

from __future__ import annotations

import json

import pytest

from tests.support.reliability.exactly_once import concurrent_deliveries, redeliveries, time_budget
from tests.support.reliability.faults import Boundaries, InjectedCrash, boundaries
from tests.support.reliability.figures import report
from tests.support.reliability.fixtures import PLAYBOOKS_DIR, fresh_runner, load_playbook
from tests.support.reliability.seeds import SEEDS

PRIMARY = PLAYBOOKS_DIR / "iam-credential-compromise.yaml"


@pytest.fixture
def book():
    return load_playbook(PRIMARY)


# bench/reliability.py redelivers 1,000 times (the figure in docs/benchmarks.md); the suite, 300
REDELIVERIES = 300


def test_redeliveries_repeat_no_mutation(world, book):
    figures = redeliveries(world, book, n=REDELIVERIES)
    report(**figures)
    assert figures["first_status"] == "SUCCEEDED" and figures["contained_after_first"]
    assert figures["first_run_mutations"] >= 1
    # the key was re-activated behind Parry's back: the redeliveries must still not act again
    assert figures["repeated_mutations"] == 0 and figures["repeated_notifications"] == 0
    assert figures["duplicates_answered"] == figures["duplicates_recorded"] == REDELIVERIES
    assert figures["cases"] == 1


def test_8_concurrent_deliveries_open_one_case_and_mutate_once(world, book):
    figures = concurrent_deliveries(world, book, n=8)
    report(**figures)
    assert figures["errors"] == []
    assert figures["cases"] == 1 and figures["case_ids"] == 1
    assert figures["ran"] == 1
    assert figures["duplicates"] + figures["busy_then_retried"] == 7
    assert figures["retries_answered_duplicate"] == figures["busy_then_retried"]
    assert figures["repeated_mutations"] == 0 and figures["final_status"] == "SUCCEEDED" and figures["contained"]


def test_time_budget_stops_checkpointed_and_resume_finishes(world, book):
    figures = time_budget(world, book)
    report(**figures)
    assert figures["stopped_status"] == figures["stored_status"] == "RUNNING"
    assert 0 < figures["checkpoint_next_step"] < figures["steps_total"]
    assert figures["lease_released"]
    assert figures["final_status"] == "SUCCEEDED" and figures["contained"]
    assert figures["repeated_mutations"] == 0


class FakeContext:
    """A Lambda context whose remaining time shrinks by `per_call` ms each time it is read."""

    def __init__(self, start_ms: int, per_call_ms: int):
        self.left, self.per_call = start_ms, per_call_ms
        self.invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:parry-runner-test"
        self.function_name = "parry-runner-test"
        self.memory_limit_in_mb = 256
        self.aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        value = self.left
        self.left -= self.per_call
        return value


def test_handler_near_its_deadline_asks_lambda_to_continue_and_the_continuation_finishes(
    world, book, tmp_path, monkeypatch
):
    from parry.engine.run import STEP_BUDGET_SECONDS
    from parry.runtime.in_process import compile_to

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    runner = fresh_runner()
    compile_to(book, tmp_path)
    invoked: list[dict] = []

    seeded = SEEDS[book.name](world.admin, world.next())
    probe = world.probe()
    engine = world.engine(probe=probe)
    # the handler's continuation invoke only (Lambda would deliver it to the same function)
    monkeypatch.setattr(
        engine.aws.client("lambda"), "invoke", lambda **kwargs: invoked.append(kwargs) or {"StatusCode": 202}
    )
    start = int((STEP_BUDGET_SECONDS + 25) * 1000)
    first = runner.run(
        seeded.event, FakeContext(start, 10_000), playbook_name=book.name, playbooks_dir=str(tmp_path), engine=engine
    )

    assert first["status"] == "RUNNING"
    assert len(invoked) == 1
    request = invoked[0]
    assert request["InvocationType"] == "Event" and request["FunctionName"].endswith("function:parry-runner-test")
    payload = json.loads(request["Payload"])
    sealed = payload["parry_control"]
    assert sealed["key"] == "continuation" and sealed["request"]["kind"] == "continue"
    assert sealed["request"]["case_id"] == first["case_id"] and sealed["request"]["playbook"] == book.name

    # Lambda delivers the continuation request to the same function, with a fresh time budget
    rounds = 1
    case = first
    while case["status"] == "RUNNING" and rounds < 10:
        invoked.clear()
        case = runner.run(
            payload, FakeContext(start, 10_000), playbook_name=book.name, playbooks_dir=str(tmp_path), engine=engine
        )
        rounds += 1
        if case["status"] == "RUNNING":
            assert len(invoked) == 1
    counts = probe.mutation_counts()
    report(
        scenario="handler-continuation",
        invocations=rounds,
        final_status=case["status"],
        mutations=sum(counts.values()),
        repeated_mutations=sum(v - 1 for v in counts.values() if v > 1),
    )
    assert case["status"] == "SUCCEEDED" and seeded.contained()
    assert invoked == []  # a finished case asks for nothing more
    assert all(v == 1 for v in counts.values())


def test_a_duplicate_or_busy_delivery_never_asks_lambda_to_continue(world, book, tmp_path, monkeypatch):
    """A run that found the case held by another invocation must not re-invoke itself (a hot loop
    of invocations until the lease expires); it fails with CaseBusy, so Lambda retries it later."""
    from parry.errors import CaseBusy
    from parry.runtime.in_process import compile_to

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    runner = fresh_runner()
    compile_to(book, tmp_path)
    invoked = []
    monkeypatch.setattr(runner, "_continue_later", lambda *a: invoked.append(a))
    seeded = SEEDS[book.name](world.admin, world.next())
    engine = world.engine()
    # another invocation claimed the case and holds its lease (it is still running, or died)
    holder = world.engine(clock=engine.clock)
    b = Boundaries(crash_on="after dynamodb.TransactWriteItems")  # right after its claim: the lease is held
    with pytest.raises(InjectedCrash), boundaries(b, kill=True):
        holder.run(book, seeded.event)

    with pytest.raises(CaseBusy):
        runner.run(
            seeded.event, FakeContext(900_000, 1), playbook_name=book.name, playbooks_dir=str(tmp_path), engine=engine
        )
    assert invoked == []
    report(scenario="busy-delivery", raised="CaseBusy", continuation_requests=len(invoked))

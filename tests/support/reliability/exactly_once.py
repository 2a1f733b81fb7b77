"""Exactly-once effects under at-least-once delivery: redeliveries, concurrent deliveries, the time budget.

EventBridge and Lambda deliver at least once, concurrently, and invocations run out of time; these
scenarios count what reaches the account in each case, so "no mutation twice, one case per event"
is a measured figure.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from unittest import mock

from tests.support.reliability.figures import Figures
from tests.support.reliability.seeds import SEEDS
from tests.support.reliability.world import World


def redeliveries(world: World, book: Any, n: int = 1000) -> Figures:
    """One run, the resource restored behind Parry's back, then `n` deliveries of the same event."""
    seeded = SEEDS[book.name](world.admin, world.next())
    probe = world.probe()
    engine = world.engine(probe=probe)
    first = engine.run(book, seeded.event)
    contained_first = seeded.contained()
    first_mutations = len(probe.mutations)
    if seeded.restore:
        seeded.restore()
    probe.reset()
    started = time.perf_counter()
    duplicates = 0
    for _ in range(n):
        again = engine.run(book, seeded.event)
        duplicates += bool(again.duplicate and again.case_id == first.case_id)
    seconds = time.perf_counter() - started
    stored = engine.store.get(first.case_id)
    return {
        "playbook": book.name,
        "redeliveries": n,
        "repeated_mutations": len(probe.mutations),
        "repeated_notifications": len(probe.notifications),
        "first_run_mutations": first_mutations,
        "first_status": first.status,
        "contained_after_first": contained_first,
        "duplicates_answered": duplicates,
        "duplicates_recorded": stored.duplicates,
        "cases": len(world.cases_for(book.name, first.dedup)),
        "ms_per_redelivery": round(1000 * seconds / max(n, 1), 1),
    }


def concurrent_deliveries(world: World, book: Any, *, n: int = 8) -> Figures:
    """`n` threads deliver the same event at once, each as its own invocation (own clients)."""
    seeded = SEEDS[book.name](world.admin, world.next())
    probe = world.probe()
    clock = world.hour_clock()  # one clock: leases are compared across the invocations
    engines = [world.engine(probe=probe, clock=clock) for _ in range(n)]
    for engine in engines:  # make the clients before the race, as warm Lambdas would have them
        for service in ("dynamodb", "s3", "iam", "ssm", "sns", "sts"):
            engine.aws.client(service)
    barrier = threading.Barrier(n)
    serial = dynamodb_requests_atomic()
    results: list[Any] = [None] * n

    def deliver(i: int) -> None:
        barrier.wait()
        try:
            results[i] = engines[i].run(book, seeded.event)
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(n)]
    with serial:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    from parry.errors import CaseBusy

    busy = [i for i, r in enumerate(results) if isinstance(r, CaseBusy)]
    errors = [
        f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException) and not isinstance(r, CaseBusy)
    ]
    cases = [r for r in results if not isinstance(r, BaseException)]
    # a delivery that found the case held by another run failed with CaseBusy: Lambda retries it
    retried = [engines[i].run(book, seeded.event) for i in busy]
    final = world.engine(probe=probe).store.get(cases[0].case_id) if cases else None
    counts = probe.mutation_counts()
    return {
        "playbook": book.name,
        "deliveries": n,
        "cases": len(world.cases_for(book.name, cases[0].dedup if cases else None)),
        "case_ids": len({c.case_id for c in cases + retried}),
        "ran": sum(1 for c in cases if not c.duplicate),
        "duplicates": sum(1 for c in cases if c.duplicate),
        "busy_then_retried": len(busy),
        "retries_answered_duplicate": sum(1 for c in retried if c.duplicate),
        "mutations": sum(counts.values()),
        "repeated_mutations": sum(v - 1 for v in counts.values() if v > 1),
        "final_status": final.status if final else None,
        "contained": seeded.contained(),
        "errors": errors,
    }


def dynamodb_requests_atomic() -> Any:
    """DynamoDB applies each request atomically; in-process moto does not under threads (its
    transact_write_items deep-copies tables another thread is writing). Serialize moto's DynamoDB
    requests, as the service would, so a race tests Parry and not the emulator."""
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    real = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with lock:
            return real(self)

    return mock.patch.object(DynamoHandler, "call_action", call_action)


class ShrinkingBudget:
    """remaining_seconds() for an invocation that loses `per_call` seconds each time it is asked."""

    def __init__(self, start: float, per_call: float):
        self.left, self.per_call = start, per_call

    def __call__(self) -> float:
        value = self.left
        self.left -= self.per_call
        return value


def time_budget(world: World, book: Any) -> Figures:
    """A run whose deadline approaches stops between steps, checkpointed; resume finishes it."""
    from parry.engine.run import STEP_BUDGET_SECONDS

    seeded = SEEDS[book.name](world.admin, world.next())
    probe = world.probe()
    engine = world.engine(probe=probe)
    # lease once, then one check per step: allow the first step only
    budget = ShrinkingBudget(STEP_BUDGET_SECONDS + 20.0, 10.0)
    stopped = engine.run(book, seeded.event, remaining_seconds=budget)
    stored = engine.store.get(stopped.case_id)
    item = world.admin.client("dynamodb").get_item(
        TableName=world.env["PARRY_CASES_TABLE"],
        Key={"pk": {"S": f"CASE#{stopped.case_id}"}, "sk": {"S": "CASE"}},
        ConsistentRead=True,
    )["Item"]
    stopped_figures = {
        "stopped_status": stopped.status,
        "stored_status": stored.status,
        "checkpoint_next_step": stored.next_step,
        "steps_total": len(book.steps),
        "lease_released": "lease_owner" not in item,
        "mutations_before_stop": len(probe.mutations),
    }
    resumes = 0
    case = stored
    while case.status == "RUNNING" and resumes < len(book.steps) + 1:
        resumes += 1
        case = engine.resume(case.case_id, book, remaining_seconds=ShrinkingBudget(STEP_BUDGET_SECONDS + 20.0, 10.0))
    counts = probe.mutation_counts()
    return {
        "playbook": book.name,
        **stopped_figures,
        "resumes": resumes,
        "final_status": case.status,
        "contained": seeded.contained(),
        "mutations": sum(counts.values()),
        "repeated_mutations": sum(v - 1 for v in counts.values() if v > 1),
    }

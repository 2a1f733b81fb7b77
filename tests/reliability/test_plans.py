"""`plan` on every shipped playbook: read-only, and it names every change the run then makes."""

from __future__ import annotations

import re

import pytest

from tests.support.reliability.counting import is_mutating
from tests.support.reliability.figures import report
from tests.support.reliability.fixtures import load_playbook
from tests.support.reliability.seeds import SEEDS, seedable_playbooks

SEEDED, _ = seedable_playbooks()


def operation(call: str) -> tuple[str, str]:
    service, op = re.match(r"^([a-z0-9-]+):([A-Za-z0-9]+)\(", call).groups()
    return service, op


@pytest.mark.parametrize("path", SEEDED, ids=lambda p: p.stem)
def test_plan_makes_no_change_and_lists_every_change_the_run_makes(world, path):
    book = load_playbook(path)
    seeded = SEEDS[book.name](world.admin, world.next())

    contained_before = seeded.contained()
    planning = world.probe()
    plan = world.engine(probe=planning).plan(book, seeded.event)

    writes = [f"{s}:{op}" for s, op in planning.calls if is_mutating(s, op)]
    assert writes == [], f"plan made changing calls: {writes}"
    assert seeded.contained() == contained_before, "planning changed the resource"
    planned = {operation(c) for step in plan.steps for c in step.calls}

    running = world.probe()
    case = world.engine(probe=running).run(book, seeded.event)

    made = {(s, op) for s, op, _ in running.mutations}
    # sns:Publish and the evidence bucket are not account changes; every change to the account was announced
    assert made <= planned, f"{book.name}: the run made {sorted(made - planned)} that the plan did not list"
    assert case.steps, book.name
    report(playbook=book.name, planned_calls=len(planned), changes_made=len(made), plan_writes=len(writes))

"""A playbook's declared permissions (from which the CDK app makes its runner and member roles)
cover the undo of every step it may run: `parry undo` is carried out by the runner's role."""

from __future__ import annotations

from pathlib import Path

import pytest

from parry.actions import registry
from parry.playbooks.validate import load_file

BOOKS = sorted(Path("playbooks").glob("*.yaml"))


@pytest.mark.parametrize("path", BOOKS, ids=lambda p: p.stem)
def test_runner_may_undo_every_step_it_may_run(path):
    book = load_file(path)
    declared = book.permissions()
    for step in book.steps:
        undo = registry.get(step.action).undo
        if not undo or not step.undo:
            continue  # nothing to undo, or the playbook keeps it on undo (`undo: false`)
        for perm in registry.get(undo).permissions:
            assert perm in declared, (
                f"{path.name}: step {step.id}: undo {undo} needs {perm.actions} on {perm.resources}"
            )
